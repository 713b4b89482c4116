#!/usr/bin/env bash
# Runs every test, as CI does: installs what the tests need, then type-checks and runs the
# unit and integration suites on Node 24 (pinned in node_modules). npm test runs a preflight
# that names any missing tool, and runs every suite even when one fails.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-test-deps.sh
npm test
