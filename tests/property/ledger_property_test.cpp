// Seeded property test: >= 100,000 random operations through the real services and the SQLite
// store — readings with glitches, duplicates and reorderings, top-ups with repeated idempotency
// keys, refunds, subsidies with expiry, tariff changes — checked against a small independent
// reference model (TigerBeetle's auditor idea). A failure prints its seed; JOULE_SEED=N replays.
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <optional>
#include <random>

#include "base/checked.hpp"
#include "core/rounding.hpp"
#include "service/billing_service.hpp"
#include "service/site_service.hpp"
#include "storage/sqlite_store.hpp"

namespace joule {
namespace {

constexpr int kMeters = 6;    // meter 5 is a public-area meter
constexpr int kAccounts = 4;  // account 0 owns meters 0 and 1
constexpr int64_t kMaxRatePerHour = 50'000;

// ------------------------------------------------------------------ the reference model
// Written from the product rules, not from the implementation: flat prices, exact charges,
// cumulative half-up rounding per meter, grants drawn first by (priority, expiry, id).
struct ModelGrant {
    int64_t id = 0;  // order of creation
    int32_t priority = 0;
    std::optional<int64_t> expires;  // seconds
    int64_t balance = 0;
};

struct ModelAccount {
    int64_t paid = 0;
    std::vector<ModelGrant> grants;
    int64_t Granted(int64_t at) const {
        int64_t sum = 0;
        for (const ModelGrant& g : grants) {
            if (!g.expires || *g.expires > at) {
                sum += g.balance;
            }
        }
        return sum;
    }
    void Expire(int64_t at) {
        for (ModelGrant& g : grants) {
            if (g.expires && *g.expires <= at) {
                g.balance = 0;
            }
        }
    }
    void Deduct(int64_t fen, int64_t at) {
        while (fen > 0) {
            ModelGrant* best = nullptr;
            for (ModelGrant& g : grants) {
                if (g.balance <= 0 || (g.expires && *g.expires <= at)) {
                    continue;
                }
                const int64_t ge = g.expires.value_or(INT64_MAX);
                const int64_t be = best ? best->expires.value_or(INT64_MAX) : 0;
                if (!best || g.priority < best->priority ||
                    (g.priority == best->priority && (ge < be || (ge == be && g.id < best->id)))) {
                    best = &g;
                }
            }
            if (!best) {
                paid -= fen;
                return;
            }
            const int64_t take = std::min(fen, best->balance);
            best->balance -= take;
            fen -= take;
        }
    }
};

struct ModelMeter {
    int account = -1;
    bool has_cursor = false;
    int64_t time = 0;
    int64_t total = 0;
    Int128 exact = 0;  // sum of exact charges, 1e-11 yuan
    int64_t deducted = 0;
};

// Price in force (1e-4 yuan/kWh) at a time; versions only change on 30-minute boundaries and
// readings are on those boundaries too, so an interval is priced piecewise by whole slots.
struct ModelTariff {
    std::map<int64_t, int64_t> price_from;  // effective second -> price
    int64_t PriceAt(int64_t t) const { return std::prev(price_from.upper_bound(t))->second; }
};

class Harness {
public:
    explicit Harness(uint64_t seed) : rng_(seed) {}

