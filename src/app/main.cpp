// The composition root: `joule` and its subcommands. Wires the SQLite store to the services and
// turns every failure into one clear line on stderr and a non-zero exit.
#include <CLI/CLI.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "app/bench_dtu.hpp"
#include "app/bench_mqtt.hpp"
#include "app/bench_store.hpp"
#include "app/demo.hpp"
#include "app/frame_cli.hpp"
#include "app/live.hpp"
#include "app/readings_csv.hpp"
#include "app/report.hpp"
#include "app/scenario.hpp"
#include "app/serve_config.hpp"
#include "app/site_file.hpp"
#include "base/decimal.hpp"
#include "base/file.hpp"
#include "service/acquisition_service.hpp"
#include "service/billing_service.hpp"
#include "service/site_service.hpp"
#include "sim/sim_site.hpp"
#include "storage/sqlite_store.hpp"

namespace joule::app {
namespace {

Instant Now() { return std::chrono::time_point_cast<Seconds>(std::chrono::system_clock::now()); }

int Fail(const Error& e) {
    std::fprintf(stderr, "joule: %s\n", e.ToString().c_str());
    return 1;
}

Result<std::unique_ptr<storage::SqliteStore>> OpenStore(const std::string& db,
                                                        const std::string& sync) {
    storage::SqliteOptions options;
    options.durability =
        sync == "normal" ? storage::Durability::kNormal : storage::Durability::kFull;
    return storage::SqliteStore::Open(db, options);
}

void PrintJson(const wire::Json& j) { std::cout << j.dump(2) << "\n"; }

Result<Money> ParseMoneyArg(const std::string& text) {
    JOULE_ASSIGN_OR_RETURN(int64_t fen, ParseScaled(text, kMoneyScale, "amount"));
    return Money{fen};
}

// One `joule serve` flag from the settings table, bound to that setting's member of `flags`.
CLI::Option* AddServeFlag(CLI::App& serve, const ServeSetting& setting, ServeOptions& flags) {
    const std::string name(setting.flag);
    const std::string help(setting.help);
    if (const auto* member = std::get_if<bool ServeOptions::*>(&setting.member)) {
        return serve.add_flag(name, flags.**member, help);
    }
    return std::visit(
        [&](auto member) {
            return serve.add_option(name, flags.*member, help)->capture_default_str();
        },
        setting.member);
}

}  // namespace

int Main(int argc, char** argv) {
    CLI::App app{"Joule: remote prepaid electricity and water metering, billing and management"};
    app.require_subcommand(1);
    std::string db = "joule.db";
    std::string sync = "full";
    auto add_db = [&](CLI::App* sub) {
        sub->add_option("--db", db, "SQLite database file")->capture_default_str();
        sub->add_option("--sync", sync, "commit durability: full (default) or normal")
            ->check(CLI::IsMember({"full", "normal"}));
    };

    auto* migrate = app.add_subcommand("migrate", "apply pending schema migrations");
    add_db(migrate);

    auto* site = app.add_subcommand("site", "sites (projects, buildings, rooms, meters, tariffs)");
    site->require_subcommand(1);
    auto* site_create = site->add_subcommand("create", "create a site from a JSON site file");
    std::string site_file;
    site_create->add_option("file", site_file, "site file (docs/site-file.md)")->required();
    add_db(site_create);

    auto* account = app.add_subcommand("account", "accounts (户)");
    account->require_subcommand(1);
    std::string project;
    std::string number;
    auto* account_open = account->add_subcommand("open", "open an account from a JSON file");
    std::string account_file;
    account_open->add_option("file", account_file, "account file (docs/site-file.md)")->required();
    account_open->add_option("--project", project, "project code")->required();
    add_db(account_open);
    auto* account_show = account->add_subcommand("show", "balance, state, meters and ledger");
    int ledger_entries = 20;
    account_show->add_option("--project", project, "project code")->required();
    account_show->add_option("--account", number, "account number")->required();
    account_show->add_option("--ledger", ledger_entries, "ledger entries to show")
        ->capture_default_str();
    add_db(account_show);

    std::string amount;
    std::string channel = "cash";
    std::string key;
    std::string text;
    auto* topup = app.add_subcommand("topup", "counter top-up (充值)");
    topup->add_option("--project", project, "project code")->required();
    topup->add_option("--account", number, "account number")->required();
    topup->add_option("--amount", amount, "yuan, e.g. 100.00")->required();
    topup->add_option("--channel", channel, "cash, pos, transfer ...")->capture_default_str();
    topup
        ->add_option("--key", key,
                     "idempotency key (the receipt number): a retry with the same "
                     "key credits once")
        ->required();
    topup->add_option("--ref", text, "reference printed on the receipt");
    add_db(topup);
    auto* refund = app.add_subcommand("refund", "refund paid credit (退费)");
    refund->add_option("--project", project, "project code")->required();
    refund->add_option("--account", number, "account number")->required();
    refund->add_option("--amount", amount, "yuan")->required();
    refund->add_option("--channel", channel, "cash, pos, transfer ...")->capture_default_str();
    refund->add_option("--key", key, "idempotency key")->required();
    refund->add_option("--reason", text, "why");
    add_db(refund);

    auto* import = app.add_subcommand("import", "bulk imports");
    import->require_subcommand(1);
    auto* import_readings =
        import->add_subcommand("readings", "readings from CSV, one transaction");
    std::string csv_file;
    import_readings->add_option("file", csv_file, "CSV: meter,time,total[,sharp,peak,flat,valley]")
        ->required();
    import_readings->add_option("--project", project, "project code")->required();
    add_db(import_readings);

    auto* simulate =
        app.add_subcommand("simulate", "replay a scenario on a temporary store (试算)");
    std::string scenario_file;
    std::string output;
    simulate->add_option("scenario", scenario_file, "scenario file (docs/scenario-format.md)")
        ->required();
    simulate->add_option("-o,--output", output, "write the JSON here instead of stdout");

    auto* demo = app.add_subcommand("demo", "a sample mall, one month, through the real services");
    DemoOptions demo_options;
    demo->add_option("--db", demo_options.db_path, "SQLite file (recreated)")
        ->capture_default_str();
    demo->add_option("--seed", demo_options.seed, "random seed")->capture_default_str();
    demo->add_option("--days", demo_options.days, "days to replay")->capture_default_str();

    auto* bench = app.add_subcommand("bench", "benchmarks");
    bench->require_subcommand(1);
    auto* bench_store = bench->add_subcommand("store", "billing throughput on SQLite");
    StoreBenchOptions bench_options;
    bench_store->add_option("--db", bench_options.db_path, "SQLite file (recreated)")
        ->capture_default_str();
    bench_store->add_option("--meters", bench_options.meters, "meters and accounts")
        ->capture_default_str();
    bench_store->add_option("--rounds", bench_options.rounds, "readings per meter")
        ->capture_default_str();
    bench_store->add_option("--batch", bench_options.batch, "readings per transaction")
        ->capture_default_str();
    bench_store
        ->add_option("--top-ups", bench_options.top_ups, "single top-ups per durability mode")
        ->capture_default_str();

    auto* bench_dtu = bench->add_subcommand("dtu", "concurrent DTU connections on loopback");
    DtuBenchOptions dtu_bench;
    bench_dtu->add_option("--db", dtu_bench.db_path, "SQLite file (recreated)")
        ->capture_default_str();
    bench_dtu->add_option("--connections", dtu_bench.connections, "DTUs")->capture_default_str();
    bench_dtu->add_option("--seconds", dtu_bench.hold_seconds, "hold time")->capture_default_str();
    bench_dtu->add_option("--interval", dtu_bench.read_interval_s, "read interval, s")
        ->capture_default_str();
    bench_dtu->add_option("--clients", dtu_bench.clients, "process, thread or client-only")
        ->capture_default_str();
    bench_dtu->add_option("--sync", dtu_bench.sync, "store durability: full or normal")
        ->capture_default_str();

    auto* bench_mqtt = bench->add_subcommand("mqtt", "MQTT ingest end to end on loopback");
    MqttBenchOptions mqtt_bench;
    bench_mqtt->add_option("--db", mqtt_bench.db_path, "SQLite file (recreated)")
        ->capture_default_str();
    bench_mqtt->add_option("--meters", mqtt_bench.meters, "meters and accounts")
        ->capture_default_str();
    bench_mqtt->add_option("--gateways", mqtt_bench.gateways, "MQTT gateways")
        ->capture_default_str();
    bench_mqtt->add_option("--batch", mqtt_bench.batch, "readings per message")
        ->capture_default_str();
    bench_mqtt->add_option("--rate", mqtt_bench.rate, "readings/s published")
        ->capture_default_str();
    bench_mqtt->add_option("--seconds", mqtt_bench.seconds, "publishing time")
        ->capture_default_str();
    bench_mqtt->add_option("--sync", mqtt_bench.sync, "store durability: full or normal")
        ->capture_default_str();
    bench_mqtt->add_flag("--profile-sql", mqtt_bench.profile_sql,
                         "time every SQL statement of the writer and print the costliest");
    bench_mqtt->add_option("--gather-ms", mqtt_bench.gather_ms,
                           "group commit: the ingest starts a commit at most this often, 0..1000 "
                           "(default the ingest's, 100)");

    auto* admin = app.add_subcommand("admin", "users of the HTTP API and the console");
    admin->require_subcommand(1);
    auto* admin_create = admin->add_subcommand("create", "create a user");
    AdminCreateOptions admin_options;
    admin_create->add_option("--db", admin_options.db_path, "SQLite file")->capture_default_str();
    admin_create->add_option("--username", admin_options.username, "user name")->required();
    admin_create->add_option("--password", admin_options.password,
                             "password (default: one line from stdin)");
    admin_create
        ->add_option("--role", admin_options.role,
                     "admin, commercial, finance, engineering, tenant or a custom role's code")
        ->capture_default_str();
    admin_create->add_flag("--all-projects", admin_options.all_projects,
                           "a group user: every project");
    admin_create->add_option("--project", admin_options.projects, "a project code (repeat)");

    auto* serve = app.add_subcommand("serve", "HTTP API, acquisition and billing");
    std::string serve_config;
    serve->add_option("--config", serve_config,
                      "TOML file of settings (docs/configuration.md); flags override it");
    ServeOptions serve_flags;  // what the command line says; defaults where it says nothing
    std::vector<std::pair<CLI::Option*, std::string>> serve_keys;
    for (const ServeSetting& setting : ServeSettings()) {
        serve_keys.emplace_back(AddServeFlag(*serve, setting, serve_flags), setting.key);
    }

    auto* sim = app.add_subcommand("sim", "play the site's meters and gateways over TCP");
    SimOptions sim_options;
    sim->add_option("--db", sim_options.db_path, "SQLite file of the site")->capture_default_str();
    sim->add_option("--dtu-connect", sim_options.dtu_connect, "the platform's DTU listener")
        ->capture_default_str();
    sim->add_option("--speed", sim_options.speed, "load speed-up")->capture_default_str();
    sim->add_option("--loss", sim_options.loss_percent, "percent of requests lost")
        ->check(CLI::Range(0, 100));
    sim->add_option("--offline-gateway", sim_options.offline_gateway, "gateway to take offline");
    sim->add_option("--offline-after", sim_options.offline_after_s, "seconds before the outage");
    sim->add_option("--offline-for", sim_options.offline_for_s, "outage length in seconds");
    sim->add_option("--run-for", sim_options.run_for_s, "stop after this many seconds");
    sim->add_option("--load-watts", sim_options.load_watts,
                    "every circuit draws this many W (default: load profiles by hour)");
    sim->add_flag("--freeze-every-minute", sim_options.freeze_every_minute,
                  "meters freeze registers every minute instead of at midnight");
    sim->add_option("--extra-meter", sim_options.extra_meters,
                    "an unconfigured meter: gateway:bus_address:model (repeatable)");
    sim->add_option(
        "--fault", sim_options.faults,
        "bus_address:kind[:value][@after_s]; kinds: " + sim::FaultKindNames() + " (repeatable)");
    sim->add_option("--garbage", sim_options.garbage_percent,
                    "percent of replies preceded by garbage bytes")
        ->check(CLI::Range(0, 100));
    sim->add_option("--mqtt", sim_options.mqtt,
                    "MQTT broker host:port: play the site's MQTT gateways");
    sim->add_option("--mqtt-credentials", sim_options.mqtt_credentials,
                    "credentials file of joule mqtt-auth (one line per gateway)");
    sim->add_option("--mqtt-cafile", sim_options.mqtt_cafile, "CA file: connect with TLS");
    sim->add_option("--mqtt-prefix", sim_options.mqtt_prefix, "topic prefix (as mqtt-auth)")
        ->capture_default_str();
    sim->add_option("--mqtt-interval", sim_options.mqtt_read_interval_s,
                    "seconds between an MQTT gateway's reads of its meters")
        ->capture_default_str()
        ->check(CLI::Range(1, 86400));

    auto* mqtt_auth = app.add_subcommand(
        "mqtt-auth", "broker credentials for the MQTT gateways: mosquitto password/ACL files");
    MqttAuthCliOptions mqtt_auth_options;
    mqtt_auth->add_option("--db", mqtt_auth_options.db_path, "SQLite file of the site")
        ->capture_default_str();
    mqtt_auth->add_option("--dir", mqtt_auth_options.dir, "writes passwd, acl and credentials")
        ->required();
    mqtt_auth
        ->add_option("--prefix", mqtt_auth_options.topic_prefix,
                     "topic prefix (give serve and sim the same --mqtt-prefix)")
        ->capture_default_str();
    mqtt_auth
        ->add_option("--platform-user", mqtt_auth_options.platform_username,
                     "the platform's broker account")
        ->capture_default_str();
    mqtt_auth
        ->add_option("--mosquitto-passwd", mqtt_auth_options.mosquitto_passwd,
                     "the mosquitto_passwd binary")
        ->capture_default_str();

    auto* device =
        app.add_subcommand("device", "devices: pending (zero-commissioning) and binding");
    device->require_subcommand(1);
    auto* device_pending = device->add_subcommand("pending", "devices found but not configured");
    device_pending->add_option("--project", project, "project code")->required();
    add_db(device_pending);
    auto* device_bind = device->add_subcommand("bind", "bind a pending device: it goes live");
    AcquisitionService::BindRequest bind;
    device_bind->add_option("--project", bind.project_code, "project code")->required();
    device_bind->add_option("--pending", bind.pending_id, "pending device id")->required();
    device_bind->add_option("--meter", bind.meter_code, "the new meter's code")->required();
    device_bind->add_option("--room", bind.room_code, "room code");
    device_bind->add_option("--model", bind.model_code, "model code (default: as detected)");
    device_bind->add_flag("--public", bind.public_area, "a public-area meter");
    add_db(device_bind);

    auto* demo_site =
        app.add_subcommand("demo-site", "create the live demo mall (joule serve + sim)");
    LiveSiteOptions site_options;
    demo_site->add_option("--db", site_options.db_path, "SQLite file (recreated)")
        ->capture_default_str();
    demo_site->add_option("--models", site_options.models_dir, "meter model files")
        ->capture_default_str();
    demo_site->add_option("--shops", site_options.shops, "prepaid shop meters")
        ->capture_default_str();
    demo_site->add_option("--public", site_options.public_meters, "public-area meters")
        ->capture_default_str();
    demo_site->add_option("--water", site_options.water_meters, "water meters")
        ->capture_default_str();
    demo_site
        ->add_option("--mqtt-meters", site_options.mqtt_meters,
                     "shops on an MQTT gateway, 0.." + std::to_string(kMaxMqttMeters))
        ->capture_default_str()
        ->check(CLI::Range(0, kMaxMqttMeters));
    demo_site
        ->add_option("--modbus-port", site_options.modbus_port,
                     "port of the simulated Modbus-TCP gateway")
        ->capture_default_str();

    // frame (DEV-6): decode captures / encode frames; its own parser, so bad usage exits 2.
    app.add_subcommand("frame", "decode hex captures to JSON, encode JSON to frames");
    if (argc > 1 && std::string_view(argv[1]) == "frame") {
        return RunFrameCli(argc - 1, argv + 1);
    }

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }

