#include "service/tenant_service.hpp"

#include <gtest/gtest.h>

#include <deque>

#include "core/access_ports.hpp"
#include "core/notification_ports.hpp"
#include "service/notification_service.hpp"
#include "service/service_test_support.hpp"
#include "service/site_service.hpp"

namespace joule {
namespace {

using service_test::Kwh;
using service_test::T;

class TenantServiceTest : public service_test::ServiceTest {
protected:
    void SetUp() override {
        SiteSpec site = service_test::FlatSite("mall");
        site.meters.push_back(service_test::SiteMeter(site, "m1"));
        site.meters.push_back(service_test::SiteMeter(site, "m2"));
        site.meters.push_back(service_test::SiteMeter(site, "m3"));
        ASSERT_TRUE(CreateSite(*store_, site, actor_, now_).has_value());
        Open("A001", "138 0013 8000", "m1");
        Open("A002", "", "m2");  // no phone registered
        Open("A003", "13700137000", "m3");
        options_.sms_configured = true;
        // Codes are what the test says they are: 4 random bytes -> their value mod 10^6.
        options_.random_hex = [this](std::size_t bytes) {
            if (bytes == 4 && !codes_.empty()) {
                const uint32_t value = codes_.front();
                codes_.pop_front();
                char hex[9];
                std::snprintf(hex, sizeof hex, "%08x", value);
                return std::string(hex);
            }
            return std::string(bytes * 2, 'a') + std::to_string(++serial_);
        };
        // Opaque to the service; any function of its input will do here.
        options_.sha256_hex = [](std::string_view data) { return "h(" + std::string(data) + ")"; };
    }

