package acquirer_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/reference-impl/acquirer"
	"github.com/klarna-mock/klarna-mock/reference-impl/klarna"
	"github.com/klarna-mock/klarna-mock/reference-impl/memdb"
)

// fakeKlarna answers authorize calls with a function of the test's choosing and records them.
// Payment Requests read from it are SUBMITTED unless the test set one; the transaction
// operations are left to the end-to-end tests (reference-impl/app), so calling one panics.
type fakeKlarna struct {
	acquirer.Klarna
	mu        sync.Mutex
	calls     []klarna.AuthorizeParams
	authorize func(p klarna.AuthorizeParams) (*klarna.AuthorizeResponse, error)
	// request is what reading a Payment Request answers, when set.
	request *klarna.PaymentRequest
	reads   int
}

func (f *fakeKlarna) PaymentRequest(_ context.Context, _, id string) (*klarna.PaymentRequest, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	if f.request != nil {
		return f.request, nil
	}
	return &klarna.PaymentRequest{PaymentRequestID: id, State: klarna.StateSubmitted}, nil
}

func (f *fakeKlarna) setRequest(pr *klarna.PaymentRequest) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.request = pr
}

func (f *fakeKlarna) Authorize(_ context.Context, p klarna.AuthorizeParams) (*klarna.AuthorizeResponse, error) {
	f.mu.Lock()
	f.calls = append(f.calls, p)
	answer := f.authorize
	f.mu.Unlock()
	return answer(p)
}

func (f *fakeKlarna) Presentation(context.Context, klarna.PresentationParams) (*klarna.Presentation, error) {
	return &klarna.Presentation{Instruction: klarna.InstructionHide}, nil
}

func (f *fakeKlarna) answer(fn func(p klarna.AuthorizeParams) (*klarna.AuthorizeResponse, error)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.authorize = fn
}

func (f *fakeKlarna) recorded() []klarna.AuthorizeParams {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]klarna.AuthorizeParams(nil), f.calls...)
}

// notifications records what the Service announces.
type notifications struct {
	mu     sync.Mutex
	events []acquirer.PartnerEvent
}

func (n *notifications) Notify(_ acquirer.Partner, e acquirer.PartnerEvent) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.events = append(n.events, e)
}

func (n *notifications) types() []acquirer.EventType {
	n.mu.Lock()
	defer n.mu.Unlock()
	var ts []acquirer.EventType
	for _, e := range n.events {
		ts = append(ts, e.EventType)
	}
	return ts
}

var partner = acquirer.Partner{ID: "shop", APIKey: "ap_key_shop", WebhookURL: "https://shop.example/hooks", WebhookSecret: "s"}

func newService(t *testing.T, k *fakeKlarna) (*acquirer.Service, *notifications) {
	t.Helper()
	store, err := memdb.New()
	require.NoError(t, err)
	partners, err := acquirer.NewPartners([]acquirer.Partner{partner}, nil)
	require.NoError(t, err)
	n := &notifications{}
	svc, err := acquirer.NewService(acquirer.Config{Klarna: k, Store: store, Partners: partners, Notifier: n})
	require.NoError(t, err)
	return svc, n
}

func stepUp(p klarna.AuthorizeParams) (*klarna.AuthorizeResponse, error) {
	ref := p.Request.StepUpConfig.PaymentRequestReference
	return &klarna.AuthorizeResponse{
		PaymentTransactionResponse: &klarna.PaymentTransactionResponse{Result: klarna.ResultStepUpRequired},
		PaymentRequest: &klarna.PaymentRequest{
			PaymentRequestID: "krn:payment:eu1:request:" + ref, PaymentRequestReference: ref, State: klarna.StateSubmitted,
			StateContext: &klarna.StateContext{CustomerInteraction: &klarna.CustomerInteraction{Method: klarna.MethodHandover, PaymentRequestURL: "https://pay.example/" + ref}},
		},
	}, nil
}

func approved(p klarna.AuthorizeParams) (*klarna.AuthorizeResponse, error) {
	resp := &klarna.AuthorizeResponse{PaymentTransactionResponse: &klarna.PaymentTransactionResponse{
		Result:             klarna.ResultApproved,
		PaymentTransaction: &klarna.PaymentTransaction{PaymentTransactionID: "krn:payment:eu1:transaction:" + p.IdempotencyKey},
	}}
	if rct := p.Request.RequestCustomerToken; rct != nil {
		resp.CustomerTokenResponse = &klarna.CustomerTokenResponse{Result: klarna.ResultApproved,
			CustomerToken: &klarna.CustomerToken{CustomerToken: "krn:customer-token:eu1:" + p.IdempotencyKey, Scopes: rct.Scopes}}
	}
	return resp, nil
}

