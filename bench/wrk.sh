#!/usr/bin/env bash
# Cross-checks bench/run.sh's throughput ratio with wrk as the load generator (the tool the
# performance issue's first figures came from), which costs less CPU per request than bench/load
# and so takes less of the two cores from the server: the bare handler, then the mock's approved
# authorize in rounds of one second, each from an empty tenant (reset and a new customer token
# between rounds, not measured). A second of load is more than the default quota of 5000
# transactions, so the mock runs with --max-objects 40000 (and a total budget and memory limit to
# match): each round fills the store from empty to some 25,000 transactions, five times the
# range bench/run.sh covers. Prints req/s and the server's CPU per request (its threads' run
# time from /proc/PID/task/*/schedstat) for each, and the mock's ratio to the bare handler.
# Needs wrk, curl and python3. Usage: bench/wrk.sh [rounds, default 6]; MOCK_ARGS adds flags.
# Loads only 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
rounds=${1:-6}
for tool in wrk curl python3; do
  command -v "$tool" >/dev/null || { echo "bench/wrk.sh needs $tool" >&2; exit 1; }
done
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
go build -o "$work/klarna-mock" ./cmd/klarna-mock
go build -o "$work/bare" ./bench/bare

# shellcheck source=bench/lib.sh
. bench/lib.sh

# cpu: the started server's CPU time so far, in microseconds.
cpu() { awk '{r += $1} END {printf "%d\n", r / 1000}' /proc/"$PID"/task/*/schedstat; }

# script FILE BODY [HEADER VALUE]...: a wrk script POSTing BODY as JSON with the headers.
script() {
  local file=$1 body=$2; shift 2
  { echo 'wrk.method = "POST"'
    echo "wrk.body = '$body'"
    echo 'wrk.headers["Content-Type"] = "application/json"'
    while [ $# -gt 1 ]; do echo "wrk.headers[\"$1\"] = \"$2\""; shift 2; done
  } >"$file"
}

# load SCRIPT URL SECONDS: runs wrk -t2 -c32 and adds its requests and seconds to n and secs,
# the server's CPU to used; a non-2xx answer stops the script.
n=0 secs=0 used=0
load() {
  local before out
  before=$(cpu)
  out=$(wrk -t2 -c32 -d"$3"s -s "$1" "$2")
  used=$((used + $(cpu) - before))
  if echo "$out" | grep -q 'Non-2xx'; then echo "answers other than 2xx: $out" >&2; exit 1; fi
  n=$((n + $(echo "$out" | awk '/requests in/ {print $1}')))
  secs=$(python3 -c "print($secs + float('$(echo "$out" | awk '/requests in/ {print $4}')'.rstrip('s,')))")
}

report() { python3 -c "print(f'$1 req/s {$n / $secs:.0f}, CPU {$used / $n:.1f} us/request, {$n} requests')"; }

echo "== $(date -u +%FT%TZ) on $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), wrk -t2 -c32"
start "$work/bare"
script "$work/bare.lua" '{"currency":"USD","request_payment_transaction":{"amount":11800,"payment_transaction_reference":"order-1"}}'
load "$work/bare.lua" "$URL/" "$rounds"
report bare
bare_rps=$(python3 -c "print($n / $secs)")
kill "$PID"; wait "$PID" 2>/dev/null || true

# shellcheck disable=SC2086 # MOCK_ARGS is a list of flags
start "$work/klarna-mock" --addr 127.0.0.1:0 --max-objects 40000 --max-objects-total 100000 --memory-limit-mib 250 ${MOCK_ARGS:-}
account=krn:partner:global:account:test:BENCH001
key='Authorization: Basic klarna_test_api_wrk'
authorize='{"currency":"USD","request_payment_transaction":{"amount":11800,"payment_transaction_reference":"order-1","capture":"LATER"},"supplementary_purchase_data":{"purchase_reference":"purchase-1","line_items":[{"name":"Shoes","quantity":1,"total_amount":11800}],"customer":{"email":"jane@example.com"},"subscriptions":[{"subscription_reference":"sub-1","name":"Shoe club","billing_plans":[{"billing_amount":11800,"currency":"USD","interval":"MONTH","interval_frequency":1}]}]}}'
n=0 secs=0 used=0
for _ in $(seq "$rounds"); do
  # The token's authorize, as bench/load's rounds make it: a test token whose customer consents
  # at once, in an authorize asking for the token (docs/klarna.md §6).
  curl -sf -X POST -H "$key" -H 'Content-Type: application/json' -d '{}' "$URL/mock/v1/reset" >/dev/null
  session=$(curl -sf -X POST -H "$key" -H 'Content-Type: application/json' -d '{"email":"bench@example.com"}' \
    "$URL/v2/accounts/$account/interoperability/test-tokens" | python3 -c 'import json,sys; print(json.load(sys.stdin)["interoperability_token"])')
  token=$(curl -sf -X POST -H "$key" -H 'Content-Type: application/json' -H "Klarna-Interoperability-Token: $session" \
    -d '{"currency":"USD","request_customer_token":{"scopes":["payment:customer_not_present"]},"step_up_config":{"customer_interaction_config":{"method":"HANDOVER","return_url":"https://merchant.example/return"}},"supplementary_purchase_data":{"subscriptions":[{"subscription_reference":"sub-1","name":"Shoe club","billing_plans":[{"billing_amount":11800,"currency":"USD","interval":"MONTH","interval_frequency":1}]}]}}' \
    "$URL/v2/accounts/$account/payment/authorize" | python3 -c 'import json,sys; print(json.load(sys.stdin)["customer_token_response"]["customer_token"]["customer_token"])')
  script "$work/mock.lua" "$authorize" Authorization "Basic klarna_test_api_wrk" Klarna-Customer-Token "$token" Partner-Correlation-Id bench1
  load "$work/mock.lua" "$URL/v2/accounts/$account/payment/authorize" 1
done
report mock
python3 -c "print(f'mock/bare req/s {$n / $secs / $bare_rps:.2f}')"