    if (migrate->parsed()) {
        auto store = OpenStore(db, sync);
        if (!store) {
            return Fail(store.error());
        }
        auto version = (*store)->SchemaVersion();
        if (!version) {
            return Fail(version.error());
        }
        std::printf("schema version %d\n", *version);
        return 0;
    }
    if (simulate->parsed()) {
        auto scenario = ReadJsonFile(scenario_file);
        if (!scenario) {
            return Fail(scenario.error());
        }
        auto result = RunScenario(*scenario);
        if (!result) {
            return Fail(result.error());
        }
        if (!output.empty()) {
            std::ofstream(output) << result->dump(2) << "\n";
            return 0;
        }
        PrintJson(*result);
        return 0;
    }
    if (demo->parsed()) {
        auto done = RunDemo(demo_options);
        return done ? 0 : Fail(done.error());
    }
    if (admin_create->parsed()) {
        auto done = RunAdminCreate(admin_options);
        return done ? 0 : Fail(done.error());
    }
    if (serve->parsed()) {
        std::vector<std::string> given;
        for (const auto& [option, setting_key] : serve_keys) {
            if (option->count() > 0) {
                given.push_back(setting_key);
            }
        }
        auto options = ResolveServeOptions(serve_config, serve_flags, given);
        if (!options) {
            return Fail(options.error());
        }
        auto done = RunServe(*options);
        return done ? 0 : Fail(done.error());
    }
    if (sim->parsed()) {
        auto done = RunSim(sim_options);
        return done ? 0 : Fail(done.error());
    }
    if (demo_site->parsed()) {
        auto done = InitLiveSite(site_options);
        return done ? 0 : Fail(done.error());
    }
    if (mqtt_auth->parsed()) {
        auto done = RunMqttAuth(mqtt_auth_options);
        return done ? 0 : Fail(done.error());
    }
    if (bench_dtu->parsed()) {
        auto done = RunDtuBench(dtu_bench);
        return done ? 0 : Fail(done.error());
    }
    if (bench_mqtt->parsed()) {
        auto done = RunMqttBench(mqtt_bench);
        return done ? 0 : Fail(done.error());
    }
    if (bench_store->parsed()) {
        auto done = RunStoreBench(bench_options);
        return done ? 0 : Fail(done.error());
    }

