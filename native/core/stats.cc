// Counter registry; see stats.h.
#include "core/stats.h"

namespace vecsqlite {
namespace {
// Constant-initialised (zero) before any dynamic initialisation, so counters of every
// translation unit can link themselves in whatever order their constructors run.
Counter* g_first = nullptr;
Counter* g_last = nullptr;
}  // namespace

Counter::Counter(const char* name) : name_(name) {
  if (g_last == nullptr) g_first = this;
  else g_last->next_ = this;
  g_last = this;
}

void for_each_counter(const std::function<void(const char*, int64_t)>& fn) {
  for (const Counter* c = g_first; c != nullptr; c = c->next_) fn(c->name_, c->get());
}

}  // namespace vecsqlite
