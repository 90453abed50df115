package klarna

import "time"

// Customer token scopes: what a token may be charged for.
const (
	// ScopeCustomerPresent is for one-click and on-demand charges, with the customer at hand to
	// step up if Klarna asks.
	ScopeCustomerPresent = "payment:customer_present"
	// ScopeCustomerNotPresent is for subscriptions and other merchant-initiated charges.
	ScopeCustomerNotPresent = "payment:customer_not_present"
)

// How the customer reaches the Purchase Journey on a step-up.
const (
	// MethodHandover redirects the customer to payment_request_url.
	MethodHandover = "HANDOVER"
	// MethodSDK hands payment_request_id to Klarna's SDK.
	MethodSDK = "SDK"
)

// Results of an authorize, in payment_transaction_response and customer_token_response.
const (
	ResultApproved       = "APPROVED"
	ResultDeclined       = "DECLINED"
	ResultStepUpRequired = "STEP_UP_REQUIRED"
)

// Capture modes of request_payment_transaction.capture.
const (
	CaptureNow   = "NOW"
	CaptureLater = "LATER"
)

// Payment Request states.
const (
	StateSubmitted  = "SUBMITTED"
	StateInProgress = "IN_PROGRESS"
	StateCompleted  = "COMPLETED"
	StateDeclined   = "DECLINED"
	StateExpired    = "EXPIRED"
	StateCanceled   = "CANCELED"
)

// NetworkSessionWindow is how long after a Payment Request is COMPLETED its
// klarna_network_session_token may be used for the final authorize.
const NetworkSessionWindow = 60 * time.Minute

// AuthorizeRequest is the body of POST /v2/accounts/{partner_account_id}/payment/authorize.
// Token creation without a purchase omits RequestPaymentTransaction; a customer-not-present
// charge omits StepUpConfig; a final authorize sends only Currency and RequestPaymentTransaction.
type AuthorizeRequest struct {
	Currency                  string                     `json:"currency"`
	RequestPaymentTransaction *PaymentTransactionRequest `json:"request_payment_transaction,omitempty"`
	RequestCustomerToken      *CustomerTokenRequest      `json:"request_customer_token,omitempty"`
	StepUpConfig              *StepUpConfig              `json:"step_up_config,omitempty"`
	SupplementaryPurchaseData *SupplementaryPurchaseData `json:"supplementary_purchase_data,omitempty"`
	// KlarnaNetworkData is the Partner's Klarna Network data, a serialized JSON string sent
	// exactly as the Partner gave it.
	KlarnaNetworkData string `json:"klarna_network_data,omitempty"`
}

// PaymentTransactionRequest asks for a payment transaction of Amount minor units.
type PaymentTransactionRequest struct {
	Amount                      int64  `json:"amount"`
	PaymentTransactionReference string `json:"payment_transaction_reference,omitempty"`
	PaymentOptionID             string `json:"payment_option_id,omitempty"`
	Capture                     string `json:"capture,omitempty"`
}

// CustomerTokenRequest asks Klarna to issue a customer token with the given scopes.
type CustomerTokenRequest struct {
	Scopes                 []string `json:"scopes"`
	CustomerTokenReference string   `json:"customer_token_reference,omitempty"`
}

// StepUpConfig allows Klarna to send the customer through the Purchase Journey. Send it only
// when the customer is present.
type StepUpConfig struct {
	PaymentRequestReference   string                    `json:"payment_request_reference,omitempty"`
	CustomerInteractionConfig CustomerInteractionConfig `json:"customer_interaction_config"`
}

// CustomerInteractionConfig says how the customer reaches the Purchase Journey and comes back.
type CustomerInteractionConfig struct {
	Method       string `json:"method"`
	ReturnURL    string `json:"return_url,omitempty"`
	AppReturnURL string `json:"app_return_url,omitempty"`
}

// SupplementaryPurchaseData describes the purchase. Klarna uses it for its risk decision, and
// needs Subscriptions on subscription charges and OndemandService for on-demand tokens.
type SupplementaryPurchaseData struct {
	PurchaseReference string           `json:"purchase_reference,omitempty"`
	LineItems         []LineItem       `json:"line_items,omitempty"`
	Customer          *Customer        `json:"customer,omitempty"`
	Shipping          []Shipping       `json:"shipping,omitempty"`
	Subscriptions     []Subscription   `json:"subscriptions,omitempty"`
	OndemandService   *OndemandService `json:"ondemand_service,omitempty"`
}

