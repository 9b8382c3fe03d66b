// The providers' daily statements fetched by the server itself [PAY-3]: each morning (Beijing
// time) the day before's statement of every provider this server calls is downloaded (WeChat
// Pay's trade bill, Alipay's bill zip), read, and reconciled for every project in one unit of
// work (PaymentService::ReconcileFetched), so finance finds the reconciliation made and its
// mismatches alarmed. A statement not ready or not reachable is asked for again every
// `retry_every`; one that keeps failing is alarmed once. A server that was down catches up the
// last `days_back` days, but never a day before its first order at that provider: a statement of
// payments taken by another system is not ours to judge.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "app/provider_clients.hpp"
#include "base/error.hpp"
#include "service/payment_service.hpp"

namespace joule::app {

struct StatementFetchOptions {
    int ready_hour = 10;  // Beijing time: WeChat makes the day before's by about 10:00
    int days_back = 7;
    Seconds retry_every{1800};
    int64_t alarm_after = 6;  // failures (three hours at the default retry)
    Seconds check_every{300};
};

// Where each provider's statement of a day comes from: ProviderClient::DownloadStatement for
// WeChat Pay and Alipay, SandboxStatementSource for the sandbox.
using StatementSource =
    std::function<Result<std::optional<std::string>>(CivilDate day, Instant now)>;
using StatementSources = std::map<std::string, StatementSource, std::less<>>;

// The statements of the providers `clients` reach.
[[nodiscard]] StatementSources StatementSourcesOf(const ProviderClients& clients);
// The sandbox provider's statement of a day: a trade bill (WeChat's format) of the sandbox
// payments credited that day, read from the store — the sandbox has no memory of its own. nullopt
// for a day without any, as WeChat says NO_STATEMENT_EXIST. It lists no refunds.
[[nodiscard]] StatementSource SandboxStatementSource(Store& store);

struct FetchRound {
    int fetched = 0;          // statements fetched and reconciled
    int reconciliations = 0;  // project runs recorded
    int64_t mismatches = 0;
    int failed = 0;
};

class StatementFetcher {
public:
    StatementFetcher(Store& store, PaymentService& payments, StatementSources sources,
                     StatementFetchOptions options = {})
        : store_(store), payments_(payments), sources_(std::move(sources)), options_(options) {}

    // Fetches and reconciles what is due now; nothing when the last round was under
    // check_every ago.
    [[nodiscard]] Result<FetchRound> RunOnce(Instant now);

private:
    // The first day (Beijing) this server has an order at `provider`; nullopt: none yet.
    Result<std::optional<CivilDate>> FirstOrderDay(const std::string& provider);

    Store& store_;
    PaymentService& payments_;
    StatementSources sources_;
    StatementFetchOptions options_;
    std::optional<Instant> last_round_;
    std::map<std::string, CivilDate, std::less<>> first_order_day_;  // once known, it stays
};

}  // namespace joule::app
