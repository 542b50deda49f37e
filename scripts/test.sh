#!/usr/bin/env bash
# Runs every test: unit, interop with real FRR/BIRD/GoBGP, kernel NAT, etcd, failover.
# Installs what it needs first. Tests that need root or a daemon say so in their name.
# Files run one at a time: the interop tests time real daemons (BFD at 100 ms, hold
# timers) and two cores shared by two heavy files made them flaky. The lab tests
# (test/lab/, fixed namespace names ef-*) run last.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
npx tsc -p .
# only compiled tests whose TypeScript source still exists (dist/ may hold stale ones)
all=$(find dist -name '*.test.js' -not -path '*/node_modules/*' | sort | while read -r f; do
  src=${f#dist/}; [ -f "${src%.js}.ts" ] && echo "$f"; done)
[ -n "$all" ] || { echo "no tests found" >&2; exit 1; }
lab=$(echo "$all" | grep '^dist/test/lab/' || true)
rest=$(echo "$all" | grep -v '^dist/test/lab/' || true)
status=0
node --enable-source-maps --test --test-concurrency=1 --test-timeout=300000 $rest || status=$?
if [ -n "$lab" ]; then
  node --enable-source-maps --test --test-concurrency=1 --test-timeout=600000 $lab || status=$?
fi
exit $status
