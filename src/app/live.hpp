// `joule serve`, `joule sim` and the live demo site: the composition of store, services, the
// acquisition runtime and the simulated site.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/error.hpp"

namespace joule::app {

struct ServeOptions {
    std::string db_path = "joule.db";
    // The HTTP API ("" = off). Loopback by default; expose it through a reverse proxy with TLS,
    // or set secure_cookies when TLS terminates in front of it.
    std::string http_listen = "127.0.0.1:8080";
    int http_threads = 2;
    int http_write_threads = 32;
    bool secure_cookies = false;  // implied by tls_cert
    bool access_log = true;
    // Peers whose X-Forwarded-For names the client (a reverse proxy's address); empty: the TCP
    // peer is the client.
    std::vector<std::string> trusted_proxies;
    // The web console's files (index.html, assets/), served at every path outside the API's;
    // "" = none. By default where `make web` builds them in the source tree.
    std::string web_root = JOULE_WEB_ROOT;
    // HTTPS on the HTTP listener when both are set: PEM certificate chain and private key.
    std::string tls_cert;
    std::string tls_key;
    std::string dtu_listen = "127.0.0.1:9510";
    int64_t read_interval_s = 0;  // > 0 overrides every project's schedule
    int64_t run_for_s = 0;        // 0: until interrupted
    int64_t report_every_s = 10;
    // MQTT gateways: the broker to subscribe to ("" = no MQTT) and the platform's account.
    std::string mqtt;  // host:port
    std::string mqtt_user = "joule-platform";
    std::string mqtt_password;
    // Where the password comes from when mqtt_password is empty: the credentials file written by
    // `joule mqtt-auth` (the mqtt_user line).
    std::string mqtt_credentials;
    // TLS when cafile or capath is set (MqttOptions): the broker's certificate is verified,
    // hostname included; certfile/keyfile: a client certificate, if the broker asks for one.
    std::string mqtt_cafile;
    std::string mqtt_prefix = "joule";  // topic prefix, as given to joule mqtt-auth --prefix
    std::string mqtt_capath;
    std::string mqtt_certfile;
    std::string mqtt_keyfile;
    // Payments [PAY-2] (docs/payments.md). The sandbox provider credits money nobody paid: the
    // demo's and tests' only.
    bool payments_sandbox = false;
    // WeChat Pay API v3: all four or none. Platform keys as "SERIAL=path" (a certificate or a
    // public key in PEM), one per key WeChat may sign with.
    std::string wechat_app_id;
    std::string wechat_mch_id;
    std::string wechat_api_v3_key_file;  // the 32-byte APIv3 key
    std::vector<std::string> wechat_platform_keys;
    // The calls we make to WeChat Pay (the order query [PAY-4]): the merchant key
    // (apiclient_key.pem) and its certificate's serial number, and the API's address.
    std::string wechat_merchant_serial;
    std::string wechat_merchant_key_file;
    std::string wechat_api_base = "https://api.mch.weixin.qq.com";
    // An order still unpaid this long after it was made is asked about at its provider.
    int64_t payments_query_after_s = 180;
    // Alipay: the app id and Alipay's public key (PEM) together; the seller id is optional.
    std::string alipay_app_id;
    std::string alipay_seller_id;
    std::string alipay_public_key_file;
    // The orders we make at Alipay [PAY-2]: the app's own private key, and the gateway.
    std::string alipay_private_key_file;
    std::string alipay_gateway = "https://openapi.alipay.com/gateway.do";
    // The payers' openid for WeChat JSAPI payments: the official account's OAuth with its
    // AppSecret (the same account as wechat_app_id).
    std::string wechat_app_secret_file;
    std::string wechat_oauth_base = "https://open.weixin.qq.com";
    std::string wechat_oauth_api_base = "https://api.weixin.qq.com";
    // The address payers and providers reach this server at ("https://joule.example.com"):
    // the providers' notify_url, the OAuth redirect and the pages payers come back to.
    std::string public_url;
    // Notifications [ALM-3] (docs/notifications.md): the channels this server sends on. Email
    // with an SMTP URL, SMS with an access key, WeChat with an app id; webhooks unless turned off.
    std::string notify_quiet_hours;  // "22:00-07:00": people's messages wait; "" = none
    int64_t notify_per_address_per_hour = 30;
    bool notify_webhooks = true;
    std::string smtp_url;  // smtp://host:587 or smtps://host:465
    std::string smtp_from;
    std::string smtp_from_name;
    std::string smtp_user;
    std::string smtp_password_file;
    bool smtp_require_tls = false;
    std::string sms_endpoint = "https://dysmsapi.aliyuncs.com/";
    std::string sms_access_key_id;
    std::string sms_access_key_secret_file;
    std::string sms_sign_name;
    std::vector<std::string> sms_templates;  // "kind=TEMPLATE_CODE"
    std::string wechat_mp_app_id;
    std::string wechat_mp_app_secret_file;
    std::string wechat_mp_api_base = "https://api.weixin.qq.com";
    std::vector<std::string> wechat_mp_templates;  // "kind=TEMPLATE_ID"
    std::string wechat_mp_default_template;
    // Tenants' pages [PAY-1] (docs/tenant.md): the top-up amounts offered, in yuan, and (demos
    // only) sign-in codes shown in the answer.
    std::vector<std::string> tenant_top_up_presets{"50", "100", "200", "500"};
    bool tenant_show_codes = false;

