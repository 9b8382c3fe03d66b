#include "app/live.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <thread>

#include "api/api.hpp"
#include "api/http_server.hpp"
#include "api/http_util.hpp"
#include "api/static_files.hpp"
#include "app/mqtt_credentials.hpp"
#include "app/notifier.hpp"
#include "app/payment_querier.hpp"
#include "app/payments.hpp"
#include "app/serve_config.hpp"
#include "app/site_file.hpp"
#include "app/statement_fetcher.hpp"
#include "base/host_port.hpp"
#include "ingest/mqtt_gateway.hpp"
#include "ingest/runtime.hpp"
#include "service/acquisition_service.hpp"
#include "service/billing_service.hpp"
#include "service/site_service.hpp"
#include "sim/sim_site.hpp"
#include "storage/sqlite_store.hpp"
#include "wire/json.hpp"
#include "wire/model_json.hpp"

namespace joule::app {

namespace {

using Json = nlohmann::json;

Instant WallNow() {
    return std::chrono::time_point_cast<Seconds>(std::chrono::system_clock::now());
}

volatile std::sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

void WaitFor(int64_t run_for_s, const std::function<void()>& every_second) {
    std::signal(SIGINT, OnSignal);
    std::signal(SIGTERM, OnSignal);
    const auto start = std::chrono::steady_clock::now();
    while (g_stop == 0) {
        std::this_thread::sleep_for(std::chrono::seconds(1));
        every_second();
        if (run_for_s > 0 &&
            std::chrono::steady_clock::now() - start >= std::chrono::seconds(run_for_s)) {
            break;
        }
    }
}

constexpr const char* kFlatTariff = R"({"name": "商业电价 Commercial",
  "versions": [{"effective_from": "2026-01-01T00:00:00+08:00", "price": "1.2000"}]})";
constexpr const char* kWaterTariff = R"({"name": "水价 Water", "utility": "water",
  "versions": [{"effective_from": "2026-01-01T00:00:00+08:00", "price": "4.5000"}]})";

}  // namespace

