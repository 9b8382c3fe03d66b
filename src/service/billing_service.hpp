// The billing use cases. Each public call is one unit of work: it begins a transaction on the
// store, loads what it needs, runs the pure core, persists every effect (ledger transfers,
// readings, billing state, alarms, commands, outbox, operation log) and commits — or changes
// nothing and returns the error. `now` is always an argument; the service reads no clock.
//
// Thread-safety: one BillingService per store; calls are serialized by the store's writer lock.
#pragma once

#include <optional>
#include <span>
#include <unordered_map>

#include "service/requests.hpp"

namespace joule {

// The purchase count a purchase command brings its meter to; nullopt for other commands.
[[nodiscard]] std::optional<int64_t> PurchaseCountOf(const CommandRecord& command);

class BillingService {
public:
    explicit BillingService(Store& store) : store_(store) {}

    // Opens an account [ACCT-2]: tenant, tariff, alarm scheme, meters with their opening
    // readings, and an optional first top-up. kAlreadyExists when the number is taken or a meter
    // is bound to another account; kNotFound for an unknown project, tariff or meter.
    [[nodiscard]] Result<AccountId> OpenAccount(const OpenAccountRequest& r, const Actor& actor,
                                                Instant now);
    // The same inside the caller's unit of work, so an import opens many accounts all or none.
    // On an error the caller must roll back (drop `tx` without committing): a failed opening may
    // have written part of its rows.
    [[nodiscard]] Result<AccountId> OpenAccountInTx(Tx& tx, const OpenAccountRequest& r,
                                                    const Actor& actor, Instant now);

    // Counter or online top-up [ACCT-3] with debt recovery [ACCT-9]. Idempotent on
    // `idempotency_key`: the same key with the same amount and account returns kAlreadyCredited;
    // with different fields, kAlreadyExists (field "idempotency_key").
    [[nodiscard]] Result<TopUpResult> TopUp(const TopUpRequest& r, const Actor& actor, Instant now);
    // A top-up of `account` inside the caller's unit of work under a system transfer id (a
    // payment's "pay:<provider>:<transaction>", so the order turns paid in the same transaction
    // as its credit, relay command and notice); `channel` and `ref` as in TopUpRequest. On an
    // error the caller must roll back.
    [[nodiscard]] Result<TopUpResult> TopUpInTx(Tx& tx, AccountId account, Money amount,
                                                std::string_view channel, std::string_view ref,
                                                const std::string& transfer_id, const Actor& actor,
                                                Instant now);

    // Refund of paid credit [ACCT-3]. kFailedPrecondition when it exceeds the paid balance, and
    // (field "billing_mode") for a meter-billing account, whose paid credit is always 0.
    [[nodiscard]] Result<Money> Refund(const RefundRequest& r, const Actor& actor, Instant now);
    // A refund of `account`'s paid credit to cash:<channel> inside the caller's unit of work,
    // under a system transfer id (a provider refund's "refund:<provider>:<refund_no>"): the
    // prepaid state stepped with it (the supply cut when it leaves nothing). kFailedPrecondition
    // ("amount") above the paid balance, kAlreadyExists ("transfer_id") for an id posted before.
    // On an error the caller must roll back.
    [[nodiscard]] Status RefundInTx(Tx& tx, AccountId account, Money amount,
                                    std::string_view channel, const std::string& transfer_id,
                                    std::string_view reason, const Actor& actor, Instant now);

    // A provider refund's debit undone (the provider refused or closed it): `amount` from
    // cash:<channel> back to the account's paid credit (an adjustment, not a top-up), the prepaid
    // state stepped. Closed accounts take it too: the money is theirs, for the closing refund.
    // kAlreadyExists ("transfer_id") for an id posted before. On an error, roll back.
    [[nodiscard]] Status ReturnRefundInTx(Tx& tx, AccountId account, Money amount,
                                          std::string_view channel, const std::string& transfer_id,
                                          std::string_view reason, const Actor& actor, Instant now);

    // Grants credit (subsidy, free quota, compensation) kept apart, drawn first [ACCT-4, ACCT-8].
    [[nodiscard]] Result<LedgerAccountId> GrantSubsidy(const SubsidyRequest& r, const Actor& actor,
                                                       Instant now);

