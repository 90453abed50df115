@token-creation @step-up @late-webhook
Feature: A late webhook: the Partner reading the session gets the outcome
  A session that saves Klarna without a purchase needs no final authorize: Klarna hands the
  customer token over in the completed Payment Request, in its webhook and when the request is
  read ("Token creation - Monitor the state": "No action required if only customer_token
  creation was requested"). Klarna names reading the Payment Request beside its webhooks, so
  when the webhook is late the Acquiring Partner reads the request as the Partner reads the
  session, and the Partner is not kept waiting: a token saved without a purchase needs nothing
  more, a purchase is finalized there and then. The late webhook then changes nothing.

  Background:
    Given a Partner selling through the Acquiring Partner
    And the Partner hands the customer over to Klarna with Klarna's SDK

  @interception @clock
  Scenario: Klarna's webhook is late, and the Partner reading the session gets the token
    Given Klarna's webhooks cannot reach the Acquiring Partner
    When the Partner opens a payment session saving Klarna for on-demand use without a purchase
    And the customer approves the purchase in Klarna's Purchase Journey
    Then the Partner reads the payment session as completed, with both customer tokens
    And the Acquiring Partner took the customer token from Klarna's completed Payment Request, without a final authorize
    When Klarna's webhooks reach the Acquiring Partner again
    And Klarna retries its webhooks
    Then the Partner is told the order is completed only once

  @interception @clock
  Scenario: Klarna's webhook is late, and the Partner reading the session finalizes the purchase
    Given Klarna's webhooks cannot reach the Acquiring Partner
    When the Partner opens a payment session saving Klarna for on-demand use with a purchase of 12.00 EUR
    And the customer approves the purchase in Klarna's Purchase Journey
    Then the Partner reads the payment session as completed, with both customer tokens
    And the Acquiring Partner finalized the payment with Klarna within the token's window
    When Klarna's webhooks reach the Acquiring Partner again
    And Klarna retries its webhooks
    Then the Partner is told the order is completed only once
