#!/usr/bin/env node
// Prints the directory holding sqlite3.h / sqlite3ext.h: the amalgamation that the installed
// better-sqlite3 package ships. binding.gyp and CMakeLists.txt both ask this script, so the
// extension is always compiled against the same SQLite headers as the library it loads into.
'use strict';
const path = require('path');
const fs = require('fs');
let dir;
try {
  dir = path.join(path.dirname(require.resolve('better-sqlite3/package.json', { paths: [process.cwd(), __dirname] })), 'deps', 'sqlite3');
} catch (e) {
  console.error('vecsqlite: cannot find better-sqlite3 (its deps/sqlite3 holds the SQLite headers): ' + e.message);
  process.exit(1);
}
if (!fs.existsSync(path.join(dir, 'sqlite3ext.h'))) {
  console.error('vecsqlite: ' + dir + ' has no sqlite3ext.h');
  process.exit(1);
}
process.stdout.write(dir.split(path.sep).join('/'));