    bool operator==(const ServeOptions&) const = default;
};
[[nodiscard]] Status RunServe(const ServeOptions& options);

// `joule admin create`: a user for the HTTP API and the console.
struct AdminCreateOptions {
    std::string db_path = "joule.db";
    std::string username;
    std::string password;  // "" = read one line from stdin
    std::string role = "admin";
    bool all_projects = false;
    std::vector<std::string> projects;
};
[[nodiscard]] Status RunAdminCreate(const AdminCreateOptions& options);

struct SimOptions {
    std::string db_path = "joule.db";
    std::string dtu_connect = "127.0.0.1:9510";
    int64_t speed = 4;
    int loss_percent = 0;
    std::string offline_gateway;
    int64_t offline_after_s = 0;
    int64_t offline_for_s = 0;
    int64_t run_for_s = 0;
    int64_t load_watts = 0;
    bool freeze_every_minute = false;
    std::vector<std::string> extra_meters;
    std::vector<std::string> faults;
    int garbage_percent = 0;
    // MQTT gateways: the broker ("" = not played), TLS CA, the credentials file written by
    // `joule mqtt-auth` (each gateway logs in with its own line), how often they read.
    std::string mqtt;
    std::string mqtt_cafile;
    std::string mqtt_prefix = "joule";  // topic prefix, as given to joule mqtt-auth --prefix
    std::string mqtt_credentials;
    int64_t mqtt_read_interval_s = 60;
};
[[nodiscard]] Status RunSim(const SimOptions& options);

struct MqttAuthCliOptions {
    std::string db_path = "joule.db";
    std::string dir;
    std::string topic_prefix = "joule";
    std::string platform_username = "joule-platform";
    std::string mosquitto_passwd = "mosquitto_passwd";
};
// `joule mqtt-auth`: broker credentials for the site's MQTT gateways (app/mqtt_credentials.hpp).
[[nodiscard]] Status RunMqttAuth(const MqttAuthCliOptions& options);

// The MQTT gateway's shops are rooms A401..A499.
inline constexpr int kMaxMqttMeters = 99;

struct LiveSiteOptions {
    std::string db_path = "build/demo.db";
    std::string models_dir = JOULE_DEFAULT_MODELS_DIR;
    int shops = 300;
    int public_meters = 50;
    int water_meters = 20;
    int mqtt_meters = 30;          // prepaid shops on an MQTT edge gateway (gw-mqtt), 0..99
    int modbus_port = 9502;        // the simulated Modbus-TCP gateway listens here
    int64_t first_top_up_fen = 0;  // > 0: every shop's first top-up; else 2.50..7.00 yuan
};
// Recreates `db_path` with a mall: shops on three DTU gateways, public-area meters on a Modbus-TCP
// gateway, water meters on a fourth DTU, more shops on an MQTT edge gateway, accounts opened with
// small balances so that alarms, trips and top-ups show within minutes. kInvalidArgument
// ("mqtt_meters") for more than kMaxMqttMeters MQTT shops.
[[nodiscard]] Status InitLiveSite(const LiveSiteOptions& options);

}  // namespace joule::app
