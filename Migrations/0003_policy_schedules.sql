-- Automatic mode: what the controller remembers about each scheduled policy.
CREATE TABLE policy_schedules (
    policy_name          TEXT PRIMARY KEY NOT NULL,
    -- Daily schedules: when the controller last ran the policy's slot.
    last_run_at_ms       INTEGER,
    -- On-new-candidates schedules: the qualifying set last seen, since when, and the last one rolled out.
    seen_digest          TEXT,
    seen_since_ms        INTEGER,
    last_created_digest  TEXT
) STRICT;
