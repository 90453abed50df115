#!/usr/bin/env bash
# Walks the token creation flow (docs/flows.md, flow 1, step-up branch) and then charges the new
# token with the customer not present (flow 3), against a running klarna-mock:
#
#   1. initial authorize asking for a customer token with a purchase -> STEP_UP_REQUIRED
#   2. the customer opens payment_request_url                        -> IN_PROGRESS
#   3. the customer approves, through the mock's control API         -> COMPLETED
#   4. the Acquiring Partner reads the Payment Request                -> the network session token
#   5. final authorize with that token                               -> APPROVED, transaction, customer token
#   6. a subscription charge with the token, customer not present    -> APPROVED
#   7. the Acquiring Partner reads the charge's transaction          -> AUTHORIZED
#
# Every id is taken from the answer before; any other answer than the expected one stops the walk
# with exit status 1 and prints that answer.
#
# Usage: examples/walkthrough.sh [-v] [MOCK_URL]
#   MOCK_URL   the mock's base URL; default $KLARNA_MOCK_URL, else http://127.0.0.1:8480
#   -v         print every answer in full
# Environment: WALKTHROUGH_API_KEY (default klarna_test_api_walkthrough) and
# WALKTHROUGH_ACCOUNT (default krn:partner:global:account:test:DEMO0001): with an --accounts
# file, a key listed there and its account.
# Needs bash, curl and jq. Step 2 opens payment_request_url, which the mock builds from
# --public-url or the Host it was called at: that address must reach the mock from here.
set -euo pipefail

verbose=false
if [ "${1:-}" = "-v" ]; then
  verbose=true
  shift
