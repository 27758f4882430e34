-- A flapping host's changes of health are audited within an allowance: a few at once, then
-- one per `health_audit_interval`; the changes beyond it are counted here and written as one
-- event with their count when the allowance allows.

-- The allowance left (changes the host may have audited now), as of health_audited_at_ms;
-- NULL is a full allowance.
ALTER TABLE hosts ADD COLUMN health_audit_allowance REAL;
ALTER TABLE hosts ADD COLUMN health_audited_at_ms INTEGER;
-- Changes of health not in the audit log yet.
ALTER TABLE hosts ADD COLUMN health_changes_unaudited INTEGER NOT NULL DEFAULT 0 CHECK (health_changes_unaudited >= 0);
