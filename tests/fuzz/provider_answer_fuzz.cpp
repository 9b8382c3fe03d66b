// Fuzzes how we read the providers' answers to our calls (src/pay), the whole input as the body:
//  - RawJsonMember, the hand-written scanner that finds the exact text Alipay signs: what it
//    returns lies inside the input, and on a JSON object whose member appears once it is that
//    member's value as nlohmann reads it;
//  - Alipay's query, precreate and refund answers never verify without Alipay's private key;
//  - Alipay's bill address and WeChat's trade bill answer are never read unsigned; the path of a
//    bill's download address is the address's own;
//  - WeChat's OAuth answer gives an openid of 1..128 bytes or an error; WeChat's error text stays
//    short.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "fuzz_input.hpp"
#include "orphan_key.hpp"
#include "pay/alipay.hpp"
#include "pay/wechat_pay.hpp"

namespace {

namespace pay = joule::pay;

std::size_t Count(std::string_view text, std::string_view what) {
    std::size_t n = 0;
    for (std::size_t at = text.find(what); at != std::string_view::npos;
         at = text.find(what, at + 1)) {
        ++n;
    }
    return n;
}

void FuzzRawMember(std::string_view text, std::string_view key) {
    auto raw = pay::RawJsonMember(text, key);
    if (!raw) {
        return;
    }
    JOULE_ASSERT(
        raw->data() >= text.data() && raw->data() + raw->size() <= text.data() + text.size(),
        "a member's text outside the input");
    const auto whole = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
    if (!whole.is_object() || !whole.contains(key) ||
        Count(text, "\"" + std::string(key) + "\"") != 1) {
        return;
    }
    const auto value = nlohmann::json::parse(raw->begin(), raw->end(), nullptr, false);
    JOULE_ASSERT(!value.is_discarded() && value == whole.at(std::string(key)),
                 "the member's text is not its value");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    for (const std::string_view key : {"alipay_trade_query_response", "sign", "a"}) {
        FuzzRawMember(text, key);
    }
    const pay::AlipayConfig alipay{"2021000000000001", "", kOrphanRsaKey};
    JOULE_ASSERT(!pay::ReadAlipayTradeQuery(alipay, text).has_value(), "a query answer verified");
    JOULE_ASSERT(!pay::ReadAlipayPrecreate(alipay, text).has_value(),
                 "a precreate answer verified");
    JOULE_ASSERT(!pay::ReadAlipayRefund(alipay, text, "J1").has_value(),
                 "a refund answer verified");
    JOULE_ASSERT(!pay::ReadAlipayRefundQuery(alipay, text, "J1").has_value(),
                 "a refund query answer verified");
    JOULE_ASSERT(!pay::ReadAlipayBillUrl(alipay, text).has_value(), "a bill address verified");
    pay::WechatPayConfig wechat;
    wechat.platform_keys.emplace("S", kOrphanRsaKey);
    const auto no_header = [](std::string_view) { return std::string(); };
    for (const int status : {200, 400, 500}) {
        JOULE_ASSERT(!pay::ReadWechatTradeBill(wechat, no_header, status, text, joule::Instant{})
                          .has_value(),
                     "an unsigned trade bill answer read");
    }
    if (auto path = pay::WechatBillDownloadPath("https://api.mch.weixin.qq.com", text)) {
        JOULE_ASSERT(path->starts_with('/') && text.ends_with(*path),
                     "a download path that is not the address's own");
    }
    if (auto openid = pay::ReadWechatOAuthOpenid(text)) {
        JOULE_ASSERT(!openid->empty() && openid->size() <= 128, "an openid out of bounds");
    }
    JOULE_ASSERT(pay::WechatErrorText(text).size() <= 512, "an error text too long");
    return 0;
}
