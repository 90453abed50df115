package steps

import (
	"fmt"
	"strings"
)

// Rule is a duty of an Acquiring Partner the suite checks, stated in business terms. Failure
// messages start with the rule, so a failing scenario says which duty was broken, not only which
// value differed.
type Rule struct {
	// ID is a short stable name, e.g. "network-data-unaltered", for grepping CI logs.
	ID string
	// Text is the duty as a sentence: "the Acquiring Partner must ...".
	Text string
}

// The rules: the duties of an Acquiring Partner along the three flows of docs/flows.md. Klarna
// expects an Acquiring Partner to review and validate its Partners' integrations and to forward
// the interoperability data unchanged; these rules make that executable.
var (
	RuleNetworkDataUnaltered = Rule{"network-data-unaltered",
		"the Acquiring Partner must forward klarna_network_data unaltered"}
	RuleNetworkSessionTokenUnaltered = Rule{"network-session-token-unaltered",
		"the Acquiring Partner must forward the Klarna Network Session Token unaltered in Klarna-Network-Session-Token"}
	RuleCustomerTokenScope = Rule{"customer-token-scope",
		"the Acquiring Partner must ask Klarna for a customer token (request_customer_token) with the scope the Partner's usage needs"}
	RuleStepUpWhenPresent = Rule{"step-up-when-present",
		"the Acquiring Partner must send step_up_config when the customer is present"}
	RuleNoStepUpWhenNotPresent = Rule{"no-step-up-when-not-present",
		"the Acquiring Partner must not send step_up_config when the customer is not present"}
	RuleIdempotencyKey = Rule{"idempotency-key",
		"the Acquiring Partner must send a Klarna-Idempotency-Key with every POST to Klarna"}
	RuleRetrySameKey = Rule{"retry-same-idempotency-key",
		"the Acquiring Partner must retry a Klarna call whose answer it did not get, with the same Klarna-Idempotency-Key"}
	RuleOneAuthorizePerPayment = Rule{"one-authorize-per-payment",
		"the Acquiring Partner must answer a Partner's retry with the same Idempotency-Key without authorizing a second payment"}
	RuleFinalAuthorize = Rule{"final-authorize",
		"the Acquiring Partner must perform the final authorize with the Klarna Network Session Token within 60 minutes of the completed Purchase Journey"}
	RuleTokenFromRequest = Rule{"token-from-completed-request",
		"the Acquiring Partner must take a customer token saved without a purchase from the completed Payment Request (its webhook, or a read of it) and send Klarna no final authorize for it"}
	RuleNoFinalWithoutCompletion = Rule{"no-final-authorize-without-completion",
		"the Acquiring Partner must not finalize a payment whose Purchase Journey did not complete"}
	RuleChargeKlarnaToken = Rule{"charge-klarna-customer-token",
		"the Acquiring Partner must charge the Klarna customer token it was issued for the Partner's token, in Klarna-Customer-Token"}
	RuleForwardPurchase = Rule{"forward-purchase",
		"the Acquiring Partner must authorize the amount and currency the Partner asked for"}
	RuleSubscriptionData = Rule{"subscription-data",
		"the Acquiring Partner must send the subscription (supplementary_purchase_data.subscriptions) with a charge without the customer"}
	RulePresentationToken = Rule{"presentation-personalised",
		"the Acquiring Partner must ask Klarna for the payment presentation with the customer's Klarna customer token"}
	RuleValidateFirst = Rule{"refuse-bad-input-before-klarna",
		"the Acquiring Partner must refuse a request it cannot accept without calling Klarna"}
	RulePartnerWebhookSigned = Rule{"partner-webhook-signed",
		"the Acquiring Partner must sign every webhook to the Partner (AP-Signature: HMAC-SHA256 of the body with the Partner's webhook secret)"}
	RulePartnerWebhookRetried = Rule{"partner-webhook-retried",
		"the Acquiring Partner must retry a webhook the Partner did not take, with the same event and body"}
	RulePartnerToldOnce = Rule{"partner-told-once",
		"the Acquiring Partner must tell the Partner each outcome once, however often Klarna delivers it"}
	RuleTellPartner = Rule{"tell-partner",
		"the Acquiring Partner must tell the Partner by webhook how the Purchase Journey ended"}
	RuleVerifyKlarnaSignature = Rule{"verify-klarna-signature",
		"the Acquiring Partner must refuse a Klarna webhook whose signature is wrong"}
	RuleBothTokens = Rule{"both-customer-tokens",
		"the Acquiring Partner must give the Partner both the Klarna-issued and its own customer token"}
	RuleReportOutcome = Rule{"report-klarna-outcome",
		"the Acquiring Partner must report Klarna's outcome to the Partner"}
	RuleForwardOperation = Rule{"forward-operation",
		"the Acquiring Partner must carry out the Partner's capture, refund or release on Klarna's payment transaction, for the amount asked"}
	RuleRefuseBadInput = Rule{"refuse-bad-input",
		"the Acquiring Partner must refuse a request it cannot accept, naming the problem"}
	RulePartnerAPIContract = Rule{"partner-api-contract",
		"the Acquiring Partner must answer as contracts/acquirer.yaml describes"}
	RuleDocumentedFields = Rule{"documented-fields",
		"the Acquiring Partner must send Klarna only the body fields Klarna's API reference documents"}
)

// Violation is one broken rule with what was observed.
type Violation struct {
	Rule   Rule
	Detail string
}

func (v Violation) String() string {
	return fmt.Sprintf("broken rule [%s]: %s: %s", v.Rule.ID, v.Rule.Text, v.Detail)
}

// Violations is the error a step returns when rules were broken.
type Violations []Violation

func (vs Violations) Error() string {
	lines := make([]string, len(vs))
	for i, v := range vs {
		lines[i] = v.String()
	}
	return strings.Join(lines, "\n")
}

// err returns vs as an error, or nil when empty.
func (vs Violations) err() error {
	if len(vs) == 0 {
		return nil
	}
	return vs
}

// broke returns a single violation as an error.
func broke(r Rule, format string, args ...any) error {
	return Violations{{Rule: r, Detail: fmt.Sprintf(format, args...)}}
}
