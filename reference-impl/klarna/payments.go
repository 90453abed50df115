package klarna

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
)

// AuthorizeParams is one Payment Authorize call: the body and the headers that go with it.
type AuthorizeParams struct {
	// AccountID is the partner account; empty means the client's default.
	AccountID string
	// IdempotencyKey identifies the logical operation. Pass the same key when the operation is
	// driven again (after a crash, or a retry by the caller), so Klarna answers it once; empty
	// means a fresh key, still reused by this call's own retries.
	IdempotencyKey string
	// CorrelationID is sent as Partner-Correlation-Id (letters and digits only).
	CorrelationID string
	// NetworkSessionToken is sent as Klarna-Network-Session-Token: the Partner's token on an
	// initial authorize, or the completed Payment Request's token on the final authorize.
	NetworkSessionToken string
	// CustomerToken is sent as Klarna-Customer-Token to charge a stored token.
	CustomerToken string
	// NetworkData is the Partner's Klarna Network data, sent unaltered in the body's
	// klarna_network_data.
	NetworkData string
	Request     AuthorizeRequest
}

// Authorize calls the Payment Authorize API. DECLINED and STEP_UP_REQUIRED are results, not
// errors.
func (c *Client) Authorize(ctx context.Context, p AuthorizeParams) (*AuthorizeResponse, error) {
	body := p.Request
	if p.NetworkData != "" {
		body.KlarnaNetworkData = p.NetworkData
	}
	return send[AuthorizeResponse](ctx, c, call{
		method:         http.MethodPost,
		path:           c.accountPath(p.AccountID, "/payment/authorize"),
		header:         tokenHeaders(p.NetworkSessionToken, p.CustomerToken),
		body:           body,
		idempotencyKey: p.IdempotencyKey,
		correlationID:  p.CorrelationID,
	})
}

// PaymentRequest reads a Payment Request.
func (c *Client) PaymentRequest(ctx context.Context, accountID, paymentRequestID string) (*PaymentRequest, error) {
	return send[PaymentRequest](ctx, c, call{
		method: http.MethodGet,
		path:   c.accountPath(accountID, "/payment/requests/"+url.PathEscape(paymentRequestID)),
	})
}

// PresentationParams asks how to present Klarna for one checkout.
type PresentationParams struct {
	AccountID     string
	CorrelationID string
	Currency      string
	Locale        string
	// Amount in minor units; 0 leaves it out.
	Amount  int64
	Intents []string
	// SubscriptionBillingInterval (DAY, WEEK, MONTH, YEAR) and its frequency describe a
	// subscription's billing; empty and 0 leave them out.
	SubscriptionBillingInterval          string
	SubscriptionBillingIntervalFrequency int
	// NetworkSessionToken and CustomerToken let Klarna personalise the answer for a customer it
	// knows. The presentation is a GET and Klarna publishes no place for Klarna Network data on
	// it, so that data travels with the authorize only.
	NetworkSessionToken string
	CustomerToken       string
}

// Presentation fetches the Payment Presentation.
func (c *Client) Presentation(ctx context.Context, p PresentationParams) (*Presentation, error) {
	q := url.Values{}
	q.Set("currency", p.Currency)
	if p.Locale != "" {
		q.Set("locale", p.Locale)
	}
	if p.Amount > 0 {
		q.Set("amount", strconv.FormatInt(p.Amount, 10))
	}
	for _, intent := range p.Intents {
		q.Add("intents[]", intent)
	}
	if p.SubscriptionBillingInterval != "" {
		q.Set("subscription_billing_interval", p.SubscriptionBillingInterval)
	}
	if p.SubscriptionBillingIntervalFrequency > 0 {
		q.Set("subscription_billing_interval_frequency", strconv.Itoa(p.SubscriptionBillingIntervalFrequency))
	}
	return send[Presentation](ctx, c, call{
		method:        http.MethodGet,
		path:          c.accountPath(p.AccountID, "/payment/presentation"),
		query:         q,
		header:        tokenHeaders(p.NetworkSessionToken, p.CustomerToken),
		correlationID: p.CorrelationID,
	})
}

// CreateSigningKey creates a webhook signing key; its secret is in the answer and never shown
// again.
func (c *Client) CreateSigningKey(ctx context.Context, idempotencyKey string) (*SigningKey, error) {
	return send[SigningKey](ctx, c, call{
		method:         http.MethodPost,
		path:           "/v2/notification/signing-keys",
		body:           struct{}{},
		idempotencyKey: idempotencyKey,
	})
}

// CreateWebhook registers a webhook.
func (c *Client) CreateWebhook(ctx context.Context, idempotencyKey string, in WebhookInput) (*Webhook, error) {
	return send[Webhook](ctx, c, call{
		method:         http.MethodPost,
		path:           "/v2/notification/webhooks",
		body:           in,
		idempotencyKey: idempotencyKey,
	})
}

// send makes a call and returns its answer decoded into a new T.
func send[T any](ctx context.Context, c *Client, cl call) (*T, error) {
	out := new(T)
	cl.out = out
	if err := c.do(ctx, cl); err != nil {
		return nil, err
	}
	return out, nil
}

// tokenHeaders returns the headers that let Klarna recognise the customer: the network session
// token and the customer token, each only when given.
func tokenHeaders(networkSessionToken, customerToken string) http.Header {
	h := http.Header{}
	if networkSessionToken != "" {
		h.Set(HeaderNetworkSessionToken, networkSessionToken)
	}
	if customerToken != "" {
		h.Set(HeaderCustomerToken, customerToken)
	}
	return h
}
