// --threads auto: /proc/stat's per-core lines parsed exactly, and the rule (one thread per usable
// core that was idle over the sample) on hand-made samples.
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "s2s/runtime.h"

namespace {

using s2s::CoreTicks;

// The total line, two cores and the lines after them, as Linux writes them.
std::string proc_stat(uint64_t idle0, uint64_t busy0, uint64_t idle1, uint64_t busy1) {
  return "cpu  " + std::to_string(busy0 + busy1) + " 0 0 " + std::to_string(idle0 + idle1) +
         " 0 0 0 0 0 0\n" + "cpu0 " + std::to_string(busy0) + " 0 0 " + std::to_string(idle0) +
         " 0 0 0 0 0 0\n" + "cpu1 " + std::to_string(busy1) + " 0 0 " + std::to_string(idle1) +
         " 0 0 0 0 0 0\nintr 12345 0 0\nctxt 999\ncpu_fake 1 2 3 4\n";
}

TEST(AutoThreads, ParsesEachCoresIdleAndTotalTicks) {
  const auto cores = s2s::parse_proc_stat(
      "cpu  10 20 30 40 50 60 70 80 0 0\n"
      "cpu0 1 2 3 4 5 6 7 8 0 0\n"
      "cpu1 10 0 0 100 3 0 0 0 0 0\n"
      "intr 1 2 3\n");
  ASSERT_EQ(cores.size(), 2u);
  EXPECT_EQ(cores[0].idle, 4u + 5u);  // idle + iowait
  EXPECT_EQ(cores[0].total, 36u);
  EXPECT_EQ(cores[1].idle, 103u);
  EXPECT_EQ(cores[1].total, 113u);
}

TEST(AutoThreads, OneThreadPerIdleUsableCore) {
  const auto before = s2s::parse_proc_stat(proc_stat(1000, 1000, 1000, 1000));
  // Core 0 idle (2% busy), core 1 busy 90% of the sample.
  const auto one_busy = s2s::parse_proc_stat(proc_stat(1098, 1002, 1010, 1090));
  const auto choice = s2s::choose_threads(before, one_busy, {true, true});
  EXPECT_EQ(choice.threads, 1);
  EXPECT_EQ(choice.reason,
            "threads: 1 (auto: 1 of 2 usable cores idle, the others busy with other processes; "
            "a thread on a busy core would stall the rest: --threads N overrides)");

  const auto idle = s2s::parse_proc_stat(proc_stat(1099, 1001, 1097, 1003));
  const auto both = s2s::choose_threads(before, idle, {true, true});
  EXPECT_EQ(both.threads, 2);
  EXPECT_EQ(both.reason, "threads: 2 (auto: all 2 usable cores are idle)");

  // A core outside the affinity mask never counts, idle or not.
  EXPECT_EQ(s2s::choose_threads(before, idle, {false, true}).threads, 1);
  EXPECT_EQ(s2s::choose_threads(before, idle, {false, true}).reason,
            "threads: 1 (auto: all 1 usable cores are idle)");
}

TEST(AutoThreads, AtLeastOneThreadWhenEveryCoreIsBusyOrNothingIsReadable) {
  const auto before = s2s::parse_proc_stat(proc_stat(1000, 1000, 1000, 1000));
  const auto busy = s2s::parse_proc_stat(proc_stat(1001, 1099, 1000, 1100));
  EXPECT_EQ(s2s::choose_threads(before, busy, {true, true}).threads, 1);
  EXPECT_EQ(s2s::choose_threads(before, busy, {true, true}).reason,
            "threads: 1 (auto: all 2 usable cores busy with other processes, so the fewest; "
            "--threads N overrides)");
  const auto nothing = s2s::choose_threads({}, {}, {});
  EXPECT_EQ(nothing.threads, 1);
  EXPECT_EQ(nothing.reason, "threads: 1 (auto: no core usage readable from /proc/stat)");
  // No ticks elapsed (a very short sample): counted as idle, not as a division by zero.
  EXPECT_EQ(s2s::choose_threads(before, before, {true, true}).threads, 2);
}

TEST(AutoThreads, TheLiveSampleChoosesBetweenOneAndTheCoresWeMayUse) {
  const auto choice = s2s::auto_threads(std::chrono::milliseconds(20));
  EXPECT_GE(choice.threads, 1);
  EXPECT_LE(choice.threads, static_cast<int64_t>(std::thread::hardware_concurrency()));
  EXPECT_EQ(choice.reason.rfind("threads: " + std::to_string(choice.threads) + " (auto: ", 0), 0u)
      << choice.reason;
}

}  // namespace
