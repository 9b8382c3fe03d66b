#include "service/notification_service.hpp"

#include <gtest/gtest.h>

#include <map>
#include <mutex>

#include "service/service_test_support.hpp"
#include "service/site_service.hpp"

namespace joule {
namespace {

using service_test::Kwh;
using service_test::T;

// A channel that records what it was given and fails as told.
class FakeSender final : public NotificationSender {
public:
    Status Send(const DeliveryRecord& d) override {
        if (fail_with) {
            ++failures;
            return MakeError(*fail_with, "provider said no", "");
        }
        sent.push_back(d);
        return {};
    }
    std::vector<DeliveryRecord> sent;
    std::optional<ErrorCode> fail_with;
    int failures = 0;
};

class NotificationServiceTest : public service_test::ServiceTest {
protected:
    void SetUp() override {
        SiteSpec site = service_test::FlatSite("mall");
        site.meters.push_back(service_test::SiteMeter(site, "m1"));
        ASSERT_TRUE(CreateSite(*store_, site, actor_, now_).has_value());
        OpenAccountRequest open;
        open.project_code = "mall";
        open.number = "A001";
        open.tenant_name = "张三";
        open.phone = "13800138000";
        open.tariff_code = "flat";
        open.meters.push_back({"m1", Kwh(100), std::nullopt});
        open.opened_at = T("2026-11-01T00:00:00Z");
        open.first_top_up = Money{10'000};  // 100 yuan: above every alarm amount
        ASSERT_TRUE(billing_.OpenAccount(open, actor_, now_).has_value());
        // Each test starts with nothing to tell: the opening's notice is history.
        auto tx = store_->Begin().value();
        const auto opening = tx->Notifications().PendingEvents(100).value();
        ASSERT_EQ(opening.size(), 1U);
        ASSERT_TRUE(tx->Notifications().MarkEventsNotified(opening, now_).has_value());
        ASSERT_TRUE(tx->Commit().has_value());
        options_.configured = {NotifyChannel::kSms, NotifyChannel::kEmail, NotifyChannel::kWebhook};
    }

    NotificationRecipient Add(std::string name, std::string role, std::string channel,
                              std::string address, std::vector<std::string> kinds = {},
                              std::string secret = "") {
        RecipientRequest r;
        r.project_code = "mall";
        r.name = std::move(name);
        r.role = std::move(role);
        r.channel = std::move(channel);
        r.address = std::move(address);
        r.kinds = std::move(kinds);
        r.secret = std::move(secret);
        auto added = Service().AddRecipient(r, actor_, now_);
        EXPECT_TRUE(added.has_value()) << added.error().ToString();
        return added.value_or(NotificationRecipient{});
    }

    void TopUp(int64_t fen, std::string key) {
        TopUpRequest r{"mall", "A001", Money{fen}, "cash", std::move(key), ""};
        ASSERT_TRUE(billing_.TopUp(r, actor_, now_).has_value());
    }

    void RaiseGatewayOffline() {
        auto tx = store_->Begin().value();
        const ProjectRecord project = tx->FindProject("mall").value().value();
        AlarmRecord a;
        a.project = project.id;
        a.kind = AlarmKind::kGatewayOffline;
        a.gateway = GatewayId{0};
        a.meter = tx->FindMeter(project.id, "m1").value()->id;
        a.raised_at = now_;
        a.detail = "{}";
        ASSERT_TRUE(tx->RaiseAlarm(a).has_value());
        ASSERT_TRUE(tx->Commit().has_value());
    }

    ExpandResult Expand() {
        auto r = Service().ExpandEvents(now_);
        EXPECT_TRUE(r.has_value()) << r.error().ToString();
        return r.value_or(ExpandResult{});
    }

    std::vector<DeliveryRecord> Log(const DeliveryQuery& q = {}) {
        auto r = Service().ListDeliveries("mall", q);
        EXPECT_TRUE(r.has_value()) << r.error().ToString();
        return r.value_or(std::vector<DeliveryRecord>{});
    }

    NotificationService& Service() {
        if (!service_) {
            service_.emplace(*store_, options_);
        }
        return *service_;
    }

    Instant now_ = T("2026-11-23T03:00:00Z");  // 11:00 in Shanghai
    NotifyOptions options_;
    std::optional<NotificationService> service_;
};

TEST_F(NotificationServiceTest, ATopUpTellsTheTenantOnceWithTheBalance) {
    TopUp(5000, "t1");
    const ExpandResult first = Expand();
    EXPECT_EQ(first.events, 1);
    EXPECT_EQ(first.deliveries, 1);
    EXPECT_EQ(Expand().events, 0);  // told once

    FakeSender sms;
    const DeliverResult delivered = Service().DeliverDue(NotifyChannel::kSms, sms, now_).value();
    EXPECT_EQ(delivered.sent, 1);
    ASSERT_EQ(sms.sent.size(), 1U);
    EXPECT_EQ(sms.sent[0].address, "13800138000");
    EXPECT_EQ(sms.sent[0].kind, "top_up");
    EXPECT_EQ(sms.sent[0].body, "户号A001（mall）充值50.00元已到账，当前余额150.00元。");
    EXPECT_EQ(
        sms.sent[0].vars,
        "{\"project\":\"mall\",\"account\":\"A001\",\"tenant\":\"张三\",\"balance\":\"150.00\","
        "\"amount\":\"50.00\",\"at\":\"2026-11-23 11:00\"}");
    // Nothing is due any more, and the log says sent.
    EXPECT_EQ(Service().DeliverDue(NotifyChannel::kSms, sms, now_).value().sent, 0);
    const auto log = Log();
    ASSERT_FALSE(log.empty());
    EXPECT_EQ(log[0].state, DeliveryState::kSent);
    EXPECT_EQ(log[0].attempts, 1);
    EXPECT_EQ(log[0].recipient_id, 0);
    EXPECT_EQ(log[0].recipient_name, "张三");
}

TEST_F(NotificationServiceTest, StaffHearOfTheirKindsOnTheirChannels) {
    Add("Li (engineering)", "engineering", "email", "li@example.com");
    Add("Wang (finance)", "finance", "email", "wang@example.com");
    Add("Ops hook", "management", "webhook", "http://127.0.0.1:9/hook", {},
        "0123456789abcdef-secret");
    Add("Boss (en)", "management", "email", "boss@example.com", {"top_up"});
    Expand();
    RaiseGatewayOffline();
    TopUp(100, "t2");
    Expand();

    FakeSender email;
    FakeSender hook;
    ASSERT_TRUE(Service().DeliverDue(NotifyChannel::kEmail, email, now_));
    ASSERT_TRUE(Service().DeliverDue(NotifyChannel::kWebhook, hook, now_));
    std::multimap<std::string, std::string> told;  // address -> kind
    for (const auto& d : email.sent) {
        told.emplace(d.address, d.kind);
    }
    for (const auto& d : hook.sent) {
        told.emplace(d.address, d.kind);
        EXPECT_EQ(d.secret, "0123456789abcdef-secret");  // the channel signs with it
    }
    EXPECT_EQ(told.count("li@example.com"), 1U);
    EXPECT_EQ(told.find("li@example.com")->second, "gateway_offline");
    EXPECT_EQ(told.count("wang@example.com"), 0U);  // finance hears of payments, not gateways
    EXPECT_EQ(told.count("http://127.0.0.1:9/hook"), 1U);
    EXPECT_EQ(told.count("boss@example.com"), 1U);  // its own list: the top-up
    // The list never shows a webhook's secret.
    const std::vector<DeliveryRecord> log = Log();
    for (const auto& d : log) {
        EXPECT_TRUE(d.secret.empty());
    }
    const std::vector<NotificationRecipient> recipients = Service().ListRecipients("mall").value();
    for (const auto& r : recipients) {
        if (r.channel == NotifyChannel::kWebhook) {
            EXPECT_EQ(r.secret,
                      "0123456789abcdef-secret");  // kept for the channel; the API hides it
        }
    }
}

TEST_F(NotificationServiceTest, AFailingChannelRetriesWithBackoffThenGivesUpWithoutHoldingOthers) {
    Add("Li", "engineering", "email", "li@example.com");
    Expand();
    RaiseGatewayOffline();
    Add("Li's hook", "engineering", "webhook", "http://127.0.0.1:9/h", {}, "0123456789abcdef");
    Expand();

    FakeSender email;
    email.fail_with = ErrorCode::kUnavailable;
    FakeSender hook;
    Instant t = now_;
    auto round = Service().DeliverDue(NotifyChannel::kEmail, email, t).value();
    EXPECT_EQ(round.retried, 1);
    // The webhook went at once, whatever the email did.
    EXPECT_EQ(Service().DeliverDue(NotifyChannel::kWebhook, hook, t).value().sent, 1);
    // Not due again before its back-off.
    EXPECT_EQ(Service().DeliverDue(NotifyChannel::kEmail, email, t + Seconds{29}).value().retried,
              0);
    int rounds = 1;
    while (rounds < kMaxDeliveryAttempts) {
        t += Seconds{3600};
        round = Service().DeliverDue(NotifyChannel::kEmail, email, t).value();
        ++rounds;
    }
    EXPECT_EQ(round.failed, 1);
    EXPECT_EQ(email.failures, kMaxDeliveryAttempts);
    DeliveryQuery failed_only;
    failed_only.state = DeliveryState::kFailed;
    auto failed = Log(failed_only);
    ASSERT_EQ(failed.size(), 1U);
    EXPECT_EQ(failed[0].error, "provider said no");
    EXPECT_EQ(failed[0].attempts, kMaxDeliveryAttempts);
    // Staff may send it again once the provider is back.
    email.fail_with.reset();
    ASSERT_TRUE(Service().RetryDelivery("mall", failed[0].id, actor_, t).has_value());
    EXPECT_EQ(Service().DeliverDue(NotifyChannel::kEmail, email, t).value().sent, 1);
    EXPECT_EQ(Service().RetryDelivery("mall", failed[0].id, actor_, t).error().code,
              ErrorCode::kFailedPrecondition);
}

TEST_F(NotificationServiceTest, AnUnreachableProviderEndsTheRoundAndReleasesTheRest) {
    Add("Li", "management", "email", "li@example.com", {"top_up"});
    Expand();
    for (int i = 0; i < 5; ++i) {
        TopUp(100, "k" + std::to_string(i));
    }
    Expand();
    FakeSender email;
    email.fail_with = ErrorCode::kUnavailable;
    const DeliverResult r = Service().DeliverDue(NotifyChannel::kEmail, email, now_).value();
    EXPECT_EQ(email.failures, 1);
    EXPECT_EQ(r.retried, 1);
    EXPECT_EQ(r.released, 4);
    // The released ones pause with the provider: nothing is due at once.
    EXPECT_EQ(Service().DeliverDue(NotifyChannel::kEmail, email, now_).value().released, 0);
    EXPECT_EQ(email.failures, 1);
    // A provider busy with one message (not a dead line) does not stop the others.
    email.fail_with = ErrorCode::kResourceExhausted;
    const DeliverResult r2 =
        Service().DeliverDue(NotifyChannel::kEmail, email, now_ + Seconds{30}).value();
    EXPECT_EQ(r2.retried, 5);
    EXPECT_EQ(r2.released, 0);
    // A message refused for good (a number the provider rejects) fails at once.
    email.fail_with = ErrorCode::kInvalidArgument;
    const DeliverResult r3 =
        Service().DeliverDue(NotifyChannel::kEmail, email, now_ + Seconds{300}).value();
    EXPECT_EQ(r3.failed, 5);
    EXPECT_EQ(r3.retried, 0);
}

// A sender that fails per address: one webhook down must not hold up another.
class ByAddressSender final : public NotificationSender {
public:
    Status Send(const DeliveryRecord& d) override {
        if (d.address.find("/down") != std::string::npos) {
            ++down_calls;
            return MakeError(ErrorCode::kUnavailable, "no answer", "");
        }
        sent.push_back(d.address);
        return {};
    }
    std::vector<std::string> sent{};
    int down_calls = 0;
};

TEST_F(NotificationServiceTest, ADeadWebhookHoldsUpOnlyItsOwnAddress) {
    Add("Down", "management", "webhook", "http://127.0.0.1:9/down", {"top_up"}, "0123456789abcdef");
    Add("Up", "management", "webhook", "http://127.0.0.1:9/up", {"top_up"}, "0123456789abcdef");
    for (int i = 0; i < 3; ++i) {
        TopUp(100, "w" + std::to_string(i));
    }
    Expand();
    ByAddressSender hooks;
    const DeliverResult r = Service().DeliverDue(NotifyChannel::kWebhook, hooks, now_).value();
    EXPECT_EQ(hooks.sent.size(), 3U);  // every message to the live one went
    EXPECT_EQ(hooks.down_calls, 1);    // the dead one cost one try in the round
    EXPECT_EQ(r.retried, 1);
    EXPECT_EQ(r.released, 2);
}

TEST_F(NotificationServiceTest, APhoneTypedWithSpacesIsANumberAndOneThatIsNotIsLogged) {
    {
        auto tx = store_->Begin().value();
        const ProjectRecord project = tx->FindProject("mall").value().value();
        AccountRecord a = tx->FindAccount(project.id, "A001").value().value();
        a.phone = "138 0013-8000";
        ASSERT_TRUE(tx->UpdateAccount(a).has_value());
        ASSERT_TRUE(tx->Commit().has_value());
    }
    TopUp(100, "p1");
    Expand();
    FakeSender sms;
    ASSERT_EQ(Service().DeliverDue(NotifyChannel::kSms, sms, now_).value().sent, 1);
    EXPECT_EQ(sms.sent[0].address, "13800138000");
    {
        auto tx = store_->Begin().value();
        const ProjectRecord project = tx->FindProject("mall").value().value();
        AccountRecord a = tx->FindAccount(project.id, "A001").value().value();
        a.phone = "ask the guard";
        ASSERT_TRUE(tx->UpdateAccount(a).has_value());
        ASSERT_TRUE(tx->Commit().has_value());
    }
    TopUp(100, "p2");
    Expand();
    DeliveryQuery q;
    q.state = DeliveryState::kFailed;
    const auto failed = Log(q);
    ASSERT_EQ(failed.size(), 1U);
    EXPECT_EQ(failed[0].error, "the account's phone is not a number: ask the guard");
}

TEST_F(NotificationServiceTest, AMessageThatKeepsKillingTheSenderRunsOutOfAttempts) {
    TopUp(100, "k");
    Expand();
    // Claimed and never recorded, as when the process dies while sending it, lease after lease.
    Instant t = now_;
    for (int i = 0; i < kMaxDeliveryAttempts; ++i) {
        auto tx = store_->Begin().value();
        ASSERT_EQ(tx->Notifications()
                      .ClaimDueDeliveries(NotifyChannel::kSms, t, t + Seconds{600}, 10)
                      .value()
                      .size(),
                  1U);
        ASSERT_TRUE(tx->Commit().has_value());
        t += Seconds{600};
    }
    FakeSender sms;
    const DeliverResult r = Service().DeliverDue(NotifyChannel::kSms, sms, t).value();
    EXPECT_EQ(r.failed, 1);
    EXPECT_TRUE(sms.sent.empty());
    DeliveryQuery q;
    q.state = DeliveryState::kFailed;
    EXPECT_EQ(Log(q).at(0).error, "given up: the sender stopped while sending it, 8 times");
}

TEST_F(NotificationServiceTest, QuietHoursHoldHumansButNotUrgentNewsOrWebhooks) {
    options_.quiet = *ParseQuietHours("22:00-07:00", "quiet");
    now_ = T("2026-11-23T15:00:00Z");  // 23:00 in Shanghai
    Add("Hook", "management", "webhook", "https://ops.example.com/h", {"top_up"},
        "0123456789abcdef");
    Expand();
    TopUp(100, "night");
    Expand();
    FakeSender sms;
    FakeSender hook;
    EXPECT_EQ(Service().DeliverDue(NotifyChannel::kSms, sms, now_).value().sent, 0);
    EXPECT_EQ(Service().DeliverDue(NotifyChannel::kWebhook, hook, now_).value().sent, 1);
    // 07:00 in Shanghai: the tenant's message goes.
    EXPECT_EQ(
        Service().DeliverDue(NotifyChannel::kSms, sms, T("2026-11-23T22:59:59Z")).value().sent, 0);
    EXPECT_EQ(
        Service().DeliverDue(NotifyChannel::kSms, sms, T("2026-11-23T23:00:00Z")).value().sent, 1);
    // A power cut is told at once, night or not.
    {
        auto tx = store_->Begin().value();
        const ProjectRecord project = tx->FindProject("mall").value().value();
        AlarmRecord a;
        a.project = project.id;
        a.account = tx->FindAccount(project.id, "A001").value()->id;
        a.kind = AlarmKind::kArrearsTrip;
        a.raised_at = now_;
        a.detail = "{\"balance\":\"-120\"}";  // as billing writes it, in fen
        ASSERT_TRUE(tx->RaiseAlarm(a).has_value());
        ASSERT_TRUE(tx->Commit().has_value());
    }
    Expand();
    ASSERT_EQ(Service().DeliverDue(NotifyChannel::kSms, sms, now_).value().sent, 1);
    EXPECT_EQ(sms.sent.back().kind, "arrears_trip");
    EXPECT_NE(sms.sent.back().body.find("余额-1.20元"), std::string::npos) << sms.sent.back().body;
}

TEST_F(NotificationServiceTest, TooManyToOneAddressAreSuppressedAndLogged) {
    options_.per_address_per_hour = 3;
    Expand();
    for (int i = 0; i < 5; ++i) {
        TopUp(100, "r" + std::to_string(i));
    }
    const ExpandResult r = Expand();
    EXPECT_EQ(r.deliveries, 5);
    EXPECT_EQ(r.suppressed, 2);
    DeliveryQuery q;
    q.state = DeliveryState::kSuppressed;
    const auto suppressed = Log(q);
    ASSERT_EQ(suppressed.size(), 2U);
    EXPECT_EQ(suppressed[0].error, "rate limit: 3 an hour to one address");
    // An hour later the address may hear again.
    now_ += Seconds{3601};
    TopUp(100, "later");
    EXPECT_EQ(Expand().suppressed, 0);
}

TEST_F(NotificationServiceTest, AnUnconfiguredChannelIsLoggedAsFailedAndAClearedAlarmIsNotTold) {
    Add("Li", "engineering", "wechat", "oAbCdEf123456");
    Expand();
    RaiseGatewayOffline();
    Expand();
    DeliveryQuery q;
    q.channel = NotifyChannel::kWechat;
    const auto log = Log(q);
    ASSERT_EQ(log.size(), 1U);
    EXPECT_EQ(log[0].state, DeliveryState::kFailed);
    EXPECT_EQ(log[0].error, "wechat is not configured on this server");

    // Raised and cleared before the notifier got to it: no one hears of it.
    {
        auto tx = store_->Begin().value();
        const ProjectRecord project = tx->FindProject("mall").value().value();
        AlarmRecord a;
        a.project = project.id;
        a.kind = AlarmKind::kClockDrift;
        a.meter = tx->FindMeter(project.id, "m1").value()->id;
        a.raised_at = now_;
        a.detail = "{}";
        ASSERT_TRUE(tx->RaiseAlarm(a).has_value());
        ASSERT_TRUE(tx->ClearAlarm(AccountId{}, a.meter, AlarmKind::kClockDrift, now_).has_value());
        ASSERT_TRUE(tx->Commit().has_value());
    }
    Add("Li by mail", "engineering", "email", "li@example.com");
    const ExpandResult r = Expand();
    EXPECT_EQ(r.events, 1);
    EXPECT_EQ(r.deliveries, 0);
    // And the alarm list shows which alarms were told.
    auto tx = store_->Begin().value();
    const ProjectRecord project = tx->FindProject("mall").value().value();
    const std::vector<AlarmRecord> alarms = tx->ListAlarms(project.id, false).value();
    for (const AlarmRecord& a : alarms) {
        EXPECT_TRUE(a.notified_at.has_value());
    }
}

TEST_F(NotificationServiceTest, RecipientsAreCheckedFieldByField) {
    RecipientRequest r;
    r.project_code = "mall";
    r.name = "Li";
    r.role = "engineering";
    r.channel = "email";
    r.address = "li@example.com";
    const auto field_of = [&](const RecipientRequest& changed) {
        auto added = Service().AddRecipient(changed, actor_, now_);
        return added ? std::string("accepted") : added.error().field;
    };
    auto bad = r;
    bad.name = "";
    EXPECT_EQ(field_of(bad), "name");
    bad = r;
    bad.role = "boss";
    EXPECT_EQ(field_of(bad), "role");
    bad = r;
    bad.channel = "fax";
    EXPECT_EQ(field_of(bad), "channel");
    bad = r;
    bad.address = "not-an-address";
    EXPECT_EQ(field_of(bad), "address");
    bad = r;
    bad.channel = "sms";
    bad.address = "12ab";
    EXPECT_EQ(field_of(bad), "address");
    bad = r;
    bad.channel = "webhook";
    bad.address = "ftp://x";
    EXPECT_EQ(field_of(bad), "address");
    bad.address = "https://hooks.example.com/joule";
    EXPECT_EQ(field_of(bad), "secret");  // a webhook signs
    bad = r;
    bad.secret = "0123456789abcdef";
    EXPECT_EQ(field_of(bad), "secret");  // an email does not
    bad = r;
    bad.language = "fr";
    EXPECT_EQ(field_of(bad), "language");
    bad = r;
    bad.kinds = {"gateway_offline", "nonsense"};
    EXPECT_EQ(field_of(bad), "kinds[1]");
    bad.kinds = {"gateway_offline", "gateway_offline"};
    EXPECT_EQ(field_of(bad), "kinds[1]");
    bad = r;
    bad.project_code = "nowhere";
    EXPECT_EQ(field_of(bad), "project");
    EXPECT_TRUE(Service().ListRecipients("mall").value().empty());  // nothing was written

    const NotificationRecipient added =
        Add("Hook", "management", "webhook", "https://hooks.example.com/j", {}, "0123456789abcdef");
    RecipientRequest update = r;
    update.channel = "webhook";
    update.address = "https://hooks.example.com/k";
    update.name = "Hook 2";
    update.role = "management";
    auto updated = Service().UpdateRecipient(added.id, update, actor_, now_);  // secret kept
    ASSERT_TRUE(updated.has_value()) << updated.error().ToString();
    EXPECT_EQ(updated->secret, "0123456789abcdef");
    EXPECT_EQ(Service().UpdateRecipient(added.id + 100, update, actor_, now_).error().code,
              ErrorCode::kNotFound);
    ASSERT_TRUE(Service().DeleteRecipient("mall", added.id, actor_, now_).has_value());
    EXPECT_TRUE(Service().ListRecipients("mall").value().empty());
}

}  // namespace
}  // namespace joule
