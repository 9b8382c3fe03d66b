#include "core/ledger.hpp"

#include <gtest/gtest.h>

#include <string>

namespace joule {
namespace {

LedgerAccount Account(int64_t id, LedgerAccountKind kind, int64_t balance_fen = 0) {
    LedgerAccount a;
    a.id = LedgerAccountId{id};
    a.kind = kind;
    a.balance = Money{balance_fen};
    return a;
}

Transfer Move(const LedgerAccount& debit, const LedgerAccount& credit, int64_t fen) {
    Transfer t;
    t.id = "topup:wx:4200001";
    t.debit = debit.id;
    t.credit = credit.id;
    t.amount = Money{fen};
    t.code = TransferCode::kTopUp;
    t.ref = "receipt 17";
    t.actor = "cashier";
    t.at = Instant{std::chrono::seconds{1'768'000'000}};
    return t;
}

TEST(CheckTransfer, AcceptsAnOrdinaryTopUp) {
    const LedgerAccount cash = Account(1, LedgerAccountKind::kCash);
    const LedgerAccount paid = Account(2, LedgerAccountKind::kTenantPaid);
    EXPECT_EQ(CheckTransfer(Move(cash, paid, 10'000), cash, paid), PostResult::kOk);
}

TEST(CheckTransfer, RejectsEmptyOrOverlongId) {
    const LedgerAccount cash = Account(1, LedgerAccountKind::kCash);
    const LedgerAccount paid = Account(2, LedgerAccountKind::kTenantPaid);
    Transfer t = Move(cash, paid, 100);
    t.id.clear();
    EXPECT_EQ(CheckTransfer(t, cash, paid), PostResult::kIdInvalid);
    t.id = std::string(kMaxTransferIdBytes + 1, 'x');
    EXPECT_EQ(CheckTransfer(t, cash, paid), PostResult::kIdInvalid);
    t.id = std::string(kMaxTransferIdBytes, 'x');
    EXPECT_EQ(CheckTransfer(t, cash, paid), PostResult::kOk);
}

TEST(CheckTransfer, RejectsZeroAndNegativeAmounts) {
    const LedgerAccount cash = Account(1, LedgerAccountKind::kCash);
    const LedgerAccount paid = Account(2, LedgerAccountKind::kTenantPaid);
    EXPECT_EQ(CheckTransfer(Move(cash, paid, 0), cash, paid), PostResult::kAmountNotPositive);
    EXPECT_EQ(CheckTransfer(Move(cash, paid, -1), cash, paid), PostResult::kAmountNotPositive);
    EXPECT_EQ(CheckTransfer(Move(cash, paid, 1), cash, paid), PostResult::kOk);
}

TEST(CheckTransfer, RejectsAbsurdAmounts) {
    const LedgerAccount cash = Account(1, LedgerAccountKind::kCash);
    const LedgerAccount paid = Account(2, LedgerAccountKind::kTenantPaid);
    // 100 million yuan is the ceiling.
    EXPECT_EQ(CheckTransfer(Move(cash, paid, kMaxTransferFen), cash, paid), PostResult::kOk);
    EXPECT_EQ(CheckTransfer(Move(cash, paid, kMaxTransferFen + 1), cash, paid),
              PostResult::kAmountAbsurd);
}

TEST(CheckTransfer, RejectsTheSameAccountOnBothSides) {
    const LedgerAccount paid = Account(2, LedgerAccountKind::kTenantPaid, 500);
    EXPECT_EQ(CheckTransfer(Move(paid, paid, 100), paid, paid), PostResult::kSameAccount);
}

TEST(CheckTransfer, RejectsGrantGoingNegative) {
    const LedgerAccount grant = Account(3, LedgerAccountKind::kTenantGrant, 100);
    const LedgerAccount revenue = Account(11, LedgerAccountKind::kEnergyRevenue);
    EXPECT_EQ(CheckTransfer(Move(grant, revenue, 100), grant, revenue), PostResult::kOk);
    EXPECT_EQ(CheckTransfer(Move(grant, revenue, 101), grant, revenue),
              PostResult::kGrantWouldGoNegative);
}

TEST(CheckTransfer, PaidAccountMayGoNegative) {
    const LedgerAccount paid = Account(2, LedgerAccountKind::kTenantPaid, 100);
    const LedgerAccount revenue = Account(11, LedgerAccountKind::kEnergyRevenue);
    EXPECT_EQ(CheckTransfer(Move(paid, revenue, 5000), paid, revenue), PostResult::kOk);
}

TEST(CheckTransfer, RejectsDebtGoingPositive) {
    // Debt of 5.00 yuan: recovering 5.00 brings it to zero, 5.01 would make it positive.
    const LedgerAccount paid = Account(2, LedgerAccountKind::kTenantPaid, 10'000);
    const LedgerAccount debt = Account(4, LedgerAccountKind::kTenantDebt, -500);
    EXPECT_EQ(CheckTransfer(Move(paid, debt, 500), paid, debt), PostResult::kOk);
    EXPECT_EQ(CheckTransfer(Move(paid, debt, 501), paid, debt), PostResult::kDebtWouldGoPositive);
}

TEST(SameTransfer, RetryWithAnotherTimestampIsTheSameTransfer) {
    // A store answers kExists when SameTransfer holds for the stored transfer with this id, and
    // kExistsWithDifferentFields otherwise.
    const LedgerAccount cash = Account(1, LedgerAccountKind::kCash);
    const LedgerAccount paid = Account(2, LedgerAccountKind::kTenantPaid);
    const Transfer stored = Move(cash, paid, 10'000);
    Transfer retry = stored;
    retry.at += std::chrono::seconds{30};
    EXPECT_TRUE(SameTransfer(stored, retry));  // -> kExists
}

TEST(SameTransfer, DifferentEconomicFieldsAreNotTheSame) {
    const LedgerAccount cash = Account(1, LedgerAccountKind::kCash);
    const LedgerAccount paid = Account(2, LedgerAccountKind::kTenantPaid);
    const Transfer stored = Move(cash, paid, 10'000);
    Transfer t = stored;
    t.amount = Money{10'001};
    EXPECT_FALSE(SameTransfer(stored, t));  // -> kExistsWithDifferentFields
    t = stored;
    t.credit = LedgerAccountId{99};
    EXPECT_FALSE(SameTransfer(stored, t));
    t = stored;
    t.debit = LedgerAccountId{98};
    EXPECT_FALSE(SameTransfer(stored, t));
    t = stored;
    t.code = TransferCode::kSubsidy;
    EXPECT_FALSE(SameTransfer(stored, t));
    t = stored;
    t.id += "x";
    EXPECT_FALSE(SameTransfer(stored, t));
}

TEST(ApplyTransfer, MovesMoneyAndKeepsTheSumAtZero) {
    LedgerAccount cash = Account(1, LedgerAccountKind::kCash);
    LedgerAccount paid = Account(2, LedgerAccountKind::kTenantPaid);
    LedgerAccount revenue = Account(11, LedgerAccountKind::kEnergyRevenue);
    // Top up 100.00, then consume 12.34.
    const Transfer top_up = Move(cash, paid, 10'000);
    ASSERT_EQ(CheckTransfer(top_up, cash, paid), PostResult::kOk);
    ApplyTransfer(top_up, cash, paid);
    Transfer use = Move(paid, revenue, 1234);
    use.id = "rd:1768006800:7:0";
    use.code = TransferCode::kDeduction;
    ASSERT_EQ(CheckTransfer(use, paid, revenue), PostResult::kOk);
    ApplyTransfer(use, paid, revenue);
    EXPECT_EQ(cash.balance, Money{-10'000});
    EXPECT_EQ(paid.balance, Money{8766});  // 10000 - 1234
    EXPECT_EQ(revenue.balance, Money{1234});
    EXPECT_EQ(cash.balance + paid.balance + revenue.balance, Money{0});
}

TEST(LedgerNames, AreStable) {
    EXPECT_EQ(PostResultName(PostResult::kGrantWouldGoNegative), "grant_would_go_negative");
    EXPECT_EQ(TransferCodeName(TransferCode::kDeduction), "deduction");
    EXPECT_EQ(LedgerAccountKindName(LedgerAccountKind::kTenantDebt), "tenant_debt");
    EXPECT_TRUE(IsTenantKind(LedgerAccountKind::kTenantGrant));
    EXPECT_FALSE(IsTenantKind(LedgerAccountKind::kCash));
}

}  // namespace
}  // namespace joule
