#include "wire/command_params.hpp"

#include <nlohmann/json.hpp>

#include <string>

#include "base/decimal.hpp"

namespace joule::wire {

Result<std::optional<codec::Decimal>> CommandValue(std::string_view params_json) {
    constexpr std::size_t kMaxDigits = 18;  // every such mantissa fits int64
    if (params_json.empty())
        return std::nullopt;
    const auto params = nlohmann::json::parse(params_json, nullptr, false);
    if (!params.is_object())
        return InvalidArgument("params", "must be a JSON object, got " + std::string(params_json));
    const auto value = params.find("value");
    if (value == params.end())
        return std::nullopt;
    auto bad = [&](const std::string& got) {
        return InvalidArgument("params.value", "must be an unsigned decimal string of at most " +
                                                   std::to_string(kMaxDigits) +
                                                   " digits such as \"12.50\", got " + got);
    };
    if (!value->is_string())
        return bad(value->dump());
    const auto& text = value->get_ref<const std::string&>();
    const auto dot = text.find('.');
    const std::size_t digits = text.size() - (dot == std::string::npos ? 0 : 1);
    if (digits == 0 || digits > kMaxDigits ||
        text.find_first_not_of("0123456789.") != std::string::npos)
        return bad('"' + text + '"');
    const int decimals = dot == std::string::npos ? 0 : static_cast<int>(text.size() - dot - 1);
    auto mantissa = ParseScaled(text, decimals, "params.value");
    if (!mantissa)
        return bad('"' + text + '"');  // a second '.'
    return codec::Decimal{*mantissa, decimals};
}

}  // namespace joule::wire
