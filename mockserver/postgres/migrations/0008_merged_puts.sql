-- group_refused is how the store's merged put (putsSQL in merge.go), the puts of one kind of
-- several transactions committed together, gives up: when the tenant's count of the kind could
-- go beyond the quota, or when one of the ids is another tenant's, it stores nothing and fails
-- with SQLSTATE KM004, and the store commits the group again with its puts as they were (a
-- putSQL each), whose make_room decides put by put.
CREATE FUNCTION group_refused() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'KM004', MESSAGE = 'merged puts refused';
END
$$;

