#include "core/access.hpp"

#include <algorithm>
#include <array>

#include "core/access_ports.hpp"

namespace joule {

namespace {

constexpr std::array<std::string_view, kPermissionCount> kNames = {
    "projects.view", "projects.manage", "accounts.view",  "accounts.manage", "money.topup",
    "money.refund",  "devices.view",    "devices.manage", "commands.send",   "alarms.view",
    "alarms.manage", "tariffs.view",    "tariffs.manage", "reports.view",    "operations.view",
    "users.manage",  "tenant.self",
};

PermissionSet Of(std::initializer_list<Permission> list) {
    PermissionSet set;
    for (Permission p : list) {
        set.set(static_cast<std::size_t>(p));
    }
    return set;
}

std::vector<RoleDefinition> MakeBuiltinRoles() {
    using P = Permission;
    PermissionSet all;
    for (std::size_t i = 0; i < kPermissionCount; ++i) {
        all.set(i);
    }
    all.reset(static_cast<std::size_t>(P::kTenantSelf));
    const PermissionSet view = Of({P::kProjectsView, P::kAccountsView, P::kDevicesView,
                                   P::kAlarmsView, P::kTariffsView, P::kReportsView});
    return {
        {"admin", "Administrator", all, true},
        // Commercial / property staff: tenants, accounts, tariffs and counter top-ups.
        {"commercial", "Commercial",
         view | Of({P::kProjectsManage, P::kAccountsManage, P::kMoneyTopUp, P::kTariffsManage,
                    P::kAlarmsManage}),
         true},
        // Finance: money in and out, reports and the operation log; no device actions.
        {"finance", "Finance", view | Of({P::kMoneyTopUp, P::kMoneyRefund, P::kOperationsView}),
         true},
        // Engineering: devices, commands and alarms; no money.
        {"engineering", "Engineering",
         view | Of({P::kDevicesManage, P::kCommandsSend, P::kAlarmsManage}), true},
        {"tenant", "Tenant", Of({P::kTenantSelf}), true},
    };
}

}  // namespace

std::string_view PermissionName(Permission p) { return kNames.at(static_cast<std::size_t>(p)); }

Result<Permission> ParsePermission(std::string_view name, std::string_view field) {
    const auto* it = std::find(kNames.begin(), kNames.end(), name);
    if (it == kNames.end()) {
        return InvalidArgument(std::string(field),
                               "unknown permission '" + std::string(name.substr(0, 64)) + "'");
    }
    return static_cast<Permission>(it - kNames.begin());
}

std::vector<std::string> PermissionNames(const PermissionSet& set) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < kPermissionCount; ++i) {
        if (set.test(i)) {
            out.emplace_back(kNames.at(i));
        }
    }
    return out;
}

Result<PermissionSet> ParsePermissions(std::span<const std::string> names, std::string_view field) {
    PermissionSet set;
    for (std::size_t i = 0; i < names.size(); ++i) {
        JOULE_ASSIGN_OR_RETURN(
            Permission p,
            ParsePermission(names[i], std::string(field) + "[" + std::to_string(i) + "]"));
        set.set(static_cast<std::size_t>(p));
    }
    return set;
}

std::span<const RoleDefinition> BuiltinRoles() {
    static const std::vector<RoleDefinition> roles = MakeBuiltinRoles();
    return roles;
}

const RoleDefinition* FindBuiltinRole(std::string_view code) {
    for (const RoleDefinition& r : BuiltinRoles()) {
        if (r.code == code) {
            return &r;
        }
    }
    return nullptr;
}

Status CheckCustomRoleCode(std::string_view code) {
    const bool well_formed =
        !code.empty() && code.size() <= kMaxRoleCodeBytes &&
        std::all_of(code.begin(), code.end(), [](char c) {
            return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
        });
    if (!well_formed) {
        return InvalidArgument("code", "must be 1 to 32 characters of a-z 0-9 _ -");
    }
    if (FindBuiltinRole(code) != nullptr) {
        return MakeError(ErrorCode::kAlreadyExists,
                         "'" + std::string(code) + "' is a built-in role; choose another code",
                         "code");
    }
    return {};
}

Status CheckCustomRoleName(std::string_view name) {
    const bool control = std::any_of(name.begin(), name.end(), [](char c) {
        return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
    });
    if (name.empty() || name.size() > kMaxRoleNameBytes || control) {
        return InvalidArgument("name", "must be 1 to 64 bytes without control characters");
    }
    return {};
}

Result<PermissionSet> ParseRolePermissions(std::span<const std::string> names,
                                           std::string_view field) {
    if (names.empty()) {
        return InvalidArgument(std::string(field), "a role needs at least one permission");
    }
    JOULE_ASSIGN_OR_RETURN(PermissionSet set, ParsePermissions(names, field));
    const auto tenant =
        std::find(names.begin(), names.end(), PermissionName(Permission::kTenantSelf));
    if (tenant != names.end()) {
        return InvalidArgument(
            std::string(field) + "[" + std::to_string(tenant - names.begin()) + "]",
            "tenant.self is only in the built-in tenant role");
    }
    return set;
}

Status CheckGrant(const Principal& granter, const PermissionSet& permissions,
                  std::string_view field) {
    PermissionSet beyond = permissions & ~granter.permissions;
    beyond.reset(static_cast<std::size_t>(Permission::kTenantSelf));
    if (beyond.any()) {
        const std::vector<std::string> names = PermissionNames(beyond);
        std::string list;
        for (const std::string& name : names) {
            list += (list.empty() ? "" : ", ") + name;
        }
        return MakeError(ErrorCode::kPermissionDenied,
                         "you cannot grant permissions you do not hold: " + list,
                         std::string(field));
    }
    return {};
}

Result<std::optional<RoleDefinition>> AccessTx::ResolveRole(std::string_view code) {
    if (const RoleDefinition* builtin = FindBuiltinRole(code)) {
        return std::optional<RoleDefinition>(*builtin);
    }
    JOULE_ASSIGN_OR_RETURN(std::optional<RoleRecord> custom, FindRole(code));
    if (!custom) {
        return std::optional<RoleDefinition>();
    }
    return std::optional<RoleDefinition>(std::move(custom->role));
}

bool Principal::SeesProject(ProjectId project) const {
    return all_projects || std::find(projects.begin(), projects.end(), project) != projects.end();
}

}  // namespace joule