Status InitLiveSite(const LiveSiteOptions& o) {
    if (o.mqtt_meters < 0 || o.mqtt_meters > kMaxMqttMeters) {
        return InvalidArgument("mqtt_meters", "must be 0.." + std::to_string(kMaxMqttMeters) +
                                                  " (rooms A401..A499), got " +
                                                  std::to_string(o.mqtt_meters));
    }
    const auto parent = std::filesystem::path(o.db_path).parent_path();
    if (!parent.empty())
        std::filesystem::create_directories(parent);
    for (const char* suffix : {"", "-wal", "-shm"})
        std::filesystem::remove(o.db_path + suffix);
    JOULE_ASSIGN_OR_RETURN(auto store, storage::SqliteStore::Open(o.db_path, {}));
    const Instant now = WallNow();
    const Actor staff{"demo-setup"};

    SiteSpec site;
    site.project = {{}, "demo-mall", "万象汇示范商场 Demo Mall", std::string(kDefaultTimeZone)};
    for (const char* code :
         {"dlt645-2007-1p-prepaid", "eastron-sdm630", "cjt188-cold-water-valve"}) {
        JOULE_ASSIGN_OR_RETURN(wire::ParsedModel model, LoadModelFile(o.models_dir, code));
        site.models.push_back(model.record);
    }
    for (int g = 1; g <= 3; ++g) {
        GatewayRecord gateway;
        gateway.code = "gw-dtu-" + std::to_string(g);
        gateway.name = std::to_string(g) + "F 4G DTU";
        gateway.transport = "dtu";
        gateway.endpoint = "86000000000000" + std::to_string(g);
        site.gateways.push_back(gateway);
    }
    GatewayRecord modbus;
    modbus.code = "gw-modbus";
    modbus.name = "配电房 Modbus-TCP gateway";
    modbus.transport = "modbus_tcp";
    modbus.framing = "mbap";
    modbus.endpoint = "127.0.0.1:" + std::to_string(o.modbus_port);
    site.gateways.push_back(modbus);
    GatewayRecord water;
    water.code = "gw-dtu-water";
    water.name = "水表 DTU";
    water.transport = "dtu";
    water.endpoint = "860000000000009";
    site.gateways.push_back(water);
    if (o.mqtt_meters > 0) {
        GatewayRecord mqtt;
        mqtt.code = "gw-mqtt";
        mqtt.name = "4F MQTT edge gateway";
        mqtt.transport = "mqtt";
        mqtt.endpoint = "gw-mqtt";  // its MQTT client id
        site.gateways.push_back(mqtt);
    }

    JOULE_ASSIGN_OR_RETURN(Tariff flat, wire::TariffFromJson(Json::parse(kFlatTariff), "tariff"));
    JOULE_ASSIGN_OR_RETURN(Tariff water_tariff,
                           wire::TariffFromJson(Json::parse(kWaterTariff), "tariff"));
    site.tariffs.push_back({{}, {}, "commercial", flat});
    site.tariffs.push_back({{}, {}, "water", water_tariff});
    SiteSpec::Building building;
    building.building.code = "A";
    building.building.name = "A座";
    const int floors = o.mqtt_meters > 0 ? 4 : 3;
    for (int f = 1; f <= floors; ++f) {
        SiteSpec::Floor floor;
        floor.floor.code = "A-" + std::to_string(f) + "F";
        floor.floor.name = std::to_string(f) + "F";
        building.floors.push_back(floor);
    }
    std::vector<std::string> shop_meters;
    for (int i = 0; i < o.shops; ++i) {
        const int f = i % 3;
        char room[16];
        std::snprintf(room, sizeof room, "A%d%02d", f + 1, i / 3 + 1);
        building.floors[static_cast<std::size_t>(f)].rooms.push_back(
            {{}, {}, {}, room, std::string("Shop ") + room, 4000});
        SiteSpec::Meter m;
        char address[16];
        std::snprintf(address, sizeof address, "%012d", 100000 + i);
        m.meter.code = std::string("E-") + room;
        m.meter.bus_address = address;
        m.model_code = "dlt645-2007-1p-prepaid";
        m.gateway_code = "gw-dtu-" + std::to_string(f + 1);
        m.room_code = room;
        site.meters.push_back(m);
        shop_meters.push_back(m.meter.code);
    }
    // The 4th floor's shops hang on an MQTT edge gateway that reads them itself and pushes.
    for (int i = 0; i < o.mqtt_meters; ++i) {
        char room[16];
        std::snprintf(room, sizeof room, "A4%02d", i + 1);
        building.floors[3].rooms.push_back({{}, {}, {}, room, std::string("Shop ") + room, 4000});
        SiteSpec::Meter m;
        char address[16];
        std::snprintf(address, sizeof address, "%012d", 300000 + i);
        m.meter.code = std::string("E-") + room;
        m.meter.bus_address = address;
        m.model_code = "dlt645-2007-1p-prepaid";
        m.gateway_code = "gw-mqtt";
        m.room_code = room;
        site.meters.push_back(m);
        shop_meters.push_back(m.meter.code);
    }
    for (int i = 0; i < o.public_meters && i < 247; ++i) {
        SiteSpec::Meter m;
        m.meter.code = "P-" + std::to_string(i + 1);
        m.meter.bus_address = std::to_string(i + 1);
        m.meter.public_area = true;
        m.model_code = "eastron-sdm630";
        m.gateway_code = "gw-modbus";
        m.tariff_code = "commercial";
        site.meters.push_back(m);
    }
    for (int i = 0; i < o.water_meters && i < o.shops; ++i) {
        SiteSpec::Meter m;
        char address[16];
        std::snprintf(address, sizeof address, "%014d", 200000 + i);
        m.meter.code = "W-" + shop_meters[static_cast<std::size_t>(i)].substr(2);
        m.meter.bus_address = address;
        m.model_code = "cjt188-cold-water-valve";
        m.gateway_code = "gw-dtu-water";
        m.tariff_code = "water";
        site.meters.push_back(m);
    }
    site.buildings.push_back(building);
    JOULE_ASSIGN_OR_RETURN(SiteSummary summary, CreateSite(*store, site, staff, now));
    (void)summary;

    BillingService billing(*store);
    for (std::size_t i = 0; i < shop_meters.size(); ++i) {
        const std::string& meter = shop_meters[i];
        OpenAccountRequest open;
        open.project_code = site.project.code;
        open.number = "S" + meter.substr(2);
        open.tenant_name = "租户 Tenant " + open.number;
        // 13800000001 for the first shop, and so on: the phone its tenant signs in with at /m/.
        const std::string index = std::to_string(i + 1);
        open.phone = "1380000" + std::string(index.size() < 4 ? 4 - index.size() : 0, '0') + index;
        open.tariff_code = "commercial";
        // Balances of a few yuan: at `joule sim --speed 4` a shop draws about 14 kW (16.8 yuan an
        // hour), so alarms fire within minutes and the first trips follow.
        open.scheme.alarm1 = Money{500};
        open.scheme.alarm2 = Money{300};
        open.scheme.alarm3 = Money{100};
        open.scheme.restore = Money{100};
        open.meters.push_back({meter, Quantity{0}, std::nullopt});
        if (i < static_cast<std::size_t>(o.water_meters))
            open.meters.push_back({"W-" + meter.substr(2), Quantity{0}, std::nullopt});
        open.first_top_up = Money{o.first_top_up_fen > 0 ? o.first_top_up_fen
                                                         : 250 + 50 * static_cast<int64_t>(i % 10)};
        open.opened_at = now;
        JOULE_TRY(billing.OpenAccount(open, staff, now));
    }
    std::printf(
        "demo site: %d shops on 3 DTUs, %d public meters on a Modbus-TCP gateway, %d water "
        "meters on a DTU, %d shops on an MQTT gateway -> %s\n",
        o.shops, o.public_meters, o.water_meters, o.mqtt_meters, o.db_path.c_str());
    return {};
}

