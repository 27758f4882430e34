-- Sluice schema, first version. Shipped migrations are never edited: add a new file.
-- Times are INTEGER milliseconds since the Unix epoch, UTC.

-- Hosts: one row per enrolled server. Labels, packages and candidates hang off it.
CREATE TABLE hosts (
    id                          TEXT PRIMARY KEY NOT NULL
                                CHECK (length(id) BETWEEN 1 AND 253 AND id = lower(id)),
    enrolled_at_ms              INTEGER NOT NULL,
    last_seen_at_ms             INTEGER,
    last_report_at_ms           INTEGER,
    inventory_digest            TEXT,
    os_id                       TEXT,
    os_version_id               TEXT,
    os_codename                 TEXT,
    os_pretty_name              TEXT,
    agent_version               TEXT,
    reboot_required             INTEGER NOT NULL DEFAULT 0 CHECK (reboot_required IN (0, 1)),
    reboot_required_packages    TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(reboot_required_packages)),
    unattended_upgrades_enabled INTEGER CHECK (unattended_upgrades_enabled IN (0, 1)),
    unattended_upgrades_detail  TEXT,
    revoked_at_ms               INTEGER
) STRICT;

CREATE TABLE host_labels (
    host_id TEXT NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
    key     TEXT NOT NULL CHECK (length(key) BETWEEN 1 AND 63),
    value   TEXT NOT NULL CHECK (length(value) BETWEEN 1 AND 253),
    PRIMARY KEY (host_id, key)
) STRICT, WITHOUT ROWID;
CREATE INDEX host_labels_by_key_value ON host_labels(key, value);

-- What dpkg reports as installed on each host.
CREATE TABLE installed_packages (
    host_id      TEXT NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    architecture TEXT NOT NULL,
    version      TEXT NOT NULL,
    status       TEXT NOT NULL,
    PRIMARY KEY (host_id, name, architecture)
) STRICT, WITHOUT ROWID;
CREATE INDEX installed_packages_by_name ON installed_packages(name, version);

-- What apt would upgrade (or newly install) on each host, and from where.
CREATE TABLE upgrade_candidates (
    host_id           TEXT NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
    name              TEXT NOT NULL,
    architecture      TEXT NOT NULL,
    installed_version TEXT,
    candidate_version TEXT NOT NULL,
    is_security       INTEGER NOT NULL CHECK (is_security IN (0, 1)),
    PRIMARY KEY (host_id, name, architecture)
) STRICT, WITHOUT ROWID;
CREATE INDEX upgrade_candidates_by_name ON upgrade_candidates(name, candidate_version);

CREATE TABLE candidate_origins (
    host_id      TEXT NOT NULL,
    name         TEXT NOT NULL,
    architecture TEXT NOT NULL,
    position     INTEGER NOT NULL CHECK (position >= 0),
    origin       TEXT,
    label        TEXT,
    archive      TEXT,
    codename     TEXT,
    component    TEXT,
    site         TEXT,
    PRIMARY KEY (host_id, name, architecture, position),
    FOREIGN KEY (host_id, name, architecture)
        REFERENCES upgrade_candidates(host_id, name, architecture) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;

-- Every secret the controller accepts: operator tokens, enrollment (bootstrap) tokens and
-- per-host agent secrets. Only a SHA-256 of the secret is stored; the key id is public
-- and selects the row, the secret is compared in constant time.
CREATE TABLE credentials (
    key_id         TEXT PRIMARY KEY NOT NULL CHECK (length(key_id) = 16),
    kind           TEXT NOT NULL CHECK (kind IN ('operator', 'enrollment', 'host')),
    secret_hash    BLOB NOT NULL CHECK (length(secret_hash) = 32),
    name           TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 128),
    role           TEXT CHECK (role IN ('viewer', 'operator', 'admin')),
    host_id        TEXT REFERENCES hosts(id) ON DELETE CASCADE,
    labels         TEXT CHECK (labels IS NULL OR json_valid(labels)),
    uses_left      INTEGER CHECK (uses_left IS NULL OR uses_left >= 0),
    created_at_ms  INTEGER NOT NULL,
    created_by     TEXT NOT NULL,
    expires_at_ms  INTEGER,
    revoked_at_ms  INTEGER,
    CHECK ((kind = 'operator') = (role IS NOT NULL)),
    CHECK ((kind = 'host') = (host_id IS NOT NULL)),
    CHECK (kind = 'enrollment' OR uses_left IS NULL)
) STRICT;
CREATE UNIQUE INDEX credentials_one_live_secret_per_host ON credentials(host_id)
    WHERE kind = 'host' AND revoked_at_ms IS NULL;

-- The audit log: append-only, hash-chained. hash = SHA-256(prev_hash || canonical row);
-- the first row's prev_hash is 32 zero bytes. The controller never updates or deletes a
-- row, and the triggers below refuse it to anyone else who goes through SQLite.
CREATE TABLE audit_events (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms      INTEGER NOT NULL,
    actor      TEXT NOT NULL CHECK (length(actor) BETWEEN 1 AND 300),
    kind       TEXT NOT NULL CHECK (length(kind) BETWEEN 1 AND 64),
    rollout_id INTEGER,
    wave       TEXT,
    host_id    TEXT,
    region     TEXT,
    group_key  TEXT,
    package    TEXT,
    details    TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(details)),
    prev_hash  BLOB NOT NULL CHECK (length(prev_hash) = 32),
    hash       BLOB NOT NULL CHECK (length(hash) = 32)
) STRICT;
CREATE INDEX audit_events_by_time ON audit_events(at_ms);
CREATE INDEX audit_events_by_host ON audit_events(host_id, at_ms) WHERE host_id IS NOT NULL;
CREATE INDEX audit_events_by_rollout ON audit_events(rollout_id, seq) WHERE rollout_id IS NOT NULL;

CREATE TRIGGER audit_events_are_never_updated BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only: rows cannot be updated');
END;

CREATE TRIGGER audit_events_are_never_deleted BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only: rows cannot be deleted');
END;
