-- Fewer indexes to maintain on every insert into objects, the request path's write: a charge
-- stores a payment transaction, which now updates two indexes instead of four.
--
-- Retention finds a tenant's finished objects through objects_done, kind by kind (the kinds in
-- the query's kind = ANY(...)), rather than through an index of its own.
DROP INDEX objects_tenant_done;

-- Only the webhook package's objects are listed by account (signing keys, webhooks and
-- deliveries, of one webhook for the last), so the index holds only theirs. Every query that
-- uses it repeats the index's condition (notificationKinds in notifications.go), so that even a
-- generic plan of a prepared statement, whose kind is a parameter, may use it.
DROP INDEX objects_account;
CREATE INDEX objects_account ON objects (kind, account, parent, seq)
    WHERE kind IN ('notification_signing_key', 'notification_webhook', 'notification_delivery');

-- make_room is the rare end of the store's put statement (putSQL in tx.go), which does what
-- put_object does as one plain statement, cheaper than a PL/pgSQL call: it runs only when the put
-- stored nothing because the id is another tenant's (p_refused: SQLSTATE KM002), or when a new
-- object took the tenant's count of its kind beyond the quota p_max, where it removes the
-- tenant's object of the kind that finished first by p_now in its place, or fails with KM001 when
-- none has. put_object stays for mocks of the previous version still running during an upgrade.
CREATE FUNCTION make_room(p_kind text, p_id text, p_tenant text, p_max bigint, p_now bigint,
                          p_refused boolean)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF p_refused THEN
        RAISE EXCEPTION USING ERRCODE = 'KM002', MESSAGE = p_kind, DETAIL = p_id;
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