// LineItem is one line of the purchase; line items add up to the amount.
type LineItem struct {
	Name                  string `json:"name"`
	Quantity              int64  `json:"quantity"`
	TotalAmount           int64  `json:"total_amount"`
	UnitPrice             *int64 `json:"unit_price,omitempty"`
	TotalTaxAmount        *int64 `json:"total_tax_amount,omitempty"`
	LineItemReference     string `json:"line_item_reference,omitempty"`
	SubscriptionReference string `json:"subscription_reference,omitempty"`
	ProductURL            string `json:"product_url,omitempty"`
	ImageURL              string `json:"image_url,omitempty"`
	ShippingReference     string `json:"shipping_reference,omitempty"`
}

// Customer is what the Partner knows of the customer.
type Customer struct {
	Email      string `json:"email,omitempty"`
	GivenName  string `json:"given_name,omitempty"`
	FamilyName string `json:"family_name,omitempty"`
	Phone      string `json:"phone,omitempty"`
}

// Shipping is one shipment of the purchase.
type Shipping struct {
	ShippingReference string     `json:"shipping_reference,omitempty"`
	Recipient         *Recipient `json:"recipient,omitempty"`
	Address           *Address   `json:"address,omitempty"`
}

// Recipient receives a shipment.
type Recipient struct {
	GivenName  string `json:"given_name,omitempty"`
	FamilyName string `json:"family_name,omitempty"`
	Email      string `json:"email,omitempty"`
	Phone      string `json:"phone,omitempty"`
}

// Address is a postal address.
type Address struct {
	StreetAddress  string `json:"street_address,omitempty"`
	StreetAddress2 string `json:"street_address2,omitempty"`
	PostalCode     string `json:"postal_code,omitempty"`
	City           string `json:"city,omitempty"`
	Region         string `json:"region,omitempty"`
	Country        string `json:"country,omitempty"`
}

// Subscription describes a recurring purchase; it is sent again on every subscription charge.
type Subscription struct {
	SubscriptionReference string        `json:"subscription_reference,omitempty"`
	Name                  string        `json:"name,omitempty"`
	FreeTrial             string        `json:"free_trial,omitempty"`
	BillingPlans          []BillingPlan `json:"billing_plans,omitempty"`
}

// BillingPlan is one period of a subscription's billing.
type BillingPlan struct {
	BillingAmount     *int64 `json:"billing_amount,omitempty"`
	Currency          string `json:"currency,omitempty"`
	From              string `json:"from,omitempty"`
	Interval          string `json:"interval,omitempty"`
	IntervalFrequency int64  `json:"interval_frequency,omitempty"`
}

// OndemandService describes the on-demand purchases a customer-present token is for.
type OndemandService struct {
	AverageAmount             *int64 `json:"average_amount,omitempty"`
	MinimumAmount             *int64 `json:"minimum_amount,omitempty"`
	MaximumAmount             *int64 `json:"maximum_amount,omitempty"`
	PurchaseInterval          string `json:"purchase_interval,omitempty"`
	PurchaseIntervalFrequency int64  `json:"purchase_interval_frequency,omitempty"`
}

// AuthorizeResponse is Klarna's answer to an authorize; all three results are HTTP 200.
// PaymentTransactionResponse is present when a transaction was requested,
// CustomerTokenResponse when a token was requested, and PaymentRequest on STEP_UP_REQUIRED.
type AuthorizeResponse struct {
	PaymentTransactionResponse *PaymentTransactionResponse `json:"payment_transaction_response,omitempty"`
	PaymentRequest             *PaymentRequest             `json:"payment_request,omitempty"`
	CustomerTokenResponse      *CustomerTokenResponse      `json:"customer_token_response,omitempty"`
}

// Result returns the outcome of the call: the transaction's result when a transaction was
// requested, else the customer token's.
func (r *AuthorizeResponse) Result() (result, reason string) {
	switch {
	case r.PaymentTransactionResponse != nil:
		return r.PaymentTransactionResponse.Result, r.PaymentTransactionResponse.ResultReason
	case r.CustomerTokenResponse != nil:
		return r.CustomerTokenResponse.Result, r.CustomerTokenResponse.ResultReason
	}
	return "", ""
}

