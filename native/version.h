// The package version; test/00.setup.test.ts checks it against package.json.
#pragma once
#define VECSQLITE_VERSION "0.1.0"
