#include "storage/sqlite_tenants.hpp"

#include "storage/sqlite_rows.hpp"

#include <string>

namespace joule::storage::sqlite {

namespace {

constexpr const char* kCodeColumns =
    "SELECT id, purpose, sent_to, requester, account_id, code_hash, tries, created_at, "
    "expires_at, used_at FROM verification_codes ";

VerificationCode CodeRow(const Query& q) {
    VerificationCode c;
    c.id = q.ColInt(0);
    c.purpose = static_cast<CodePurpose>(q.ColInt(1));
    c.sent_to = q.ColText(2);
    c.requester = q.ColText(3);
    c.account = AccountId{q.ColInt(4)};
    c.code_hash = q.ColText(5);
    c.tries = static_cast<int32_t>(q.ColInt(6));
    c.created_at = At(q.ColInt(7));
    c.expires_at = At(q.ColInt(8));
    if (auto used = q.ColOptInt(9)) {
        c.used_at = At(*used);
    }
    return c;
}

TenantPerson PersonRow(const Query& q) {
    TenantPerson p;
    p.id = q.ColInt(0);
    p.phone = q.ColText(1);
    p.created_at = At(q.ColInt(2));
    if (auto last = q.ColOptInt(3)) {
        p.last_sign_in_at = At(*last);
    }
    return p;
}

constexpr const char* kBindingColumns =
    "SELECT b.id, b.person_id, b.account_id, b.role, b.created_at, p.phone "
    "FROM tenant_bindings b JOIN tenant_people p ON p.id = b.person_id ";

TenantBinding BindingRow(const Query& q) {
    TenantBinding b;
    b.id = q.ColInt(0);
    b.person = q.ColInt(1);
    b.account = AccountId{q.ColInt(2)};
    b.role = static_cast<BindingRole>(q.ColInt(3));
    b.created_at = At(q.ColInt(4));
    b.phone = q.ColText(5);
    return b;
}

}  // namespace

Result<int64_t> SqliteTenants::CountCodesSentSince(std::string_view phone, CodePurpose purpose,
                                                   Instant since) {
    auto q =
        Q("SELECT COUNT(*) FROM verification_codes WHERE sent_to = ? AND purpose = ? "
          "AND created_at >= ?");
    q.Text(phone).Int(static_cast<int64_t>(purpose)).Int(Secs(since));
    JOULE_ASSIGN_OR_RETURN(bool row, q.Step());
    return row ? q.ColInt(0) : 0;
}

Result<std::optional<Instant>> SqliteTenants::LastCodeSentAt(std::string_view phone,
                                                             CodePurpose purpose) {
    auto q = Q("SELECT MAX(created_at) FROM verification_codes WHERE sent_to = ? AND purpose = ?");
    q.Text(phone).Int(static_cast<int64_t>(purpose));
    JOULE_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row || q.ColNull(0)) {
        return std::nullopt;
    }
    return At(q.ColInt(0));
}

Result<int64_t> SqliteTenants::CountCodesRequestedSince(std::string_view requester,
                                                        CodePurpose purpose, Instant since) {
    auto q =
        Q("SELECT COUNT(*) FROM verification_codes WHERE requester = ? AND purpose = ? "
          "AND created_at >= ?");
    q.Text(requester).Int(static_cast<int64_t>(purpose)).Int(Secs(since));
    JOULE_ASSIGN_OR_RETURN(bool row, q.Step());
    return row ? q.ColInt(0) : 0;
}

Result<int64_t> SqliteTenants::CountWrongTriesSince(std::string_view requester, Instant since) {
    auto q =
        Q("SELECT COALESCE(SUM(tries), 0) FROM verification_codes WHERE requester = ? "
          "AND created_at >= ?");
    q.Text(requester).Int(Secs(since));
    JOULE_ASSIGN_OR_RETURN(bool row, q.Step());
    return row ? q.ColInt(0) : 0;
}

Result<int64_t> SqliteTenants::CountAllCodesSince(Instant since) {
    auto q = Q("SELECT COUNT(*) FROM verification_codes WHERE created_at >= ?");
    q.Int(Secs(since));
    JOULE_ASSIGN_OR_RETURN(bool row, q.Step());
    return row ? q.ColInt(0) : 0;
}