    void Open(const std::string& number, const std::string& phone, const std::string& meter) {
        OpenAccountRequest open;
        open.project_code = "mall";
        open.number = number;
        open.tenant_name = "Shop " + number;
        open.phone = phone;
        open.tariff_code = "flat";
        open.meters.push_back({meter, Kwh(100), std::nullopt});
        open.opened_at = T("2026-11-01T00:00:00Z");
        open.first_top_up = Money{10'000};
        ASSERT_TRUE(billing_.OpenAccount(open, actor_, now_).has_value());
    }

    TenantService Service() { return TenantService(*store_, options_); }

    // Signs `phone` in with the code `code`.
    TenantPerson SignedIn(const std::string& phone, uint32_t code) {
        codes_.push_back(code);
        auto sent = Service().SendSignInCode(phone, "mall", now_);
        EXPECT_TRUE(sent.has_value()) << sent.error().ToString();
        auto signed_in = Service().SignIn(phone, CodeFromEntropy(code), "10.0.0.1", now_);
        EXPECT_TRUE(signed_in.has_value()) << signed_in.error().ToString();
        now_ += Seconds{61};
        return signed_in ? signed_in->person : TenantPerson{};
    }

    std::vector<DeliveryRecord> CodeMessages() {
        auto tx = store_->BeginRead().value();
        const ProjectRecord mall = tx->FindProject("mall").value().value();
        DeliveryQuery q;
        q.project = mall.id;
        q.kind = "verification_code";
        return tx->Notifications().ListDeliveries(q).value();
    }

    TenantOptions options_;
    std::deque<uint32_t> codes_;
    int serial_ = 0;
    Instant now_ = T("2026-11-23T02:00:00Z");
};

TEST_F(TenantServiceTest, SignInWithTheCodeTheSmsCarried) {
    codes_.push_back(123456);
    auto sent = Service().SendSignInCode("+86 138-0013-8000", "mall", now_);
    ASSERT_TRUE(sent.has_value()) << sent.error().ToString();
    EXPECT_EQ(sent->sent_to, "138****8000");
    EXPECT_EQ(sent->demo_code, "");  // never shown unless the demo asks
    const auto sms = CodeMessages();
    ASSERT_EQ(sms.size(), 1U);
    EXPECT_EQ(sms[0].channel, NotifyChannel::kSms);
    EXPECT_EQ(sms[0].address, "13800138000");
    EXPECT_EQ(sms[0].state, DeliveryState::kQueued);
    EXPECT_EQ(sms[0].next_attempt_at, now_);  // at once, quiet hours or not
    EXPECT_EQ(sms[0].vars, R"({"code":"123456"})");
    EXPECT_NE(sms[0].body.find("123456"), std::string::npos) << sms[0].body;

    // Asked again within the minute: refused, nothing sent.
    auto again = Service().SendSignInCode("13800138000", "mall", now_ + Seconds{30});
    ASSERT_FALSE(again.has_value());
    EXPECT_EQ(again.error().code, ErrorCode::kResourceExhausted);
    EXPECT_EQ(again.error().field, "phone");
    EXPECT_EQ(CodeMessages().size(), 1U);

    auto wrong = Service().SignIn("13800138000", "654321", "", now_);
    ASSERT_FALSE(wrong.has_value());
    EXPECT_EQ(wrong.error().code, ErrorCode::kUnauthenticated);
    EXPECT_EQ(wrong.error().field, "code");
    EXPECT_NE(wrong.error().message.find("4 tries left"), std::string::npos);

    auto right = Service().SignIn("138 0013 8000", "123456", "10.0.0.9", now_);
    ASSERT_TRUE(right.has_value()) << right.error().ToString();
    EXPECT_EQ(right->person.phone, "13800138000");
    EXPECT_EQ(right->session.token_hash, options_.sha256_hex(right->token));
    EXPECT_EQ(right->session.expires_at, now_ + kTenantSessionLifetime);

    auto session = Service().Authenticate(right->session.token_hash, now_);
    ASSERT_TRUE(session.has_value());
    EXPECT_EQ(session->second.id, right->person.id);
    EXPECT_EQ(session->first.csrf_token, right->session.csrf_token);

    // A code is spent by its use.
    auto replay = Service().SignIn("13800138000", "123456", "", now_);
    ASSERT_FALSE(replay.has_value());
    EXPECT_EQ(replay.error().field, "code");

    // The same phone signing in again is the same person.
    codes_.push_back(7);
    now_ += Seconds{61};
    ASSERT_TRUE(Service().SendSignInCode("13800138000", "", now_).has_value());
    auto second = Service().SignIn("13800138000", "000007", "", now_);
    ASSERT_TRUE(second.has_value());
    EXPECT_EQ(second->person.id, right->person.id);

    ASSERT_TRUE(Service().SignOut(right->session.token_hash).has_value());
    auto ended = Service().Authenticate(right->session.token_hash, now_);
    ASSERT_FALSE(ended.has_value());
    EXPECT_EQ(ended.error().code, ErrorCode::kUnauthenticated);
    auto expired = Service().Authenticate(second->session.token_hash,
                                          now_ + kTenantSessionLifetime + Seconds{1});
    ASSERT_FALSE(expired.has_value());
    EXPECT_EQ(expired.error().code, ErrorCode::kUnauthenticated);
}

TEST_F(TenantServiceTest, CodesExpireAndFiveWrongTriesSpendThem) {
    codes_.push_back(111111);
    ASSERT_TRUE(Service().SendSignInCode("13800138000", "mall", now_).has_value());
    auto late = Service().SignIn("13800138000", "111111", "", now_ + kCodeLifetime);
    ASSERT_FALSE(late.has_value());
    EXPECT_NE(late.error().message.find("expired"), std::string::npos);

    now_ += Seconds{61};
    codes_.push_back(222222);
    ASSERT_TRUE(Service().SendSignInCode("13800138000", "mall", now_).has_value());
    for (int i = 0; i < kCodeMaxTries; ++i) {
        auto wrong = Service().SignIn("13800138000", "000000", "", now_);
        ASSERT_FALSE(wrong.has_value());
    }
    // The right code after five wrong ones: too late.
    auto right = Service().SignIn("13800138000", "222222", "", now_);
    ASSERT_FALSE(right.has_value());
    EXPECT_NE(right.error().message.find("too many"), std::string::npos);
    // Malformed codes are refused by their shape and cost no try.
    auto malformed = Service().SignIn("13800138000", "12a456", "", now_);
    ASSERT_FALSE(malformed.has_value());
    EXPECT_EQ(malformed.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(malformed.error().field, "code");
}

TEST_F(TenantServiceTest, APhoneGetsTenCodesADay) {
    for (int i = 0; i < kCodesPerPhonePerDay; ++i) {
        ASSERT_TRUE(Service().SendSignInCode("13800138000", "mall", now_).has_value()) << i;
        now_ += Seconds{61};
    }
    auto eleventh = Service().SendSignInCode("13800138000", "mall", now_);
    ASSERT_FALSE(eleventh.has_value());
    EXPECT_EQ(eleventh.error().code, ErrorCode::kResourceExhausted);
    EXPECT_EQ(CodeMessages().size(), static_cast<std::size_t>(kCodesPerPhonePerDay));
    // Another phone is not held up, and a day later this one may ask again.
    EXPECT_TRUE(Service().SendSignInCode("13900139000", "mall", now_).has_value());
    EXPECT_TRUE(Service().SendSignInCode("13800138000", "mall", now_ + Seconds{24 * 3600}));
    auto bad = Service().SendSignInCode("0755-1234567", "mall", now_);
    ASSERT_FALSE(bad.has_value());
    EXPECT_EQ(bad.error().field, "phone");
}

TEST_F(TenantServiceTest, WithoutSmsOnlyTheDemoShowsCodes) {
    options_.sms_configured = false;
    auto refused = Service().SendSignInCode("13800138000", "mall", now_);
    ASSERT_FALSE(refused.has_value());
    EXPECT_EQ(refused.error().code, ErrorCode::kFailedPrecondition);

    options_.show_codes = true;
    codes_.push_back(424242);
    auto shown = Service().SendSignInCode("13800138000", "mall", now_);
    ASSERT_TRUE(shown.has_value()) << shown.error().ToString();
    EXPECT_EQ(shown->demo_code, "424242");
    EXPECT_TRUE(CodeMessages().empty());  // nothing queued for a channel that is not there
    EXPECT_TRUE(Service().SignIn("13800138000", shown->demo_code, "", now_).has_value());
}

TEST_F(TenantServiceTest, TheHolderBindsAtOnceOthersWithTheHoldersCode) {
    const TenantPerson holder = SignedIn("13800138000", 1);
    const TenantPerson member = SignedIn("13900139000", 2);
    const Actor as_holder{"tenant:138****8000"};

    auto bound = Service().Bind(holder, "mall", "A001", std::nullopt, as_holder, now_);
    ASSERT_TRUE(bound.has_value()) << bound.error().ToString();
    ASSERT_TRUE(bound->bound.has_value());
    EXPECT_EQ(bound->bound->role, BindingRole::kHolder);

    // Someone else: a code goes to the account's phone, naming who asks.
    codes_.push_back(909090);
    auto asked = Service().Bind(member, "mall", "A001", std::nullopt, {"tenant:139"}, now_);
    ASSERT_TRUE(asked.has_value()) << asked.error().ToString();
    ASSERT_FALSE(asked->bound.has_value());
    ASSERT_TRUE(asked->code_sent.has_value());
    EXPECT_EQ(asked->code_sent->sent_to, "*******8000");  // someone else's phone: its tail only
    const auto sms = CodeMessages();
    ASSERT_EQ(sms.size(), 3U);                      // two sign-ins, one binding
    EXPECT_EQ(sms.front().address, "13800138000");  // newest first
    EXPECT_NE(sms.front().body.find("9000"), std::string::npos) << sms.front().body;

    auto wrong = Service().Bind(member, "mall", "A001", "123123", {"tenant:139"}, now_);
    ASSERT_FALSE(wrong.has_value());
    EXPECT_EQ(wrong.error().field, "code");
    // The holder's own sign-in code is no binding code.
    auto other = Service().Bind(member, "mall", "A001", "000001", {"tenant:139"}, now_);
    ASSERT_FALSE(other.has_value());
    auto joined = Service().Bind(member, "mall", "A001", "909090", {"tenant:139"}, now_);
    ASSERT_TRUE(joined.has_value()) << joined.error().ToString();
    ASSERT_TRUE(joined->bound.has_value());
    EXPECT_EQ(joined->bound->role, BindingRole::kMember);

    auto twice = Service().Bind(member, "mall", "A001", std::nullopt, {"tenant:139"}, now_);
    ASSERT_FALSE(twice.has_value());
    EXPECT_EQ(twice.error().code, ErrorCode::kAlreadyExists);
    EXPECT_EQ(twice.error().field, "account");

    auto members = Service().Members(member, joined->bound->id);
    ASSERT_TRUE(members.has_value());
    ASSERT_EQ(members->size(), 2U);
    EXPECT_EQ((*members)[0].role, BindingRole::kHolder);
    EXPECT_EQ((*members)[0].phone, "13800138000");

    // A member removes no one else; the holder may.
    auto denied = Service().Unbind(member, bound->bound->id, {"tenant:139"}, now_);
    ASSERT_FALSE(denied.has_value());
    EXPECT_EQ(denied.error().code, ErrorCode::kPermissionDenied);
    ASSERT_TRUE(Service().Unbind(holder, joined->bound->id, as_holder, now_).has_value());
    EXPECT_TRUE(Service().BindingsOf(member).value().empty());
    auto gone = Service().BindingOf(member, joined->bound->id);
    ASSERT_FALSE(gone.has_value());
    EXPECT_EQ(gone.error().code, ErrorCode::kNotFound);
    // Someone bound to nothing of the account cannot even see the binding.
    auto stranger = Service().Unbind(member, bound->bound->id, {"tenant:139"}, now_);
    ASSERT_FALSE(stranger.has_value());
    EXPECT_EQ(stranger.error().code, ErrorCode::kNotFound);
    EXPECT_EQ(stranger.error().field, "binding");
    // The holder leaves on their own.
    ASSERT_TRUE(Service().Unbind(holder, bound->bound->id, as_holder, now_).has_value());

    // Every binding and unbinding is in the operation log.
    auto access = store_->BeginAccess().value();
    OperationFilter filter;
    filter.target_prefix = "account:A001";
    const auto logged = access->ListOperations(filter).value().first;
    std::vector<std::string> actions;
    for (const LoggedOperation& op : logged) {
        actions.push_back(op.op.action);
    }
    EXPECT_EQ(actions, (std::vector<std::string>{"tenant.unbind", "tenant.unbind", "tenant.bind",
                                                 "tenant.bind"}));
}

TEST_F(TenantServiceTest, BindingNamesWhatIsWrong) {
    const TenantPerson person = SignedIn("13800138000", 5);
    const auto refused = [&](std::string_view project, std::string_view account) {
        auto r = Service().Bind(person, project, account, std::nullopt, {"t"}, now_);
        EXPECT_FALSE(r.has_value()) << project << "/" << account;
        return r ? Error{} : r.error();
    };
    EXPECT_EQ(refused("nowhere", "A001").field, "project");
    const Error unknown = refused("mall", "Z999");
    EXPECT_EQ(unknown.code, ErrorCode::kNotFound);
    EXPECT_EQ(unknown.field, "account");
    EXPECT_EQ(refused("mall", "").field, "account");
    const Error no_phone = refused("mall", "A002");
    EXPECT_EQ(no_phone.code, ErrorCode::kFailedPrecondition);
    EXPECT_EQ(no_phone.field, "account");

    CloseAccountRequest close;
    close.project_code = "mall";
    close.account_number = "A003";
    close.final_readings.push_back({"m3", Kwh(100), std::nullopt});
    close.at = now_;
    ASSERT_TRUE(billing_.CloseAccount(close, actor_, now_).has_value());
    const Error closed = refused("mall", "A003");
    EXPECT_EQ(closed.code, ErrorCode::kFailedPrecondition);
    EXPECT_NE(closed.message.find("closed"), std::string::npos);
    EXPECT_TRUE(Service().BindingsOf(person).value().empty());  // nothing bound by any of it
}

TEST_F(TenantServiceTest, APersonHasABudgetOfBindingCodesAndWrongTries) {
    const TenantPerson person = SignedIn("13900139000", 3);
    // Five binding codes a day, whichever accounts they are for.
    for (int i = 0; i < kBindCodesPerPersonPerDay; ++i) {
        auto asked =
            Service().Bind(person, "mall", i % 2 == 0 ? "A001" : "A003", std::nullopt, {"t"}, now_);
        ASSERT_TRUE(asked.has_value()) << i << " " << asked.error().ToString();
        now_ += Seconds{61};
    }
    auto sixth = Service().Bind(person, "mall", "A001", std::nullopt, {"t"}, now_);
    ASSERT_FALSE(sixth.has_value());
    EXPECT_EQ(sixth.error().code, ErrorCode::kResourceExhausted);
    // The holder's own sign-in codes are another budget: binding requests never lock them out.
    codes_.push_back(8);
    EXPECT_TRUE(Service().SendSignInCode("13800138000", "mall", now_).has_value());
    // Ten wrong codes a day in all, then even the right one waits for tomorrow.
    for (int i = 0; i < kWrongTriesPerPersonPerDay; ++i) {
        auto wrong =
            Service().Bind(person, "mall", i % 2 == 0 ? "A001" : "A003", "999999", {"t"}, now_);
        ASSERT_FALSE(wrong.has_value());
    }
    auto locked = Service().Bind(person, "mall", "A001", "000000", {"t"}, now_);
    ASSERT_FALSE(locked.has_value());
    EXPECT_EQ(locked.error().code, ErrorCode::kResourceExhausted);
    EXPECT_EQ(locked.error().field, "code");
}

TEST_F(TenantServiceTest, TheHolderIsWhoeverHasTheAccountsPhoneNow) {
    const TenantPerson old_holder = SignedIn("13800138000", 1);
    const TenantPerson new_holder = SignedIn("13600136000", 2);
    auto first = Service().Bind(old_holder, "mall", "A001", std::nullopt, {"t"}, now_);
    ASSERT_TRUE(first.has_value() && first->bound.has_value());
    // Staff give the account a new phone: its owner binds as holder, the old one is a member.
    ChangeTermsRequest change;
    change.project_code = "mall";
    change.account_number = "A001";
    change.phone = "136 0013 6000";
    ASSERT_TRUE(billing_.ChangeTerms(change, actor_, now_).has_value());
    auto second = Service().Bind(new_holder, "mall", "A001", std::nullopt, {"t"}, now_);
    ASSERT_TRUE(second.has_value() && second->bound.has_value()) << second.error().ToString();
    EXPECT_EQ(Service().BindingOf(old_holder, first->bound->id).value().role, BindingRole::kMember);
    // The new holder removes the old one; staff can see and remove anyone.
    ASSERT_TRUE(Service().Unbind(new_holder, first->bound->id, {"t"}, now_).has_value());
    auto people = Service().PeopleOfAccount("mall", "A001");
    ASSERT_TRUE(people.has_value());
    ASSERT_EQ(people->second.size(), 1U);
    EXPECT_EQ(people->second[0].role, BindingRole::kHolder);
    ASSERT_TRUE(
        Service().RemoveBinding("mall", "A001", second->bound->id, actor_, now_).has_value());
    EXPECT_TRUE(Service().BindingsOf(new_holder).value().empty());
    EXPECT_EQ(Service().RemoveBinding("mall", "A001", 999, actor_, now_).error().field, "binding");
}

TEST_F(TenantServiceTest, ServersWithSeveralProjectsAskWhichOne) {
    SiteSpec park = service_test::FlatSite("park", "dds-park");
    ASSERT_TRUE(CreateSite(*store_, park, actor_, now_).has_value());
    auto unnamed = Service().SendSignInCode("13800138000", "", now_);
    ASSERT_FALSE(unnamed.has_value());
    EXPECT_EQ(unnamed.error().field, "project");
    EXPECT_EQ(Service().SendSignInCode("13800138000", "nowhere", now_).error().field, "project");
    EXPECT_TRUE(Service().SendSignInCode("13800138000", "park", now_).has_value());
}

// A sender that keeps what it was given.
class KeepingSender final : public NotificationSender {
public:
    Status Send(const DeliveryRecord& d) override {
        sent.push_back(d);
        return {};
    }
    std::vector<DeliveryRecord> sent{};
};

TEST_F(TenantServiceTest, ACodesWordsAreWipedOnceSentAndAnExpiredOneIsNotSent) {
    NotifyOptions notify;
    notify.configured = {NotifyChannel::kSms};
    NotificationService notifications(*store_, notify);
    KeepingSender sms;
    codes_.push_back(246810);
    ASSERT_TRUE(Service().SendSignInCode("13800138000", "mall", now_).has_value());
    ASSERT_EQ(notifications.DeliverDue(NotifyChannel::kSms, sms, now_).value().sent, 1);
    ASSERT_EQ(sms.sent.size(), 1U);
    EXPECT_EQ(sms.sent[0].vars, R"({"code":"246810"})");  // the provider got the code
    const DeliveryRecord kept = CodeMessages().front();
    EXPECT_EQ(kept.state, DeliveryState::kSent);
    EXPECT_EQ(kept.vars, R"({"code":"******"})");  // the store keeps no code once it is sent
    EXPECT_EQ(kept.body.find("246810"), std::string::npos) << kept.body;
    // Sending it again is refused: it would send nothing the tenant can use.
    auto again = notifications.RetryDelivery("mall", kept.id, actor_, now_);
    ASSERT_FALSE(again.has_value());

    // A code whose SMS could not go out in its five minutes is given up, not sent late.
    codes_.push_back(135791);
    now_ += Seconds{61};
    ASSERT_TRUE(Service().SendSignInCode("13800138000", "mall", now_).has_value());
    const auto late = notifications.DeliverDue(NotifyChannel::kSms, sms, now_ + kCodeLifetime);
    ASSERT_TRUE(late.has_value());
    EXPECT_EQ(late->failed, 1);
    EXPECT_EQ(sms.sent.size(), 1U);
    EXPECT_EQ(CodeMessages().front().vars, R"({"code":"******"})");
}

}  // namespace
}  // namespace joule