fi
mock=${1:-${KLARNA_MOCK_URL:-http://127.0.0.1:8480}}
mock=${mock%/}
key=${WALKTHROUGH_API_KEY:-klarna_test_api_walkthrough}
account=${WALKTHROUGH_ACCOUNT:-krn:partner:global:account:test:DEMO0001}
api="/v2/accounts/$account"
# References and idempotency keys unique to this run, so the walk can be repeated on one mock.
run="$(date +%s)$$"

for tool in curl jq; do
  command -v "$tool" >/dev/null || { echo "walkthrough: $tool is needed" >&2; exit 2; }
done

fail() {
  echo "walkthrough: $*" >&2
  exit 1
}

# send METHOD URL WANT_STATUS [CURL_ARGS...] sends a request, fails unless it is answered with
# WANT_STATUS, and leaves the answer's body in $body.
send() {
  local method=$1 url=$2 want=$3 out status
  shift 3
  out=$(curl -sS -X "$method" "$url" -w '\n%{http_code}' "$@") || fail "$method $url: curl failed"
  status=${out##*$'\n'}
  body=${out%$'\n'*}
  if $verbose; then
    echo "--- $method $url -> $status"
    jq . <<<"$body" 2>/dev/null || echo "(${#body} bytes, not JSON)"
  fi
  [ "$status" = "$want" ] || fail "$method $url answered $status, not $want: $body"
}

# klarna METHOD PATH WANT_STATUS [CURL_ARGS...] calls Klarna's API (as the mock serves it) the way
# an Acquiring Partner does: with its API key and JSON.
klarna() {
  local method=$1 path=$2 want=$3
  shift 3
  send "$method" "$mock$api$path" "$want" -H "Authorization: Basic $key" -H 'Content-Type: application/json' "$@"
}

# expect JQ_FILTER fails unless the filter holds for the last answer.
expect() {
  jq -e "$1" <<<"$body" >/dev/null || fail "the answer does not satisfy $1: $body"
}

# take JQ_PATH prints a field of the last answer, failing if it is missing.
take() {
  jq -er "$1" <<<"$body" || fail "the answer has no $1: $body"
}

# purchase REFERENCE ITEM prints the supplementary_purchase_data of one month of the
# subscription: Klarna wants the subscription described on the first purchase and again on every
# charge without the customer.
purchase() {
  cat <<JSON
{
    "purchase_reference": "$1",
    "line_items": [{"name": "$2", "quantity": 1, "total_amount": 11800, "subscription_reference": "sub-$run"}],
    "subscriptions": [{"subscription_reference": "sub-$run", "name": "Coffee",
      "billing_plans": [{"billing_amount": 11800, "currency": "USD", "interval": "MONTH", "interval_frequency": 1}]}]
  }
JSON
}

echo "klarna-mock at $mock, API key $key, account $account"

# 1. Initial authorize: a purchase that also asks for a customer token for later subscription
#    charges. The customer has to consent, so Klarna steps up and hands over a Payment Request.
klarna POST /payment/authorize 200 -H "Klarna-Idempotency-Key: walk-$run-initial" -d @- <<JSON
{
  "currency": "USD",
  "request_payment_transaction": {"amount": 11800, "payment_transaction_reference": "order-$run"},
  "request_customer_token": {"scopes": ["payment:customer_not_present"], "customer_token_reference": "customer-$run"},
  "step_up_config": {
    "payment_request_reference": "session-$run",
    "customer_interaction_config": {
      "method": "HANDOVER",
      "return_url": "https://merchant.example/return?pr={klarna.payment_request.id}&state={klarna.payment_request.state}"
    }
  },
  "supplementary_purchase_data": $(purchase "purchase-$run" "Coffee subscription, first month")
}
JSON
expect '.payment_transaction_response.result == "STEP_UP_REQUIRED"'
expect '.customer_token_response.result == "STEP_UP_REQUIRED"'
expect '.payment_request.state == "SUBMITTED"'
payment_request=$(take .payment_request.payment_request_id)
journey_url=$(take .payment_request.state_context.customer_interaction.payment_request_url)
echo "1. initial authorize: STEP_UP_REQUIRED, Payment Request $payment_request"

# 2. The Partner redirects the customer to payment_request_url; opening it starts the journey.
send GET "$journey_url" 200
echo "2. the customer opened $journey_url"

# 3. The customer approves and consents. A browser would press Approve on that page; a test asks
#    the mock's control API, with the same API key as the Payment Request was created with.
send POST "$mock/mock/v1/payment-requests/$payment_request/approve" 200 -H "Authorization: Basic $key"
expect '.state == "COMPLETED" and .previous_state == "IN_PROGRESS"'
echo "3. the customer approved: COMPLETED"

# 4. Klarna's webhook would now tell the Acquiring Partner; here it reads the request instead and
#    takes the network session token for the final authorize (valid for 60 minutes).
klarna GET "/payment/requests/$payment_request" 200
expect '.state == "COMPLETED"'
session_token=$(take .state_context.klarna_network_session_token)
echo "4. read the Payment Request: network session token $session_token"

# 5. Final authorize: the same currency and amount, with the session token and no step_up_config.
klarna POST /payment/authorize 200 -H "Klarna-Idempotency-Key: walk-$run-final" \
  -H "Klarna-Network-Session-Token: $session_token" -d @- <<JSON
{"currency": "USD", "request_payment_transaction": {"amount": 11800, "payment_transaction_reference": "order-$run"}}
JSON
expect '.payment_transaction_response.result == "APPROVED"'
expect '.payment_transaction_response.payment_transaction.amount == 11800'
expect '.customer_token_response.result == "APPROVED"'
expect '.customer_token_response.customer_token.scopes == ["payment:customer_not_present"]'
transaction=$(take .payment_transaction_response.payment_transaction.payment_transaction_id)
customer_token=$(take .customer_token_response.customer_token.customer_token)
echo "5. final authorize: APPROVED, transaction $transaction, customer token $customer_token"

# 6. When the subscription renews: a charge with the token, the customer not present, so no
#    step_up_config but the subscription data again. Klarna approves or declines; it never steps up.
klarna POST /payment/authorize 200 -H "Klarna-Idempotency-Key: walk-$run-renewal" \
  -H "Klarna-Customer-Token: $customer_token" -d @- <<JSON
{
  "currency": "USD",
  "request_payment_transaction": {"amount": 11800, "payment_transaction_reference": "renewal-$run"},
  "supplementary_purchase_data": $(purchase "renewal-$run" "Coffee subscription, second month")
}
JSON
expect '.payment_transaction_response.result == "APPROVED"'
expect 'has("payment_request") | not'
renewal=$(take .payment_transaction_response.payment_transaction.payment_transaction_id)
echo "6. subscription charge: APPROVED, transaction $renewal"

# 7. The Acquiring Partner reads the renewal's transaction back.
klarna GET "/payment/transactions/$renewal" 200
expect ".payment_transaction_id == \"$renewal\""
expect '.state == "AUTHORIZED" and .amount == 11800 and .currency == "USD"'
echo "7. read the transaction: AUTHORIZED"

echo "walkthrough: all steps answered as expected"
