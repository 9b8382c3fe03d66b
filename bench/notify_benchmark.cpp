// The notification dispatcher's throughput [ALM-3] (issue 6: >= 2,000 notifications/s into a
// local sink): the notifier of `joule serve` (src/app/notifier.cpp: one expanding thread, one
// thread per channel) on a SQLite store with full durability, sending SMS and webhooks into the
// Node sinks (tests/notify/sinks.mjs, counting only) on 127.0.0.1.
//
// Setup (not timed): ACCOUNTS accounts with phones, TOP_UPS_EACH counter top-ups each (their
// arrival notices wait in the outbox), and WEBHOOKS webhook recipients hearing of top-ups. Timed:
// from starting the notifier until the sinks have received every message. Bounded by count; it
// stops by itself (at most 10 minutes).
//   joule_notify_benchmark [ACCOUNTS=2000] [TOP_UPS_EACH=5] [WEBHOOKS=2]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include "../tests/notify/node_sinks.hpp"
#include "app/bench_support.hpp"
#include "app/live.hpp"
#include "app/notifier.hpp"
#include "service/billing_service.hpp"
#include "service/notification_service.hpp"
#include "service/site_service.hpp"
#include "storage/sqlite_store.hpp"

namespace {

using namespace joule;  // NOLINT(google-build-using-namespace): a benchmark's main

int64_t SinkCount(const notify::test::Sinks& sinks) {
    notify::HttpClient http;
    auto r = http.Request("GET", sinks.Http("/count"), {}, "");
    if (!r) {
        return -1;
    }
    const auto at = r->body.find(':');
    return at == std::string::npos ? -1 : std::atoll(r->body.c_str() + at + 1);
}

int Fail(const Error& e) {
    std::fprintf(stderr, "notify bench: %s\n", e.ToString().c_str());
    return 1;
}

}  // namespace

int main(int argc, char** argv) {
    const int accounts = argc > 1 ? std::atoi(argv[1]) : 2000;
    const int top_ups_each = argc > 2 ? std::atoi(argv[2]) : 5;
    const int webhooks = argc > 3 ? std::atoi(argv[3]) : 2;
    if (accounts < 1 || accounts > 100'000 || top_ups_each < 1 || top_ups_each > 25 ||
        webhooks < 0 || webhooks > 20) {
        std::fprintf(stderr,
                     "usage: joule_notify_benchmark [ACCOUNTS 1..100000] "
                     "[TOP_UPS_EACH 1..25] [WEBHOOKS 0..20]\n");
        return 2;
    }
    const notify::test::Sinks sinks(/*keep=*/false);
    if (sinks.http_port == 0) {
        std::fprintf(stderr, "notify bench: the Node sinks did not start (is node installed?)\n");
        return 1;
    }
    const std::filesystem::path dir =
        std::filesystem::temp_directory_path() / ("joule-notify-bench-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    auto opened = storage::SqliteStore::Open((dir / "bench.db").string(), {});
    if (!opened) {
        return Fail(opened.error());
    }
    storage::SqliteStore& store = **opened;
    const Actor actor{"bench"};
    const Instant now = app::WallNow();

    SiteSpec site = app::BenchSite("bench", "Bench mall", now - Seconds{86'400});
    for (int i = 0; i < accounts; ++i) {
        SiteSpec::Meter m;
        m.meter.code = app::MeterCode(i);
        m.model_code = site.models.front().code;
        site.meters.push_back(m);
    }
    if (auto created = CreateSite(store, site, actor, now); !created) {
        return Fail(created.error());
    }
    BillingService billing(store);
    std::printf("notify bench: %d accounts, %d top-ups each, %d webhooks; setting up...\n",
                accounts, top_ups_each, webhooks);
    for (int i = 0; i < accounts; ++i) {
        OpenAccountRequest open;
        open.project_code = "bench";
        open.number = "A" + std::to_string(i);
        open.tenant_name = "Tenant " + std::to_string(i);
        open.phone = std::to_string(13'800'000'000LL + i);
        open.tariff_code = "flat";
        open.meters.push_back({app::MeterCode(i), Quantity{0}, std::nullopt});
        open.first_top_up = Money{10'000};
        open.opened_at = now;
        if (auto a = billing.OpenAccount(open, actor, now); !a) {
            return Fail(a.error());
        }
    }
    // The openings' notices are history; the top-ups' are what the bench sends.
    if (auto done = store.RunCommitted([&](Tx& tx) -> Status {
            while (true) {
                auto events = tx.Notifications().PendingEvents(5000);
                if (!events) {
                    return std::unexpected(events.error());
                }
                if (events->empty()) {
                    return {};
                }
                auto marked = tx.Notifications().MarkEventsNotified(*events, now);
                if (!marked) {
                    return marked;
                }
            }
        });
        !done) {
        return Fail(done.error());
    }
    NotificationService recipients(store, {});
    for (int w = 0; w < webhooks; ++w) {
        RecipientRequest r;
        r.project_code = "bench";
        r.name = "hook " + std::to_string(w);
        r.role = "management";
        r.channel = "webhook";
        r.address = sinks.Http("/hook/" + std::to_string(w));
        r.kinds = {"top_up"};
        r.secret = notify::test::kHookSecret;
        if (auto added = recipients.AddRecipient(r, actor, now); !added) {
            return Fail(added.error());
        }
    }
    for (int round = 0; round < top_ups_each; ++round) {
        for (int i = 0; i < accounts; ++i) {
            TopUpRequest t{"bench",
                           "A" + std::to_string(i),
                           Money{100},
                           "cash",
                           "b" + std::to_string(round) + "-" + std::to_string(i),
                           ""};
            if (auto topped = billing.TopUp(t, actor, now); !topped) {
                return Fail(topped.error());
            }
        }
    }
    const int64_t events = static_cast<int64_t>(accounts) * top_ups_each;
    const int64_t expected = events * (1 + webhooks);

    app::ServeOptions options;
    options.sms_endpoint = sinks.Http("/sms");
    options.sms_access_key_id = "LTAI-bench";
    std::filesystem::path secret = dir / "sms.secret";
    std::FILE* f = std::fopen(secret.c_str(), "w");
    std::fputs(notify::test::kSmsSecret, f);
    std::fclose(f);
    options.sms_access_key_secret_file = secret.string();
    options.sms_sign_name = "Bench";
    options.sms_templates = {"top_up=SMS_1"};
    auto notifier = app::Notifier::Make(store, options, app::WallNow);
    if (!notifier) {
        return Fail(notifier.error());
    }
    std::printf("notify bench: %lld events -> %lld messages (SMS and webhooks)\n",
                static_cast<long long>(events), static_cast<long long>(expected));
    const auto start = std::chrono::steady_clock::now();
    (*notifier)->Start();
    int64_t got = 0;
    const auto limit = start + std::chrono::minutes(10);
    while (got < expected && std::chrono::steady_clock::now() < limit) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        got = SinkCount(sinks);
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    (*notifier)->Stop();
    std::printf(
        "notify bench: %lld of %lld messages received in %.2f s: %.0f messages/s "
        "(%.0f events/s)\n",
        static_cast<long long>(got), static_cast<long long>(expected), seconds,
        static_cast<double>(got) / seconds, static_cast<double>(events) / seconds);
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
    return got == expected ? 0 : 1;
}
