package mockserver

import "time"

// Customer token scopes.
const (
	ScopeCustomerPresent    = "payment:customer_present"
	ScopeCustomerNotPresent = "payment:customer_not_present"
)

// Customer interaction methods of a step-up.
const (
	MethodHandover = "HANDOVER"
	MethodSDK      = "SDK"
)

// AuthorizeRequest is the body of POST /v2/accounts/{partner_account_id}/payment/authorize, for
// both the initial and the final authorize. Its shape is checked against the contract before it
// is decoded, so the Service only checks what a schema cannot express.
type AuthorizeRequest struct {
	Currency                  string                     `json:"currency"`
	RequestPaymentTransaction *PaymentTransactionRequest `json:"request_payment_transaction,omitempty"`
	RequestCustomerToken      *CustomerTokenRequest      `json:"request_customer_token,omitempty"`
	StepUpConfig              *StepUpConfig              `json:"step_up_config,omitempty"`
	SupplementaryPurchaseData *SupplementaryPurchaseData `json:"supplementary_purchase_data,omitempty"`
	// KlarnaNetworkData is the Partner's Klarna Network data, a serialized JSON string the
	// Acquiring Partner forwards unaltered; InteroperabilityData is its older name. The mock keeps
	// it as received so tests can compare it byte for byte with what the Partner sent.
	KlarnaNetworkData    string `json:"klarna_network_data,omitempty"`
	InteroperabilityData string `json:"interoperability_data,omitempty"`
}

// PaymentTransactionRequest asks for a payment transaction of an amount in minor units.
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

// StepUpConfig allows Klarna to step up, sending the customer through the Purchase Journey; it is
// only sent when the customer is present.
type StepUpConfig struct {
	PaymentRequestReference   string                    `json:"payment_request_reference,omitempty"`
	CustomerInteractionConfig CustomerInteractionConfig `json:"customer_interaction_config"`
}

// CustomerInteractionConfig says how the customer reaches the Purchase Journey and comes back.
type CustomerInteractionConfig struct {
	Method            string             `json:"method"`
	ReturnURL         string             `json:"return_url,omitempty"`
	AppReturnURL      string             `json:"app_return_url,omitempty"`
	InteractionExpiry *InteractionExpiry `json:"interaction_expiry,omitempty"`
}

// InteractionExpiry bounds how long the Payment Request stays open: a duration or a timestamp.
type InteractionExpiry struct {
	Duration  string     `json:"duration,omitempty"`
	Timestamp *time.Time `json:"timestamp,omitempty"`
}

// SupplementaryPurchaseData describes the purchase; Klarna uses it for risk decisions, the mock
// for its outcome rules and the Purchase Journey page.
type SupplementaryPurchaseData struct {
	PurchaseReference string           `json:"purchase_reference,omitempty"`
	LineItems         []LineItem       `json:"line_items,omitempty"`
	Customer          *Customer        `json:"customer,omitempty"`
	Shipping          []Shipping       `json:"shipping,omitempty"`
	Subscriptions     []Subscription   `json:"subscriptions,omitempty"`
	OndemandService   *OndemandService `json:"ondemand_service,omitempty"`
}

// LineItem is one line of the purchase.
type LineItem struct {
	Name                  string `json:"name"`
	Quantity              int64  `json:"quantity"`
	TotalAmount           int64  `json:"total_amount"`
	UnitPrice             int64  `json:"unit_price,omitempty"`
	TotalTaxAmount        int64  `json:"total_tax_amount,omitempty"`
	LineItemReference     string `json:"line_item_reference,omitempty"`
	SubscriptionReference string `json:"subscription_reference,omitempty"`
	ProductURL            string `json:"product_url,omitempty"`
	ImageURL              string `json:"image_url,omitempty"`
	ProductIdentifier     string `json:"product_identifier,omitempty"`
	ShippingReference     string `json:"shipping_reference,omitempty"`
}

// Customer is what the Partner knows of the customer. Klarna does not publish its shape; the mock
// reads only these fields and the contract allows others.
type Customer struct {
	Email      string `json:"email,omitempty"`
	GivenName  string `json:"given_name,omitempty"`
	FamilyName string `json:"family_name,omitempty"`
	Phone      string `json:"phone,omitempty"`
}

// Shipping is one shipment of the purchase.
type Shipping struct {
	Recipient *Recipient `json:"recipient,omitempty"`
	Address   *Address   `json:"address,omitempty"`
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

// Subscription describes a recurring purchase, sent again on every subscription charge.
type Subscription struct {
	SubscriptionReference string        `json:"subscription_reference,omitempty"`
	Name                  string        `json:"name,omitempty"`
	FreeTrial             string        `json:"free_trial,omitempty"`
	BillingPlans          []BillingPlan `json:"billing_plans,omitempty"`
}

// BillingPlan is one period of a subscription's billing.
type BillingPlan struct {
	BillingAmount     int64  `json:"billing_amount,omitempty"`
	Currency          string `json:"currency,omitempty"`
	From              string `json:"from,omitempty"`
	Interval          string `json:"interval,omitempty"`
	IntervalFrequency int64  `json:"interval_frequency,omitempty"`
}

// OndemandService describes on-demand purchases made with a customer-present token.
type OndemandService struct {
	AverageAmount             int64  `json:"average_amount,omitempty"`
	MinimumAmount             int64  `json:"minimum_amount,omitempty"`
	MaximumAmount             int64  `json:"maximum_amount,omitempty"`
	PurchaseInterval          string `json:"purchase_interval,omitempty"`
	PurchaseIntervalFrequency int64  `json:"purchase_interval_frequency,omitempty"`
}
