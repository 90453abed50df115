@presentation
Feature: Payment presentation (all three diagrams)
  Before the customer pays, the Partner shows a payment selector with Klarna in it. It asks
  Klarna directly (Klarna's SDK), or asks the Acquiring Partner for its payment methods and the
  Acquiring Partner asks Klarna. Either way the interoperability data points are shared, and a
  known customer (a Klarna Network session, or a saved customer token: Klarna's to Klarna, the
  Acquiring Partner's to the Acquiring Partner) gets Klarna preselected.

  Background:
    Given a Partner selling through the Acquiring Partner

  @klarna-directly @token-creation
  Scenario: The Partner asks Klarna directly for a new customer
    When the Partner asks Klarna directly how to present Klarna for 118.00 USD
    Then Klarna is shown in the payment selector

  @klarna-directly @token-creation @kec
  Scenario: The Partner asks Klarna directly, sharing the customer's Klarna Network session
    Given the customer is already identified by Klarna in the Partner's checkout
    When the Partner asks Klarna directly how to present Klarna for 118.00 USD
    Then Klarna is preselected in the payment selector

  @klarna-directly @customer-present
  Scenario: The Partner asks Klarna directly with the Klarna-issued customer token
    Given the customer saved Klarna for on-demand use
    When the Partner asks Klarna directly how to present Klarna for 45.00 EUR, with the customer's Klarna customer token
    Then Klarna is preselected in the payment selector

  @via-acquirer @token-creation
  Scenario: The Partner asks the Acquiring Partner for a new customer
    When the Partner asks the Acquiring Partner for the payment methods for 118.00 USD
    Then Klarna is shown in the payment selector

  @via-acquirer @token-creation @kec
  Scenario: The Partner asks the Acquiring Partner, sharing the customer's Klarna Network session
    Given the customer is already identified by Klarna in the Partner's checkout
    When the Partner asks the Acquiring Partner for the payment methods for 118.00 USD
    Then Klarna is preselected in the payment selector
    And the Acquiring Partner forwarded the Klarna Network Session Token to Klarna unaltered

  @via-acquirer @customer-present
  Scenario: The Partner asks the Acquiring Partner with the Acquiring Partner's customer token
    Given the customer saved Klarna for on-demand use
    When the Partner asks the Acquiring Partner for the payment methods for 45.00 EUR, with the Acquiring Partner's customer token
    Then Klarna is preselected in the payment selector
    And the Acquiring Partner asked Klarna for the presentation with the Klarna customer token issued for the customer

  @via-acquirer @hidden
  Scenario: Klarna is left out where it is not offered
    When the Partner asks the Acquiring Partner for the payment methods for 100.00 JPY
    Then Klarna is hidden in the payment selector
