#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <mutex>
#include <thread>

#include "s2s/runtime.h"

namespace s2s {

// Why no compute thread may ever run a signal handler: oneDNN 2.6's JIT f32 GEMM kernels (which
// its RNN primitives call) point rsp at a heap workspace while they run (oneDNN issue #4845,
// fixed only in 3.11). A signal delivered to a thread inside such a kernel has its frame pushed
// at rsp, over that heap memory, and the next free() aborts with "corrupted size vs. prev_size".
// Measured here: a Ctrl-C during training crashed about one run in ten; a stream of harmless
// SIGUSR1s crashed every run with --rnn-impl onednn and none with --rnn-impl torch.
//
// The signal mask is per thread and inherited by every thread a thread creates. So the signals
// we handle are blocked in the caller (main, before anything else runs) and one extra thread,
// which does nothing but sleep, leaves them unblocked: the kernel delivers process-directed
// signals only to a thread that does not block them, so every handler runs on that thread.
// With no handler installed the default action still applies: the process ends.
void isolate_signals() {
  static std::once_flag once;
  std::call_once(once, [] {
    sigset_t handled;
    sigemptyset(&handled);
    sigaddset(&handled, SIGINT);
    sigaddset(&handled, SIGTERM);
    sigaddset(&handled, SIGHUP);  // `s2s serve` reloads its models on it (ReloadSignal)
    pthread_sigmask(SIG_BLOCK, &handled, nullptr);
    std::thread([handled] {
      pthread_setname_np(pthread_self(), "s2s-signals");
      pthread_sigmask(SIG_UNBLOCK, &handled, nullptr);
      for (;;) pause();
    }).detach();
  });
}

}  // namespace s2s
