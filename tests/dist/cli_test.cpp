// Distributed training as real processes on 127.0.0.1: 2 ranks against 1 process, rank 0's
// files, a rank killed and the job resumed, each failure ending with its message, s2s launch.
#include <fmt/core.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "cli_test_util.h"
#include "dist_test_util.h"
#include "s2s/checkpoint.h"
#include "support/run_command.h"
#include "train/test_util.h"

namespace {

namespace fs = std::filesystem;
using s2s::test::spawn_cli;
using s2s::testing::as_rank;
using s2s::testing::exit_within;
using s2s::testing::expect_same_training;
using s2s::testing::free_port;
using s2s::testing::lines_of;
using s2s::testing::metrics_of;
using s2s::testing::read_text;
using s2s::testing::run_job;
using s2s::testing::temp_dir;
using s2s::testing::tiny_run;
using s2s::testing::write_copy_task;

TEST(DistCli, TwoRanksOfBatch8TrainAsOneProcessOfBatch16AndOnlyRank0Writes) {
  const std::string dir = temp_dir("dist_same");
  write_copy_task(dir, 96, 30);  // 30 validation pairs: ranks validate unequal shares
  ASSERT_EQ(run_job({tiny_run(dir, dir + "/single", 16, 2)}, dir), std::vector<int>{0});
  const int port = free_port();
  // Rank 1 is told another run directory: nothing may appear there.
  const auto codes = run_job({as_rank(tiny_run(dir, dir + "/dp", 8, 2), 0, 2, port),
                              as_rank(tiny_run(dir, dir + "/rank1", 8, 2), 1, 2, port)},
                             dir);
  ASSERT_EQ(codes, (std::vector<int>{0, 0}))
      << read_text(dir + "/rank0.log") << read_text(dir + "/rank1.log");
  expect_same_training(dir + "/single", dir + "/dp");
  EXPECT_FALSE(fs::exists(dir + "/rank1"));
  for (const char* file :
       {"config.json", "metrics.jsonl", "steps.jsonl", "summary.json", "last.pt", "best.pt"}) {
    EXPECT_TRUE(fs::exists(dir + "/dp/" + file)) << file;
  }
  // Both ranks report the same (reduced) validation, and rank 0 the all-reduce's size.
  const auto epoch_lines = [](const std::string& log) {
    std::vector<std::string> out;
    for (const auto& line : lines_of(log))
      if (line.rfind("epoch ", 0) == 0) out.push_back(line.substr(0, line.find('|') + 40));
    return out;
  };
  EXPECT_EQ(epoch_lines(read_text(dir + "/rank0.log")), epoch_lines(read_text(dir + "/rank1.log")));
  EXPECT_NE(read_text(dir + "/rank0.log").find("rank 0: gradient all-reduce"), std::string::npos);

  // Accumulating 2 batches of 4 per rank is the same step again.
  const int port2 = free_port();
  auto acc0 = as_rank(tiny_run(dir, dir + "/acc", 4, 2), 0, 2, port2);
  auto acc1 = as_rank(tiny_run(dir, dir + "/acc", 4, 2), 1, 2, port2);
  for (auto* args : {&acc0, &acc1}) args->insert(args->end(), {"--accumulate", "2"});
  ASSERT_EQ(run_job({acc0, acc1}, dir), (std::vector<int>{0, 0}));
  expect_same_training(dir + "/single", dir + "/acc");
}

// --grad-compression fp16: the same training as one process of the global batch up to float16's
// rounding of the averaged gradients, recorded in config.json and the log; half the bytes. A
// resume may change it (it does not define the run) and config.json records the new value.
TEST(DistCli, TwoRanksWithFp16GradientsTrainAsOneProcessUpToFloat16Rounding) {
  const std::string dir = temp_dir("dist_fp16");
  write_copy_task(dir, 96, 30);
  ASSERT_EQ(run_job({tiny_run(dir, dir + "/single", 16, 2)}, dir), std::vector<int>{0});
  const auto job = [&](const std::string& out, const char* compression) {
    const int port = free_port();
    std::vector<std::vector<std::string>> ranks;
    for (int rank = 0; rank < 2; ++rank) {
      ranks.push_back(as_rank(tiny_run(dir, out, 8, 2), rank, 2, port));
      ranks.back().insert(ranks.back().end(), {"--grad-compression", compression});
    }
    const auto codes = run_job(ranks, dir);
    EXPECT_EQ(codes, (std::vector<int>{0, 0}))
        << read_text(dir + "/rank0.log") << read_text(dir + "/rank1.log");
    return read_text(dir + "/rank0.log");
  };
  const std::string log_f32 = job(dir + "/f32", "none");
  const std::string log_fp16 = job(dir + "/fp16", "fp16");
  // The averaged gradients differ from f32's by at most 2^-10 relative (two float16 roundings,
  // tests/train/gradient_compression_test.cpp), or 2^-24 absolute below float16's normal range.
  // Adam divides each step by the gradient's own scale, so a gradient near Adam's eps (1e-8),
  // where float16 has only subnormals or zero, can change its step by up to the learning rate:
  // over these 12 steps at lr <= 2e-3 a weight may move by some 1e-4 (seen: 2.2e-4; f32: 1e-5),
  // while the losses, averages over all weights' effects, move by ~1e-7 of themselves (seen).
  // Bounds: 1e-3 for weights, 2e-5 of the loss.
  const auto single = metrics_of(dir + "/single"), fp16 = metrics_of(dir + "/fp16");
  ASSERT_EQ(single.size(), fp16.size());
  for (size_t e = 0; e < single.size(); ++e) {
    for (const char* key : {"train_loss", "valid_loss"}) {
      EXPECT_NEAR(fp16[e][key].get<double>(), single[e][key].get<double>(),
                  2e-5 * single[e][key].get<double>())
          << key << " epoch " << e + 1;
    }
  }
  const auto a = s2s::load_checkpoint(dir + "/single/last.pt").model->named_parameters();
  const auto b = s2s::load_checkpoint(dir + "/fp16/last.pt").model->named_parameters();
  double largest = 0;
  for (const auto& item : a) {
    largest = std::max(largest, (item.value() - b[item.key()]).abs().max().item<double>());
  }
  EXPECT_LT(largest, 1e-3);
  // f32 is the plain all-reduce (tested above to 1e-5); fp16 moved the weights, if only a little.
  expect_same_training(dir + "/single", dir + "/f32");
  EXPECT_GT(largest, 0.0);
  EXPECT_EQ(nlohmann::json::parse(read_text(dir + "/fp16/config.json"))["grad_compression"],
            "fp16");
  EXPECT_EQ(nlohmann::json::parse(read_text(dir + "/f32/config.json"))["grad_compression"], "none");
  // The log's bytes per step: float16 is half of f32.
  const auto megabytes = [](const std::string& log) {
    const auto at = log.find("rank 0: gradient all-reduce ");
    return at == std::string::npos ? -1.0 : std::stod(log.substr(at + 28));
  };
  EXPECT_NEAR(megabytes(log_fp16), megabytes(log_f32) / 2, 0.01) << log_fp16 << log_f32;
  EXPECT_NE(log_fp16.find("--grad-compression fp16"), std::string::npos) << log_fp16;
  const auto help = s2s::test::run_cli("train --help");
  EXPECT_NE(help.out.find("--grad-compression"), std::string::npos) << help.out;
  EXPECT_NE(help.out.find("fp16_compress_hook"), std::string::npos) << help.out;

  const auto resumed = s2s::test::run_cli("train --resume " + dir +
                                          "/fp16 --epochs 3 --threads 1 "
                                          "--grad-compression none");
  EXPECT_EQ(resumed.exit_code, 0) << resumed.out;
  EXPECT_EQ(nlohmann::json::parse(read_text(dir + "/fp16/config.json"))["grad_compression"],
            "none");
  EXPECT_EQ(metrics_of(dir + "/fp16").size(), 3u);
}

TEST(DistCli, AKilledRankEndsTheJobLoudlyAndResumeContinues) {
  const std::string dir = temp_dir("dist_kill");
  write_copy_task(dir, 1600, 40);
  const std::string out = dir + "/run";
  const int port = free_port();
  const pid_t rank0 =
      spawn_cli(as_rank(tiny_run(dir, out, 8, 200), 0, 2, port, 10), dir + "/r0.log");
  const pid_t rank1 =
      spawn_cli(as_rank(tiny_run(dir, out, 8, 200), 1, 2, port, 10), dir + "/r1.log");
  for (int i = 0; i < 600 && metrics_of(out).empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // into the next epoch
  kill(rank1, SIGKILL);
  EXPECT_EQ(exit_within(rank1), 128 + SIGKILL);
  EXPECT_EQ(exit_within(rank0), 1) << read_text(dir + "/r0.log");
  const std::string log0 = read_text(dir + "/r0.log");
  EXPECT_NE(log0.find("s2s: error: rank 0: "), std::string::npos) << log0;
  EXPECT_NE(log0.find("failed, the job cannot continue"), std::string::npos) << log0;

  // The last checkpoint is whole; the job continues from it for one more epoch.
  const auto state = nlohmann::json::parse(s2s::load_checkpoint(out + "/last.pt").meta.state_json);
  const int64_t done = state["epoch"].get<int64_t>();
  ASSERT_GE(done, 1);
  const int port2 = free_port();
  const auto resume = [&](int rank) {
    return as_rank({"train", "--resume", out, "--epochs", std::to_string(done + 1)}, rank, 2,
                   port2);
  };
  ASSERT_EQ(run_job({resume(0), resume(1)}, dir), (std::vector<int>{0, 0}))
      << read_text(dir + "/rank0.log") << read_text(dir + "/rank1.log");
  const auto metrics = metrics_of(out);
  ASSERT_EQ(metrics.size(), static_cast<size_t>(done + 1));
  EXPECT_EQ(metrics.back()["epoch"], done + 1);
  EXPECT_EQ(nlohmann::json::parse(read_text(out + "/summary.json"))["stop_reason"], "completed");
  EXPECT_EQ(nlohmann::json::parse(read_text(out + "/config.json"))["ranks"], 2);

  // One process may continue a 2-rank run, with a warning.
  const auto alone =
      s2s::test::run_cli(fmt::format("train --resume {} --epochs {} --threads 1", out, done + 2));
  EXPECT_EQ(alone.exit_code, 0) << alone.out;
  EXPECT_NE(alone.out.find("warning: this run was trained on 2 rank(s), it continues on 1"),
            std::string::npos)
      << alone.out;
  EXPECT_EQ(metrics_of(out).size(), static_cast<size_t>(done + 2));
}

TEST(DistCli, UnreachableMasterFailsWithinTheTimeout) {
  const std::string dir = temp_dir("dist_unreachable");
  write_copy_task(dir, 32, 8);
  const int port = free_port();
  const pid_t pid =
      spawn_cli(as_rank(tiny_run(dir, dir + "/run", 8, 1), 1, 2, port, 2), dir + "/log");
  EXPECT_EQ(exit_within(pid), 1);
  EXPECT_NE(read_text(dir + "/log")
                .find("s2s: error: rank 1: cannot reach the rendezvous store "
                      "at tcp://127.0.0.1:" +
                      std::to_string(port) + " within 2s"),
            std::string::npos)
      << read_text(dir + "/log");
}

TEST(DistCli, PortInUseFailsRank0AndTheOtherRankWithinTheTimeout) {
  const std::string dir = temp_dir("dist_port");
  write_copy_task(dir, 32, 8);
  // Something else listens on the port (and never answers).
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(fd, 4), 0);
  socklen_t length = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length);
  const int port = ntohs(addr.sin_port);
  const auto codes = run_job({as_rank(tiny_run(dir, dir + "/run", 8, 1), 0, 2, port, 3),
                              as_rank(tiny_run(dir, dir + "/run", 8, 1), 1, 2, port, 3)},
                             dir);
  close(fd);
  EXPECT_EQ(codes, (std::vector<int>{1, 1}));
  EXPECT_NE(read_text(dir + "/rank0.log")
                .find("s2s: error: rank 0: cannot host the rendezvous "
                      "store"),
            std::string::npos)
      << read_text(dir + "/rank0.log");
  EXPECT_NE(read_text(dir + "/rank0.log").find("port in use?"), std::string::npos);
  EXPECT_NE(read_text(dir + "/rank1.log").find("s2s: error: rank 1:"), std::string::npos)
      << read_text(dir + "/rank1.log");
}

