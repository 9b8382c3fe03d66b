// The tenants' API [PAY-1] through Api::Handle: sign-in by SMS code, binding as holder and as
// member, what a bound account shows, paying through the sandbox path, and that nobody reaches
// an account, order or receipt they are not bound to.
#include <gtest/gtest.h>

#include "api/api_test_support.hpp"
#include "core/notification_ports.hpp"
#include "core/payment_ports.hpp"
#include "service/site_service.hpp"

namespace joule::api::test {
namespace {

ApiOptions TenantOptions() {
    ApiOptions o;
    o.notify_channels = {"sms"};
    o.tenant_codes_by_sms = true;
    o.payments = StubSandbox();
    return o;
}

class TenantApiTest : public ApiHarness {
protected:
    TenantApiTest() : ApiHarness(TenantOptions()) {}

    void SetUp() override {
        SiteSpec site = service_test::FlatSite("mall");
        site.project.name = "万达广场";
        site.models.front().has_relay = true;
        site.meters.push_back(service_test::SiteMeter(site, "m1"));
        ASSERT_TRUE(CreateSite(*store_, site, Actor{}, now_).has_value());
        OpenAccountRequest open =
            service_test::TeaShop("mall", "A001", "m1", now_, Quantity{100'000});
        open.phone = "13800138000";
        open.first_top_up = Money{10'000};
        ASSERT_TRUE(billing_.OpenAccount(open, Actor{}, now_).has_value());
        AddUser("boss", "admin", {});
    }

    // The newest code the SMS channel was given for `phone`.
    std::string CodeSentTo(const std::string& phone) {
        auto tx = store_->BeginRead().value();
        DeliveryQuery q;
        q.project = tx->FindProject("mall").value().value().id;
        q.kind = "verification_code";
        q.search = phone;
        const std::vector<DeliveryRecord> sent = tx->Notifications().ListDeliveries(q).value();
        EXPECT_FALSE(sent.empty()) << phone;
        return sent.empty() ? "" : Json::parse(sent.front().vars).value("code", "");
    }

    Session SignIn(const std::string& phone) {
        auto sent = Call("POST", "/api/v1/tenant/codes", Json{{"phone", phone}}.dump());
        EXPECT_EQ(sent.status, 202) << sent.body;
        auto r = Call("POST", "/api/v1/tenant/login",
                      Json{{"phone", phone}, {"code", CodeSentTo(phone)}}.dump());
        EXPECT_EQ(r.status, 200) << r.body;
        Session s;
        const std::string cookie = HeaderOf(r, "Set-Cookie");
        EXPECT_TRUE(cookie.starts_with("joule_tenant=")) << cookie;
        EXPECT_NE(cookie.find("HttpOnly"), std::string::npos);
        s.cookie = cookie.substr(0, cookie.find(';'));
        s.csrf = Body(r).value("csrf_token", "");
        now_ += Seconds{61};  // the next code to this phone may go
        return s;
    }
};

TEST_F(TenantApiTest, SignInBindSeeTheAccountAndTopUp) {
    auto projects = Call("GET", "/api/v1/tenant/projects");
    ASSERT_EQ(projects.status, 200);
    EXPECT_EQ(Body(projects)["items"][0]["name"], "万达广场");

    auto sent = Call("POST", "/api/v1/tenant/codes", Json{{"phone", "138 0013 8000"}}.dump());
    ASSERT_EQ(sent.status, 202) << sent.body;
    EXPECT_EQ(Body(sent)["sent_to"], "138****8000");
    EXPECT_FALSE(Body(sent).contains("demo_code"));
    auto wrong = Call("POST", "/api/v1/tenant/login",
                      Json{{"phone", "13800138000"}, {"code", "000000"}}.dump());
    EXPECT_EQ(wrong.status, 401);
    EXPECT_EQ(Body(wrong)["field"], "code");
    auto bad_phone = Call("POST", "/api/v1/tenant/codes", Json{{"phone", "12345"}}.dump());
    EXPECT_EQ(bad_phone.status, 400);
    EXPECT_EQ(Body(bad_phone)["field"], "phone");
    auto too_soon = Call("POST", "/api/v1/tenant/codes", Json{{"phone", "13800138000"}}.dump());
    EXPECT_EQ(too_soon.status, 429);
    now_ += Seconds{61};
    const Session tenant = SignIn("13800138000");

    auto me = As(tenant, "GET", "/api/v1/tenant/me");
    ASSERT_EQ(me.status, 200) << me.body;
    EXPECT_EQ(Body(me)["phone"], "138****8000");
    EXPECT_EQ(Body(me)["accounts"], Json::array());
    EXPECT_EQ(Body(me)["providers"], Json::array({"sandbox"}));
    EXPECT_EQ(Body(me)["top_up_presets"], Json::array({"50.00", "100.00", "200.00", "500.00"}));
    EXPECT_EQ(Body(me)["csrf_token"], tenant.csrf);

    // Nothing changes without the CSRF token.
    auto forged =
        Call("POST", "/api/v1/tenant/bindings",
             Json{{"project", "mall"}, {"account", "A001"}}.dump(), {{"cookie", tenant.cookie}});
    EXPECT_EQ(forged.status, 403);
    auto missing = As(tenant, "POST", "/api/v1/tenant/bindings",
                      Json{{"project", "mall"}, {"account", "Z9"}}.dump());
    EXPECT_EQ(missing.status, 404);
    EXPECT_EQ(Body(missing)["field"], "account");
    auto bound = As(tenant, "POST", "/api/v1/tenant/bindings",
                    Json{{"project", "mall"}, {"account", "A001"}}.dump());
    ASSERT_EQ(bound.status, 201) << bound.body;
    const Json binding = Body(bound);
    EXPECT_EQ(binding["role"], "holder");
    EXPECT_EQ(binding["available"], "100.00");
    EXPECT_EQ(binding["relay"], "closed");
    const std::string base =
        "/api/v1/tenant/bindings/" + std::to_string(binding["binding"].get<int64_t>());

    auto detail = As(tenant, "GET", base);
    ASSERT_EQ(detail.status, 200) << detail.body;
    EXPECT_EQ(Body(detail)["balance"]["available"], "100.00");
    EXPECT_EQ(Body(detail)["meters"][0]["code"], "m1");
    EXPECT_EQ(Body(detail)["meters"][0]["utility"], "electricity");
    EXPECT_TRUE(Body(detail)["alarm_levels"].contains("alarm1"));

    auto usage = As(tenant, "GET", base + "/usage?period=month");
    ASSERT_EQ(usage.status, 200) << usage.body;
    EXPECT_EQ(As(tenant, "GET", base + "/usage?period=year").status, 400);
    EXPECT_EQ(As(tenant, "GET", base + "/records?kind=nope").status, 400);
    EXPECT_EQ(As(tenant, "GET", base + "/alarms").status, 200);

    // Top up 100 yuan through the sandbox, as the phone page does.
    auto order = As(tenant, "POST", base + "/payments",
                    Json{{"amount", "100.00"}, {"provider", "sandbox"}}.dump());
    ASSERT_EQ(order.status, 201) << order.body;
    const std::string order_no = Body(order)["order_no"];
    EXPECT_EQ(Body(order)["sandbox_pay"], "/api/v1/tenant/payments/" + order_no + "/sandbox-pay");
    EXPECT_EQ(As(tenant, "GET", "/api/v1/tenant/payments/" + order_no).status, 200);
    auto paid = As(tenant, "POST", "/api/v1/tenant/payments/" + order_no + "/sandbox-pay");
    ASSERT_EQ(paid.status, 200) << paid.body;
    auto after = As(tenant, "GET", "/api/v1/tenant/payments/" + order_no);
    EXPECT_EQ(Body(after)["state"], "paid");
    EXPECT_FALSE(Body(after).contains("notifications"));
    EXPECT_EQ(Body(As(tenant, "GET", base))["balance"]["available"], "200.00");

    auto records = As(tenant, "GET", base + "/records?kind=top_up");
    ASSERT_EQ(records.status, 200) << records.body;
    const Json top_ups = Body(records)["items"];
    ASSERT_EQ(top_ups.size(), 2U);  // the payment, then the opening top-up
    EXPECT_EQ(top_ups[0]["amount"], "100.00");
    EXPECT_EQ(top_ups[0]["code"], "top_up");
    EXPECT_TRUE(top_ups[0]["receipt"].get<bool>());
    auto receipt =
        As(tenant, "GET", base + "/receipt?transfer=" + top_ups[0]["id"].get<std::string>());
    ASSERT_EQ(receipt.status, 200) << receipt.body;
    EXPECT_NE(receipt.body.find("壹佰元整"), std::string::npos);

    // Signing out ends the session.
    ASSERT_EQ(As(tenant, "POST", "/api/v1/tenant/logout").status, 204);
    EXPECT_EQ(As(tenant, "GET", "/api/v1/tenant/me").status, 401);
}

TEST_F(TenantApiTest, MembersBindWithTheHoldersCodeAndSeeOnlyTheirOwn) {
    const Session holder = SignIn("13800138000");
    const Session other = SignIn("13900139000");
    auto own = As(holder, "POST", "/api/v1/tenant/bindings",
                  Json{{"project", "mall"}, {"account", "A001"}}.dump());
    ASSERT_EQ(own.status, 201) << own.body;
    const std::string holder_base =
        "/api/v1/tenant/bindings/" + std::to_string(Body(own)["binding"].get<int64_t>());
    auto order = As(holder, "POST", holder_base + "/payments",
                    Json{{"amount", "10.00"}, {"provider", "sandbox"}}.dump());
    ASSERT_EQ(order.status, 201);
    const std::string order_no = Body(order)["order_no"];

    // Not bound yet: nothing of the holder's is there for the other person.
    for (const std::string& path :
         {holder_base, holder_base + "/records", holder_base + "/members",
          holder_base + "/receipt?transfer=x", "/api/v1/tenant/payments/" + order_no}) {
        auto r = As(other, "GET", path);
        EXPECT_EQ(r.status, 404) << path << " " << r.body;
    }
    EXPECT_EQ(As(other, "POST", "/api/v1/tenant/payments/" + order_no + "/sandbox-pay").status,
              404);

    // The code goes to the account's phone.
    auto asked = As(other, "POST", "/api/v1/tenant/bindings",
                    Json{{"project", "mall"}, {"account", "A001"}}.dump());
    ASSERT_EQ(asked.status, 202) << asked.body;
    EXPECT_EQ(Body(asked)["code_sent_to"], "*******8000");
    const std::string code = CodeSentTo("13800138000");
    auto joined = As(other, "POST", "/api/v1/tenant/bindings",
                     Json{{"project", "mall"}, {"account", "A001"}, {"code", code}}.dump());
    ASSERT_EQ(joined.status, 201) << joined.body;
    EXPECT_EQ(Body(joined)["role"], "member");
    const std::string member_base =
        "/api/v1/tenant/bindings/" + std::to_string(Body(joined)["binding"].get<int64_t>());
    EXPECT_EQ(As(other, "GET", "/api/v1/tenant/payments/" + order_no).status, 200);

    auto members = As(holder, "GET", holder_base + "/members");
    ASSERT_EQ(members.status, 200);
    const Json items = Body(members)["items"];
    ASSERT_EQ(items.size(), 2U);
    EXPECT_EQ(items[0]["role"], "holder");
    EXPECT_TRUE(items[0]["me"].get<bool>());
    EXPECT_EQ(items[1]["phone"], "139****9000");

    EXPECT_EQ(As(other, "DELETE", holder_base).status, 403);
    EXPECT_EQ(As(holder, "DELETE", member_base).status, 204);
    EXPECT_EQ(As(other, "GET", member_base).status, 404);

    // Staff never read a code in the delivery log, and sessions do not cross over.
    const Session boss = Login("boss");
    auto log =
        As(boss, "GET", "/api/v1/projects/mall/notifications/deliveries?kind=verification_code");
    ASSERT_EQ(log.status, 200) << log.body;
    EXPECT_EQ(log.body.find(code), std::string::npos);
    EXPECT_NE(log.body.find("******"), std::string::npos);
    EXPECT_EQ(As(boss, "GET", "/api/v1/tenant/me").status, 401);
    EXPECT_EQ(As(holder, "GET", "/api/v1/projects/mall/accounts").status, 401);
}

TEST_F(TenantApiTest, OneAddressAsksForAtMostTwentyCodesAnHour) {
    // Twenty phones from one address go; the twenty-first is refused before any SMS is queued.
    for (int i = 0; i < 20; ++i) {
        const std::string phone = "1390000" + std::to_string(1000 + i);
        auto sent = Call("POST", "/api/v1/tenant/codes", Json{{"phone", phone}}.dump());
        ASSERT_EQ(sent.status, 202) << i << " " << sent.body;
    }
    auto refused = Call("POST", "/api/v1/tenant/codes", Json{{"phone", "13900002000"}}.dump());
    EXPECT_EQ(refused.status, 429);
    EXPECT_EQ(Body(refused)["field"], "phone");
    now_ += Seconds{3600};
    EXPECT_EQ(Call("POST", "/api/v1/tenant/codes", Json{{"phone", "13900002000"}}.dump()).status,
              202);
}

TEST_F(TenantApiTest, TenantsSeeTheirOwnAlarmsOnlyAndStaffSeeWhoIsBound) {
    const Session tenant = SignIn("13800138000");
    auto bound = As(tenant, "POST", "/api/v1/tenant/bindings",
                    Json{{"project", "mall"}, {"account", "A001"}}.dump());
    ASSERT_EQ(bound.status, 201);
    const std::string base =
        "/api/v1/tenant/bindings/" + std::to_string(Body(bound)["binding"].get<int64_t>());
    {
        // A tenant's alarm and a finance one on the same account.
        auto tx = store_->Begin().value();
        const ProjectRecord mall = tx->FindProject("mall").value().value();
        const AccountRecord a001 = tx->FindAccount(mall.id, "A001").value().value();
        for (AlarmKind kind : {AlarmKind::kLowBalance1, AlarmKind::kPaymentMismatch}) {
            AlarmRecord a;
            a.project = mall.id;
            a.account = a001.id;
            a.kind = kind;
            a.raised_at = now_;
            a.detail = "staff-only detail";
            ASSERT_TRUE(tx->RaiseAlarm(a).has_value());
        }
        ASSERT_TRUE(tx->Commit().has_value());
    }
    auto alarms = As(tenant, "GET", base + "/alarms");
    ASSERT_EQ(alarms.status, 200);
    ASSERT_EQ(Body(alarms)["items"].size(), 1U);
    EXPECT_EQ(Body(alarms)["items"][0]["kind"], "low_balance_1");
    EXPECT_EQ(alarms.body.find("staff-only"), std::string::npos);

    const Session boss = Login("boss");
    auto people = As(boss, "GET", "/api/v1/projects/mall/accounts/A001/tenants");
    ASSERT_EQ(people.status, 200) << people.body;
    ASSERT_EQ(Body(people)["items"].size(), 1U);
    EXPECT_EQ(Body(people)["items"][0]["phone"], "13800138000");
    EXPECT_EQ(Body(people)["items"][0]["role"], "holder");
    const std::string binding = std::to_string(Body(people)["items"][0]["binding"].get<int64_t>());
    EXPECT_EQ(As(boss, "DELETE", "/api/v1/projects/mall/accounts/A001/tenants/" + binding).status,
              204);
    EXPECT_EQ(As(tenant, "GET", base).status, 404);
}

}  // namespace
}  // namespace joule::api::test