Result<int64_t> SqliteTenants::InsertCode(const VerificationCode& c) {
    auto q =
        Q("INSERT INTO verification_codes(purpose, sent_to, requester, account_id, code_hash, "
          "tries, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    JOULE_TRY(q.Int(static_cast<int64_t>(c.purpose))
                  .Text(c.sent_to)
                  .Text(c.requester)
                  .Int(c.account.value)
                  .Text(c.code_hash)
                  .Int(c.tries)
                  .Int(Secs(c.created_at))
                  .Int(Secs(c.expires_at))
                  .Run());
    return sqlite3_last_insert_rowid(db_);
}

Result<std::optional<VerificationCode>> SqliteTenants::NewestCode(CodePurpose purpose,
                                                                  std::string_view requester,
                                                                  AccountId account) {
    static const std::string sql = std::string(kCodeColumns) +
                                   "WHERE requester = ? AND purpose = ? AND account_id = ? "
                                   "ORDER BY id DESC LIMIT 1";
    auto q = Q(sql.c_str());
    q.Text(requester).Int(static_cast<int64_t>(purpose)).Int(account.value);
    return FirstRow(q, CodeRow);
}

Status SqliteTenants::UpdateCode(const VerificationCode& c) {
    auto q = Q("UPDATE verification_codes SET tries = ?, used_at = ? WHERE id = ?");
    return q.Int(c.tries)
        .OptInt(c.used_at ? std::optional<int64_t>(Secs(*c.used_at)) : std::nullopt)
        .Int(c.id)
        .Run();
}

Result<TenantPerson> SqliteTenants::SignInPerson(std::string_view phone, Instant now) {
    auto insert =
        Q("INSERT INTO tenant_people(phone, created_at, last_sign_in_at) VALUES (?, ?, ?) "
          "ON CONFLICT(phone) DO UPDATE SET last_sign_in_at = excluded.last_sign_in_at");
    JOULE_TRY(insert.Text(phone).Int(Secs(now)).Int(Secs(now)).Run());
    auto q = Q("SELECT id, phone, created_at, last_sign_in_at FROM tenant_people WHERE phone = ?");
    q.Text(phone);
    JOULE_ASSIGN_OR_RETURN(auto person, FirstRow(q, PersonRow));
    if (!person) {
        return MakeError(ErrorCode::kInternal, "a tenant just saved cannot be read");
    }
    return *person;
}

Result<std::optional<TenantPerson>> SqliteTenants::GetPerson(int64_t id) {
    auto q = Q("SELECT id, phone, created_at, last_sign_in_at FROM tenant_people WHERE id = ?");
    q.Int(id);
    return FirstRow(q, PersonRow);
}

Status SqliteTenants::InsertSession(const TenantSession& s) {
    auto q =
        Q("INSERT INTO tenant_sessions(token_hash, person_id, csrf_token, remote, created_at, "
          "expires_at) VALUES (?, ?, ?, ?, ?, ?)");
    return q.Text(s.token_hash)
        .Int(s.person)
        .Text(s.csrf_token)
        .Text(s.remote)
        .Int(Secs(s.created_at))
        .Int(Secs(s.expires_at))
        .Run();
}

Result<std::optional<TenantSession>> SqliteTenants::FindSession(std::string_view token_hash) {
    auto q =
        Q("SELECT token_hash, person_id, csrf_token, remote, created_at, expires_at, "
          "wechat_openid FROM tenant_sessions WHERE token_hash = ?");
    q.Text(token_hash);
    return FirstRow(q, [](const Query& r) {
        return TenantSession{r.ColText(0),    r.ColInt(1),     r.ColText(2), r.ColText(3),
                             At(r.ColInt(4)), At(r.ColInt(5)), r.ColText(6)};
    });
}

Status SqliteTenants::SetSessionOpenid(std::string_view token_hash, std::string_view openid) {
    auto q = Q("UPDATE tenant_sessions SET wechat_openid = ? WHERE token_hash = ?");
    return q.Text(openid).Text(token_hash).Run();
}

