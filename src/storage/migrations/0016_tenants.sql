-- Tenant self-service (issue 6) [PAY-1]. A tenant is a person with a mobile phone, signed in by a
-- code sent to it, bound to the accounts they may see and pay for: the account's own phone as its
-- holder, anyone else as a member with a code sent to that phone. Codes and session tokens are
-- kept as SHA-256 hashes only.

CREATE TABLE tenant_people (
    id INTEGER PRIMARY KEY,
    phone TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    last_sign_in_at INTEGER
);

CREATE TABLE tenant_sessions (
    token_hash TEXT PRIMARY KEY,
    person_id INTEGER NOT NULL REFERENCES tenant_people(id),
    csrf_token TEXT NOT NULL,
    remote TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX tenant_sessions_person ON tenant_sessions(person_id);
CREATE INDEX tenant_sessions_expiry ON tenant_sessions(expires_at);

CREATE TABLE verification_codes (
    id INTEGER PRIMARY KEY,
    purpose INTEGER NOT NULL,      -- CodePurpose: 1 sign-in, 2 bind
    sent_to TEXT NOT NULL,
    requester TEXT NOT NULL,
    account_id INTEGER NOT NULL,   -- 0 for sign-in
    code_hash TEXT NOT NULL,
    tries INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER
);
CREATE INDEX verification_codes_sent_to ON verification_codes(sent_to, created_at);
CREATE INDEX verification_codes_requester ON verification_codes(requester, purpose, account_id, id);
CREATE INDEX verification_codes_created ON verification_codes(created_at);

CREATE TABLE tenant_bindings (
    id INTEGER PRIMARY KEY,
    person_id INTEGER NOT NULL REFERENCES tenant_people(id),
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    role INTEGER NOT NULL,         -- BindingRole: 1 holder, 2 member
    created_at INTEGER NOT NULL,
    UNIQUE (person_id, account_id)
);
CREATE INDEX tenant_bindings_account ON tenant_bindings(account_id);

-- A tenant's own alarms, newest first, without reading the whole project's.
CREATE INDEX alarms_account ON alarms(account_id, id);
