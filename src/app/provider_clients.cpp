#include "app/provider_clients.hpp"

#include <mutex>
#include <vector>

#include "api/credentials.hpp"
#include "base/percent_encode.hpp"
#include "notify/http_client.hpp"
#include "pay/alipay.hpp"
#include "pay/wechat_pay.hpp"

namespace joule::app {
namespace {

// A few libcurl clients (each one connection, one call at a time), so payers' orders do not wait
// for each other's calls.
class ClientPool {
public:
    Result<notify::HttpResponse> Request(std::string_view method, const std::string& url,
                                         const std::vector<std::string>& headers,
                                         std::string_view body) {
        std::unique_ptr<notify::HttpClient> client;
        {
            const std::lock_guard lock(mutex_);
            if (!idle_.empty()) {
                client = std::move(idle_.back());
                idle_.pop_back();
            }
        }
        if (!client) {
            client = std::make_unique<notify::HttpClient>(Seconds{10});
        }
        auto response = client->Request(method, url, headers, body);
        const std::lock_guard lock(mutex_);
        if (idle_.size() < kMaxIdle) {
            idle_.push_back(std::move(client));
        }
        return response;
    }

private:
    static constexpr std::size_t kMaxIdle = 8;
    std::mutex mutex_;
    std::vector<std::unique_ptr<notify::HttpClient>> idle_;
};

// Statement files, a few megabytes each, fetched a few times a day: one client, one at a time.
class FileFetcher {
public:
    Result<notify::HttpResponse> Get(const std::string& url,
                                     const std::vector<std::string>& headers) {
        const std::lock_guard lock(mutex_);
        return http_.Request("GET", url, headers, "");
    }

private:
    std::mutex mutex_;
    notify::HttpClient http_{Seconds{120}, kMaxStatementBytes};
};

// 5xx and 429 are the provider's trouble: the call may be made again.
bool Retriable(long status) {  // NOLINT(google-runtime-int): libcurl's type
    return status >= 500 || status == 429 || status == 408;
}

class WechatClient final : public ProviderClient {
public:
    WechatClient(std::shared_ptr<const pay::WechatPayConfig> config, pay::WechatMerchantKey key,
                 std::string api_base, std::string notify_url)
        : config_(std::move(config)),
          key_(std::move(key)),
          api_base_(std::move(api_base)),
          notify_url_(std::move(notify_url)) {}

    Result<PaymentNotification> Query(const PaymentOrderRecord& order, Instant now) override {
        JOULE_ASSIGN_OR_RETURN(
            notify::HttpResponse response,
            Call("GET", pay::WechatQueryPath(config_->mch_id, order.order_no), "", now));
        const auto header = HeaderOf(response);
        if (response.status == 404 && response.body.find("ORDER_NOT_EXIST") != std::string::npos) {
            // Signed like every answer; an unsigned 404 could hide a paid order, so check it.
            JOULE_TRY(pay::VerifyWechatSignature(*config_, header, response.body, now));
            return NotFound("WeChat Pay has no order " + order.order_no, "order_no");
        }
        if (response.status != 200) {
            return MakeError(ErrorCode::kUnavailable, "WeChat Pay answered " +
                                                          std::to_string(response.status) + ": " +
                                                          pay::WechatErrorText(response.body));
        }
        return pay::ReadWechatTransaction(*config_, header, response.body, now);
    }

