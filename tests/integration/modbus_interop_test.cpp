// Modbus-TCP interoperability [DEV-4]: ingest::Runtime polls a Modbus-TCP server built on
// libmodbus's server API (modbus_tcp_listen / modbus_tcp_accept / modbus_receive / modbus_reply), a
// peer that is not our code. The server holds one register map per unit id: an Eastron SDM630 at
// unit 1 (FC04 floats), a Chint DTSU666 at unit 2 (FC03 floats), a 12-circuit box at unit 3 (u32
// energies, coils for the relays), encoded with libmodbus's own helpers (its float setter that
// writes A B C D, see ChooseFloatSetter; the u32 layout of MODBUS_SET_INT32_TO_INT16). The store is
// a SQLite file with the site built from models/*.json.
//
// Site time: a Modbus meter has no clock, so a reading is stamped with the runtime's clock. The
// fixture's clock moves one hour on at the start of every poll cycle (when the server sees the
// cycle's first request), so the few kWh the tests add per change are a plausible load for the
// models' max_rate_per_hour while the runtime polls every second. Every wait is bounded.
#include <arpa/inet.h>
#include <modbus.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <bit>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "ingest/runtime.hpp"
#include "integration_support.hpp"
#include "service/site_service.hpp"
#include "storage/sqlite_store.hpp"
#include "wire/model_json.hpp"

namespace joule::ingest {
namespace {

using test::T;
using test::WaitFor;

using Json = nlohmann::json;

// One request as the server received it (MBAP header, then the PDU).
struct PeerRequest {
    int unit = 0;
    int function = 0;
    int address = 0;
    int value = 0;  // FC05/FC06: the value written
};

// A server answer that is not the register map's: a Modbus exception for matching requests.
struct PeerFault {
    int unit = -1;      // -1: any
    int function = -1;  // -1: any
    int address = -1;   // -1: any
    unsigned exception = MODBUS_EXCEPTION_ILLEGAL_DATA_ADDRESS;
    int count = 1;  // answers left; negative: until cleared
};

// A Modbus-TCP server on libmodbus (C): one accepted connection at a time, one register map per
// unit id (libmodbus itself answers any unit; the unit byte picks the map here). Every access to
// the maps is under `mutex_`, shared with the server thread's replies.
class LibmodbusServer {
public:
    LibmodbusServer() = default;
    LibmodbusServer(const LibmodbusServer&) = delete;
    LibmodbusServer& operator=(const LibmodbusServer&) = delete;
    ~LibmodbusServer() {
        Stop();
        for (auto& [unit, map] : units_)
            modbus_mapping_free(map);
    }

