// The tenant records the store keeps [PAY-1]: people (by phone), their sessions, the codes sent
// to sign in or to bind, and the bindings of people to accounts. Part of a unit of work
// (Tx::Tenants()), so a code and the SMS that carries it are written together. Secrets are never
// stored: codes and session tokens as SHA-256 hashes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "core/ids.hpp"
#include "core/ledger.hpp"
#include "core/ports.hpp"
#include "core/tenant.hpp"
#include "core/time.hpp"

namespace joule {

struct TenantPerson {
    int64_t id = 0;
    std::string phone;  // NormalizeMobile's form; unique
    Instant created_at;
    std::optional<Instant> last_sign_in_at;
};

struct TenantSession {
    std::string token_hash;  // hex SHA-256 of the cookie value
    int64_t person = 0;
    std::string csrf_token;
    std::string remote;
    Instant created_at;
    Instant expires_at;
    std::string wechat_openid{};  // the payer in our official account, once OAuth told it
};

struct VerificationCode {
    int64_t id = 0;
    CodePurpose purpose = CodePurpose::kSignIn;
    std::string sent_to;    // the phone the SMS went to
    std::string requester;  // the phone of who asked: the same for sign-in, the binder's for bind
    AccountId account;      // bind: the account; sign-in: none
    std::string code_hash;  // hex SHA-256 of purpose, requester, account and code
    int32_t tries = 0;      // wrong codes typed against it
    Instant created_at;
    Instant expires_at;
    std::optional<Instant> used_at;
};

struct TenantBinding {
    int64_t id = 0;
    int64_t person = 0;
    AccountId account;
    BindingRole role = BindingRole::kMember;
    Instant created_at;
    std::string phone;  // the person's (read with the binding)
};

class TenantTx {
public:
    virtual ~TenantTx() = default;

    // Codes of `purpose` sent to `phone` since `since` (the daily limit), and the newest one's
    // time: sign-in and binding codes have budgets of their own, so binding requests never lock
    // the holder out of signing in.
    virtual Result<int64_t> CountCodesSentSince(std::string_view phone, CodePurpose purpose,
                                                Instant since) = 0;
    virtual Result<std::optional<Instant>> LastCodeSentAt(std::string_view phone,
                                                          CodePurpose purpose) = 0;
    // Codes of `purpose` asked for by `requester` since `since`, and the wrong tries typed against
    // them: a person's own budget, whichever phones the codes went to.
    virtual Result<int64_t> CountCodesRequestedSince(std::string_view requester,
                                                     CodePurpose purpose, Instant since) = 0;
    virtual Result<int64_t> CountWrongTriesSince(std::string_view requester, Instant since) = 0;
    // Every code sent since `since`: the server's own cap against SMS pumping.
    virtual Result<int64_t> CountAllCodesSince(Instant since) = 0;
    virtual Result<int64_t> InsertCode(const VerificationCode& c) = 0;
    // The newest code of `purpose` asked for by `requester` (for `account`), used or not.
    virtual Result<std::optional<VerificationCode>> NewestCode(CodePurpose purpose,
                                                               std::string_view requester,
                                                               AccountId account) = 0;
    virtual Status UpdateCode(const VerificationCode& c) = 0;  // tries, used_at

    // The person of `phone`, made on first sign-in; its last sign-in set to `now`.
    virtual Result<TenantPerson> SignInPerson(std::string_view phone, Instant now) = 0;
    virtual Result<std::optional<TenantPerson>> GetPerson(int64_t id) = 0;

    virtual Status InsertSession(const TenantSession& s) = 0;
    virtual Result<std::optional<TenantSession>> FindSession(std::string_view token_hash) = 0;
    virtual Status DeleteSession(std::string_view token_hash) = 0;
    virtual Status SetSessionOpenid(std::string_view token_hash, std::string_view openid) = 0;

    // kAlreadyExists (field "account") when the person is bound to the account already.
    virtual Result<int64_t> InsertBinding(const TenantBinding& b) = 0;
    virtual Result<std::optional<TenantBinding>> GetBinding(int64_t id) = 0;
    virtual Result<std::vector<TenantBinding>> BindingsOfPerson(
        int64_t person) = 0;  // oldest first
    virtual Result<std::vector<TenantBinding>> BindingsOfAccount(AccountId account) = 0;
    virtual Status DeleteBinding(int64_t id) = 0;

    // Sessions expired before `now` and codes created before `codes_before`: deleted.
    virtual Status PurgeExpired(Instant now, Instant codes_before) = 0;

    // What a tenant's pages read of a bound account, without reading the whole project's.
    // The account's alarms, newest first.
    virtual Result<std::vector<AlarmRecord>> AlarmsOfAccount(AccountId account, int limit) = 0;
    // The account's transfers whose code is in `code_mask` (bit 1 << TransferCode), newest first.
    virtual Result<std::vector<Transfer>> TransfersOfAccount(AccountId account, uint32_t code_mask,
                                                             int limit) = 0;
};

}  // namespace joule
