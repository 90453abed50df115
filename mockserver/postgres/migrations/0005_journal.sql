-- The journal of what each account sent to Klarna's API (package journal), shared by every mock
-- on the database. seq is the identity: it increases with every row, so with every entry of a
-- tenant. scope and path are bytea because a path, and the account in it, may hold any bytes a
-- client sent; entry is the entry (journal.Entry) as MessagePack, bytes the size of its body and
-- answer, which the tenant's bound counts. A mock prunes each tenant's rows to the bounds as it
-- writes them.
CREATE TABLE journal (
    tenant text    NOT NULL,
    seq    bigint  GENERATED ALWAYS AS IDENTITY,
    scope  bytea   NOT NULL,
    path   bytea   NOT NULL,
    bytes  integer NOT NULL,
    entry  bytea   NOT NULL,
    PRIMARY KEY (tenant, seq)
);