func unavailable(klarna.AuthorizeParams) (*klarna.AuthorizeResponse, error) {
	return nil, fmt.Errorf("%w: gave up: %w", klarna.ErrUnavailable, &klarna.Error{StatusCode: 503, ErrorCode: "SERVICE_UNAVAILABLE"})
}

func session() acquirer.SessionRequest {
	return acquirer.SessionRequest{
		Purchase: acquirer.Purchase{Reference: "order-1", Currency: "EUR", Amount: 1000, Mode: acquirer.ModeRedirect, ReturnURL: "https://shop.example/return"},
		Token:    &acquirer.TokenRequest{Usage: acquirer.UsageOnDemand},
	}
}

// completedEvent is Klarna's webhook for a completed Payment Request of payment p.
func completedEvent(t *testing.T, eventID, paymentID string, completedAt time.Time) *klarna.Event {
	t.Helper()
	payload, err := json.Marshal(klarna.PaymentRequest{
		PaymentRequestID: "krn:payment:eu1:request:" + paymentID, PaymentRequestReference: paymentID,
		State: klarna.StateCompleted, CompletedAt: &completedAt,
		StateContext: &klarna.StateContext{
			KlarnaNetworkSessionToken: "nst-" + paymentID,
			// Klarna hands over the requested token with the completed Payment Request.
			KlarnaCustomer: &klarna.KlarnaCustomer{CustomerToken: "krn:customer-token:eu1:journey-" + paymentID},
		},
	})
	require.NoError(t, err)
	return &klarna.Event{Metadata: klarna.EventMetadata{EventID: eventID, EventType: klarna.EventRequestCompleted}, Payload: payload}
}

func TestAStepUpIsFinalizedByTheWebhook(t *testing.T) {
	t.Parallel()
	k := &fakeKlarna{authorize: stepUp}
	svc, n := newService(t, k)

	p, replayed, err := svc.CreateSession(t.Context(), partner, session())
	require.NoError(t, err)
	require.False(t, replayed)
	require.Equal(t, acquirer.StatusRequiresAction, p.Status)
	require.Equal(t, "https://pay.example/"+p.ID, p.PaymentRequestURL)
	require.Empty(t, n.types(), "nothing to tell the Partner yet")

	k.answer(approved)
	outcome, err := svc.HandleKlarnaEvent(t.Context(), completedEvent(t, "ev-1", p.ID, time.Now()))
	require.NoError(t, err)
	require.Equal(t, acquirer.OutcomeProcessed, outcome)

	calls := k.recorded()
	require.Len(t, calls, 2)
	final := calls[1]
	require.Equal(t, "finalize-"+p.ID, final.IdempotencyKey)
	require.Equal(t, "nst-"+p.ID, final.NetworkSessionToken)
	require.Nil(t, final.Request.StepUpConfig, "the final authorize carries no step_up_config")
	require.Nil(t, final.Request.RequestCustomerToken)
	require.Equal(t, int64(1000), final.Request.RequestPaymentTransaction.Amount)

	got, err := svc.Session(t.Context(), partner, p.ID)
	require.NoError(t, err)
	require.Equal(t, acquirer.StatusCompleted, got.Status)
	require.NotNil(t, got.Token)
	require.Equal(t, "krn:customer-token:eu1:journey-"+p.ID, got.Token.KlarnaToken)
	require.Equal(t, acquirer.UsageOnDemand, got.Token.Usage)
	require.Equal(t, []acquirer.EventType{acquirer.EventTokenCreated, acquirer.EventOrderCompleted}, n.types())

	outcome, err = svc.HandleKlarnaEvent(t.Context(), completedEvent(t, "ev-1", p.ID, time.Now()))
	require.NoError(t, err)
	require.Equal(t, acquirer.OutcomeDuplicate, outcome)
	require.Len(t, k.recorded(), 2, "a duplicate delivery does not authorize again")
	require.Len(t, n.types(), 2, "nor tell the Partner again")
}

