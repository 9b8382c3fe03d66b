#include "core/ledger.hpp"

#include "base/assert.hpp"

namespace joule {

std::string_view LedgerAccountKindName(LedgerAccountKind kind) {
    switch (kind) {
        case LedgerAccountKind::kTenantPaid:
            return "tenant_paid";
        case LedgerAccountKind::kTenantGrant:
            return "tenant_grant";
        case LedgerAccountKind::kTenantDebt:
            return "tenant_debt";
        case LedgerAccountKind::kTenantMeterPending:
            return "meter_pending";
        case LedgerAccountKind::kTenantMeterHeld:
            return "meter_held";
        case LedgerAccountKind::kCash:
            return "cash";
        case LedgerAccountKind::kEnergyRevenue:
            return "energy_revenue";
        case LedgerAccountKind::kWaterRevenue:
            return "water_revenue";
        case LedgerAccountKind::kSubsidyExpense:
            return "subsidy_expense";
        case LedgerAccountKind::kFeeIncome:
            return "fee_income";
        case LedgerAccountKind::kAdjustments:
            return "adjustments";
    }
    return "unknown";
}

TenantBalances BalancesOf(std::span<const LedgerAccount> ledgers) {
    TenantBalances b;
    for (const LedgerAccount& l : ledgers) {
        switch (l.kind) {
            case LedgerAccountKind::kTenantPaid:
                b.paid += l.balance;
                break;
            case LedgerAccountKind::kTenantGrant:
                b.granted += l.balance;
                break;
            case LedgerAccountKind::kTenantDebt:
                b.debt += l.balance;
                break;
            case LedgerAccountKind::kTenantMeterPending:
                b.meter_pending += l.balance;
                break;
            case LedgerAccountKind::kTenantMeterHeld:
                b.meter_held += l.balance;
                break;
            default:
                break;
        }
    }
    return b;
}

bool IsTenantKind(LedgerAccountKind kind) {
    return kind == LedgerAccountKind::kTenantPaid || kind == LedgerAccountKind::kTenantGrant ||
           kind == LedgerAccountKind::kTenantDebt ||
           kind == LedgerAccountKind::kTenantMeterPending ||
           kind == LedgerAccountKind::kTenantMeterHeld;
}

std::string_view TransferCodeName(TransferCode code) {
    switch (code) {
        case TransferCode::kTopUp:
            return "top_up";
        case TransferCode::kRefund:
            return "refund";
        case TransferCode::kDeduction:
            return "deduction";
        case TransferCode::kSubsidy:
            return "subsidy";
        case TransferCode::kFee:
            return "fee";
        case TransferCode::kAdjustment:
            return "adjustment";
        case TransferCode::kAccountTransfer:
            return "account_transfer";
        case TransferCode::kDebtRecovery:
            return "debt_recovery";
        case TransferCode::kGrantExpiry:
            return "grant_expiry";
        case TransferCode::kDebtRecorded:
            return "debt_recorded";
        case TransferCode::kPurchaseSent:
            return "purchase_sent";
        case TransferCode::kPurchaseConfirmed:
            return "purchase_confirmed";
        case TransferCode::kPurchaseReturned:
            return "purchase_returned";
    }
    return "unknown";
}

std::string_view PostResultName(PostResult result) {
    switch (result) {
        case PostResult::kOk:
            return "ok";
        case PostResult::kExists:
            return "exists";
        case PostResult::kExistsWithDifferentFields:
            return "exists_with_different_fields";
        case PostResult::kIdInvalid:
            return "id_invalid";
        case PostResult::kAmountNotPositive:
            return "amount_not_positive";
        case PostResult::kAmountAbsurd:
            return "amount_absurd";
        case PostResult::kSameAccount:
            return "same_account";
        case PostResult::kGrantWouldGoNegative:
            return "grant_would_go_negative";
        case PostResult::kDebtWouldGoPositive:
            return "debt_would_go_positive";
        case PostResult::kMeterAccountWouldGoNegative:
            return "meter_account_would_go_negative";
    }
    return "unknown";
}

bool SameTransfer(const Transfer& a, const Transfer& b) {
    return a.id == b.id && a.debit == b.debit && a.credit == b.credit && a.amount == b.amount &&
           a.code == b.code;
}

PostResult CheckTransfer(const Transfer& t, const LedgerAccount& debit,
                         const LedgerAccount& credit) {
    if (t.id.empty() || t.id.size() > kMaxTransferIdBytes) {
        return PostResult::kIdInvalid;
    }
    if (t.amount.fen <= 0) {
        return PostResult::kAmountNotPositive;
    }
    if (t.amount.fen > kMaxTransferFen) {
        return PostResult::kAmountAbsurd;
    }
    if (debit.id == credit.id) {
        return PostResult::kSameAccount;
    }
    if (debit.kind == LedgerAccountKind::kTenantGrant && debit.balance < t.amount) {
        return PostResult::kGrantWouldGoNegative;
    }
    if (credit.kind == LedgerAccountKind::kTenantDebt && (credit.balance + t.amount).fen > 0) {
        return PostResult::kDebtWouldGoPositive;
    }
    if ((debit.kind == LedgerAccountKind::kTenantMeterPending ||
         debit.kind == LedgerAccountKind::kTenantMeterHeld) &&
        debit.balance < t.amount) {
        return PostResult::kMeterAccountWouldGoNegative;
    }
    return PostResult::kOk;
}

void ApplyTransfer(const Transfer& t, LedgerAccount& debit, LedgerAccount& credit) {
    JOULE_ASSERT(t.debit == debit.id && t.credit == credit.id,
                 "transfer applied to wrong accounts");
    JOULE_ASSERT(t.amount.fen > 0, "transfer amount must be positive");
    debit.balance -= t.amount;
    credit.balance += t.amount;
}

}  // namespace joule