    // Listens on 127.0.0.1 at a port the kernel picks and starts the server thread.
    bool Start(std::function<void(const PeerRequest&)> on_request) {
        on_request_ = std::move(on_request);
        ctx_ = modbus_new_tcp("127.0.0.1", 0);
        if (ctx_ == nullptr)
            return false;
        modbus_set_indication_timeout(ctx_, 2, 0);  // a partial request cannot hang the thread
        listen_fd_ = modbus_tcp_listen(ctx_, 1);
        if (listen_fd_ < 0)
            return false;
        sockaddr_in addr{};
        socklen_t len = sizeof addr;
        // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API
        if (::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
            return false;
        port_ = ntohs(addr.sin_port);
        thread_ = std::thread([this] { Serve(); });
        return true;
    }

    void Stop() {
        stop_ = true;
        if (thread_.joinable())
            thread_.join();
        if (ctx_ != nullptr) {
            modbus_close(ctx_);
            if (listen_fd_ >= 0)
                ::close(listen_fd_);
            modbus_free(ctx_);
            ctx_ = nullptr;
        }
    }

    // libmodbus's float setter that writes IEEE-754 high word first (A B C D on the wire, as the
    // SDM630 and DTSU666 send), checked against the bits of std::bit_cast. By name that is
    // modbus_set_float_abcd, but the byte orders of libmodbus's float helpers differ between
    // releases (upstream issues #611, #665, #807): Debian 12's 3.1.6 writes B A D C with
    // modbus_set_float_abcd and A B C D with modbus_set_float_badc on a little-endian host.
    // Returns the setter's name, or "" when none writes A B C D.
    std::string ChooseFloatSetter() {
        const std::vector<std::pair<const char*, void (*)(float, uint16_t*)>> setters = {
            {"modbus_set_float_abcd", &modbus_set_float_abcd},
            {"modbus_set_float_badc", &modbus_set_float_badc},
            {"modbus_set_float_cdab", &modbus_set_float_cdab},
            {"modbus_set_float_dcba", &modbus_set_float_dcba}};
        for (const auto& [name, setter] : setters) {
            bool abcd = true;
            for (float probe : {230.4F, 1234.567F, -1.5F, 5678.91F}) {
                std::array<uint16_t, 2> words{};
                setter(probe, words.data());
                const auto bits = std::bit_cast<uint32_t>(probe);
                abcd = abcd && words[0] == static_cast<uint16_t>(bits >> 16) &&
                       words[1] == static_cast<uint16_t>(bits & 0xFFFFU);
            }
            if (abcd) {
                set_float_ = setter;
                return name;
            }
        }
        return "";
    }

    // A register map for `unit`: coils, holding and input registers 0x0000..0x402F.
    void AddUnit(int unit) {
        std::lock_guard lock(mutex_);
        units_[unit] = modbus_mapping_new(kCoils, 0, kRegisters, kRegisters);
    }

    void SetInputFloat(int unit, int address, float value) {
        std::lock_guard lock(mutex_);
        set_float_(value, &Map(unit).tab_input_registers[address]);
    }
    void SetHoldingFloat(int unit, int address, float value) {
        std::lock_guard lock(mutex_);
        set_float_(value, &Map(unit).tab_registers[address]);
    }
    void SetHoldingU32(int unit, int address, uint32_t value) {
        std::lock_guard lock(mutex_);
        // MODBUS_SET_INT32_TO_INT16's layout (high word first), with the narrowing spelled out.
        uint16_t* tab = Map(unit).tab_registers;
        tab[address] = static_cast<uint16_t>(value >> 16);
        tab[address + 1] = static_cast<uint16_t>(value & 0xFFFFU);
    }
    void SetHoldingU16(int unit, int address, uint16_t value) {
        std::lock_guard lock(mutex_);
        Map(unit).tab_registers[address] = value;
    }
    void SetCoil(int unit, int address, bool on) {
        std::lock_guard lock(mutex_);
        Map(unit).tab_bits[address] = on ? 1 : 0;
    }
    bool Coil(int unit, int address) {
        std::lock_guard lock(mutex_);
        return Map(unit).tab_bits[address] != 0;
    }
    std::array<uint16_t, 2> InputPair(int unit, int address) {
        std::lock_guard lock(mutex_);
        const uint16_t* tab = Map(unit).tab_input_registers;
        return {tab[address], tab[address + 1]};
    }

    void AddFault(const PeerFault& fault) {
        std::lock_guard lock(mutex_);
        faults_.push_back(fault);
    }
    void ClearFaults() {
        std::lock_guard lock(mutex_);
        faults_.clear();
    }
    // The next request is not answered: the server closes the connection instead.
    void DropNextRequest() { drop_next_ = true; }

    [[nodiscard]] uint16_t port() const { return port_; }
    [[nodiscard]] int accepts() const { return accepts_.load(); }
    [[nodiscard]] int exceptions_sent() const { return exceptions_sent_.load(); }
    std::vector<PeerRequest> Requests() {
        std::lock_guard lock(mutex_);
        return requests_;
    }

private:
    static constexpr int kCoils = 0x20;
    static constexpr int kRegisters = 0x4030;
    static constexpr int kMbapHeader = 7;  // modbus_get_header_length() for TCP

    modbus_mapping_t& Map(int unit) { return *units_.at(unit); }

    static int Word(const uint8_t* bytes) { return (bytes[0] << 8) | bytes[1]; }

    void Serve() {
        int client = -1;
        while (!stop_) {
            if (client < 0) {
                pollfd p{listen_fd_, POLLIN, 0};
                if (::poll(&p, 1, 50) <= 0)
                    continue;
                client = modbus_tcp_accept(ctx_, &listen_fd_);
                if (client >= 0)
                    ++accepts_;
                continue;
            }
            pollfd p{client, POLLIN, 0};
            if (::poll(&p, 1, 50) <= 0)
                continue;
            std::array<uint8_t, MODBUS_TCP_MAX_ADU_LENGTH> query{};
            const int length = modbus_receive(ctx_, query.data());
            if (length == 0)
                continue;
            if (length < 0 || !Answer(query.data(), length)) {
                modbus_close(ctx_);  // the client went away, or the test drops the link
                client = -1;
            }
        }
    }

    // Answers one request; false when the connection is to be dropped instead.
    bool Answer(const uint8_t* query, int length) {
        std::lock_guard lock(mutex_);
        PeerRequest r;
        r.unit = query[kMbapHeader - 1];
        r.function = query[kMbapHeader];
        if (length >= kMbapHeader + 5) {
            r.address = Word(query + kMbapHeader + 1);
            r.value = Word(query + kMbapHeader + 3);
        }
        requests_.push_back(r);
        if (on_request_)
            on_request_(r);
        if (drop_next_.exchange(false))
            return false;
        for (PeerFault& f : faults_) {
            const bool match = (f.unit < 0 || f.unit == r.unit) &&
                               (f.function < 0 || f.function == r.function) &&
                               (f.address < 0 || f.address == r.address) && f.count != 0;
            if (match) {
                if (f.count > 0)
                    --f.count;
                ++exceptions_sent_;
                modbus_reply_exception(ctx_, query, f.exception);
                return true;
            }
        }
        auto unit = units_.find(r.unit);
        if (unit == units_.end()) {
            modbus_reply_exception(ctx_, query,
                                   static_cast<unsigned>(MODBUS_EXCEPTION_GATEWAY_TARGET));
            return true;
        }
        modbus_reply(ctx_, query, length, unit->second);
        return true;
    }

    void (*set_float_)(float, uint16_t*) = &modbus_set_float_abcd;
    modbus_t* ctx_ = nullptr;
    int listen_fd_ = -1;
    uint16_t port_ = 0;
    std::thread thread_;
    std::atomic<bool> stop_{false};
    std::atomic<bool> drop_next_{false};
    std::atomic<int> accepts_{0};
    std::atomic<int> exceptions_sent_{0};
    std::function<void(const PeerRequest&)> on_request_;
    std::mutex mutex_;
    std::map<int, modbus_mapping_t*> units_;
    std::vector<PeerFault> faults_;
    std::vector<PeerRequest> requests_;
};

constexpr int kSdm = 1;   // Eastron SDM630, FC04
constexpr int kDtsu = 2;  // Chint DTSU666, FC03
constexpr int kBox = 3;   // 12-circuit box, FC03 + coils

Result<wire::ParsedModel> LoadModel(const std::string& code) {
    std::ifstream in(std::filesystem::path(JOULE_MODELS_DIR) / (code + ".json"));
    std::stringstream text;
    text << in.rdbuf();
    return wire::MeterModelFromJson(Json::parse(text.str()), code + ".json");
}

CommandPolicy LongLivedCommands() {
    CommandPolicy policy;
    policy.default_ttl = Seconds{30 * 24 * 3600};  // site time runs an hour per poll cycle
    return policy;
}

class ModbusInteropTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = test::MakeTempDir("joule-modbus");
        auto store = storage::SqliteStore::Open(dir_ + "/joule.db", {});
        ASSERT_TRUE(store.has_value()) << store.error().ToString();
        store_ = std::move(*store);
        billing_ = std::make_unique<BillingService>(*store_);
        acquisition_ =
            std::make_unique<AcquisitionService>(*store_, *billing_, LongLivedCommands());

