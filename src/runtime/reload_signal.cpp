// SIGHUP as a reload request (`s2s serve`); the stop signals are stop_signals.cpp.
#include <signal.h>

#include <atomic>

#include "s2s/runtime.h"

namespace s2s {
namespace {

std::atomic<bool> g_reload{false};

void on_reload_signal(int) {
  g_reload.store(true);
}

}  // namespace

struct ReloadSignal::Saved {
  struct sigaction old_hup {};
};

ReloadSignal::ReloadSignal() : saved_(std::make_unique<Saved>()) {
  g_reload.store(false);
  isolate_signals();  // the handler must not run on a thread inside a oneDNN kernel
  struct sigaction sa {};
  sa.sa_handler = on_reload_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGHUP, &sa, &saved_->old_hup);
}

ReloadSignal::~ReloadSignal() {
  sigaction(SIGHUP, &saved_->old_hup, nullptr);
}

bool ReloadSignal::take() {
  return g_reload.exchange(false);
}

}  // namespace s2s
