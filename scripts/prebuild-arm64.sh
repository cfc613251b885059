#!/usr/bin/env bash
# Cross-builds prebuilds/linux-arm64/vecsqlite.node on an x86-64 Debian machine with Debian's
# cross toolchain (g++-aarch64-linux-gnu, installed when missing), in a clean clone of HEAD so
# the local build/ is left alone, then checks the result: an AArch64 shared object that exports
# the SQLite entry points and the Node-API module symbol and imports no Node-API function hard
# (so the sqlite3 command line and Python can load it too).
#
#   bash scripts/prebuild-arm64.sh        # -> prebuilds/linux-arm64/vecsqlite.node
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
if ! command -v aarch64-linux-gnu-g++ >/dev/null; then
  apt-get install -y -qq g++-aarch64-linux-gnu >/dev/null
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git clone -q "$repo" "$work/pkg"
cd "$work/pkg"
ln -s "$repo/node_modules" node_modules
CC=aarch64-linux-gnu-gcc CXX=aarch64-linux-gnu-g++ LINK=aarch64-linux-gnu-g++ AR=aarch64-linux-gnu-ar \
  PREBUILD_STRIP_BIN=aarch64-linux-gnu-strip nice -n 10 npx prebuildify --napi --strip --arch arm64 >/dev/null
f=prebuilds/linux-arm64/vecsqlite.node
aarch64-linux-gnu-readelf -h "$f" | grep -q 'Machine: *AArch64' || { echo "prebuild-arm64: $f is not AArch64"; exit 1; }
syms=$(aarch64-linux-gnu-nm -D --defined-only "$f")
for s in sqlite3_vecsqlite_init sqlite3_vec_init napi_register_module_v1; do
  grep -q " T $s$" <<<"$syms" || { echo "prebuild-arm64: $s not exported"; exit 1; }
done
hard=$(aarch64-linux-gnu-nm -D --undefined-only "$f" | grep -cE ' U (napi|node_api)_' || true)
[ "$hard" = "0" ] || { echo "prebuild-arm64: $hard hard Node-API imports"; exit 1; }
mkdir -p "$repo/prebuilds/linux-arm64"
cp "$f" "$repo/prebuilds/linux-arm64/vecsqlite.node"
echo "prebuild-arm64: prebuilds/linux-arm64/vecsqlite.node ($(du -k "$f" | cut -f1) KiB, AArch64, entry points exported)"
