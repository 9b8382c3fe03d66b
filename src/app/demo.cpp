#include "app/demo.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <map>
#include <random>

#include "app/report.hpp"
#include "base/decimal.hpp"
#include "service/billing_service.hpp"
#include "service/site_service.hpp"
#include "storage/sqlite_store.hpp"
#include "wire/json.hpp"

namespace joule::app {

namespace {

using wire::Json;

constexpr const char* kCommercialTariff = R"({
  "name": "商业分时电价 Commercial TOU",
  "versions": [{
    "effective_from": "2026-01-01T00:00:00+08:00",
    "tou": {
      "prices": {"sharp": "1.3500", "peak": "1.1200", "flat": "0.7800", "valley": "0.3900"},
      "day_schedules": {
        "workday": [{"start": "00:00", "period": "valley"}, {"start": "08:00", "period": "flat"},
                    {"start": "10:00", "period": "peak"}, {"start": "12:00", "period": "flat"},
                    {"start": "14:00", "period": "peak"}, {"start": "19:00", "period": "sharp"},
                    {"start": "21:00", "period": "peak"}, {"start": "22:00", "period": "flat"},
                    {"start": "23:00", "period": "valley"}],
        "rest": [{"start": "00:00", "period": "valley"}, {"start": "08:00", "period": "flat"},
                 {"start": "23:00", "period": "valley"}]
      },
      "seasons": [{"start": "01-01", "workday": "workday", "weekend": "workday", "holiday": "rest"}],
      "holidays": ["2026-10-01", "2026-10-02", "2026-10-03", "2026-10-04", "2026-10-05",
                   "2026-10-06", "2026-10-07"]
    },
    "surcharges": [{"name": "物业服务费 service fee", "price": "0.0500"}],
    "loss_percent": "2"
  }]
})";

constexpr const char* kPriceRise = R"({
    "effective_from": "2026-10-16T00:00:00+08:00",
    "tou": {
      "prices": {"sharp": "1.4000", "peak": "1.1600", "flat": "0.8000", "valley": "0.4000"},
      "day_schedules": {
        "workday": [{"start": "00:00", "period": "valley"}, {"start": "08:00", "period": "flat"},
                    {"start": "10:00", "period": "peak"}, {"start": "12:00", "period": "flat"},
                    {"start": "14:00", "period": "peak"}, {"start": "19:00", "period": "sharp"},
                    {"start": "21:00", "period": "peak"}, {"start": "22:00", "period": "flat"},
                    {"start": "23:00", "period": "valley"}]
      },
      "seasons": [{"start": "01-01", "workday": "workday"}]
    },
    "surcharges": [{"name": "物业服务费 service fee", "price": "0.0500"}],
    "loss_percent": "2"
})";

constexpr const char* kWaterTariff = R"({
  "name": "阶梯水价 Tiered water",
  "utility": "water",
  "versions": [{
    "effective_from": "2026-01-01T00:00:00+08:00",
    "price": "3.4500",
    "tiers": {"cycle": "monthly", "steps": [{"upto": "15", "increment": "0"},
                                             {"upto": "30", "increment": "1.1500"},
                                             {"increment": "3.4500"}]},
    "surcharges": [{"name": "污水处理费 sewage", "price": "1.3900"}]
  }]
})";

// How a tenant tops up: most promptly, some only after being cut off, a few never.
enum class Habit { kPrompt, kLate, kNever };

struct Tenant {
    std::string number;
    std::vector<std::string> meters;
    Habit habit = Habit::kPrompt;
};

struct SimMeter {
    std::string code;
    std::string account;      // the tenant's account, empty for public meters
    bool relay_open = false;  // a tripped meter passes no energy (water: valve closed)
    Utility utility = Utility::kElectricity;
    int64_t total = 0;   // register, Wh or L
    int64_t open_w = 0;  // load while the shop is open (W), or L/h for water
    int64_t closed_w = 0;
};

int64_t Jitter(std::mt19937_64& rng, int64_t value) {
    std::uniform_int_distribution<int64_t> d(80, 120);
    return value * d(rng) / 100;
}

