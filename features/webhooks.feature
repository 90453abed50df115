@webhooks
Feature: Webhooks
  Klarna tells the Acquiring Partner about Purchase Journeys by signed webhooks, delivered at
  least once and retried until taken; the Acquiring Partner tells the Partner the same way. The
  Acquiring Partner refuses what Klarna did not sign, acts once on a repeated delivery, signs
  every webhook to the Partner and retries those the Partner did not take.

  Background:
    Given a Partner selling through the Acquiring Partner
    And the Partner opened a payment session saving Klarna for on-demand use with a purchase of 25.00 EUR, and Klarna asked for the Purchase Journey

  @signature @step-up
  Scenario: Every webhook to the Partner is signed
    When the customer approves the purchase in Klarna's Purchase Journey
    Then the Partner is told the order is completed, with both customer tokens
    And every webhook the Partner received was signed by the Acquiring Partner

  @signature
  Scenario: A webhook Klarna did not sign is refused
    When someone posts the Acquiring Partner a Klarna webhook with a wrong signature, saying the Purchase Journey was completed
    Then the Acquiring Partner refuses the webhook
    And the payment still waits for the customer

  @retries @step-up
  Scenario: The Acquiring Partner retries a webhook the Partner failed to take
    Given the Partner's webhook endpoint fails the next 2 deliveries
    When the customer approves the purchase in Klarna's Purchase Journey
    Then the Partner is told the order is completed, with both customer tokens
    And the Acquiring Partner retried the failed webhooks with the same event and body

  @retries @step-up @clock @interception
  Scenario: Klarna retries a webhook the Acquiring Partner could not take
    Given Klarna's webhooks cannot reach the Acquiring Partner
    When the customer approves the purchase in Klarna's Purchase Journey
    And Klarna's webhooks reach the Acquiring Partner again
    And Klarna retries its webhooks
    Then the Partner is told the order is completed, with both customer tokens
    And the Acquiring Partner finalized the payment with Klarna within the token's window

  @duplicates @step-up @interception
  Scenario: Klarna delivers the completion twice
    When the customer approves the purchase in Klarna's Purchase Journey
    Then the Partner is told the order is completed, with both customer tokens
    When Klarna delivers the completion webhook again
    Then the Acquiring Partner accepts the duplicate webhook
    And the Partner is told the order is completed only once
