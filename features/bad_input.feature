@bad-input
Feature: Bad input
  The Acquiring Partner refuses what it cannot accept before it calls Klarna, naming the
  problem in the error shape of contracts/acquirer.yaml; what only Klarna can judge, Klarna
  refuses and the Acquiring Partner passes on.

  Background:
    Given a Partner selling through the Acquiring Partner

  Scenario: A request without the Partner's API key is refused
    When someone opens a payment session without a Partner API key
    Then the Acquiring Partner refuses it as unauthorized
    And Klarna was not asked to authorize anything

  Scenario Outline: A payment session with <problem> is refused
    When the Partner opens a payment session with <problem>
    Then the Acquiring Partner refuses it as invalid, naming "<field>"
    And Klarna was not asked to authorize anything

    Examples:
      | problem                                  | field                                     |
      | an amount of zero                        | amount                                    |
      | an unknown hand-over mode                | mode                                      |
      | redirect mode but no return URL          | return_url                                |
      | a field the API does not know            | colour                                    |
      | a subscription token but no subscription | supplementary_purchase_data.subscriptions |
      | a currency that is not a currency code   | currency                                  |

  Scenario: A payment session asking for neither a purchase nor a customer token is refused
    When the Partner opens a payment session with neither an amount nor a customer token
    Then the Acquiring Partner refuses it as invalid
    And Klarna was not asked to authorize anything

  Scenario: Line items that do not add up are refused by Klarna, and the refusal is passed on
    When the Partner opens a payment session whose line items do not add up to the amount
    Then the Acquiring Partner passes on Klarna's refusal

  Scenario: A customer token the Acquiring Partner never issued cannot be charged
    When the Partner charges a customer token the Acquiring Partner never issued
    Then the Acquiring Partner refuses it as not found
    And Klarna was not asked to authorize anything

  @second-partner
  Scenario: Another Partner's customer token cannot be charged
    Given another Partner's customer saved Klarna for subscription use
    When the Partner charges the other Partner's customer token
    Then the Acquiring Partner refuses it as forbidden
    And Klarna was not asked to authorize anything

  @subscription
  Scenario: A subscription token cannot be charged with the customer present
    Given the customer saved Klarna for subscription use
    When the Partner charges the customer's subscription token with the customer present
    Then the Acquiring Partner refuses it as invalid, naming "customer_token"
    And Klarna was not asked to authorize anything

  @customer-present
  Scenario: An on-demand token cannot be charged without the customer
    Given the customer saved Klarna for on-demand use
    When the Partner charges the customer's on-demand token without the customer
    Then the Acquiring Partner refuses it as invalid, naming "customer_token"
    And Klarna was not asked to authorize anything
