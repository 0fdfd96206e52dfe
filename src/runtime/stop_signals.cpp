// The one SIGINT/SIGTERM handler of s2s (training and experiments).
#include <signal.h>

#include <atomic>

#include "s2s/runtime.h"

namespace s2s {
namespace {

std::atomic<bool> g_requested{false};
std::atomic<bool> g_second_ends{true};

void on_stop_signal(int signo) {
  g_requested.store(true);
  // A second press ends the process at once: restore the default action for the next one.
  if (g_second_ends.load()) ::signal(signo, SIG_DFL);
}

}  // namespace

struct StopSignals::Saved {
  struct sigaction old_int {};
  struct sigaction old_term {};
};

StopSignals::StopSignals(bool enabled, bool second_ends_process)
    : enabled_(enabled), saved_(std::make_unique<Saved>()) {
  g_requested.store(false);
  if (!enabled_) return;
  isolate_signals();  // the handler must not run on a thread inside a oneDNN kernel
  g_second_ends.store(second_ends_process);
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &saved_->old_int);
  sigaction(SIGTERM, &sa, &saved_->old_term);
}

StopSignals::~StopSignals() {
  if (enabled_) {
    sigaction(SIGINT, &saved_->old_int, nullptr);
    sigaction(SIGTERM, &saved_->old_term, nullptr);
  }
}

bool StopSignals::requested() const {
  return g_requested.load();
}

void StopSignals::request() {
  g_requested.store(true);
}

}  // namespace s2s