// Transaction returns the authorized transaction, or nil.
func (r *AuthorizeResponse) Transaction() *PaymentTransaction {
	if r.PaymentTransactionResponse == nil {
		return nil
	}
	return r.PaymentTransactionResponse.PaymentTransaction
}

// CustomerToken returns the issued customer token, or nil.
func (r *AuthorizeResponse) CustomerToken() *CustomerToken {
	if r.CustomerTokenResponse == nil || r.CustomerTokenResponse.Result != ResultApproved {
		return nil
	}
	return r.CustomerTokenResponse.CustomerToken
}

// PaymentTransactionResponse is the outcome for the requested payment transaction.
type PaymentTransactionResponse struct {
	Result             string              `json:"result"`
	ResultReason       string              `json:"result_reason,omitempty"`
	PaymentTransaction *PaymentTransaction `json:"payment_transaction,omitempty"`
}

// CustomerTokenResponse is the outcome for the requested customer token.
type CustomerTokenResponse struct {
	Result        string         `json:"result"`
	ResultReason  string         `json:"result_reason,omitempty"`
	CustomerToken *CustomerToken `json:"customer_token,omitempty"`
}

// CustomerToken is a Klarna customer token.
type CustomerToken struct {
	CustomerToken          string   `json:"customer_token"`
	CustomerTokenReference string   `json:"customer_token_reference,omitempty"`
	Scopes                 []string `json:"scopes"`
}

// PaymentTransaction is an authorized payment.
type PaymentTransaction struct {
	PaymentTransactionID        string    `json:"payment_transaction_id"`
	PaymentTransactionReference string    `json:"payment_transaction_reference,omitempty"`
	Amount                      int64     `json:"amount"`
	Currency                    string    `json:"currency"`
	State                       string    `json:"state"`
	CreatedAt                   time.Time `json:"created_at"`
	ExpiresAt                   time.Time `json:"expires_at,omitzero"`
	// PaymentCaptures are the transaction's captures: with capture NOW, the one the authorize
	// made (transactions.go).
	PaymentCaptures []PaymentCapture `json:"payment_captures,omitempty"`
}

// PaymentRequest is Klarna's step-up resource: the purchase the customer completes in the
// Purchase Journey. Webhook payloads of payment.request.state-change.* events have this shape.
type PaymentRequest struct {
	PaymentRequestID        string        `json:"payment_request_id"`
	PaymentRequestReference string        `json:"payment_request_reference,omitempty"`
	Amount                  int64         `json:"amount,omitempty"`
	Currency                string        `json:"currency"`
	State                   string        `json:"state"`
	PreviousState           string        `json:"previous_state,omitempty"`
	StateReason             string        `json:"state_reason,omitempty"`
	StateContext            *StateContext `json:"state_context,omitempty"`
	CreatedAt               time.Time     `json:"created_at"`
	UpdatedAt               time.Time     `json:"updated_at"`
	ExpiresAt               time.Time     `json:"expires_at,omitzero"`
	CompletedAt             *time.Time    `json:"completed_at,omitempty"`
	CanceledAt              *time.Time    `json:"canceled_at,omitempty"`
}

// Interaction returns how to hand the customer over, or nil once that is over.
func (p *PaymentRequest) Interaction() *CustomerInteraction {
	if p.StateContext == nil {
		return nil
	}
	return p.StateContext.CustomerInteraction
}

// StateContext carries what the Partner needs in the request's current state: how to reach the
// Purchase Journey while it is open; the network session token and the customer (with any
// customer token issued) once it is COMPLETED (docs/klarna.md §7).
type StateContext struct {
	CustomerInteraction       *CustomerInteraction `json:"customer_interaction,omitempty"`
	KlarnaNetworkSessionToken string               `json:"klarna_network_session_token,omitempty"`
	KlarnaCustomer            *KlarnaCustomer      `json:"klarna_customer,omitempty"`
}

// KlarnaCustomer is the customer of a completed Payment Request: the customer token issued, when
// one was requested, with the Partner's reference for it.
type KlarnaCustomer struct {
	CustomerToken          string `json:"customer_token,omitempty"`
	CustomerTokenReference string `json:"customer_token_reference,omitempty"`
}