    void SetUp() {
        SiteSpec site;
        site.project = {{}, "p", "Property", "Asia/Shanghai"};
        MeterModelRecord model;
        model.code = "m";
        model.name = "m";
        model.spec.max_rate_per_hour = kMaxRatePerHour;
        model.spec.register_modulus = Quantity{1'000'000'000};
        site.models.push_back(model);
        TariffRecord tariff;
        tariff.code = "flat";
        tariff.tariff.name = "flat";
        TariffVersion v;
        v.effective_from = Instant{Seconds{0}};
        v.flat_price = UnitPrice{8000};
        tariff.tariff.versions.push_back(v);
        site.tariffs.push_back(tariff);
        tariff_.price_from[0] = 8000;
        for (int m = 0; m < kMeters; ++m) {
            SiteSpec::Meter meter;
            meter.meter.code = "M" + std::to_string(m);
            meter.model_code = "m";
            meter.meter.public_area = m == kMeters - 1;
            if (meter.meter.public_area) {
                meter.tariff_code = "flat";  // priced for reports, never deducted
            }
            site.meters.push_back(meter);
        }
        ASSERT_TRUE(CreateSite(*store_, site, actor_, At(0)).has_value());
        for (int a = 0; a < kAccounts; ++a) {
            OpenAccountRequest open;
            open.project_code = "p";
            open.number = "A" + std::to_string(a);
            open.tenant_name = "t";
            open.tariff_code = "flat";
            open.opened_at = At(now_);
            std::vector<int> owned = a == 0 ? std::vector<int>{0, 1} : std::vector<int>{a + 1};
            for (int m : owned) {
                open.meters.push_back({"M" + std::to_string(m), Quantity{1000}, std::nullopt});
                meters_[m].account = a;
                meters_[m].has_cursor = true;
                meters_[m].time = now_;
                meters_[m].total = 1000;
            }
            ASSERT_TRUE(billing_.OpenAccount(open, actor_, At(now_)).has_value());
        }
    }

    void Step() {
        const int op = Uniform(0, 99);
        if (op < 60) {
            Readings();
        } else if (op < 75) {
            TopUp();
        } else if (op < 82) {
            Refund();
        } else if (op < 88) {
            Subsidy();
        } else if (op < 91) {
            TariffChange();
        } else if (op < 94) {
            Replay();
        } else {
            now_ += 1800;
            ASSERT_TRUE(billing_.Tick("p", At(now_)).has_value());
            for (ModelAccount& a : accounts_) {
                a.Expire(now_);
            }
        }
    }

    void Check(bool final_check) {
        auto tx = store_->Begin().value();
        const LedgerSummary summary = tx->SummarizeLedger().value();
        ASSERT_EQ(summary.sum_of_balances.fen, 0) << "ledger does not sum to zero";
        ASSERT_EQ(tx->CountBalanceMismatches().value(), 0) << "a balance differs from its entries";
        for (int a = 0; a < kAccounts; ++a) {
            const AccountRecord record =
                tx->FindAccount(ProjectId{1}, "A" + std::to_string(a))->value();
            int64_t paid = 0;
            int64_t granted = 0;
            const std::vector<LedgerAccount> ledgers = tx->LedgerAccountsOf(record.id).value();
            for (const LedgerAccount& l : ledgers) {
                if (l.kind == LedgerAccountKind::kTenantPaid)
                    paid = l.balance.fen;
                if (l.kind == LedgerAccountKind::kTenantGrant)
                    granted += l.balance.fen;
            }
            ASSERT_EQ(paid, accounts_[a].paid) << "paid balance of A" << a;
            ASSERT_EQ(granted, accounts_[a].Granted(INT64_MIN)) << "granted balance of A" << a;
            // The state matches the balance: re-evaluating changes nothing.
            ControlEffects effects;
            const PrepaidStatus again =
                StepPrepaid(record.scheme, record.prepaid, ControlEvent::kBalanceChanged,
                            Money{paid + accounts_[a].Granted(now_)}, false, effects);
            ASSERT_EQ(again, record.prepaid) << "state does not match the balance of A" << a;
        }
        // The account counts kept by triggers (the list's total without a search) agree with a
        // count over the accounts (with a search every account matches).
        for (int state = -1; state <= 7; ++state) {
            for (int relay = -1; relay <= 1; ++relay) {
                AccountQuery query;
                query.limit = 1;
                if (state >= 0)
                    query.state = static_cast<PrepaidState>(state);
                if (relay >= 0)
                    query.relay = static_cast<Relay>(relay);
                const int64_t kept = tx->PageAccounts(ProjectId{1}, query).value().second;
                query.search = "A";
                const int64_t counted = tx->PageAccounts(ProjectId{1}, query).value().second;
                ASSERT_EQ(kept, counted) << "account count, state " << state << " relay " << relay;
            }
        }
        for (int m = 0; m < kMeters; ++m) {
            const MeterBilling b = tx->LoadBilling(MeterId{m + 1}).value().value();
            ASSERT_EQ(b.charged_total.value, static_cast<int64_t>(meters_[m].exact))
                << "charges of M" << m << " differ from quantity x price";
            ASSERT_EQ(b.deducted_total, RoundFineToFen(FineMoney{}, b.charged_total).deduct)
                << "deductions of M" << m << " drifted from the rounded charge";
            if (meters_[m].account >= 0) {
                ASSERT_EQ(b.deducted_total.fen, meters_[m].deducted);
            }
            if (!final_check) {
                continue;
            }
            // A quarantined reading is never billed.
            const std::vector<StoredReading> stored =
                tx->ListReadings(MeterId{m + 1}, 1'000'000).value();
            for (const StoredReading& r : stored) {
                if (r.outcome.validated.verdict != Verdict::kAccepted) {
                    ASSERT_EQ(r.outcome.deducted.fen, 0);
                    ASSERT_EQ(r.outcome.charge.total.value, 0);
                }
            }
        }
    }

private:
    static Instant At(int64_t s) { return Instant{Seconds{s}}; }
    int Uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }

