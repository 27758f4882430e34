-- Identities: revoking tokens and hosts with who and why, when an operator token was last
-- used, and label changes agents asked for that wait for an operator.

-- Who revoked a credential and why (the audit log has it too; these are for listing).
ALTER TABLE credentials ADD COLUMN revoked_by TEXT;
ALTER TABLE credentials ADD COLUMN revoke_reason TEXT;
-- Operator tokens only, written at most once a minute per token.
ALTER TABLE credentials ADD COLUMN last_used_at_ms INTEGER;

ALTER TABLE hosts ADD COLUMN revoked_by TEXT;
ALTER TABLE hosts ADD COLUMN revoke_reason TEXT;

-- Labels are fixed at enrollment. When an agent later reports other labels, the controller
-- keeps using the approved ones (in host_labels) and records the request here, one per host,
-- until an operator approves or rejects it. A rejected request stays, so that an agent that
-- keeps asking for the same labels is not audited again at every report.
CREATE TABLE host_label_requests (
    host_id         TEXT PRIMARY KEY NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
    labels          TEXT NOT NULL CHECK (json_valid(labels)),
    requested_at_ms INTEGER NOT NULL,
    rejected_at_ms  INTEGER,
    rejected_by     TEXT,
    CHECK ((rejected_at_ms IS NULL) = (rejected_by IS NULL))
) STRICT;
