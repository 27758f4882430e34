-- Plan-time dependency closure: what each host's apt said it would do with the set when the
-- rollout was created, and a preflight refusal as its own assignment state.

ALTER TABLE rollouts ADD COLUMN simulation TEXT CHECK (simulation IS NULL OR json_valid(simulation));

-- SQLite cannot change a CHECK constraint in place: the table is rebuilt with 'refused'
-- added, and the assignments a preflight refused (until now shown as rolled back although
-- nothing was installed) become 'refused'. Nothing references assignments.
CREATE TABLE assignments_new (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    rollout_id    INTEGER NOT NULL REFERENCES rollouts(id),
    host_id       TEXT NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
    wave_idx      INTEGER NOT NULL,
    batch         INTEGER NOT NULL CHECK (batch >= 0),
    capacity_key  TEXT NOT NULL,
    packages      TEXT NOT NULL CHECK (json_valid(packages)),
    state         TEXT NOT NULL CHECK (state IN ('pending', 'started', 'applying', 'verifying', 'succeeded', 'rolled-back', 'refused', 'failed', 'cancelled')),
    outcome       TEXT,
    detail        TEXT,
    started_at_ms INTEGER,
    updated_at_ms INTEGER NOT NULL,
    resolved_at_ms INTEGER,
    UNIQUE (rollout_id, host_id),
    FOREIGN KEY (rollout_id, wave_idx) REFERENCES waves(rollout_id, idx)
) STRICT;
INSERT INTO assignments_new (id, rollout_id, host_id, wave_idx, batch, capacity_key, packages, state, outcome, detail, started_at_ms, updated_at_ms, resolved_at_ms)
    SELECT id, rollout_id, host_id, wave_idx, batch, capacity_key, packages,
           CASE WHEN state = 'rolled-back' AND outcome IN ('preflight-failed', 'unhealthy-before-apply') THEN 'refused' ELSE state END,
           outcome, detail, started_at_ms, updated_at_ms, resolved_at_ms
    FROM assignments;
-- Ids are never reused: the new table continues the old one's sequence.
UPDATE sqlite_sequence SET seq = max(seq, coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'assignments'), 0))
    WHERE name = 'assignments_new';
DROP TABLE assignments;
ALTER TABLE assignments_new RENAME TO assignments;
CREATE INDEX assignments_by_host ON assignments(host_id, state);
CREATE INDEX assignments_by_capacity ON assignments(capacity_key, state);
