#include "api/http_util.hpp"

#include <gtest/gtest.h>

namespace joule::api {
namespace {

using Json = nlohmann::json;

TEST(HttpUtil, QueryStringsDecodeAndRejectRepeats) {
    auto q = ParseQuery("a=1&b=x%20y+z&c=");
    ASSERT_TRUE(q.has_value());
    EXPECT_EQ(q->at("a"), "1");
    EXPECT_EQ(q->at("b"), "x y z");
    EXPECT_EQ(q->at("c"), "");
    EXPECT_EQ(ParseQuery("a=1&a=2").error().field, "query");
    EXPECT_FALSE(ParseQuery("a=%zz").has_value());
    EXPECT_FALSE(ParseQuery("a=%4").has_value());
}

TEST(HttpUtil, PercentDecodeNeverReadsPastTheEnd) {
    EXPECT_EQ(PercentDecode("a%41").value(), "aA");
    EXPECT_FALSE(PercentDecode("%").has_value());
    EXPECT_FALSE(PercentDecode("%4").has_value());
    EXPECT_FALSE(PercentDecode("%g1").has_value());
}

TEST(HttpUtil, ErrorsMapToOneStatusEach) {
    EXPECT_EQ(HttpStatusOf(Error{ErrorCode::kInvalidArgument, "", ""}), 400);
    EXPECT_EQ(HttpStatusOf(Error{ErrorCode::kUnauthenticated, "", ""}), 401);
    EXPECT_EQ(HttpStatusOf(Error{ErrorCode::kPermissionDenied, "", ""}), 403);
    EXPECT_EQ(HttpStatusOf(Error{ErrorCode::kNotFound, "", ""}), 404);
    EXPECT_EQ(HttpStatusOf(Error{ErrorCode::kAborted, "", ""}), 409);
    EXPECT_EQ(HttpStatusOf(Error{ErrorCode::kResourceExhausted, "", ""}), 429);
    const Json internal = Json::parse(ErrorJson(Error{ErrorCode::kInternal, "sqlite: x", "f"}));
    EXPECT_EQ(internal["message"], "internal error");  // no internals leak
    const Json bad = Json::parse(ErrorJson(Error{ErrorCode::kInvalidArgument, "must be >0", "a"}));
    EXPECT_EQ(bad["code"], "invalid_argument");
    EXPECT_EQ(bad["field"], "a");
}

TEST(HttpUtil, CookiesAndTokens) {
    EXPECT_EQ(CookieValue("a=1; joule_session=abc; b=2", "joule_session"), "abc");
    EXPECT_EQ(CookieValue("joule_sessionx=abc", "joule_session"), "");
    EXPECT_TRUE(IsToken("order-7_a.b"));
    EXPECT_FALSE(IsToken("a b"));
    EXPECT_FALSE(IsToken(std::string(65, 'a')));
    const std::string cookie = SessionCookie("s", "v", Seconds{60}, true);
    EXPECT_NE(cookie.find("HttpOnly"), std::string::npos);
    EXPECT_NE(cookie.find("Secure"), std::string::npos);
}

TEST(HttpUtil, PagesFilterSearchAndSort) {
    std::vector<Json> items;
    for (int i = 0; i < 7; ++i) {
        items.push_back(Json{{"n", i}, {"kind", i % 2 == 0 ? "even" : "odd"}});
    }
    QueryParams q{{"kind", "odd"}, {"sort", "-n"}, {"page_size", "2"}, {"page", "2"}};
    auto page = Page(items, q, {"n"}, {"kind"}, {});
    ASSERT_TRUE(page.has_value()) << page.error().ToString();
    EXPECT_EQ((*page)["total"], 3);
    ASSERT_EQ((*page)["items"].size(), 1u);
    EXPECT_EQ((*page)["items"][0]["n"], 1);
    EXPECT_EQ(Page(items, {{"sort", "kind"}}, {"n"}, {}, {}).error().field, "sort");
    EXPECT_EQ(Page(items, {{"x", "1"}}, {"n"}, {}, {}).error().field, "x");
}

TEST(HttpUtil, APrometheusCounterHasItsHelpTypeAndValue) {
    EXPECT_EQ(PrometheusCounter("joule_x_total", "Things counted.", 42),
              "# HELP joule_x_total Things counted.\n# TYPE joule_x_total counter\n"
              "joule_x_total 42\n");
}

}  // namespace
}  // namespace joule::api
