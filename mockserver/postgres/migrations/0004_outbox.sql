-- The outbox: the events of the simulator's changes, each written in the transaction of its
-- change (Tx.Emit), waiting to become webhook deliveries. A mock takes the oldest row, stores its
-- deliveries and deletes the row in one transaction (Store.Outbox), so each event becomes its
-- deliveries once, whichever mock takes it and whether or not the one that wrote it lived on.
-- seq is taken under the tenant's lock, so a tenant's rows are in the order of its changes.
CREATE TABLE outbox (
    seq    bigserial PRIMARY KEY,
    tenant text      NOT NULL,
    -- body is the event as MessagePack, its payload the JSON the deliveries carry.
    body   bytea     NOT NULL
);
CREATE INDEX outbox_tenant ON outbox (tenant);