        float_setter_ = server_.ChooseFloatSetter();
        ASSERT_FALSE(float_setter_.empty()) << "no libmodbus float setter writes A B C D";
        for (int unit : {kSdm, kDtsu, kBox})
            server_.AddUnit(unit);
        // SDM630, input registers, IEEE-754 high word first.
        server_.SetInputFloat(kSdm, 0x0000, 230.4F);     // voltage, V
        server_.SetInputFloat(kSdm, 0x0006, 5.125F);     // current, A
        server_.SetInputFloat(kSdm, 0x0034, 2345.0F);    // total system power, W
        server_.SetInputFloat(kSdm, 0x0046, 50.0F);      // frequency, Hz
        server_.SetInputFloat(kSdm, 0x0048, 1234.567F);  // import energy, kWh
        server_.SetInputFloat(kSdm, 0x004A, 0.0F);       // export energy
        // DTSU666, holding registers in the meter's own units (0.1 V, mA, 0.1 W ...).
        server_.SetHoldingFloat(kDtsu, 0x2006, 2201.0F);   // 220.1 V
        server_.SetHoldingFloat(kDtsu, 0x200C, 4567.0F);   // 4.567 A
        server_.SetHoldingFloat(kDtsu, 0x2012, 12340.0F);  // 1.234 kW
        server_.SetHoldingFloat(kDtsu, 0x202A, 987.0F);    // PF 0.987
        server_.SetHoldingFloat(kDtsu, 0x2044, 5001.0F);   // 50.01 Hz
        server_.SetHoldingFloat(kDtsu, 0x401E, 5678.91F);  // import energy, kWh
        server_.SetHoldingFloat(kDtsu, 0x4028, 0.0F);
        // The box: voltage u16 0.1 V; per circuit c: energy u32 0.01 kWh at 0x0100 + 2c, current
        // u16 0.01 A at 0x0200 + 2c, power u16 W at 0x0300 + 2c, relay coil 2c (on = closed).
        server_.SetHoldingU16(kBox, 0x0000, 2203);
        for (int c = 0; c < 12; ++c) {
            server_.SetHoldingU32(kBox, 0x0100 + 2 * c, 0);
            server_.SetHoldingU16(kBox, 0x0200 + 2 * c, 512);
            server_.SetHoldingU16(kBox, 0x0300 + 2 * c, 1130);
            server_.SetCoil(kBox, 2 * c, true);
        }
        server_.SetHoldingU32(kBox, 0x0100, 123456);   // circuit 0: 1234.56 kWh
        server_.SetHoldingU32(kBox, 0x0102, 20000);    // circuit 1: 200.00 kWh
        server_.SetHoldingU32(kBox, 0x0104, 4294967);  // circuit 2: 42949.67 kWh (high word 0x41)
        ASSERT_TRUE(server_.Start([this](const PeerRequest& r) {
            if (r.unit == kSdm && r.function == 4 && r.address == 0)  // a poll cycle begins
                site_seconds_ += 3600;
        }));