func TestAWebhookMayOvertakeTheAuthorizeAnswer(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	arrived := make(chan klarna.AuthorizeParams, 1)
	k := &fakeKlarna{}
	k.authorize = func(p klarna.AuthorizeParams) (*klarna.AuthorizeResponse, error) {
		if p.NetworkSessionToken != "" {
			return approved(p) // the final authorize
		}
		arrived <- p
		<-release
		return stepUp(p)
	}
	svc, n := newService(t, k)

	type result struct {
		p   *acquirer.Payment
		err error
	}
	done := make(chan result, 1)
	go func() {
		p, _, err := svc.CreateSession(t.Context(), partner, session())
		done <- result{p, err}
	}()
	initial := <-arrived
	// The customer completes the journey and Klarna's webhook comes before the AP has Klarna's
	// answer to the initial authorize: the reference still leads to the payment.
	paymentID := initial.Request.StepUpConfig.PaymentRequestReference
	outcome, err := svc.HandleKlarnaEvent(t.Context(), completedEvent(t, "ev-1", paymentID, time.Now()))
	require.NoError(t, err)
	require.Equal(t, acquirer.OutcomeProcessed, outcome)
	close(release)

	r := <-done
	require.NoError(t, r.err)
	require.Equal(t, acquirer.StatusCompleted, r.p.Status, "the late STEP_UP_REQUIRED answer does not undo the completion")
	require.Equal(t, []acquirer.EventType{acquirer.EventTokenCreated, acquirer.EventOrderCompleted}, n.types())
}

func TestConcurrentDuplicateDeliveriesTakeEffectOnce(t *testing.T) {
	t.Parallel()
	k := &fakeKlarna{authorize: stepUp}
	svc, n := newService(t, k)
	p, _, err := svc.CreateSession(t.Context(), partner, session())
	require.NoError(t, err)
	k.answer(approved)

	var wg sync.WaitGroup
	outcomes := make(chan acquirer.EventOutcome, 8)
	for range 8 {
		wg.Go(func() {
			o, err := svc.HandleKlarnaEvent(t.Context(), completedEvent(t, "ev-1", p.ID, time.Now()))
			require.NoError(t, err)
			outcomes <- o
		})
	}
	wg.Wait()
	close(outcomes)
	processed := 0
	for o := range outcomes {
		if o == acquirer.OutcomeProcessed {
			processed++
		}
	}
	require.Equal(t, 1, processed)
	require.Equal(t, []acquirer.EventType{acquirer.EventTokenCreated, acquirer.EventOrderCompleted}, n.types())
	for _, c := range k.recorded()[1:] {
		require.Equal(t, "finalize-"+p.ID, c.IdempotencyKey, "racing final authorizes are one operation for Klarna")
	}
}

func TestAFinalAuthorizeKlarnaCannotTakeIsLeftForARedelivery(t *testing.T) {
	t.Parallel()
	k := &fakeKlarna{authorize: stepUp}
	svc, n := newService(t, k)
	p, _, err := svc.CreateSession(t.Context(), partner, session())
	require.NoError(t, err)

	k.answer(unavailable)
	_, err = svc.HandleKlarnaEvent(t.Context(), completedEvent(t, "ev-1", p.ID, time.Now()))
	require.Error(t, err)
	require.Equal(t, acquirer.CodeKlarnaUnavailable, acquirer.AsError(err).Code)
	got, err := svc.Session(t.Context(), partner, p.ID)
	require.NoError(t, err)
	require.Equal(t, acquirer.StatusRequiresAction, got.Status)

	k.answer(approved)
	outcome, err := svc.HandleKlarnaEvent(t.Context(), completedEvent(t, "ev-1", p.ID, time.Now()))
	require.NoError(t, err)
	require.Equal(t, acquirer.OutcomeProcessed, outcome, "the event was not recorded as processed while it failed")
	require.Equal(t, []acquirer.EventType{acquirer.EventTokenCreated, acquirer.EventOrderCompleted}, n.types())
}

