@after-authorization
Feature: Captures, refunds and release after authorization
  Once Klarna authorized a purchase, the Partner captures what it ships, in full or in parts,
  refunds what comes back and releases what it will not ship, through the Acquiring Partner,
  which carries each out on Klarna's payment transaction. Klarna allows at most 200 captures,
  200 refunds and 500 operations in all on one transaction and refuses more with a 403
  ("Capture a payment transaction", "Refund payment transactions and allocation"). The Acquiring
  Partner refuses what the payment does not allow before it asks Klarna, and passes Klarna's
  refusals on.

  Background:
    Given a Partner selling through the Acquiring Partner
    And the customer saved Klarna for subscription use
    And the Partner charged the customer's token 50.00 EUR for a subscription renewal, and Klarna approved it

  @capture
  Scenario: The Partner captures the whole purchase when it ships
    When the Partner captures what remains of the payment
    Then the payment shows 50.00 EUR captured and 0.00 EUR refunded
    And Klarna holds the payment's transaction as COMPLETED, with 1 capture and 0 refunds

  @capture @partial
  Scenario: The Partner captures the purchase in two shipments
    When the Partner captures 20.00 EUR of the payment
    Then the payment shows 20.00 EUR captured and 0.00 EUR refunded
    And Klarna holds the payment's transaction as AUTHORIZED, with 1 capture and 0 refunds
    When the Partner captures 30.00 EUR of the payment
    Then the payment shows 50.00 EUR captured and 0.00 EUR refunded
    And Klarna holds the payment's transaction as COMPLETED, with 2 captures and 0 refunds

  @refund
  Scenario: The customer sends part of the purchase back
    When the Partner captures what remains of the payment
    And the Partner refunds 15.00 EUR of the payment
    Then the payment shows 50.00 EUR captured and 15.00 EUR refunded
    And Klarna holds the payment's transaction as COMPLETED, with 1 capture and 1 refund

  @capture @bad-input
  Scenario: The Acquiring Partner refuses to capture more than was authorized
    When the Partner captures 60.00 EUR of the payment
    Then the Acquiring Partner refuses the capture as more than the payment allows, without asking Klarna
    And Klarna holds the payment's transaction as AUTHORIZED, with 0 captures and 0 refunds

  @refund @bad-input
  Scenario: The Acquiring Partner refuses to refund more than was captured
    When the Partner captures 20.00 EUR of the payment
    And the Partner refunds 25.00 EUR of the payment
    Then the Acquiring Partner refuses the refund as more than the payment allows, without asking Klarna

  @release
  Scenario: The Partner releases what it will not ship
    When the Partner captures 20.00 EUR of the payment
    And the Partner releases what remains authorized of the payment
    Then the payment shows 20.00 EUR captured and 0.00 EUR refunded
    And Klarna holds the payment's transaction as COMPLETED, with 1 capture and 0 refunds
    When the Partner captures 10.00 EUR of the payment
    Then the Acquiring Partner refuses the capture, as nothing remains to act on

  @capture @limits
  Scenario: Klarna refuses a capture past its limit, and the Partner is told why
    Given Klarna already recorded 200 captures on the payment's transaction
    When the Partner captures 1.00 EUR of the payment
    Then the Acquiring Partner passes on Klarna's refusal past its limits
