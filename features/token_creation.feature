@token-creation
Feature: Token creation (diagram 1)
  A customer saves Klarna at the Partner's checkout, with or without a first purchase. The
  Partner opens a payment session with the Acquiring Partner asking for a customer token and
  shares its interoperability data; the Acquiring Partner authorizes with Klarna asking for the
  token. Klarna approves at once, declines, or asks the customer to consent in its Purchase
  Journey (step-up). After a step-up, Klarna's webhook tells the Acquiring Partner the journey
  completed; the Acquiring Partner finalizes a purchase (a token saved without one needs no final
  authorize: it comes with the completed Payment Request) and tells the Partner by webhook, with
  the Klarna-issued and its own customer token.

  Background:
    Given a Partner selling through the Acquiring Partner

  @step-up @redirect
  Scenario: The customer consents in Klarna's Purchase Journey after a redirect
    Given the Partner hands the customer over to Klarna by redirect
    When the Partner opens a payment session saving Klarna for subscription use with a purchase of 9.99 EUR
    Then the Partner is asked to send the customer to Klarna's Purchase Journey
    And the Acquiring Partner asked Klarna for a customer token with the scope for subscription use
    And the Acquiring Partner let Klarna step up, because the customer is present
    When the customer approves the purchase in Klarna's Purchase Journey
    Then the Partner is told the order is completed, with both customer tokens
    And the Acquiring Partner finalized the payment with Klarna within the token's window

  @step-up @sdk
  Scenario: The customer consents in Klarna's Purchase Journey started with Klarna's SDK, without a purchase
    Given the Partner hands the customer over to Klarna with Klarna's SDK
    When the Partner opens a payment session saving Klarna for on-demand use without a purchase
    Then the Partner is asked to send the customer to Klarna's Purchase Journey
    And the Acquiring Partner asked Klarna for a customer token with the scope for on-demand use
    When the customer approves the purchase in Klarna's Purchase Journey
    Then the Partner is told the order is completed, with both customer tokens
    And no payment was authorized, only the customer token saved
    And the Acquiring Partner took the customer token from Klarna's completed Payment Request, without a final authorize

  @approved @kec
  Scenario: Klarna approves at once a customer it already identified in the Partner's checkout
    Given the customer is already identified by Klarna in the Partner's checkout
    When the Partner opens a payment session saving Klarna for subscription use with a purchase of 9.99 EUR
    Then the payment session is approved at once, with both customer tokens
    And the Acquiring Partner forwarded the Klarna Network Session Token to Klarna unaltered
    And the Acquiring Partner asked Klarna for a customer token with the scope for subscription use

  @declined
  Scenario: Klarna declines the customer, and the Partner shows the checkout again
    Given Klarna's risk assessment will decline the customer
    When the Partner opens a payment session saving Klarna for on-demand use with a purchase of 49.00 EUR
    Then the payment session is declined, because "RISK_REJECTED"
    And no customer token was issued
