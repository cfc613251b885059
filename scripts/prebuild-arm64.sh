#!/usr/bin/env bash
# Cross-builds prebuilds/linux-arm64/vecsqlite.node on an x86-64 Debian machine with Debian's
# cross toolchain (g++-aarch64-linux-gnu, installed when missing), in a clean clone of HEAD so
# the local build/ is left alone, then checks the result: an AArch64 shared object that exports
# the SQLite entry points and the Node-API module symbol and imports no Node-API function hard
# (so the sqlite3 command line and Python can load it too); then, under qemu-aarch64 (Debian
# package qemu-user), a small AArch64 SQLite program (scripts/sqlite-loadext.c with the SQLite
# amalgamation better-sqlite3 ships) loads it and runs a vec0 KNN and a vec MATCH.
#
#   bash scripts/prebuild-arm64.sh        # -> prebuilds/linux-arm64/vecsqlite.node
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
if ! command -v aarch64-linux-gnu-g++ >/dev/null || ! command -v qemu-aarch64 >/dev/null; then
  apt-get install -y -qq g++-aarch64-linux-gnu qemu-user >/dev/null
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
sqlite_dir=$(node -p "require('path').dirname(require.resolve('better-sqlite3/deps/sqlite3/sqlite3.c', { paths: ['$repo'] }))" 2>/dev/null \
  || echo "$repo/node_modules/better-sqlite3/deps/sqlite3")
nice -n 10 aarch64-linux-gnu-gcc -O0 -I"$sqlite_dir" "$repo/scripts/sqlite-loadext.c" "$sqlite_dir/sqlite3.c" -o "$work/loadext" -ldl -lpthread -lm
out=$(qemu-aarch64 -L /usr/aarch64-linux-gnu "$work/loadext" "$f" \
  "create virtual table items using vec0(embedding float[2])" \
  "insert into items(rowid, embedding) values (1, '[0, 0]'), (2, '[3, 4]'), (3, '[1, 1]')" \
  "select rowid, round(distance, 4) from items where embedding match '[0, 0]' and k = 2" \
  "create virtual table vec_docs using vec(doc_id)" \
  "insert into _vec_vec_docs(dataset_id, id, content, embedding) values ('A', 'a', 'first', vec_f32('[1, 0]')), ('A', 'b', 'second', vec_f32('[3, 4]'))" \
  "select doc_id, round(match_score, 4) from vec_docs where dataset_id = 'A' and doc_id match '[1, 0]' order by match_score desc limit 2" \
  "select vecsqlite_isa()")
want=$'1|0.0\n3|1.4142\na|1.0\nb|0.6\nneon'
[ "$out" = "$want" ] || { echo "prebuild-arm64: under qemu the extension printed:"; echo "$out"; exit 1; }
echo "prebuild-arm64: under qemu-aarch64 the file loads into SQLite: vec0 KNN, vec MATCH, NEON kernels"
mkdir -p "$repo/prebuilds/linux-arm64"
cp "$f" "$repo/prebuilds/linux-arm64/vecsqlite.node"
echo "prebuild-arm64: prebuilds/linux-arm64/vecsqlite.node ($(du -k "$f" | cut -f1) KiB, AArch64, entry points exported)"
