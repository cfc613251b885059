#!/usr/bin/env bash
# The long reliability runs, too slow for every CI run (see docs/reliability.md):
#   the jest suite and the native tests under ASan + UBSan (npm run test:asan),
#   every fuzz target for FUZZ_SECONDS (default 600) each, two at a time (FUZZ_JOBS),
#   100 kill -9 crash loops of ingest and of reindex, and a 60 s concurrency soak.
# Exits non-zero on the first failing part.
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$(date +%s)
step() { echo "nightly: $1 ($(( $(date +%s) - t0 )) s elapsed)"; }
step "sanitizers"
npm run test:asan
step "fuzzing"
FUZZ_JOBS="${FUZZ_JOBS:-2}" bash scripts/fuzz.sh "${FUZZ_SECONDS:-600}"
step "crash loops"
node scripts/crashloop.js --kills "${CRASHLOOP_KILLS:-100}"
step "concurrency soak"
node scripts/soak.js --seconds "${SOAK_SECONDS:-60}"
node scripts/soak.js --seconds "${SOAK_SECONDS:-60}" --writer thread
step "done"
