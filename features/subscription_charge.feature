@subscription
Feature: Subscription charge, the customer not present (diagram 3)
  A subscription renewal falls due. The Partner charges the Acquiring Partner's customer token
  without the customer; the Acquiring Partner authorizes with the Klarna customer token, the
  subscription, and no step_up_config. Nobody can be asked to confirm, so Klarna approves or
  declines, never steps up; the Partner notifies the customer either way.

  Background:
    Given a Partner selling through the Acquiring Partner
    And the customer saved Klarna for subscription use

  @approved
  Scenario: A subscription renewal is charged
    When the Partner charges the customer's token for 9.99 EUR for a subscription renewal, the customer not present
    Then the charge is approved at once
    And the Acquiring Partner did not let Klarna step up, because the customer is not present
    And the Acquiring Partner charged the Klarna customer token issued for the customer
    And the Acquiring Partner sent Klarna the subscription

  @declined
  Scenario: Klarna declines a subscription renewal
    Given Klarna's risk assessment will decline the next purchase
    When the Partner charges the customer's token for 9.99 EUR for a subscription renewal, the customer not present
    Then the charge is declined, because "RISK_REJECTED"

  @declined @no-step-up
  Scenario: A renewal Klarna would want the customer to confirm is declined, never stepped up
    Given Klarna will ask the customer to confirm the next purchase
    When the Partner charges the customer's token for 9.99 EUR for a subscription renewal, the customer not present
    Then the charge is declined, because "CUSTOMER_NOT_PRESENT"
    And the Acquiring Partner did not let Klarna step up, because the customer is not present

  @declined @revoked
  Scenario: A renewal with a customer token the customer revoked at Klarna fails
    Given the customer revoked the Klarna customer token
    When the Partner charges the customer's token for 9.99 EUR for a subscription renewal, the customer not present
    Then the charge is not completed
