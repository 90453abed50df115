package steps

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"time"
)

// The Partner double: it calls the Acquiring Partner's API as a Partner would, checking every
// answer against contracts/acquirer.yaml, and it takes the Acquiring Partner's webhooks,
// checking their AP-Signature and their body.

// partnerEvent is the body of a webhook to the Partner (schema PartnerEvent).
type partnerEvent struct {
	EventID   string          `json:"event_id"`
	EventType string          `json:"event_type"`
	PartnerID string          `json:"partner_id"`
	Data      json.RawMessage `json:"data"`
}

// eventData is what the suite reads of an event's data: a Session, a Charge or a CustomerToken.
type eventData struct {
	ID                   string          `json:"id"`
	Status               string          `json:"status"`
	DeclineReason        string          `json:"decline_reason"`
	PaymentTransactionID string          `json:"payment_transaction_id"`
	SessionID            string          `json:"session_id"`
	CustomerToken        json.RawMessage `json:"customer_token"`
}

// delivery is one webhook the Acquiring Partner posted to the Partner.
type delivery struct {
	at     time.Time
	header http.Header
	body   []byte
	event  *partnerEvent // nil when the body is not an event
	data   eventData
	// about holds the ids the event is about: the session or charge, the session that created
	// a token, the token itself.
	about []string
	// signed reports a valid AP-Signature; problem a body that breaks the contract.
	signed  bool
	problem string
	// status is what the Partner answered.
	status int
}

// delivered reports whether the Partner took the delivery (answered 2xx).
func (d *delivery) delivered() bool { return d.status >= 200 && d.status < 300 }

// isAbout reports whether the delivery is about one of ids.
func (d *delivery) isAbout(ids func(string) bool) bool {
	for _, id := range d.about {
		if id != "" && ids(id) {
			return true
		}
	}
	return false
}

// failRule makes the Partner answer 500 to the next deliveries a scenario claims.
type failRule struct {
	claims    func(string) bool
	remaining int
}

// inbox is the Partner's webhook endpoint. One inbox serves one scenario when the Acquiring
// Partner runs in process, and every scenario at once when it runs elsewhere (it can send all
// Partners' webhooks to one URL only); scenarios then find their own deliveries by the ids they
// know.
type inbox struct {
	secret string
	mu     sync.Mutex
	all    []*delivery
	fails  []*failRule
}

func newInbox(secret string) *inbox { return &inbox{secret: secret} }

func (in *inbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	d := &delivery{at: time.Now(), header: r.Header.Clone(), body: body}
	d.signed = validSignature(in.secret, body, r.Header.Get("AP-Signature"))
	d.problem = checkPartnerEvent(body)
	var e partnerEvent
	if json.Unmarshal(body, &e) == nil && e.EventID != "" {
		d.event = &e
		_ = json.Unmarshal(e.Data, &d.data)
		d.about = []string{d.data.ID, d.data.SessionID}
		var tok string
		if json.Unmarshal(d.data.CustomerToken, &tok) == nil {
			d.about = append(d.about, tok)
		}
		var obj struct {
			CustomerToken string `json:"customer_token"`
		}
		if json.Unmarshal(d.data.CustomerToken, &obj) == nil {
			d.about = append(d.about, obj.CustomerToken)
		}
	}
	in.mu.Lock()
	switch {
	case !d.signed:
		// A Partner must not act on an unsigned body; the Acquiring Partner may retry it.
		d.status = http.StatusBadRequest
	default:
		d.status = http.StatusNoContent
		for _, f := range in.fails {
			if f.remaining > 0 && d.isAbout(f.claims) {
				f.remaining--
				d.status = http.StatusInternalServerError
				break
			}
		}
	}
	in.all = append(in.all, d)
	in.mu.Unlock()
	w.WriteHeader(d.status)
}

// failNext makes the Partner fail the next n deliveries about ids claims accepts.
func (in *inbox) failNext(n int, claims func(string) bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.fails = append(in.fails, &failRule{claims: claims, remaining: n})
}

// about returns the deliveries about ids, in the order received.
func (in *inbox) about(ids func(string) bool) []*delivery {
	in.mu.Lock()
	defer in.mu.Unlock()
	var out []*delivery
	for _, d := range in.all {
		if d.isAbout(ids) {
			out = append(out, d)
		}
	}
	return out
}

// everything returns every delivery received, for a scenario that owns the inbox.
func (in *inbox) everything() []*delivery {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]*delivery(nil), in.all...)
}

// validSignature checks AP-Signature: the lowercase hex HMAC-SHA256 of the raw body.
func validSignature(secret string, body []byte, signature string) bool {
	got, err := hex.DecodeString(signature)
	if err != nil || len(got) != sha256.Size || signature != hex.EncodeToString(got) {
		return false
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}

// sign returns the HMAC-SHA256 hex signature of body, as Klarna signs webhooks.
func sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

// Answer is the Acquiring Partner's answer to one call of the Partner.
type Answer struct {
	// Method and Path are the Partner's request: "POST", "/v1/charges".
	Method, Path string
	Status       int
	Header       http.Header
	Body         []byte
	// Problem says why the answer breaks contracts/acquirer.yaml; "" when it does not.
	Problem string
	// Elapsed is how long the Partner waited for the answer.
	Elapsed time.Duration
}

// clone returns a copy of a that shares nothing with it, for a caller that may change it.
func (a *Answer) clone() Answer {
	c := *a
	c.Header = a.Header.Clone()
	c.Body = append([]byte(nil), a.Body...)
	return c
}

// apError is the Acquiring Partner's error shape (schema Error).
type apError struct {
	ErrorCode    string `json:"error_code"`
	ErrorMessage string `json:"error_message"`
	Errors       []struct {
		Parameter    string `json:"parameter"`
		ErrorMessage string `json:"error_message"`
	} `json:"errors"`
	KlarnaError *struct {
		Status    int    `json:"status"`
		ErrorCode string `json:"error_code"`
	} `json:"klarna_error"`
}

// contractErr returns an answer that breaks contracts/acquirer.yaml as a broken rule, or nil.
func (a *Answer) contractErr() error {
	if a.Problem == "" {
		return nil
	}
	return broke(RulePartnerAPIContract, "%s", a.Problem)
}

func (a *Answer) apError() apError {
	var e apError
	_ = json.Unmarshal(a.Body, &e)
	return e
}

// callAcquirer sends one Partner request to the Acquiring Partner. key "" sends no
// Authorization header.
func callAcquirer(ctx context.Context, client *http.Client, base, method, path, key string, body any, header http.Header) (*Answer, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, rd)
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	elapsed := time.Since(start)
	if err != nil {
		return nil, err
	}
	return &Answer{Method: method, Path: path, Status: resp.StatusCode, Header: resp.Header, Body: raw,
		Problem: checkAnswer(req, resp.StatusCode, resp.Header, raw), Elapsed: elapsed}, nil
}
