-- Each tenant's faults (POST /mock/v1/faults), which every mock on the database fires: a fault
-- added through one hits the matching calls of all, and one with a count hits count calls in all.
CREATE TABLE faults (
    tenant     text    NOT NULL,
    fault_id   text    NOT NULL,
    -- seq orders a tenant's faults, oldest first: the oldest that fires hits a call.
    seq        bigint  GENERATED ALWAYS AS IDENTITY,
    -- definition is the fault's definition with its defaults applied, as the control API shows
    -- it, as JSON.
    definition json    NOT NULL,
    -- count is the definition's count, NULL without one; fired counts the calls the fault hit on
    -- every mock. A fault whose count is spent is deleted: it retired.
    count      integer,
    fired      bigint  NOT NULL DEFAULT 0,
    -- created_at is on the tenant's clock, in Unix nanoseconds.
    created_at bigint  NOT NULL,
    PRIMARY KEY (tenant, fault_id)
);

-- A tenant's version changes with every change of its faults (one added or removed, a call hit),
-- so that a mock reads again only the tenants whose faults changed since it last read them. The
-- versions come from one sequence: a version never comes back, not even for a tenant forgotten
-- and faulted again.
CREATE SEQUENCE fault_version;
CREATE TABLE fault_versions (
    tenant  text   PRIMARY KEY,
    version bigint NOT NULL
);

-- forget_faults removes the tenant's faults and its version, when the tenant is forgotten (a
-- reset, an idle tenant, a state import). The faults go first: every change of a fault locks its
-- row before the tenant's version, so that two changes never wait for each other.
CREATE FUNCTION forget_faults(p_tenant text) RETURNS void LANGUAGE sql AS $$
    DELETE FROM faults WHERE tenant = p_tenant;
    DELETE FROM fault_versions WHERE tenant = p_tenant;
$$;
