// Orders still unpaid a few minutes after they were made are asked about at their provider
// [PAY-4]: a payment whose notification was lost, or is still in the provider's retries, is
// credited within minutes instead of hours. What the provider answers goes through the same
// verification and the same exactly-once crediting as its notifications (PaymentService
// ConfirmPayment), so asking twice, or asking while the notification arrives, credits once.
//
// An order is asked about `after` its creation, then every `every`, until it is paid, closed, or
// `give_up_after` old (then it is the daily reconciliation's, docs/payments.md). A refund not
// answered, or still processing, is asked again every `every` until it succeeds or fails.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "app/provider_clients.hpp"
#include "base/error.hpp"
#include "core/payment_ports.hpp"
#include "core/ports.hpp"
#include "service/payment_service.hpp"

namespace joule::app {

struct PaymentQueryOptions {
    Seconds after{180};
    Seconds every{120};
    Seconds give_up_after{24 * 3600};
    int batch = 50;
};

struct QueryRound {
    int asked = 0;
    int credited = 0;         // paid at the provider and credited now
    int still_open = 0;       // not paid yet (or paid and credited before: nothing to do)
    int closed = 0;           // the provider will never be paid for it
    int failed = 0;           // could not be asked, or the answer did not verify
    int refunds_asked = 0;    // refunds still open asked about again
    int refunds_settled = 0;  // of them, now succeeded or failed
};

class PaymentQuerier {
public:
    PaymentQuerier(Store& store, PaymentService& payments, ProviderClients providers,
                   PaymentQueryOptions options = {})
        : store_(store), payments_(payments), providers_(std::move(providers)), options_(options) {}

    // Asks about up to a batch of the orders due now; call until `asked` is below the batch.
    [[nodiscard]] Result<QueryRound> RunOnce(Instant now);
    [[nodiscard]] bool empty() const { return providers_.empty(); }

private:
    Status RetryRefunds(Instant now, QueryRound& round);

    Store& store_;
    PaymentService& payments_;
    ProviderClients providers_;
    PaymentQueryOptions options_;
};

class StatementFetcher;

// The querier's RunOnce, then the statements' (when given), every `period` on a thread of its
// own, inside `joule serve`; stopped before the store closes.
class PaymentQueryLoop {
public:
    PaymentQueryLoop(PaymentQuerier& querier, StatementFetcher* statements,
                     std::function<Instant()> clock,
                     std::chrono::milliseconds period = std::chrono::seconds{30})
        : querier_(querier), statements_(statements), clock_(std::move(clock)), period_(period) {}
    ~PaymentQueryLoop() { Stop(); }
    PaymentQueryLoop(const PaymentQueryLoop&) = delete;
    PaymentQueryLoop& operator=(const PaymentQueryLoop&) = delete;
    void Start();
    void Stop();

private:
    void Round();

    PaymentQuerier& querier_;
    StatementFetcher* statements_;
    std::function<Instant()> clock_;
    std::chrono::milliseconds period_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace joule::app