func TestAnExpiredNetworkSessionTokenIsNotUsed(t *testing.T) {
	t.Parallel()
	k := &fakeKlarna{authorize: stepUp}
	svc, n := newService(t, k)
	p, _, err := svc.CreateSession(t.Context(), partner, session())
	require.NoError(t, err)

	outcome, err := svc.HandleKlarnaEvent(t.Context(), completedEvent(t, "ev-1", p.ID, time.Now().Add(-61*time.Minute)))
	require.NoError(t, err)
	require.Equal(t, acquirer.OutcomeProcessed, outcome)
	require.Len(t, k.recorded(), 1, "no final authorize after the 60-minute window")
	got, err := svc.Session(t.Context(), partner, p.ID)
	require.NoError(t, err)
	require.Equal(t, acquirer.StatusFailed, got.Status)
	require.Equal(t, "NETWORK_SESSION_TOKEN_EXPIRED", got.DeclineReason)
	require.Equal(t, []acquirer.EventType{acquirer.EventPaymentDeclined}, n.types())
}

func TestARetryAfterKlarnaWasUnavailableDrivesTheSamePayment(t *testing.T) {
	t.Parallel()
	k := &fakeKlarna{authorize: unavailable}
	svc, _ := newService(t, k)
	req := session()
	req.IdempotencyKey = "retry-me"

	_, _, err := svc.CreateSession(t.Context(), partner, req)
	require.Equal(t, acquirer.CodeKlarnaUnavailable, acquirer.AsError(err).Code)

	k.answer(approved)
	p, replayed, err := svc.CreateSession(t.Context(), partner, req)
	require.NoError(t, err)
	require.True(t, replayed)
	require.Equal(t, acquirer.StatusCompleted, p.Status)
	calls := k.recorded()
	require.Len(t, calls, 2)
	require.Equal(t, calls[0].IdempotencyKey, calls[1].IdempotencyKey, "one Klarna operation, however often it is driven")
	require.Equal(t, calls[0].Request, calls[1].Request)

	again, replayed, err := svc.CreateSession(t.Context(), partner, req)
	require.NoError(t, err)
	require.True(t, replayed)
	require.Equal(t, p.ID, again.ID)
	require.Len(t, k.recorded(), 2, "a finished payment is returned, not authorized again")

	other := req
	other.Amount = 2000
	_, _, err = svc.CreateSession(t.Context(), partner, other)
	require.Equal(t, acquirer.CodeIdempotencyConflict, acquirer.AsError(err).Code)
}

func TestARefusedAuthorizeLeavesNothingBehind(t *testing.T) {
	t.Parallel()
	k := &fakeKlarna{authorize: func(klarna.AuthorizeParams) (*klarna.AuthorizeResponse, error) {
		return nil, &klarna.Error{StatusCode: 400, ErrorCode: "VALIDATION_ERROR", ErrorMessage: "bad line items",
			Errors: []klarna.FieldError{{Parameter: "supplementary_purchase_data.line_items", ErrorMessage: "do not add up"}}}
	}}
	svc, _ := newService(t, k)
	req := session()
	req.IdempotencyKey = "fix-me"

	_, _, err := svc.CreateSession(t.Context(), partner, req)
	e := acquirer.AsError(err)
	require.Equal(t, acquirer.CodeKlarnaRejected, e.Code)
	require.Equal(t, "VALIDATION_ERROR", e.Klarna.ErrorCode)

	k.answer(approved)
	p, replayed, err := svc.CreateSession(t.Context(), partner, req)
	require.NoError(t, err)
	require.False(t, replayed, "the refused attempt left no payment behind")
	require.Equal(t, acquirer.StatusCompleted, p.Status)
}

func TestSessionRulesTheContractCannotExpress(t *testing.T) {
	t.Parallel()
	svc, _ := newService(t, &fakeKlarna{authorize: approved})
	for name, tc := range map[string]struct {
		change    func(*acquirer.SessionRequest)
		parameter string
	}{
		"neither purchase nor token": {func(r *acquirer.SessionRequest) { r.Amount, r.Token = 0, nil }, "amount"},
		"redirect without return":    {func(r *acquirer.SessionRequest) { r.ReturnURL = "" }, "return_url"},
		"subscription without data": {func(r *acquirer.SessionRequest) { r.Token.Usage = acquirer.UsageSubscription },
			"supplementary_purchase_data.subscriptions"},
		"capture without amount": {func(r *acquirer.SessionRequest) { r.Amount, r.Capture = 0, "NOW" }, "capture"},
	} {
		t.Run(name, func(t *testing.T) {
			req := session()
			tok := *req.Token
			req.Token = &tok
			tc.change(&req)
			_, _, err := svc.CreateSession(t.Context(), partner, req)
			e := acquirer.AsError(err)
			require.Equal(t, acquirer.CodeInvalidRequest, e.Code)
			require.Equal(t, tc.parameter, e.Fields[0].Parameter)
		})
	}
}

