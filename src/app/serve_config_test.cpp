// The settings of `joule serve`: the documented example file parses to the defaults and names every
// setting, a full file sets every setting, flags override the file, and every kind of bad value is
// refused naming the file, line and key (or the flag).
#include "app/serve_config.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace joule::app {
namespace {

std::string ReadText(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

// The error of parsing `text` as "t.toml".
Error ParseError(const std::string& text) {
    auto parsed = ParseServeConfig(text, "t.toml");
    EXPECT_FALSE(parsed.has_value()) << text;
    return parsed ? Error{} : parsed.error();
}

TEST(ServeSettings, EveryKeyIsSectionDotNameWithItsOwnFlagAndADefaultInRange) {
    std::set<std::string_view> keys;
    std::set<std::string_view> flags;
    const ServeOptions defaults;
    EXPECT_TRUE(ValidateServeOptions(defaults).has_value());
    for (const ServeSetting& s : ServeSettings()) {
        EXPECT_NE(s.key.find('.'), std::string_view::npos) << s.key;
        EXPECT_TRUE(s.flag.starts_with("--") || s.flag.starts_with("!--")) << s.flag;
        EXPECT_FALSE(s.help.empty()) << s.key;
        EXPECT_TRUE(keys.insert(s.key).second) << s.key;
        EXPECT_TRUE(flags.insert(s.flag).second) << s.flag;
        if (const auto* m = std::get_if<int ServeOptions::*>(&s.member)) {
            EXPECT_LE(s.min, defaults.**m) << s.key;
            EXPECT_GE(s.max, defaults.**m) << s.key;
        }
        if (const auto* m = std::get_if<int64_t ServeOptions::*>(&s.member)) {
            EXPECT_LE(s.min, defaults.**m) << s.key;
            EXPECT_GE(s.max, defaults.**m) << s.key;
        }
    }
}

// docs/joule.example.toml cannot rot: it parses, every value in it is the default, it names
// every setting, and the error it quotes is the error.
TEST(ServeConfigExample, ParsesToTheDefaultsAndNamesEverySetting) {
    auto file = LoadServeConfig(JOULE_EXAMPLE_CONFIG);
    ASSERT_TRUE(file.has_value()) << file.error().ToString();
    // http.web_root's default is an absolute path of the build's source tree, which no file can
    // spell: the example gives it relative to that tree instead.
    ServeOptions defaults;
    EXPECT_EQ(defaults.web_root, std::string(JOULE_WEB_ROOT));
    EXPECT_TRUE(defaults.web_root.ends_with("/web/dist")) << defaults.web_root;
    EXPECT_EQ(file->options.web_root, "web/dist");
    defaults.web_root = file->options.web_root;
    EXPECT_EQ(file->options, defaults);
    for (const ServeSetting& s : ServeSettings()) {
        const bool named =
            std::any_of(file->keys.begin(), file->keys.end(),
                        [&](const ServeConfigFile::Key& k) { return k.key == s.key; });
        EXPECT_TRUE(named) << s.key << " is missing from docs/joule.example.toml";
    }
    EXPECT_EQ(file->keys.size(), ServeSettings().size());

    std::string text = ReadText(JOULE_EXAMPLE_CONFIG);
    const auto at = text.find("\nthreads = 2\n");
    ASSERT_NE(at, std::string::npos);
    text.replace(at, 13, "\nthreads = 100\n");
    auto bad = ParseServeConfig(text, "joule.toml");
    ASSERT_FALSE(bad.has_value());
    EXPECT_NE(text.find("\"" + bad.error().field + ": " + bad.error().message + "\""),
              std::string::npos)
        << "the example quotes another error than " << bad.error().ToString();
}

// docs/configuration.md's table names every key and flag.
TEST(ServeConfigExample, TheConfigurationPageNamesEveryKeyAndFlag) {
    const std::string page = ReadText(JOULE_CONFIGURATION_DOC);
    ASSERT_FALSE(page.empty());
    for (const ServeSetting& s : ServeSettings()) {
        const std::string_view flag = s.flag.starts_with('!') ? s.flag.substr(1) : s.flag;
        EXPECT_NE(page.find("`" + std::string(s.key) + "`"), std::string::npos) << s.key;
        EXPECT_NE(page.find("`" + std::string(flag) + "`"), std::string::npos) << flag;
    }
}

TEST(ServeConfig, AFullFileSetsEverySetting) {
    auto file = ParseServeConfig(R"(
[store]
db = "/var/lib/joule/site.db"
[http]
listen = "0.0.0.0:8443"
threads = 8
write_threads = 4
secure_cookies = true
access_log = false
trusted_proxies = ["127.0.0.1", "::1"]
web_root = "/usr/share/joule/web"
public_url = "https://joule.example.com"
[tls]
cert = "/etc/joule/cert.pem"
key = "/etc/joule/key.pem"
[acquisition]
dtu_listen = "0.0.0.0:9510"
read_interval_s = 60
[mqtt]
broker = "broker.local:8883"
user = "platform"
password = "secret"
credentials = "/etc/joule/mqtt/credentials"
prefix = "site1"
cafile = "/etc/joule/mqtt/ca.pem"
capath = "/etc/ssl/certs"
certfile = "/etc/joule/mqtt/client.pem"
keyfile = "/etc/joule/mqtt/client.key"
[payments]
sandbox = true
wechat_app_id = "wx8888888888888888"
wechat_mch_id = "1900000109"
wechat_api_v3_key_file = "/etc/joule/pay/wechat-apiv3.key"
wechat_platform_keys = ["5157F09EFDC096DE=/etc/joule/pay/wechat-platform.pem"]
wechat_merchant_serial = "3775B6A45ACD5888"
wechat_merchant_key_file = "/etc/joule/pay/apiclient_key.pem"
wechat_api_base = "https://api2.mch.weixin.qq.com"
query_after_s = 300
alipay_app_id = "2021000000000001"
alipay_seller_id = "2088102146225135"
alipay_public_key_file = "/etc/joule/pay/alipay-public.pem"
alipay_private_key_file = "/etc/joule/pay/alipay-app.pem"
alipay_gateway = "https://openapi-sandbox.dl.alipaydev.com/gateway.do"
wechat_app_secret_file = "/etc/joule/pay/wechat-app-secret"
wechat_oauth_base = "https://open2.weixin.qq.com"
wechat_oauth_api_base = "https://api2.weixin.qq.com"
[notify]
quiet_hours = "22:00-07:00"
per_address_per_hour = 12
webhooks = false
smtp_url = "smtps://smtp.example.com:465"
smtp_from = "notice@mall.example.com"
smtp_from_name = "物业中心"
smtp_user = "notice"
smtp_password_file = "/etc/joule/notify/smtp-password"
smtp_require_tls = true
sms_endpoint = "https://dysmsapi.aliyuncs.com/"
sms_access_key_id = "LTAI5tExample"
sms_access_key_secret_file = "/etc/joule/notify/sms-secret"
sms_sign_name = "万达物业"
sms_templates = ["top_up=SMS_100001", "low_balance_1=SMS_100002"]
wechat_app_id = "wx1234567890abcdef"
wechat_app_secret_file = "/etc/joule/notify/wechat-secret"
wechat_api_base = "https://api.weixin.qq.com"
wechat_templates = ["top_up=TPL-topup"]
wechat_default_template = "TPL-general"
[tenant]
top_up_presets = ["30", "100", "300.50"]
show_codes = false
[run]
for_s = 3600
report_every_s = 30
)",
                                 "full.toml");
    ASSERT_TRUE(file.has_value()) << file.error().ToString();
    ServeOptions want;
    want.db_path = "/var/lib/joule/site.db";
    want.http_listen = "0.0.0.0:8443";
    want.http_threads = 8;
    want.http_write_threads = 4;
    want.secure_cookies = true;
    want.access_log = false;
    want.trusted_proxies = {"127.0.0.1", "::1"};
    want.web_root = "/usr/share/joule/web";
    want.public_url = "https://joule.example.com";
    want.tls_cert = "/etc/joule/cert.pem";
    want.tls_key = "/etc/joule/key.pem";
    want.dtu_listen = "0.0.0.0:9510";
    want.read_interval_s = 60;
    want.mqtt = "broker.local:8883";
    want.mqtt_user = "platform";
    want.mqtt_password = "secret";
    want.mqtt_credentials = "/etc/joule/mqtt/credentials";
    want.mqtt_prefix = "site1";
    want.mqtt_cafile = "/etc/joule/mqtt/ca.pem";
    want.mqtt_capath = "/etc/ssl/certs";
    want.mqtt_certfile = "/etc/joule/mqtt/client.pem";
    want.mqtt_keyfile = "/etc/joule/mqtt/client.key";
    want.payments_sandbox = true;
    want.wechat_app_id = "wx8888888888888888";
    want.wechat_mch_id = "1900000109";
    want.wechat_api_v3_key_file = "/etc/joule/pay/wechat-apiv3.key";
    want.wechat_platform_keys = {"5157F09EFDC096DE=/etc/joule/pay/wechat-platform.pem"};
    want.wechat_merchant_serial = "3775B6A45ACD5888";
    want.wechat_merchant_key_file = "/etc/joule/pay/apiclient_key.pem";
    want.wechat_api_base = "https://api2.mch.weixin.qq.com";
    want.payments_query_after_s = 300;
    want.alipay_app_id = "2021000000000001";
    want.alipay_seller_id = "2088102146225135";
    want.alipay_public_key_file = "/etc/joule/pay/alipay-public.pem";
    want.alipay_private_key_file = "/etc/joule/pay/alipay-app.pem";
    want.alipay_gateway = "https://openapi-sandbox.dl.alipaydev.com/gateway.do";
    want.wechat_app_secret_file = "/etc/joule/pay/wechat-app-secret";
    want.wechat_oauth_base = "https://open2.weixin.qq.com";
    want.wechat_oauth_api_base = "https://api2.weixin.qq.com";
    want.notify_quiet_hours = "22:00-07:00";
    want.notify_per_address_per_hour = 12;
    want.notify_webhooks = false;
    want.smtp_url = "smtps://smtp.example.com:465";
    want.smtp_from = "notice@mall.example.com";
    want.smtp_from_name = "物业中心";
    want.smtp_user = "notice";
    want.smtp_password_file = "/etc/joule/notify/smtp-password";
    want.smtp_require_tls = true;
    want.sms_endpoint = "https://dysmsapi.aliyuncs.com/";
    want.sms_access_key_id = "LTAI5tExample";
    want.sms_access_key_secret_file = "/etc/joule/notify/sms-secret";
    want.sms_sign_name = "万达物业";
    want.sms_templates = {"top_up=SMS_100001", "low_balance_1=SMS_100002"};
    want.wechat_mp_app_id = "wx1234567890abcdef";
    want.wechat_mp_app_secret_file = "/etc/joule/notify/wechat-secret";
    want.wechat_mp_api_base = "https://api.weixin.qq.com";
    want.wechat_mp_templates = {"top_up=TPL-topup"};
    want.wechat_mp_default_template = "TPL-general";
    want.tenant_top_up_presets = {"30", "100", "300.50"};
    want.run_for_s = 3600;
    want.report_every_s = 30;
    EXPECT_EQ(file->options, want);
    EXPECT_EQ(file->keys.size(), ServeSettings().size());
    EXPECT_TRUE(ValidateServeOptions(file->options).has_value());
    EXPECT_EQ(TenantPresetsFen(want.tenant_top_up_presets).value(),
              (std::vector<int64_t>{3'000, 10'000, 30'050}));
    // Codes shown in answers are for demos: never on a server that sends real SMS.
    ServeOptions demo_with_sms = want;
    demo_with_sms.tenant_show_codes = true;
    EXPECT_EQ(ValidateServeOptions(demo_with_sms).error().field, "tenant.show_codes");
    for (const std::vector<std::string>& bad :
         std::vector<std::vector<std::string>>{{"0"},
                                               {"50000.01"},
                                               {"1.005"},
                                               {"ten"},
                                               {"1", "2", "3", "4", "5", "6", "7", "8", "9"}}) {
        ServeOptions o;
        o.tenant_top_up_presets = bad;
        auto refused = ValidateServeOptions(o);
        ASSERT_FALSE(refused.has_value()) << bad.front();
        EXPECT_EQ(refused.error().field, "tenant.top_up_presets");
    }
}

TEST(ServeConfig, NotificationSettingsAreCheckedTogether) {
    const auto field_of = [](const char* text) {
        auto file = ParseServeConfig(text, "n.toml");
        if (!file) {
            return file.error().field;
        }
        auto valid = ValidateServeOptions(file->options);
        return valid ? std::string("valid") : valid.error().field;
    };
    EXPECT_EQ(field_of("[notify]\nquiet_hours = \"22:00\"\n"), "notify.quiet_hours");
    EXPECT_EQ(field_of("[notify]\nsmtp_url = \"smtp://mail:25\"\n"), "notify.smtp_from");
    EXPECT_EQ(field_of("[notify]\nsmtp_url = \"http://mail\"\nsmtp_from = \"a@b.c\"\n"),
              "notify.smtp_url");
    EXPECT_EQ(field_of("[notify]\nsms_access_key_id = \"id\"\n"),
              "notify.sms_access_key_secret_file");
    EXPECT_EQ(field_of("[notify]\nsms_access_key_id = \"id\"\nsms_access_key_secret_file = "
                       "\"/s\"\nsms_sign_name = \"x\"\nsms_templates = [\"nonsense=SMS_1\"]\n"),
              "notify.sms_templates");
    EXPECT_EQ(field_of("[notify]\nwechat_app_id = \"wx1\"\n"), "notify.wechat_app_secret_file");
    EXPECT_EQ(field_of("[notify]\nquiet_hours = \"22:00-07:00\"\n"), "valid");
}

TEST(ServeConfig, WhatTheFileDoesNotSayIsTheDefault) {
    auto empty = ParseServeConfig("", "empty.toml");
    ASSERT_TRUE(empty.has_value()) << empty.error().ToString();
    EXPECT_EQ(empty->options, ServeOptions{});
    EXPECT_TRUE(empty->keys.empty());

    auto some = ParseServeConfig("# only this\nhttp.threads = 4\n", "some.toml");
    ASSERT_TRUE(some.has_value()) << some.error().ToString();
    ServeOptions want;
    want.http_threads = 4;
    EXPECT_EQ(some->options, want);
    ASSERT_EQ(some->keys.size(), 1U);
    EXPECT_EQ(some->keys[0].key, "http.threads");
    EXPECT_EQ(some->keys[0].line, 2);

    auto none = ResolveServeOptions("", ServeOptions{}, {});
    ASSERT_TRUE(none.has_value()) << none.error().ToString();
    EXPECT_EQ(*none, ServeOptions{});
}

class ServeConfigFileTest : public ::testing::Test {
protected:
    void SetUp() override {
        path_ = (std::filesystem::temp_directory_path() /
                 ("joule-serve-config-" + std::to_string(getpid()) + ".toml"))
                    .string();
    }
    void TearDown() override { std::filesystem::remove(path_); }
    void Write(const std::string& text) { std::ofstream(path_, std::ios::binary) << text; }
    std::string path_;
};

TEST_F(ServeConfigFileTest, FlagsOverrideTheFile) {
    Write(R"([http]
listen = "127.0.0.1:9000"
threads = 4
access_log = true
trusted_proxies = ["10.0.0.1"]
web_root = "/srv/joule/web"
[run]
report_every_s = 30
)");
    ServeOptions flags;  // as the command line parsed them: defaults where no flag was given
    flags.http_threads = 8;
    flags.access_log = false;  // --no-access-log
    flags.trusted_proxies = {"127.0.0.1"};
    flags.web_root = "";  // --web-root "": no console
    flags.db_path = "flag.db";
    flags.report_every_s = 99;  // not given: the file's value stays
    auto options = ResolveServeOptions(
        path_, flags,
        {"http.threads", "http.access_log", "http.trusted_proxies", "http.web_root", "store.db"});
    ASSERT_TRUE(options.has_value()) << options.error().ToString();
    EXPECT_EQ(options->http_listen, "127.0.0.1:9000");  // the file
    EXPECT_EQ(options->http_threads, 8);                // the flag
    EXPECT_FALSE(options->access_log);
    EXPECT_EQ(options->trusted_proxies, std::vector<std::string>{"127.0.0.1"});
    EXPECT_EQ(options->web_root, "");
    EXPECT_EQ(options->db_path, "flag.db");
    EXPECT_EQ(options->report_every_s, 30);
    EXPECT_EQ(options->dtu_listen, ServeOptions{}.dtu_listen);  // neither: the default
}

TEST_F(ServeConfigFileTest, AMissingFileIsNotFound) {
    auto options = ResolveServeOptions(path_, ServeOptions{}, {});
    ASSERT_FALSE(options.has_value());
    EXPECT_EQ(options.error().code, ErrorCode::kNotFound);
    EXPECT_EQ(options.error().field, "config");
}

TEST_F(ServeConfigFileTest, ABadValueNamesTheFileLineAndKeyOrTheFlag) {
    Write("[http]\nlisten = \"127.0.0.1:0\"\n\nthreads = 65\n");
    auto from_file = ResolveServeOptions(path_, ServeOptions{}, {});
    ASSERT_FALSE(from_file.has_value());
    EXPECT_EQ(from_file.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(from_file.error().field, path_ + ":4: http.threads");
    EXPECT_EQ(from_file.error().message, "must be 1..64, got 65");

    Write("[http]\nthreads = 4\n");
    ServeOptions flags;
    flags.http_threads = 0;
    auto from_flag = ResolveServeOptions(path_, flags, {"http.threads"});
    ASSERT_FALSE(from_flag.has_value());
    EXPECT_EQ(from_flag.error().field, "--http-threads");
    EXPECT_EQ(from_flag.error().message, "must be 1..64, got 0");

    // Settings that go together are checked after the flags: the file's key is named with its
    // line, one the file does not set by its key.
    Write("[tls]\ncert = \"c.pem\"\n");
    auto half = ResolveServeOptions(path_, ServeOptions{}, {});
    ASSERT_FALSE(half.has_value());
    EXPECT_EQ(half.error().field, "tls.key");
    EXPECT_EQ(half.error().message, "needed with tls.cert");
    flags = ServeOptions{};
    flags.tls_key = "k.pem";
    EXPECT_TRUE(ResolveServeOptions(path_, flags, {"tls.key"}).has_value());
    flags.http_listen = "";
    auto no_listener = ResolveServeOptions(path_, flags, {"tls.key", "http.listen"});
    ASSERT_FALSE(no_listener.has_value());
    EXPECT_EQ(no_listener.error().field, path_ + ":2: tls.cert");
}

TEST(ServeConfigErrors, SyntaxErrorNamesTheLine) {
    const Error e = ParseError("[http]\nthreads = = 4\n");
    EXPECT_EQ(e.code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(e.field, "t.toml:2");
    EXPECT_FALSE(e.message.empty());
    EXPECT_EQ(ParseError("[http]\nthreads = 1\nthreads = 2\n").field, "t.toml:3");  // redefined
}

TEST(ServeConfigErrors, UnknownSectionsAndKeysAreRefused) {
    Error e = ParseError("[http]\nthread = 4\n");
    EXPECT_EQ(e.field, "t.toml:2: http.thread");
    EXPECT_NE(e.message.find("unknown key"), std::string::npos) << e.message;
    EXPECT_NE(e.message.find("threads"), std::string::npos) << e.message;  // what [http] has

    e = ParseError("\n[htp]\nthreads = 4\n");
    EXPECT_EQ(e.field, "t.toml:2: htp");
    EXPECT_NE(e.message.find("[http]"), std::string::npos) << e.message;

    e = ParseError("db = \"x.db\"\n");  // settings live in sections
    EXPECT_EQ(e.field, "t.toml:1: db");
    EXPECT_NE(e.message.find("settings live in the sections [store]"), std::string::npos)
        << e.message;

    e = ParseError("store = \"x.db\"\n");
    EXPECT_EQ(e.field, "t.toml:1: store");
    EXPECT_EQ(e.message, "must be a section [store], got a string");

    e = ParseError("[http.tls]\ncert = \"c.pem\"\n");  // a table where a value belongs
    EXPECT_EQ(e.field, "t.toml:1: http.tls");
}

TEST(ServeConfigErrors, WrongTypesAreRefused) {
    struct Case {
        const char* text;
        const char* field;
        const char* message;
    };
    for (const Case& c : {
             Case{"[http]\nthreads = \"4\"", "t.toml:2: http.threads",
                  "must be an integer, got a string"},
             Case{"[http]\nthreads = 4.0", "t.toml:2: http.threads",
                  "must be an integer, got a float"},
             Case{"[http]\nsecure_cookies = 1", "t.toml:2: http.secure_cookies",
                  "must be true or false, got an integer"},
             Case{"[store]\ndb = 1", "t.toml:2: store.db", "must be a string, got an integer"},
             Case{"[http]\ntrusted_proxies = \"127.0.0.1\"", "t.toml:2: http.trusted_proxies",
                  "must be an array of strings, got a string"},
             Case{"[http]\ntrusted_proxies = [\"127.0.0.1\", 1]", "t.toml:2: http.trusted_proxies",
                  "must be an array of strings, got an integer"},
             Case{"[run]\nfor_s = 1979-05-27", "t.toml:2: run.for_s",
                  "must be an integer, got a date or time"},
         }) {
        const Error e = ParseError(c.text);
        EXPECT_EQ(e.code, ErrorCode::kInvalidArgument) << c.text;
        EXPECT_EQ(e.field, c.field) << c.text;
        EXPECT_EQ(e.message, c.message) << c.text;
    }
}

TEST(ServeConfigErrors, ValuesOutOfRangeOrOfTheWrongFormAreRefused) {
    struct Case {
        const char* text;
        const char* field;
        const char* message;  // "" = only the field is checked
    };
    for (const Case& c : {
             Case{"[http]\nthreads = 0", "t.toml:2: http.threads", "must be 1..64, got 0"},
             Case{"[http]\nthreads = 4294967297", "t.toml:2: http.threads",
                  "must be 1..64, got 4294967297"},
             Case{"[acquisition]\nread_interval_s = -1", "t.toml:2: acquisition.read_interval_s",
                  "must be 0..86400, got -1"},
             Case{"[run]\nreport_every_s = 0", "t.toml:2: run.report_every_s",
                  "must be 1..86400, got 0"},
             Case{"[run]\nfor_s = -5", "t.toml:2: run.for_s", "must be 0..315360000, got -5"},
             Case{"[http]\nlisten = \"localhost:8080\"", "t.toml:2: http.listen", ""},
             Case{"[http]\nlisten = \"127.0.0.1:70000\"", "t.toml:2: http.listen", ""},
             Case{"[http]\nlisten = \"127.0.0.1\"", "t.toml:2: http.listen", ""},
             Case{"[acquisition]\ndtu_listen = \":9510\"", "t.toml:2: acquisition.dtu_listen", ""},
             Case{"[acquisition]\ndtu_listen = \"\"", "t.toml:2: acquisition.dtu_listen", ""},
             Case{"[mqtt]\nbroker = \"broker:0\"", "t.toml:2: mqtt.broker", ""},
             Case{"[http]\ntrusted_proxies = [\"proxy.local\"]", "t.toml:2: http.trusted_proxies",
                  "'proxy.local' is not an IP address"},
         }) {
        const Error e = ParseError(c.text);
        EXPECT_EQ(e.code, ErrorCode::kInvalidArgument) << c.text;
        EXPECT_EQ(e.field, c.field) << c.text;
        if (*c.message != '\0') {
            EXPECT_EQ(e.message, c.message) << c.text;
        }
    }
    // The forms that are fine.
    for (const char* text : {"[http]\nlisten = \"\"", "[http]\nlisten = \":8080\"",
                             "[http]\nlisten = \"[::1]:0\"", "[mqtt]\nbroker = \"broker.local\"",
                             "[http]\ntrusted_proxies = [\"::1\", \"10.1.2.3\"]"}) {
        auto parsed = ParseServeConfig(text, "t.toml");
        EXPECT_TRUE(parsed.has_value()) << text << ": " << parsed.error().ToString();
    }
}

TEST(ServeConfigErrors, SettingsThatGoTogether) {
    ServeOptions o;
    o.tls_key = "k.pem";
    auto e = ValidateServeOptions(o);
    ASSERT_FALSE(e.has_value());
    EXPECT_EQ(e.error().field, "tls.cert");

    o.tls_cert = "c.pem";
    EXPECT_TRUE(ValidateServeOptions(o).has_value());
    o.http_listen = "";
    e = ValidateServeOptions(o);
    ASSERT_FALSE(e.has_value());
    EXPECT_EQ(e.error().field, "tls.cert");

    o = ServeOptions{};
    o.mqtt = "127.0.0.1:1883";
    e = ValidateServeOptions(o);
    ASSERT_FALSE(e.has_value());
    EXPECT_EQ(e.error().field, "mqtt.password");
    o.mqtt_credentials = "mqtt/credentials";
    EXPECT_TRUE(ValidateServeOptions(o).has_value());
}

}  // namespace
}  // namespace joule::app

namespace joule::app {
namespace {

TEST(ServeConfig, PaymentProvidersAreConfiguredWholeOrNotAtAll) {
    ServeOptions o;
    o.wechat_app_id = "wx8888888888888888";
    auto partial = ValidateServeOptions(o);
    ASSERT_FALSE(partial.has_value());
    EXPECT_EQ(partial.error().field, "payments.wechat_mch_id");
    o.wechat_mch_id = "1900000109";
    o.wechat_api_v3_key_file = "/etc/joule/pay/apiv3.key";
    EXPECT_EQ(ValidateServeOptions(o).error().field, "payments.wechat_platform_keys");
    o.wechat_platform_keys = {"/etc/joule/pay/platform.pem"};  // no SERIAL=
    auto bare = ValidateServeOptions(o);
    ASSERT_FALSE(bare.has_value());
    EXPECT_NE(bare.error().message.find("SERIAL=path"), std::string::npos);
    o.wechat_platform_keys = {"5157F09E=/etc/joule/pay/a.pem", "5157F09E=/etc/joule/pay/b.pem"};
    auto twice = ValidateServeOptions(o);
    ASSERT_FALSE(twice.has_value());
    EXPECT_NE(twice.error().message.find("twice"), std::string::npos);
    o.wechat_platform_keys = {"5157F09E=/etc/joule/pay/platform.pem"};
    EXPECT_TRUE(ValidateServeOptions(o).has_value());
    o.wechat_merchant_key_file = "/etc/joule/pay/apiclient_key.pem";  // without its serial
    EXPECT_EQ(ValidateServeOptions(o).error().field, "payments.wechat_merchant_serial");
    o.wechat_merchant_serial = "3775B6A45ACD5888";
    EXPECT_TRUE(ValidateServeOptions(o).has_value());

    o.alipay_seller_id = "2088102146225135";
    EXPECT_EQ(ValidateServeOptions(o).error().field, "payments.alipay_app_id");

    o.alipay_public_key_file = "/etc/joule/pay/alipay.pem";
    auto alipay = ValidateServeOptions(o);
    ASSERT_FALSE(alipay.has_value());
    EXPECT_EQ(alipay.error().field, "payments.alipay_app_id");
    o.alipay_app_id = "2021000000000001";
    EXPECT_TRUE(ValidateServeOptions(o).has_value());

    // The address the providers notify and payers come back to: a plain http(s) origin.
    for (const char* bad :
         {"joule.example.com", "https://joule.example.com/", "https://",
          "https://x.example.com/?a=1", "ftp://x.example.com", "https://x.example.com/#top"}) {
        o.public_url = bad;
        EXPECT_EQ(ValidateServeOptions(o).error().field, "http.public_url") << bad;
    }
    o.public_url = "https://joule.example.com";
    EXPECT_TRUE(ValidateServeOptions(o).has_value());
    o.public_url = "https://pay.example.com:8443/joule";  // behind a proxy, under a path
    EXPECT_TRUE(ValidateServeOptions(o).has_value());

    ServeOptions keys_alone;
    keys_alone.alipay_private_key_file = "/etc/joule/pay/alipay-app.pem";
    EXPECT_EQ(ValidateServeOptions(keys_alone).error().field, "payments.alipay_app_id");
    keys_alone = ServeOptions{};
    keys_alone.wechat_app_secret_file = "/etc/joule/pay/wechat-secret";
    EXPECT_EQ(ValidateServeOptions(keys_alone).error().field, "payments.wechat_app_id");
}

}  // namespace
}  // namespace joule::app
