// The parameters of a command to a device (commands.params, the MQTT down/cmd "params"): a JSON
// object such as {"value":"12.50","count":3}. Read by the acquisition runtime when it sends a
// command and by the simulated MQTT gateway when it executes one, so both read the same value.
#pragma once

#include <optional>
#include <string_view>

#include "base/error.hpp"
#include "codec/values.hpp"

namespace joule::wire {

// The "value" of a command's params: the amount or price of a setting, the amount of a purchase,
// as an exact decimal ("12.50" -> {1250, 2}). nullopt when params is empty or has no "value".
// kInvalidArgument with field "params" when params is not a JSON object, and with field
// "params.value" when the value is not a string of digits with at most one '.' ("12.50", "7",
// ".5"), at most 18 digits, without a sign.
[[nodiscard]] Result<std::optional<codec::Decimal>> CommandValue(std::string_view params_json);

}  // namespace joule::wire
