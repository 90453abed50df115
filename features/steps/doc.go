// Package steps holds the step definitions of the Acquiring Partner contract suite (features/):
// Gherkin steps in business language that drive a Partner, a customer and Klarna around an
// Acquiring Partner, and check both what the Partner gets and what the Acquiring Partner sent
// Klarna (the klarna-mock's journal).
//
// The actors:
//   - the Partner is a test double: it calls the Acquiring Partner's Partner API
//     (contracts/acquirer.yaml), checking every answer against the contract, and takes the
//     Acquiring Partner's webhooks, checking their AP-Signature;
//   - the customer drives Klarna's Purchase Journey through the mock's control API;
//   - the Acquiring Partner is the system under test: the reference one (reference-impl),
//     started in process for each scenario, or any other at Config.AcquirerURL;
//   - Klarna is the klarna-mock: started in process for each scenario, or at Config.KlarnaMockURL.
//
// Use it in a godog suite of your own:
//
//	s, err := steps.New(cfg) // or steps.ConfigFromEnv(os.Getenv)
//	godog.TestSuite{
//		TestSuiteInitializer: s.InitializeTestSuite,
//		ScenarioInitializer:  s.InitializeScenario,
//		Options: &godog.Options{FS: features.Files, Paths: []string{"."}, Strict: true},
//	}.Run()
//
// Scenarios the configuration cannot run (@interception ones against an Acquiring Partner the
// suite did not start) are skipped, which is no failure even in strict mode, and listed with the
// reason after the run (Config.Report).
//
// Add steps of your own (features/example shows some). They reach the scenario's [World] with
// [Must] or [FromContext], and through it both sides of the Acquiring Partner:
//   - the Partner's side: [World.CallAcquirer] calls the Acquiring Partner as the scenario's
//     Partner; [World.Answers] and [World.LastAnswer] are the answers the Partner got so far;
//   - Klarna's side: [World.Klarna] is the client of the scenario's klarna-mock, acting as the
//     scenario's tenant there (its Purchase Journeys, its clock), [World.KlarnaCredentials] the
//     Acquiring Partner's API key and account there, and
//     [World.Journal] what the Acquiring Partner sent Klarna in the scenario.
//
// Failures name the broken rule (see [Rule]): "broken rule [network-data-unaltered]: the
// Acquiring Partner must forward klarna_network_data unaltered: sent ..., Partner gave ...".
//
// # Steps
//
// Every step of the suite, as [Steps] returns them: the step's text as a feature file writes
// it (the regular expression godog matches, without its ^ and $; its groups are the arguments,
// and amounts are written 9.99 EUR), then what the step does or checks. Every step that calls
// the Acquiring Partner checks its answer against contracts/acquirer.yaml, and every scenario
// ends with the checks of [Suite.InitializeScenario].
//
// # Given steps
//
//	Given a Partner selling through the Acquiring Partner
//
// Opens a scenario. Its systems are already running: the Partner double with an API key of its own
// at the Acquiring Partner, the Acquiring Partner and Klarna (the klarna-mock). The Partner hands
// customers over by redirect until told otherwise.
//
//	Given the Partner hands the customer over to Klarna (by redirect|with Klarna's SDK)
//
// Sets the hand-over mode of the Partner's later sessions and customer-present charges: REDIRECT
// (with a return URL) or SDK.
//
//	Given the customer is already identified by Klarna in the Partner's checkout
//
// The Partner gets a Klarna Network Session Token for the customer from Klarna (as from a Klarna
// Express Checkout session) and sends it with its later calls; Klarna approves such a customer at
// once.
//
//	Given the Partner has Klarna Network data for the checkout
//
// The Partner sends Klarna Network data with its later calls, written with spaces, key order and \u
// escapes that a JSON re-encoding would change, so that only a byte-for-byte copy reaches Klarna
// unaltered.
//
//	Given the Partner uses the older field names for the Klarna Network data and session token
//
// The Partner's later calls send the Klarna Network data and session token as interoperability_data
// and interoperability_token.
//
//	Given Klarna's risk assessment will decline the customer
//
// The customer's email is one Klarna declines (the mock's +denied@ address).
//
//	Given Klarna's risk assessment will decline the next purchase
//
// Klarna declines the Partner's next session or charge (its reference carries the mock's decline
// marker).
//
//	Given Klarna will ask the customer to confirm the next purchase
//
// Klarna steps up the Partner's next session or charge to its Purchase Journey (its reference
// carries the mock's step-up marker).
//
//	Given the customer saved Klarna for (on-demand|subscription) use
//
// The customer holds a customer token of that usage, made the quick way: a payment session without
// a purchase for a customer Klarna identified, approved at once. Both tokens it gives are checked
// (both-customer-tokens, customer-token-scope); later charges use it.
//
//	Given another Partner's customer saved Klarna for (on-demand|subscription) use
//
// As the step before, with a second Partner's API key. Skipped without one
// (ACQUIRER_OTHER_PARTNER_KEY or ACQUIRER_PARTNER_KEY_PREFIX).
//
//	Given the customer revoked the Klarna customer token
//
// The Klarna customer token behind the customer's saved token is revoked at Klarna, which refuses
// later charges with it.
//
//	Given the Partner opened a payment session saving Klarna for (on-demand|subscription) use with a purchase of (\d+\.\d{2}) ([A-Z]{3}), and Klarna asked for the Purchase Journey
//
// The When step that opens such a session, then the Then step that the Partner is asked to send the
// customer to Klarna's Purchase Journey.
//
//	Given the Partner's webhook endpoint fails the next (\d+) deliveries
//
// The Partner's webhook endpoint answers 500 to the next that many webhooks about this scenario's
// payments.
//
//	Given Klarna's webhooks cannot reach the Acquiring Partner
//
// Klarna's webhooks to the Acquiring Partner are turned away (503) until they reach it again.
// @interception: for an Acquiring Partner the suite does not start, the scenario is skipped and
// reported with the reason.
//
//	Given Klarna's answer to the next authorize is lost on the way to the Acquiring Partner
//
// The Acquiring Partner's connection drops after Klarna processed its next authorize, before the
// answer arrives. @interception.
//
//	Given Klarna rate limits the Acquiring Partner's (next authorize|authorizes), asking it to wait (\d+) seconds?
//
// Klarna answers the Acquiring Partner's next authorize (or every one, until Klarna is back to
// normal) with 429 RATE_LIMITED and that Retry-After, through a fault at the mock (POST
// /mock/v1/faults) that hits the scenario's tenant alone.
//
//	Given Klarna answers the Acquiring Partner's next (\d+) authorizes? with (500|502|503|504)
//
// Klarna answers that many of the Acquiring Partner's next authorizes with that error and does
// nothing else, as a Klarna briefly unavailable.
//
//	Given Klarna answers every authorize with (500|502|503|504)
//
// Klarna answers every authorize of the Acquiring Partner with that error, until Klarna is back to
// normal.
//
//	Given Klarna carries out the Acquiring Partner's next authorize, but (the connection drops before the answer|its answer is cut off)
//
// Klarna authorizes as asked, then closes the connection without an answer, or after part of it
// (with the whole Content-Length promised): the answer is lost, what Klarna did is not.
//
//	Given Klarna does not answer the Acquiring Partner's next authorize in time
//
// Klarna holds the Acquiring Partner's next authorize without answering, longer than the Acquiring
// Partner waits (three times the in-process one's attempt timeout; against an Acquiring Partner the
// suite did not start, the mock's default of 60 s, shortened by its write timeout), then closes the
// connection; nothing is authorized.
//
//	Given Klarna stops answering authorizes
//
// Klarna holds every authorize of the Acquiring Partner like the step before, until Klarna is back
// to normal.
//
//	Given the Partner charged the customer's token (\d+\.\d{2}) ([A-Z]{3}) for a subscription renewal, and Klarna approved it
//
// The When step charging the customer's saved token without the customer (captured later), then the
// Then step that the charge is approved at once.
//
//	Given Klarna already recorded (\d+) captures on the payment's transaction
//
// That many captures of 0.01 each are made at Klarna on the transaction of the last session or
// charge, directly with the Acquiring Partner's credentials and not through it, as another system
// of the Acquiring Partner's might have.
//
// # When steps
//
//	When the Partner opens a payment session saving Klarna for (on-demand|subscription) use (with a purchase of (\d+\.\d{2}) ([A-Z]{3})|without a purchase)( with an Idempotency-Key)?
//
// The Partner asks the Acquiring Partner for a payment session (POST /v1/sessions) asking for a
// customer token of that usage, with a purchase of the amount (one line item) or without one, in
// the checkout's hand-over mode, with the checkout's Klarna Network data and session token and, if
// said, an Idempotency-Key. The answer must follow contracts/acquirer.yaml (partner-api-contract),
// and the authorizes the Acquiring Partner sent Klarna for it must follow every rule of the initial
// authorize: idempotency-key, network-data-unaltered, network-session-token-unaltered,
// customer-token-scope, step-up-when-present, forward-purchase.
//
//	When the Partner charges the customer's token for (\d+\.\d{2}) ([A-Z]{3}) with the customer present( with an Idempotency-Key)?
//
// The Partner charges the customer's saved token (POST /v1/charges) with the customer present, in
// the checkout's hand-over mode. The answer and the authorizes are checked as for a session, with
// charge-klarna-customer-token instead of customer-token-scope.
//
//	When the Partner charges the customer's token for (\d+\.\d{2}) ([A-Z]{3}) for a subscription renewal, the customer not present( with an Idempotency-Key)?
//
// The Partner charges the customer's saved token without the customer, with the subscription in
// supplementary_purchase_data, checked as for a customer-present charge, with
// no-step-up-when-not-present and subscription-data instead of step-up-when-present.
//
//	When the Partner retries that request with the same Idempotency-Key
//
// The Partner sends its last session or charge again, body and Idempotency-Key unchanged, as after
// a timeout.
//
//	When the Partner sends a different payment session with the same Idempotency-Key
//
// The Partner opens another payment session (42.00 EUR, on-demand token) under the Idempotency-Key
// of its last request.
//
//	When the Partner asks Klarna directly how to present Klarna for (\d+\.\d{2}) ([A-Z]{3})(, with the customer's Klarna customer token)?
//
// The Partner asks Klarna itself, as Klarna's SDK would, for the payment presentation of the
// amount, with the checkout's network session token and, if said, the customer's Klarna customer
// token.
//
//	When the Partner asks the Acquiring Partner for the payment methods for (\d+\.\d{2}) ([A-Z]{3})(, with the Acquiring Partner's customer token)?
//
// The Partner asks the Acquiring Partner for its payment methods (POST /v1/payment-methods) for the
// amount, with the checkout's Klarna Network data and session token and, if said, the customer's
// saved token.
//
//	When someone opens a payment session without a Partner API key
//
// A payment session of 25.00 EUR is sent without an Authorization header.
//
//	When the Partner opens a payment session with (.+)
//
// The Partner opens a payment session of 25.00 EUR (on-demand token) with one thing wrong, one of:
// "an amount of zero", "neither an amount nor a customer token", "an unknown hand-over mode",
// "redirect mode but no return URL", "a field the API does not know", "a subscription token but no
// subscription", "a currency that is not a currency code".
//
//	When the Partner opens a payment session whose line items do not add up to the amount
//
// The Partner opens a payment session of 25.00 EUR whose one line item is 20.00 EUR, which only
// Klarna refuses.
//
//	When the Partner charges a customer token the Acquiring Partner never issued
//
// The Partner charges 9.99 EUR, without the customer, to a customer token the Acquiring Partner
// never issued.
//
//	When the Partner charges the other Partner's customer token
//
// The Partner charges 9.99 EUR to the token another Partner's customer saved (with the customer
// present when it is an on-demand token).
//
//	When the Partner charges the customer's subscription token with the customer present
//
// The Partner charges 45.00 EUR to the customer's saved subscription token with the customer
// present.
//
//	When the Partner charges the customer's on-demand token without the customer
//
// The Partner charges 9.99 EUR to the customer's saved on-demand token without the customer.
//
//	When the customer (opens|approves the purchase in|backs out of|abandons) Klarna's Purchase Journey
//
// The customer acts in the Purchase Journey of the last session or charge, through the mock's
// control API.
//
//	When Klarna declines the customer in the Purchase Journey
//
// Klarna declines the customer in the Purchase Journey of the last session or charge.
//
//	When the Payment Request is canceled at Klarna
//
// The Payment Request of the last session or charge is canceled through Klarna's API, as its
// Partner would.
//
//	When (\d+) (minutes?|hours?) pass(?:es)?
//
// The scenario's clock at the mock (its tenant's: the Acquiring Partner's key's; no other tenant's
// clock moves) moves on by that much, once the webhooks due now have been attempted. @clock.
//
//	When Klarna's webhooks reach the Acquiring Partner again
//
// Klarna's webhooks reach the Acquiring Partner again. @interception.
//
//	When Klarna retries its webhooks
//
// The scenario's clock at the mock walks Klarna's retry schedule (+10 s, +2 min, +15 min, +3 h,
// ...) until the completion of the last Purchase Journey has reached the Acquiring Partner.
// @interception, @clock.
//
//	When someone posts the Acquiring Partner a Klarna webhook with a wrong signature, saying the Purchase Journey was completed
//
// A completion webhook about the last Payment Request, signed with a secret that is not Klarna's,
// is posted to the Acquiring Partner's Klarna webhook listener.
//
//	When Klarna delivers the completion webhook again
//
// The completion webhook the Acquiring Partner took from Klarna is posted to it again, unchanged.
// @interception.
//
//	When Klarna is back to normal
//
// The faults the scenario made are removed: Klarna answers as usual again.
//
//	When Klarna delivers the completion webhook (twice|with a bad signature)
//
// The mock sends the Acquiring Partner's webhook the last Payment Request's latest event (its
// completion) again: twice in a row under its own event id, or once under a new event id with a
// Klarna-Signature that does not verify (POST /mock/v1/webhooks/{webhook_id}/send, variants
// duplicate and bad_signature), and waits until the Acquiring Partner answered every delivery.
// Skipped when the suite cannot tell which webhook at the mock is the Acquiring Partner's.
//
//	When Klarna delivers an earlier webhook of the Payment Request after its completion
//
// The mock sends the Acquiring Partner's webhook the last Payment Request's completion and then the
// event before it, with their own event ids (variant out_of_order), and waits for the answers.
//
//	When the Partner captures (\d+\.\d{2}) ([A-Z]{3}) of the payment
//
// The Partner captures that amount of the last session or charge (POST .../captures, with an
// Idempotency-Key). When the Acquiring Partner accepts it, Klarna must have received the capture of
// that amount on the payment's transaction (forward-operation).
//
//	When the Partner captures what remains of the payment
//
// The Partner captures the rest of the last session or charge (POST .../captures without an
// amount), checked as the capture of an amount.
//
//	When the Partner refunds (\d+\.\d{2}) ([A-Z]{3}) of the payment
//
// The Partner refunds that amount of what was captured of the last session or charge (POST
// .../refunds), checked as a capture is.
//
//	When the Partner releases what remains authorized of the payment
//
// The Partner releases the rest of the authorization of the last session or charge (POST
// .../release), after which nothing more can be captured; Klarna must have received the void of the
// payment's transaction (forward-operation).
//
// # Then steps
//
//	Then the Partner is asked to send the customer to Klarna's Purchase Journey
//
// The last session or charge is REQUIRES_ACTION with a payment_request_id and, in redirect mode, an
// absolute payment_request_url (report-klarna-outcome).
//
//	Then the (payment session|charge) is approved at once(, with both customer tokens)?
//
// The last session or charge is COMPLETED, with a payment_transaction_id when it has a purchase.
// With both customer tokens: the Acquiring Partner's and Klarna's, Klarna's being one Klarna issued
// with the scope of the usage (both-customer-tokens, customer-token-scope); it becomes the
// customer's saved token.
//
//	Then the (payment session|charge) is declined, because "([A-Z_]+)"
//
// The last session or charge is DECLINED with that decline_reason, and sends the customer to no
// Purchase Journey (report-klarna-outcome).
//
//	Then the charge is not completed
//
// The last charge is neither COMPLETED nor REQUIRES_ACTION (report-klarna-outcome).
//
//	Then no customer token was issued
//
// The last session or charge carries no customer token, and the Partner was not told token.created
// about it.
//
//	Then the Partner is told the order is completed(, with both customer tokens)?
//
// Within the wait timeout the Partner is told order.completed about the last session or charge:
// status COMPLETED, a payment_transaction_id when it has a purchase, and, if said, both customer
// tokens as when approved at once (tell-partner). After a Purchase Journey the final authorize of a
// purchase is checked too (final-authorize), and for a token without a purchase that none was sent
// (token-from-completed-request).
//
//	Then the Partner is told the payment (was declined|expired|was canceled|failed)
//
// Within the wait timeout the Partner is told payment.declined about the last session or charge,
// with status DECLINED, EXPIRED, CANCELED, or for a failure FAILED or EXPIRED, and never
// order.completed (tell-partner).
//
//	Then the Partner is told the order is completed only once
//
// After a moment for late webhooks, the Partner was told order.completed about the last payment
// under exactly one event id (partner-told-once).
//
//	Then the payment still waits for the customer
//
// The Acquiring Partner still reads the last session or charge as REQUIRES_ACTION and, after a
// moment for late webhooks, has told the Partner nothing about it.
//
//	Then no payment was authorized, only the customer token saved
//
// The Acquiring Partner reads the last session without a payment_transaction_id.
//
//	Then Klarna is (shown|preselected|hidden) in the payment selector
//
// The last presentation the Partner asked for says SHOW_KLARNA, PRESELECT_KLARNA (preselected) or
// HIDE_KLARNA (or no Klarna payment method at all).
//
//	Then the Acquiring Partner returns the same (payment session|charge)
//
// The Partner's retry was answered 200 or 201 with the same session or charge
// (one-authorize-per-payment).
//
//	Then the Acquiring Partner refuses it as invalid(?:, naming "([^"]+)")?
//
// The last request was refused with 400 INVALID_REQUEST naming the offending field, the one given
// if any (refuse-bad-input).
//
//	Then the Acquiring Partner refuses it as (unauthorized|a conflict|not found|forbidden)
//
// The last request was refused with 401 UNAUTHORIZED, 409 IDEMPOTENCY_CONFLICT, 404 NOT_FOUND or
// 403 FORBIDDEN (refuse-bad-input).
//
//	Then the Acquiring Partner passes on Klarna's refusal
//
// The last request was answered 422 KLARNA_REJECTED with Klarna's 400 in klarna_error
// (refuse-bad-input).
//
//	Then the Acquiring Partner refuses the webhook
//
// The Acquiring Partner answered the webhook the suite posted with a 4xx status
// (verify-klarna-signature).
//
//	Then the Acquiring Partner accepts the duplicate webhook
//
// The Acquiring Partner answered the repeated webhook with a 2xx status (partner-told-once).
//
//	Then the Acquiring Partner forwarded the Klarna Network data to Klarna unaltered
//
// The authorizes for the last session or charge carried the Partner's Klarna Network data byte for
// byte in klarna_network_data (network-data-unaltered).
//
//	Then the Acquiring Partner forwarded the Klarna Network Session Token to Klarna unaltered
//
// The newest call that carried the Partner's network session token reached Klarna with it in
// Klarna-Network-Session-Token: the authorize of a session or charge, or the payment presentation
// behind the payment methods (network-session-token-unaltered).
//
//	Then the Acquiring Partner asked Klarna for a customer token with the scope for (on-demand|subscription) use
//
// The authorizes for the last session asked for a customer token with the one scope of that usage:
// payment:customer_present for on-demand, payment:customer_not_present for subscription
// (customer-token-scope).
//
//	Then the Acquiring Partner let Klarna step up, because the customer is present
//
// The authorizes for the last session or charge carried a step_up_config whose method is HANDOVER
// in redirect mode, SDK in SDK mode (step-up-when-present).
//
//	Then the Acquiring Partner did not let Klarna step up, because the customer is not present
//
// The authorizes for the last charge carried no step_up_config (no-step-up-when-not-present).
//
//	Then the Acquiring Partner charged the Klarna customer token issued for the customer
//
// The authorizes for the last charge sent, in Klarna-Customer-Token, the Klarna token behind the
// Partner's token (charge-klarna-customer-token).
//
//	Then the Acquiring Partner sent Klarna the subscription
//
// The authorizes for the last charge without the customer carried
// supplementary_purchase_data.subscriptions (subscription-data).
//
//	Then the Acquiring Partner finalized the payment with Klarna within the token's window
//
// Klarna approved a final authorize with the network session token of the completed Purchase
// Journey within 60 minutes of the completion (final-authorize).
//
//	Then the Acquiring Partner did not finalize the payment
//
// After a moment, Klarna has received no authorize for the last session or charge since it answered
// the Partner (no-final-authorize-without-completion).
//
//	Then Klarna authorized no payment after the token's window
//
// Klarna approved no final authorize of the completed Purchase Journey 60 minutes or more after its
// completion (final-authorize).
//
//	Then the Acquiring Partner asked Klarna for the presentation with the Klarna customer token issued for the customer
//
// While answering the last payment-methods call, the Acquiring Partner asked Klarna for the payment
// presentation with the customer's Klarna token in Klarna-Customer-Token
// (presentation-personalised).
//
//	Then the Acquiring Partner sent an idempotency key with every request to Klarna
//
// The Acquiring Partner sent Klarna at least one POST in the scenario, and every one carried a
// Klarna-Idempotency-Key (idempotency-key).
//
//	Then Klarna was asked to authorize it only once
//
// Klarna received authorizes for the last session or charge, retries included, under one
// Klarna-Idempotency-Key (one-authorize-per-payment).
//
//	Then Klarna was not asked to authorize anything
//
// Klarna has received no authorize since the last request (refuse-bad-input-before-klarna).
//
//	Then the Acquiring Partner retried the authorize with the same Klarna-Idempotency-Key
//
// Klarna received two or more authorizes for the last session or charge, all under one
// Klarna-Idempotency-Key (retry-same-idempotency-key).
//
//	Then every webhook the Partner received was signed by the Acquiring Partner
//
// The Partner received at least one webhook, and every one carries a valid AP-Signature
// (partner-webhook-signed).
//
//	Then the Acquiring Partner retried the failed webhooks with the same event and body
//
// Every webhook the Partner's endpoint failed arrived again within the wait timeout with the same
// event id and body (partner-webhook-retried).
//
//	Then the Acquiring Partner did not retry sooner than the (\d+) seconds? Klarna asked for
//
// If the Acquiring Partner sent the last session's or charge's authorize more than once, the
// Partner waited at least that long for its answer (honour-retry-after).
//
//	Then the Acquiring Partner tells the Partner that Klarna (is unavailable|did not answer in time)(?:, to retry after (\d+) seconds)?
//
// The last session or charge was answered 503 KLARNA_UNAVAILABLE, or 504 KLARNA_TIMEOUT, before the
// Partner gave up waiting (30 s), and, if said, with a Retry-After of at most that many seconds,
// passing on Klarna's (give-up-cleanly).
//
//	Then the Partner's retry gets the (payment session|charge)
//
// The Partner's last retry with the same Idempotency-Key was answered 200 or 201 with the session
// or charge, which later steps look at (give-up-cleanly).
//
//	Then the Acquiring Partner acknowledged every delivery
//
// Every delivery of the last webhook the mock sent was answered 2xx (partner-told-once;
// out-of-order-webhook for an earlier event).
//
//	Then the Acquiring Partner refused the badly signed delivery
//
// The delivery with the bad signature was answered 4xx (verify-klarna-signature).
//
//	Then the (payment session|charge) is still completed
//
// The Acquiring Partner reads the last session or charge as COMPLETED (out-of-order-webhook).
//
//	Then the Partner reads the payment session as completed, with both customer tokens
//
// The Partner reads the last session (GET /v1/sessions/{id}) and finds it COMPLETED with both
// customer tokens, as when approved at once, even though Klarna's webhook has not reached the
// Acquiring Partner: it reads Klarna's Payment Request when its webhook is late
// (report-klarna-outcome, both-customer-tokens). After a Purchase Journey the final authorize, or
// for a token without a purchase its absence, is checked too (final-authorize,
// token-from-completed-request).
//
//	Then the Acquiring Partner took the customer token from Klarna's completed Payment Request, without a final authorize
//
// The last session, without a purchase, got its customer token from the completed Payment Request,
// and Klarna received no authorize with that request's network session token
// (token-from-completed-request).
//
//	Then the payment shows (\d+\.\d{2}) ([A-Z]{3}) captured and (\d+\.\d{2}) ([A-Z]{3}) refunded
//
// The Acquiring Partner accepted the Partner's last capture, refund or release, and its answer
// shows the payment with these captured_amount and refunded_amount (report-klarna-outcome).
//
//	Then Klarna holds the payment's transaction as (AUTHORIZED|COMPLETED|CLOSED), with (\d+) captures? and (\d+) refunds?
//
// Klarna's payment transaction of the last session or charge, read from Klarna, is in that state
// with that many captures and refunds (forward-operation).
//
//	Then the Acquiring Partner refuses the (capture|refund) as more than the payment allows, without asking Klarna
//
// The Partner's last capture or refund was refused with 400 INVALID_REQUEST naming amount
// (refuse-bad-input), and Klarna received no capture or refund of that amount
// (refuse-bad-input-before-klarna).
//
//	Then the Acquiring Partner refuses the (capture|refund|release), as nothing remains to act on
//
// The Partner's last capture, refund or release was refused with 409 INVALID_STATE
// (refuse-bad-input).
//
//	Then the Acquiring Partner passes on Klarna's refusal past its limits
//
// The Partner's last capture, refund or release was answered 422 KLARNA_REJECTED with Klarna's 403
// in klarna_error (report-klarna-outcome).
package steps
