// The settings table of `joule serve` and its TOML file. The only file that includes toml++ (it
// throws, so its parse error is caught here and becomes an Error naming the file and line).
#include "app/serve_config.hpp"

#include "base/decimal.hpp"

#include "base/file.hpp"
#include "core/notification.hpp"

#include <arpa/inet.h>

#include <toml++/toml.h>
#include <algorithm>
#include <array>

#include "base/host_port.hpp"

namespace joule::app {

namespace {

using Check = ServeSettingCheck;

ServeSetting Text(std::string_view key, std::string_view flag, std::string_view help,
                  std::string ServeOptions::*member, Check check = Check::kNone) {
    return {key, flag, help, member, 0, 0, check};
}
ServeSetting Integer(std::string_view key, std::string_view flag, std::string_view help,
                     ServeSetting::Member member, int64_t min, int64_t max) {
    return {key, flag, help, member, min, max, Check::kNone};
}
ServeSetting Flag(std::string_view key, std::string_view flag, std::string_view help,
                  bool ServeOptions::*member) {
    return {key, flag, help, member, 0, 0, Check::kNone};
}

// The order here is the order of docs/joule.example.toml and of `joule serve --help`.
const std::array kSettings = {
    Text("store.db", "--db", "SQLite file", &ServeOptions::db_path),
    Text("http.listen", "--http", "HTTP API host:port (\"\" = off)", &ServeOptions::http_listen,
         Check::kHttpListen),
    Integer("http.threads", "--http-threads", "HTTP I/O threads", &ServeOptions::http_threads, 1,
            64),
    Integer("http.write_threads", "--http-write-threads",
            "threads answering writes (they may wait for a commit; 0 = on the I/O threads)",
            &ServeOptions::http_write_threads, 0, 256),
    Flag("http.secure_cookies", "--secure-cookies",
         "mark session cookies Secure (implied by --tls-cert; set it when TLS ends at a reverse "
         "proxy)",
         &ServeOptions::secure_cookies),
    Flag("http.access_log", "!--no-access-log", "no JSON line per HTTP request on stderr",
         &ServeOptions::access_log),
    ServeSetting{"http.trusted_proxies", "--trusted-proxy",
                 "a reverse proxy's IP address: its X-Forwarded-For names the client (repeatable)",
                 &ServeOptions::trusted_proxies, 0, 0, Check::kIpAddressList},
    Text("http.web_root", "--web-root",
         "directory of the web console (index.html, assets/) served outside /api (\"\" = none)",
         &ServeOptions::web_root),
    Text("http.public_url", "--public-url",
         "https://address payers and payment providers reach this server at (\"\" = no online "
         "orders at WeChat Pay or Alipay)",
         &ServeOptions::public_url),
    Text("tls.cert", "--tls-cert",
         "PEM certificate chain: the HTTP listener speaks HTTPS only (with --tls-key)",
         &ServeOptions::tls_cert),
    Text("tls.key", "--tls-key", "PEM private key of --tls-cert", &ServeOptions::tls_key),
    Text("acquisition.dtu_listen", "--dtu-listen", "DTU listener host:port",
         &ServeOptions::dtu_listen, Check::kDtuListen),
    Integer("acquisition.read_interval_s", "--read-interval",
            "seconds between reads, overriding every project's schedule (0 = the projects')",
            &ServeOptions::read_interval_s, 0, 86'400),
    Text("mqtt.broker", "--mqtt", "MQTT broker host:port for MQTT gateways (\"\" = none)",
         &ServeOptions::mqtt, Check::kBroker),
    Text("mqtt.user", "--mqtt-user", "the platform's broker account", &ServeOptions::mqtt_user),
    Text("mqtt.password", "--mqtt-password", "its password", &ServeOptions::mqtt_password),
    Text("mqtt.credentials", "--mqtt-credentials",
         "credentials file of joule mqtt-auth (when --mqtt-password is not given)",
         &ServeOptions::mqtt_credentials),
    Text("mqtt.prefix", "--mqtt-prefix", "topic prefix (as mqtt-auth)", &ServeOptions::mqtt_prefix),
    Text("mqtt.cafile", "--mqtt-cafile", "CA file: connect with TLS", &ServeOptions::mqtt_cafile),
    Text("mqtt.capath", "--mqtt-capath", "CA directory (c_rehash): connect with TLS",
         &ServeOptions::mqtt_capath),
    Text("mqtt.certfile", "--mqtt-certfile", "client certificate, if the broker requires one",
         &ServeOptions::mqtt_certfile),
    Text("mqtt.keyfile", "--mqtt-keyfile", "its private key", &ServeOptions::mqtt_keyfile),
    Flag("payments.sandbox", "--payments-sandbox",
         "the sandbox payment provider (demo and tests: it credits money nobody paid)",
         &ServeOptions::payments_sandbox),
    Text("payments.wechat_app_id", "--wechat-app-id", "WeChat Pay: the appid",
         &ServeOptions::wechat_app_id),
    Text("payments.wechat_mch_id", "--wechat-mch-id", "WeChat Pay: the merchant id",
         &ServeOptions::wechat_mch_id),
    Text("payments.wechat_api_v3_key_file", "--wechat-api-v3-key-file",
         "WeChat Pay: file holding the 32-byte APIv3 key", &ServeOptions::wechat_api_v3_key_file),
    ServeSetting{"payments.wechat_platform_keys", "--wechat-platform-key",
                 "WeChat Pay: a platform key as SERIAL=path (certificate or public key, PEM)",
                 &ServeOptions::wechat_platform_keys, 0, 0, Check::kNone},
    Text("payments.wechat_merchant_serial", "--wechat-merchant-serial",
         "WeChat Pay: the merchant certificate's serial number (for our calls)",
         &ServeOptions::wechat_merchant_serial),
    Text("payments.wechat_merchant_key_file", "--wechat-merchant-key-file",
         "WeChat Pay: the merchant private key, apiclient_key.pem (\"\" = we make no calls)",
         &ServeOptions::wechat_merchant_key_file),
    Text("payments.wechat_api_base", "--wechat-api-base", "WeChat Pay: the API's address",
         &ServeOptions::wechat_api_base),
    Integer("payments.query_after_s", "--payments-query-after",
            "ask the provider about an order still unpaid this many seconds after it was made",
            &ServeOptions::payments_query_after_s, 60, 86'400),
    Text("payments.alipay_app_id", "--alipay-app-id", "Alipay: the app_id",
         &ServeOptions::alipay_app_id),
    Text("payments.alipay_seller_id", "--alipay-seller-id",
         "Alipay: the seller id notifications must name (\"\" = not checked)",
         &ServeOptions::alipay_seller_id),
    Text("payments.alipay_public_key_file", "--alipay-public-key-file",
         "Alipay: Alipay's public key (PEM)", &ServeOptions::alipay_public_key_file),
    Text("payments.alipay_private_key_file", "--alipay-private-key-file",
         "Alipay: the app's private key (PEM), signing our orders and queries (\"\" = no orders)",
         &ServeOptions::alipay_private_key_file),
    Text("payments.alipay_gateway", "--alipay-gateway", "Alipay: the open API gateway",
         &ServeOptions::alipay_gateway),
    Text("payments.wechat_app_secret_file", "--wechat-app-secret-file",
         "WeChat: the official account's AppSecret, for payers' openid (\"\" = no JSAPI)",
         &ServeOptions::wechat_app_secret_file),
    Text("payments.wechat_oauth_base", "--wechat-oauth-base", "WeChat: the OAuth page's address",
         &ServeOptions::wechat_oauth_base),
    Text("payments.wechat_oauth_api_base", "--wechat-oauth-api-base",
         "WeChat: the OAuth token API's address", &ServeOptions::wechat_oauth_api_base),
    Text("notify.quiet_hours", "--quiet-hours",
         "local hours when messages to people wait, e.g. 22:00-07:00 (\"\" = none)",
         &ServeOptions::notify_quiet_hours),
    Integer("notify.per_address_per_hour", "--notify-per-hour",
            "messages to one address in an hour before more are suppressed",
            &ServeOptions::notify_per_address_per_hour, 1, 10'000),
    Flag("notify.webhooks", "!--no-webhooks", "do not send to webhook recipients",
         &ServeOptions::notify_webhooks),
    Text("notify.smtp_url", "--smtp-url",
         "email: smtp://host:587 or smtps://host:465 (\"\" = no email)", &ServeOptions::smtp_url),
    Text("notify.smtp_from", "--smtp-from", "email: the sender's address",
         &ServeOptions::smtp_from),
    Text("notify.smtp_from_name", "--smtp-from-name", "email: the sender's name",
         &ServeOptions::smtp_from_name),
    Text("notify.smtp_user", "--smtp-user", "email: login (\"\" = none)", &ServeOptions::smtp_user),
    Text("notify.smtp_password_file", "--smtp-password-file", "email: file holding the password",
         &ServeOptions::smtp_password_file),
    Flag("notify.smtp_require_tls", "--smtp-require-tls", "email: never send in clear",
         &ServeOptions::smtp_require_tls),
    Text("notify.sms_endpoint", "--sms-endpoint", "SMS: the provider's URL (Aliyun SendSms)",
         &ServeOptions::sms_endpoint),
    Text("notify.sms_access_key_id", "--sms-access-key-id", "SMS: AccessKeyId (\"\" = no SMS)",
         &ServeOptions::sms_access_key_id),
    Text("notify.sms_access_key_secret_file", "--sms-access-key-secret-file",
         "SMS: file holding the AccessKeySecret", &ServeOptions::sms_access_key_secret_file),
    Text("notify.sms_sign_name", "--sms-sign-name", "SMS: the approved signature",
         &ServeOptions::sms_sign_name),
    ServeSetting{"notify.sms_templates", "--sms-template",
                 "SMS: an approved template as kind=CODE (top_up=SMS_123)",
                 &ServeOptions::sms_templates, 0, 0, Check::kNone},
    Text("notify.wechat_app_id", "--wechat-mp-app-id",
         "WeChat official account: the appid (\"\" = no WeChat messages)",
         &ServeOptions::wechat_mp_app_id),
    Text("notify.wechat_app_secret_file", "--wechat-mp-app-secret-file",
         "WeChat official account: file holding the AppSecret",
         &ServeOptions::wechat_mp_app_secret_file),
    Text("notify.wechat_api_base", "--wechat-mp-api-base", "WeChat official account: the API",
         &ServeOptions::wechat_mp_api_base),
    ServeSetting{"notify.wechat_templates", "--wechat-mp-template",
                 "WeChat official account: a template as kind=TEMPLATE_ID",
                 &ServeOptions::wechat_mp_templates, 0, 0, Check::kNone},
    Text("notify.wechat_default_template", "--wechat-mp-default-template",
         "WeChat official account: the template for kinds without their own",
         &ServeOptions::wechat_mp_default_template),
    ServeSetting{"tenant.top_up_presets", "--top-up-preset",
                 "a top-up amount the tenants' pages offer, in yuan (50, 100, ...; at most 8)",
                 &ServeOptions::tenant_top_up_presets, 0, 0, Check::kNone},
    Flag("tenant.show_codes", "--tenant-show-codes",
         "demos only: sign-in codes come back in the answer (anyone could sign in as anyone)",
         &ServeOptions::tenant_show_codes),
    Integer("run.for_s", "--run-for", "stop after this many seconds (0 = until stopped)",
            &ServeOptions::run_for_s, 0, 315'360'000),
    Integer("run.report_every_s", "--report-every", "seconds between status lines",
            &ServeOptions::report_every_s, 1, 86'400),
};

const ServeSetting* FindSetting(std::string_view key) {
    for (const ServeSetting& s : kSettings) {
        if (s.key == key) {
            return &s;
        }
    }
    return nullptr;
}

std::string_view SectionOf(std::string_view key) { return key.substr(0, key.find('.')); }

// "[http] has listen, threads, ..." for an unknown key's message.
std::string KeysOfSection(std::string_view section) {
    std::string out;
    for (const ServeSetting& s : kSettings) {
        if (SectionOf(s.key) == section) {
            out += out.empty() ? "" : ", ";
            out += s.key.substr(section.size() + 1);
        }
    }
    return out;
}

std::string Sections() {
    std::string out;
    std::string_view last;
    for (const ServeSetting& s : kSettings) {
        if (SectionOf(s.key) != last) {
            last = SectionOf(s.key);
            out += out.empty() ? "[" : ", [";
            out += last;
            out += "]";
        }
    }
    return out;
}

bool IsIpAddress(const std::string& text) {
    std::array<unsigned char, 16> bytes{};
    return inet_pton(AF_INET, text.c_str(), bytes.data()) == 1 ||
           inet_pton(AF_INET6, text.c_str(), bytes.data()) == 1;
}

Status CheckListen(const std::string& text, std::string_view key) {
    // ":8080" listens on every IPv4 address (as the HTTP server reads it).
    const std::string listen = text.starts_with(':') ? "0.0.0.0" + text : text;
    JOULE_ASSIGN_OR_RETURN(HostPort host_port, ParseHostPort(listen, key, PortUse::kListen));
    if (!IsIpAddress(host_port.host)) {
        return InvalidArgument(std::string(key), "'" + host_port.host +
                                                     "' is not an IP address (listen on "
                                                     "0.0.0.0, 127.0.0.1, [::] ...)");
    }
    return {};
}

Status CheckString(const ServeSetting& s, const std::string& value) {
    switch (s.check) {
        case ServeSettingCheck::kNone:
        case ServeSettingCheck::kIpAddressList:
            return {};
        case ServeSettingCheck::kHttpListen:
            return value.empty() ? Status{} : CheckListen(value, s.key);
        case ServeSettingCheck::kDtuListen:
            if (value.starts_with(':')) {
                return InvalidArgument(std::string(s.key),
                                       "needs an address, e.g. 0.0.0.0" + value);
            }
            return CheckListen(value, s.key);
        case ServeSettingCheck::kBroker:
            if (value.empty()) {
                return {};
            }
            JOULE_TRY(ParseHostPort(value, s.key, PortUse::kConnect, 1883));
            return {};
    }
    return {};
}

Status InRange(const ServeSetting& s, int64_t value) {
    if (value < s.min || value > s.max) {
        return InvalidArgument(std::string(s.key), "must be " + std::to_string(s.min) + ".." +
                                                       std::to_string(s.max) + ", got " +
                                                       std::to_string(value));
    }
    return {};
}

// One setting's value in `o`: its range or its form.
Status CheckValue(const ServeSetting& s, const ServeOptions& o) {
    const auto in_range = [&s](int64_t value) { return InRange(s, value); };
    if (const auto* m = std::get_if<int ServeOptions::*>(&s.member)) {
        return in_range(o.**m);
    }
    if (const auto* m = std::get_if<int64_t ServeOptions::*>(&s.member)) {
        return in_range(o.**m);
    }
    if (const auto* m = std::get_if<std::string ServeOptions::*>(&s.member)) {
        return CheckString(s, o.**m);
    }
    if (const auto* m = std::get_if<std::vector<std::string> ServeOptions::*>(&s.member)) {
        const std::vector<std::string>& list = o.**m;
        for (std::size_t i = 0; i < list.size(); ++i) {
            if (s.check == ServeSettingCheck::kIpAddressList && !IsIpAddress(list[i])) {
                return InvalidArgument(std::string(s.key),
                                       "'" + list[i] + "' is not an IP address");
            }
        }
    }
    return {};
}

std::string_view TypeName(toml::node_type type) {
    switch (type) {
        case toml::node_type::table:
            return "a table";
        case toml::node_type::array:
            return "an array";
        case toml::node_type::string:
            return "a string";
        case toml::node_type::integer:
            return "an integer";
        case toml::node_type::floating_point:
            return "a float";
        case toml::node_type::boolean:
            return "a boolean";
        case toml::node_type::date:
        case toml::node_type::time:
        case toml::node_type::date_time:
            return "a date or time";
        case toml::node_type::none:
            break;
    }
    return "nothing";
}

Status WrongType(const ServeSetting& s, std::string_view wanted, const toml::node& node) {
    return InvalidArgument(std::string(s.key), "must be " + std::string(wanted) + ", got " +
                                                   std::string(TypeName(node.type())));
}

// Each member type takes its one TOML type; values are never coerced.
Status AssignTo(const ServeSetting& s, const toml::node& node, std::string& out) {
    const auto* value = node.as_string();
    if (value == nullptr) {
        return WrongType(s, "a string", node);
    }
    out = value->get();
    return {};
}
Status AssignTo(const ServeSetting& s, const toml::node& node, bool& out) {
    const auto* value = node.as_boolean();
    if (value == nullptr) {
        return WrongType(s, "true or false", node);
    }
    out = value->get();
    return {};
}
Status AssignTo(const ServeSetting& s, const toml::node& node, int64_t& out) {
    const auto* value = node.as_integer();
    if (value == nullptr) {
        return WrongType(s, "an integer", node);
    }
    JOULE_TRY(InRange(s, value->get()));
    out = value->get();
    return {};
}
Status AssignTo(const ServeSetting& s, const toml::node& node, int& out) {
    int64_t wide = 0;
    JOULE_TRY(AssignTo(s, node, wide));  // the range is checked before narrowing
    out = static_cast<int>(wide);
    return {};
}
Status AssignTo(const ServeSetting& s, const toml::node& node, std::vector<std::string>& out) {
    const auto* array = node.as_array();
    if (array == nullptr) {
        return WrongType(s, "an array of strings", node);
    }
    std::vector<std::string> list;
    for (const toml::node& item : *array) {
        const auto* value = item.as_string();
        if (value == nullptr) {
            return WrongType(s, "an array of strings", item);
        }
        list.push_back(value->get());
    }
    out = std::move(list);
    return {};
}

// Stores `node` into the setting's member of `o`, if its TOML type fits, and checks the value.
Status Assign(const ServeSetting& s, const toml::node& node, ServeOptions& o) {
    JOULE_TRY(std::visit([&](auto member) { return AssignTo(s, node, o.*member); }, s.member));
    return CheckValue(s, o);
}

std::string Where(std::string_view source, int64_t line, std::string_view key) {
    std::string out = std::string(source) + ":" + std::to_string(line);
    if (!key.empty()) {
        out += ": ";
        out += key;
    }
    return out;
}

int64_t LineOf(const toml::node& node) { return static_cast<int64_t>(node.source().begin.line); }

}  // namespace

std::span<const ServeSetting> ServeSettings() { return kSettings; }

Result<ServeConfigFile> ParseServeConfig(std::string_view text, std::string_view source) {
    toml::table root;
    try {
        root = toml::parse(text, source);
    } catch (const toml::parse_error& e) {
        return InvalidArgument(Where(source, static_cast<int64_t>(e.source().begin.line), ""),
                               std::string(e.description()));
    }
    ServeConfigFile file;
    for (auto&& [section_key, section_node] : root) {
        const std::string section(section_key.str());
        const toml::table* table = section_node.as_table();
        if (KeysOfSection(section).empty()) {
            return InvalidArgument(
                Where(source, LineOf(section_node), section),
                table != nullptr ? "unknown section; the sections are " + Sections()
                                 : "unknown key; settings live in the sections " + Sections());
        }
        if (table == nullptr) {
            return InvalidArgument(Where(source, LineOf(section_node), section),
                                   "must be a section [" + section + "], got " +
                                       std::string(TypeName(section_node.type())));
        }
        for (auto&& [name, node] : *table) {
            const std::string key = section + "." + std::string(name.str());
            const ServeSetting* setting = FindSetting(key);
            if (setting == nullptr) {
                return InvalidArgument(
                    Where(source, LineOf(node), key),
                    "unknown key; [" + section + "] has " + KeysOfSection(section));
            }
            auto assigned = Assign(*setting, node, file.options);
            if (!assigned) {
                return InvalidArgument(Where(source, LineOf(node), key),
                                       std::move(assigned.error().message));
            }
            file.keys.push_back({key, LineOf(node)});
        }
    }
    return file;
}

Result<ServeConfigFile> LoadServeConfig(const std::string& path) {
    JOULE_ASSIGN_OR_RETURN(std::string text, ReadFileText(path, "config"));
    return ParseServeConfig(text, path);
}

namespace {

// The notification channels: each one's settings go together; templates name known kinds.
Status ValidateNotifyOptions(const ServeOptions& o) {
    if (auto quiet = ParseQuietHours(o.notify_quiet_hours, "notify.quiet_hours"); !quiet) {
        return std::unexpected(quiet.error());
    }
    if (!o.smtp_url.empty()) {
        if (!o.smtp_url.starts_with("smtp://") && !o.smtp_url.starts_with("smtps://")) {
            return InvalidArgument("notify.smtp_url", "must be smtp://host[:port] or smtps://...");
        }
        if (o.smtp_from.find('@') == std::string::npos) {
            return InvalidArgument("notify.smtp_from", "an email address is needed with smtp_url");
        }
    }
    const auto check_templates = [](const std::vector<std::string>& entries,
                                    std::string_view field) -> Status {
        for (const std::string& entry : entries) {
            const std::size_t eq = entry.find('=');
            if (eq == std::string::npos || eq + 1 == entry.size() ||
                FindEventKind(entry.substr(0, eq)) == nullptr) {
                return InvalidArgument(std::string(field),
                                       "\"" + entry + "\" is not kind=TEMPLATE with a known kind");
            }
        }
        return {};
    };
    if (!o.sms_access_key_id.empty() || !o.sms_templates.empty()) {
        if (o.sms_access_key_id.empty()) {
            return InvalidArgument("notify.sms_access_key_id", "needed with SMS templates");
        }
        if (o.sms_access_key_secret_file.empty()) {
            return InvalidArgument("notify.sms_access_key_secret_file",
                                   "needed with the SMS access key");
        }
        if (o.sms_sign_name.empty()) {
            return InvalidArgument("notify.sms_sign_name", "needed with the SMS access key");
        }
        JOULE_TRY(check_templates(o.sms_templates, "notify.sms_templates"));
    }
    if (!o.wechat_mp_app_id.empty() || !o.wechat_mp_templates.empty()) {
        if (o.wechat_mp_app_id.empty()) {
            return InvalidArgument("notify.wechat_app_id", "needed with WeChat templates");
        }
        if (o.wechat_mp_app_secret_file.empty()) {
            return InvalidArgument("notify.wechat_app_secret_file",
                                   "needed with the WeChat app id");
        }
        JOULE_TRY(check_templates(o.wechat_mp_templates, "notify.wechat_templates"));
    }
    return {};
}

}  // namespace

Result<std::vector<int64_t>> TenantPresetsFen(const std::vector<std::string>& presets) {
    constexpr std::size_t kMaxPresets = 8;
    if (presets.size() > kMaxPresets) {
        return InvalidArgument("tenant.top_up_presets", "at most 8 amounts");
    }
    std::vector<int64_t> out;
    for (const std::string& text : presets) {
        JOULE_ASSIGN_OR_RETURN(const int64_t fen, ParseScaled(text, 2, "tenant.top_up_presets"));
        if (fen < 1 || fen > 5'000'000) {
            return InvalidArgument("tenant.top_up_presets",
                                   "each amount must be 0.01 to 50000 yuan, got " + text);
        }
        out.push_back(fen);
    }
    return out;
}

Status ValidateServeOptions(const ServeOptions& o) {
    for (const ServeSetting& s : kSettings) {
        JOULE_TRY(CheckValue(s, o));
    }
    if (o.tls_cert.empty() != o.tls_key.empty()) {
        return o.tls_cert.empty() ? InvalidArgument("tls.cert", "needed with tls.key")
                                  : InvalidArgument("tls.key", "needed with tls.cert");
    }
    if (!o.tls_cert.empty() && o.http_listen.empty()) {
        return InvalidArgument("tls.cert",
                               "HTTPS needs the HTTP listener, but http.listen is \"\"");
    }
    const bool wechat = !o.wechat_app_id.empty() || !o.wechat_mch_id.empty() ||
                        !o.wechat_api_v3_key_file.empty() || !o.wechat_platform_keys.empty();
    if (wechat) {
        for (const auto& [key, value] :
             {std::pair{"payments.wechat_app_id", &o.wechat_app_id},
              std::pair{"payments.wechat_mch_id", &o.wechat_mch_id},
              std::pair{"payments.wechat_api_v3_key_file", &o.wechat_api_v3_key_file}}) {
            if (value->empty()) {
                return InvalidArgument(key, "needed with the other WeChat Pay settings");
            }
        }
        if (o.wechat_platform_keys.empty()) {
            return InvalidArgument("payments.wechat_platform_keys",
                                   "needed with the other WeChat Pay settings");
        }
        if (o.wechat_merchant_key_file.empty() != o.wechat_merchant_serial.empty()) {
            return InvalidArgument(o.wechat_merchant_serial.empty()
                                       ? "payments.wechat_merchant_serial"
                                       : "payments.wechat_merchant_key_file",
                                   "the merchant key and its serial number go together");
        }
        std::vector<std::string> serials;
        for (const std::string& entry : o.wechat_platform_keys) {
            const auto eq = entry.find('=');
            if (eq == 0 || eq == std::string::npos || eq + 1 == entry.size()) {
                return InvalidArgument("payments.wechat_platform_keys",
                                       "each entry is SERIAL=path, got \"" + entry + "\"");
            }
            if (std::find(serials.begin(), serials.end(), entry.substr(0, eq)) != serials.end()) {
                return InvalidArgument("payments.wechat_platform_keys",
                                       "serial " + entry.substr(0, eq) + " is given twice");
            }
            serials.push_back(entry.substr(0, eq));
        }
    }
    JOULE_TRY(ValidateNotifyOptions(o));
    JOULE_TRY(TenantPresetsFen(o.tenant_top_up_presets));
    if (o.tenant_show_codes && !o.sms_access_key_id.empty()) {
        // A server that sends real SMS is a real server: codes shown in the answer would let
        // anyone sign in as any phone and bind any account without its holder.
        return InvalidArgument("tenant.show_codes", "is for demos only; not with an SMS channel");
    }
    if (!o.alipay_seller_id.empty() && o.alipay_app_id.empty()) {
        return InvalidArgument("payments.alipay_app_id", "needed with the Alipay seller id");
    }
    if (o.alipay_app_id.empty() != o.alipay_public_key_file.empty()) {
        return o.alipay_app_id.empty()
                   ? InvalidArgument("payments.alipay_app_id", "needed with the Alipay public key")
                   : InvalidArgument("payments.alipay_public_key_file",
                                     "needed with the Alipay app id");
    }
    if (!o.alipay_private_key_file.empty() && o.alipay_app_id.empty()) {
        return InvalidArgument("payments.alipay_app_id", "needed with the Alipay private key");
    }
    if (!o.wechat_app_secret_file.empty() && o.wechat_app_id.empty()) {
        return InvalidArgument("payments.wechat_app_id", "needed with the WeChat AppSecret");
    }
    if (!o.public_url.empty()) {
        const std::string_view url = o.public_url;
        if (!(url.starts_with("https://") || url.starts_with("http://")) || url.ends_with("/") ||
            url.find_first_of(" ?#\"'<>") != std::string_view::npos ||
            url.size() <= std::string_view("https://").size()) {
            return InvalidArgument("http.public_url",
                                   "must be an http(s) address without a trailing /, query or "
                                   "fragment, e.g. https://joule.example.com");
        }
    }
    if (!o.mqtt.empty() && o.mqtt_password.empty() && o.mqtt_credentials.empty()) {
        // The broker refuses an anonymous platform; the ingest would retry forever.
        return InvalidArgument("mqtt.password",
                               "needed with mqtt.broker, or mqtt.credentials (the credentials "
                               "file of joule mqtt-auth)");
    }
    return {};
}

Result<ServeOptions> ResolveServeOptions(const std::string& config_path, const ServeOptions& flags,
                                         const std::vector<std::string>& given) {
    ServeConfigFile file;
    if (!config_path.empty()) {
        JOULE_ASSIGN_OR_RETURN(file, LoadServeConfig(config_path));
    }
    ServeOptions options = file.options;
    for (const ServeSetting& s : kSettings) {
        if (std::find(given.begin(), given.end(), s.key) != given.end()) {
            std::visit([&](auto member) { options.*member = flags.*member; }, s.member);
        }
    }
    auto valid = ValidateServeOptions(options);
    if (valid) {
        return options;
    }
    Error error = std::move(valid).error();
    const ServeSetting* setting = FindSetting(error.field);
    const auto in_file =
        std::find_if(file.keys.begin(), file.keys.end(),
                     [&](const ServeConfigFile::Key& k) { return k.key == error.field; });
    if (setting != nullptr && std::find(given.begin(), given.end(), setting->key) != given.end()) {
        std::string_view flag = setting->flag;
        error.field = std::string(flag.starts_with('!') ? flag.substr(1) : flag);
    } else if (in_file != file.keys.end()) {
        error.field = Where(config_path, in_file->line, in_file->key);
    }
    return std::unexpected(std::move(error));
}

}  // namespace joule::app
