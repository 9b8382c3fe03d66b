// Fuzzes the payment providers' notification decoders (src/pay) with the whole input as what a
// provider would post:
//  - as an Alipay form: ParseForm never gives an empty name, and the sign content never holds
//    `sign`, `sign_type` or an empty value; the notification never verifies (its signature cannot
//    be right without Alipay's private key, which nobody has here);
//  - as a sandbox notification body signed with the secret, so the JSON behind the signature is
//    what gets fuzzed: a notice that verifies has its order, its transaction and an amount above
//    zero, and a body changed by one byte never verifies;
//  - as Base64: what decodes encodes back to the same text (canonical Base64 only).
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_input.hpp"
#include "orphan_key.hpp"
#include "pay/alipay.hpp"
#include "pay/crypto.hpp"
#include "pay/sandbox.hpp"

namespace {

namespace pay = joule::pay;

void FuzzAlipay(std::string_view text) {
    if (auto form = pay::ParseForm(text)) {
        for (const auto& [name, value] : *form) {
            JOULE_ASSERT(!name.empty(), "a parameter without a name");
        }
        const std::string content = pay::AlipaySignContent(*form);
        for (std::size_t start = 0; start <= content.size();) {
            const std::size_t end = std::min(content.find('&', start), content.size());
            const std::string_view pair = std::string_view(content).substr(start, end - start);
            const std::string_view name = pair.substr(0, pair.find('='));
            // A value may hold '&' or '=', so only pairs that parse as a whole are checked.
            if (form->contains(name) &&
                form->at(std::string(name)) == pair.substr(name.size() + 1)) {
                JOULE_ASSERT(name != "sign" && name != "sign_type", "the signature signed");
                JOULE_ASSERT(!form->at(std::string(name)).empty(), "an empty value signed");
            }
            start = end + 1;
        }
    }
    const pay::AlipayConfig config{"2021000000000001", "", kOrphanRsaKey};
    JOULE_ASSERT(!pay::VerifyAlipayNotification(config, text).has_value(),
                 "an Alipay notification verified without Alipay's key");
}

void FuzzSandbox(std::string_view body) {
    const pay::SandboxConfig config{"fuzz-secret-0123456789", std::chrono::seconds{300}};
    const std::string signature = pay::HexOf(pay::HmacSha256(config.secret, body));
    const auto header = [&](std::string_view) { return signature; };
    // The body's own timestamp is "now", so the window never hides the parsing behind it.
    const joule::Instant now{std::chrono::seconds{1'800'000'000}};
    auto notice = pay::VerifySandboxNotification(config, header, body, now);
    if (notice) {
        JOULE_ASSERT(!notice->order_no.empty() && !notice->transaction_id.empty(),
                     "a notice without its order or transaction");
        JOULE_ASSERT(notice->amount.fen > 0, "a notice of no money");
    }
    if (!body.empty()) {
        std::string changed(body);
        changed[changed.size() / 2] = static_cast<char>(changed[changed.size() / 2] ^ 1);
        JOULE_ASSERT(!pay::VerifySandboxNotification(config, header, changed, now).has_value(),
                     "a changed body verified");
    }
}

void FuzzBase64(std::string_view text) {
    if (auto bytes = pay::Base64Decode(text, "x")) {
        JOULE_ASSERT(pay::Base64Encode(*bytes) == text, "Base64 that is not canonical");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    FuzzAlipay(text);
    FuzzSandbox(text);
    FuzzBase64(text);
    return 0;
}