// IssuedToken returns the customer token a completed Payment Request handed over, or nil. Its
// scopes are the ones the authorize asked for, which the caller knows.
func (c *StateContext) IssuedToken(scopes []string) *CustomerToken {
	if c == nil || c.KlarnaCustomer == nil || c.KlarnaCustomer.CustomerToken == "" {
		return nil
	}
	return &CustomerToken{CustomerToken: c.KlarnaCustomer.CustomerToken, CustomerTokenReference: c.KlarnaCustomer.CustomerTokenReference, Scopes: scopes}
}

// CustomerInteraction tells how to send the customer into the Purchase Journey.
type CustomerInteraction struct {
	Method            string `json:"method"`
	PaymentRequestURL string `json:"payment_request_url,omitempty"`
	PaymentRequestID  string `json:"payment_request_id,omitempty"`
	ReturnURL         string `json:"return_url,omitempty"`
}

// Presentation instructions: whether and how to show Klarna in the payment selector.
const (
	InstructionShow      = "SHOW_KLARNA"
	InstructionPreselect = "PRESELECT_KLARNA"
	InstructionShowOnly  = "SHOW_ONLY_KLARNA"
	InstructionHide      = "HIDE_KLARNA"
)

// Presentation is Klarna's Payment Presentation (docs/klarna.md §9): the instruction and,
// unless Klarna is hidden, the descriptors to render; for a customer Klarna knows, also that
// customer's saved payment option.
type Presentation struct {
	Instruction        string         `json:"instruction"`
	PaymentOption      *PaymentOption `json:"payment_option,omitempty"`
	SavedPaymentOption *PaymentOption `json:"saved_payment_option,omitempty"`
}

// PaymentOption holds the descriptors of one Klarna entry in the payment selector.
type PaymentOption struct {
	PaymentOptionID string `json:"payment_option_id"`
	Header          Text   `json:"header"`
	Subheader       *Text  `json:"subheader,omitempty"`
	Icon            Icon   `json:"icon"`
	// Badge marks a saved payment option.
	Badge         *Text         `json:"badge,omitempty"`
	Message       *Message      `json:"message,omitempty"`
	PaymentButton PaymentButton `json:"payment_button"`
}

// Text is a piece of text to show.
type Text struct {
	Text string `json:"text"`
}

// Message is shown when the option is selected, in parts so links can be rendered as links.
type Message struct {
	Parts []MessagePart `json:"parts"`
}

// MessagePart is plain text (TEXT) or a link (LINK, with its URL and how to open it).
type MessagePart struct {
	Type    string `json:"type"`
	Text    string `json:"text"`
	URL     string `json:"url,omitempty"`
	Context string `json:"context,omitempty"`
}

// Icon points at Klarna's images in the shapes a payment selector uses.
type Icon struct {
	Alt               string `json:"alt,omitempty"`
	BadgeImageURL     string `json:"badge_image_url"`
	RectangleImageURL string `json:"rectangle_image_url,omitempty"`
	SquareImageURL    string `json:"square_image_url,omitempty"`
}

// PaymentButton describes the Klarna payment button: its label and the Klarna mark on it.
type PaymentButton struct {
	Text     string `json:"text"`
	ImageURL string `json:"image_url,omitempty"`
}

// SigningKey is a webhook signing key. Secret is only returned when the key is created.
type SigningKey struct {
	SigningKeyID string    `json:"signing_key_id"`
	Secret       string    `json:"signing_key,omitempty"`
	CreatedAt    time.Time `json:"created_at,omitzero"`
}

// WebhookInput registers a webhook: events of EventTypes (wildcards such as "payment.*" allowed)
// are posted to URL, signed with the key SigningKeyID.
type WebhookInput struct {
	URL          string   `json:"url"`
	EventTypes   []string `json:"event_types"`
	EventVersion string   `json:"event_version,omitempty"`
	SigningKeyID string   `json:"signing_key_id"`
}

// Webhook is a webhook registration.
type Webhook struct {
	WebhookID    string   `json:"webhook_id"`
	URL          string   `json:"url"`
	EventTypes   []string `json:"event_types"`
	EventVersion string   `json:"event_version,omitempty"`
	SigningKeyID string   `json:"signing_key_id"`
	Status       string   `json:"status,omitempty"`
}
