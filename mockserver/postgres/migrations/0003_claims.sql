-- Claims let several mocks on one database share work that must be done once: the next attempt
-- of a webhook delivery (id "delivery\n<delivery row id>"), or the first request under a
-- Klarna-Idempotency-Key (id "key\n<idempotency row id>"). A claim runs until `until`, on the
-- database's clock; a holder that died leaves one that runs out.
CREATE TABLE claims (
    id      text        PRIMARY KEY,
    tenant  text        NOT NULL,
    holder  text        NOT NULL,
    -- attempt is the delivery attempt claimed (0 for a key): a later attempt's claim replaces
    -- an earlier one's whatever its holder.
    attempt integer     NOT NULL,
    until   timestamptz NOT NULL
);
CREATE INDEX claims_tenant ON claims (tenant);

-- claim grants p_holder the claim of p_id for p_ttl_ms milliseconds, unless another holder's
-- claim of the same or a later attempt still runs; it reports whether it granted it.
CREATE FUNCTION claim(p_id text, p_tenant text, p_holder text, p_attempt integer, p_ttl_ms bigint)
RETURNS boolean LANGUAGE sql AS $$
    WITH granted AS (
        INSERT INTO claims AS c (id, tenant, holder, attempt, until)
        VALUES (p_id, p_tenant, p_holder, p_attempt, now() + p_ttl_ms * interval '1 millisecond')
        ON CONFLICT (id) DO UPDATE
            SET holder = excluded.holder, attempt = excluded.attempt, until = excluded.until
            WHERE c.holder = excluded.holder OR c.attempt < excluded.attempt OR c.until < now()
        RETURNING 1
    )
    SELECT EXISTS (SELECT 1 FROM granted)
$$;

-- claim_key claims the first request under an idempotency key, failing with SQLSTATE KM003 while
-- another request holds it, so that the call can go with the transaction's other statements.
CREATE FUNCTION claim_key(p_id text, p_tenant text, p_holder text, p_ttl_ms bigint)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF NOT claim(p_id, p_tenant, p_holder, 0, p_ttl_ms) THEN
        RAISE EXCEPTION USING ERRCODE = 'KM003', MESSAGE = 'idempotency key in flight';
    END IF;
END
$$;

-- The deliveries still pending (live: done_at is the largest bigint), which every mock on the
-- database looks through now and then to take up those a mock that stopped for good left.
CREATE INDEX objects_pending_deliveries ON objects (seq)
    WHERE kind = 'notification_delivery' AND done_at = 9223372036854775807;

-- Whether the tenant paused its webhook deliveries (POST /mock/v1/deliveries/pause), which every
-- mock on the database keeps to.
ALTER TABLE tenant_settings ADD COLUMN deliveries_paused boolean NOT NULL DEFAULT false;
