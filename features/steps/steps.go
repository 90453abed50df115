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

// register binds every step of the suite to w.
func (w *World) register(sc *godog.ScenarioContext) {
	// The Partner's checkout.
	sc.Given(`^a Partner selling through the Acquiring Partner$`, w.aPartner)
	sc.Given(`^the Partner hands the customer over to Klarna (by redirect|with Klarna's SDK)$`, w.handsOver)
	sc.Given(`^the customer is already identified by Klarna in the Partner's checkout$`, w.identifiedCustomer)
	sc.Given(`^the Partner has Klarna Network data for the checkout$`, w.hasNetworkData)
	sc.Given(`^the Partner uses the older field names for the Klarna Network data and session token$`, w.usesOldNames)
	sc.Given(`^Klarna's risk assessment will decline the customer$`, w.riskDeclinesCustomer)
	sc.Given(`^Klarna's risk assessment will decline the next purchase$`, w.riskDeclinesNext)
	sc.Given(`^Klarna will ask the customer to confirm the next purchase$`, w.confirmNext)
	sc.Given(`^the customer saved Klarna for (on-demand|subscription) use$`, w.customerSaved)
	sc.Given(`^another Partner's customer saved Klarna for (on-demand|subscription) use$`, w.otherCustomerSaved)
	sc.Given(`^the customer revoked the Klarna customer token$`, w.tokenRevoked)
	sc.Given(`^the Partner opened a payment session saving Klarna for (on-demand|subscription) use with a purchase of `+amount+`, and Klarna asked for the Purchase Journey$`, w.openedWithJourney)
	sc.Given(`^the Partner's webhook endpoint fails the next (\d+) deliveries$`, w.partnerEndpointFails)
	sc.Given(`^Klarna's webhooks cannot reach the Acquiring Partner$`, w.klarnaCannotReach)
	sc.Given(`^Klarna's answer to the next authorize is lost on the way to the Acquiring Partner$`, w.loseNextAnswer)

	// What the Partner does.
	sc.When(`^the Partner opens a payment session saving Klarna for (on-demand|subscription) use (with a purchase of `+amount+`|without a purchase)( with an Idempotency-Key)?$`, w.opensSession)
	sc.When(`^the Partner charges the customer's token for `+amount+` with the customer present( with an Idempotency-Key)?$`, w.chargesPresent)
	sc.When(`^the Partner charges the customer's token for `+amount+` for a subscription renewal, the customer not present( with an Idempotency-Key)?$`, w.chargesRenewal)
	sc.When(`^the Partner retries that request with the same Idempotency-Key$`, w.retriesSame)
	sc.When(`^the Partner sends a different payment session with the same Idempotency-Key$`, w.differentSameKey)
	sc.When(`^the Partner asks Klarna directly how to present Klarna for `+amount+`(, with the customer's Klarna customer token)?$`, w.asksKlarna)
	sc.When(`^the Partner asks the Acquiring Partner for the payment methods for `+amount+`(, with the Acquiring Partner's customer token)?$`, w.asksAcquirer)
	sc.When(`^someone opens a payment session without a Partner API key$`, w.noKey)
	sc.When(`^the Partner opens a payment session with (.+)$`, w.badSession)
	sc.When(`^the Partner opens a payment session whose line items do not add up to the amount$`, w.lineItemsOff)
	sc.When(`^the Partner charges a customer token the Acquiring Partner never issued$`, w.chargesUnknownToken)
	sc.When(`^the Partner charges the other Partner's customer token$`, w.chargesOthersToken)
	sc.When(`^the Partner charges the customer's subscription token with the customer present$`, w.chargesSubscriptionPresent)
	sc.When(`^the Partner charges the customer's on-demand token without the customer$`, w.chargesOnDemandNotPresent)

	// What the customer and Klarna do.
	sc.When(`^the customer (opens|approves the purchase in|backs out of|abandons) Klarna's Purchase Journey$`, w.customerActs)
	sc.When(`^Klarna declines the customer in the Purchase Journey$`, w.klarnaDeclines)
	sc.When(`^the Payment Request is canceled at Klarna$`, w.canceledAtKlarna)
	sc.When(`^(\d+) (minutes?|hours?) pass(?:es)?$`, w.timePasses)
	sc.When(`^Klarna's webhooks reach the Acquiring Partner again$`, w.klarnaReachesAgain)
	sc.When(`^Klarna retries its webhooks$`, w.klarnaRetries)
	sc.When(`^someone posts the Acquiring Partner a Klarna webhook with a wrong signature, saying the Purchase Journey was completed$`, w.postsForgedWebhook)
	sc.When(`^Klarna delivers the completion webhook again$`, w.deliversAgain)

	// What the Partner sees.
	sc.Then(`^the Partner is asked to send the customer to Klarna's Purchase Journey$`, w.askedForJourney)
	sc.Then(`^the (payment session|charge) is approved at once(, with both customer tokens)?$`, w.approvedAtOnce)
	sc.Then(`^the (payment session|charge) is declined, because "([A-Z_]+)"$`, w.declinedBecause)
	sc.Then(`^the charge is not completed$`, w.chargeNotCompleted)
	sc.Then(`^no customer token was issued$`, w.noToken)
	sc.Then(`^the Partner is told the order is completed(, with both customer tokens)?$`, w.toldCompleted)
	sc.Then(`^the Partner is told the payment (was declined|expired|was canceled|failed)$`, w.toldEnded)
	sc.Then(`^the Partner is told the order is completed only once$`, w.toldOnce)
	sc.Then(`^the payment still waits for the customer$`, w.stillWaiting)
	sc.Then(`^no payment was authorized, only the customer token saved$`, w.onlyToken)
	sc.Then(`^Klarna is (shown|preselected|hidden) in the payment selector$`, w.klarnaIs)
	sc.Then(`^the Acquiring Partner returns the same (payment session|charge)$`, w.returnsSame)
	sc.Then(`^the Acquiring Partner refuses it as invalid(?:, naming "([^"]+)")?$`, w.refusedInvalid)
	sc.Then(`^the Acquiring Partner refuses it as (unauthorized|a conflict|not found|forbidden)$`, w.refusedAs)
	sc.Then(`^the Acquiring Partner passes on Klarna's refusal$`, w.passesKlarnasRefusal)
	sc.Then(`^the Acquiring Partner refuses the webhook$`, w.refusesWebhook)
	sc.Then(`^the Acquiring Partner accepts the duplicate webhook$`, w.acceptsDuplicate)

	// What the Acquiring Partner sent Klarna (the journal).
	sc.Then(`^the Acquiring Partner forwarded the Klarna Network data to Klarna unaltered$`, w.forwardedData)
	sc.Then(`^the Acquiring Partner forwarded the Klarna Network Session Token to Klarna unaltered$`, w.forwardedSessionToken)
	sc.Then(`^the Acquiring Partner asked Klarna for a customer token with the scope for (on-demand|subscription) use$`, w.askedForScope)
	sc.Then(`^the Acquiring Partner let Klarna step up, because the customer is present$`, w.letStepUp)
	sc.Then(`^the Acquiring Partner did not let Klarna step up, because the customer is not present$`, w.noStepUp)
	sc.Then(`^the Acquiring Partner charged the Klarna customer token issued for the customer$`, w.chargedKlarnaToken)
	sc.Then(`^the Acquiring Partner sent Klarna the subscription$`, w.sentSubscription)
	sc.Then(`^the Acquiring Partner finalized the payment with Klarna within the token's window$`, w.finalized)
	sc.Then(`^the Acquiring Partner did not finalize the payment$`, w.notFinalized)
	sc.Then(`^Klarna authorized no payment after the token's window$`, w.nothingAfterWindow)
	sc.Then(`^the Acquiring Partner asked Klarna for the presentation with the Klarna customer token issued for the customer$`, w.presentedWithToken)
	sc.Then(`^the Acquiring Partner sent an idempotency key with every request to Klarna$`, w.idempotencyEverywhere)
	sc.Then(`^Klarna was asked to authorize it only once$`, w.authorizedOnce)
	sc.Then(`^Klarna was not asked to authorize anything$`, w.notAskedToAuthorize)
	sc.Then(`^the Acquiring Partner retried the authorize with the same Klarna-Idempotency-Key$`, w.retriedSameKey)
	sc.Then(`^every webhook the Partner received was signed by the Acquiring Partner$`, w.allSigned)
	sc.Then(`^the Acquiring Partner retried the failed webhooks with the same event and body$`, w.retriedSameEvent)
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
	return fmt.Sprintf("%d %s", o.ans.status, clip(string(o.ans.body), 400))
}
