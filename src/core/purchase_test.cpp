#include "core/purchase.hpp"

#include <gtest/gtest.h>

namespace joule {
namespace {

TEST(BillingMode, ParsesItsTwoNamesOnly) {
    EXPECT_EQ(ParseBillingMode("platform").value(), BillingMode::kPlatform);
    EXPECT_EQ(ParseBillingMode("meter").value(), BillingMode::kMeter);
    auto bad = ParseBillingMode("Meter");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(bad.error().field, "billing_mode");
    EXPECT_EQ(BillingModeName(BillingMode::kMeter), "meter");
}

TEST(MeterPurse, CountsAreAssignedInOrderAfterTheConfirmedOne) {
    MeterPurse purse;
    purse.confirmed_count = 7;
    EXPECT_EQ(AssignPurchase(purse), 8);
    EXPECT_EQ(AssignPurchase(purse), 9);
    EXPECT_EQ(AssignPurchase(purse), 10);
    ConfirmPurchase(purse, 8, Money{100}, 10000);
    EXPECT_EQ(purse.confirmed_count, 8);
    EXPECT_EQ(AssignPurchase(purse), 11);  // never reuses a count still in flight
}

TEST(PurchaseCheck, TheMeterAtNMeansSendAtNPlusOneMeansApplied) {
    EXPECT_EQ(CheckPurchaseCount(5, 4, 10000), PurchaseCheck::kSend);
    EXPECT_EQ(CheckPurchaseCount(5, 5, 10000), PurchaseCheck::kAlreadyApplied);
    EXPECT_EQ(CheckPurchaseCount(5, 3, 10000), PurchaseCheck::kMismatch);  // one missing
    EXPECT_EQ(CheckPurchaseCount(5, 6, 10000), PurchaseCheck::kMismatch);  // someone else sold
    EXPECT_EQ(CheckPurchaseCount(5, -1, 10000), PurchaseCheck::kMismatch);
    EXPECT_EQ(CheckPurchaseCount(5, 10000, 10000), PurchaseCheck::kMismatch);
}

TEST(PurchaseCheck, CountsWrapAtTheWireWidth) {
    EXPECT_EQ(WireCount(10000, 10000), 0);
    EXPECT_EQ(CheckPurchaseCount(10000, 9999, 10000), PurchaseCheck::kSend);
    EXPECT_EQ(CheckPurchaseCount(10000, 0, 10000), PurchaseCheck::kAlreadyApplied);
    EXPECT_EQ(CheckPurchaseCount(256, 255, 256), PurchaseCheck::kSend);
    EXPECT_EQ(CheckPurchaseCount(257, 1, 256), PurchaseCheck::kAlreadyApplied);
}

TEST(MeterPurse, ConfirmationAddsToAMirrorReadBeforeTheMeterAppliedIt) {
    MeterPurse purse;
    MirrorRemaining(purse, Money{500}, 3, Instant{});
    ConfirmPurchase(purse, 4, Money{1000}, 10000);
    EXPECT_EQ(purse.remaining, Money{1500});
    EXPECT_EQ(purse.remaining_count, 4);
    // A mirror read after the meter applied it (count 5 already) is not added to again.
    MirrorRemaining(purse, Money{2400}, 5, Instant{});
    ConfirmPurchase(purse, 5, Money{1000}, 10000);
    EXPECT_EQ(purse.remaining, Money{2400});
    EXPECT_EQ(purse.confirmed_count, 5);
}

}  // namespace
}  // namespace joule
