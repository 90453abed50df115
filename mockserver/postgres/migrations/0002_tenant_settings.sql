-- What the mock keeps of a tenant besides its objects, saved as it runs so that a restart keeps
-- it: how far the tenant has moved its clock ahead of the mock's, and its own rules document.
CREATE TABLE tenant_settings (
    tenant       text    PRIMARY KEY,
    -- clock_offset is in nanoseconds.
    clock_offset bigint  NOT NULL DEFAULT 0,
    -- rules is the tenant's rules document as it was sent, NULL while it runs on the defaults;
    -- rules_json tells JSON from YAML.
    rules        text,
    rules_json   boolean NOT NULL DEFAULT false
);
