#!/usr/bin/env bash
# libFuzzer campaign over the native code: builds test/fuzz/ with clang (-fsanitize=fuzzer,
# address,undefined) into build-fuzz/ and runs every target for a fixed time.
#
#   npm run fuzz                       # every target, 60 s each
#   npm run fuzz -- 20                 # 20 s each
#   npm run fuzz -- 600 codec plan     # chosen targets (names without the fuzz_ prefix)
#   FUZZ_SECONDS=300 npm run fuzz
#   FUZZ_JOBS=2 npm run fuzz -- 60     # two targets at a time (the CI smoke: one per core)
#   npm run fuzz -- --fast 3600 corrupt   # long campaign: UBSan-only build (build-fuzz-fast/),
#                                      # then every corpus input replayed under ASan + UBSan
#   FUZZ_JOBS=2 npm run fuzz -- --fast 3600 vec0_dml vec0_dml   # one target on both cores
#
# Needs clang and libFuzzer's runtime (Debian: clang, libclang-rt-14-dev). Each target keeps
# its corpus in build-fuzz/corpus/<target> (seeded from test/fuzz/seeds/<target>) and first
# replays test/fuzz/regressions/<target>/* (inputs that once failed). A target named n times runs
# n processes: the k-th (k >= 2) writes build-fuzz/corpus/<target>.k and starts from the first's
# corpus. A failure leaves its input in build-fuzz/artifacts/ and makes the script exit 1.
# Prints executions per target.
set -euo pipefail
cd "$(dirname "$0")/.."
fast=0
if [ "${1:-}" = --fast ]; then fast=1; shift; fi
secs="${1:-${FUZZ_SECONDS:-60}}"
shift || true
all=(codec vec0_config vec_config plan vec_plan vec0_dml corrupt)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")

command -v clang++ >/dev/null || { echo "fuzz: clang++ not found (apt-get install clang libclang-rt-14-dev)"; exit 1; }
build() {  # build <dir> <sanitizers>
  if [ ! -f "$1/build.ninja" ]; then
    cmake -S test/fuzz -B "$1" -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
      -DFUZZ_SANITIZERS="$2" >/dev/null
  fi
  cmake --build "$1" -- -j "${FUZZ_BUILD_JOBS:-2}" >/dev/null
}
build build-fuzz address,undefined
bindir=build-fuzz
if [ $fast = 1 ]; then
  build build-fuzz-fast undefined
  bindir=build-fuzz-fast
fi

# A small quarantine: the targets allocate and free whole databases per input, and the default
# (256 MB of never-reused memory) makes every input page-fault fresh memory (3x slower).
export ASAN_OPTIONS="${ASAN_OPTIONS:-quarantine_size_mb=16:max_malloc_fill_size=0:detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
mkdir -p build-fuzz/artifacts build-fuzz/logs
status=0
printf '%-12s %12s %10s %8s\n' target execs exec/s result
[ $fast = 0 ] || echo "(fast build: UBSan only; each corpus is then replayed under ASan + UBSan)"

# Runs one target; prints its result line and returns 1 on a failure.
run_target() {  # run_target <target> <label>: the label is <target>, or <target>.k for its k-th process
  local t=$1 label=$2 bin="$bindir/fuzz_$1" corpus="build-fuzz/corpus/$2" log="build-fuzz/logs/$2.log" max result=ok rc
  local shared=()
  mkdir -p "$corpus" "build-fuzz/corpus/$t"
  [ "$label" = "$t" ] || shared=("build-fuzz/corpus/$t")
  [ -d "test/fuzz/seeds/$t" ] && cp -n test/fuzz/seeds/"$t"/* "build-fuzz/corpus/$t"/ 2>/dev/null || true
  # The largest input each target reads (it returns at once on longer ones: not an execution
  # worth counting).
  case $t in vec0_dml) max=600 ;; corrupt) max=2000 ;; vec_config) max=2048 ;; *) max=4096 ;; esac
  if [ "$label" = "$t" ] && [ -d "test/fuzz/regressions/$t" ] && ls test/fuzz/regressions/"$t"/* >/dev/null 2>&1; then
    "$bin" test/fuzz/regressions/"$t"/* >"$log.regressions" 2>&1 || result="REGRESSION"
  fi
  set +e
  nice -n "${FUZZ_NICE:-10}" "$bin" "$corpus" "${shared[@]}" -max_total_time="$secs" -max_len=$max -timeout=20 -rss_limit_mb=2560 \
    -print_final_stats=1 -artifact_prefix="build-fuzz/artifacts/$t-" >"$log" 2>&1
  rc=$?
  set -e
  [ $rc -eq 0 ] || result="FAILED($rc)"
  if [ $fast = 1 ] && [ "$result" = ok ]; then
    # Memory errors that the fast build cannot see: every input the campaign kept, once more
    # through the ASan build (-runs=0 stops after loading, i.e. running, the whole corpus).
    build-fuzz/fuzz_"$t" "$corpus" -runs=0 -timeout=20 -rss_limit_mb=2560 >"$log.asan" 2>&1 || result="ASAN-REPLAY"
  fi
  local execs rate
  execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | awk '{print $2}' | tail -1)
  rate=$(grep -o 'exec/s: [0-9]*' "$log" | tail -1 | awk '{print $2}')
  printf '%-12s %12s %10s %8s\n' "$label" "${execs:-?}" "${rate:-?}" "$result"
  if [ "$result" != ok ]; then
    grep -E 'ERROR|FUZZ_CHECK|SUMMARY|runtime error' "$log" "$log.regressions" "$log.asan" 2>/dev/null | head -5 || true
    return 1
  fi
}

# FUZZ_JOBS targets at a time (default 1); each prints its lines when it ends.
jobs_max="${FUZZ_JOBS:-1}"
ran=()
for t in "${targets[@]}"; do
  [ -x "$bindir/fuzz_$t" ] || { echo "fuzz: no target $t"; exit 1; }
done
declare -A seen=()
for t in "${targets[@]}"; do
  seen[$t]=$(( ${seen[$t]:-0} + 1 ))
  label=$t
  [ "${seen[$t]}" -eq 1 ] || label="$t.${seen[$t]}"
  if [ "$jobs_max" -le 1 ]; then
    run_target "$t" "$label" || status=1
    continue
  fi
  while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do wait -n || true; done
  run_target "$t" "$label" >"build-fuzz/logs/$label.result" 2>&1 &
  ran+=("$label")
done
wait || true
for p in "${ran[@]}"; do
  f="build-fuzz/logs/$p.result"
  cat "$f"
  head -n 1 "$f" | grep -qE ' ok$' || status=1
done
exit $status