func TestPartners(t *testing.T) {
	t.Parallel()
	ps, err := acquirer.NewPartners([]acquirer.Partner{partner}, &acquirer.TestMode{WebhookURL: "https://ci.example/hooks", WebhookSecret: "ci"})
	require.NoError(t, err)

	p, ok := ps.Authenticate("ap_key_shop")
	require.True(t, ok)
	require.Equal(t, "shop", p.ID)
	_, ok = ps.Authenticate("ap_key_nope")
	require.False(t, ok)
	_, ok = ps.Authenticate(acquirer.TestKeyPrefix)
	require.False(t, ok, "a bare prefix is no key")

	a, ok := ps.Authenticate("ap_test_alpha")
	require.True(t, ok)
	b, ok := ps.Authenticate("ap_test_beta")
	require.True(t, ok)
	require.NotEqual(t, a.ID, b.ID, "each test key is a Partner of its own")
	again, _ := ps.Authenticate("ap_test_alpha")
	require.Equal(t, a.ID, again.ID)
	byID, ok := ps.Partner(a.ID)
	require.True(t, ok)
	require.Equal(t, "https://ci.example/hooks", byID.WebhookURL)

	_, err = acquirer.NewPartners([]acquirer.Partner{partner, partner}, nil)
	require.Error(t, err)
	_, err = acquirer.NewPartners([]acquirer.Partner{{ID: "x", APIKey: "k", WebhookURL: "https://x"}}, nil)
	require.Error(t, err, "a webhook needs a secret")
	_, err = acquirer.NewPartners(nil, nil)
	require.Error(t, err)
}

// tokenOnlySession asks for an on-demand token without a purchase.
func tokenOnlySession() acquirer.SessionRequest {
	s := session()
	s.Amount = 0
	return s
}

// completedPaymentRequest is Klarna's completed Payment Request of payment id, handing over the
// customer token klarnaToken ("" for none).
func completedPaymentRequest(id, klarnaToken string) *klarna.PaymentRequest {
	now := time.Now()
	pr := &klarna.PaymentRequest{
		PaymentRequestID: "krn:payment:eu1:request:" + id, PaymentRequestReference: id, State: klarna.StateCompleted, CompletedAt: &now,
		StateContext: &klarna.StateContext{KlarnaNetworkSessionToken: "nst-" + id},
	}
	if klarnaToken != "" {
		pr.StateContext.KlarnaCustomer = &klarna.KlarnaCustomer{CustomerToken: klarnaToken}
	}
	return pr
}

// TestATokenWithoutAPurchaseComesFromTheCompletedPaymentRequest follows Klarna's "Token creation -
// Monitor the state" (docs.klarna.com/klarna-network-distribution/payments/tokenized-payments/
// server-side-only-integration/token-creation/monitor-the-payment-request-state): "No action
// required if only customer_token creation was requested". The token is taken from the completed
// webhook's state_context.klarna_customer, and no final authorize is sent.
func TestATokenWithoutAPurchaseComesFromTheCompletedPaymentRequest(t *testing.T) {
	t.Parallel()
	k := &fakeKlarna{authorize: stepUp}
	svc, n := newService(t, k)
	p, _, err := svc.CreateSession(t.Context(), partner, tokenOnlySession())
	require.NoError(t, err)
	require.Equal(t, acquirer.StatusRequiresAction, p.Status)

	outcome, err := svc.HandleKlarnaEvent(t.Context(), completedEvent(t, "ev-1", p.ID, time.Now()))
	require.NoError(t, err)
	require.Equal(t, acquirer.OutcomeProcessed, outcome)
	require.Len(t, k.recorded(), 1, "only the initial authorize: Klarna asks for no final one")

	got, err := svc.Session(t.Context(), partner, p.ID)
	require.NoError(t, err)
	require.Equal(t, acquirer.StatusCompleted, got.Status)
	require.Empty(t, got.PaymentTransactionID)
	require.Equal(t, "krn:customer-token:eu1:journey-"+p.ID, got.Token.KlarnaToken)
	require.Equal(t, []string{klarna.ScopeCustomerPresent}, got.Token.Scopes)
	require.Equal(t, []acquirer.EventType{acquirer.EventTokenCreated, acquirer.EventOrderCompleted}, n.types())
}

