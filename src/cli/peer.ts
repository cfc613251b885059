/**
 * Imported first by the CLI entry: every command opens databases through better-sqlite3, an
 * optional peer dependency of the package. Without it the CLI says so in one line and exits,
 * instead of failing on a module that cannot be found.
 */
try {
  require.resolve('better-sqlite3');
} catch {
  process.stderr.write('vecsqlite: the command line needs better-sqlite3 (npm install better-sqlite3)\n');
  process.exit(1);
}

export {};
