package steps

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/cucumber/godog"
)

// amount matches an amount as the features write it: 9.99 EUR.
const amount = `(\d+\.\d{2}) ([A-Z]{3})`

// Step is one step of the suite's step library: the text a feature file writes and what the
// step does or checks. The package documentation lists them all.
type Step struct {
	// Keyword is "Given", "When" or "Then": the part of a scenario the step is written for.
	// godog matches a step's text whatever keyword (And and But included) a feature writes.
	Keyword string
	// Expression is the regular expression godog matches the step's text against; its
	// groups are the step's arguments.
	Expression string
	// Meaning says what the step does or checks, naming the rules (see Rule) it holds the
	// Acquiring Partner to.
	Meaning string

	// def is the step's definition, bound to one scenario's World.
	def any
}

// Steps returns every step of the suite, in the order of the package documentation. A team's
// own suite gets them all from Suite.InitializeScenario; Steps is for reading them, e.g. to
// check that a step of its own does not shadow one.
func Steps() []Step { return new(World).library() }

// register binds every step of the suite to w.
func (w *World) register(sc *godog.ScenarioContext) {
	for _, s := range w.library() {
		sc.Step(s.Expression, s.def)
	}
}

// library is every step of the suite bound to w: the one table that both registers the steps
// and documents them, Given steps first, then When and Then steps, each part in the order of
// the tables it joins.
func (w *World) library() []Step {
	lib := slices.Concat(w.flowSteps(), w.resilienceSteps(), w.tokenSteps(), w.captureSteps())
	order := map[string]int{"Given": 0, "When": 1, "Then": 2}
	slices.SortStableFunc(lib, func(a, b Step) int { return order[a.Keyword] - order[b.Keyword] })
	return lib
}