        CreateSiteAndAccounts();

        RuntimeOptions options;
        options.read_interval_override_s = 1;
        options.request_timeout = std::chrono::milliseconds(1000);
        options.retries = 1;
        options.dispatch_interval = std::chrono::milliseconds(100);
        runtime_ =
            std::make_unique<Runtime>(*store_, *acquisition_, options, [this] { return Now(); });
        runtime_->SetBusStatistics(&bus_);
        auto started = runtime_->Start();
        ASSERT_TRUE(started.has_value()) << started.error().ToString();
    }

    void TearDown() override {
        if (runtime_)
            runtime_->Stop();
        runtime_.reset();
        server_.Stop();
        acquisition_.reset();
        billing_.reset();
        store_.reset();
        std::filesystem::remove_all(dir_);
    }

    Instant Now() const { return Instant{Seconds{site_seconds_.load()}}; }

    void CreateSiteAndAccounts() {
        SiteSpec site;
        site.project = {{}, "plant", "Interop plant", "Asia/Shanghai"};
        for (const char* code : {"eastron-sdm630", "chint-dtsu666", "box-12-circuit"}) {
            auto model = LoadModel(code);
            ASSERT_TRUE(model.has_value()) << model.error().ToString();
            site.models.push_back(model->record);
        }
        GatewayRecord gateway;
        gateway.code = "gw-libmodbus";
        gateway.name = "libmodbus server";
        gateway.transport = "modbus_tcp";
        gateway.framing = "mbap";
        gateway.endpoint = "127.0.0.1:" + std::to_string(server_.port());
        site.gateways.push_back(gateway);
        site.tariffs.push_back(test::FlatTariff(T("2026-01-01T00:00:00Z")));
        auto meter = [&](const char* code, const char* model, int unit, int64_t circuit) {
            SiteSpec::Meter m;
            m.meter.code = code;
            m.meter.bus_address = std::to_string(unit);
            m.meter.circuit = circuit;
            m.model_code = model;
            m.gateway_code = "gw-libmodbus";
            site.meters.push_back(m);
        };
        meter("sdm", "eastron-sdm630", kSdm, 0);
        meter("dtsu", "chint-dtsu666", kDtsu, 0);
        meter("box-c0", "box-12-circuit", kBox, 0);
        meter("box-c1", "box-12-circuit", kBox, 1);
        meter("box-c2", "box-12-circuit", kBox, 2);
        auto created = CreateSite(*store_, site, actor_, Now());
        ASSERT_TRUE(created.has_value()) << created.error().ToString();
        project_ = created->project;

        // Opened at the registers the server holds: the first reads bill nothing.
        const std::vector<std::tuple<const char*, const char*, int64_t, int64_t>> accounts = {
            {"A-SDM", "sdm", 1'234'567, 10'000},
            {"A-DTSU", "dtsu", 5'678'910, 10'000},
            {"A-C0", "box-c0", 1'234'560, 10'000},
            {"A-C1", "box-c1", 200'000, 300},
            {"A-C2", "box-c2", 42'949'670, 10'000}};
        for (const auto& [number, code, opening, top_up] : accounts) {
            OpenAccountRequest open;
            open.project_code = "plant";
            open.number = number;
            open.tenant_name = std::string("Tenant ") + number;
            open.tariff_code = "flat";
            if (std::string_view(number) == "A-C1") {  // 3 yuan: 5 kWh runs it out
                open.scheme.alarm1 = Money{200};
                open.scheme.alarm2 = Money{100};
                open.scheme.alarm3 = Money{50};
            }
            open.meters.push_back({code, Quantity{opening}, std::nullopt});
            open.first_top_up = Money{top_up};
            open.opened_at = Now();
            auto opened = billing_->OpenAccount(open, actor_, Now());
            ASSERT_TRUE(opened.has_value()) << number << ": " << opened.error().ToString();
        }
    }

    MeterRecord Meter(std::string_view code) {
        auto tx = store_->Begin().value();
        return *tx->FindMeter(project_, code).value();
    }
    std::vector<StoredReading> Readings(std::string_view code) {
        const MeterId id = Meter(code).id;
        auto tx = store_->Begin().value();
        return tx->ListReadings(id, 1000).value();  // newest first
    }
    // The newest reading's register (Wh), or -1 when there is none.
    int64_t LastTotal(std::string_view code) {
        auto readings = Readings(code);
        return readings.empty() ? -1 : readings.front().outcome.input.total.milli;
    }
    int64_t Deducted(std::string_view code) {
        int64_t fen = 0;
        for (const StoredReading& r : Readings(code))
            fen += r.outcome.deducted.fen;
        return fen;
    }
    MeterStatusRecord Status(std::string_view code) {
        const MeterId id = Meter(code).id;
        auto tx = store_->Begin().value();
        return tx->LoadMeterStatus(id).value().value_or(MeterStatusRecord{});
    }
    Json Values(std::string_view code) { return Json::parse(Status(code).values_json); }
    Money Paid(std::string_view account) {
        return billing_->ViewAccount("plant", account).value().paid;
    }
    GatewayRecord Gateway() {
        auto tx = store_->Begin().value();
        return *tx->FindGateway(project_, "gw-libmodbus").value();
    }
    std::vector<AlarmRecord> Alarms(AlarmKind kind) {
        auto tx = store_->Begin().value();
        std::vector<AlarmRecord> out;
        const auto alarms = tx->ListAlarms(project_, false).value();
        for (const AlarmRecord& a : alarms) {
            if (a.kind == kind)
                out.push_back(a);
        }
        return out;
    }
    std::vector<DeviceEventRecord> Events(std::string_view kind) {
        auto tx = store_->Begin().value();
        std::vector<DeviceEventRecord> out;
        auto events = tx->ListDeviceEvents(0, 10'000).value();
        for (DeviceEventRecord& e : events) {
            if (e.kind == kind)
                out.push_back(std::move(e));
        }
        return out;
    }
    CommandRecord Command(int64_t id) {
        auto tx = store_->Begin().value();
        return tx->GetCommand(id).value();
    }
    std::vector<CommandRecord> CommandsOf(std::string_view code) {
        const MeterId id = Meter(code).id;
        auto tx = store_->Begin().value();
        std::vector<CommandRecord> out;
        const auto commands = tx->ListCommands(project_, 1000).value();
        for (const CommandRecord& c : commands) {
            if (c.meter == id)
                out.push_back(c);
        }
        return out;
    }
    bool ServerSaw(int unit, int function, int address, int value) {
        for (const PeerRequest& r : server_.Requests()) {
            if (r.unit == unit && r.function == function && r.address == address &&
                r.value == value) {
                return true;
            }
        }
        return false;
    }
    // Every meter has been read once and its live state saved (the unit of work after billing).
    void WaitForFirstReadings() {
        for (const char* code : {"sdm", "dtsu", "box-c0", "box-c1", "box-c2"}) {
            ASSERT_TRUE(WaitFor([&] { return LastTotal(code) >= 0 && Status(code).online; }))
                << code << " never read";
        }
    }
    void ExpectNoRejectedFrames() {
        for (const auto& e : Events("frame_rejected"))
            ADD_FAILURE() << e.kind << ": " << e.detail;
        EXPECT_EQ(runtime_->stats().frames_rejected.load(), 0);
    }

    std::string dir_;
    std::string float_setter_;
    std::atomic<int64_t> site_seconds_{T("2026-12-01T00:00:00Z").time_since_epoch().count()};
    LibmodbusServer server_;
    std::unique_ptr<storage::SqliteStore> store_;
    std::unique_ptr<BillingService> billing_;
    std::unique_ptr<AcquisitionService> acquisition_;
    BusStatistics bus_;  // outlives the runtime that counts into it
    std::unique_ptr<Runtime> runtime_;
    ProjectId project_;
    Actor actor_{"interop-test"};
};

TEST_F(ModbusInteropTest, TheServerEncodesFloatsHighWordFirst) {
    // The peer's encoding, independent of our codec: IEEE-754 bits, high word first.
    const auto bits = std::bit_cast<uint32_t>(1234.567F);
    const auto pair = server_.InputPair(kSdm, 0x0048);
    EXPECT_EQ(pair[0], static_cast<uint16_t>(bits >> 16));
    EXPECT_EQ(pair[1], static_cast<uint16_t>(bits & 0xFFFFU));
    std::printf("libmodbus %s: floats written with %s\n", LIBMODBUS_VERSION_STRING,
                float_setter_.c_str());
}

TEST_F(ModbusInteropTest, RegistersAreReadBilledAndShown) {
    WaitForFirstReadings();
    EXPECT_EQ(LastTotal("sdm"), 1'234'567);      // FC04 0x0048 f32 1234.567 kWh
    EXPECT_EQ(LastTotal("dtsu"), 5'678'910);     // FC03 0x401E f32 5678.91 kWh
    EXPECT_EQ(LastTotal("box-c0"), 1'234'560);   // u32 123456 x 0.01 kWh
    EXPECT_EQ(LastTotal("box-c1"), 200'000);     // u32 20000 x 0.01
    EXPECT_EQ(LastTotal("box-c2"), 42'949'670);  // u32 4294967 x 0.01 (both words)
    const Json sdm = Values("sdm");
    EXPECT_EQ(sdm.value("voltage", ""), "230.4") << sdm;
    EXPECT_EQ(sdm.value("current", ""), "5.125") << sdm;
    EXPECT_EQ(sdm.value("power", ""), "2.345") << sdm;
    EXPECT_EQ(sdm.value("frequency", ""), "50.00") << sdm;
    EXPECT_EQ(sdm.value("energy_total", ""), "1234.567") << sdm;
    const Json dtsu = Values("dtsu");
    EXPECT_EQ(dtsu.value("voltage", ""), "220.1") << dtsu;
    EXPECT_EQ(dtsu.value("current", ""), "4.567") << dtsu;
    EXPECT_EQ(dtsu.value("power", ""), "1.234") << dtsu;
    EXPECT_EQ(dtsu.value("power_factor", ""), "0.987") << dtsu;
    EXPECT_EQ(dtsu.value("frequency", ""), "50.01") << dtsu;
    const Json box = Values("box-c2");
    EXPECT_EQ(box.value("voltage", ""), "220.3") << box;  // shared by every circuit
    EXPECT_EQ(box.value("current", ""), "5.12") << box;
    EXPECT_EQ(box.value("power", ""), "1.130") << box;
    EXPECT_EQ(box.value("energy_total", ""), "42949.67") << box;
    EXPECT_EQ(Status("box-c0").relay, RelayState::kClosed);  // coil 0 on
    EXPECT_TRUE(Status("sdm").online);
    EXPECT_TRUE(Gateway().online);
    // Opened at these registers: nothing billed yet.
    EXPECT_EQ(Paid("A-SDM").fen, 10'000);
    EXPECT_EQ(Paid("A-DTSU").fen, 10'000);
    EXPECT_EQ(Paid("A-C0").fen, 10'000);

    // More energy on the server: the next reads bill exactly the difference at 1 yuan/kWh.
    server_.SetInputFloat(kSdm, 0x0048, 1237.067F);    // +2.5 kWh
    server_.SetHoldingFloat(kDtsu, 0x401E, 5680.16F);  // +1.25 kWh
    server_.SetHoldingU32(kBox, 0x0100, 123777);       // +3.21 kWh
    ASSERT_TRUE(WaitFor([&] { return LastTotal("sdm") == 1'237'067; })) << LastTotal("sdm");
    ASSERT_TRUE(WaitFor([&] { return LastTotal("dtsu") == 5'680'160; })) << LastTotal("dtsu");
    ASSERT_TRUE(WaitFor([&] { return LastTotal("box-c0") == 1'237'770; })) << LastTotal("box-c0");
    EXPECT_EQ(Paid("A-SDM").fen, 10'000 - 250);
    EXPECT_EQ(Paid("A-DTSU").fen, 10'000 - 125);
    EXPECT_EQ(Paid("A-C0").fen, 10'000 - 321);
    EXPECT_EQ(Paid("A-C2").fen, 10'000);
    EXPECT_TRUE(WaitFor([&] { return Values("sdm").value("energy_total", "") == "1237.067"; }));
    for (const char* code : {"sdm", "dtsu", "box-c0"}) {
        for (const StoredReading& r : Readings(code)) {
            EXPECT_NE(r.outcome.validated.verdict, Verdict::kQuarantined)
                << code << " at " << r.outcome.input.total.milli;
        }
    }
    ExpectNoRejectedFrames();
    EXPECT_EQ(runtime_->stats().reads_failed.load(), 0);
    // The bus statistics saw a clean bus: every request answered, none repeated, within the
    // timeout. (A request still in flight is not counted yet, so requests may not be final.)
    const auto bus = bus_.Get(Gateway().id);
    ASSERT_TRUE(bus.has_value());
    EXPECT_EQ(bus->source, BusSource::kPlatform);
    EXPECT_GT(bus->counters.answered, 10);
    EXPECT_EQ(bus->counters.answered, bus->counters.requests);
    EXPECT_EQ(bus->counters.timeouts + bus->counters.retries + bus->counters.bad_frames +
                  bus->counters.meter_errors + bus->counters.link_losses,
              0);
    EXPECT_LT(bus->counters.reply_ms_max, 1000);
    EXPECT_TRUE(Alarms(AlarmKind::kReadingQuarantined).empty());
    test::ExpectLedgerBalanced(*store_);
}

TEST_F(ModbusInteropTest, ATripReachesTheCoilAndTheOpenRelayIsReadBack) {
    WaitForFirstReadings();
    // A manual trip of circuit 2: FC05 on coil 4 (2c), value 0x0000 (off = open).
    auto id =
        acquisition_->QueueCommand(Meter("box-c2").id, "trip", "{}", "interop test", actor_, Now());
    ASSERT_TRUE(id.has_value()) << id.error().ToString();
    ASSERT_TRUE(WaitFor([&] { return Command(*id).state == CommandState::kAcknowledged; }))
        << "state " << static_cast<int>(Command(*id).state) << ": " << Command(*id).error;
    EXPECT_TRUE(ServerSaw(kBox, 5, 4, 0x0000));
    EXPECT_FALSE(server_.Coil(kBox, 4));
    EXPECT_TRUE(server_.Coil(kBox, 0));
    EXPECT_TRUE(server_.Coil(kBox, 2));
    ASSERT_TRUE(WaitFor([&] { return Status("box-c2").relay == RelayState::kOpen; }));
    EXPECT_EQ(Status("box-c0").relay, RelayState::kClosed);

    // Circuit 1's 3 yuan run out: 5 kWh at 1 yuan. Billing queues the trip itself.
    server_.SetHoldingU32(kBox, 0x0102, 20500);
    ASSERT_TRUE(WaitFor([&] { return LastTotal("box-c1") == 205'000; })) << LastTotal("box-c1");
    EXPECT_EQ(Deducted("box-c1"), 500);
    ASSERT_TRUE(WaitFor([&] {
        for (const CommandRecord& c : CommandsOf("box-c1")) {
            if (c.kind == "trip" && c.state == CommandState::kAcknowledged)
                return true;
        }
        return false;
    }));
    EXPECT_TRUE(ServerSaw(kBox, 5, 2, 0x0000));
    EXPECT_FALSE(server_.Coil(kBox, 2));
    EXPECT_TRUE(server_.Coil(kBox, 0));
    ASSERT_TRUE(WaitFor([&] { return Status("box-c1").relay == RelayState::kOpen; }));
    EXPECT_EQ(Status("box-c0").relay, RelayState::kClosed);
    EXPECT_TRUE(Alarms(AlarmKind::kRelayMismatch).empty());
    ExpectNoRejectedFrames();
    test::ExpectLedgerBalanced(*store_);
}

TEST_F(ModbusInteropTest, AnExceptionIsLoggedAndADeadUnitGoesOffline) {
    WaitForFirstReadings();
    // One exception on the DTSU666's energy read: logged, the other points still read.
    server_.AddFault({kDtsu, 3, 0x401E, MODBUS_EXCEPTION_ILLEGAL_DATA_ADDRESS, 1});
    ASSERT_TRUE(WaitFor([&] { return !Events("meter_error").empty(); }));
    const auto errors = Events("meter_error");
    EXPECT_NE(errors.front().detail.find("illegal data address"), std::string::npos)
        << errors.front().detail;
    EXPECT_EQ(errors.front().meter, Meter("dtsu").id);
    server_.SetHoldingFloat(kDtsu, 0x401E, 5679.0F);
    ASSERT_TRUE(WaitFor([&] { return LastTotal("dtsu") == 5'679'000; }));
    EXPECT_TRUE(Status("dtsu").online);

    // The gateway answers "target device failed to respond" for unit 2 from now on (a meter dead
    // behind a Modbus-TCP gateway): every read of it fails, it goes offline; the others go on.
    server_.AddFault({kDtsu, -1, -1, MODBUS_EXCEPTION_GATEWAY_TARGET, -1});
    ASSERT_TRUE(WaitFor([&] { return Status("dtsu").failures >= 3; }))
        << "failures " << Status("dtsu").failures;
    ASSERT_TRUE(WaitFor([&] { return !Status("dtsu").online; }));
    const auto offline = Alarms(AlarmKind::kMeterOffline);
    ASSERT_EQ(offline.size(), 1U);
    EXPECT_EQ(offline.front().meter, Meter("dtsu").id);
    EXPECT_GE(runtime_->stats().reads_failed.load(), 3);
    server_.SetInputFloat(kSdm, 0x0048, 1235.0F);
    ASSERT_TRUE(WaitFor([&] { return LastTotal("sdm") == 1'235'000; }));
    EXPECT_TRUE(Status("sdm").online);
    EXPECT_EQ(LastTotal("dtsu"), 5'679'000);  // no reading invented for the dead meter

    // It answers again: online, the alarm cleared, billed from where it was.
    server_.ClearFaults();
    server_.SetHoldingFloat(kDtsu, 0x401E, 5680.0F);
    ASSERT_TRUE(WaitFor([&] { return LastTotal("dtsu") == 5'680'000; }));
    // The live state is saved in the unit of work after the billing one.
    ASSERT_TRUE(WaitFor([&] { return Status("dtsu").online; }));
    EXPECT_EQ(Status("dtsu").failures, 0);
    ASSERT_TRUE(WaitFor([&] { return !Alarms(AlarmKind::kMeterOffline).front().open; }));
    EXPECT_EQ(Paid("A-DTSU").fen, 10'000 - 109);  // 5678.91 -> 5680.00 kWh
    EXPECT_TRUE(Gateway().online);
    EXPECT_EQ(server_.accepts(), 1);  // exceptions never cost the link
    ExpectNoRejectedFrames();
    // Each exception is an error reply on the bus, not a timeout or a bad frame.
    const auto bus = bus_.Get(Gateway().id);
    ASSERT_TRUE(bus.has_value());
    EXPECT_GE(bus->counters.meter_errors, 4);  // one, then three or more for the dead unit
    EXPECT_EQ(bus->counters.bad_frames, 0);
    EXPECT_EQ(bus->counters.link_losses, 0);
    test::ExpectLedgerBalanced(*store_);
}

TEST_F(ModbusInteropTest, TheRuntimeReconnectsWhenTheServerClosesTheLink) {
    WaitForFirstReadings();
    ASSERT_EQ(server_.accepts(), 1);
    server_.DropNextRequest();
    ASSERT_TRUE(WaitFor([&] { return server_.accepts() == 2; }));
    ASSERT_TRUE(WaitFor([&] { return Gateway().online; }));
    // The loss was seen: a gateway-offline alarm raised, then cleared by the reconnect.
    ASSERT_TRUE(WaitFor([&] {
        const auto alarms = Alarms(AlarmKind::kGatewayOffline);
        return alarms.size() == 1 && !alarms.front().open;
    }));
    // Reads go on over the new link.
    server_.SetInputFloat(kSdm, 0x0048, 1236.0F);
    server_.SetHoldingU32(kBox, 0x0104, 4295000);
    ASSERT_TRUE(WaitFor([&] { return LastTotal("sdm") == 1'236'000; }));
    ASSERT_TRUE(WaitFor([&] { return LastTotal("box-c2") == 42'950'000; }));
    EXPECT_EQ(Paid("A-SDM").fen, 10'000 - 143);  // 1234.567 -> 1236.000 kWh: 1.433 yuan
    EXPECT_EQ(Paid("A-C2").fen, 10'000 - 33);
    ExpectNoRejectedFrames();
    test::ExpectLedgerBalanced(*store_);
}

}  // namespace
}  // namespace joule::ingest
