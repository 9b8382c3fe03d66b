-- Custom roles (issue 4) [ADM-1]: beside the built-in roles (admin, commercial, finance,
-- engineering, tenant), which are code and never stored, the user managers define roles as a list
-- of permissions. users.role names a built-in or a custom role by code; a custom role is deleted
-- only when no user has it (the API checks in the same unit of work), and edited with optimistic
-- concurrency like the site's objects: version 1 when inserted, bumped by every update.
CREATE TABLE roles (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    permissions TEXT NOT NULL,  -- permission names, comma separated
    version INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Who has a role: asked before a role is deleted or its permissions change.
CREATE INDEX users_role ON users(role);