    auto store = OpenStore(db, sync);
    if (!store) {
        return Fail(store.error());
    }
    BillingService billing(**store);
    const Actor actor{"cli"};
    const Instant now = Now();

    if (device_pending->parsed()) {
        auto tx = (*store)->Begin();
        if (!tx) {
            return Fail(tx.error());
        }
        auto found = (*tx)->FindProject(project);
        if (!found || !*found) {
            return Fail(Error{ErrorCode::kNotFound, "no project " + project, "project"});
        }
        auto pending = (*tx)->ListPendingDevices((**found).id);
        if (!pending) {
            return Fail(pending.error());
        }
        wire::Json list = wire::Json::array();
        for (const PendingDeviceRecord& d : *pending) {
            auto gateway = (*tx)->GetGateway(d.gateway);
            list.push_back({{"id", d.id},
                            {"gateway", gateway ? gateway->code : ""},
                            {"bus_address", d.bus_address},
                            {"model", d.model_code},
                            {"serial", d.serial},
                            {"params", wire::Json::parse(d.params, nullptr, false)},
                            {"first_seen", FormatInstant(d.first_seen)},
                            {"last_seen", FormatInstant(d.last_seen)}});
        }
        PrintJson(list);
        return 0;
    }
    if (device_bind->parsed()) {
        AcquisitionService acquisition(**store, billing);
        auto id = acquisition.BindPendingDevice(bind, actor, now);
        if (!id) {
            return Fail(id.error());
        }
        std::printf("bound meter %s; joule serve picks it up within seconds\n",
                    bind.meter_code.c_str());
        return 0;
    }
    if (site_create->parsed()) {
        auto file = ReadJsonFile(site_file);
        if (!file) {
            return Fail(file.error());
        }
        auto spec = ParseSite(*file);
        if (!spec) {
            return Fail(spec.error());
        }
        auto summary = CreateSite(**store, *spec, actor, now);
        if (!summary) {
            return Fail(summary.error());
        }
        std::printf("created project %s: %zu rooms, %zu meters, %zu tariffs\n",
                    spec->project.code.c_str(), summary->rooms, summary->meters, summary->tariffs);
        return 0;
    }
    if (account_open->parsed()) {
        auto file = ReadJsonFile(account_file);
        if (!file) {
            return Fail(file.error());
        }
        auto request = ParseOpenAccount(*file, "", project);
        if (!request) {
            return Fail(request.error());
        }
        auto id = billing.OpenAccount(*request, actor, now);
        if (!id) {
            return Fail(id.error());
        }
        std::printf("opened account %s\n", request->number.c_str());
        return 0;
    }
    if (account_show->parsed()) {
        auto report = AccountReport(**store, billing, project, number, ledger_entries);
        if (!report) {
            return Fail(report.error());
        }
        PrintJson(*report);
        return 0;
    }
    if (topup->parsed() || refund->parsed()) {
        auto money = ParseMoneyArg(amount);
        if (!money) {
            return Fail(money.error());
        }
        if (topup->parsed()) {
            auto result = billing.TopUp({project, number, *money, channel, key, text}, actor, now);
            if (!result) {
                return Fail(result.error());
            }
            std::printf(
                "%s %s yuan; balance %s, state %s\n",
                result->outcome == TopUpOutcome::kCredited ? "credited" : "already credited",
                wire::MoneyText(result->credited).c_str(),
                wire::MoneyText(result->balance_after).c_str(),
                std::string(PrepaidStateName(result->state)).c_str());
        } else {
            auto result = billing.Refund({project, number, *money, channel, key, text}, actor, now);
            if (!result) {
                return Fail(result.error());
            }
            std::printf("refunded %s yuan\n", wire::MoneyText(*result).c_str());
        }
        return 0;
    }
    if (import_readings->parsed()) {
        auto csv = ReadFileText(csv_file, "file");
        if (!csv) {
            return Fail(csv.error());
        }
        auto items = ParseReadingsCsv(*csv, project, now);
        if (!items) {
            return Fail(items.error());
        }
        auto result = billing.ApplyReadings(*items, now);
        if (!result) {
            return Fail(result.error());
        }
        std::printf(
            "%zu readings: %zu accepted, %zu duplicates, %zu quarantined; deducted %s yuan\n",
            items->size(), result->accepted, result->duplicates, result->quarantined,
            wire::MoneyText(result->deducted).c_str());
        return 0;
    }
    return 0;
}

}  // namespace joule::app

int main(int argc, char** argv) { return joule::app::Main(argc, argv); }
