#!/usr/bin/env node
// Prints one group of native/sources.json (space separated) for binding.gyp.
'use strict';
const groups = require('../native/sources.json');
const names = process.argv.slice(2);
const out = [];
for (const n of names) {
  if (!Array.isArray(groups[n])) { console.error('unknown source group ' + n); process.exit(1); }
  out.push(...groups[n]);
}
process.stdout.write(out.join(' '));
