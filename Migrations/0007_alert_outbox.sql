-- Alerts that are not lost: each is written in the same transaction as the audit event it
-- reports, and delivered to the webhook in order, with retries, across restarts. The row id
-- is the delivery id a receiver deduplicates on.
CREATE TABLE alert_outbox (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    kind               TEXT NOT NULL,
    rollout_id         INTEGER,
    host_id            TEXT,
    wave               TEXT,
    message            TEXT NOT NULL,
    at_ms              INTEGER NOT NULL,
    attempts           INTEGER NOT NULL DEFAULT 0,
    next_attempt_at_ms INTEGER NOT NULL,
    last_error         TEXT,
    delivered_at_ms    INTEGER,
    -- Set instead of delivered_at_ms when the alert will never be sent (no webhook configured).
    dropped            TEXT
) STRICT;
CREATE INDEX alert_outbox_pending ON alert_outbox(id) WHERE delivered_at_ms IS NULL AND dropped IS NULL;