    // The model's view of a valid reading.
    void ModelAccept(int m, int64_t time, int64_t total) {
        ModelMeter& mm = meters_[m];
        if (!mm.has_cursor) {  // public meter: baseline
            mm.has_cursor = true;
            mm.time = time;
            mm.total = total;
            return;
        }
        const int64_t delta = total - mm.total;
        // Exact charge: by whole 30-minute slots (prices change only on slot boundaries), the
        // slot quantities split by the largest-remainder rule over equal durations.
        const int64_t slots = (time - mm.time) / 1800;
        Int128 fine = 0;
        // Merge slots with the same price into pieces, as the engine splits only at versions.
        std::vector<std::pair<int64_t, int64_t>> pieces;  // price, seconds
        for (int64_t k = 0; k < slots; ++k) {
            const int64_t price = tariff_.PriceAt(mm.time + k * 1800);
            const bool boundary = tariff_.price_from.contains(mm.time + k * 1800);
            if (pieces.empty() || boundary) {
                pieces.push_back({price, 1800});
            } else {
                pieces.back().second += 1800;
            }
        }
        std::vector<int64_t> w;
        for (auto& p : pieces)
            w.push_back(p.second);
        std::vector<int64_t> share(w.size());
        AllocateByWeights(delta, w, share);
        for (std::size_t i = 0; i < pieces.size(); ++i) {
            fine += static_cast<Int128>(share[i]) * pieces[i].first * kBasisPointsOne;
        }
        mm.exact += fine;
        mm.time = time;
        mm.total = total;
        if (mm.account >= 0) {
            const int64_t rounded_total =
                RoundFineToFen(FineMoney{}, FineMoney{static_cast<int64_t>(mm.exact)}).deduct.fen;
            const int64_t fen = rounded_total - mm.deducted;
            mm.deducted = rounded_total;
            accounts_[mm.account].Deduct(fen, time);
        }
    }

    void Readings() {
        now_ += 1800;
        std::vector<ReadingItem> batch;
        std::vector<std::tuple<int, int64_t, int64_t>> expected_accepts;
        for (int m = 0; m < kMeters; ++m) {
            if (Uniform(0, 3) == 0) {
                continue;  // this meter missed the slot (a gap)
            }
            ModelMeter& mm = meters_[m];
            const int kind = Uniform(0, 99);
            ReadingInput r{At(now_), At(now_), Quantity{mm.total + Uniform(0, 4000)}, false, {}};
            bool valid = kind < 80;
            if (kind >= 80 && kind < 85) {  // duplicate of the last accepted reading
                r.meter_time = At(mm.time);
                r.total = Quantity{mm.total};
            } else if (kind >= 85 && kind < 89) {  // late: older than the cursor
                r.meter_time = At(mm.time - 1800);
            } else if (kind >= 89 && kind < 93) {  // spike
                r.total = Quantity{mm.total + 10'000'000};
            } else if (kind >= 93 && kind < 96) {  // regressed
                r.total = Quantity{std::max<int64_t>(0, mm.total - 5000)};
            } else if (kind >= 96) {  // a meter clock far ahead
                r.meter_time = At(now_ + 86400);
            }
            const int64_t slots = (now_ - mm.time) / 1800;
            if (valid && mm.has_cursor &&
                r.total.milli - mm.total > kMaxRatePerHour * slots * 1800 / 3600 + 10) {
                valid = false;
            }
            if (!mm.has_cursor && kind >= 80) {
                valid = false;  // the public meter's baseline is a clean reading
                if (kind < 89 || r.meter_time > At(now_))
                    continue;
            }
            batch.push_back({"p", "M" + std::to_string(m), r});
            if (valid) {
                expected_accepts.emplace_back(m, now_, r.total.milli);
            }
            if (Uniform(0, 9) == 0) {
                batch.push_back(batch.back());  // the gateway sends it twice in one batch
            }
        }
        std::shuffle(batch.begin(), batch.end(), rng_);  // arrival order is not meter order
        auto result = billing_.ApplyReadings(batch, At(now_));
        ASSERT_TRUE(result.has_value()) << result.error().ToString();
        for (auto& [m, t, total] : expected_accepts) {
            ModelAccept(m, t, total);
        }
        for (ModelAccount& a : accounts_) {
            a.Expire(now_);
        }
        last_batch_ = batch;
    }

