// Tenant self-service [PAY-1]: people sign in with a code sent by SMS to their phone and bind the
// accounts they may see and pay for. The account's registered phone binds as its holder at once;
// anyone else needs a code sent to that phone (the holder lets them in), and binds as a member.
//
// A code and the SMS that carries it are written in one unit of work (the SMS is a delivery the
// notifier's SMS channel sends, never held by quiet hours). Codes and session tokens are stored
// hashed; codes expire (kCodeLifetime), allow kCodeMaxTries wrong tries, and a phone gets one per
// kCodeResendAfter and kCodesPerPhonePerDay a day. Bindings are logged in the operation log.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/ports.hpp"
#include "core/tenant_ports.hpp"
#include "service/requests.hpp"

namespace joule {

struct TenantOptions {
    // Whether the server can send SMS at all: without it, codes cannot reach anyone.
    bool sms_configured = false;
    // Demos only: the code comes back in the answer (and the SMS is still queued if it can go).
    bool show_codes = false;
    // Randomness and hashing from the adapter that has them (the API: libsodium).
    std::function<std::string(std::size_t bytes)> random_hex;
    std::function<std::string(std::string_view)> sha256_hex;
};

struct CodeSent {
    std::string sent_to;  // masked
    Seconds expires_in = kCodeLifetime;
    Seconds resend_after = kCodeResendAfter;
    std::string demo_code;  // TenantOptions::show_codes only
};

struct TenantSignIn {
    std::string token;  // the cookie's value; only its hash is stored
    TenantSession session;
    TenantPerson person;
};

// A binding made, or (a member without a code yet) the code sent to the account's phone.
struct BindOutcome {
    std::optional<TenantBinding> bound;
    std::optional<CodeSent> code_sent;
};

// Who a tenant is in the operation log and on payment orders: "tenant:17:138****8000".
[[nodiscard]] std::string TenantActor(const TenantPerson& person);

class TenantService {
public:
    TenantService(Store& store, TenantOptions options)
        : store_(store), options_(std::move(options)) {}

    // Sends a sign-in code to `phone` (typed as the tenant typed it). `project_code` names the
    // project whose delivery log shows the SMS; "" only when the server has one project (else
    // kInvalidArgument naming "project"). Errors:
    // kInvalidArgument naming "phone"; kResourceExhausted naming "phone" when asked again too
    // soon or too often; kFailedPrecondition when this server sends no SMS.
    [[nodiscard]] Result<CodeSent> SendSignInCode(std::string_view phone,
                                                  std::string_view project_code, Instant now);
    // Checks the code and opens a session. kUnauthenticated naming "code" for a wrong, spent or
    // expired code (a wrong one counts against the code's tries).
    [[nodiscard]] Result<TenantSignIn> SignIn(std::string_view phone, std::string_view code,
                                              std::string remote, Instant now);
    // The session of a cookie's token hash and its person; kUnauthenticated when there is none
    // or it expired.
    [[nodiscard]] Result<std::pair<TenantSession, TenantPerson>> Authenticate(
        std::string_view token_hash, Instant now);
    [[nodiscard]] Status SignOut(std::string_view token_hash);
    // The session's payer in our WeChat official account, as its OAuth told it (for JSAPI
    // payments). kInvalidArgument naming "openid" for one that is empty or over 128 bytes.
    [[nodiscard]] Status RememberWechatPayer(std::string_view token_hash, std::string_view openid);

    // Binds `person` to the account `account_number` of `project_code`: as holder when the
    // person's phone is the account's; otherwise with `code` as a member, or, without one, a code
    // sent to the account's phone (BindOutcome::code_sent). Errors name "project", "account"
    // (kNotFound; kAlreadyExists when bound; kFailedPrecondition when closed or without a mobile
    // phone to send a code to) or "code".
    [[nodiscard]] Result<BindOutcome> Bind(const TenantPerson& person,
                                           std::string_view project_code,
                                           std::string_view account_number,
                                           std::optional<std::string_view> code, const Actor& actor,
                                           Instant now);
    // Removes a binding: one's own, or a member's by the account's holder. kNotFound naming
    // "binding" for a binding the person cannot see; kPermissionDenied for another's when not the
    // holder (or the holder's by a member).
    [[nodiscard]] Status Unbind(const TenantPerson& person, int64_t binding, const Actor& actor,
                                Instant now);

    [[nodiscard]] Result<std::vector<TenantBinding>> BindingsOf(const TenantPerson& person);
    // One of the person's bindings; kNotFound naming "binding" for any other.
    [[nodiscard]] Result<TenantBinding> BindingOf(const TenantPerson& person, int64_t binding);
    // Everyone bound to the account of one of the person's bindings.
    [[nodiscard]] Result<std::vector<TenantBinding>> Members(const TenantPerson& person,
                                                             int64_t binding);

    // Staff: the account and everyone bound to it; removing one of them (logged).
    [[nodiscard]] Result<std::pair<AccountRecord, std::vector<TenantBinding>>> PeopleOfAccount(
        std::string_view project_code, std::string_view account_number);
    [[nodiscard]] Status RemoveBinding(std::string_view project_code,
                                       std::string_view account_number, int64_t binding,
                                       const Actor& actor, Instant now);

private:
    // Checks the phone's, the person's and the server's limits, then writes the code and its
    // SMS in `tx`.
    Result<CodeSent> IssueCode(Tx& tx, CodePurpose purpose, const std::string& sent_to,
                               const std::string& requester, AccountId account,
                               std::string_view account_number, const ProjectRecord& project,
                               Instant now);
    // Roles as they are now: the holder is whoever has the account's current phone, whatever
    // it was when they bound (a phone changed by staff hands the account over).
    static Status CurrentRoles(Tx& tx, std::vector<TenantBinding>& bindings);
    // Checks `typed` against the newest code; counts a wrong try, spends a right one.
    Status Redeem(Tx& tx, CodePurpose purpose, const std::string& requester, AccountId account,
                  std::string_view typed, Instant now);
    [[nodiscard]] std::string CodeHash(CodePurpose purpose, std::string_view requester,
                                       AccountId account, std::string_view code) const;

    Store& store_;
    TenantOptions options_;
};

}  // namespace joule