Status SqliteTenants::DeleteSession(std::string_view token_hash) {
    auto q = Q("DELETE FROM tenant_sessions WHERE token_hash = ?");
    return q.Text(token_hash).Run();
}

Result<int64_t> SqliteTenants::InsertBinding(const TenantBinding& b) {
    auto q =
        Q("INSERT INTO tenant_bindings(person_id, account_id, role, created_at) "
          "VALUES (?, ?, ?, ?)");
    auto inserted = q.Int(b.person)
                        .Int(b.account.value)
                        .Int(static_cast<int64_t>(b.role))
                        .Int(Secs(b.created_at))
                        .Run();
    if (!inserted) {
        if (inserted.error().code == ErrorCode::kAlreadyExists) {
            return MakeError(ErrorCode::kAlreadyExists, "this account is bound already", "account");
        }
        return std::unexpected(inserted.error());
    }
    return sqlite3_last_insert_rowid(db_);
}

Result<std::optional<TenantBinding>> SqliteTenants::GetBinding(int64_t id) {
    static const std::string sql = std::string(kBindingColumns) + "WHERE b.id = ?";
    auto q = Q(sql.c_str());
    q.Int(id);
    return FirstRow(q, BindingRow);
}

Result<std::vector<TenantBinding>> SqliteTenants::BindingsOfPerson(int64_t person) {
    static const std::string sql = std::string(kBindingColumns) +
                                   "WHERE b.person_id = ? "
                                   "ORDER BY b.id";
    auto q = Q(sql.c_str());
    q.Int(person);
    return CollectRows(q, BindingRow);
}

Result<std::vector<TenantBinding>> SqliteTenants::BindingsOfAccount(AccountId account) {
    static const std::string sql = std::string(kBindingColumns) +
                                   "WHERE b.account_id = ? "
                                   "ORDER BY b.role, b.id";
    auto q = Q(sql.c_str());
    q.Int(account.value);
    return CollectRows(q, BindingRow);
}

Status SqliteTenants::PurgeExpired(Instant now, Instant codes_before) {
    auto sessions = Q("DELETE FROM tenant_sessions WHERE expires_at <= ?");
    JOULE_TRY(sessions.Int(Secs(now)).Run());
    auto codes = Q("DELETE FROM verification_codes WHERE created_at < ?");
    return codes.Int(Secs(codes_before)).Run();
}

Result<std::vector<AlarmRecord>> SqliteTenants::AlarmsOfAccount(AccountId account, int limit) {
    static const std::string sql =
        std::string(kAlarmColumns) + "WHERE account_id = ? ORDER BY id DESC LIMIT ?";
    auto q = Q(sql.c_str());
    q.Int(account.value).Int(limit);
    return CollectRows(q, AlarmRow);
}

Result<std::vector<Transfer>> SqliteTenants::TransfersOfAccount(AccountId account,
                                                                uint32_t code_mask, int limit) {
    // Each side walks its index (debit_id or credit_id, then seq) from the newest and stops at
    // `limit` matches: a busy account's thousands of deductions are not read to find top-ups.
    auto q =
        Q("SELECT id, debit_id, credit_id, amount, code, ref, actor, at FROM transfers "
          "WHERE seq IN ("
          "SELECT seq FROM (SELECT seq FROM transfers WHERE debit_id IN "
          "(SELECT id FROM ledger_accounts WHERE owner_account_id = ?1) "
          "AND ((1 << code) & ?2) != 0 ORDER BY seq DESC LIMIT ?3) "
          "UNION ALL "
          "SELECT seq FROM (SELECT seq FROM transfers WHERE credit_id IN "
          "(SELECT id FROM ledger_accounts WHERE owner_account_id = ?1) "
          "AND ((1 << code) & ?2) != 0 ORDER BY seq DESC LIMIT ?3)) "
          "ORDER BY seq DESC LIMIT ?3");
    q.Int(account.value).Int(code_mask).Int(limit);
    return CollectRows(q, TransferRow);
}

Status SqliteTenants::DeleteBinding(int64_t id) {
    auto q = Q("DELETE FROM tenant_bindings WHERE id = ?");
    return q.Int(id).Run();
}

}  // namespace joule::storage::sqlite
