// `joule sim`: plays a whole site over real transports. It reads the site's gateways, meters and
// models from the platform's store, builds one SimMeter per device and puts them behind their
// gateways: DTU gateways dial the platform's DTU listener, register and answer transparent frames;
// Modbus-TCP gateways listen on their endpoint for the platform to poll; MQTT gateways
// (MqttSimGateway) read their meters over a simulated RS-485 bus with our codecs, as an edge
// gateway does, and publish the readings to a broker. Load profiles advance the registers (shop,
// office, dorm, public area, water); relays and valves obey the platform's commands because the
// SimMeters do. Faults on demand: a gateway offline, lost or corrupted frames.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "core/ports.hpp"

namespace joule::sim {

// The faults a meter can be given on demand (SiteOptions::faults, `joule sim --fault`), by name.
inline constexpr std::array<std::string_view, 9> kFaultKinds = {
    "silent",            // the meter stops answering
    "corrupt",           // its replies have bad checksums
    "reverse",           // reverse current
    "voltage_loss",      // no supply: V, I, P read 0 and nothing is metered
    "clock_drift",       // :S its clock runs S seconds off
    "overload",          // :W the meter draws W watts
    "rollover",          // its register just below its modulus
    "reset",             // its registers back to 0
    "drop_write_reply",  // :N its next N writes (default 1) are applied but their replies lost
};
// The names of kFaultKinds, separated by spaces (for help texts).
[[nodiscard]] std::string FaultKindNames();

// One fault, "bus_address:kind[:value][@after_s]": `kind` on the meter at `bus_address`, `after_s`
// seconds after the start (default 0).
struct FaultSpec {
    std::string address;
    std::string kind;
    int64_t value = 0;
    int64_t after_s = 0;
};
// kInvalidArgument with field "fault", quoting `text`, when it lacks the "bus_address:kind" part,
// the kind is not one of kFaultKinds, the value is not a whole number or after_s is not a whole
// number >= 0.
[[nodiscard]] Result<FaultSpec> ParseFault(std::string_view text);

struct SiteOptions {
    std::string dtu_connect = "127.0.0.1:9510";  // the platform's DTU listener
    int64_t speed = 1;  // simulated seconds per real second (load only; clocks are real)
    int64_t seed = 1;
    int loss_percent = 0;         // requests silently dropped (lost frames)
    std::string offline_gateway;  // gateway code to take offline ...
    int64_t offline_after_s = 0;  // ... this many seconds after start ...
    int64_t offline_for_s = 0;    // ... for this long
    int64_t run_for_s = 0;        // stop after this long; 0 = until Stop()
    int64_t load_watts = 0;       // > 0: every electric circuit draws this, whatever the hour
    // Meters freeze their registers at local midnight (daily freeze); true: at every minute, so
    // tests and demos see backfill without waiting a day.
    bool freeze_every_minute = false;
    // Meters the platform does not know yet (zero-commissioning): "gateway:bus_address:model".
    std::vector<std::string> extra_meters;
    // Faults on demand, "bus_address:kind[:value][@after_s]" (ParseFault, kFaultKinds).
    std::vector<std::string> faults;
    int garbage_percent = 0;  // replies preceded by random garbage bytes on the line

    // MQTT gateways (transport "mqtt") publish to this broker, "host:port". Empty: they are not
    // played (a note is printed).
    std::string mqtt;
    std::string mqtt_cafile;            // TLS when set
    std::string mqtt_prefix = "joule";  // topic prefix
    // Each MQTT gateway's broker password by gateway code (= its broker username), as the
    // platform generated them (`joule mqtt-auth` writes them to a credentials file).
    std::map<std::string, std::string, std::less<>> mqtt_passwords;
    int64_t mqtt_read_interval_s = 60;  // how often an MQTT gateway reads its meters
};

struct SiteStats {
    std::atomic<int64_t> requests{0};
    std::atomic<int64_t> replies{0};
    std::atomic<int64_t> energy_wh{0};
    std::atomic<int64_t> mqtt_commands{0};  // commands MQTT gateways executed on their meters
};

class SimSite {
public:
    SimSite(Store& store, SiteOptions options);
    ~SimSite();
    SimSite(const SimSite&) = delete;
    SimSite& operator=(const SimSite&) = delete;

    // Loads the devices and starts the transports on a background thread.
    [[nodiscard]] Status Start();
    // Blocks until run_for_s passes (or forever when 0).
    void Wait();
    void Stop();
    [[nodiscard]] const SiteStats& stats() const;
    [[nodiscard]] std::size_t device_count() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace joule::sim
