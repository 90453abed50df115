-- Every stored object of the mock, of every kind, in one table: the columns the store looks
-- objects up and bounds them by, and the object itself (MessagePack of the domain type).
CREATE SEQUENCE object_seq;

CREATE TABLE objects (
    -- kind names the object's kind: payment_request, payment_transaction, customer_token,
    -- network_session, idempotency, notification_signing_key, notification_webhook,
    -- notification_delivery.
    kind    text   NOT NULL,
    -- id is the object's id; for the webhook package's objects, whose ids are unique only within
    -- an account, the account and the id joined by a newline.
    id      text   NOT NULL,
    -- tenant is the tenant the object counts against; account its account (a scope of tenant and
    -- partner account, or the tenant itself).
    tenant  text   NOT NULL,
    account text   NOT NULL,
    -- parent is the webhook of a delivery, empty for other kinds.
    parent  text   NOT NULL DEFAULT '',
    -- seq orders objects by creation (a replacement keeps it); ver changes with done_at, so that
    -- objects finished at the same instant make room in the order they finished.
    seq     bigint NOT NULL DEFAULT nextval('object_seq'),
    ver     bigint NOT NULL DEFAULT nextval('object_seq'),
    -- done_at is the object's DoneAt in Unix nanoseconds; a live object has the largest bigint.
    done_at bigint NOT NULL,
    body    bytea  NOT NULL,
    PRIMARY KEY (kind, id)
);

-- Finding a tenant's object of a kind that finished first (quota), and its objects that
-- retention no longer keeps, of every kind.
CREATE INDEX objects_done ON objects (tenant, kind, done_at, ver);
CREATE INDEX objects_tenant_done ON objects (tenant, done_at);
-- Listing an account's objects of a kind in creation order.
CREATE INDEX objects_account ON objects (kind, account, parent, seq);

-- How many objects of each kind every tenant holds, kept by the store with each change, so that
-- the quota check is one row rather than a count.
CREATE TABLE tenant_counts (
    tenant text   NOT NULL,
    kind   text   NOT NULL,
    n      bigint NOT NULL,
    PRIMARY KEY (tenant, kind)
);

-- put_object stores an object and keeps the tenant's count of its kind, all on the server so that
-- the store need not wait for the answer: it can send the call along with the statements that
-- follow it (COMMIT, often). A replacement keeps seq, and keeps ver while done_at stays the same.
-- A new object beyond the quota (p_max) takes the place of the tenant's object of the kind that
-- finished first, by the tenant's now (p_now); when none has finished the call fails with
-- SQLSTATE KM001 (message: the kind, detail: the quota), and with KM002 (message: the kind,
-- detail: the id) when the id is another tenant's. Either error aborts the transaction, so nothing of it stays.
CREATE FUNCTION put_object(p_kind text, p_id text, p_tenant text, p_account text, p_parent text,
                           p_done bigint, p_body bytea, p_max bigint, p_now bigint)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_inserted boolean;
    v_n        bigint;
BEGIN
    INSERT INTO objects AS o (kind, id, tenant, account, parent, done_at, body)
    VALUES (p_kind, p_id, p_tenant, p_account, p_parent, p_done, p_body)
    ON CONFLICT (kind, id) DO UPDATE
        SET account = excluded.account, parent = excluded.parent, done_at = excluded.done_at,
            body = excluded.body,
            ver = CASE WHEN o.done_at = excluded.done_at THEN o.ver ELSE excluded.ver END
        WHERE o.tenant = excluded.tenant
    RETURNING (o.xmax = 0) INTO v_inserted;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'KM002', MESSAGE = p_kind, DETAIL = p_id;
    END IF;
    IF NOT v_inserted THEN
        RETURN;
    END IF;
    INSERT INTO tenant_counts AS c (tenant, kind, n) VALUES (p_tenant, p_kind, 1)
    ON CONFLICT (tenant, kind) DO UPDATE SET n = c.n + 1
    RETURNING n INTO v_n;
    IF v_n <= p_max THEN
        RETURN;
    END IF;
    DELETE FROM objects
    WHERE kind = p_kind AND id = (
        SELECT id FROM objects
        WHERE tenant = p_tenant AND kind = p_kind AND done_at <= p_now AND id <> p_id
        ORDER BY done_at, ver LIMIT 1);
    IF FOUND THEN
        UPDATE tenant_counts SET n = n - 1 WHERE tenant = p_tenant AND kind = p_kind;
        RETURN;
    END IF;
    RAISE EXCEPTION USING ERRCODE = 'KM001', MESSAGE = p_kind, DETAIL = p_max::text;
END
$$;
