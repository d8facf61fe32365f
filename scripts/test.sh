#!/usr/bin/env bash
# Runs every Tartan test: unit tests, then integration tests against real
# BIRD, GoBGP, FRR and etcd inside network namespaces the tests create.
# Needs root (network namespaces). Installs what it needs first.
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh || { echo "setup failed"; exit 1; }

echo "typecheck: tests and benchmarks"
npx tsc -p tsconfig.test.json || exit 1

results=$(mktemp -d)
status=0
npx jest --selectProjects unit --json --outputFile="$results/unit.json" || status=1
npx jest --selectProjects integration --runInBand --json --outputFile="$results/integration.json" || status=1

# One closing line for CI: "N passed, N failed".
node -e '
  let passed = 0, failed = 0;
  for (const f of process.argv.slice(1)) {
    try { const r = require(f); passed += r.numPassedTests; failed += r.numFailedTests + r.numRuntimeErrorTestSuites; }
    catch { failed += 1; console.error("no results in " + f); }
  }
  console.log(`tests: ${passed} passed, ${failed} failed`);
' "$results/unit.json" "$results/integration.json"
rm -rf "$results"
exit $status
