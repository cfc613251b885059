#!/usr/bin/env bash
# Runs the native kernel and arena tests for arm64 (the NEON kernels) on an x86-64 machine:
# cross-compiled statically with aarch64-linux-gnu-g++ and run under qemu-aarch64.
# Needs the Debian packages g++-aarch64-linux-gnu and qemu-user (installed when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v aarch64-linux-gnu-g++ >/dev/null || ! command -v qemu-aarch64 >/dev/null; then
  apt-get install -y g++-aarch64-linux-gnu qemu-user >/dev/null
fi
out=build-arm64
mkdir -p "$out"
kernels=(native/kernels/neon.cc native/kernels/scalar.cc native/kernels/dispatch.cc native/kernels/topk.cc)
flags=(-std=gnu++17 -O2 -static -Wall -Wextra -DVECSQLITE_HAVE_NEON -Inative)
aarch64-linux-gnu-g++ "${flags[@]}" "${kernels[@]}" test/native/test_kernels.cc -o "$out/test_kernels" -lpthread
aarch64-linux-gnu-g++ "${flags[@]}" "${kernels[@]}" native/core/arena.cc test/native/test_arena.cc -o "$out/test_arena" -lpthread
qemu-aarch64 "$out/test_kernels" | tail -4
qemu-aarch64 "$out/test_arena" | tail -1