// flowSteps are the steps of the three flows and what surrounds them: the Partner's checkout,
// the customer, Klarna's webhooks, what the Partner sees and what Klarna was sent.
func (w *World) flowSteps() []Step {
	return []Step{
		// The Partner's checkout.
		{"Given", `^a Partner selling through the Acquiring Partner$`,
			"Opens a scenario. Its systems are already running: the Partner double with an API key of its own at the Acquiring Partner, the Acquiring Partner and Klarna (the klarna-mock). The Partner hands customers over by redirect until told otherwise.",
			w.aPartner},
		{"Given", `^the Partner hands the customer over to Klarna (by redirect|with Klarna's SDK)$`,
			"Sets the hand-over mode of the Partner's later sessions and customer-present charges: REDIRECT (with a return URL) or SDK.",
			w.handsOver},
		{"Given", `^the customer is already identified by Klarna in the Partner's checkout$`,
			"The Partner gets a Klarna Network Session Token for the customer from Klarna (as from a Klarna Express Checkout session) and sends it with its later calls; Klarna approves such a customer at once.",
			w.identifiedCustomer},
		{"Given", `^the Partner has Klarna Network data for the checkout$`,
			"The Partner sends Klarna Network data with its later calls, written with spaces, key order and \\u escapes that a JSON re-encoding would change, so that only a byte-for-byte copy reaches Klarna unaltered.",
			w.hasNetworkData},
		{"Given", `^the Partner uses the older field names for the Klarna Network data and session token$`,
			"The Partner's later calls send the Klarna Network data and session token as interoperability_data and interoperability_token.",
			w.usesOldNames},
		{"Given", `^Klarna's risk assessment will decline the customer$`,
			"The customer's email is one Klarna declines (the mock's +denied@ address).",
			w.riskDeclinesCustomer},
		{"Given", `^Klarna's risk assessment will decline the next purchase$`,
			"Klarna declines the Partner's next session or charge (its reference carries the mock's decline marker).",
			w.riskDeclinesNext},
		{"Given", `^Klarna will ask the customer to confirm the next purchase$`,
			"Klarna steps up the Partner's next session or charge to its Purchase Journey (its reference carries the mock's step-up marker).",
			w.confirmNext},
		{"Given", `^the customer saved Klarna for (on-demand|subscription) use$`,
			"The customer holds a customer token of that usage, made the quick way: a payment session without a purchase for a customer Klarna identified, approved at once. Both tokens it gives are checked (both-customer-tokens, customer-token-scope); later charges use it.",
			w.customerSaved},
		{"Given", `^another Partner's customer saved Klarna for (on-demand|subscription) use$`,
			"As the step before, with a second Partner's API key. Skipped without one (ACQUIRER_OTHER_PARTNER_KEY or ACQUIRER_PARTNER_KEY_PREFIX).",
			w.otherCustomerSaved},
		{"Given", `^the customer revoked the Klarna customer token$`,
			"The Klarna customer token behind the customer's saved token is revoked at Klarna, which refuses later charges with it.",
			w.tokenRevoked},
		{"Given", `^the Partner opened a payment session saving Klarna for (on-demand|subscription) use with a purchase of ` + amount + `, and Klarna asked for the Purchase Journey$`,
			"The When step that opens such a session, then the Then step that the Partner is asked to send the customer to Klarna's Purchase Journey.",
			w.openedWithJourney},
		{"Given", `^the Partner's webhook endpoint fails the next (\d+) deliveries$`,
			"The Partner's webhook endpoint answers 500 to the next that many webhooks about this scenario's payments.",
			w.partnerEndpointFails},
		{"Given", `^Klarna's webhooks cannot reach the Acquiring Partner$`,
			"Klarna's webhooks to the Acquiring Partner are turned away (503) until they reach it again. @interception: for an Acquiring Partner the suite does not start, the scenario is skipped and reported with the reason.",
			w.klarnaCannotReach},
		{"Given", `^Klarna's answer to the next authorize is lost on the way to the Acquiring Partner$`,
			"The Acquiring Partner's connection drops after Klarna processed its next authorize, before the answer arrives. @interception.",
			w.loseNextAnswer},

		// What the Partner does.
		{"When", `^the Partner opens a payment session saving Klarna for (on-demand|subscription) use (with a purchase of ` + amount + `|without a purchase)( with an Idempotency-Key)?$`,
			"The Partner asks the Acquiring Partner for a payment session (POST /v1/sessions) asking for a customer token of that usage, with a purchase of the amount (one line item) or without one, in the checkout's hand-over mode, with the checkout's Klarna Network data and session token and, if said, an Idempotency-Key. The answer must follow contracts/acquirer.yaml (partner-api-contract), and the authorizes the Acquiring Partner sent Klarna for it must follow every rule of the initial authorize: idempotency-key, network-data-unaltered, network-session-token-unaltered, customer-token-scope, step-up-when-present, forward-purchase.",
			w.opensSession},
		{"When", `^the Partner charges the customer's token for ` + amount + ` with the customer present( with an Idempotency-Key)?$`,
			"The Partner charges the customer's saved token (POST /v1/charges) with the customer present, in the checkout's hand-over mode. The answer and the authorizes are checked as for a session, with charge-klarna-customer-token instead of customer-token-scope.",
			w.chargesPresent},
		{"When", `^the Partner charges the customer's token for ` + amount + ` for a subscription renewal, the customer not present( with an Idempotency-Key)?$`,
			"The Partner charges the customer's saved token without the customer, with the subscription in supplementary_purchase_data, checked as for a customer-present charge, with no-step-up-when-not-present and subscription-data instead of step-up-when-present.",
			w.chargesRenewal},
		{"When", `^the Partner retries that request with the same Idempotency-Key$`,
			"The Partner sends its last session or charge again, body and Idempotency-Key unchanged, as after a timeout.",
			w.retriesSame},
		{"When", `^the Partner sends a different payment session with the same Idempotency-Key$`,
			"The Partner opens another payment session (42.00 EUR, on-demand token) under the Idempotency-Key of its last request.",
			w.differentSameKey},
		{"When", `^the Partner asks Klarna directly how to present Klarna for ` + amount + `(, with the customer's Klarna customer token)?$`,
			"The Partner asks Klarna itself, as Klarna's SDK would, for the payment presentation of the amount, with the checkout's network session token and, if said, the customer's Klarna customer token.",
			w.asksKlarna},
		{"When", `^the Partner asks the Acquiring Partner for the payment methods for ` + amount + `(, with the Acquiring Partner's customer token)?$`,
			"The Partner asks the Acquiring Partner for its payment methods (POST /v1/payment-methods) for the amount, with the checkout's Klarna Network data and session token and, if said, the customer's saved token.",
			w.asksAcquirer},
		{"When", `^someone opens a payment session without a Partner API key$`,
			"A payment session of 25.00 EUR is sent without an Authorization header.",
			w.noKey},
		{"When", `^the Partner opens a payment session with (.+)$`,
			"The Partner opens a payment session of 25.00 EUR (on-demand token) with one thing wrong, one of: " + badSessionProblems() + ".",
			w.badSession},
		{"When", `^the Partner opens a payment session whose line items do not add up to the amount$`,
			"The Partner opens a payment session of 25.00 EUR whose one line item is 20.00 EUR, which only Klarna refuses.",
			w.lineItemsOff},
		{"When", `^the Partner charges a customer token the Acquiring Partner never issued$`,
			"The Partner charges 9.99 EUR, without the customer, to a customer token the Acquiring Partner never issued.",
			w.chargesUnknownToken},
		{"When", `^the Partner charges the other Partner's customer token$`,
			"The Partner charges 9.99 EUR to the token another Partner's customer saved (with the customer present when it is an on-demand token).",
			w.chargesOthersToken},
		{"When", `^the Partner charges the customer's subscription token with the customer present$`,
			"The Partner charges 45.00 EUR to the customer's saved subscription token with the customer present.",
			w.chargesSubscriptionPresent},
		{"When", `^the Partner charges the customer's on-demand token without the customer$`,
			"The Partner charges 9.99 EUR to the customer's saved on-demand token without the customer.",
			w.chargesOnDemandNotPresent},

		// What the customer and Klarna do.
		{"When", `^the customer (opens|approves the purchase in|backs out of|abandons) Klarna's Purchase Journey$`,
			"The customer acts in the Purchase Journey of the last session or charge, through the mock's control API.",
			w.customerActs},
		{"When", `^Klarna declines the customer in the Purchase Journey$`,
			"Klarna declines the customer in the Purchase Journey of the last session or charge.",
			w.klarnaDeclines},
		{"When", `^the Payment Request is canceled at Klarna$`,
			"The Payment Request of the last session or charge is canceled through Klarna's API, as its Partner would.",
			w.canceledAtKlarna},
		{"When", `^(\d+) (minutes?|hours?) pass(?:es)?$`,
			"The scenario's clock at the mock (its tenant's: the Acquiring Partner's key's; no other tenant's clock moves) moves on by that much, once the webhooks due now have been attempted. @clock.",
			w.timePasses},
		{"When", `^Klarna's webhooks reach the Acquiring Partner again$`,
			"Klarna's webhooks reach the Acquiring Partner again. @interception.",
			w.klarnaReachesAgain},
		{"When", `^Klarna retries its webhooks$`,
			"The scenario's clock at the mock walks Klarna's retry schedule (+10 s, +2 min, +15 min, +3 h, ...) until the completion of the last Purchase Journey has reached the Acquiring Partner. @interception, @clock.",
			w.klarnaRetries},
		{"When", `^someone posts the Acquiring Partner a Klarna webhook with a wrong signature, saying the Purchase Journey was completed$`,
			"A completion webhook about the last Payment Request, signed with a secret that is not Klarna's, is posted to the Acquiring Partner's Klarna webhook listener.",
			w.postsForgedWebhook},
		{"When", `^Klarna delivers the completion webhook again$`,
			"The completion webhook the Acquiring Partner took from Klarna is posted to it again, unchanged. @interception.",
			w.deliversAgain},

		// What the Partner sees.
		{"Then", `^the Partner is asked to send the customer to Klarna's Purchase Journey$`,
			"The last session or charge is REQUIRES_ACTION with a payment_request_id and, in redirect mode, an absolute payment_request_url (report-klarna-outcome).",
			w.askedForJourney},
		{"Then", `^the (payment session|charge) is approved at once(, with both customer tokens)?$`,
			"The last session or charge is COMPLETED, with a payment_transaction_id when it has a purchase. With both customer tokens: the Acquiring Partner's and Klarna's, Klarna's being one Klarna issued with the scope of the usage (both-customer-tokens, customer-token-scope); it becomes the customer's saved token.",
			w.approvedAtOnce},
		{"Then", `^the (payment session|charge) is declined, because "([A-Z_]+)"$`,
			"The last session or charge is DECLINED with that decline_reason, and sends the customer to no Purchase Journey (report-klarna-outcome).",
			w.declinedBecause},
		{"Then", `^the charge is not completed$`,
			"The last charge is neither COMPLETED nor REQUIRES_ACTION (report-klarna-outcome).",
			w.chargeNotCompleted},
		{"Then", `^no customer token was issued$`,
			"The last session or charge carries no customer token, and the Partner was not told token.created about it.",
			w.noToken},
		{"Then", `^the Partner is told the order is completed(, with both customer tokens)?$`,
			"Within the wait timeout the Partner is told order.completed about the last session or charge: status COMPLETED, a payment_transaction_id when it has a purchase, and, if said, both customer tokens as when approved at once (tell-partner). After a Purchase Journey the final authorize of a purchase is checked too (final-authorize), and for a token without a purchase that none was sent (token-from-completed-request).",
			w.toldCompleted},
		{"Then", `^the Partner is told the payment (was declined|expired|was canceled|failed)$`,
			"Within the wait timeout the Partner is told payment.declined about the last session or charge, with status DECLINED, EXPIRED, CANCELED, or for a failure FAILED or EXPIRED, and never order.completed (tell-partner).",
			w.toldEnded},
		{"Then", `^the Partner is told the order is completed only once$`,
			"After a moment for late webhooks, the Partner was told order.completed about the last payment under exactly one event id (partner-told-once).",
			w.toldOnce},
		{"Then", `^the payment still waits for the customer$`,
			"The Acquiring Partner still reads the last session or charge as REQUIRES_ACTION and, after a moment for late webhooks, has told the Partner nothing about it.",
			w.stillWaiting},
		{"Then", `^no payment was authorized, only the customer token saved$`,
			"The Acquiring Partner reads the last session without a payment_transaction_id.",
			w.onlyToken},
		{"Then", `^Klarna is (shown|preselected|hidden) in the payment selector$`,
			"The last presentation the Partner asked for says SHOW_KLARNA, PRESELECT_KLARNA (preselected) or HIDE_KLARNA (or no Klarna payment method at all).",
			w.klarnaIs},
		{"Then", `^the Acquiring Partner returns the same (payment session|charge)$`,
			"The Partner's retry was answered 200 or 201 with the same session or charge (one-authorize-per-payment).",
			w.returnsSame},
		{"Then", `^the Acquiring Partner refuses it as invalid(?:, naming "([^"]+)")?$`,
			"The last request was refused with 400 INVALID_REQUEST naming the offending field, the one given if any (refuse-bad-input).",
			w.refusedInvalid},
		{"Then", `^the Acquiring Partner refuses it as (unauthorized|a conflict|not found|forbidden)$`,
			"The last request was refused with 401 UNAUTHORIZED, 409 IDEMPOTENCY_CONFLICT, 404 NOT_FOUND or 403 FORBIDDEN (refuse-bad-input).",
			w.refusedAs},
		{"Then", `^the Acquiring Partner passes on Klarna's refusal$`,
			"The last request was answered 422 KLARNA_REJECTED with Klarna's 400 in klarna_error (refuse-bad-input).",
			w.passesKlarnasRefusal},
		{"Then", `^the Acquiring Partner refuses the webhook$`,
			"The Acquiring Partner answered the webhook the suite posted with a 4xx status (verify-klarna-signature).",
			w.refusesWebhook},
		{"Then", `^the Acquiring Partner accepts the duplicate webhook$`,
			"The Acquiring Partner answered the repeated webhook with a 2xx status (partner-told-once).",
			w.acceptsDuplicate},

		// What the Acquiring Partner sent Klarna (the journal).
		{"Then", `^the Acquiring Partner forwarded the Klarna Network data to Klarna unaltered$`,
			"The authorizes for the last session or charge carried the Partner's Klarna Network data byte for byte in klarna_network_data (network-data-unaltered).",
			w.forwardedData},
		{"Then", `^the Acquiring Partner forwarded the Klarna Network Session Token to Klarna unaltered$`,
			"The newest call that carried the Partner's network session token reached Klarna with it in Klarna-Network-Session-Token: the authorize of a session or charge, or the payment presentation behind the payment methods (network-session-token-unaltered).",
			w.forwardedSessionToken},
		{"Then", `^the Acquiring Partner asked Klarna for a customer token with the scope for (on-demand|subscription) use$`,
			"The authorizes for the last session asked for a customer token with the one scope of that usage: payment:customer_present for on-demand, payment:customer_not_present for subscription (customer-token-scope).",
			w.askedForScope},
		{"Then", `^the Acquiring Partner let Klarna step up, because the customer is present$`,
			"The authorizes for the last session or charge carried a step_up_config whose method is HANDOVER in redirect mode, SDK in SDK mode (step-up-when-present).",
			w.letStepUp},
		{"Then", `^the Acquiring Partner did not let Klarna step up, because the customer is not present$`,
			"The authorizes for the last charge carried no step_up_config (no-step-up-when-not-present).",
			w.noStepUp},
		{"Then", `^the Acquiring Partner charged the Klarna customer token issued for the customer$`,
			"The authorizes for the last charge sent, in Klarna-Customer-Token, the Klarna token behind the Partner's token (charge-klarna-customer-token).",
			w.chargedKlarnaToken},
		{"Then", `^the Acquiring Partner sent Klarna the subscription$`,
			"The authorizes for the last charge without the customer carried supplementary_purchase_data.subscriptions (subscription-data).",
			w.sentSubscription},
		{"Then", `^the Acquiring Partner finalized the payment with Klarna within the token's window$`,
			"Klarna approved a final authorize with the network session token of the completed Purchase Journey within 60 minutes of the completion (final-authorize).",
			w.finalized},
		{"Then", `^the Acquiring Partner did not finalize the payment$`,
			"After a moment, Klarna has received no authorize for the last session or charge since it answered the Partner (no-final-authorize-without-completion).",
			w.notFinalized},
		{"Then", `^Klarna authorized no payment after the token's window$`,
			"Klarna approved no final authorize of the completed Purchase Journey 60 minutes or more after its completion (final-authorize).",
			w.nothingAfterWindow},
		{"Then", `^the Acquiring Partner asked Klarna for the presentation with the Klarna customer token issued for the customer$`,
			"While answering the last payment-methods call, the Acquiring Partner asked Klarna for the payment presentation with the customer's Klarna token in Klarna-Customer-Token (presentation-personalised).",
			w.presentedWithToken},
		{"Then", `^the Acquiring Partner sent an idempotency key with every request to Klarna$`,
			"The Acquiring Partner sent Klarna at least one POST in the scenario, and every one carried a Klarna-Idempotency-Key (idempotency-key).",
			w.idempotencyEverywhere},
		{"Then", `^Klarna was asked to authorize it only once$`,
			"Klarna received authorizes for the last session or charge, retries included, under one Klarna-Idempotency-Key (one-authorize-per-payment).",
			w.authorizedOnce},
		{"Then", `^Klarna was not asked to authorize anything$`,
			"Klarna has received no authorize since the last request (refuse-bad-input-before-klarna).",
			w.notAskedToAuthorize},
		{"Then", `^the Acquiring Partner retried the authorize with the same Klarna-Idempotency-Key$`,
			"Klarna received two or more authorizes for the last session or charge, all under one Klarna-Idempotency-Key (retry-same-idempotency-key).",
			w.retriedSameKey},
		{"Then", `^every webhook the Partner received was signed by the Acquiring Partner$`,
			"The Partner received at least one webhook, and every one carries a valid AP-Signature (partner-webhook-signed).",
			w.allSigned},
		{"Then", `^the Acquiring Partner retried the failed webhooks with the same event and body$`,
			"Every webhook the Partner's endpoint failed arrived again within the wait timeout with the same event id and body (partner-webhook-retried).",
			w.retriedSameEvent},
	}
}

// parseAmount turns "9.99" into 999 minor units.
func parseAmount(s string) (int64, error) {
	return strconv.ParseInt(strings.Replace(s, ".", "", 1), 10, 64)
}

func usageOf(s string) string {
	if s == "subscription" {
		return UsageSubscription
	}
	return UsageOnDemand
}

// only keeps the violations of the given rules.
func only(vs Violations, rules ...Rule) Violations {
	var out Violations
	for _, v := range vs {
		if slices.Contains(rules, v.Rule) {
			out = append(out, v)
		}
	}
	return out
}

// outcome reports a wrong outcome of o, explained by what the Acquiring Partner sent Klarna.
func (w *World) outcome(o *op, format string, args ...any) error {
	return w.withDiagnosis(o, broke(RuleReportOutcome, format, args...))
}

func (o *op) describeAnswer() string {
	if o.ans == nil {
		return "no answer"
	}
	return fmt.Sprintf("%d %s", o.ans.Status, clip(string(o.ans.Body), 400))
}
