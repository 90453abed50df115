package postgres

import (
	"context"
	"sync"
)

// A lane's group commit (lanes.go) gathers the writes of one tenant. A shared sandbox is loaded
// by many tenants each writing now and then, whose lanes rarely hold more than one writer: each
// write would be a transaction and a commit of its own. So the groups of different tenants are
// committed together too, by the committer. While one tenant's group commits alone, the group of
// another that comes starts a transaction of several tenants (a batch); while that one is in
// flight, the groups that come wait, and the first of them then commits them all, up to
// maxTenants, in one pipeline and one commit, as Store.update does for the memory store.
//
// A lone group takes its tenant's advisory lock as every writer does, waiting for it. A batch
// takes each tenant's lock only when it is free (tryLockSQL) and never waits for one, so a
// tenant whose lock another mock holds, or one whose write the server refuses, delays no other
// tenant by more than one round trip: when the server refuses any statement of a batch, the
// transaction is rolled back and each group of the batch is committed again on its own, by its
// own session (commitGroup), side by side with the others.

// maxTenants is how many tenants' groups one batch commits at most.
const maxTenants = 32

// tryLockSQL takes a tenant's advisory lock if it is free, and otherwise fails (group_refused,
// migration 0008), which rolls the batch back.
const tryLockSQL = `SELECT group_refused() WHERE NOT pg_try_advisory_xact_lock(hashtextextended($1, 0))`

// committer is the store's commits of groups: how many groups commit alone, whether a batch is
// in flight, and the groups waiting for the next batch.
type committer struct {
	mu       sync.Mutex
	alone    int
	batching bool
	queue    []*tenantGroup
}

// tenantGroup is one tenant's group commit, as it goes through the committer.
type tenantGroup struct {
	lock  heldStatement
	group []*laneWaiter
	// ready is closed when the group's batch was committed (or failed), or when the group is to
	// lead the next batch (batch set).
	ready chan struct{}
	// batch is the groups the group commits as the leader of a batch, itself first.
	batch []*tenantGroup
	// again tells the group's session to commit the group on its own: its batch was refused.
	again bool
}

// commitTenants commits the writes of a tenant's group, each waiter's err telling how its own
// went: alone, when no other group commits, or else in a batch with the groups of other tenants.
func (s *Store) commitTenants(lock heldStatement, group []*laneWaiter) {
	cm := &s.committer
	g := &tenantGroup{lock: lock, group: group}
	cm.mu.Lock()
	switch {
	case cm.batching:
		g.ready = make(chan struct{})
		cm.queue = append(cm.queue, g)
		cm.mu.Unlock()
		<-g.ready
	case cm.alone == 0:
		cm.alone++
		cm.mu.Unlock()
		defer func() {
			cm.mu.Lock()
			cm.alone--
			cm.mu.Unlock()
		}()
		g.again = true
	default:
		cm.batching = true
		cm.mu.Unlock()
		g.batch = []*tenantGroup{g}
	}
	if g.batch != nil {
		s.commitBatch(g.batch)
	}
	if g.again {
		s.commitGroup(g.lock, g.group)
	}
}

// commitBatch commits the groups of a batch in one pipeline and one transaction, or, when the
// server refuses it, leaves each group to commit again on its own; then it wakes the batch's
// other groups and hands the next batch to the first group waiting, if any.
func (s *Store) commitBatch(batch []*tenantGroup) {
	defer s.committer.next(batch)
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	conn, err := s.pool.Acquire(ctx)
	if err == nil {
		err = sendStatements(ctx, conn, batchStatements(batch))
		conn.Release()
	}
	for _, g := range batch {
		if refused(err) {
			g.again = true
			continue
		}
		for _, w := range g.group {
			w.err = err
		}
	}
}

// batchStatements is what a batch sends: for each group, the tenant's lock taken only if it is
// free, and then the group's writes, with the puts and events of a lone group merged. The
// writes of several groups are sent as they are: a merged put refuses a whole group whenever
// the tenant is near its quota, and would then refuse the other tenants' groups with it.
func batchStatements(batch []*tenantGroup) []heldStatement {
	var out []heldStatement
	for _, g := range batch {
		out = append(out, heldStatement{sql: tryLockSQL, args: g.lock.args})
		if len(batch) == 1 {
			if merged := mergedWrites(g.group); merged != nil {
				return append(out, merged...)
			}
		}
		for _, w := range g.group {
			out = append(out, w.writes...)
		}
	}
	return out
}

// next wakes the groups of the batch that ended but its leader, and gives the groups waiting
// since, up to maxTenants, to the first of them to commit as the next batch.
func (cm *committer) next(batch []*tenantGroup) {
	for _, g := range batch[1:] {
		close(g.ready)
	}
	cm.mu.Lock()
	if len(cm.queue) == 0 {
		cm.batching = false
		cm.mu.Unlock()
		return
	}
	n := min(len(cm.queue), maxTenants)
	lead := cm.queue[0]
	lead.batch = append([]*tenantGroup(nil), cm.queue[:n]...)
	rest := copy(cm.queue, cm.queue[n:])
	clear(cm.queue[rest:])
	cm.queue = cm.queue[:rest]
	cm.mu.Unlock()
	close(lead.ready)
}
