// WeChat Pay API v3 [PAY-2], the parts that are pure computation:
//  - notification verification: SHA256withRSA over "timestamp\nnonce\nbody\n" with the platform
//    key named by Wechatpay-Serial, the timestamp within a window of now, WeChat's
//    signature-test probes (signatures beginning "WECHATPAY/SIGNTEST/") refused, then the
//    resource decrypted (AEAD_AES_256_GCM with the APIv3 key) and its app id and merchant id
//    checked against ours;
//  - request signing for the calls we make (order creation, query, close, refund): the
//    Authorization header over "METHOD\nURL\ntimestamp\nnonce\nbody\n" with the merchant key;
//  - the JSAPI paySign a WeChat page needs to open the payment.
// The reply WeChat expects: 200 or 204 without a body for success; any other status (with
// {"code": "FAIL", "message": ...}) makes it retry (15 times over about 24 hours).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "base/error.hpp"
#include "core/payment_ports.hpp"

namespace joule::pay {

struct WechatPayConfig {
    std::string app_id;      // the official account's or mini program's appid
    std::string mch_id;      // the merchant number
    std::string api_v3_key;  // 32 bytes, set in the merchant platform
    // Platform certificates (or their public keys) in PEM, by serial number: WeChat names the
    // one it signed with in Wechatpay-Serial, and rotates them.
    std::map<std::string, std::string, std::less<>> platform_keys;
    Seconds timestamp_window{300};
};

// A request header by name (case-insensitive on the caller's side); "" when absent.
using HeaderLookup = std::function<std::string(std::string_view name)>;

inline constexpr std::size_t kMaxNotificationBytes = std::size_t{64} * 1024;

// The notice a WeChat Pay notification carries, or why it is refused: kUnauthenticated for a
// signature, probe, serial, timestamp or decryption that fails (field names the header or
// "resource"), kInvalidArgument for a malformed body or a transaction of another app or
// merchant. A transaction event that is not a success (or an event that is not a transaction)
// verifies with paid = false.
[[nodiscard]] Result<PaymentNotification> VerifyWechatNotification(const WechatPayConfig& config,
                                                                   const HeaderLookup& header,
                                                                   std::string_view body,
                                                                   Instant now);

// The signature WeChat Pay puts on its notifications and on the answers to our calls:
// Wechatpay-Timestamp (within the window), -Nonce, -Serial (a platform key we hold), -Signature
// (SHA256withRSA over "timestamp\nnonce\nbody\n"; probes refused). kUnauthenticated naming the
// header.
[[nodiscard]] Status VerifyWechatSignature(const WechatPayConfig& config,
                                           const HeaderLookup& header, std::string_view body,
                                           Instant now);

// The answer of the order query (GET WechatQueryPath), verified as WeChat signed it: the
// transaction as a notice — paid for trade_state SUCCESS, otherwise unpaid with its state
// (NOTPAY, CLOSED, REVOKED, PAYERROR, USERPAYING, REFUND) — of our app and merchant only [PAY-4].
[[nodiscard]] Result<PaymentNotification> ReadWechatTransaction(const WechatPayConfig& config,
                                                                const HeaderLookup& header,
                                                                std::string_view body, Instant now);
// "/v3/pay/transactions/out-trade-no/<order>?mchid=<mch>": the query's path and query string.
[[nodiscard]] std::string WechatQueryPath(std::string_view mch_id, std::string_view order_no);

struct WechatMerchantKey {
    std::string mch_id;
    std::string serial_no;        // the merchant certificate's serial number
    std::string private_key_pem;  // apiclient_key.pem
};

// The Authorization header value of a call to WeChat Pay: WECHATPAY2-SHA256-RSA2048 with
// mchid, nonce_str, timestamp, serial_no and the signature. `path` is the URL's path and query.
[[nodiscard]] Result<std::string> WechatAuthorization(const WechatMerchantKey& key,
                                                      std::string_view method,
                                                      std::string_view path, int64_t timestamp,
                                                      std::string_view nonce,
                                                      std::string_view body);

// The paySign of a JSAPI payment: SHA256withRSA over "appId\ntimeStamp\nnonceStr\npackage\n"
// ("package" is "prepay_id=..."), Base64.
[[nodiscard]] Result<std::string> WechatJsapiPaySign(const WechatMerchantKey& key,
                                                     std::string_view app_id, int64_t timestamp,
                                                     std::string_view nonce,
                                                     std::string_view package);

// Order creation [PAY-2]: what the payer's WeChat opens. JSAPI (a page inside WeChat, with the
// payer's openid in our official account), Native (a QR code), H5 (a phone browser outside
// WeChat, with the payer's address).
struct WechatPrepayRequest {
    std::string channel;      // "jsapi", "native", "h5"
    std::string order_no;     // our out_trade_no
    Money amount;             // fen
    std::string description;  // shown to the payer: "电费充值 A-101"; cut to 127 bytes
    std::string notify_url;   // https://.../api/v1/pay/notify/wechat
    Instant expires;          // the order's time_expire
    std::string openid;       // jsapi: the payer
    std::string client_ip;    // h5: the payer's address
};

// A call to make: POST `path` with the JSON `body`, signed by WechatAuthorization.
struct WechatCall {
    std::string path;
    std::string body;
};

// The prepay call of `r.channel`. kInvalidArgument naming "channel", "openid" (jsapi without
// one) or "client_ip" (h5 without one).
[[nodiscard]] Result<WechatCall> WechatPrepayCall(const WechatPayConfig& config,
                                                  const WechatPrepayRequest& r);

// The answer of a prepay call, verified as WeChat signed it: prepay_id (jsapi), code_url
// (native) or h5_url (h5). kUnauthenticated for a signature that does not verify,
// kInvalidArgument for an answer without the value.
[[nodiscard]] Result<std::string> ReadWechatPrepay(const WechatPayConfig& config,
                                                   const HeaderLookup& header,
                                                   std::string_view body, std::string_view channel,
                                                   Instant now);

// What a JSAPI page passes to WeixinJSBridge getBrandWCPayRequest.
struct WechatJsapiParams {
    std::string app_id;
    std::string time_stamp;  // Unix seconds, as text
    std::string nonce_str;
    std::string package;  // "prepay_id=..."
    std::string sign_type = "RSA";
    std::string pay_sign;
};
[[nodiscard]] Result<WechatJsapiParams> WechatJsapiParameters(const WechatMerchantKey& key,
                                                              std::string_view app_id,
                                                              std::string_view prepay_id,
                                                              int64_t timestamp,
                                                              std::string_view nonce);

// A refund [PAY-2]: POST /v3/refund/domestic/refunds. The same out_refund_no asked again is the
// same refund at WeChat, so a refund not answered is asked again with it.
struct WechatRefundRequest {
    std::string order_no;   // out_trade_no
    std::string refund_no;  // out_refund_no
    Money amount;           // refunded
    Money total;            // the order's
    std::string reason;     // shown to the payer; cut to 80 bytes
};
[[nodiscard]] WechatCall WechatRefundCall(const WechatRefundRequest& r);
// GET: where a refund is (the same answer as the refund's).
[[nodiscard]] std::string WechatRefundQueryPath(std::string_view refund_no);
// A refusal of a refund call (4xx), verified as WeChat signs it: WeChat's code when it is one
// that says no refund was made (PARAM_ERROR, INVALID_REQUEST, NOT_ENOUGH, NO_AUTH,
// USER_ACCOUNT_ABNORMAL, RESOURCE_NOT_EXISTS, ...); kUnavailable for anything else (an unsigned
// answer, a proxy's, SIGN_ERROR): unknown, so never a reason to give the money back.
[[nodiscard]] Result<std::string> ReadWechatRefundRefusal(const WechatPayConfig& config,
                                                          const HeaderLookup& header,
                                                          std::string_view body, Instant now);
// The refund's answer, verified and about `refund_no`: its state (SUCCESS, PROCESSING, CLOSED,
// ABNORMAL) and id.
// kUnauthenticated for a signature that does not verify; kInvalidArgument for another answer.
[[nodiscard]] Result<RefundAnswer> ReadWechatRefund(const WechatPayConfig& config,
                                                    const HeaderLookup& header,
                                                    std::string_view body,
                                                    std::string_view refund_no, Instant now);

// The day's trade bill [PAY-3]: GET WechatTradeBillPath (every payment and refund of the day,
// Beijing time), whose answer names where to download the file (for a few minutes) and its SHA1.
// WeChat signs the answer, not the file: the file is checked against the SHA1.
struct WechatBillFile {
    std::string download_url;
    std::string sha1_hex;  // lower case
};
[[nodiscard]] std::string WechatTradeBillPath(CivilDate day);
// The answer (of HTTP `status`), verified as WeChat signed it. nullopt for NO_STATEMENT_EXIST:
// no payment or refund that day. kUnavailable for anything to ask again later
// (STATEMENT_CREATING before about 10:00 the next day, an unsigned or 5xx answer);
// kUnauthenticated for a signature that does not verify; kInvalidArgument for another refusal.
[[nodiscard]] Result<std::optional<WechatBillFile>> ReadWechatTradeBill(
    const WechatPayConfig& config, const HeaderLookup& header, int status, std::string_view body,
    Instant now);
// The path and query of `download_url` to sign the download with, when it is at `api_base`'s
// origin or WeChat Pay's own (api.mch.weixin.qq.com, api2.mch.weixin.qq.com): our signature
// goes nowhere else. kInvalidArgument naming "download_url" otherwise.
[[nodiscard]] Result<std::string> WechatBillDownloadPath(std::string_view api_base,
                                                         std::string_view download_url);
// kUnauthenticated naming "file" when `file` is not the file of `sha1_hex`.
[[nodiscard]] Status CheckWechatBillFile(std::string_view file, std::string_view sha1_hex);

// WeChat Pay's error answer ({"code": ..., "message": ...}) as "CODE: message", or the start of
// a body that is not one; for the log and the staff's error.
[[nodiscard]] std::string WechatErrorText(std::string_view body);

// The official account's OAuth (scope snsapi_base: silent, no prompt), which gives the openid a
// JSAPI payment needs: the page to send the payer to, then the call that trades the code it
// returns with for the openid (path and query on the API base; the app secret is in it).
[[nodiscard]] std::string WechatOAuthUrl(std::string_view oauth_base, std::string_view app_id,
                                         std::string_view redirect_uri, std::string_view state);
[[nodiscard]] std::string WechatOAuthTokenPath(std::string_view app_id, std::string_view secret,
                                               std::string_view code);
// The openid in the token call's answer; kUnauthenticated ("code") for WeChat's errcode (an
// expired or used code), kInvalidArgument for an answer that is not one.
[[nodiscard]] Result<std::string> ReadWechatOAuthOpenid(std::string_view body);

// "2026-11-22T18:00:00+08:00": RFC 3339 in Beijing time, as WeChat Pay writes times.
[[nodiscard]] std::string WechatTime(Instant at);

}  // namespace joule::pay
