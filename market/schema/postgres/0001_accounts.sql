CREATE TABLE institutions (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('school','bureau','university','vocational','vendor','public')),
    code        TEXT UNIQUE,
    region      TEXT NOT NULL DEFAULT '',
    parent_id   TEXT REFERENCES institutions(id),
    created_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE users (
    id              TEXT PRIMARY KEY,
    login           TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    password_hash   TEXT NOT NULL,
    institution_id  TEXT REFERENCES institutions(id),
    verified        BOOLEAN NOT NULL DEFAULT FALSE,
    verified_at     TIMESTAMPTZ,
    verified_by     TEXT,
    birth_date      TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX users_institution ON users(institution_id, verified);

CREATE TABLE user_roles (
    user_id     TEXT NOT NULL REFERENCES users(id),
    role        TEXT NOT NULL CHECK (role IN ('student','teacher','parent','vendor','reviewer','evaluator','institution_admin','platform_admin')),
    granted_by  TEXT,
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, role)
);

CREATE TABLE guardians (
    student_id   TEXT NOT NULL REFERENCES users(id),
    guardian_id  TEXT NOT NULL REFERENCES users(id),
    consent_at   TIMESTAMPTZ,
    created_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (student_id, guardian_id)
);
CREATE INDEX guardians_guardian ON guardians(guardian_id);

CREATE TABLE login_attempts (
    id     BIGSERIAL PRIMARY KEY,
    login  TEXT NOT NULL,
    ip     TEXT NOT NULL DEFAULT '',
    ok     BOOLEAN NOT NULL,
    at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX login_attempts_login_at ON login_attempts(login, at);

CREATE TABLE audit_log (
    id          BIGSERIAL PRIMARY KEY,
    at          TIMESTAMPTZ NOT NULL,
    actor_id    TEXT NOT NULL DEFAULT '',
    actor_login TEXT NOT NULL DEFAULT '',
    action      TEXT NOT NULL,
    target      TEXT NOT NULL DEFAULT '',
    outcome     TEXT NOT NULL,
    ip          TEXT NOT NULL DEFAULT '',
    request_id  TEXT NOT NULL DEFAULT '',
    detail      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX audit_log_actor ON audit_log(actor_id, at);
CREATE INDEX audit_log_action ON audit_log(action, at);

-- The audit log is evidence: once written, nothing may change or remove it.
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP;
END;
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
