#include "service/payment_service.hpp"
#include "base/utf8.hpp"
#include "service/project_lookup.hpp"

#include <algorithm>
#include <set>

namespace joule {
namespace {

bool IsOrderNo(std::string_view s) {
    return s.size() >= 6 && s.size() <= 32 && std::all_of(s.begin(), s.end(), [](char c) {
               return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '-';
           });
}

// The channels orders are made for at each provider (no app payments: there is no app).
bool KnownChannel(std::string_view provider, std::string_view channel) {
    if (provider == "wechat")
        return channel == "jsapi" || channel == "native" || channel == "h5";
    if (provider == "alipay")
        return channel == "page" || channel == "wap" || channel == "qr";
    if (provider == "sandbox")
        return channel == "sandbox";
    return false;
}

// Provider states that mean the order will never be paid.
bool Final(std::string_view state) {
    return state == "CLOSED" || state == "REVOKED" || state == "PAYERROR" ||
           state == "TRADE_CLOSED";
}

}  // namespace

std::string_view PaymentOutcomeName(PaymentOutcome outcome) {
    switch (outcome) {
        case PaymentOutcome::kCredited:
            return "credited";
        case PaymentOutcome::kAlreadyCredited:
            return "already_credited";
        case PaymentOutcome::kUnpaid:
            return "unpaid";
        case PaymentOutcome::kAmountMismatch:
            return "amount_mismatch";
        case PaymentOutcome::kDuplicatePayment:
            return "duplicate_payment";
        case PaymentOutcome::kNotCredited:
            return "not_credited";
    }
    return "unknown";
}

Result<PaymentOrderRecord> PaymentService::CreateOrder(const CreatePaymentRequest& r,
                                                       const Actor& actor, Instant now) {
    if (r.amount.fen <= 0 || r.amount > kMaxOnlinePayment) {
        return InvalidArgument("amount", "must be 0.01..50000.00 yuan");
    }
    if (r.provider != "wechat" && r.provider != "alipay" &&
        (r.provider != "sandbox" || !options_.sandbox)) {
        return InvalidArgument("provider", options_.sandbox
                                               ? "must be wechat, alipay or sandbox"
                                               : "must be wechat or alipay (the sandbox is off)");
    }
    if (!KnownChannel(r.provider, r.channel)) {
        return InvalidArgument("channel", "is not a channel of " + r.provider);
    }
    if (!IsOrderNo(r.order_no)) {
        return InvalidArgument("order_no", "must be 6..32 of A-Z a-z 0-9 _ -");
    }
    PaymentOrderRecord order;
    JOULE_TRY(store_.RunCommitted([&](Tx& tx) -> Status {
        JOULE_ASSIGN_OR_RETURN(const ProjectRecord project, RequireProject(tx, r.project_code));
        JOULE_ASSIGN_OR_RETURN(auto account, tx.FindAccount(project.id, r.account_number));
        if (!account) {
            return NotFound("no account " + r.account_number, "account_number");
        }
        if (account->status != AccountStatus::kOpen) {
            return FailedPrecondition("account '" + account->number + "' is closed",
                                      "account_number");
        }
        order = PaymentOrderRecord{};
        order.project = project.id;
        order.account = account->id;
        order.order_no = r.order_no;
        order.provider = r.provider;
        order.channel = r.channel;
        order.amount = r.amount;
        order.created_at = now;
        order.created_by = actor.name;
        JOULE_ASSIGN_OR_RETURN(order.id, tx.Payments().InsertPaymentOrder(order));
        return {};
    }));
    return order;
}

Result<PaymentResult> PaymentService::ConfirmPayment(const PaymentNotification& n, Instant now) {
    if (n.provider.empty() || n.order_no.size() > 64 || n.transaction_id.size() > 64) {
        return InvalidArgument("order_no", "must be at most 64 bytes, with its provider");
    }
    if (n.provider == "sandbox" && !options_.sandbox) {
        return InvalidArgument("provider", "the sandbox is off");
    }
    if (n.order_no.empty()) {
        if (n.paid) {
            return InvalidArgument("order_no", "a payment names its order");
        }
        // An event about none of our orders (a refund's own notice, say): recorded, acknowledged.
        JOULE_TRY(store_.RunCommitted([&](Tx& tx) -> Status {
            return tx.Payments().InsertPaymentNotification(PaymentNotificationRecord{
                0, now, n.provider, "", n.transaction_id, "unpaid", n.state.substr(0, 64)});
        }));
        PaymentResult unpaid;
        unpaid.outcome = PaymentOutcome::kUnpaid;
        return unpaid;
    }
    if (n.paid && (n.transaction_id.empty() || n.transaction_id.size() > 64 || n.amount.fen <= 0)) {
        return InvalidArgument("transaction_id", "a payment needs its transaction and amount");
    }
    PaymentResult result;
    std::optional<Error> refusal;  // recorded in the store, then returned
    std::optional<Error>
        not_credited;  // the account refused the credit: rolled back, then recorded
    const Status done = store_.RunCommitted([&](Tx& tx) -> Status {
        not_credited.reset();
        refusal.reset();
        result = PaymentResult{};
        PaymentTx& payments = tx.Payments();
        auto record = [&](std::string_view outcome, std::string_view detail) {
            return payments.InsertPaymentNotification(
                PaymentNotificationRecord{0, now, n.provider, n.order_no, n.transaction_id,
                                          std::string(outcome), std::string(detail)});
        };
        JOULE_ASSIGN_OR_RETURN(auto found, payments.FindPaymentOrder(n.order_no));
        if (!found) {
            refusal = Error{ErrorCode::kNotFound, "no order " + n.order_no, "order_no"};
            return record("unknown_order", n.state);
        }
        if (found->provider != n.provider) {
            refusal = Error{ErrorCode::kInvalidArgument,
                            "order " + n.order_no + " was made for " + found->provider, "provider"};
            return record("rejected", refusal->message);
        }
        result.order = *found;
        PaymentOrderRecord& order = result.order;
        const auto alarm = [&](std::string detail) {
            AlarmRecord a;
            a.project = order.project;
            a.account = order.account;
            a.kind = AlarmKind::kPaymentMismatch;
            a.raised_at = now;
            a.detail = std::move(detail);
            return tx.RaiseAlarm(a);
        };
        const std::string fen = std::to_string(n.amount.fen);
        if (!n.paid) {
            if (order.state == PaymentOrderState::kCreated && Final(n.state)) {
                JOULE_TRY(payments.ClosePaymentOrder(order.id));
                order.state = PaymentOrderState::kClosed;
            }
            result.outcome = PaymentOutcome::kUnpaid;
            return record(PaymentOutcomeName(result.outcome), n.state);
        }
        if (order.state == PaymentOrderState::kPaid) {
            if (order.transaction_id == n.transaction_id) {
                result.outcome = PaymentOutcome::kAlreadyCredited;
                return record(PaymentOutcomeName(result.outcome), "");
            }
            // The same order paid twice (two payer sessions): the money is in, not credited
            // twice; finance refunds one.
            result.outcome = PaymentOutcome::kDuplicatePayment;
            JOULE_TRY(alarm("order " + order.order_no + " paid again by " + n.provider + " " +
                            n.transaction_id + " (" + fen + " fen); credited once by " +
                            order.transaction_id));
            return record(PaymentOutcomeName(result.outcome), fen + " fen");
        }
        if (n.amount != order.amount) {
            result.outcome = PaymentOutcome::kAmountMismatch;
            JOULE_TRY(alarm("order " + order.order_no + " of " + std::to_string(order.amount.fen) +
                            " fen paid " + fen + " fen by " + n.provider + " " + n.transaction_id +
                            ": not credited"));
            return record(PaymentOutcomeName(result.outcome), fen + " fen");
        }
        const Instant paid_at = n.paid_at.value_or(now);
        if (auto marked =
                payments.MarkPaymentOrderPaid(order.id, n.transaction_id, paid_at, n.payer);
            !marked) {
            if (marked.error().code == ErrorCode::kAlreadyExists) {
                not_credited = marked.error();  // another order holds this transaction
            }
            return marked;
        }
        auto credited = billing_.TopUpInTx(
            tx, order.account, order.amount, order.provider, order.order_no,
            "pay:" + n.provider + ":" + n.transaction_id, Actor{"pay:" + n.provider}, now);
        if (!credited) {
            if (credited.error().code == ErrorCode::kFailedPrecondition ||
                credited.error().code == ErrorCode::kInvalidArgument ||
                credited.error().code == ErrorCode::kAlreadyExists) {
                not_credited = credited.error();
            }
            return std::unexpected(credited.error());  // the order turns back to unpaid
        }
        result.top_up = *credited;
        order.state = PaymentOrderState::kPaid;
        order.transaction_id = n.transaction_id;
        order.paid_at = paid_at;
        order.payer = n.payer;
        result.outcome = result.top_up.outcome == TopUpOutcome::kCredited
                             ? PaymentOutcome::kCredited
                             : PaymentOutcome::kAlreadyCredited;
        return record(PaymentOutcomeName(result.outcome), fen + " fen");
    });
    if (!done && not_credited) {
        // Money the provider holds for us that the account will not take: never lost silently.
        // Recorded and alarmed in a unit of work of its own, and acknowledged (retrying cannot
        // help); the order stays unpaid, for finance to refund through the provider.
        const std::string why = not_credited->ToString();
        const Status recorded = store_.RunCommitted([&](Tx& tx) -> Status {
            JOULE_ASSIGN_OR_RETURN(auto order, tx.Payments().FindPaymentOrder(n.order_no));
            if (!order) {
                return NotFound("no order " + n.order_no, "order_no");
            }
            result = PaymentResult{};
            result.order = *order;
            result.outcome = PaymentOutcome::kNotCredited;
            AlarmRecord a;
            a.project = order->project;
            a.account = order->account;
            a.kind = AlarmKind::kPaymentMismatch;
            a.raised_at = now;
            a.detail = "order " + order->order_no + " paid by " + n.provider + " " +
                       n.transaction_id + " but not credited: " + why;
            JOULE_TRY(tx.RaiseAlarm(a));
            return tx.Payments().InsertPaymentNotification(PaymentNotificationRecord{
                0, now, n.provider, n.order_no, n.transaction_id, "not_credited", why});
        });
        JOULE_TRY(recorded);
        return result;
    }
    JOULE_TRY(done);
    if (refusal) {
        return std::unexpected(*refusal);
    }
    return result;
}

Status PaymentService::RecordRejected(std::string_view provider, std::string_view detail,
                                      Instant now) {
    return store_.RunCommitted([&](Tx& tx) -> Status {
        return tx.Payments().InsertPaymentNotification(PaymentNotificationRecord{
            0, now, std::string(provider), "", "", "rejected", std::string(detail.substr(0, 512))});
    });
}

Result<std::optional<PaymentOrderRecord>> PaymentService::FindOrder(std::string_view order_no) {
    JOULE_ASSIGN_OR_RETURN(auto tx, store_.BeginRead());
    return tx->Payments().FindPaymentOrder(order_no);
}

Result<PaymentRefundRecord> PaymentService::RequestRefund(const RefundPaymentRequest& r,
                                                          const Actor& actor, Instant now) {
    if (r.amount <= Money{} || r.amount > kMaxOnlinePayment) {
        return InvalidArgument("amount", "must be 0.01 to 50,000 yuan");
    }
    if (r.reason.empty() || r.reason.size() > 256) {
        return InvalidArgument("reason", "must be 1 to 256 bytes");
    }
    if (r.idempotency_key.empty() || r.idempotency_key.size() > 64) {
        return InvalidArgument("idempotency_key", "must be 1 to 64 bytes");
    }
    if (!IsOrderNo(r.refund_no)) {
        return InvalidArgument("refund_no", "must be 6..32 of A-Z a-z 0-9 _ -");
    }
    PaymentRefundRecord out;
    const Status committed = store_.RunCommitted([&](Tx& tx) -> Status {
        JOULE_ASSIGN_OR_RETURN(const ProjectRecord project, RequireProject(tx, r.project_code));
        PaymentTx& payments = tx.Payments();
        JOULE_ASSIGN_OR_RETURN(auto order, payments.FindPaymentOrder(r.order_no));
        if (!order || order->project != project.id) {
            return NotFound("no payment order " + r.order_no.substr(0, 64), "order");
        }
        JOULE_ASSIGN_OR_RETURN(auto repeated,
                               payments.FindRefundByKey(project.id, r.idempotency_key));
        if (repeated) {
            if (repeated->order_id != order->id || repeated->amount != r.amount) {
                return MakeError(ErrorCode::kAlreadyExists, "the key was used for another refund",
                                 "idempotency_key");
            }
            out = *repeated;
            return {};
        }
        if (order->state != PaymentOrderState::kPaid) {
            return FailedPrecondition("is not paid: nothing to refund", "order");
        }
        JOULE_ASSIGN_OR_RETURN(auto earlier, payments.RefundsOfOrder(order->id));
        Money taken;
        for (const PaymentRefundRecord& f : earlier) {
            if (f.state != RefundState::kFailed) {
                taken += f.amount;
            }
        }
        if (taken + r.amount > order->amount) {
            return FailedPrecondition("is more than is left to refund of the order (" +
                                          std::to_string((order->amount - taken).fen) + " fen)",
                                      "amount");
        }
        PaymentRefundRecord refund;
        refund.refund_no = r.refund_no;
        refund.client_key = r.idempotency_key;
        refund.order_id = order->id;
        refund.order_no = order->order_no;
        refund.project = order->project;
        refund.account = order->account;
        refund.provider = order->provider;
        refund.amount = r.amount;
        refund.reason = r.reason;
        refund.requested_by = actor.name;
        refund.requested_at = now;
        JOULE_ASSIGN_OR_RETURN(refund.id, payments.InsertRefund(refund));
        JOULE_TRY(billing_.RefundInTx(
            tx, order->account, r.amount, order->provider,
            "refund:" + order->provider + ":" + r.refund_no,
            "refund " + r.refund_no + " of order " + order->order_no + ": " + r.reason, actor,
            now));
        out = std::move(refund);
        return {};
    });
    JOULE_TRY(committed);
    return out;
}

Result<PaymentRefundRecord> PaymentService::SettleRefund(std::string_view refund_no,
                                                         const Result<RefundAnswer>& answer,
                                                         Instant now) {
    PaymentRefundRecord out;
    const Status committed = store_.RunCommitted([&](Tx& tx) -> Status {
        JOULE_ASSIGN_OR_RETURN(auto found, tx.Payments().FindRefund(refund_no));
        if (!found) {
            return NotFound("no refund " + std::string(refund_no.substr(0, 64)), "refund");
        }
        PaymentRefundRecord refund = std::move(*found);
        if (refund.state == RefundState::kSucceeded || refund.state == RefundState::kFailed) {
            out = std::move(refund);
            return {};  // final: a late or repeated answer changes nothing
        }
        refund.tried_at = now;
        ++refund.tries;
        RefundState next = refund.state;
        if (answer) {
            next = answer->state;
            if (!answer->provider_refund_id.empty()) {
                refund.provider_refund_id = answer->provider_refund_id.substr(0, 64);
            }
            refund.detail = std::string(Utf8Prefix(answer->detail, 256));
        } else {
            // A refusal fails the refund only on its first ask, when the provider cannot have
            // taken it before: once asked, an error (a renewed key, a proxy, "already refunded")
            // says nothing about the refund, which only the provider's answer settles.
            const ErrorCode code = answer.error().code;
            const bool refused =
                code == ErrorCode::kInvalidArgument || code == ErrorCode::kFailedPrecondition;
            next = refused && refund.state == RefundState::kRequested && refund.tries == 1
                       ? RefundState::kFailed
                       : refund.state;
            refund.detail = std::string(Utf8Prefix(answer.error().message, 256));
        }
        const auto alarm = [&](const std::string& detail) -> Status {
            AlarmRecord a;
            a.project = refund.project;
            a.account = refund.account;
            a.kind = AlarmKind::kPaymentMismatch;
            a.raised_at = now;
            a.detail = std::move(detail);
            return tx.RaiseAlarm(a);
        };
        if (next == RefundState::kFailed) {
            // The payer did not get it: the money goes back on the account it came from.
            JOULE_TRY(billing_.ReturnRefundInTx(
                tx, refund.account, refund.amount, refund.provider,
                "refund-back:" + refund.provider + ":" + refund.refund_no,
                "refund " + refund.refund_no + " failed: " + refund.detail,
                Actor{"pay:" + refund.provider}, now));
            JOULE_TRY(alarm("refund " + refund.refund_no + " of order " + refund.order_no +
                            " failed at " + refund.provider + " (" + refund.detail +
                            "): the money is back on the account"));
            refund.finished_at = now;
        } else if (next == RefundState::kAbnormal && refund.state != RefundState::kAbnormal) {
            JOULE_TRY(alarm("refund " + refund.refund_no + " of order " + refund.order_no +
                            " is abnormal at " + refund.provider + " (" + refund.detail +
                            "): the payer's account refused it; return it in the provider's "
                            "merchant platform"));
        } else if (next == RefundState::kSucceeded) {
            refund.finished_at = now;
        }
        refund.state = next;
        JOULE_TRY(tx.Payments().UpdateRefund(refund));
        out = std::move(refund);
        return {};
    });
    JOULE_TRY(committed);
    return out;
}

Result<std::vector<PaymentRefundRecord>> PaymentService::RefundsOfOrder(std::string_view order_no) {
    JOULE_ASSIGN_OR_RETURN(auto tx, store_.BeginRead());
    JOULE_ASSIGN_OR_RETURN(auto order, tx->Payments().FindPaymentOrder(order_no));
    if (!order) {
        return std::vector<PaymentRefundRecord>{};
    }
    return tx->Payments().RefundsOfOrder(order->id);
}

Status PaymentService::CloseRefusedOrder(std::string_view order_no) {
    return store_.RunCommitted([&](Tx& tx) -> Status {
        JOULE_ASSIGN_OR_RETURN(auto order, tx.Payments().FindPaymentOrder(order_no));
        if (!order) {
            return NotFound("no payment order " + std::string(order_no), "order_no");
        }
        if (order->state != PaymentOrderState::kCreated) {
            return {};  // paid or closed meanwhile: nothing to undo
        }
        return tx.Payments().ClosePaymentOrder(order->id);
    });
}

}  // namespace joule

