@idempotency
Feature: Idempotency
  Networks fail, so every call is retried. A Partner's retry with the same Idempotency-Key gets
  the same payment session or charge, and Klarna is asked once; the Acquiring Partner sends a
  Klarna-Idempotency-Key with every POST to Klarna, the same one on each retry of a call.

  Background:
    Given a Partner selling through the Acquiring Partner

  @token-creation
  Scenario: A Partner's retry gets the same payment session, and Klarna is asked once
    When the Partner opens a payment session saving Klarna for on-demand use with a purchase of 25.00 EUR with an Idempotency-Key
    And the Partner retries that request with the same Idempotency-Key
    Then the Acquiring Partner returns the same payment session
    And Klarna was asked to authorize it only once

  @subscription
  Scenario: A Partner's retry of a subscription renewal charges once
    Given the customer saved Klarna for subscription use
    When the Partner charges the customer's token for 9.99 EUR for a subscription renewal, the customer not present with an Idempotency-Key
    And the Partner retries that request with the same Idempotency-Key
    Then the Acquiring Partner returns the same charge
    And Klarna was asked to authorize it only once

  @token-creation
  Scenario: An Idempotency-Key reused for another request is refused
    When the Partner opens a payment session saving Klarna for on-demand use with a purchase of 25.00 EUR with an Idempotency-Key
    And the Partner sends a different payment session with the same Idempotency-Key
    Then the Acquiring Partner refuses it as a conflict

  @token-creation @step-up
  Scenario: Every request the Acquiring Partner sends Klarna carries an idempotency key
    Given the Partner opened a payment session saving Klarna for on-demand use with a purchase of 25.00 EUR, and Klarna asked for the Purchase Journey
    When the customer approves the purchase in Klarna's Purchase Journey
    Then the Partner is told the order is completed, with both customer tokens
    And the Acquiring Partner sent an idempotency key with every request to Klarna

  @token-creation @interception
  Scenario: A Klarna call whose answer was lost is retried under the same Klarna-Idempotency-Key
    Given Klarna's answer to the next authorize is lost on the way to the Acquiring Partner
    When the Partner opens a payment session saving Klarna for on-demand use with a purchase of 25.00 EUR
    Then the Partner is asked to send the customer to Klarna's Purchase Journey
    And the Acquiring Partner retried the authorize with the same Klarna-Idempotency-Key
