-- Audit retention: the oldest part of the chain archived to a file (`sluiced audit archive`)
-- and deleted, leaving an anchor from which the rest still verifies. The anchor holds the
-- last archived row's hash, which the first remaining row's prev_hash must equal; the file,
-- with that hash as its head, proves the part archived.
CREATE TABLE audit_archives (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    first_seq      INTEGER NOT NULL CHECK (first_seq >= 1),
    through_seq    INTEGER NOT NULL CHECK (through_seq >= first_seq),
    hash           BLOB NOT NULL CHECK (length(hash) = 32),
    file           TEXT NOT NULL CHECK (length(file) BETWEEN 1 AND 4096),
    file_sha256    TEXT NOT NULL CHECK (length(file_sha256) = 64),
    actor          TEXT NOT NULL CHECK (length(actor) BETWEEN 1 AND 300),
    archived_at_ms INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX audit_archives_by_through ON audit_archives(through_seq);

CREATE TRIGGER audit_archives_are_never_updated BEFORE UPDATE ON audit_archives
BEGIN
    SELECT RAISE(ABORT, 'audit_archives is append-only: anchors cannot be updated');
END;

CREATE TRIGGER audit_archives_are_never_deleted BEFORE DELETE ON audit_archives
BEGIN
    SELECT RAISE(ABORT, 'audit_archives is append-only: anchors cannot be deleted');
END;

-- Rows may now be deleted, but only those an anchor covers (recorded first, in the same
-- transaction).
DROP TRIGGER audit_events_are_never_deleted;
CREATE TRIGGER audit_events_are_never_deleted BEFORE DELETE ON audit_events
WHEN OLD.seq > coalesce((SELECT max(through_seq) FROM audit_archives), 0)
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only: only rows archived (sluiced audit archive) can be deleted');
END;