Status RunServe(const ServeOptions& o) {
    const bool tls = !o.tls_cert.empty() || !o.tls_key.empty();
    if (tls && !o.http_listen.empty()) {
        // A certificate that cannot be used stops serve before the store opens or a port binds.
        JOULE_TRY(api::CheckTlsFiles(o.tls_cert, o.tls_key));
    }
    // Payment keys are read and checked before the store opens: a bad one stops serve here.
    JOULE_ASSIGN_OR_RETURN(Payments payments, MakePayments(o));
    JOULE_ASSIGN_OR_RETURN(auto store, storage::SqliteStore::Open(o.db_path, {}));
    BillingService billing(*store);
    AcquisitionService acquisition(*store, billing);
    // Alarms and top-up notices to tenants and staff [ALM-3]; stopped before the store closes.
    JOULE_ASSIGN_OR_RETURN(std::unique_ptr<Notifier> notifier, Notifier::Make(*store, o, WallNow));
    notifier->Start();
    // Orders unpaid a few minutes after they were made are asked about at their provider
    // [PAY-4]; its own PaymentService, as the API has its own: the store serializes them.
    PaymentService query_payments(*store, billing, PaymentOptions{.sandbox = o.payments_sandbox});
    PaymentQueryOptions query_options;
    query_options.after = Seconds{o.payments_query_after_s};
    PaymentQuerier querier(*store, query_payments, payments.clients, query_options);
    // And each morning the providers' statements of the day before are fetched and reconciled
    // [PAY-3].
    StatementSources statement_sources = StatementSourcesOf(payments.clients);
    if (o.payments_sandbox) {
        statement_sources.emplace("sandbox", SandboxStatementSource(*store));
    }
    StatementFetcher statements(*store, query_payments, statement_sources);
    PaymentQueryLoop query_loop(querier, &statements, WallNow);
    if (!querier.empty()) {
        query_loop.Start();
    }
    ingest::RuntimeOptions options;
    options.dtu_listen = o.dtu_listen;
    options.read_interval_override_s = o.read_interval_s;
    BusStatistics bus_statistics;  // before its writers: they are stopped first
    ingest::Runtime runtime(*store, acquisition, options, WallNow);
    runtime.SetBusStatistics(&bus_statistics);
    std::unique_ptr<ingest::MqttIngest> mqtt;
    if (!o.mqtt.empty()) {
        ingest::MqttOptions mqtt_options;
        JOULE_ASSIGN_OR_RETURN(HostPort broker,
                               ParseHostPort(o.mqtt, "mqtt", PortUse::kConnect,
                                             static_cast<std::uint16_t>(mqtt_options.port)));
        mqtt_options.host = broker.host;
        mqtt_options.port = broker.port;
        mqtt_options.username = o.mqtt_user;
        mqtt_options.password = o.mqtt_password;
        if (mqtt_options.password.empty() && !o.mqtt_credentials.empty()) {
            JOULE_ASSIGN_OR_RETURN(Credentials credentials,
                                   ReadCredentialsFile(o.mqtt_credentials));
            auto mine = credentials.find(o.mqtt_user);
            if (mine == credentials.end())
                return NotFound("no " + o.mqtt_user + " line in " + o.mqtt_credentials,
                                "mqtt_credentials");
            mqtt_options.password = mine->second;
        }
        if (mqtt_options.password.empty()) {
            // The broker refuses an anonymous platform; without this the ingest would retry
            // forever.
            return InvalidArgument("mqtt_password",
                                   "--mqtt needs --mqtt-password or --mqtt-credentials");
        }
        mqtt_options.tls_cafile = o.mqtt_cafile;
        mqtt_options.topic_prefix = o.mqtt_prefix;
        mqtt_options.tls_capath = o.mqtt_capath;
        mqtt_options.tls_certfile = o.mqtt_certfile;
        mqtt_options.tls_keyfile = o.mqtt_keyfile;
        mqtt = std::make_unique<ingest::MqttIngest>(*store, acquisition, mqtt_options, WallNow);
        mqtt->set_bus_statistics(&bus_statistics);
        JOULE_TRY(mqtt->Start());
        runtime.SetCommandSink(mqtt.get());
    }
    JOULE_TRY(runtime.Start());
    api::ApiOptions api_options;
    api_options.secure_cookies = o.secure_cookies || tls;
    api_options.access_log = o.access_log;
    api_options.clock = WallNow;
    api_options.web_root = o.web_root;
    api_options.bus_statistics = &bus_statistics;
    api_options.payments = std::move(payments.gateway);
    // Statements on demand from the same sources as the morning's, the sandbox's too.
    for (const auto& [provider, source] : statement_sources) {
        api_options.payments.statement_providers.push_back(provider);
    }
    api_options.payments.download_statement =
        [statement_sources](std::string_view provider, CivilDate day,
                            Instant now) -> Result<std::optional<std::string>> {
        const auto source = statement_sources.find(provider);
        if (source == statement_sources.end()) {
            return FailedPrecondition(
                "this server fetches no statements from " + std::string(provider), "provider");
        }
        return source->second(day, now);
    };
    api_options.notify_channels = notifier->Channels();
    api_options.tenant_show_codes = o.tenant_show_codes;
    {
        const std::vector<std::string> sending = notifier->Channels();
        api_options.tenant_codes_by_sms =
            std::find(sending.begin(), sending.end(), "sms") != sending.end() &&
            std::any_of(o.sms_templates.begin(), o.sms_templates.end(),
                        [](const std::string& t) { return t.starts_with("verification_code="); });
    }
    JOULE_ASSIGN_OR_RETURN(api_options.tenant_top_up_presets_fen,
                           TenantPresetsFen(o.tenant_top_up_presets));
    api_options.extra_metrics = [&store = *store] {
        const storage::SqliteStore::GroupStats s = store.group_stats();
        return api::PrometheusCounter("joule_store_group_commits_total",
                                      "Group commits run: each commits the writes waiting at that "
                                      "moment, one or more.",
                                      s.groups) +
               api::PrometheusCounter("joule_store_group_works_total",
                                      "Writes committed through group commit.", s.works);
    };
    api::Api api(*store, *store, billing, acquisition, api_options);
    std::unique_ptr<api::HttpServer> http;
    if (!o.http_listen.empty()) {
        JOULE_ASSIGN_OR_RETURN(auto first_admin, api.EnsureFirstAdmin());
        if (first_admin) {
            std::printf(
                "joule serve: first start, created user 'admin' with password %s "
                "(shown once; change it after signing in)\n",
                first_admin->c_str());
        }
        api::HttpServerOptions http_options;
        http_options.listen = o.http_listen;
        http_options.threads = o.http_threads;
        http_options.write_threads = o.http_write_threads;
        http_options.tls_cert_file = o.tls_cert;
        http_options.tls_key_file = o.tls_key;
        http_options.trusted_proxies = o.trusted_proxies;
        // Imports take files larger than the 1 MiB every other body is held to.
        http_options.body_limit_of = [&api](std::string_view method, std::string_view target) {
            return api.BodyLimitOf(method, target);
        };
        http = std::make_unique<api::HttpServer>(
            http_options, [&api](const api::HttpRequest& r) { return api.Handle(r); });
        JOULE_TRY(http->Start());
        std::printf("joule serve: HTTP API on %s://%s:%u/api/v1 (OpenAPI /api/v1/openapi.json)\n",
                    http->tls() ? "https" : "http", http->host().c_str(), http->port());
        if (!o.web_root.empty()) {
            // Not an error: the API works without the console, which may be built later.
            if (api::StaticFiles(o.web_root).Built()) {
                std::printf("joule serve: web console at / and tenants' pages at /m/ from %s\n",
                            o.web_root.c_str());
            } else {
                std::printf("joule serve: no web console in %s (no index.html): run `make web`\n",
                            o.web_root.c_str());
            }
        }
    }
    std::printf("joule serve: store %s, DTU listener on port %u%s\n", o.db_path.c_str(),
                runtime.dtu_port(),
                o.read_interval_s > 0
                    ? (", reading every " + std::to_string(o.read_interval_s) + " s").c_str()
                    : "");
    {
        const std::vector<std::string> sending = notifier->Channels();
        std::string channels;
        for (const std::string& c : sending) {
            channels += (channels.empty() ? "" : ", ") + c;
        }
        std::printf("joule serve: notifications on %s\n",
                    channels.empty() ? "no channel" : channels.c_str());
        std::string taking;
        for (const std::string& p : api_options.payments.providers) {
            taking += (taking.empty() ? "" : ", ") + p;
        }
        std::printf("joule serve: payment orders at %s%s\n",
                    taking.empty() ? "no provider" : taking.c_str(),
                    api_options.payments.wechat_openid ? " (WeChat JSAPI with OAuth)" : "");
        if ((!o.wechat_app_id.empty() || !o.alipay_app_id.empty()) && o.public_url.empty()) {
            std::printf(
                "joule serve: http.public_url is not set: WeChat Pay and Alipay notifications are "
                "verified, but no orders are made there\n");
        }
        if (o.tenant_show_codes) {
            std::printf(
                "joule serve: DEMO ONLY: tenants' sign-in codes are shown in the answer "
                "(--tenant-show-codes)\n");
        } else if (!api_options.tenant_codes_by_sms) {
            std::printf(
                "joule serve: no SMS channel with a verification_code template: tenants cannot "
                "sign in at /m/\n");
        }
    }
    std::fflush(stdout);
    int64_t seconds = 0;
    const ingest::RuntimeStats& stats = runtime.stats();
    WaitFor(o.run_for_s, [&] {
        if (++seconds % o.report_every_s != 0)
            return;
        int64_t open_alarms = 0;
        int64_t tripped = 0;
        if (auto tx = store->Begin()) {
            if (auto projects = (*tx)->ListProjects()) {
                for (const ProjectRecord& p : *projects) {
                    if (auto alarms = (*tx)->ListAlarms(p.id, true)) {
                        open_alarms += static_cast<int64_t>(alarms->size());
                    }
                    if (auto accounts = (*tx)->ListAccounts(p.id)) {
                        for (const AccountRecord& a : *accounts) {
                            tripped += a.prepaid.relay == Relay::kOpen ? 1 : 0;
                        }
                    }
                }
            }
        }
        const std::string mqtt_line =
            mqtt ? ", MQTT readings " + std::to_string(mqtt->stats().readings.load()) +
                       (mqtt->connected() ? "" : " (broker not connected)")
                 : "";
        std::printf(
            "[%4llds] links %lld, reads ok %lld failed %lld, frames rejected %lld%s, "
            "commands sent %lld acked %lld, open alarms %lld, accounts tripped %lld\n",
            static_cast<long long>(seconds), static_cast<long long>(stats.connections.load()),
            static_cast<long long>(stats.reads_ok.load()),
            static_cast<long long>(stats.reads_failed.load()),
            static_cast<long long>(stats.frames_rejected.load()), mqtt_line.c_str(),
            static_cast<long long>(stats.commands_sent.load()),
            static_cast<long long>(stats.commands_acknowledged.load()),
            static_cast<long long>(open_alarms), static_cast<long long>(tripped));
        std::fflush(stdout);
    });
    if (http)
        http->Stop();
    runtime.Stop();
    if (mqtt)
        mqtt->Stop();
    return {};
}

