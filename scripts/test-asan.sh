#!/usr/bin/env bash
# Runs the jest suite and the native tests against AddressSanitizer + UndefinedBehaviorSanitizer
# builds. The sanitized addon is built with cmake-js into build-asan-node/ and swapped into
# build/Release for the run (the regular build is restored afterwards).
set -euo pipefail
cd "$(dirname "$0")/.."
san="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
# configure every time: `compile` alone keeps an existing build directory's settings.
npx cmake-js configure --out build-asan-node --CDVECSQLITE_SANITIZE=ON >/dev/null
npx cmake-js build --out build-asan-node >/dev/null
# A run against an uninstrumented addon would prove nothing: refuse it.
if ! nm -D build-asan-node/Release/vecsqlite.node | grep ' U __asan_' >/dev/null; then  # (not -q: nm must not die of SIGPIPE under pipefail)
  echo "test-asan: build-asan-node/Release/vecsqlite.node is not instrumented" >&2
  exit 1
fi
npm run build:ts >/dev/null
mkdir -p build/Release
[ -f build/Release/vecsqlite.node ] && cp build/Release/vecsqlite.node build/Release/vecsqlite.node.regular
trap '[ -f build/Release/vecsqlite.node.regular ] && mv build/Release/vecsqlite.node.regular build/Release/vecsqlite.node' EXIT
cp build-asan-node/Release/vecsqlite.node build/Release/vecsqlite.node
LD_PRELOAD="$(g++ -print-file-name=libasan.so) $(g++ -print-file-name=libubsan.so)" ASAN_OPTIONS=detect_leaks=0 \
  npx jest --runInBand "$@"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS="$san" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
cmake --build build-asan >/dev/null
ctest --test-dir build-asan --output-on-failure
