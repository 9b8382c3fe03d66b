// Internal to the SQLite adapter: the tenant records of a unit of work (core/tenant_ports.hpp),
// on the unit's connection and statement cache.
#pragma once

#include "core/tenant_ports.hpp"
#include "storage/sqlite_query.hpp"

namespace joule::storage::sqlite {

class SqliteTenants final : public TenantTx {
public:
    SqliteTenants(sqlite3* db, StatementCache& statements) : db_(db), statements_(statements) {}

    Result<int64_t> CountCodesSentSince(std::string_view phone, CodePurpose purpose,
                                        Instant since) override;
    Result<std::optional<Instant>> LastCodeSentAt(std::string_view phone,
                                                  CodePurpose purpose) override;
    Result<int64_t> CountCodesRequestedSince(std::string_view requester, CodePurpose purpose,
                                             Instant since) override;
    Result<int64_t> CountWrongTriesSince(std::string_view requester, Instant since) override;
    Result<int64_t> CountAllCodesSince(Instant since) override;
    Result<int64_t> InsertCode(const VerificationCode& c) override;
    Result<std::optional<VerificationCode>> NewestCode(CodePurpose purpose,
                                                       std::string_view requester,
                                                       AccountId account) override;
    Status UpdateCode(const VerificationCode& c) override;
    Result<TenantPerson> SignInPerson(std::string_view phone, Instant now) override;
    Result<std::optional<TenantPerson>> GetPerson(int64_t id) override;
    Status InsertSession(const TenantSession& s) override;
    Result<std::optional<TenantSession>> FindSession(std::string_view token_hash) override;
    Status DeleteSession(std::string_view token_hash) override;
    Status SetSessionOpenid(std::string_view token_hash, std::string_view openid) override;
    Result<int64_t> InsertBinding(const TenantBinding& b) override;
    Result<std::optional<TenantBinding>> GetBinding(int64_t id) override;
    Result<std::vector<TenantBinding>> BindingsOfPerson(int64_t person) override;
    Result<std::vector<TenantBinding>> BindingsOfAccount(AccountId account) override;
    Status DeleteBinding(int64_t id) override;
    Status PurgeExpired(Instant now, Instant codes_before) override;
    Result<std::vector<AlarmRecord>> AlarmsOfAccount(AccountId account, int limit) override;
    Result<std::vector<Transfer>> TransfersOfAccount(AccountId account, uint32_t code_mask,
                                                     int limit) override;

private:
    Query Q(const char* sql) { return CachedQuery(db_, statements_, sql); }

    sqlite3* db_;
    StatementCache& statements_;
};

}  // namespace joule::storage::sqlite
