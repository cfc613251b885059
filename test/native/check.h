// check() for the native tests: counts passes and failures and prints the first 40 failures
// ("FAIL <message>"); each test's main ends with "N passed, M failed" from g_passed / g_failed.
#pragma once

#include <cstdarg>
#include <cstdio>

namespace {

int g_passed = 0, g_failed = 0, g_reported = 0;

void check(bool ok, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
void check(bool ok, const char* fmt, ...) {
  if (ok) {
    g_passed++;
    return;
  }
  g_failed++;
  if (g_reported++ < 40) {
    va_list ap;
    va_start(ap, fmt);
    std::fputs("FAIL ", stdout);
    std::vprintf(fmt, ap);
    std::fputc('\n', stdout);
    va_end(ap);
  }
}

}  // namespace
