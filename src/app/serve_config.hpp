// The settings of `joule serve`: one table gives every setting its TOML key, its command-line
// flag, its help text and its limits, so the flags, the config file (docs/joule.example.toml) and
// the checks cannot disagree. The file is parsed with toml++ in serve_config.cpp only; nothing
// here includes it.
//
// Precedence: the built-in defaults (ServeOptions), then the file given with --config, then the
// flags given on the command line. Everything is checked before anything starts; an error names
// the file, line and key ("joule.toml:7: http.threads"), or the flag ("--http-threads").
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "app/live.hpp"
#include "base/error.hpp"

namespace joule::app {

// What a string setting must look like, beyond being a string.
enum class ServeSettingCheck : std::uint8_t {
    kNone,
    kHttpListen,     // "" (off), "host:port" or ":port" with an IP address; port 0 = any free
    kDtuListen,      // "host:port" with an IP address; port 0 = any free
    kBroker,         // "" (no MQTT) or "host[:port]", port 1..65535 (default 1883)
    kIpAddressList,  // every entry an IPv4 or IPv6 address
};

struct ServeSetting {
    using Member =
        std::variant<std::string ServeOptions::*, int ServeOptions::*, int64_t ServeOptions::*,
                     bool ServeOptions::*, std::vector<std::string> ServeOptions::*>;

    std::string_view key;   // "http.threads": [section] and key in the file
    std::string_view flag;  // CLI11 name, "--http-threads"; "!--no-x" sets a bool to false
    std::string_view help;
    Member member;
    int64_t min = 0;  // integers: the accepted range, inclusive
    int64_t max = 0;
    ServeSettingCheck check = ServeSettingCheck::kNone;
};

// Every setting of `joule serve`, in the order of docs/joule.example.toml.
[[nodiscard]] std::span<const ServeSetting> ServeSettings();

// A parsed config file: the options (defaults where the file says nothing) and the keys it set,
// each with its line.
struct ServeConfigFile {
    struct Key {
        std::string key;  // "http.threads"
        int64_t line = 0;
    };
    ServeOptions options;
    std::vector<Key> keys;
};

// Parses TOML `text` (named `source` in errors) over the defaults, checking each value it sets
// against its setting: kInvalidArgument with field "<source>:<line>: <key>" for a TOML syntax
// error, an unknown section or key, a value of the wrong type, or a value out of range. Settings
// that depend on each other (tls.cert and tls.key) are checked by ValidateServeOptions.
[[nodiscard]] Result<ServeConfigFile> ParseServeConfig(std::string_view text,
                                                       std::string_view source);

// Reads and parses the file at `path`: kNotFound (field "config") when it cannot be read, else as
// ParseServeConfig.
[[nodiscard]] Result<ServeConfigFile> LoadServeConfig(const std::string& path);

// Checks every setting's range and form, and the settings that go together: tls.cert and tls.key
// both or neither, TLS only with an HTTP listener, mqtt.broker only with mqtt.password or
// mqtt.credentials. kInvalidArgument with the key as field ("http.threads", "must be 1..64, got
// 0"). Reads no file.
[[nodiscard]] Status ValidateServeOptions(const ServeOptions& options);

// tenant.top_up_presets as fen: each 0.01..50000 yuan with at most two decimals, at most 8.
[[nodiscard]] Result<std::vector<int64_t>> TenantPresetsFen(
    const std::vector<std::string>& presets);

// The options `joule serve` runs with: the defaults, then the file at `config_path` ("" = none),
// then the settings whose keys are in `given` taken from `flags` (the values parsed from the
// command line), all validated. An error names where the bad value came from: the file's line and
// key, or the flag.
[[nodiscard]] Result<ServeOptions> ResolveServeOptions(const std::string& config_path,
                                                       const ServeOptions& flags,
                                                       const std::vector<std::string>& given);

}  // namespace joule::app