// TestAWebhookWithoutTheTokenIsCompletedFromTheReadPaymentRequest: a completed webhook whose
// payload lacks klarna_customer leads to a read of the Payment Request, where the token is
// (Klarna names reading the request beside the webhook, "Token creation - Monitor the state").
// Without a token there either, the session fails rather than completing without one.
func TestAWebhookWithoutTheTokenIsCompletedFromTheReadPaymentRequest(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, readToken string
		want            acquirer.Status
	}{
		{"the read request has it", "krn:customer-token:eu1:read", acquirer.StatusCompleted},
		{"nowhere", "", acquirer.StatusFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			k := &fakeKlarna{authorize: stepUp}
			svc, _ := newService(t, k)
			p, _, err := svc.CreateSession(t.Context(), partner, tokenOnlySession())
			require.NoError(t, err)
			payload, err := json.Marshal(completedPaymentRequest(p.ID, ""))
			require.NoError(t, err)
			k.setRequest(completedPaymentRequest(p.ID, tc.readToken))

			_, err = svc.HandleKlarnaEvent(t.Context(), &klarna.Event{Metadata: klarna.EventMetadata{EventID: "ev-1", EventType: klarna.EventRequestCompleted}, Payload: payload})
			require.NoError(t, err)
			got, err := svc.Session(t.Context(), partner, p.ID)
			require.NoError(t, err)
			require.Equal(t, tc.want, got.Status)
			require.Len(t, k.recorded(), 1, "no final authorize either way")
			if tc.want == acquirer.StatusCompleted {
				require.Equal(t, tc.readToken, got.Token.KlarnaToken)
			} else {
				require.Equal(t, "NO_CUSTOMER_TOKEN", got.DeclineReason)
			}
		})
	}
}

// TestAReadConcludesAPaymentWhoseWebhookIsLate: reading a session that still waits for the
// customer reads its Payment Request from Klarna, and a completed or ended one concludes it as
// the webhook would; the webhook arriving later is then ignored.
func TestAReadConcludesAPaymentWhoseWebhookIsLate(t *testing.T) {
	t.Parallel()
	k := &fakeKlarna{authorize: stepUp}
	svc, n := newService(t, k)
	p, _, err := svc.CreateSession(t.Context(), partner, tokenOnlySession())
	require.NoError(t, err)

	got, err := svc.Session(t.Context(), partner, p.ID)
	require.NoError(t, err)
	require.Equal(t, acquirer.StatusRequiresAction, got.Status, "a SUBMITTED request changes nothing")

	k.setRequest(completedPaymentRequest(p.ID, "krn:customer-token:eu1:read"))
	got, err = svc.Session(t.Context(), partner, p.ID)
	require.NoError(t, err)
	require.Equal(t, acquirer.StatusCompleted, got.Status)
	require.Equal(t, "krn:customer-token:eu1:read", got.Token.KlarnaToken)
	require.Equal(t, []acquirer.EventType{acquirer.EventTokenCreated, acquirer.EventOrderCompleted}, n.types())

	reads := k.reads
	outcome, err := svc.HandleKlarnaEvent(t.Context(), completedEvent(t, "ev-late", p.ID, time.Now()))
	require.NoError(t, err)
	require.Equal(t, acquirer.OutcomeIgnored, outcome)
	_, err = svc.Session(t.Context(), partner, p.ID)
	require.NoError(t, err)
	require.Equal(t, reads, k.reads, "a final payment is not read from Klarna again")
	require.Len(t, n.types(), 2, "the Partner is told once")

	declined, _, err := svc.CreateSession(t.Context(), partner, tokenOnlySession())
	require.NoError(t, err)
	k.setRequest(&klarna.PaymentRequest{PaymentRequestID: declined.PaymentRequestID, State: klarna.StateDeclined, StateReason: "CUSTOMER_DECLINED"})
	got, err = svc.Session(t.Context(), partner, declined.ID)
	require.NoError(t, err)
	require.Equal(t, acquirer.StatusDeclined, got.Status)
	require.Equal(t, "CUSTOMER_DECLINED", got.DeclineReason)
}
