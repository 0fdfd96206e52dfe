// configure_runtime: the thread count and the per-thread numerics it promises.
#include <gtest/gtest.h>
#include <omp.h>
#include <xmmintrin.h>

#include <mutex>
#include <set>

#include "s2s/error.h"
#include "s2s/runtime.h"

namespace {

constexpr unsigned kFtzDaz = 0x8040;  // MXCSR flush-to-zero and denormals-are-zero

// The FTZ/DAZ bits of every thread of the OpenMP pool (the one torch and oneDNN run on).
std::set<std::pair<int, unsigned>> mxcsr_per_thread() {
  std::mutex m;
  std::set<std::pair<int, unsigned>> seen;
#pragma omp parallel
  {
    std::lock_guard<std::mutex> lock(m);
    seen.insert({omp_get_thread_num(), _mm_getcsr() & kFtzDaz});
  }
  return seen;
}

TEST(Runtime, FlushDenormalReachesEveryPoolThread) {
  s2s::RuntimeOptions options;
  options.threads = 2;
  options.flush_denormal = true;
  EXPECT_EQ(s2s::configure_runtime(options), 2);
  const auto on = mxcsr_per_thread();
  ASSERT_EQ(on.size(), 2u);
  for (const auto& [thread, bits] : on) EXPECT_EQ(bits, kFtzDaz) << "thread " << thread;

  options.flush_denormal = false;
  s2s::configure_runtime(options);
  for (const auto& [thread, bits] : mxcsr_per_thread()) EXPECT_EQ(bits, 0u) << "thread " << thread;
  EXPECT_EQ(_mm_getcsr() & kFtzDaz, 0u);
}

TEST(Runtime, NegativeThreadsIsAnError) {
  try {
    s2s::RuntimeOptions options;
    options.threads = -3;
    s2s::configure_runtime(options);
    FAIL() << "expected an error";
  } catch (const s2s::Error& e) {
    EXPECT_STREQ(e.what(), "--threads must be auto (0) or a positive count, got -3");
  }
}

}  // namespace