TEST(DistCli, MismatchedWorldSizesFailEveryRankWithTheSizes) {
  const std::string dir = temp_dir("dist_world");
  write_copy_task(dir, 32, 8);
  const int port = free_port();
  const auto codes = run_job({as_rank(tiny_run(dir, dir + "/run", 8, 1), 0, 2, port, 5),
                              as_rank(tiny_run(dir, dir + "/run", 8, 1), 1, 3, port, 5)},
                             dir);
  EXPECT_EQ(codes, (std::vector<int>{1, 1}));
  // Rank 0 hosts the store: it must not exit before rank 1 has read its size (CI saw rank 1
  // cut off once).
  const std::string log0 = read_text(dir + "/rank0.log");
  const std::string log1 = read_text(dir + "/rank1.log");
  EXPECT_NE(log0.find("s2s: error: world size mismatch: rank 0 was started with a world of 2, "
                      "rank 1 with 3"),
            std::string::npos)
      << log0;
  EXPECT_NE(log1.find("s2s: error: world size mismatch: rank 1 was started with a world of 3, "
                      "rank 0 with 2"),
            std::string::npos)
      << log1;
}

// The rank whose RANK variable is `rank` among the launcher's children.
pid_t child_with_rank(pid_t launcher, int rank) {
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string stat = read_text(entry.path().string() + "/stat");
    const auto close_paren = stat.rfind(')');
    if (close_paren == std::string::npos) continue;
    int ppid = 0;
    char state = 0;
    if (std::sscanf(stat.c_str() + close_paren + 2, "%c %d", &state, &ppid) != 2) continue;
    if (ppid != launcher) continue;
    std::string env = read_text(entry.path().string() + "/environ");
    std::replace(env.begin(), env.end(), '\0', '\n');
    if (env.find("\nRANK=" + std::to_string(rank) + "\n") != std::string::npos) {
      return std::stoi(name);
    }
  }
  return 0;
}

