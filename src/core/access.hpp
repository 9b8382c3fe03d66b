// Who may do what [ADM-1, SEC-1]: permissions, the built-in roles that group them, and the
// principal a request acts as. Pure: the API asks Allows()/SeesProject() and nothing else decides.
#pragma once

#include <bitset>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "core/ids.hpp"

namespace joule {

// stored (by name in roles and API keys): never rename.
enum class Permission : std::uint8_t {
    kProjectsView,    // projects, buildings, floors, rooms
    kProjectsManage,  // create and edit them
    kAccountsView,    // accounts, balances, ledger
    kAccountsManage,  // open, transfer, replace meters, close
    kMoneyTopUp,      // counter top-ups
    kMoneyRefund,     // refunds and subsidies
    kDevicesView,     // gateways, meters, models, live status, readings
    kDevicesManage,   // add, bind pending devices
    kCommandsSend,    // trip, close, keep power, valves
    kAlarmsView,      //
    kAlarmsManage,    // acknowledge, clear
    kTariffsView,     //
    kTariffsManage,   //
    kReportsView,     // energy and sales summaries, exports
    kOperationsView,  // the operation log
    kUsersManage,     // users, roles, API keys
    kTenantSelf,      // a tenant's own accounts only
};
inline constexpr std::size_t kPermissionCount = 17;
using PermissionSet = std::bitset<kPermissionCount>;

[[nodiscard]] std::string_view PermissionName(Permission p);  // "accounts.view"
[[nodiscard]] Result<Permission> ParsePermission(std::string_view name, std::string_view field);
[[nodiscard]] std::vector<std::string> PermissionNames(const PermissionSet& set);
[[nodiscard]] Result<PermissionSet> ParsePermissions(std::span<const std::string> names,
                                                     std::string_view field);

struct RoleDefinition {
    std::string code;  // "admin", "finance" ...
    std::string name;  // shown in the console
    PermissionSet permissions;
    bool builtin = false;
};

// admin (everything), commercial (property/commercial staff), finance, engineering, tenant.
[[nodiscard]] std::span<const RoleDefinition> BuiltinRoles();
[[nodiscard]] const RoleDefinition* FindBuiltinRole(std::string_view code);

// Custom roles [ADM-1]: a code of 1..32 of a-z 0-9 _ - that no built-in role has (kAlreadyExists),
// errors naming "code"; a name of 1..64 bytes without control characters, naming "name".
inline constexpr std::size_t kMaxRoleCodeBytes = 32;
inline constexpr std::size_t kMaxRoleNameBytes = 64;
[[nodiscard]] Status CheckCustomRoleCode(std::string_view code);
[[nodiscard]] Status CheckCustomRoleName(std::string_view name);
// A custom role's permissions: at least one (else kInvalidArgument naming `field`), each a known
// name and never tenant.self — tenants are the built-in tenant role (errors name "<field>[i]").
[[nodiscard]] Result<PermissionSet> ParseRolePermissions(std::span<const std::string> names,
                                                         std::string_view field);

// What one request may do: a user's role narrowed to its projects, or an API key's scopes.
struct Principal {
    int64_t user_id = 0;
    std::string username;
    std::string role;
    PermissionSet permissions;
    bool all_projects = false;            // group users (admins) see every project
    std::vector<ProjectId> projects;      // otherwise only these
    std::vector<AccountId> own_accounts;  // tenants: only these accounts
    bool via_api_key = false;

    [[nodiscard]] bool Allows(Permission p) const {
        return permissions.test(static_cast<std::size_t>(p));
    }
    [[nodiscard]] bool SeesProject(ProjectId project) const;
    [[nodiscard]] bool IsTenant() const { return Allows(Permission::kTenantSelf); }
};

// Whether `granter` may hand `permissions` out, in a role it defines or a role it gives a user:
// only permissions it holds itself (tenant.self is no power over others and always passes), else
// kPermissionDenied naming `field`. A user manager never makes anyone, itself included, more
// than it is.
[[nodiscard]] Status CheckGrant(const Principal& granter, const PermissionSet& permissions,
                                std::string_view field);

}  // namespace joule
