@interoperability
Feature: Interoperability data forwarding
  The Partner shares Klarna Network data points with the Acquiring Partner: the Klarna Network
  Session Token (from a Klarna Express Checkout session) and the Klarna Network data, a
  serialized JSON string. The Acquiring Partner forwards both to Klarna unaltered, the token in
  the Klarna-Network-Session-Token header and the data in the authorize body's
  klarna_network_data, byte for byte, whatever name the Partner used for them.

  Background:
    Given a Partner selling through the Acquiring Partner
    And the Partner has Klarna Network data for the checkout

  @token-creation @approved @kec
  Scenario: A payment session forwards the session token and the data
    Given the customer is already identified by Klarna in the Partner's checkout
    When the Partner opens a payment session saving Klarna for subscription use with a purchase of 9.99 EUR
    Then the payment session is approved at once, with both customer tokens
    And the Acquiring Partner forwarded the Klarna Network data to Klarna unaltered
    And the Acquiring Partner forwarded the Klarna Network Session Token to Klarna unaltered

  @token-creation @step-up
  Scenario: A payment session that steps up forwards the data on the initial authorize
    When the Partner opens a payment session saving Klarna for on-demand use with a purchase of 25.00 EUR
    Then the Partner is asked to send the customer to Klarna's Purchase Journey
    And the Acquiring Partner forwarded the Klarna Network data to Klarna unaltered

  @customer-present
  Scenario: A one-click charge forwards the data
    Given the customer saved Klarna for on-demand use
    When the Partner charges the customer's token for 45.00 EUR with the customer present
    Then the charge is approved at once
    And the Acquiring Partner forwarded the Klarna Network data to Klarna unaltered

  @subscription
  Scenario: A subscription renewal forwards the data
    Given the customer saved Klarna for subscription use
    When the Partner charges the customer's token for 9.99 EUR for a subscription renewal, the customer not present
    Then the charge is approved at once
    And the Acquiring Partner forwarded the Klarna Network data to Klarna unaltered

  @token-creation @older-names @kec
  Scenario: The data and token under their older names are forwarded the same
    Given the Partner uses the older field names for the Klarna Network data and session token
    And the customer is already identified by Klarna in the Partner's checkout
    When the Partner opens a payment session saving Klarna for on-demand use without a purchase
    Then the payment session is approved at once, with both customer tokens
    And the Acquiring Partner forwarded the Klarna Network data to Klarna unaltered
    And the Acquiring Partner forwarded the Klarna Network Session Token to Klarna unaltered
