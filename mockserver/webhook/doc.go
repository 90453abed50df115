// Package webhook turns the simulator's events into Klarna webhooks: signing keys, webhook
// registrations per account, and signed delivery with Klarna's retry schedule on each account's
// clock.
//
// # Accounts
//
// Every signing key, webhook and delivery belongs to one account: the accountID argument of the
// methods, which the HTTP layer derives from the API key (the tenant of mockserver.Scope). An
// event goes to the webhooks of its Event.Tenant (its Event.AccountID when Tenant is empty);
// metadata.subject_account_id and recipient_account_id carry Event.AccountID, the partner account.
// Objects of another account are reported as not found.
//
// # Signing
//
// A signing key's secret is 32 random bytes written as 64 lowercase hex characters. The HMAC key is
// the secret string exactly as the API returned it (its ASCII bytes, not the decoded 32 bytes), so
// a receiver passes the string it stored straight to its HMAC; the static key configured for CI
// (Config.StaticSecret) is used the same way. Every delivery carries the headers
// Klarna-Signing-Key-Id and Klarna-Signature, the lowercase hex HMAC-SHA256 of the exact raw body.
// Sign is the mock's only signer: every delivery, static webhook included, is signed with it.
// Verify is its counterpart for Go receivers such as the mock's own tests. The reference acquirer
// checks signatures with its own code in reference-impl/klarna, on purpose: it is meant to be
// copied without the mock.
// The secret is returned once, by CreateSigningKey; reads and lists never show it again.
// An account holds at most MaxSigningKeys keys; one more is refused with 403 FORBIDDEN (the status
// Klarna uses for its other per-resource limits). A key that a webhook of the account still uses
// cannot be deleted (409 RESOURCE_IN_USE): delete or re-point the webhook first.
//
// # Delivery
//
// Publish never blocks and does no network I/O: it appends the event to its account's in-memory
// inbox. One dispatcher goroutine turns events into deliveries (one per matching ENABLED webhook
// of the event's account, plus the static webhook if configured), stores them as PENDING and
// queues them: each account's events in publication order, one event of each account in turn.
// A bounded pool of workers (Config.Workers) makes the HTTP attempts.
//
// The mock is shared by many accounts (tenants), and none may hold up another. An account has
// at most Config.MaxPendingPerTenant deliveries queued or waiting for a retry; a delivery beyond
// that is stored as FAILED at once, with the reason, and only that account is affected. At most
// Config.MaxInFlightPerTenant attempts of one account run at once, and the workers serve the
// accounts with an attempt to make in turn, one attempt each, so an account whose receiver hangs
// or fails holds at most that many workers and another account's delivery goes out at once. A
// delivery the store refuses (its quota per account) is not made: the event is logged, and
// Simulate returns the store's error.
//
// A delivery succeeds on 200, 201, 202 or 204; any other status (other 2xx and 3xx included,
// redirects are never followed), a transport error or the per-attempt timeout is a failure. After
// the n-th failure the next attempt is due RetryDelays()[n-1] after it: +10 s, +2 min, +15 min,
// +3 h, +6 h, +12 h; the seventh failure marks the delivery FAILED. Every wait is a timer on the
// account's clock (Config.Clock.Tenant(accountID)), and every time a delivery records is read
// from it, so advancing the account's clock walks its schedule and no other account's. The
// attempt timeout runs in real time only: an attempt is real network I/O, and moving the clock
// must not cut one off. An attempt keeps at most MaxResponseExcerpt bytes of the receiver's
// answer (Attempt.ResponseExcerpt, with Attempt.ResponseTruncated when it went on).
// Retries carry the byte-identical body (same event_id), signed with the webhook's current key and
// sent to its current url, so fixing a webhook with UpdateWebhook lets the next retry succeed.
//
// Ordering is strict FIFO per (account, webhook, subject): a later event about the same resource
// is not attempted until the earlier delivery is DELIVERED or FAILED. A failing earlier event
// therefore holds back the later ones for up to its whole schedule (about 21 hours of clock time);
// deliveries of other subjects or other webhooks are not held back and run in parallel.
// Deleting a webhook ends its pending deliveries promptly as FAILED; disabling it only stops new
// events from being queued for it.
//
// Due tells a test what the mock will still do for an account without the clock moving: the
// events not yet turned into deliveries, and per FIFO the head delivery when it is queued, being
// attempted, or waiting for a retry whose time has come. A test that waits for Due to be empty
// before it advances the clock knows every retry the advance walks past has been scheduled.
//
// # Webhook tools
//
// Pause holds a tenant's deliveries: its ready queues stay in line, in the order they fell due,
// but the tenant is kept out of the workers' ring, so none of its attempts starts and none is
// counted; Resume offers it to the workers again. No goroutine or timer is added per delivery,
// and the tenant's bounds (pending, in flight, its turn) apply as always. The pause is a
// scheduling flag of the Notifier, not stored data; ForgetTenant clears it. Config.PauseChanged
// hears of each pause and resume, for a mock on a shared database to save it.
//
// Redeliver and Send make new deliveries of events found in the tenant's delivery log. What makes
// them different is stored with them (Delivery.Variant, ResentFrom, SendID, and the body), so a
// store that keeps deliveries keeps it too: the deliveries of one send form a FIFO of their own,
// keyed by SendID, and a forged variant (bad_signature, stale_timestamp) gets one attempt,
// VariantBadSignature signed under another key than the webhook's.
//
// # A store shared by several processes
//
// With Config.Claims (several mocks on one PostgreSQL database), the queues of each process are
// a view of the deliveries stored, not their owner: before each attempt the Notifier claims it
// (Claimer), and only the process granted the claim makes it. A process refused takes up the
// stored delivery instead (takeUp): gone or finished, it leaves the queue; pending, it waits for
// the next attempt's time, or reads the delivery again a second later while another process
// holds the claim. Adopt queues the pending deliveries a process does not hold yet, so that those
// of a process that stopped are made by the others; Publish then asks the store for the webhooks
// of every event, since another process may have registered one.
//
// With Config.Outbox (PostgreSQL) the events are the store's before they are the Notifier's: the
// simulator's write transactions record them in the outbox (mockserver.Tx.Emit) when someone may
// receive them (Outbox.Notify), and the dispatcher takes them from there (DrainOutbox) when the
// store's commit wakes it, a batch of one owner's events at a time, their deliveries stored and
// the events removed in one transaction, so an event whose change committed is delivered once
// even if the process that made the change died before it was taken. Publish does nothing then.
//
// # Targets
//
// The mock must not become a way into the network it runs in. Link-local addresses
// (169.254.0.0/16, with the cloud metadata service at 169.254.169.254, and fe80::/10) and other
// cloud metadata addresses (fd00:ec2::254, 100.100.100.200) are refused; Config.RefusePrivate
// also refuses loopback and private addresses. A url whose host is such an address is refused
// at registration (400 on url; the static url at start); a host name is checked where it
// resolves, in the dialer's Control hook at every attempt, so DNS cannot route around the rule.
// Such an attempt fails with an error that starts with "refused:", without a connection being
// opened.
//
// # Shutdown
//
// Close stops accepting events, starts no new attempt, cancels retry timers, waits for in-flight
// attempts (until its context ends, then cancels them) and returns every delivery that was not
// delivered: queued, waiting for a retry, or interrupted. It also logs each one at warn level.
// Those deliveries stay PENDING in the store. Events published after Close are logged, not queued.
package webhook