    void TopUp() {
        const int a = Uniform(0, kAccounts - 1);
        const bool reuse = !keys_.empty() && Uniform(0, 2) == 0;
        std::string key;
        int64_t amount = Uniform(1, 50'000);
        int target = a;
        if (reuse) {
            auto it = keys_.begin();
            std::advance(it, Uniform(0, static_cast<int>(keys_.size()) - 1));
            key = it->first;
            target = it->second.first;
            if (Uniform(0, 1) == 0) {
                amount = it->second.second;  // a genuine retry
            }
        } else {
            key = "k" + std::to_string(next_key_++);
        }
        auto r = billing_.TopUp({"p", "A" + std::to_string(target), Money{amount}, "cash", key, ""},
                                actor_, At(now_));
        if (!reuse) {
            ASSERT_TRUE(r.has_value()) << r.error().ToString();
            keys_[key] = {target, amount};
            accounts_[target].paid += amount;
            accounts_[target].Expire(now_);
        } else if (amount == keys_[key].second) {
            ASSERT_TRUE(r.has_value());
            ASSERT_EQ(r->outcome, TopUpOutcome::kAlreadyCredited);
        } else {
            ASSERT_FALSE(r.has_value());
            ASSERT_EQ(r.error().code, ErrorCode::kAlreadyExists);
        }
    }

    void Refund() {
        const int a = Uniform(0, kAccounts - 1);
        const int64_t amount = Uniform(1, 30'000);
        auto r = billing_.Refund({"p", "A" + std::to_string(a), Money{amount}, "cash",
                                  "r" + std::to_string(next_key_++), ""},
                                 actor_, At(now_));
        if (amount <= accounts_[a].paid) {
            ASSERT_TRUE(r.has_value()) << r.error().ToString();
            accounts_[a].paid -= amount;
        } else {
            ASSERT_FALSE(r.has_value());
            ASSERT_EQ(r.error().field, "amount");
        }
    }

    void Subsidy() {
        const int a = Uniform(0, kAccounts - 1);
        if (accounts_[a].grants.size() >= 40) {
            return;
        }
        const int64_t amount = Uniform(1, 5'000);
        const int32_t priority = Uniform(0, 2);
        std::optional<int64_t> expires;
        if (Uniform(0, 1) == 0) {
            expires = now_ + int64_t{1800} * Uniform(1, 20);
        }
        auto r =
            billing_.GrantSubsidy({"p", "A" + std::to_string(a), Money{amount}, priority,
                                   expires ? std::optional<Instant>(At(*expires)) : std::nullopt,
                                   "s" + std::to_string(next_key_++), ""},
                                  actor_, At(now_));
        ASSERT_TRUE(r.has_value()) << r.error().ToString();
        accounts_[a].grants.push_back({r->value, priority, expires, amount});
    }

    void TariffChange() {
        const int64_t effective = now_ + int64_t{1800} * Uniform(1, 4);
        if (tariff_.price_from.size() >= 60 || tariff_.price_from.rbegin()->first >= effective) {
            return;
        }
        const int64_t price = Uniform(1000, 20000);
        TariffVersion v;
        v.effective_from = At(effective);
        v.flat_price = UnitPrice{price};
        ASSERT_TRUE(AddTariffVersion(*store_, "p", "flat", v, actor_, At(now_)).has_value());
        tariff_.price_from[effective] = price;
    }

    // Applying a batch again changes nothing.
    void Replay() {
        if (last_batch_.empty()) {
            return;
        }
        auto r = billing_.ApplyReadings(last_batch_, At(now_));
        ASSERT_TRUE(r.has_value());
        ASSERT_EQ(r->accepted, 0U);
        ASSERT_EQ(r->deducted.fen, 0);
    }

    std::mt19937_64 rng_;
    std::unique_ptr<storage::SqliteStore> store_ =
        std::move(storage::SqliteStore::Open(":memory:", {}).value());
    BillingService billing_{*store_};
    Actor actor_{"property"};
    int64_t now_ = int64_t{1'790'000'000} / 1800 * 1800;
    ModelTariff tariff_;
    ModelMeter meters_[kMeters];
    ModelAccount accounts_[kAccounts];
    std::map<std::string, std::pair<int, int64_t>> keys_;
    int64_t next_key_ = 0;
    std::vector<ReadingItem> last_batch_;
};

TEST(LedgerProperty, RandomOperationsKeepEveryInvariant) {
    uint64_t seed = 20261121;
    if (const char* env = std::getenv("JOULE_SEED")) {
        seed = std::strtoull(env, nullptr, 10);
    }
    int operations = 100'000;
    if (const char* env = std::getenv("JOULE_OPERATIONS")) {
        operations = std::atoi(env);
    }
    SCOPED_TRACE("replay with JOULE_SEED=" + std::to_string(seed));
    Harness h(seed);
    h.SetUp();
    ASSERT_FALSE(::testing::Test::HasFatalFailure());
    for (int i = 0; i < operations; ++i) {
        h.Step();
        ASSERT_FALSE(::testing::Test::HasFatalFailure()) << "at operation " << i;
        if (i % 2000 == 0) {
            h.Check(false);
            ASSERT_FALSE(::testing::Test::HasFatalFailure()) << "at operation " << i;
        }
    }
    h.Check(true);
}

}  // namespace
}  // namespace joule
