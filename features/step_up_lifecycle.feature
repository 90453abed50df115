@step-up @lifecycle @token-creation
Feature: Step-up lifecycle
  Once Klarna asked for its Purchase Journey, the customer may complete it, back out, be
  declined, or never finish; the Partner may cancel it at Klarna. The Acquiring Partner follows
  Klarna's webhooks, finalizes only a completed journey, within the 60 minutes its Klarna
  Network Session Token is valid, and tells the Partner how every journey ended.

  Background:
    Given a Partner selling through the Acquiring Partner
    And the Partner opened a payment session saving Klarna for on-demand use with a purchase of 25.00 EUR, and Klarna asked for the Purchase Journey

  @back-out
  Scenario: The customer backs out to the Partner's checkout, then comes back and approves
    When the customer opens Klarna's Purchase Journey
    And the customer backs out of Klarna's Purchase Journey
    Then the payment still waits for the customer
    When the customer approves the purchase in Klarna's Purchase Journey
    Then the Partner is told the order is completed, with both customer tokens
    And the Acquiring Partner finalized the payment with Klarna within the token's window

  @decline-in-journey
  Scenario: Klarna declines the customer in the Purchase Journey
    When Klarna declines the customer in the Purchase Journey
    Then the Partner is told the payment was declined
    And no customer token was issued
    And the Acquiring Partner did not finalize the payment

  @cancel
  Scenario: The Payment Request is canceled at Klarna
    When the Payment Request is canceled at Klarna
    Then the Partner is told the payment was canceled
    And the Acquiring Partner did not finalize the payment

  @expiry @clock
  Scenario: The customer abandons the Purchase Journey and it expires
    When the customer opens Klarna's Purchase Journey
    And the customer abandons Klarna's Purchase Journey
    And 3 hours pass
    Then the Partner is told the payment expired
    And the Acquiring Partner did not finalize the payment

  @expiry @clock
  Scenario: The customer never opens the Purchase Journey and it expires
    When 3 hours pass
    Then the Partner is told the payment expired
    And no customer token was issued

  @token-window @clock @interception
  Scenario: Klarna's completion reaches the Acquiring Partner only after the token's 60-minute window
    Given Klarna's webhooks cannot reach the Acquiring Partner
    When the customer approves the purchase in Klarna's Purchase Journey
    And 61 minutes pass
    And Klarna's webhooks reach the Acquiring Partner again
    And Klarna retries its webhooks
    Then the Partner is told the payment failed
    And Klarna authorized no payment after the token's window
