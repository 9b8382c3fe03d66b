// Meter model files (models/*.json) [DEV-2]: the billing register's limits (what core validates
// readings against) and the protocol map (what the meter driver reads and commands). The same
// object may sit inline in a site file. A model without "protocol" is bill-only: its readings come
// from imports, never from acquisition. docs/meter-models.md documents every field.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "codec/device_model.hpp"
#include "core/ports.hpp"
#include "wire/json.hpp"

namespace joule::wire {

struct ParsedModel {
    MeterModelRecord record;  // record.definition holds the canonical JSON of the whole file
    std::optional<codec::DeviceModel> device;
};

// Strict: unknown fields, bad identifiers, registers or enum names are errors naming the path.
[[nodiscard]] Result<ParsedModel> MeterModelFromJson(const Json& j, const std::string& path);

// The protocol map of a stored model (MeterModelRecord::definition). kNotFound when the model is
// bill-only (no "protocol").
[[nodiscard]] Result<codec::DeviceModel> DeviceModelFromDefinition(std::string_view definition);

}  // namespace joule::wire
