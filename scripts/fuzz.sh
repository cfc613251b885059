#!/usr/bin/env bash
# libFuzzer campaign over the native code: builds test/fuzz/ with clang (-fsanitize=fuzzer,
# address,undefined) into build-fuzz/ and runs every target for a fixed time.
#
#   npm run fuzz                       # every target, 60 s each
#   npm run fuzz -- 20                 # 20 s each (the CI smoke)
#   npm run fuzz -- 600 codec plan     # chosen targets (names without the fuzz_ prefix)
#   FUZZ_SECONDS=300 npm run fuzz
#
# Needs clang and libFuzzer's runtime (Debian: clang, libclang-rt-14-dev). Each target keeps
# its corpus in build-fuzz/corpus/<target> (seeded from test/fuzz/seeds/<target>) and first
# replays test/fuzz/regressions/<target>/* (inputs that once failed). A failure leaves its
# input in build-fuzz/artifacts/ and makes the script exit 1. Prints executions per target.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-${FUZZ_SECONDS:-60}}"
shift || true
all=(codec vec0_config vec_config plan vec_plan vec0_dml corrupt)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")

command -v clang++ >/dev/null || { echo "fuzz: clang++ not found (apt-get install clang libclang-rt-14-dev)"; exit 1; }
if [ ! -f build-fuzz/build.ninja ]; then
  cmake -S test/fuzz -B build-fuzz -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ >/dev/null
fi
cmake --build build-fuzz -- -j "${FUZZ_BUILD_JOBS:-2}" >/dev/null

# A small quarantine: the targets allocate and free whole databases per input, and the default
# (256 MB of never-reused memory) makes every input page-fault fresh memory (3x slower).
export ASAN_OPTIONS="${ASAN_OPTIONS:-quarantine_size_mb=16:max_malloc_fill_size=0:detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
mkdir -p build-fuzz/artifacts build-fuzz/logs
status=0
printf '%-12s %12s %10s %8s\n' target execs exec/s result
for t in "${targets[@]}"; do
  bin="build-fuzz/fuzz_$t"
  [ -x "$bin" ] || { echo "fuzz: no target $t"; exit 1; }
  corpus="build-fuzz/corpus/$t"
  mkdir -p "$corpus"
  [ -d "test/fuzz/seeds/$t" ] && cp -n test/fuzz/seeds/"$t"/* "$corpus"/ 2>/dev/null || true
  log="build-fuzz/logs/$t.log"
  result=ok
  if [ -d "test/fuzz/regressions/$t" ] && ls test/fuzz/regressions/"$t"/* >/dev/null 2>&1; then
    "$bin" test/fuzz/regressions/"$t"/* >"$log.regressions" 2>&1 || { result="REGRESSION"; status=1; }
  fi
  set +e
  nice -n "${FUZZ_NICE:-10}" "$bin" "$corpus" -max_total_time="$secs" -timeout=20 -rss_limit_mb=2560 \
    -print_final_stats=1 -artifact_prefix="build-fuzz/artifacts/$t-" >"$log" 2>&1
  rc=$?
  set -e
  [ $rc -eq 0 ] || { result="FAILED($rc)"; status=1; }
  execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | awk '{print $2}' | tail -1)
  rate=$(grep -o 'exec/s: [0-9]*' "$log" | tail -1 | awk '{print $2}')
  printf '%-12s %12s %10s %8s\n' "$t" "${execs:-?}" "${rate:-?}" "$result"
  if [ "$result" != ok ]; then
    grep -E 'ERROR|FUZZ_CHECK|SUMMARY|runtime error' "$log" "$log.regressions" 2>/dev/null | head -5 || true
  fi
done
exit $status