void Print(const char* fmt, const std::string& a = "", const std::string& b = "") {
    std::printf(fmt, a.c_str(), b.c_str());
}

}  // namespace

Status RunDemo(const DemoOptions& o) {
    std::filesystem::create_directories(std::filesystem::path(o.db_path).parent_path().empty()
                                            ? "."
                                            : std::filesystem::path(o.db_path).parent_path());
    for (const char* suffix : {"", "-wal", "-shm"}) {
        std::filesystem::remove(o.db_path + suffix);
    }
    JOULE_ASSIGN_OR_RETURN(auto store, storage::SqliteStore::Open(o.db_path, {}));
    BillingService billing(*store);
    const Actor staff{"demo-cashier"};
    std::mt19937_64 rng(o.seed);
    JOULE_ASSIGN_OR_RETURN(Zone zone, Zone::Load(kDefaultTimeZone));
    JOULE_ASSIGN_OR_RETURN(Instant start, ParseInstant("2026-10-01T00:00:00+08:00", "start"));

    // --- the site: one building, three floors of shops, public circuits and water meters
    SiteSpec site;
    site.project = {{}, "demo-mall", "万象汇示范商场 Demo Mall", std::string(kDefaultTimeZone)};
    MeterModelRecord shop_model;
    shop_model.code = "dlt645-1p-prepaid";
    shop_model.name = "DL/T 645-2007 single-phase prepaid meter";
    shop_model.spec.max_rate_per_hour = 40'000;  // 40 kW
    site.models.push_back(shop_model);
    MeterModelRecord public_model = shop_model;
    public_model.code = "dlt645-3p";
    public_model.name = "DL/T 645-2007 three-phase meter";
    public_model.has_relay = false;
    public_model.spec.max_rate_per_hour = 200'000;
    site.models.push_back(public_model);
    MeterModelRecord water_model;
    water_model.code = "cjt188-water";
    water_model.name = "CJ/T 188 cold-water meter with valve";
    water_model.utility = Utility::kWater;
    water_model.spec.max_rate_per_hour = 5'000;  // 5 m^3/h
    water_model.spec.register_modulus = Quantity{100'000'000};
    site.models.push_back(water_model);
    for (const char* t : {"mqtt", "modbus_tcp", "dtu"}) {
        GatewayRecord gateway;
        gateway.code = std::string("gw-") + t;
        gateway.name = std::string("Gateway ") + t;
        gateway.transport = t;
        site.gateways.push_back(gateway);
    }
    JOULE_ASSIGN_OR_RETURN(Tariff commercial,
                           wire::TariffFromJson(Json::parse(kCommercialTariff), "tariff"));
    JOULE_ASSIGN_OR_RETURN(Tariff water, wire::TariffFromJson(Json::parse(kWaterTariff), "tariff"));
    site.tariffs.push_back({{}, {}, "commercial-tou", commercial});
    site.tariffs.push_back({{}, {}, "water-tiered", water});
    SiteSpec::Building building;
    building.building.code = "A";
    building.building.name = "A座";
    std::vector<SimMeter> meters;
    std::vector<Tenant> tenants;
    for (int f = 1; f <= 3; ++f) {
        SiteSpec::Floor floor;
        floor.floor.code = "A-" + std::to_string(f) + "F";
        floor.floor.name = std::to_string(f) + "F";
        building.floors.push_back(floor);
    }
    for (int i = 0; i < o.shops; ++i) {
        const int f = i % 3;
        char room[16];
        std::snprintf(room, sizeof room, "A%d%02d", f + 1, i / 3 + 1);
        building.floors[static_cast<std::size_t>(f)].rooms.push_back(
            {{}, {}, {}, room, std::string("Shop ") + room, 4000 + 100 * (i % 30)});
        SiteSpec::Meter m;
        m.meter.code = std::string("E-") + room;
        m.model_code = shop_model.code;
        m.gateway_code = site.gateways[static_cast<std::size_t>(i % 3)].code;
        m.room_code = room;
        site.meters.push_back(m);
        std::uniform_int_distribution<int64_t> load(800, 7000);
        meters.push_back(
            {m.meter.code, "", false, Utility::kElectricity,
             std::uniform_int_distribution<int64_t>(1'000'000, 90'000'000)(rng) / 10 * 10,
             load(rng), 150});
        Tenant t;
        t.number = std::string("S") + room;
        t.meters.push_back(m.meter.code);
        const int habit = std::uniform_int_distribution<int>(0, 99)(rng);
        t.habit = habit < 80 ? Habit::kPrompt : habit < 95 ? Habit::kLate : Habit::kNever;
        tenants.push_back(t);
    }
    for (std::size_t i = 0; i < meters.size(); ++i) {
        meters[i].account = tenants[i].number;
    }
    for (int i = 0; i < o.water_meters && i < o.shops; ++i) {
        SiteSpec::Meter m;
        m.meter.code = "W-" + meters[static_cast<std::size_t>(i)].code.substr(2);
        m.model_code = water_model.code;
        m.gateway_code = "gw-dtu";
        m.tariff_code = "water-tiered";  // 一表一价: water is priced by its own tariff
        site.meters.push_back(m);
        meters.push_back({m.meter.code, tenants[static_cast<std::size_t>(i)].number, false,
                          Utility::kWater, 120'000, 60, 2});
        tenants[static_cast<std::size_t>(i)].meters.push_back(m.meter.code);
    }
    for (int i = 0; i < o.public_meters; ++i) {
        SiteSpec::Meter m;
        m.meter.code = "P-" + std::to_string(i + 1);
        m.model_code = public_model.code;
        m.gateway_code = "gw-modbus_tcp";
        m.meter.public_area = true;
        site.meters.push_back(m);
        meters.push_back(
            {m.meter.code, "", false, Utility::kElectricity, 5'000'000, 30'000, 8'000});
    }
    site.buildings.push_back(building);
    JOULE_ASSIGN_OR_RETURN(SiteSummary summary, CreateSite(*store, site, staff, start));

    // --- accounts, opened on the first day with a first top-up
    std::map<std::string, std::size_t> meter_index;
    for (std::size_t i = 0; i < meters.size(); ++i) {
        meter_index[meters[i].code] = i;
    }
    for (const Tenant& t : tenants) {
        OpenAccountRequest open;
        open.project_code = site.project.code;
        open.number = t.number;
        open.tenant_name = "租户 Tenant " + t.number;
        open.tariff_code = "commercial-tou";
        open.scheme.alarm1 = Money{20000};
        open.scheme.alarm2 = Money{10000};
        open.scheme.alarm3 = Money{3000};
        open.scheme.restore = Money{1000};
        open.scheme.friendly.nights = true;  // no arrears trips between 22:00 and 08:00
        for (const std::string& code : t.meters) {
            open.meters.push_back({code, Quantity{meters[meter_index[code]].total}, std::nullopt});
        }
        open.first_top_up = Money{std::uniform_int_distribution<int64_t>(3, 20)(rng) * 10000};
        open.opened_at = start;
        JOULE_TRY(billing.OpenAccount(open, staff, start));
    }
    // A university-style base quota for the first ten shops, expiring at month end.
    JOULE_ASSIGN_OR_RETURN(Instant month_end, ParseInstant("2026-11-01T00:00:00+08:00", "end"));
    for (std::size_t i = 0; i < 10 && i < tenants.size(); ++i) {
        JOULE_TRY(
            billing.GrantSubsidy({site.project.code, tenants[i].number, Money{5000}, 0, month_end,
                                  "subsidy-2026-10-" + tenants[i].number, "October base quota"},
                                 staff, start));
    }

    // --- a month, half-hourly readings in hourly batches, a daily counter round at 10:00
    std::size_t readings = 0;
    std::size_t top_ups = 0;
    Money topped_up;
    std::map<std::string, int> late_waiting;  // late payers: days since they were cut off
    const int64_t slots = static_cast<int64_t>(o.days) * 48;
    std::vector<ReadingItem> batch;
    bool relays_changed = false;
    for (int64_t slot = 1; slot <= slots; ++slot) {
        const Instant at = start + Seconds{slot * 1800};
        const LocalTime local = zone.ToLocal(at);
        const auto minute = (local - date::floor<date::days>(local)).count() / 60;
        const bool open_hours = minute >= int64_t{10} * 60 && minute < int64_t{22} * 60;
        for (SimMeter& m : meters) {
            const int64_t rate = m.relay_open ? 0 : open_hours ? m.open_w : m.closed_w;
            m.total += Jitter(rng, rate) / 2;  // half an hour at that rate
            const int64_t reported = m.utility == Utility::kWater ? m.total : m.total / 10 * 10;
            batch.push_back(
                {site.project.code, m.code, ReadingInput{at, at, Quantity{reported}, false, {}}});
            const int glitch = std::uniform_int_distribution<int>(0, 19999)(rng);
            if (glitch < 3) {  // a gateway re-sends: a duplicate
                batch.push_back(batch.back());
            } else if (glitch < 5) {  // a corrupted frame: a spike
                ReadingItem spike = batch.back();
                spike.reading.meter_time = at + Seconds{60};
                spike.reading.received = spike.reading.meter_time;
                spike.reading.total.milli += m.utility == Utility::kWater ? 5'000 : 500'000;
                batch.push_back(spike);
            }
        }
        if (slot % 2 == 0) {
            JOULE_ASSIGN_OR_RETURN(ApplyReadingsResult r, billing.ApplyReadings(batch, at));
            readings += batch.size();
            relays_changed = relays_changed || r.commands > 0;
            batch.clear();
        }
        if (relays_changed) {  // the simulated relays and valves obey the queued commands
            std::map<std::string, bool> open;
            for (const Tenant& t : tenants) {
                JOULE_ASSIGN_OR_RETURN(AccountView v,
                                       billing.ViewAccount(site.project.code, t.number));
                open[t.number] = v.account.prepaid.relay == Relay::kOpen;
            }
            for (SimMeter& m : meters) {
                m.relay_open = !m.account.empty() && open[m.account];
            }
            relays_changed = false;
        }
        if (slot == 3 * 48 + 20) {  // day 3, 10:00: a pharmacy is kept powered whatever happens
            JOULE_TRY(billing.Control({site.project.code,
                                       tenants.back().number,
                                       ControlEvent::kKeepPowerOn,
                                       "药店冷藏 pharmacy cold chain",
                                       {}},
                                      Actor{"demo-manager"}, at));
            relays_changed = true;
        }
        if (slot == 14 * 48 + 20) {  // Oct 15, 10:00: a price rise from Oct 16 is announced
            JOULE_ASSIGN_OR_RETURN(TariffVersion rise,
                                   wire::TariffVersionFromJson(Json::parse(kPriceRise), "version"));
            JOULE_TRY(AddTariffVersion(*store, site.project.code, "commercial-tou", rise,
                                       Actor{"demo-manager"}, at));
        }
        if (minute == int64_t{10} * 60) {  // the daily counter round
            for (const Tenant& t : tenants) {
                JOULE_ASSIGN_OR_RETURN(AccountView v,
                                       billing.ViewAccount(site.project.code, t.number));
                const PrepaidState s = v.account.prepaid.state;
                bool pay = false;
                if (t.habit == Habit::kPrompt) {
                    pay = s == PrepaidState::kAlarm1 || s == PrepaidState::kAlarm2 ||
                          s == PrepaidState::kAlarm3 || s == PrepaidState::kTripped ||
                          s == PrepaidState::kTripHeld;
                } else if (t.habit == Habit::kLate && s == PrepaidState::kTripped) {
                    pay = ++late_waiting[t.number] >= 2;
                }
                if (pay) {
                    late_waiting[t.number] = 0;
                    const Money amount{std::uniform_int_distribution<int64_t>(5, 30)(rng) * 10000};
                    const std::string key =
                        "counter-" + std::to_string(at.time_since_epoch().count()) + "-" + t.number;
                    JOULE_TRY(billing.TopUp({site.project.code, t.number, amount,
                                             top_ups % 3 == 0 ? "pos" : "cash", key, key},
                                            staff, at));
                    ++top_ups;
                    topped_up += amount;
                    relays_changed = true;
                }
            }
        }
    }
    JOULE_TRY(billing.Tick(site.project.code, month_end));

    // --- what happened
    JOULE_ASSIGN_OR_RETURN(Json report,
                           ProjectReport(*store, site.project.code, {.transfers = false}));
    std::printf("\nJoule demo: %s, %d days of half-hourly readings\n", site.project.name.c_str(),
                o.days);
    std::printf("  %zu rooms, %zu meters (%d shops, %d water, %d public), %zu accounts\n",
                summary.rooms, summary.meters, o.shops, o.water_meters, o.public_meters,
                tenants.size());
    std::printf("  %zu readings applied, %zu counter top-ups totalling %s yuan\n\n", readings,
                top_ups, wire::MoneyText(topped_up).c_str());
    std::printf("Accounts by prepaid state:\n");
    for (const auto& [state, count] : report["accounts_by_state"].items()) {
        std::printf("  %-12s %d\n", state.c_str(), count.get<int>());
    }
    std::printf("\nLowest balances:\n");
    std::vector<Json> accounts(report["accounts"].begin(), report["accounts"].end());
    std::sort(accounts.begin(), accounts.end(), [](const Json& a, const Json& b) {
        return ParseScaled(a["available"].get<std::string>(), 2, "a").value_or(0) <
               ParseScaled(b["available"].get<std::string>(), 2, "b").value_or(0);
    });
    std::printf("  %-8s %12s %10s %-11s %s\n", "account", "available", "granted", "state", "relay");
    for (std::size_t i = 0; i < accounts.size() && i < 8; ++i) {
        const Json& a = accounts[i];
        std::printf("  %-8s %12s %10s %-11s %s\n", a["number"].get<std::string>().c_str(),
                    a["available"].get<std::string>().c_str(),
                    a["granted"].get<std::string>().c_str(), a["state"].get<std::string>().c_str(),
                    a["relay"].get<std::string>().c_str());
    }
    std::map<std::string, std::pair<int, int>> alarms;  // kind -> (raised, still open)
    for (const Json& a : report["alarms"]) {
        auto& counts = alarms[a["kind"].get<std::string>()];
        ++counts.first;
        counts.second += a["open"].get<bool>() ? 1 : 0;
    }
    std::printf("\nAlarms raised (still open):\n");
    for (const auto& [kind, counts] : alarms) {
        std::printf("  %-22s %5d (%d)\n", kind.c_str(), counts.first, counts.second);
    }
    std::map<std::string, int> commands;
    for (const Json& c : report["commands"]) {
        ++commands[c["kind"].get<std::string>()];
    }
    std::printf("\nRelay and valve commands queued in the outbox:\n");
    for (const auto& [kind, count] : commands) {
        std::printf("  %-12s %d\n", kind.c_str(), count);
    }
    const Json& ledger = report["ledger"];
    std::printf(
        "\nLedger: %lld transfers, sum of all balances %s (must be 0.00), %lld balance "
        "mismatches\n",
        static_cast<long long>(ledger["transfers"].get<int64_t>()),
        ledger["sum_of_balances"].get<std::string>().c_str(),
        static_cast<long long>(ledger["balance_mismatches"].get<int64_t>()));
    for (const auto& [kind, balance] : ledger["balance_by_kind"].items()) {
        std::printf("  %-16s %14s\n", kind.c_str(), balance.get<std::string>().c_str());
    }
    Print("\nThe store is %s; look at one account with:\n", o.db_path);
    Print("  build/release/src/app/joule account show --db %s --project demo-mall --account %s\n\n",
          o.db_path, accounts.front()["number"].get<std::string>());
    if (ledger["sum_of_balances"].get<std::string>() != "0.00" ||
        ledger["balance_mismatches"].get<int64_t>() != 0) {
        return MakeError(ErrorCode::kDataLoss, "the ledger does not balance");
    }
    return {};
}

}  // namespace joule::app