    Result<api::PrepayAnswer> Prepay(const PaymentOrderRecord& order,
                                     const api::PrepayRequest& request, Instant now) override {
        if (notify_url_.empty()) {
            return InvalidArgument("provider", "http.public_url is not set: no notify_url");
        }
        pay::WechatPrepayRequest r;
        r.channel = order.channel;
        r.order_no = order.order_no;
        r.amount = order.amount;
        r.description = request.description;
        r.notify_url = notify_url_;
        r.expires = order.created_at + kOrderExpiry;
        r.openid = request.openid;
        r.client_ip = request.client_ip;
        JOULE_ASSIGN_OR_RETURN(pay::WechatCall call, pay::WechatPrepayCall(*config_, r));
        JOULE_ASSIGN_OR_RETURN(notify::HttpResponse response,
                               Call("POST", call.path, call.body, now));
        if (response.status != 200) {
            return MakeError(
                Retriable(response.status) ? ErrorCode::kUnavailable : ErrorCode::kInvalidArgument,
                "WeChat Pay refused the order (" + std::to_string(response.status) + " " +
                    pay::WechatErrorText(response.body) + ")",
                "provider");
        }
        JOULE_ASSIGN_OR_RETURN(
            std::string value,
            pay::ReadWechatPrepay(*config_, HeaderOf(response), response.body, order.channel, now));
        api::PrepayAnswer answer;
        if (order.channel == "jsapi") {
            JOULE_ASSIGN_OR_RETURN(
                pay::WechatJsapiParams p,
                pay::WechatJsapiParameters(key_, config_->app_id, value,
                                           now.time_since_epoch().count(), api::RandomHex(16)));
            answer.kind = "jsapi";
            answer.jsapi = {{"appId", p.app_id},       {"timeStamp", p.time_stamp},
                            {"nonceStr", p.nonce_str}, {"package", p.package},
                            {"signType", p.sign_type}, {"paySign", p.pay_sign}};
        } else if (order.channel == "native") {
            answer.kind = "qr";
            answer.url = std::move(value);
        } else {
            answer.kind = "redirect";
            answer.url = std::move(value);
            if (!request.return_url.empty()) {
                // WeChat sends the payer back here once the payment is done or given up.
                answer.url += "&redirect_url=" + PercentEncode(request.return_url);
            }
        }
        return answer;
    }

    Result<RefundAnswer> Refund(const PaymentRefundRecord& refund, const PaymentOrderRecord& order,
                                Instant now) override {
        if (refund.state == RefundState::kProcessing || refund.state == RefundState::kAbnormal) {
            // Taken by WeChat: only asked where it is, never made again.
            JOULE_ASSIGN_OR_RETURN(
                notify::HttpResponse response,
                Call("GET", pay::WechatRefundQueryPath(refund.refund_no), "", now));
            if (response.status != 200) {
                return MakeError(ErrorCode::kUnavailable,
                                 "WeChat Pay answered " + std::to_string(response.status) + ": " +
                                     pay::WechatErrorText(response.body));
            }
            return pay::ReadWechatRefund(*config_, HeaderOf(response), response.body,
                                         refund.refund_no, now);
        }
        const pay::WechatCall call = pay::WechatRefundCall(
            {order.order_no, refund.refund_no, refund.amount, order.amount, refund.reason});
        JOULE_ASSIGN_OR_RETURN(notify::HttpResponse response,
                               Call("POST", call.path, call.body, now));
        if (response.status != 200) {
            if (Retriable(response.status)) {
                return MakeError(ErrorCode::kUnavailable,
                                 "WeChat Pay answered " + std::to_string(response.status) + ": " +
                                     pay::WechatErrorText(response.body));
            }
            // A refusal only when WeChat signed it and its code says no refund was made.
            JOULE_ASSIGN_OR_RETURN(
                std::string code,
                pay::ReadWechatRefundRefusal(*config_, HeaderOf(response), response.body, now));
            return InvalidArgument("provider", "WeChat Pay refused the refund (" + code + ": " +
                                                   pay::WechatErrorText(response.body) + ")");
        }
        return pay::ReadWechatRefund(*config_, HeaderOf(response), response.body, refund.refund_no,
                                     now);
    }

    Result<std::optional<std::string>> DownloadStatement(CivilDate day, Instant now) override {
        JOULE_ASSIGN_OR_RETURN(notify::HttpResponse response,
                               Call("GET", pay::WechatTradeBillPath(day), "", now));
        JOULE_ASSIGN_OR_RETURN(
            std::optional<pay::WechatBillFile> bill,
            pay::ReadWechatTradeBill(*config_, HeaderOf(response),
                                     static_cast<int>(response.status), response.body, now));
        if (!bill) {
            return std::optional<std::string>();
        }
        JOULE_ASSIGN_OR_RETURN(std::string path,
                               pay::WechatBillDownloadPath(api_base_, bill->download_url));
        // The file is asked for like any call, signed; its answer is not signed: the SHA1 is.
        JOULE_ASSIGN_OR_RETURN(std::vector<std::string> headers, Headers("GET", path, "", now));
        JOULE_ASSIGN_OR_RETURN(notify::HttpResponse file, files_.Get(bill->download_url, headers));
        if (file.status != 200) {
            return MakeError(ErrorCode::kUnavailable, "WeChat Pay's trade bill download answered " +
                                                          std::to_string(file.status) + ": " +
                                                          pay::WechatErrorText(file.body));
        }
        JOULE_TRY(pay::CheckWechatBillFile(file.body, bill->sha1_hex));
        return std::optional<std::string>(std::move(file.body));
    }

private:
    static pay::HeaderLookup HeaderOf(const notify::HttpResponse& response) {
        return [&response](std::string_view name) { return std::string(response.Header(name)); };
    }

