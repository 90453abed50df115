#!/usr/bin/env bash
# Shows the mock's memory bound in two runs, each against a fresh mock at its default flags:
#   one key:   tenant A (one API key) sends 100,000 step-up authorizes until its per-tenant quota
#              (--max-objects) is full;
#   20 keys:   the same load spread over 20 keys, 20 tenants each with a quota of its own, which
#              the process-wide budget (--max-objects-total) bounds instead.
# In both, tenant B (another key) must be served throughout and the mock's peak resident set must
# stay under 128 MiB. Builds the mock as the Dockerfile does and runs bench/memload against it
# (see bench/README.md).
# Usage: bench/memory.sh [-short] [memload flags, e.g. -n 100000 -c 4]
#   -short   a smoke run of a few seconds: 2000 authorizes against --max-objects 500, then 4000
#            from 20 keys against --max-objects-total 2000, so that each run reaches its bound
# MOCK_ARGS passes extra flags to the mock in both runs. Loads only 127.0.0.1; memload stops
# after 10 minutes at most, and timeout(1) backs that up.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
one_load=() one_mock=() many_load=() many_mock=()
if [ "${1:-}" = -short ]; then
  shift
  one_load=(-n 2000) one_mock=(--max-objects 500)
  many_load=(-n 4000) many_mock=(--max-objects-total 2000)
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o "$work/klarna-mock" ./cmd/klarna-mock
go build -o "$work/memload" ./bench/memload
status=0
# shellcheck disable=SC2086 # MOCK_ARGS is a list of flags
timeout 11m "$work/memload" "${one_load[@]}" "$@" -- "$work/klarna-mock" --addr 127.0.0.1:0 "${one_mock[@]}" ${MOCK_ARGS:-} || status=1
# shellcheck disable=SC2086
timeout 11m "$work/memload" "${many_load[@]}" -a-tenants 20 "$@" -- "$work/klarna-mock" --addr 127.0.0.1:0 "${many_mock[@]}" ${MOCK_ARGS:-} || status=1
exit "$status"
