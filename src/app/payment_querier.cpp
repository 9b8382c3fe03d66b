#include "app/payment_querier.hpp"

#include <cstdio>
#include <exception>
#include <vector>

#include "app/statement_fetcher.hpp"

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
    JOULE_TRY(RetryRefunds(now, round));
    return round;
}

Status PaymentQuerier::RetryRefunds(Instant now, QueryRound& round) {
    // The open refunds of the providers this server calls, with their orders, in one read.
    std::vector<std::pair<PaymentRefundRecord, PaymentOrderRecord>> open;
    {
        JOULE_ASSIGN_OR_RETURN(auto tx, store_.BeginRead());
        JOULE_ASSIGN_OR_RETURN(auto refunds,
                               tx->Payments().RefundsToRetry(now - options_.every, options_.batch));
        for (PaymentRefundRecord& refund : refunds) {
            if (!providers_.contains(refund.provider)) {
                continue;
            }
            JOULE_ASSIGN_OR_RETURN(auto order, tx->Payments().FindPaymentOrder(refund.order_no));
            if (order) {
                open.emplace_back(std::move(refund), std::move(*order));
            }
        }
    }
    for (const auto& [refund, order] : open) {
        ++round.refunds_asked;
        const Result<RefundAnswer> answer =
            providers_.find(refund.provider)->second->Refund(refund, order, now);
        auto settled = payments_.SettleRefund(refund.refund_no, answer, now);
        if (!settled) {
            std::fprintf(stderr, "payments: refund %s: %s\n", refund.refund_no.c_str(),
                         settled.error().ToString().c_str());
            continue;
        }
        if (settled->state == RefundState::kSucceeded || settled->state == RefundState::kFailed) {
            ++round.refunds_settled;
        }
    }
    return {};
}

void PaymentQueryLoop::Round() {
    // A round that throws (out of memory, a bug) is reported; the loop goes on.
    try {
        auto round = querier_.RunOnce(clock_());
        if (!round) {
            std::fprintf(stderr, "joule serve: payment queries: %s\n",
                         round.error().ToString().c_str());
        }
        if (statements_ != nullptr) {
            auto fetched = statements_->RunOnce(clock_());
            if (!fetched) {
                std::fprintf(stderr, "joule serve: payment statements: %s\n",
                             fetched.error().ToString().c_str());
            }
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "joule serve: payment queries: %s\n", e.what());
    }
}

void PaymentQueryLoop::Start() {
    thread_ = std::thread([this] {
        while (true) {
            Round();
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

}  // namespace joule::app