    Result<std::vector<std::string>> Headers(std::string_view method, const std::string& path,
                                             std::string_view body, Instant now) {
        JOULE_ASSIGN_OR_RETURN(
            std::string authorization,
            pay::WechatAuthorization(key_, method, path, now.time_since_epoch().count(),
                                     api::RandomHex(16), body));
        std::vector<std::string> headers{"Authorization: " + authorization,
                                         "Accept: application/json", "User-Agent: joule"};
        if (method == "POST") {
            headers.emplace_back("Content-Type: application/json");
        }
        return headers;
    }

    Result<notify::HttpResponse> Call(std::string_view method, const std::string& path,
                                      std::string_view body, Instant now) {
        JOULE_ASSIGN_OR_RETURN(std::vector<std::string> headers, Headers(method, path, body, now));
        return http_.Request(method, api_base_ + path, headers, body);
    }

    std::shared_ptr<const pay::WechatPayConfig> config_;
    pay::WechatMerchantKey key_;
    std::string api_base_;
    std::string notify_url_;
    ClientPool http_;
    FileFetcher files_;
};

class AlipayClient final : public ProviderClient {
public:
    AlipayClient(std::shared_ptr<const pay::AlipayConfig> config, pay::AlipayMerchant merchant,
                 std::string gateway, std::string notify_url)
        : config_(std::move(config)),
          merchant_(std::move(merchant)),
          gateway_(std::move(gateway)),
          notify_url_(std::move(notify_url)) {}

    Result<PaymentNotification> Query(const PaymentOrderRecord& order, Instant now) override {
        JOULE_ASSIGN_OR_RETURN(std::string form,
                               pay::AlipayQueryRequestText(merchant_, order.order_no, now));
        JOULE_ASSIGN_OR_RETURN(notify::HttpResponse response, Post(form));
        return pay::ReadAlipayTradeQuery(*config_, response.body);
    }

    Result<api::PrepayAnswer> Prepay(const PaymentOrderRecord& order,
                                     const api::PrepayRequest& request, Instant now) override {
        if (notify_url_.empty()) {
            return InvalidArgument("provider", "http.public_url is not set: no notify_url");
        }
        pay::AlipayOrderRequest r;
        r.channel = order.channel;
        r.order_no = order.order_no;
        r.amount = order.amount;
        r.subject = request.description;
        r.notify_url = notify_url_;
        r.return_url = request.return_url;
        r.now = now;
        r.expires = order.created_at + kOrderExpiry;
        JOULE_ASSIGN_OR_RETURN(std::string form, pay::AlipayOrderRequestText(merchant_, r));
        api::PrepayAnswer answer;
        if (order.channel != "qr") {
            // wap and page: the payer's browser opens the gateway with the signed order.
            answer.kind = "redirect";
            answer.url = gateway_ + "?" + form;
            return answer;
        }
        JOULE_ASSIGN_OR_RETURN(notify::HttpResponse response, Post(form));
        auto qr = pay::ReadAlipayPrecreate(*config_, response.body);
        if (!qr) {
            return std::unexpected(qr.error());
        }
        answer.kind = "qr";
        answer.url = std::move(*qr);
        return answer;
    }

