package postgres

import "slices"

// putsSQL is putSQL for several objects of one kind ($1) and one tenant ($3), the puts of the
// transactions of a group commit: one statement, and one update of the tenant's count of the
// kind, instead of one of each per object. It stores the objects only when the count cannot go
// beyond the quota ($8) with all of them new and when no id is another tenant's; otherwise it
// stores nothing and fails (group_refused, migration 0008), and the group is committed again
// with its puts as they were, a putSQL each, whose make_room decides put by put. The count is
// read under the tenant's advisory lock, which every writer of the tenant's objects holds.
const putsSQL = `
WITH put AS (
	INSERT INTO objects AS o (kind, id, tenant, account, parent, done_at, body)
	SELECT $1, u.id, $3, u.account, u.parent, u.done_at, u.body
	FROM unnest($2::text[], $4::text[], $5::text[], $6::bigint[], $7::bytea[]) AS u(id, account, parent, done_at, body)
	WHERE coalesce((SELECT n FROM tenant_counts WHERE tenant = $3 AND kind = $1), 0) + cardinality($2::text[]) <= $8` +
	putConflictSQL + `
), counted AS (
	INSERT INTO tenant_counts AS c (tenant, kind, n)
	SELECT $3, $1, count(*) FROM put WHERE inserted HAVING count(*) > 0
	ON CONFLICT (tenant, kind) DO UPDATE SET n = c.n + excluded.n
)
SELECT group_refused() WHERE (SELECT count(*) FROM put) < cardinality($2::text[])`

// emitsSQL is emitSQL for several events of one owner ($1), recorded in the order given ($2):
// all of them or, when nobody may receive them, none.
const emitsSQL = `
INSERT INTO outbox (tenant, body) SELECT $1, u.body FROM unnest($2::bytea[]) AS u(body)
WHERE $3 OR EXISTS (SELECT 1 FROM objects WHERE kind = $4 AND account = $1 AND ` + notificationKinds + `)`

// mergedPuts gathers the arguments of the puts of one kind, as tx.put gives them to putSQL.
type mergedPuts struct {
	kind, tenant string
	max          int64
	ids          []string
	accounts     []string
	parents      []string
	dones        []int64
	bodies       [][]byte
	// first is the put itself, sent as it is when it is the kind's only one.
	first heldStatement
}

// add adds the arguments of a putSQL of the kind and tenant, or reports that they are not.
func (m *mergedPuts) add(h heldStatement) bool {
	if len(h.args) != 9 {
		return false
	}
	id, idOK := h.args[1].(string)
	tenant, tenantOK := h.args[2].(string)
	account, accountOK := h.args[3].(string)
	parent, parentOK := h.args[4].(string)
	done, doneOK := h.args[5].(int64)
	body, bodyOK := h.args[6].([]byte)
	limit, limitOK := h.args[7].(int64)
	if !idOK || !tenantOK || !accountOK || !parentOK || !doneOK || !bodyOK || !limitOK {
		return false
	}
	if len(m.ids) == 0 {
		m.tenant, m.max, m.first = tenant, limit, h
	} else if tenant != m.tenant || limit != m.max {
		return false
	}
	m.ids = append(m.ids, id)
	m.accounts = append(m.accounts, account)
	m.parents = append(m.parents, parent)
	m.dones = append(m.dones, done)
	m.bodies = append(m.bodies, body)
	return true
}

// statement is the merged put, or the kind's only put as it was.
func (m *mergedPuts) statement() heldStatement {
	if len(m.ids) == 1 {
		return m.first
	}
	return heldStatement{sql: putsSQL, args: []any{m.kind, m.ids, m.tenant, m.accounts, m.parents, m.dones, m.bodies, m.max}}
}

// mergedEmits gathers the events of emitSQLs of one owner, and the counts of their rows.
type mergedEmits struct {
	owner, webhookKind string
	all                bool
	bodies             [][]byte
	counts             []*int64
	first              heldStatement
}

// add adds the arguments of an emitSQL of the owner, or reports that they are not.
func (m *mergedEmits) add(h heldStatement) bool {
	if len(h.args) != 4 || h.rows == nil {
		return false
	}
	owner, ownerOK := h.args[0].(string)
	body, bodyOK := h.args[1].([]byte)
	all, allOK := h.args[2].(bool)
	webhookKind, kindOK := h.args[3].(string)
	if !ownerOK || !bodyOK || !allOK || !kindOK {
		return false
	}
	if len(m.bodies) == 0 {
		m.owner, m.all, m.webhookKind, m.first = owner, all, webhookKind, h
	} else if owner != m.owner || all != m.all || webhookKind != m.webhookKind {
		return false
	}
	m.bodies = append(m.bodies, body)
	m.counts = append(m.counts, h.rows)
	return true
}

// statement is the merged emit, or the only one as it was.
func (m *mergedEmits) statement() heldStatement {
	if len(m.bodies) == 1 {
		return m.first
	}
	return heldStatement{sql: emitsSQL, args: []any{m.owner, m.bodies, m.all, m.webhookKind}, each: m.counts}
}

// mergedWrites returns the writes of a group of several transactions with the puts of each of
// the simulator's kinds merged into one statement (putsSQL), and the events into one (emitsSQL),
// or nil when the group writes anything else, or when nothing merges. Puts of the simulator's
// kinds do not change what an event's statement sees (a webhook of the owner), so the merged
// puts go first and the events after them, each in the order of the group.
func mergedWrites(group []*laneWaiter) []heldStatement {
	if len(group) < 2 {
		return nil
	}
	var puts []*mergedPuts
	var emits mergedEmits
	merges := false
	for _, w := range group {
		for _, h := range w.writes {
			switch h.sql {
			case putSQL:
				kind, _ := h.args[0].(string)
				if !slices.Contains(stateKinds, kind) {
					return nil
				}
				m := putsOf(&puts, kind)
				if !m.add(h) {
					return nil
				}
				merges = merges || len(m.ids) > 1
			case emitSQL:
				if !emits.add(h) {
					return nil
				}
				merges = merges || len(emits.bodies) > 1
			default:
				return nil
			}
		}
	}
	if !merges {
		return nil
	}
	out := make([]heldStatement, 0, len(puts)+1)
	for _, m := range puts {
		out = append(out, m.statement())
	}
	if len(emits.bodies) > 0 {
		out = append(out, emits.statement())
	}
	return out
}

// putsOf returns the merged puts of the kind, added to puts when there are none yet.
func putsOf(puts *[]*mergedPuts, kind string) *mergedPuts {
	for _, m := range *puts {
		if m.kind == kind {
			return m
		}
	}
	m := &mergedPuts{kind: kind}
	*puts = append(*puts, m)
	return m
}
