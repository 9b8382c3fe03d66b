#include "api/request_json.hpp"

#include <nlohmann/json.hpp>

#include "api/api_internal.hpp"
#include "base/decimal.hpp"
#include "core/purchase.hpp"

namespace joule::api {

using wire::Json;
using wire::ObjectReader;

namespace {

// The purchase count a meter can show: DL/T 645's XXXX is the widest on the wire.
constexpr int64_t kMaxPurchaseCount = 9999;

std::string Indexed(const std::string& path, std::size_t i) {
    return path + "[" + std::to_string(i) + "]";
}

// "debt_share_percent": "12.5" → basis points.
Result<int32_t> DebtShare(ObjectReader& r) {
    JOULE_ASSIGN_OR_RETURN(std::string share, r.String("debt_share_percent", 8));
    JOULE_ASSIGN_OR_RETURN(int64_t bp, ParseScaled(share, 2, r.PathOf("debt_share_percent")));
    if (bp < 0 || bp > kBasisPointsOne) {
        return InvalidArgument(r.PathOf("debt_share_percent"), "must be between 0 and 100");
    }
    return static_cast<int32_t>(bp);
}

}  // namespace

Result<OpenAccountRequest> ParseOpenAccount(const Json& j, const std::string& path,
                                            std::string_view project_code) {
    ObjectReader r(j, path);
    JOULE_TRY(r.Check());
    OpenAccountRequest a;
    a.project_code = std::string(project_code);
    JOULE_ASSIGN_OR_RETURN(a.number, r.String("number", 64));
    JOULE_ASSIGN_OR_RETURN(a.tenant_name, r.String("tenant", 128));
    JOULE_ASSIGN_OR_RETURN(a.phone, r.OptString("phone", "", 32));
    JOULE_ASSIGN_OR_RETURN(a.tariff_code, r.String("tariff", 64));
    JOULE_ASSIGN_OR_RETURN(const Json* scheme, r.OptObject("scheme"));
    if (scheme != nullptr) {
        JOULE_ASSIGN_OR_RETURN(a.scheme, wire::ControlSchemeFromJson(*scheme, r.PathOf("scheme")));
    }
    if (r.Has("debt_share_percent")) {
        JOULE_ASSIGN_OR_RETURN(a.debt_share_basis_points, DebtShare(r));
    }
    JOULE_ASSIGN_OR_RETURN(a.meters, ParseMeterReadings(r, "meters"));
    JOULE_ASSIGN_OR_RETURN(a.first_top_up, r.OptMoney("top_up", Money{}));
    JOULE_ASSIGN_OR_RETURN(a.channel, r.OptString("channel", "cash", 32));
    JOULE_ASSIGN_OR_RETURN(a.opened_at, r.InstantField("opened_at"));
    // Meter billing [ACCT-1]: who holds the balance, and the meter's purchase count at opening.
    JOULE_ASSIGN_OR_RETURN(std::string mode, r.OptString("billing_mode", "platform", 16));
    auto billing_mode = ParseBillingMode(mode);
    if (!billing_mode) {
        return InvalidArgument(r.PathOf("billing_mode"), billing_mode.error().message);
    }
    a.billing_mode = *billing_mode;
    JOULE_ASSIGN_OR_RETURN(a.purchase_count,
                           r.OptInteger("purchase_count", 0, 0, kMaxPurchaseCount));
    if (r.Has("purchase_count") && a.billing_mode != BillingMode::kMeter) {
        return InvalidArgument(r.PathOf("purchase_count"), "only for billing_mode \"meter\"");
    }
    JOULE_TRY(r.Finish());
    return a;
}

Status ReadChangeTerms(ObjectReader& r, const ControlScheme& current, ChangeTermsRequest& out) {
    if (r.Has("tenant")) {
        JOULE_ASSIGN_OR_RETURN(out.tenant_name, r.String("tenant", 128));
    }
    // "" clears the phone: a tenant without one is allowed.
    JOULE_ASSIGN_OR_RETURN(out.phone, OptText(r, "phone", 32));
    if (r.Has("tariff")) {
        JOULE_ASSIGN_OR_RETURN(out.tariff_code, r.String("tariff", 64));
    }
    if (r.Has("debt_share_percent")) {
        JOULE_ASSIGN_OR_RETURN(out.debt_share_basis_points, DebtShare(r));
    }
    JOULE_ASSIGN_OR_RETURN(const Json* scheme, r.OptObject("scheme"));
    if (scheme != nullptr) {
        // The fields given replace the current ones; the others stay (friendly: field by field).
        Json merged = wire::ControlSchemeToJson(current);
        for (const auto& [key, value] : scheme->items()) {
            if (key == "friendly" && value.is_object()) {
                for (const auto& [fkey, fvalue] : value.items()) {
                    merged["friendly"][fkey] = fvalue;
                }
            } else {
                merged[key] = value;
            }
        }
        JOULE_ASSIGN_OR_RETURN(out.scheme, wire::ControlSchemeFromJson(merged, r.PathOf("scheme")));
    }
    return {};
}

Result<std::vector<MeterOpening>> ParseMeterReadings(ObjectReader& r, std::string_view key) {
    std::vector<MeterOpening> out;
    JOULE_ASSIGN_OR_RETURN(const Json* list, r.Array(key, kMaxMetersPerAccount));
    for (std::size_t i = 0; i < list->size(); ++i) {
        ObjectReader m((*list)[i], Indexed(r.PathOf(key), i));
        JOULE_TRY(m.Check());
        MeterOpening opening;
        JOULE_ASSIGN_OR_RETURN(opening.meter_code, m.String("meter", 64));
        JOULE_ASSIGN_OR_RETURN(opening.opening_total, m.QuantityField("reading"));
        if (opening.opening_total.milli < 0) {
            return InvalidArgument(m.PathOf("reading"), "a register is never negative");
        }
        JOULE_TRY(m.Finish());
        out.push_back(std::move(opening));
    }
    return out;
}

Status ReadReplaceMeter(ObjectReader& r, ReplaceMeterRequest& out) {
    JOULE_ASSIGN_OR_RETURN(out.old_meter_code, r.String("old_meter", 64));
    JOULE_ASSIGN_OR_RETURN(out.old_final_total, r.QuantityField("old_final"));
    JOULE_ASSIGN_OR_RETURN(out.new_meter_code, r.String("new_meter", 64));
    JOULE_ASSIGN_OR_RETURN(out.new_opening_total, r.QuantityField("new_opening"));
    for (const auto& [key, total] : {std::pair{"old_final", out.old_final_total},
                                     std::pair{"new_opening", out.new_opening_total}}) {
        if (total.milli < 0) {
            return InvalidArgument(r.PathOf(key), "a register is never negative");
        }
    }
    return {};
}

Status ReadCloseAccount(ObjectReader& r, CloseAccountRequest& out) {
    JOULE_ASSIGN_OR_RETURN(out.final_readings, ParseMeterReadings(r, "final_readings"));
    JOULE_ASSIGN_OR_RETURN(out.channel, r.OptString("channel", "cash", 32));
    return {};
}

Status ReadTransferTenant(ObjectReader& r, TransferTenantRequest& out) {
    JOULE_ASSIGN_OR_RETURN(out.new_number, r.String("new_number", 64));
    JOULE_ASSIGN_OR_RETURN(out.new_tenant_name, r.String("new_tenant", 128));
    JOULE_ASSIGN_OR_RETURN(out.new_phone, r.OptString("new_phone", "", 32));
    JOULE_ASSIGN_OR_RETURN(out.transfer_readings, ParseMeterReadings(r, "readings"));
    JOULE_ASSIGN_OR_RETURN(out.carry_balance, r.OptBool("carry_balance", true));
    JOULE_ASSIGN_OR_RETURN(out.channel, r.OptString("channel", "cash", 32));
    return {};
}

}  // namespace joule::api
