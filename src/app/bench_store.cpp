#include "app/bench_store.hpp"

#include <chrono>
#include <cstdio>

#include "app/bench_support.hpp"
#include "service/billing_service.hpp"
#include "service/site_service.hpp"
#include "storage/sqlite_store.hpp"

// Benchmarks measure wall time (bench_support.hpp); only this adapter reads the clock.

namespace joule::app {

Status RunStoreBench(const StoreBenchOptions& o) {
    RemoveDb(o.db_path);
    const Instant start = ParseInstant("2026-10-01T00:00:00Z", "start").value();
    // Setup with NORMAL durability (it is not what is measured), then reopen with FULL.
    {
        JOULE_ASSIGN_OR_RETURN(
            auto store, storage::SqliteStore::Open(o.db_path, {storage::Durability::kNormal}));
        SiteSpec site = BenchSite("bench", "Bench", start - Seconds{86400});
        for (int i = 0; i < o.meters; ++i) {
            SiteSpec::Meter m;
            m.meter.code = MeterCode(i);
            m.model_code = "m";
            site.meters.push_back(m);
        }
        const auto t0 = std::chrono::steady_clock::now();
        JOULE_TRY(CreateSite(*store, site, Actor{}, start));
        BillingService billing(*store);
        for (int i = 0; i < o.meters; ++i) {
            OpenAccountRequest open;
            open.project_code = "bench";
            open.number = "A" + std::to_string(i);
            open.tenant_name = "tenant";
            open.tariff_code = "flat";
            open.meters.push_back({MeterCode(i), Quantity{1'000'000}, std::nullopt});
            open.first_top_up = Money{100'000};
            open.opened_at = start;
            JOULE_TRY(billing.OpenAccount(open, Actor{}, start));
        }
        std::printf("setup: %d meters and accounts in %.1f s\n", o.meters, SecondsSince(t0));
    }

    JOULE_ASSIGN_OR_RETURN(auto store,
                           storage::SqliteStore::Open(o.db_path, {storage::Durability::kFull}));
    BillingService billing(*store);
    std::vector<ReadingItem> batch;
    batch.reserve(static_cast<std::size_t>(o.batch));
    std::size_t billed = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (int round = 1; round <= o.rounds; ++round) {
        const Instant at = start + Seconds{round * 1800};
        for (int i = 0; i < o.meters; ++i) {
            batch.push_back(
                {"bench", MeterCode(i),
                 ReadingInput{at, at, Quantity{1'000'000 + round * 500 + i % 7}, false, {}}});
            if (static_cast<int>(batch.size()) == o.batch || i + 1 == o.meters) {
                JOULE_ASSIGN_OR_RETURN(ApplyReadingsResult r, billing.ApplyReadings(batch, at));
                billed += r.accepted;
                batch.clear();
            }
        }
    }
    const double billed_s = SecondsSince(t0);
    const double billed_rate = static_cast<double>(billed) / billed_s;

    // The ceiling: the same raw rows, same batches and durability, without billing.
    const auto t1 = std::chrono::steady_clock::now();
    std::size_t raw = 0;
    for (int round = 1; round <= o.rounds; ++round) {
        const Instant at = start + Seconds{(o.rounds + round) * 1800};
        for (int first = 0; first < o.meters; first += o.batch) {
            JOULE_ASSIGN_OR_RETURN(auto tx, store->Begin());
            for (int i = first; i < std::min(o.meters, first + o.batch); ++i) {
                StoredReading row;
                row.outcome.meter = MeterId{i + 1};
                row.outcome.input = ReadingInput{at, at, Quantity{2'000'000 + round}, false, {}};
                row.outcome.validated.verdict = Verdict::kAccepted;
                JOULE_ASSIGN_OR_RETURN(bool stored, tx->InsertReading(row));
                raw += stored ? 1 : 0;
            }
            JOULE_TRY(tx->Commit());
        }
    }
    const double raw_s = SecondsSince(t1);
    const double raw_rate = static_cast<double>(raw) / raw_s;

    // Durability of single top-ups: FULL fsyncs the WAL at every commit, NORMAL at checkpoints.
    double top_up_rate[2] = {0, 0};
    for (int mode = 0; mode < 2; ++mode) {
        JOULE_ASSIGN_OR_RETURN(auto s, storage::SqliteStore::Open(
                                           o.db_path, {mode == 0 ? storage::Durability::kFull
                                                                 : storage::Durability::kNormal}));
        BillingService b(*s);
        const auto t2 = std::chrono::steady_clock::now();
        for (int i = 0; i < o.top_ups; ++i) {
            JOULE_TRY(b.TopUp({"bench", "A" + std::to_string(i % o.meters), Money{1000}, "cash",
                               "bench-" + std::to_string(mode) + "-" + std::to_string(i), ""},
                              Actor{}, start + Seconds{86400}));
        }
        top_up_rate[mode] = o.top_ups / SecondsSince(t2);
    }

    std::printf("meters                         %d\n", o.meters);
    std::printf("resident billing state         %zu bytes per meter\n", sizeof(MeterBilling));
    std::printf("billed readings (FULL)         %zu in %.2f s = %.0f readings/s\n", billed,
                billed_s, billed_rate);
    std::printf("raw rows, no billing (FULL)    %zu in %.2f s = %.0f rows/s (ceiling)\n", raw,
                raw_s, raw_rate);
    std::printf("billing / ceiling              %.2f\n", billed_rate / raw_rate);
    std::printf("single top-ups, FULL           %.0f /s\n", top_up_rate[0]);
    std::printf("single top-ups, NORMAL         %.0f /s\n", top_up_rate[1]);
    return {};
}

}  // namespace joule::app
