/* Loads a SQLite extension and prints every row of each SQL argument (columns joined by |). */
#include <stdio.h>
#include "sqlite3.h"
static int row(void* u, int n, char** v, char** c) {
  (void)u; (void)c;
  for (int i = 0; i < n; i++) printf("%s%s", i ? "|" : "", v[i] ? v[i] : "NULL");
  printf("\n");
  return 0;
}
int main(int argc, char** argv) {
  sqlite3* db; char* err = 0;
  if (sqlite3_open(":memory:", &db) != SQLITE_OK) return 2;
  sqlite3_enable_load_extension(db, 1);
  if (sqlite3_load_extension(db, argv[1], 0, &err) != SQLITE_OK) { fprintf(stderr, "load: %s\n", err); return 1; }
  for (int i = 2; i < argc; i++)
    if (sqlite3_exec(db, argv[i], row, 0, &err) != SQLITE_OK) { fprintf(stderr, "%s: %s\n", argv[i], err); return 1; }
  sqlite3_close(db);
  return 0;
}
