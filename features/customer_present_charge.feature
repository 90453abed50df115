@customer-present
Feature: Customer-present token charge (diagram 2)
  A returning customer pays with the Klarna method saved earlier (one-click, on-demand). The
  Partner charges the Acquiring Partner's customer token; the Acquiring Partner authorizes with
  the Klarna customer token behind it and a step_up_config, because the customer is there to
  confirm if Klarna asks. Klarna approves, declines, or steps up; after a step-up the Acquiring
  Partner finalizes the payment and tells the Partner by webhook.

  Background:
    Given a Partner selling through the Acquiring Partner
    And the customer saved Klarna for on-demand use

  @approved
  Scenario: A one-click purchase is approved
    When the Partner charges the customer's token for 45.00 EUR with the customer present
    Then the charge is approved at once
    And the Acquiring Partner charged the Klarna customer token issued for the customer
    And the Acquiring Partner let Klarna step up, because the customer is present

  @step-up
  Scenario Outline: Klarna asks the customer to confirm the purchase (<handover>)
    Given the Partner hands the customer over to Klarna <handover>
    And Klarna will ask the customer to confirm the next purchase
    When the Partner charges the customer's token for 45.00 EUR with the customer present
    Then the Partner is asked to send the customer to Klarna's Purchase Journey
    And the Acquiring Partner charged the Klarna customer token issued for the customer
    When the customer approves the purchase in Klarna's Purchase Journey
    Then the Partner is told the order is completed
    And the Acquiring Partner finalized the payment with Klarna within the token's window

    Examples:
      | handover          |
      | by redirect       |
      | with Klarna's SDK |

  @declined
  Scenario: Klarna declines the one-click purchase, and the Partner shows the checkout again
    Given Klarna's risk assessment will decline the next purchase
    When the Partner charges the customer's token for 45.00 EUR with the customer present
    Then the charge is declined, because "RISK_REJECTED"