    // Records arrears as debt, recovered by a share of later top-ups [ACCT-9]: moves `amount`
    // of negative paid balance into the debt account, so prepaid control sees the remainder.
    // kFailedPrecondition ("billing_mode") for a meter-billing account: it has no arrears.
    [[nodiscard]] Status RecordDebt(const DebtRequest& r, const Actor& actor, Instant now);

    // Manual control [CTRL-2] and emergency credit [CTRL-7].
    [[nodiscard]] Result<PrepaidStatus> Control(const ControlRequest& r, const Actor& actor,
                                                Instant now);

    // validate -> bill -> prepaid state -> ledger -> alarms and commands, all in one transaction.
    // Unknown meters fail the whole batch (kNotFound naming "readings[i].meter").
    [[nodiscard]] Result<ApplyReadingsResult> ApplyReadings(std::span<const ReadingItem> batch,
                                                            Instant now);
    // The same inside the caller's unit of work, so acquisition can bill and save live state in
    // one transaction. On an error the caller must roll back (drop `tx` without committing).
    [[nodiscard]] Result<ApplyReadingsResult> ApplyReadingsInTx(Tx& tx,
                                                                std::span<const ReadingItem> batch,
                                                                Instant now);

    // Re-evaluates time-dependent state: grant expiry and friendly periods ending.
    [[nodiscard]] Result<ApplyReadingsResult> Tick(std::string_view project_code, Instant now);

    // Meter replacement [ACCT-10]: the old meter's final register is billed, its binding closed
    // with that register, the new meter bound with its opening register; the balance stays.
    [[nodiscard]] Status ReplaceMeter(const ReplaceMeterRequest& r, const Actor& actor,
                                      Instant now);

    // Tenant transfer [ACCT-10]: settles the account at the transfer readings, opens a new
    // account for the new tenant on the same meters, carries or refunds the balance, closes the
    // old account.
    [[nodiscard]] Result<AccountId> TransferTenant(const TransferTenantRequest& r,
                                                   const Actor& actor, Instant now);

    // Account closing [ACCT-3]: final readings billed, grants forfeited, paid balance refunded.
    // kFailedPrecondition while the account is in arrears or owes debt.
    [[nodiscard]] Result<CloseAccountResult> CloseAccount(const CloseAccountRequest& r,
                                                          const Actor& actor, Instant now);

    // Tenant name, phone, tariff, alarm scheme, debt share (ChangeTermsRequest); logged with the
    // values before and after. Returns the account as changed.
    [[nodiscard]] Result<AccountRecord> ChangeTerms(const ChangeTermsRequest& r, const Actor& actor,
                                                    Instant now);

    // The account with its balances and meters; with `usage_at`, also that day's usage and the
    // days-left forecast (AccountView::today, ::forecast).
    [[nodiscard]] Result<AccountView> ViewAccount(std::string_view project_code,
                                                  std::string_view number,
                                                  std::optional<Instant> usage_at = std::nullopt);

    // Meter billing [ACCT-1]: the meter applied purchase command `command_id` (it acknowledged
    // the purchase, or its purchase count reads as the command's count). Moves the amount from
    // meter_pending to meter_held exactly once (transfer "purchase:<id>:confirmed"), advances the
    // purse's confirmed count, acknowledges the command and re-evaluates the balance alarms, in
    // one unit of work. Returns false when it was already confirmed (nothing changes), so a
    // repeated or late confirmation never credits twice. `count_modulus` is where the meter's
    // count wraps on the wire (codec::PurchaseCountModulus). kInvalidArgument ("command") for a
    // command that is not a purchase; kNotFound for an unknown command.
    [[nodiscard]] Result<bool> ConfirmPurchase(int64_t command_id, int64_t count_modulus,
                                               std::string_view how, Instant now);

    // Meter billing: a read of `meter`'s remaining amount (and the purchase count read with it,
    // as on the wire) is mirrored on its account and its balance alarms re-evaluated, inside the
    // caller's unit of work. Meters of platform-billed or no accounts are left alone. `project`
    // is the meter's project (the caller has it loaded).
    [[nodiscard]] Status MirrorMeterRemainingInTx(Tx& tx, const ProjectRecord& project,
                                                  MeterId meter, Money remaining,
                                                  std::optional<int64_t> wire_count, Instant now);

private:
    Store& store_;
};

}  // namespace joule
