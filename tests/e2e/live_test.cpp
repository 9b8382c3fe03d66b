// End to end over real transports: `joule serve` and `joule sim` as separate processes, talking
// DL/T 645 over DTU links that dial in and Modbus-TCP to a polled gateway, on loopback only.
// Readings flow, the balance falls through each alarm level, the relay trips at zero, a counter
// top-up closes it again (the meter's own status word confirms both), a gateway outage raises an
// offline alarm and clears it on return, and the ledger balances with nothing billed twice.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "e2e_support.hpp"

namespace {

using namespace joule::e2e;  // NOLINT(google-build-using-namespace): test support
using Json = nlohmann::json;

Json Model(const std::string& code) {
    return Json::parse(ReadFile(fs::path(JOULE_MODELS_DIR) / (code + ".json")));
}

class LiveTest : public ::testing::Test {
protected:
    void SetUp() override { CreateSite("1.00"); }
    void CreateSite(const std::string& top_up) {
        dir_ = fs::temp_directory_path() / ("joule-live-" + std::to_string(getpid()));
        fs::remove_all(dir_);
        fs::create_directories(dir_);
        db_ = dir_ / "live.db";
        dtu_port_ = FreePort();
        modbus_port_ = FreePort();
        // A price of 6 yuan/kWh and 15 kW loads: 0.025 yuan a second, so a 1.00 yuan balance
        // passes 0.75 / 0.50 / 0.25 and reaches zero in well under a minute.
        Json site = {
            {"project", {{"code", "e2e"}, {"name", "E2E mall"}, {"time_zone", "Asia/Shanghai"}}},
            {"models", {Model("dlt645-2007-1p-prepaid"), Model("eastron-sdm630")}},
            {"buildings",
             {{{"code", "A"},
               {"name", "A"},
               {"floors",
                {{{"code", "A1"},
                  {"name", "1F"},
                  {"rooms",
                   {{{"code", "101"}, {"name", "Shop 101"}, {"area", "40.00"}},
                    {{"code", "102"}, {"name", "Shop 102"}, {"area", "40.00"}}}}}}}}}},
            {"gateways",
             {{{"code", "gw-a"}, {"transport", "dtu"}, {"endpoint", "860000000000101"}},
              {{"code", "gw-b"}, {"transport", "dtu"}, {"endpoint", "860000000000102"}},
              {{"code", "gw-c"}, {"transport", "dtu"}, {"endpoint", "860000000000103"}},
              {{"code", "gw-m"},
               {"transport", "modbus_tcp"},
               {"framing", "mbap"},
               {"endpoint", "127.0.0.1:" + std::to_string(modbus_port_)}}}},
            {"tariffs",
             {{{"code", "fast"},
               {"name", "Fast"},
               {"versions",
                {{{"effective_from", "2026-01-01T00:00:00+08:00"}, {"price", "6.0000"}}}}}}},
            {"meters",
             {{{"code", "E101"},
               {"model", "dlt645-2007-1p-prepaid"},
               {"gateway", "gw-a"},
               {"room", "101"},
               {"bus_address", "000000000101"}},
              {{"code", "E102"},
               {"model", "dlt645-2007-1p-prepaid"},
               {"gateway", "gw-b"},
               {"room", "102"},
               {"bus_address", "000000000102"}},
              {{"code", "P1"},
               {"model", "eastron-sdm630"},
               {"gateway", "gw-m"},
               {"bus_address", "1"},
               {"public", true},
               {"tariff", "fast"}}}}};
        std::ofstream(dir_ / "site.json") << site.dump(2);
        ASSERT_EQ(
            Shell(std::string(JOULE_BINARY) + " site create --db " + db_.string() + " " +
                  (dir_ / "site.json").string() + " > " + (dir_ / "create.log").string() + " 2>&1"),
            0)
            << ReadFile(dir_ / "create.log");
        const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
        char opened[32];
        const std::time_t t = std::chrono::system_clock::to_time_t(now);
        std::strftime(opened, sizeof opened, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
        for (const char* number : {"101", "102"}) {
            Json account = {{"number", std::string("S") + number},
                            {"tenant", std::string("Tenant ") + number},
                            {"tariff", "fast"},
                            {"scheme",
                             {{"alarm1", "0.75"},
                              {"alarm2", "0.50"},
                              {"alarm3", "0.25"},
                              {"overdraft", "0.00"},
                              {"restore", "0.10"}}},
                            {"meters", {{{"meter", std::string("E") + number}, {"reading", "0"}}}},
                            {"top_up", top_up},
                            {"opened_at", opened}};
            if (meter_billed_ && std::string(number) == "101") {
                // [ACCT-1] the meter holds S101's money; it starts empty (purchase count 0).
                account["billing_mode"] = "meter";
                account.erase("top_up");
            }
            const fs::path file = dir_ / (std::string("account-") + number + ".json");
            std::ofstream(file) << account.dump(2);
            ASSERT_EQ(Shell(std::string(JOULE_BINARY) + " account open --db " + db_.string() +
                            " --project e2e " + file.string() + " > " +
                            (dir_ / "open.log").string() + " 2>&1"),
                      0)
                << ReadFile(dir_ / "open.log");
        }
    }
    void ReopenWith(const std::string& top_up) {
        fs::remove_all(dir_);
        CreateSite(top_up);
    }
    std::string Dtu() const { return "127.0.0.1:" + std::to_string(dtu_port_); }
    std::vector<std::string> ServeArgs() const {
        return {"serve",
                "--db",
                db_.string(),
                "--http",
                "127.0.0.1:" + std::to_string(FreePort()),
                "--dtu-listen",
                Dtu(),
                "--read-interval",
                "2",
                "--report-every",
                "5"};
    }
    // `joule sim` at real speed against this test's DTU port, plus `extra` options.
    std::vector<std::string> SimArgs(std::vector<std::string> extra) const {
        std::vector<std::string> args = {"sim", "--db",    db_.string(), "--dtu-connect",
                                         Dtu(), "--speed", "1"};
        args.insert(args.end(), extra.begin(), extra.end());
        return args;
    }
    std::string Logs() const {
        return "serve:\n" + ReadFile(dir_ / "serve.log") + "\nsim:\n" + ReadFile(dir_ / "sim.log");
    }
    void TearDown() override {
        if (!HasFailure())
            fs::remove_all(dir_);
    }

    fs::path dir_;
    fs::path db_;
    bool meter_billed_ = false;  // S101 opens in meter billing
    int dtu_port_ = 0;
    int modbus_port_ = 0;
};

TEST_F(LiveTest, ReadingsBillAlarmsTripTopUpClosesOutageRecovers) {
    Process serve(ServeArgs(), dir_ / "serve.log");
    Process sim(SimArgs({"--load-watts", "15000", "--offline-gateway", "gw-b", "--offline-after",
                         "8", "--offline-for", "12"}),
                dir_ / "sim.log");
    const std::string account_a = "(SELECT id FROM accounts WHERE number = 'S101')";
    const std::string meter_a = "(SELECT id FROM meters WHERE code = 'E101')";

    // Readings flow over both transports and are billed.
    ASSERT_TRUE(WaitFor(
        [&] {
            return Query(db_, "SELECT COUNT(*) FROM readings WHERE verdict = 1 AND meter_id = " +
                                  meter_a) >= 3 &&
                   Query(db_,
                         "SELECT COUNT(*) FROM readings r JOIN meters m ON m.id = "
                         "r.meter_id WHERE m.code = 'P1' AND r.verdict = 1") >= 2;
        },
        std::chrono::seconds(40)))
        << Logs();

    // The balance runs down through every alarm level to a trip, and the meter reports its relay
    // open (run status word 3) after the platform's trip command was acknowledged.
    ASSERT_TRUE(WaitFor(
        [&] {
            return Query(db_, "SELECT COUNT(*) FROM meter_status WHERE relay = 2 AND meter_id = " +
                                  meter_a) == 1;
        },
        std::chrono::seconds(120)))
        << Logs();
    for (int kind : {1, 2, 3, 4}) {
        EXPECT_EQ(Query(db_, "SELECT COUNT(*) FROM alarms WHERE kind = " + std::to_string(kind) +
                                 " AND account_id = " + account_a),
                  1)
            << "alarm kind " << kind << "\n"
            << Logs();
    }
    EXPECT_GE(Query(db_,
                    "SELECT COUNT(*) FROM commands WHERE kind = 'trip' AND state = 3 AND "
                    "meter_id = " +
                        meter_a),
              1);

    // A counter top-up closes the relay again: the command goes out, the meter confirms.
    ASSERT_EQ(Shell(std::string(JOULE_BINARY) + " topup --db " + db_.string() +
                    " --project e2e --account S101 --amount 50.00 --key e2e-topup-1 > " +
                    (dir_ / "topup.log").string() + " 2>&1"),
              0)
        << ReadFile(dir_ / "topup.log");
    ASSERT_TRUE(WaitFor(
        [&] {
            return Query(db_, "SELECT COUNT(*) FROM meter_status WHERE relay = 1 AND meter_id = " +
                                  meter_a) == 1 &&
                   Query(db_,
                         "SELECT COUNT(*) FROM commands WHERE kind = 'close' AND state = 3 "
                         "AND meter_id = " +
                             meter_a) >= 1;
        },
        std::chrono::seconds(30)))
        << Logs();

    // gw-b went offline for 12 s (from 8 s after the simulator started): the platform raised a
    // gateway-offline alarm and cleared it when the DTU dialled in again.
    ASSERT_TRUE(WaitFor(
        [&] {
            return Query(db_,
                         "SELECT COUNT(*) FROM alarms WHERE kind = 23 AND open = 0 AND "
                         "gateway_id = (SELECT id FROM gateways WHERE code = 'gw-b')") >= 1;
        },
        std::chrono::seconds(60)))
        << Logs();

    serve.Stop();
    sim.Stop();
    // Nothing billed twice and the ledger balances: every balance equals its transfers, and the
    // balances sum to zero.
    ExpectLedgerBalanced(db_);
    EXPECT_EQ(Query(db_,
                    "SELECT COUNT(*) FROM (SELECT id FROM transfers GROUP BY id HAVING "
                    "COUNT(*) > 1)"),
              0);
}

// gw-a is away for 75 s while its meter freezes its registers every minute. When the DTU dials in
// again the platform reads the freezes newer than its last reading and bills each at its freeze
// time (source = frozen), then the live reading: the billed intervals add up to the register
// exactly, so nothing is billed twice and nothing is lost.
TEST_F(LiveTest, OutageIsBackfilledFromFrozenRegisters) {
    ReopenWith("500.00");
    Process serve(ServeArgs(), dir_ / "serve.log");
    Process sim(SimArgs({"--load-watts", "15000", "--freeze-every-minute", "--offline-gateway",
                         "gw-a", "--offline-after", "6", "--offline-for", "75"}),
                dir_ / "sim.log");
    const std::string meter_a = "(SELECT id FROM meters WHERE code = 'E101')";
    ASSERT_TRUE(WaitFor(
        [&] {
            return Query(db_,
                         "SELECT COUNT(*) FROM readings WHERE source = 1 AND verdict = 1 "
                         "AND meter_id = " +
                             meter_a) >= 1 &&
                   Query(db_, "SELECT COUNT(*) FROM alarms WHERE kind = 23 AND open = 0") >= 1;
        },
        std::chrono::seconds(150)))
        << Logs();
    // A few more live reads after the backfill, then stop and audit.
    std::this_thread::sleep_for(std::chrono::seconds(5));
    serve.Stop();
    sim.Stop();
    const int64_t register_wh =
        Query(db_, "SELECT MAX(total) FROM readings WHERE verdict = 1 AND meter_id = " + meter_a);
    EXPECT_GT(register_wh, 0);
    EXPECT_EQ(
        Query(db_, "SELECT SUM(delta) FROM readings WHERE verdict = 1 AND meter_id = " + meter_a),
        register_wh)
        << Logs();
    ExpectLedgerBalanced(db_);
}

// Zero-commissioning [HIER-4]: a DTU whose meter nobody configured dials in; the platform's
// read-address scan finds the meter and lists it as pending; binding it to a room (the CLI here,
// the console later) makes it live: serve picks it up and reads and bills it.
TEST_F(LiveTest, AnUnknownMeterAppearsPendingAndBindingMakesItLive) {
    Process serve(ServeArgs(), dir_ / "serve.log");
    Process sim(SimArgs({"--load-watts", "2000", "--extra-meter",
                         "gw-c:000000000999:dlt645-2007-1p-prepaid"}),
                dir_ / "sim.log");
    ASSERT_TRUE(WaitFor(
        [&] {
            return Query(db_,
                         "SELECT COUNT(*) FROM pending_devices WHERE bus_address = "
                         "'000000000999'") == 1;
        },
        std::chrono::seconds(40)))
        << Logs();
    const int64_t pending = Query(db_, "SELECT id FROM pending_devices");
    ASSERT_EQ(Shell(std::string(JOULE_BINARY) + " device bind --db " + db_.string() +
                    " --project e2e --pending " + std::to_string(pending) +
                    " --meter E999 --room 102 > " + (dir_ / "bind.log").string() + " 2>&1"),
              0)
        << ReadFile(dir_ / "bind.log");
    EXPECT_EQ(Query(db_, "SELECT COUNT(*) FROM pending_devices"), 0);
    ASSERT_TRUE(WaitFor(
        [&] {
            return Query(db_,
                         "SELECT COUNT(*) FROM readings r JOIN meters m ON m.id = "
                         "r.meter_id WHERE m.code = 'E999' AND r.verdict = 1") >= 2;
        },
        std::chrono::seconds(60)))
        << Logs();
}

// Faults on the line and in the meters are caught, not billed: garbage bytes before replies are
// skipped by the scanner; a meter clock 15 minutes fast raises clock_drift and the platform's time
// sync fixes it (the alarm clears); a meter reset is quarantined as regressed; an impossible load
// on the Modbus meter is quarantined as a spike. The ledger still balances.
TEST_F(LiveTest, FaultsAreCaughtAndNotBilled) {
    ReopenWith("500.00");
    Process serve(ServeArgs(), dir_ / "serve.log");
    Process sim(SimArgs({"--load-watts", "15000", "--garbage", "30", "--fault",
                         "000000000101:clock_drift:900@10", "--fault", "000000000102:reset@20",
                         "--fault", "1:overload:900000@12"}),
                dir_ / "sim.log");
    auto reading_reasons = [&](const std::string& meter, int reason) {
        return Query(db_,
                     "SELECT COUNT(*) FROM readings r JOIN meters m ON m.id = r.meter_id "
                     "WHERE m.code = '" +
                         meter + "' AND r.reason = " + std::to_string(reason));
    };
    // The drifted clock was noticed and then corrected by a time sync.
    ASSERT_TRUE(WaitFor(
        [&] { return Query(db_, "SELECT COUNT(*) FROM alarms WHERE kind = 26 AND open = 0") >= 1; },
        std::chrono::seconds(60)))
        << Logs();
    // The reset meter's register went backwards: quarantined as regressed (6), and the Modbus
    // meter's impossible load as a spike (7).
    ASSERT_TRUE(
        WaitFor([&] { return reading_reasons("E102", 6) >= 1 && reading_reasons("P1", 7) >= 1; },
                std::chrono::seconds(60)))
        << Logs();
    // Garbage never stopped the reads.
    EXPECT_GE(Query(db_,
                    "SELECT COUNT(*) FROM readings r JOIN meters m ON m.id = r.meter_id "
                    "WHERE m.code = 'E101' AND r.verdict = 1"),
              3);
    serve.Stop();
    sim.Stop();
    EXPECT_EQ(Query(db_, "SELECT SUM(balance) FROM ledger_accounts"), 0);
    EXPECT_EQ(Query(db_, "SELECT COUNT(*) FROM readings WHERE verdict = 3 AND deducted <> 0"), 0);
}

// Meter billing [ACCT-1]: S101's meter holds the money. A counter top-up is sent to the meter as a
// purchase with the next purchase count; the meter's first acknowledgement is lost on the line
// (drop_write_reply), so the dispatcher reads the count on the retry, finds the purchase applied
// and confirms it without sending it again. The meter's amount rises exactly once, the platform
// mirrors it, deducts nothing itself, and the ledger balances.
TEST_F(LiveTest, MeterBilledTopUpReachesTheMeterOnceDespiteALostAcknowledgement) {
    meter_billed_ = true;
    ReopenWith("1.00");
    Process serve(ServeArgs(), dir_ / "serve.log");
    Process sim(SimArgs({"--load-watts", "15000", "--fault", "000000000101:drop_write_reply:1"}),
                dir_ / "sim.log");
    const std::string account = "(SELECT id FROM accounts WHERE number = 'S101')";
    // The empty meter is read and mirrored before anything is bought.
    ASSERT_TRUE(WaitFor(
        [&] {
            return Query(db_,
                         "SELECT COUNT(*) FROM accounts WHERE number = 'S101' AND "
                         "meter_remaining_count = 0") == 1;
        },
        std::chrono::seconds(60)))
        << Logs();
    ASSERT_EQ(Shell(std::string(JOULE_BINARY) + " topup --db " + db_.string() +
                    " --project e2e --account S101 --amount 50.00 --key e2e-meter-1 > " +
                    (dir_ / "topup.log").string() + " 2>&1"),
              0)
        << ReadFile(dir_ / "topup.log");
    // Confirmed by the count read back on the retry, not by the (lost) acknowledgement.
    ASSERT_TRUE(WaitFor(
        [&] {
            return Query(db_,
                         "SELECT COUNT(*) FROM commands WHERE kind = 'purchase' AND state = 3") ==
                   1;
        },
        std::chrono::seconds(60)))
        << Logs();
    EXPECT_GE(Query(db_, "SELECT attempts FROM commands WHERE kind = 'purchase'"), 2);
    EXPECT_EQ(Query(db_,
                    "SELECT COUNT(*) FROM operation_log WHERE action = 'purchase.confirm' AND "
                    "detail LIKE '%count read back%'"),
              1);
    // The meter shows the purchase once: count 1 and at most 50.00 yuan (it spends as it meters).
    ASSERT_TRUE(WaitFor(
        [&] {
            return Query(db_, "SELECT meter_remaining_count FROM accounts WHERE number = 'S101'") ==
                   1;
        },
        std::chrono::seconds(60)))
        << Logs();
    const int64_t remaining =
        Query(db_, "SELECT meter_remaining FROM accounts WHERE number = 'S101'");
    EXPECT_GT(remaining, 4000) << Logs();
    EXPECT_LE(remaining, 5000) << Logs();
    // A retried counter top-up (same key) sends nothing more.
    ASSERT_EQ(Shell(std::string(JOULE_BINARY) + " topup --db " + db_.string() +
                    " --project e2e --account S101 --amount 50.00 --key e2e-meter-1 > " +
                    (dir_ / "topup2.log").string() + " 2>&1"),
              0)
        << ReadFile(dir_ / "topup2.log");
    std::this_thread::sleep_for(std::chrono::seconds(5));
    serve.Stop();
    sim.Stop();
    EXPECT_EQ(Query(db_, "SELECT COUNT(*) FROM commands WHERE kind = 'purchase'"), 1);
    EXPECT_EQ(Query(db_, "SELECT purchase_confirmed FROM accounts WHERE number = 'S101'"), 1);
    EXPECT_LE(Query(db_, "SELECT meter_remaining FROM accounts WHERE number = 'S101'"), 5000);
    // Ledger: 50.00 held in the meter, nothing pending, nothing deducted by the platform.
    EXPECT_EQ(
        Query(db_, "SELECT balance FROM ledger_accounts WHERE kind = 5 AND owner_account_id = " +
                       account),
        5000);
    EXPECT_EQ(
        Query(db_, "SELECT balance FROM ledger_accounts WHERE kind = 4 AND owner_account_id = " +
                       account),
        0);
    EXPECT_EQ(Query(db_,
                    "SELECT COUNT(*) FROM transfers t JOIN ledger_accounts l ON l.id = t.debit_id "
                    "WHERE t.code = 3 AND l.owner_account_id = " +
                        account),
              0);
    ExpectLedgerBalanced(db_);
}

}  // namespace
