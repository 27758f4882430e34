-- Rollouts: one frozen package set moving through one policy's waves.

-- What each host last said about its health (agents report it with every heartbeat).
ALTER TABLE hosts ADD COLUMN healthy INTEGER CHECK (healthy IN (0, 1));
ALTER TABLE hosts ADD COLUMN health_since_ms INTEGER;
ALTER TABLE hosts ADD COLUMN health_detail TEXT;

CREATE TABLE rollouts (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    policy_name   TEXT NOT NULL,
    -- The policy as it was when the rollout was created: later edits do not change it.
    policy        TEXT NOT NULL CHECK (json_valid(policy)),
    state         TEXT NOT NULL CHECK (state IN ('running', 'paused', 'completed', 'halted', 'aborted')),
    reason        TEXT,
    warnings      TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(warnings)),
    created_at_ms INTEGER NOT NULL,
    created_by    TEXT NOT NULL,
    updated_at_ms INTEGER NOT NULL
) STRICT;
-- One open rollout per policy at a time.
CREATE UNIQUE INDEX rollouts_one_open_per_policy ON rollouts(policy_name) WHERE state IN ('running', 'paused');

-- The frozen package set: exact name=version pairs.
CREATE TABLE rollout_packages (
    rollout_id INTEGER NOT NULL REFERENCES rollouts(id),
    name       TEXT NOT NULL,
    version    TEXT NOT NULL,
    PRIMARY KEY (rollout_id, name, version)
) STRICT, WITHOUT ROWID;

CREATE TABLE waves (
    rollout_id         INTEGER NOT NULL REFERENCES rollouts(id),
    idx                INTEGER NOT NULL CHECK (idx >= 0),
    name               TEXT NOT NULL,
    state              TEXT NOT NULL CHECK (state IN ('pending', 'running', 'soaking', 'passed', 'failed')),
    approved_by        TEXT,
    approved_at_ms     INTEGER,
    started_at_ms      INTEGER,
    soak_started_at_ms INTEGER,
    finished_at_ms     INTEGER,
    PRIMARY KEY (rollout_id, idx),
    UNIQUE (rollout_id, name)
) STRICT;

-- What one host must do in one rollout. A host appears at most once per rollout.
CREATE TABLE assignments (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    rollout_id    INTEGER NOT NULL REFERENCES rollouts(id),
    host_id       TEXT NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
    wave_idx      INTEGER NOT NULL,
    batch         INTEGER NOT NULL CHECK (batch >= 0),
    capacity_key  TEXT NOT NULL,
    packages      TEXT NOT NULL CHECK (json_valid(packages)),
    state         TEXT NOT NULL CHECK (state IN ('pending', 'started', 'applying', 'verifying', 'succeeded', 'rolled-back', 'failed', 'cancelled')),
    outcome       TEXT,
    detail        TEXT,
    started_at_ms INTEGER,
    updated_at_ms INTEGER NOT NULL,
    resolved_at_ms INTEGER,
    UNIQUE (rollout_id, host_id),
    FOREIGN KEY (rollout_id, wave_idx) REFERENCES waves(rollout_id, idx)
) STRICT;
CREATE INDEX assignments_by_host ON assignments(host_id, state);
CREATE INDEX assignments_by_capacity ON assignments(capacity_key, state);
