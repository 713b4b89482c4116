#!/usr/bin/env bash
# `npm test`: the preflight, then the type check, the unit suite and the integration suite, on
# SQLite and again with the metadata in PostgreSQL (WHARF_TEST_DATABASE=postgres).
# Every part runs even when one before it failed (a failing unit test must not hide the
# integration suite); the run fails if any part failed, and says which.
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/test-preflight.sh || exit 1

failed=()
npm run -s typecheck || failed+=(typecheck)
npm run -s check:promises || failed+=(floating-promises)
npm run -s test:unit || failed+=(unit)
npm run -s test:integration || failed+=(integration)
npm run -s test:integration:postgres || failed+=(integration-postgres)

if ((${#failed[@]})); then
  echo "npm test: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "npm test: typecheck, unit and integration suites (SQLite and PostgreSQL) passed"
