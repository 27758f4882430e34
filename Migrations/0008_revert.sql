-- Revert: a rollout of its own that reinstalls, on the hosts another rollout changed, the
-- exact versions they had before it.

-- The rollout a revert rollout reverts.
ALTER TABLE rollouts ADD COLUMN revert_of INTEGER REFERENCES rollouts(id);
-- What the host had before its apply, name to version (JSON), from its agent's finished report.
ALTER TABLE assignments ADD COLUMN versions_before TEXT CHECK (versions_before IS NULL OR json_valid(versions_before));
-- On a revert's assignment: the assignment reverted, whose saved packages the agent reinstalls.
ALTER TABLE assignments ADD COLUMN reverts_assignment INTEGER REFERENCES assignments(id);
CREATE INDEX assignments_by_reverted ON assignments(reverts_assignment) WHERE reverts_assignment IS NOT NULL;
