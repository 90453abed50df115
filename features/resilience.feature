@resilience
Feature: Resilience
  Klarna rate limits, is briefly unavailable, loses answers and times out, and its webhooks
  arrive twice, out of order, or forged. The Acquiring Partner retries what is worth retrying
  under the same Klarna-Idempotency-Key, never sooner than Klarna's Retry-After, tells the
  Partner in time with a temporary error when Klarna stays away, and completes the payment when
  the Partner retries. Its webhook listener acts once on a repeated delivery, never moves a
  payment back, and refuses what Klarna did not sign. The faults are the klarna-mock's
  (POST /mock/v1/faults) and hit the scenario's tenant alone.

  Background:
    Given a Partner selling through the Acquiring Partner

  @rate-limit @token-creation
  Scenario: Klarna rate limits the Acquiring Partner, which waits as asked and retries
    Given Klarna rate limits the Acquiring Partner's next authorize, asking it to wait 1 second
    When the Partner opens a payment session saving Klarna for on-demand use with a purchase of 25.00 EUR
    Then the Partner is asked to send the customer to Klarna's Purchase Journey
    And the Acquiring Partner retried the authorize with the same Klarna-Idempotency-Key
    And the Acquiring Partner did not retry sooner than the 1 second Klarna asked for

  @rate-limit @token-creation
  Scenario: Klarna asks for a longer wait than the Partner can be kept waiting
    Given Klarna rate limits the Acquiring Partner's authorizes, asking it to wait 60 seconds
    When the Partner opens a payment session saving Klarna for on-demand use with a purchase of 25.00 EUR with an Idempotency-Key
    Then the Acquiring Partner did not retry sooner than the 60 seconds Klarna asked for
    And the Acquiring Partner tells the Partner that Klarna is unavailable, to retry after 60 seconds

  @unavailable @token-creation
  Scenario: Klarna is briefly unavailable, and the Acquiring Partner's retries get through
    Given Klarna answers the Acquiring Partner's next 2 authorizes with 503
    When the Partner opens a payment session saving Klarna for on-demand use with a purchase of 25.00 EUR
    Then the Partner is asked to send the customer to Klarna's Purchase Journey
    And the Acquiring Partner retried the authorize with the same Klarna-Idempotency-Key

  @unavailable @subscription
  Scenario: Klarna stays unavailable: the Partner is told to retry, and its retry charges once
    Given the customer saved Klarna for subscription use
    And Klarna answers every authorize with 500
    When the Partner charges the customer's token for 9.99 EUR for a subscription renewal, the customer not present with an Idempotency-Key
    Then the Acquiring Partner tells the Partner that Klarna is unavailable
    When Klarna is back to normal
    And the Partner retries that request with the same Idempotency-Key
    Then the Partner's retry gets the charge
    And the charge is approved at once
    And Klarna was asked to authorize it only once

  @unavailable @step-up
  Scenario: Klarna is briefly unavailable for the final authorize
    Given the Partner opened a payment session saving Klarna for on-demand use with a purchase of 25.00 EUR, and Klarna asked for the Purchase Journey
    And Klarna answers the Acquiring Partner's next 2 authorizes with 502
    When the customer approves the purchase in Klarna's Purchase Journey
    Then the Partner is told the order is completed, with both customer tokens
    And the Acquiring Partner finalized the payment with Klarna within the token's window

  @answer-lost @token-creation
  Scenario Outline: Klarna's answer is lost after Klarna acted, and the retry under the same key gets it
    Given Klarna carries out the Acquiring Partner's next authorize, but <what happens>
    When the Partner opens a payment session saving Klarna for on-demand use with a purchase of 25.00 EUR
    Then the Partner is asked to send the customer to Klarna's Purchase Journey
    And the Acquiring Partner retried the authorize with the same Klarna-Idempotency-Key
    And Klarna was asked to authorize it only once

    Examples:
      | what happens                             |
      | the connection drops before the answer   |
      | its answer is cut off                    |

  @timeout @token-creation
  Scenario: Klarna does not answer in time once, and the Acquiring Partner tries again
    Given Klarna does not answer the Acquiring Partner's next authorize in time
    When the Partner opens a payment session saving Klarna for on-demand use with a purchase of 25.00 EUR
    Then the Partner is asked to send the customer to Klarna's Purchase Journey
    And the Acquiring Partner retried the authorize with the same Klarna-Idempotency-Key

  @timeout @token-creation
  Scenario: Klarna stops answering: the Partner is told in time, and its retry completes the session
    Given Klarna stops answering authorizes
    When the Partner opens a payment session saving Klarna for on-demand use with a purchase of 25.00 EUR with an Idempotency-Key
    Then the Acquiring Partner tells the Partner that Klarna did not answer in time
    When Klarna is back to normal
    And the Partner retries that request with the same Idempotency-Key
    Then the Partner's retry gets the payment session
    And the Partner is asked to send the customer to Klarna's Purchase Journey
    And Klarna was asked to authorize it only once

  @hostile-webhooks @duplicates @step-up
  Scenario: Klarna delivers the completion twice in a row
    Given the Partner opened a payment session saving Klarna for on-demand use with a purchase of 25.00 EUR, and Klarna asked for the Purchase Journey
    When the customer approves the purchase in Klarna's Purchase Journey
    Then the Partner is told the order is completed, with both customer tokens
    When Klarna delivers the completion webhook twice
    Then the Acquiring Partner acknowledged every delivery
    And the Partner is told the order is completed only once

  @hostile-webhooks @out-of-order @step-up
  Scenario: An earlier webhook arrives after the completion
    Given the Partner opened a payment session saving Klarna for on-demand use with a purchase of 25.00 EUR, and Klarna asked for the Purchase Journey
    When the customer approves the purchase in Klarna's Purchase Journey
    Then the Partner is told the order is completed, with both customer tokens
    When Klarna delivers an earlier webhook of the Payment Request after its completion
    Then the Acquiring Partner acknowledged every delivery
    And the payment session is still completed
    And the Partner is told the order is completed only once

  @hostile-webhooks @signature @step-up
  Scenario: A completion Klarna did not sign is refused
    Given the Partner opened a payment session saving Klarna for on-demand use with a purchase of 25.00 EUR, and Klarna asked for the Purchase Journey
    When the customer approves the purchase in Klarna's Purchase Journey
    Then the Partner is told the order is completed, with both customer tokens
    When Klarna delivers the completion webhook with a bad signature
    Then the Acquiring Partner refused the badly signed delivery
    And the Partner is told the order is completed only once