    Result<RefundAnswer> Refund(const PaymentRefundRecord& refund, const PaymentOrderRecord& order,
                                Instant now) override {
        if (refund.state == RefundState::kProcessing || refund.state == RefundState::kAbnormal) {
            // Asked where it is (alipay.trade.fastpay.refund.query), never made again.
            JOULE_ASSIGN_OR_RETURN(std::string form,
                                   pay::AlipayRefundQueryRequestText(merchant_, order.order_no,
                                                                     refund.refund_no, now));
            JOULE_ASSIGN_OR_RETURN(notify::HttpResponse response, Post(form));
            return pay::ReadAlipayRefundQuery(*config_, response.body, order.order_no);
        }
        JOULE_ASSIGN_OR_RETURN(std::string form, pay::AlipayRefundRequestText(
                                                     merchant_, order.order_no, refund.refund_no,
                                                     refund.amount, refund.reason, now));
        JOULE_ASSIGN_OR_RETURN(notify::HttpResponse response, Post(form));
        return pay::ReadAlipayRefund(*config_, response.body, order.order_no);
    }

    Result<std::optional<std::string>> DownloadStatement(CivilDate day, Instant now) override {
        JOULE_ASSIGN_OR_RETURN(std::string form,
                               pay::AlipayBillUrlRequestText(merchant_, day, now));
        JOULE_ASSIGN_OR_RETURN(notify::HttpResponse response, Post(form));
        JOULE_ASSIGN_OR_RETURN(std::optional<std::string> url,
                               pay::ReadAlipayBillUrl(*config_, response.body));
        if (!url) {
            return std::optional<std::string>();
        }
        JOULE_ASSIGN_OR_RETURN(notify::HttpResponse file, files_.Get(*url, {"User-Agent: joule"}));
        if (file.status != 200) {
            return MakeError(ErrorCode::kUnavailable,
                             "Alipay's bill download answered " + std::to_string(file.status));
        }
        return std::optional<std::string>(std::move(file.body));
    }

private:
    Result<notify::HttpResponse> Post(std::string_view form) {
        JOULE_ASSIGN_OR_RETURN(
            notify::HttpResponse response,
            http_.Request("POST", gateway_,
                          {"Content-Type: application/x-www-form-urlencoded;charset=utf-8",
                           "Accept: application/json", "User-Agent: joule"},
                          form));
        if (response.status != 200) {
            return MakeError(ErrorCode::kUnavailable, "Alipay answered " +
                                                          std::to_string(response.status) + ": " +
                                                          response.body.substr(0, 200));
        }
        return response;
    }

    std::shared_ptr<const pay::AlipayConfig> config_;
    pay::AlipayMerchant merchant_;
    std::string gateway_;
    std::string notify_url_;
    ClientPool http_;
    FileFetcher files_;
};

}  // namespace

std::shared_ptr<ProviderClient> MakeWechatClient(std::shared_ptr<const pay::WechatPayConfig> config,
                                                 const pay::WechatMerchantKey& key,
                                                 std::string api_base, std::string notify_url) {
    return std::make_shared<WechatClient>(std::move(config), key, std::move(api_base),
                                          std::move(notify_url));
}

std::shared_ptr<ProviderClient> MakeAlipayClient(std::shared_ptr<const pay::AlipayConfig> config,
                                                 const pay::AlipayMerchant& merchant,
                                                 std::string gateway, std::string notify_url) {
    return std::make_shared<AlipayClient>(std::move(config), merchant, std::move(gateway),
                                          std::move(notify_url));
}

std::function<Result<std::string>(std::string_view code)> MakeWechatOpenidLookup(
    std::string app_id, std::string app_secret, std::string api_base) {
    auto http = std::make_shared<ClientPool>();
    return [http, app_id = std::move(app_id), app_secret = std::move(app_secret),
            api_base = std::move(api_base)](std::string_view code) -> Result<std::string> {
        JOULE_ASSIGN_OR_RETURN(
            notify::HttpResponse response,
            http->Request("GET", api_base + pay::WechatOAuthTokenPath(app_id, app_secret, code),
                          {"Accept: application/json", "User-Agent: joule"}, ""));
        if (response.status != 200) {
            return MakeError(ErrorCode::kUnavailable,
                             "WeChat OAuth answered " + std::to_string(response.status));
        }
        return pay::ReadWechatOAuthOpenid(response.body);
    };
}

}  // namespace joule::app
