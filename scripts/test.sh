#!/usr/bin/env bash
# `npm test`: installs what is missing, then type-checks, lints and runs every jest test. The jest
# global setup starts its own Postgres and Temporal dev server on free ports.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-tools.sh
echo "test: type-check" >&2
npx tsc -p .
echo "test: lint" >&2
npx eslint --max-warnings=0 .
echo "test: jest" >&2
results="$(mktemp)"
status=0
npx jest --ci --json --outputFile="$results" "$@" || status=$?
# The plain closing line that any CI reads, whatever the runner.
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`jest: ${r.numPassedTests} passed, ${r.numFailedTests + r.numRuntimeErrorTestSuites} failed, ${r.numPendingTests} skipped`);
' "$results" || true
rm -f "$results"
exit "$status"
