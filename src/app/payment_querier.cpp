#include "app/payment_querier.hpp"

#include <cstdio>
#include <vector>

namespace joule::app {

Result<QueryRound> PaymentQuerier::RunOnce(Instant now) {
    QueryRound round;
    if (providers_.empty()) {
        return round;
    }
    std::vector<PaymentOrderRecord> due;
    {
        JOULE_ASSIGN_OR_RETURN(auto tx, store_.BeginRead());
        JOULE_ASSIGN_OR_RETURN(
            due, tx->Payments().OrdersToQuery(now - options_.after, now - options_.give_up_after,
                                              now - options_.every, options_.batch));
    }
    for (const PaymentOrderRecord& order : due) {
        const auto provider = providers_.find(order.provider);
        if (provider == providers_.end()) {
            continue;  // the sandbox, or a provider this server no longer asks
        }
        ++round.asked;
        // Asked now, whatever comes of it: the next question waits `every`.
        const Status marked = store_.RunCommitted(
            [&](Tx& tx) { return tx.Payments().MarkOrderQueried(order.id, now); });
        if (!marked) {
            return std::unexpected(marked.error());
        }
        auto answer = provider->second->Query(order, now);
        if (!answer) {
            if (answer.error().code == ErrorCode::kNotFound) {
                ++round.still_open;  // not opened by the payer yet
                continue;
            }
            ++round.failed;
            std::fprintf(stderr, "payments: query of %s at %s: %s\n", order.order_no.c_str(),
                         order.provider.c_str(), answer.error().ToString().c_str());
            // An answer that does not verify is for finance to see; a provider that cannot be
            // reached is asked again in two minutes, without filling their log.
            if (answer.error().code != ErrorCode::kUnavailable) {
                (void)payments_.RecordRejected(
                    order.provider, "query of " + order.order_no + ": " + answer.error().ToString(),
                    now);
            }
            continue;
        }
        PaymentNotification notice = std::move(*answer);
        if (notice.order_no != order.order_no) {
            ++round.failed;
            (void)payments_.RecordRejected(
                order.provider, "query of " + order.order_no + " answered about " + notice.order_no,
                now);
            continue;
        }
        notice.event_id = "query";
        auto confirmed = payments_.ConfirmPayment(notice, now);
        if (!confirmed) {
            ++round.failed;
            continue;
        }
        switch (confirmed->outcome) {
            case PaymentOutcome::kCredited:
                ++round.credited;
                break;
            default:
                if (confirmed->order.state == PaymentOrderState::kClosed) {
                    ++round.closed;
                } else {
                    ++round.still_open;
                }
                break;
        }
    }
    return round;
}

}  // namespace joule::app

#include <mutex>

#include "api/credentials.hpp"
#include "app/live.hpp"
#include "app/payments.hpp"
#include "notify/http_client.hpp"
#include "pay/wechat_pay.hpp"

namespace joule::app {

namespace {

class WechatOrderQuery final : public OrderQuery {
public:
    WechatOrderQuery(std::shared_ptr<const pay::WechatPayConfig> config, pay::WechatMerchantKey key,
                     std::string api_base)
        : config_(std::move(config)), key_(std::move(key)), api_base_(std::move(api_base)) {}

    Result<PaymentNotification> Query(const PaymentOrderRecord& order, Instant now) override {
        const std::string path = pay::WechatQueryPath(config_->mch_id, order.order_no);
        const int64_t timestamp = now.time_since_epoch().count();
        JOULE_ASSIGN_OR_RETURN(
            std::string authorization,
            pay::WechatAuthorization(key_, "GET", path, timestamp, api::RandomHex(16), ""));
        std::lock_guard lock(mutex_);  // one client, one call at a time
        JOULE_ASSIGN_OR_RETURN(notify::HttpResponse response,
                               http_.Request("GET", api_base_ + path,
                                             {"Authorization: " + authorization,
                                              "Accept: application/json", "User-Agent: joule"},
                                             ""));
        const auto header = [&response](std::string_view name) {
            return std::string(response.Header(name));
        };
        if (response.status == 404 && response.body.find("ORDER_NOT_EXIST") != std::string::npos) {
            // Signed like every answer; an unsigned 404 could hide a paid order, so check it.
            JOULE_TRY(pay::VerifyWechatSignature(*config_, header, response.body, now));
            return NotFound("WeChat Pay has no order " + order.order_no, "order_no");
        }
        if (response.status != 200) {
            return MakeError(ErrorCode::kUnavailable, "WeChat Pay answered " +
                                                          std::to_string(response.status) + ": " +
                                                          response.body.substr(0, 200));
        }
        return pay::ReadWechatTransaction(*config_, header, response.body, now);
    }

private:
    std::shared_ptr<const pay::WechatPayConfig> config_;
    pay::WechatMerchantKey key_;
    std::string api_base_;
    std::mutex mutex_;
    notify::HttpClient http_{Seconds{10}};
};

}  // namespace

void PaymentQueryLoop::Start() {
    thread_ = std::thread([this] {
        while (true) {
            auto round = querier_.RunOnce(clock_());
            if (!round) {
                std::fprintf(stderr, "joule serve: payment queries: %s\n",
                             round.error().ToString().c_str());
            }
            std::unique_lock lock(mutex_);
            if (wake_.wait_for(lock, period_, [this] { return stopping_; })) {
                return;
            }
        }
    });
}

void PaymentQueryLoop::Stop() {
    {
        const std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) {
        thread_.join();
    }
}

std::shared_ptr<OrderQuery> MakeWechatOrderQuery(std::shared_ptr<const pay::WechatPayConfig> config,
                                                 const pay::WechatMerchantKey& key,
                                                 std::string api_base) {
    return std::make_shared<WechatOrderQuery>(std::move(config), key, std::move(api_base));
}

Result<std::map<std::string, std::shared_ptr<OrderQuery>, std::less<>>> MakeOrderQueries(
    const ServeOptions& o) {
    std::map<std::string, std::shared_ptr<OrderQuery>, std::less<>> out;
    if (!o.wechat_app_id.empty() && !o.wechat_merchant_key_file.empty()) {
        JOULE_ASSIGN_OR_RETURN(auto config, LoadWechatPayConfig(o));
        JOULE_ASSIGN_OR_RETURN(pay::WechatMerchantKey key, LoadWechatMerchantKey(o));
        out.emplace("wechat", MakeWechatOrderQuery(std::move(config), key, o.wechat_api_base));
    }
    return out;
}

}  // namespace joule::app
