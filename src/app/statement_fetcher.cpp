#include "app/statement_fetcher.hpp"

#include <algorithm>
#include <cstdio>
#include <vector>

#include "api/credentials.hpp"
#include "pay/statement.hpp"

namespace joule::app {

namespace {

constexpr auto kBeijing = std::chrono::hours{8};  // UTC+8 all year, no daylight saving

CivilDate BeijingDay(Instant at) { return CivilDate{date::floor<date::days>(at + kBeijing)}; }

}  // namespace

StatementSources StatementSourcesOf(const ProviderClients& clients) {
    StatementSources sources;
    for (const auto& [provider, client] : clients) {
        sources.emplace(provider, [client](CivilDate day, Instant now) {
            return client->DownloadStatement(day, now);
        });
    }
    return sources;
}

StatementSource SandboxStatementSource(Store& store) {
    return [&store](CivilDate day, Instant /*now*/) -> Result<std::optional<std::string>> {
        const Instant from{date::sys_days{day} - kBeijing};
        const Instant to = from + std::chrono::hours{24};
        std::vector<StatementLine> paid;
        JOULE_ASSIGN_OR_RETURN(auto tx, store.BeginRead());
        JOULE_ASSIGN_OR_RETURN(auto projects, tx->ListProjects());
        for (const ProjectRecord& project : projects) {
            JOULE_ASSIGN_OR_RETURN(
                auto orders, tx->Payments().PaidOrdersBetween(project.id, "sandbox", from, to));
            for (const PaymentOrderRecord& o : orders) {
                StatementLine line;
                line.transaction_id = o.transaction_id;
                line.order_no = o.order_no;
                line.amount = o.amount;
                line.at = o.paid_at.value_or(from);
                paid.push_back(std::move(line));
            }
        }
        if (paid.empty()) {
            return std::optional<std::string>();
        }
        std::sort(paid.begin(), paid.end(),
                  [](const StatementLine& a, const StatementLine& b) { return a.at < b.at; });
        return std::optional<std::string>(pay::WriteWechatTradeBill(paid));
    };
}

Result<std::optional<CivilDate>> StatementFetcher::FirstOrderDay(const std::string& provider) {
    if (const auto known = first_order_day_.find(provider); known != first_order_day_.end()) {
        return std::optional<CivilDate>(known->second);
    }
    JOULE_ASSIGN_OR_RETURN(auto tx, store_.BeginRead());
    JOULE_ASSIGN_OR_RETURN(std::optional<Instant> first, tx->Payments().FirstOrderAt(provider));
    if (!first) {
        return std::optional<CivilDate>();
    }
    const CivilDate day = BeijingDay(*first);
    first_order_day_.emplace(provider, day);
    return std::optional<CivilDate>(day);
}

Result<FetchRound> StatementFetcher::RunOnce(Instant now) {
    FetchRound round;
    if (last_round_ && now - *last_round_ < options_.check_every) {
        return round;
    }
    last_round_ = now;
    const date::sys_days today{BeijingDay(now)};
    // The day before is ready from ready_hour this morning; older days are ready.
    const bool yesterday_ready =
        now + kBeijing - date::sys_time<Seconds>(today) >= std::chrono::hours{options_.ready_hour};
    const Actor actor{"statement-fetch", "platform"};
    for (const auto& [provider, source] : sources_) {
        JOULE_ASSIGN_OR_RETURN(std::optional<CivilDate> first, FirstOrderDay(provider));
        if (!first) {
            continue;  // no order of ours at this provider yet
        }
        for (int back = options_.days_back; back >= 1; --back) {
            if (back == 1 && !yesterday_ready) {
                break;
            }
            const CivilDate day{today - date::days{back}};
            if (date::sys_days{day} < date::sys_days{*first}) {
                continue;
            }
            JOULE_ASSIGN_OR_RETURN(std::optional<StatementDownload> before,
                                   payments_.FindStatementDownload(provider, day));
            if (before && (before->done || now - before->last_attempt_at < options_.retry_every)) {
                continue;
            }
            const auto fail = [&](const Error& e) -> Status {
                ++round.failed;
                std::fprintf(stderr, "payments: %s statement of %s: %s\n", provider.c_str(),
                             FormatDate(day).c_str(), e.ToString().c_str());
                return payments_.RecordFetchFailure(provider, day, e, options_.alarm_after, now);
            };
            auto file = source(day, now);
            if (!file) {
                JOULE_TRY(fail(file.error()));
                continue;
            }
            FetchedStatement fetched;
            fetched.provider = provider;
            fetched.day = day;
            if (*file) {
                auto lines = pay::ParseStatement(provider, **file);
                if (!lines) {
                    JOULE_TRY(fail(lines.error()));
                    continue;
                }
                fetched.lines = std::move(*lines);
                fetched.file_sha256 = api::Sha256Hex(**file);
            }
            auto done = payments_.ReconcileFetched(fetched, actor, now);
            if (!done) {
                JOULE_TRY(fail(done.error()));
                continue;
            }
            ++round.fetched;
            int64_t found = 0;
            for (const Reconciliation& r : *done) {
                ++round.reconciliations;
                found += r.run.mismatches;
            }
            round.mismatches += found;
            std::printf(
                "payments: %s statement of %s: %zu lines, %zu reconciliations, %s "
                "mismatches\n",
                provider.c_str(), FormatDate(day).c_str(), fetched.lines.size(), done->size(),
                std::to_string(found).c_str());
        }
    }
    return round;
}

}  // namespace joule::app