namespace joule {

namespace {

// A statement's day in Beijing time (UTC+8 all year): [start, start + 24 h).
Result<Instant> BeijingDayStart(CivilDate day) {
    return ParseInstant(FormatDate(day) + "T00:00:00+08:00", "date");
}

Result<CivilDate> BeijingDayOf(Instant at) {
    const auto local = date::floor<date::days>(at + std::chrono::hours{8});
    return CivilDate{local};
}

// A statement's day: `bill_date`, else its latest line's. Every payment line must be of that day;
// a refund line may name an earlier one (some bills date a refund by its payment). kInvalidArgument
// naming "provider" or "date".
Result<CivilDate> StatementDay(std::string_view provider, std::optional<CivilDate> bill_date,
                               const std::vector<StatementLine>& lines) {
    if (provider != "wechat" && provider != "alipay" && provider != "sandbox") {
        return InvalidArgument("provider", "must be wechat, alipay or sandbox");
    }
    std::optional<CivilDate> day = bill_date;
    if (!day) {
        if (lines.empty()) {
            return InvalidArgument("date", "a statement without lines needs its date");
        }
        const auto latest = std::max_element(
            lines.begin(), lines.end(),
            [](const StatementLine& a, const StatementLine& b) { return a.at < b.at; });
        JOULE_ASSIGN_OR_RETURN(day, BeijingDayOf(latest->at));
    }
    JOULE_ASSIGN_OR_RETURN(const Instant from, BeijingDayStart(*day));
    const Instant to = from + Seconds{24 * 3600};
    for (const StatementLine& line : lines) {
        const bool earlier_refund = line.kind == StatementLineKind::kRefund && line.at < from;
        if ((line.at < from && !earlier_refund) || line.at >= to) {
            return InvalidArgument("date", "row " + std::to_string(line.row) +
                                               " is of another day than " + FormatDate(*day) +
                                               ": a statement covers one day");
        }
    }
    return *day;
}

// Reconciles `lines` with `project`'s orders and ledger and records it, in the caller's unit of
// work (see PaymentService::Reconcile).
Result<Reconciliation> ReconcileProject(Tx& tx, const ProjectRecord& project,
                                        const std::string& provider, CivilDate day,
                                        const std::vector<StatementLine>& lines,
                                        const std::string& file_sha256, const Actor& actor,
                                        Instant now) {
    JOULE_ASSIGN_OR_RETURN(const Instant from, BeijingDayStart(day));
    const Instant to = from + Seconds{24 * 3600};
    PaymentTx& payments = tx.Payments();
    std::vector<ReconciledOrder> orders;
    std::set<std::string> known;
    const auto add = [&](const PaymentOrderRecord& o, bool of_the_day) -> Status {
        if (!known.insert(o.order_no).second) {
            return {};
        }
        ReconciledOrder ro;
        ro.order_no = o.order_no;
        ro.project = o.project;
        ro.account = o.account;
        ro.state = std::string(PaymentOrderStateName(o.state));
        ro.transaction_id = o.transaction_id;
        ro.amount = o.amount;
        ro.paid_at = o.paid_at;
        ro.of_the_day = of_the_day;
        if (o.state == PaymentOrderState::kPaid) {
            JOULE_ASSIGN_OR_RETURN(auto credit,
                                   tx.FindTransfer("pay:" + o.provider + ":" + o.transaction_id));
            if (credit) {
                ro.credited = credit->amount;
            }
        }
        orders.push_back(std::move(ro));
        return {};
    };
    JOULE_ASSIGN_OR_RETURN(auto paid_today,
                           payments.PaidOrdersBetween(project.id, provider, from, to));
    for (const PaymentOrderRecord& o : paid_today) {
        JOULE_TRY(add(o, true));
    }
    for (const StatementLine& line : lines) {
        if (known.contains(line.order_no)) {
            continue;
        }
        JOULE_ASSIGN_OR_RETURN(auto order, payments.FindPaymentOrder(line.order_no));
        // An order made for another provider is none of this statement's.
        if (order && order->provider == provider) {
            JOULE_TRY(add(*order, false));
        }
    }
    // Our refunds of the orders the statement's refund lines name.
    std::vector<ReconciledRefund> refunds;
    std::set<std::string> refunded_orders;
    for (const StatementLine& line : lines) {
        if (line.kind != StatementLineKind::kRefund ||
            !refunded_orders.insert(line.order_no).second) {
            continue;
        }
        JOULE_ASSIGN_OR_RETURN(auto order, payments.FindPaymentOrder(line.order_no));
        if (!order || order->provider != provider) {
            continue;
        }
        JOULE_ASSIGN_OR_RETURN(auto of_order, payments.RefundsOfOrder(order->id));
        for (PaymentRefundRecord& f : of_order) {
            refunds.push_back(ReconciledRefund{
                std::move(f.refund_no), std::move(f.provider_refund_id), f.order_no, f.project,
                f.account, f.amount, std::string(RefundStateName(f.state))});
        }
    }
    const ReconciliationResult result = joule::Reconcile(project.id, lines, orders, refunds);
    Reconciliation out;
    ReconciliationRun& run = out.run;
    run.project = project.id;
    run.provider = provider;
    run.bill_date = FormatDate(day);
    run.imported_at = now;
    run.imported_by = actor.name;
    run.file_sha256 = file_sha256;
    run.lines = result.lines;
    run.other_projects = result.other_projects;
    run.matched = result.matched;
    run.mismatches = std::ssize(result.mismatches);
    run.statement_paid = result.statement_paid;
    run.statement_refunded = result.statement_refunded;
    run.credited = result.credited;
    JOULE_ASSIGN_OR_RETURN(run.id, payments.InsertReconciliation(run, result.mismatches));
    out.mismatches = result.mismatches;
    // One alarm per account a mismatch is about, one for the project for the rest: finance
    // hears of every reconciliation that does not agree [PAY-3].
    std::set<int64_t> alarmed;
    for (const Mismatch& m : result.mismatches) {
        if (!alarmed.insert(m.account.value).second) {
            continue;
        }
        AlarmRecord a;
        a.project = project.id;
        a.account = m.account;
        a.kind = AlarmKind::kPaymentMismatch;
        a.raised_at = now;
        a.detail = "reconciliation " + std::to_string(run.id) + " (" + provider + " " +
                   run.bill_date + "): " + std::string(MismatchKindName(m.kind)) + " " +
                   m.order_no + (m.account.valid() ? "" : " and others of no account");
        JOULE_TRY(tx.RaiseAlarm(a));
    }
    JOULE_TRY(tx.InsertOperation(OperationBy(
        actor, now, project.id, "payments.reconcile", "reconciliation:" + std::to_string(run.id),
        "{\"provider\":\"" + provider + "\",\"date\":\"" + run.bill_date +
            "\",\"lines\":" + std::to_string(run.lines) +
            ",\"mismatches\":" + std::to_string(run.mismatches) + "}")));
    return out;
}

}  // namespace

Result<Reconciliation> PaymentService::Reconcile(const ReconcileRequest& r, const Actor& actor,
                                                 Instant now) {
    JOULE_ASSIGN_OR_RETURN(const CivilDate day, StatementDay(r.provider, r.bill_date, r.lines));
    Reconciliation out;
    const Status committed = store_.RunCommitted([&](Tx& tx) -> Status {
        JOULE_ASSIGN_OR_RETURN(const ProjectRecord project, RequireProject(tx, r.project_code));
        JOULE_ASSIGN_OR_RETURN(out, ReconcileProject(tx, project, r.provider, day, r.lines,
                                                     r.file_sha256, actor, now));
        return {};
    });
    if (!committed) {
        return std::unexpected(committed.error());
    }
    return out;
}

Result<std::vector<Reconciliation>> PaymentService::ReconcileFetched(const FetchedStatement& f,
                                                                     const Actor& actor,
                                                                     Instant now) {
    JOULE_ASSIGN_OR_RETURN(const CivilDate day, StatementDay(f.provider, f.day, f.lines));
    std::vector<Reconciliation> out;
    const Status committed = store_.RunCommitted([&](Tx& tx) -> Status {
        out.clear();
        const std::string bill_date = FormatDate(day);
        JOULE_ASSIGN_OR_RETURN(auto before,
                               tx.Payments().FindStatementDownload(f.provider, bill_date));
        if (before && before->done) {
            return {};  // reconciled meanwhile: once is enough
        }
        JOULE_ASSIGN_OR_RETURN(auto projects, tx.ListProjects());
        for (const ProjectRecord& project : projects) {
            JOULE_ASSIGN_OR_RETURN(
                Reconciliation done,
                ReconcileProject(tx, project, f.provider, day, f.lines, f.file_sha256, actor, now));
            out.push_back(std::move(done));
        }
        StatementDownload record = before.value_or(StatementDownload{});
        record.provider = f.provider;
        record.bill_date = bill_date;
        record.done = true;
        record.attempts += 1;
        record.last_attempt_at = now;
        record.last_error.clear();
        record.file_sha256 = f.file_sha256;
        record.lines = std::ssize(f.lines);
        return tx.Payments().SaveStatementDownload(record);
    });
    if (!committed) {
        return std::unexpected(committed.error());
    }
    return out;
}

Status PaymentService::RecordFetchFailure(std::string_view provider, CivilDate day,
                                          const Error& error, int64_t alarm_after, Instant now) {
    return store_.RunCommitted([&](Tx& tx) -> Status {
        const std::string bill_date = FormatDate(day);
        JOULE_ASSIGN_OR_RETURN(auto before,
                               tx.Payments().FindStatementDownload(provider, bill_date));
        StatementDownload record = before.value_or(StatementDownload{});
        if (record.done) {
            return {};
        }
        record.provider = provider;
        record.bill_date = bill_date;
        record.attempts += 1;
        record.last_attempt_at = now;
        record.last_error = error.ToString().substr(0, 500);
        if (record.attempts >= alarm_after && !record.alarmed) {
            // Finance reconciles by hand until it comes: every project hears of it, once.
            record.alarmed = true;
            JOULE_ASSIGN_OR_RETURN(auto projects, tx.ListProjects());
            for (const ProjectRecord& project : projects) {
                AlarmRecord a;
                a.project = project.id;
                a.kind = AlarmKind::kPaymentMismatch;
                a.raised_at = now;
                a.detail = "the " + std::string(provider) + " statement of " + bill_date +
                           " could not be fetched (" + std::to_string(record.attempts) +
                           " tries): " + record.last_error;
                JOULE_TRY(tx.RaiseAlarm(a));
            }
        }
        return tx.Payments().SaveStatementDownload(record);
    });
}

Result<std::optional<StatementDownload>> PaymentService::FindStatementDownload(
    std::string_view provider, CivilDate day) {
    JOULE_ASSIGN_OR_RETURN(auto tx, store_.BeginRead());
    return tx->Payments().FindStatementDownload(provider, FormatDate(day));
}

Result<std::vector<ReconciliationRun>> PaymentService::ListReconciliations(
    std::string_view project_code, int limit) {
    JOULE_ASSIGN_OR_RETURN(auto tx, store_.BeginRead());
    JOULE_ASSIGN_OR_RETURN(const ProjectRecord project, RequireProject(*tx, project_code));
    return tx->Payments().ListReconciliations(project.id, limit);
}

Result<Reconciliation> PaymentService::GetReconciliation(std::string_view project_code,
                                                         int64_t id) {
    JOULE_ASSIGN_OR_RETURN(auto tx, store_.BeginRead());
    JOULE_ASSIGN_OR_RETURN(auto project, tx->FindProject(project_code));
    JOULE_ASSIGN_OR_RETURN(auto run, tx->Payments().GetReconciliation(id));
    if (!project || !run || run->project != project->id) {
        return NotFound("no reconciliation " + std::to_string(id), "reconciliation");
    }
    Reconciliation out;
    out.run = std::move(*run);
    JOULE_ASSIGN_OR_RETURN(out.mismatches, tx->Payments().ListMismatches(id));
    return out;
}

}  // namespace joule
