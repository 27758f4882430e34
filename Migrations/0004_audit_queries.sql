-- Indexes for `sluicectl audit` filters and postmortems. The audit log only grows, so each
-- filter an operator combines with a time range gets an index that ends in at_ms.
-- (Time, host and rollout already have theirs, in 0001.)
CREATE INDEX audit_events_by_kind ON audit_events(kind, at_ms);
CREATE INDEX audit_events_by_actor ON audit_events(actor, at_ms);
CREATE INDEX audit_events_by_region ON audit_events(region, at_ms) WHERE region IS NOT NULL;
CREATE INDEX audit_events_by_group ON audit_events(group_key, at_ms) WHERE group_key IS NOT NULL;
