#include "wire/json_text.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace joule::wire {
namespace {

using Json = nlohmann::json;

std::string Dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

TEST(JsonText, WritesWhatTheDocumentDumps) {
    const std::string tricky = "quote \" back \\ nl \n tab \t bell \x07 del \x7f 中文 €";
    JsonText text;
    text.BeginObject()
        .Key("items")
        .BeginArray()
        .BeginObject()
        .Key("name")
        .String(tricky)
        .Key("n")
        .Int(-42)
        .Key("ok")
        .Bool(true)
        .Key("empty")
        .BeginArray()
        .EndArray()
        .EndObject()
        .BeginObject()
        .Key("min")
        .Int(INT64_MIN)
        .Key("raw")
        .Raw(R"({"a":[1,2]})")
        .EndObject()
        .EndArray()
        .Key("total")
        .Int(2)
        .EndObject();
    // nlohmann's object keeps keys sorted; the same keys in the same order here.
    const Json expected = {
        {"items",
         Json::array({Json{{"empty", Json::array()}, {"n", -42}, {"name", tricky}, {"ok", true}},
                      Json{{"min", INT64_MIN}, {"raw", Json{{"a", {1, 2}}}}}})},
        {"total", 2}};
    const std::string written = text.Take();
    EXPECT_EQ(Json::parse(written), expected);
    // Key for key the same bytes where the order agrees.
    JsonText one;
    one.BeginObject().Key("name").String(tricky).EndObject();
    EXPECT_EQ(one.Take(), Dump(Json{{"name", tricky}}));
}

TEST(JsonText, ReplacesInvalidUtf8AndStaysParseable) {
    const std::string cases[] = {
        "\xff",              // never a lead byte
        "\xc0\xaf",          // overlong '/'
        "\xed\xa0\x80",      // a surrogate
        "\xf4\x90\x80\x80",  // above U+10FFFF
        "\xe4\xb8",          // truncated 中
        "ok\xe4\xb8\xad",    // valid, for contrast
    };
    for (const std::string& s : cases) {
        JsonText text;
        text.String(s);
        const std::string written = text.Take();
        const auto parsed = Json::parse(written, nullptr, false);
        ASSERT_FALSE(parsed.is_discarded()) << written;
        const std::string value = parsed.get<std::string>();
        if (s.starts_with("ok")) {
            EXPECT_EQ(value, s);
        } else {
            EXPECT_NE(value.find("\xEF\xBF\xBD"), std::string::npos) << written;
        }
    }
}

}  // namespace
}  // namespace joule::wire