// `s2s launch` of 2 ranks on this machine running `s2s <rank_args>`.
std::vector<std::string> launch_of(const std::vector<std::string>& rank_args) {
  std::vector<std::string> args{
      "launch", "--nproc-per-node", "2", "--master-port", std::to_string(free_port()), "--", "s2s"};
  args.insert(args.end(), rank_args.begin(), rank_args.end());
  args.insert(args.end(), {"--dist-timeout", "10"});
  return args;
}

// The "interrupted ..." line of each rank in a launcher's log (rank prefix and run path cut).
std::vector<std::string> interruptions(const std::string& log) {
  std::vector<std::string> out;
  for (const auto& line : lines_of(log)) {
    const auto at = line.find("] interrupted ");
    if (at != std::string::npos) out.push_back(line.substr(0, line.find(';')));
  }
  return out;
}

// Ctrl-C in a terminal reaches the launcher alone (each rank has its own process group); it
// forwards SIGTERM once, the ranks agree on the step to stop after, rank 0 writes last.pt, and
// the job exits 130. --resume through the launcher then continues the distributed run where it
// stopped: it ends exactly where an uninterrupted 2-rank run ends.
TEST(DistCli, CtrlCThroughLaunchStopsEveryRankAndResumeContinuesExactly) {
  const std::string dir = temp_dir("dist_sigint");
  write_copy_task(dir, 1600, 40);  // 100 steps an epoch of 2 x 8 pairs
  const int epochs = 3;
  const pid_t whole =
      spawn_cli(launch_of(tiny_run(dir, dir + "/whole", 8, epochs)), dir + "/whole.log");
  ASSERT_EQ(exit_within(whole), 0) << read_text(dir + "/whole.log");

  const std::string out = dir + "/run";
  const pid_t launcher = spawn_cli(launch_of(tiny_run(dir, out, 8, epochs)), dir + "/log");
  // Interrupt once steps are logged (every 2nd step), while the first epoch runs. Up to 2
  // minutes: two ranks start slowly under sanitizers on a loaded machine (12 s was not enough).
  const auto logged_steps = [&] {
    return fs::exists(out + "/steps.jsonl") ? lines_of(read_text(out + "/steps.jsonl")).size()
                                            : size_t{0};
  };
  for (int i = 0; i < 6000 && logged_steps() < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_GE(logged_steps(), 3u) << read_text(dir + "/log");
  kill(launcher, SIGINT);
  ASSERT_EQ(exit_within(launcher), 130) << read_text(dir + "/log");
  const std::string log = read_text(dir + "/log");
  // Both ranks stopped after the same step, and said so.
  const auto stops = interruptions(log);
  ASSERT_EQ(stops.size(), 2u) << log;
  EXPECT_EQ(stops[0].substr(stops[0].find(']')), stops[1].substr(stops[1].find(']'))) << log;
  EXPECT_NE(log.find("[rank 0] interrupted "), std::string::npos) << log;
  EXPECT_NE(log.find("[rank 1] interrupted "), std::string::npos) << log;
  const auto state = nlohmann::json::parse(s2s::load_checkpoint(out + "/last.pt").meta.state_json);
  EXPECT_LT(state["epoch"].get<int64_t>(), epochs) << "the job ended before the interrupt";

  const pid_t resumed = spawn_cli(launch_of({"train", "--resume", out}), dir + "/resume.log");
  ASSERT_EQ(exit_within(resumed), 0) << read_text(dir + "/resume.log");
  EXPECT_EQ(nlohmann::json::parse(read_text(out + "/summary.json"))["stop_reason"], "completed");
  expect_same_training(dir + "/whole", out);
}

TEST(DistCli, LaunchPrefixesRanksAndNamesTheRankThatDied) {
  const std::string dir = temp_dir("dist_launch");
  write_copy_task(dir, 1600, 40);
  const std::string out = dir + "/run";
  std::vector<std::string> args{"launch",        "--nproc-per-node",          "2",
                                "--master-port", std::to_string(free_port()), "--"};
  args.push_back("s2s");
  for (auto& a : tiny_run(dir, out, 8, 200)) args.push_back(a);
  args.insert(args.end(), {"--dist-timeout", "10"});
  const pid_t launcher = spawn_cli(args, dir + "/log");
  // Until epoch 1 is on disk and each rank has said so: a rank prints its epoch line after the
  // barrier that follows rank 0's metrics line, so metrics.jsonl alone can come first (a kill
  // then, on a loaded machine, found no "[rank 1]" line yet).
  const auto both_said_epoch_1 = [&] {
    const std::string log = read_text(dir + "/log");
    return log.find("[rank 0] epoch 1/200") != std::string::npos &&
           log.find("[rank 1] epoch 1/200") != std::string::npos;
  };
  for (int i = 0; i < 600 && (metrics_of(out).empty() || !both_said_epoch_1()); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const pid_t rank1 = child_with_rank(launcher, 1);
  ASSERT_GT(rank1, 0);
  kill(rank1, SIGKILL);
  EXPECT_EQ(exit_within(launcher), 128 + SIGKILL);
  const std::string log = read_text(dir + "/log");
  EXPECT_NE(log.find("[rank 0] epoch 1/200"), std::string::npos) << log;
  EXPECT_NE(log.find("[rank 1] epoch 1/200"), std::string::npos) << log;
  EXPECT_NE(log.find("s2s: error: rank 1 was killed by signal 9 (Killed); the job failed and the "
                     "other ranks were stopped"),
            std::string::npos)
      << log;
  EXPECT_NO_THROW(s2s::load_checkpoint(out + "/last.pt"));
}

}  // namespace
