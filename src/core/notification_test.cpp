#include "core/notification.hpp"

#include <gtest/gtest.h>

#include "core/notification_ports.hpp"

namespace joule {
namespace {

Instant Utc(int y, unsigned m, unsigned d, int h, int min) {
    return date::sys_days{date::year{y} / date::month{m} / date::day{d}} + std::chrono::hours{h} +
           std::chrono::minutes{min};
}

TEST(Notification, EveryKindHasWordsInBothLanguagesWithItsValuesFilledIn) {
    const TemplateVars vars{
        {"project", "万达广场"}, {"account", "A-101"}, {"tenant", "张三"},
        {"balance", "12.34"},    {"amount", "100.00"}, {"meter", "M-7"},
        {"gateway", "GW-1"},     {"days", "3"},        {"at", "2026-11-23 09:00"}};
    for (const EventKindInfo& k : EventKinds()) {
        for (std::string_view language : {"zh-CN", "en"}) {
            const NotificationText text = RenderNotification(k.kind, language, vars);
            EXPECT_FALSE(text.title.empty()) << k.kind;
            EXPECT_EQ(text.body.find('{'), std::string::npos) << k.kind << " " << text.body;
            EXPECT_NE(text.body.find("万达广场"), std::string::npos) << k.kind;
            EXPECT_NE(text.title, language == "en" ? "Alarm" : "告警通知")
                << k.kind << " has no template of its own";
        }
    }
    const NotificationText top_up = RenderNotification("top_up", "zh-CN", vars);
    EXPECT_EQ(top_up.title, "充值到账提醒");
    EXPECT_EQ(top_up.body, "户号A-101（万达广场）充值100.00元已到账，当前余额12.34元。");
    EXPECT_EQ(RenderNotification("top_up", "en", vars).body,
              "Account A-101 (万达广场): your top-up of 100.00 yuan has arrived. Balance: 12.34 "
              "yuan.");
}

TEST(Notification, CodesAreRedactedAndNothingElse) {
    EXPECT_EQ(RedactCodes("万达广场：您的验证码为012345，5分钟内有效。尾号9000"),
              "万达广场：您的验证码为******，5分钟内有效。尾号9000");
    EXPECT_EQ(RedactCodes(R"({"code":"987654"})"), R"({"code":"******"})");
    EXPECT_EQ(RedactCodes("13800138000 1234567 12345"), "13800138000 1234567 12345");
}

TEST(Notification, AnUnknownKindOrMissingValueStillRenders) {
    const NotificationText text = RenderNotification("cover_opened", "en", {{"project", "P"}});
    EXPECT_EQ(text.title, "Alarm");
    EXPECT_EQ(text.body, "P: cover_opened ().");
    EXPECT_EQ(RenderNotification("gateway_offline", "zh-CN", {}).body,
              "：网关已离线，其下表计无法抄读，请检查（）。");
}

TEST(Notification, RolesHearTheirKindsAndAListOverridesTheRole) {
    const std::vector<std::string> none;
    EXPECT_TRUE(RoleHears("engineering", none, "gateway_offline"));
    EXPECT_FALSE(RoleHears("engineering", none, "payment_mismatch"));
    EXPECT_TRUE(RoleHears("finance", none, "payment_mismatch"));
    EXPECT_FALSE(RoleHears("finance", none, "meter_offline"));
    EXPECT_TRUE(RoleHears("management", none, "meter_offline"));
    EXPECT_TRUE(RoleHears("management", none, "payment_mismatch"));
    EXPECT_FALSE(RoleHears("management", none, "low_balance_1"));  // the tenant's own news
    const std::vector<std::string> listed{"low_balance_3", "arrears_trip"};
    EXPECT_TRUE(RoleHears("finance", listed, "arrears_trip"));
    EXPECT_FALSE(RoleHears("finance", listed, "payment_mismatch"));
    EXPECT_TRUE(ValidateRecipientRole("finance", "role"));
    EXPECT_EQ(ValidateRecipientRole("boss", "role").error().field, "role");
}

TEST(Notification, ChannelsStatesAndLanguagesParseByName) {
    EXPECT_EQ(*ParseNotifyChannel("webhook", "c"), NotifyChannel::kWebhook);
    EXPECT_EQ(ParseNotifyChannel("fax", "channel").error().field, "channel");
    EXPECT_EQ(*ParseDeliveryState("suppressed", "s"), DeliveryState::kSuppressed);
    EXPECT_FALSE(ParseDeliveryState("lost", "state"));
    EXPECT_TRUE(ValidateLanguage("en", "language"));
    EXPECT_FALSE(ValidateLanguage("fr", "language"));
}

TEST(Notification, QuietHoursParseAndEndInTheProjectsZone) {
    EXPECT_FALSE(ParseQuietHours("22:00", "quiet"));
    EXPECT_FALSE(ParseQuietHours("25:00-07:00", "quiet"));
    EXPECT_FALSE(ParseQuietHours("22:60-07:00", "quiet"));
    EXPECT_EQ(ParseQuietHours("2a:00-07:00", "quiet").error().field, "quiet");
    const QuietHours none = *ParseQuietHours("", "quiet");
    const Zone shanghai = *Zone::Load("Asia/Shanghai");
    EXPECT_FALSE(QuietUntil(none, shanghai, Utc(2026, 11, 23, 15, 0)));

    const QuietHours night = *ParseQuietHours("22:00-07:00", "quiet");
    // 21:59 local (13:59 UTC): not quiet. 22:00 local: quiet until 07:00 tomorrow (23:00 UTC).
    EXPECT_FALSE(QuietUntil(night, shanghai, Utc(2026, 11, 23, 13, 59)));
    EXPECT_EQ(QuietUntil(night, shanghai, Utc(2026, 11, 23, 14, 0)), Utc(2026, 11, 23, 23, 0));
    // 03:30 local on the 24th (19:30 UTC on the 23rd): quiet until 07:00 that morning.
    EXPECT_EQ(QuietUntil(night, shanghai, Utc(2026, 11, 23, 19, 30)), Utc(2026, 11, 23, 23, 0));
    // 07:00 local: over.
    EXPECT_FALSE(QuietUntil(night, shanghai, Utc(2026, 11, 23, 23, 0)));

    const QuietHours lunch = *ParseQuietHours("12:00-13:30", "quiet");
    EXPECT_EQ(QuietUntil(lunch, shanghai, Utc(2026, 11, 23, 4, 10)), Utc(2026, 11, 23, 5, 30));
    EXPECT_FALSE(QuietUntil(lunch, shanghai, Utc(2026, 11, 23, 5, 30)));
}

TEST(Notification, RetriesBackOffToHourly) {
    EXPECT_EQ(RetryDelay(1), Seconds{30});
    EXPECT_EQ(RetryDelay(2), Seconds{120});
    EXPECT_EQ(RetryDelay(4), Seconds{1800});
    EXPECT_EQ(RetryDelay(7), Seconds{3600});
    Seconds total{0};
    for (int32_t a = 1; a < kMaxDeliveryAttempts; ++a) {
        EXPECT_GE(RetryDelay(a), RetryDelay(a - 1));
        total += RetryDelay(a);
    }
    EXPECT_LT(total, Seconds{6 * 3600});  // given up within hours, not days
}

}  // namespace
}  // namespace joule