Status RunAdminCreate(const AdminCreateOptions& o) {
    JOULE_ASSIGN_OR_RETURN(auto store, storage::SqliteStore::Open(o.db_path, {}));
    BillingService billing(*store);
    AcquisitionService acquisition(*store, billing);
    api::ApiOptions options;
    options.clock = WallNow;
    api::Api api(*store, *store, billing, acquisition, options);
    std::string password = o.password;
    if (password.empty()) {
        std::getline(std::cin, password);  // keeps the password out of the process list
    }
    JOULE_ASSIGN_OR_RETURN(
        int64_t id, api.CreateUser(o.username, password, o.role, o.all_projects, o.projects));
    std::printf("created user %s (id %lld, role %s)\n", o.username.c_str(),
                static_cast<long long>(id), o.role.c_str());
    return {};
}

Status RunSim(const SimOptions& o) {
    JOULE_ASSIGN_OR_RETURN(auto store, storage::SqliteStore::Open(o.db_path, {}));
    sim::SiteOptions options;
    options.dtu_connect = o.dtu_connect;
    options.speed = o.speed;
    options.loss_percent = o.loss_percent;
    options.offline_gateway = o.offline_gateway;
    options.offline_after_s = o.offline_after_s;
    options.offline_for_s = o.offline_for_s;
    options.load_watts = o.load_watts;
    options.freeze_every_minute = o.freeze_every_minute;
    options.extra_meters = o.extra_meters;
    options.faults = o.faults;
    options.garbage_percent = o.garbage_percent;
    options.mqtt = o.mqtt;
    options.mqtt_cafile = o.mqtt_cafile;
    options.mqtt_prefix = o.mqtt_prefix;
    options.mqtt_read_interval_s = o.mqtt_read_interval_s;
    if (!o.mqtt.empty()) {
        if (o.mqtt_credentials.empty())
            return InvalidArgument("mqtt_credentials",
                                   "MQTT gateways need the credentials file of joule mqtt-auth");
        JOULE_ASSIGN_OR_RETURN(options.mqtt_passwords, ReadCredentialsFile(o.mqtt_credentials));
    }
    sim::SimSite site(*store, options);
    JOULE_TRY(site.Start());
    std::printf("joule sim: %zu devices, load x%lld, DTUs dial %s%s\n", site.device_count(),
                static_cast<long long>(o.speed), o.dtu_connect.c_str(),
                o.mqtt.empty() ? "" : (", MQTT gateways publish to " + o.mqtt).c_str());
    std::fflush(stdout);
    WaitFor(o.run_for_s, [] {});
    site.Stop();
    return {};
}

Status RunMqttAuth(const MqttAuthCliOptions& o) {
    JOULE_ASSIGN_OR_RETURN(auto store, storage::SqliteStore::Open(o.db_path, {}));
    MqttAuthOptions options;
    options.dir = o.dir;
    options.topic_prefix = o.topic_prefix;
    options.platform_username = o.platform_username;
    options.mosquitto_passwd = o.mosquitto_passwd;
    JOULE_ASSIGN_OR_RETURN(MqttAuthFiles files, WriteMqttAuth(*store, options));
    std::printf(
        "mqtt-auth: %d MQTT gateways + %s, %d new passwords\n  mosquitto: password_file %s, "
        "acl_file %s\n  credentials (keep private): %s\n",
        files.gateways, o.platform_username.c_str(), files.generated, files.password_file.c_str(),
        files.acl_file.c_str(), files.credentials_file.c_str());
    return {};
}

}  // namespace joule::app
