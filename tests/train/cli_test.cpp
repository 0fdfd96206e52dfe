// train / eval / infer / export / import as processes: signals, kills, printouts, errors,
// and the round trip through Python's torch.load and the reference model.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <thread>
#include <tuple>

#include <fmt/core.h>
#include <httplib.h>

#include <cmath>

#include "s2s/checkpoint.h"
#include "s2s/error.h"
#include "support/run_command.h"
#include "test_util.h"

namespace {

namespace fs = std::filesystem;
using s2s::test::run_cli;
using s2s::test::spawn_cli;
using s2s::testing::lines_of;
using s2s::testing::read_text;
using s2s::testing::temp_dir;
using s2s::testing::write_copy_task;

int wait_exit(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::vector<std::string> slow_run(const std::string& dir, const std::string& out) {
  return {"train",
          "--train",
          dir + "/train.csv",
          "--valid",
          dir + "/valid.csv",
          "--out",
          out,
          "--layers",
          "2",
          "--hidden",
          "64",
          "--epochs",
          "1000",
          "--threads",
          "1"};
}

TEST(TrainCli, SigintFinishesTheStepWritesLastPtAndExits130) {
  const std::string dir = temp_dir("sigint");
  write_copy_task(dir, 2000, 50);
  const std::string out = dir + "/run";
  const pid_t pid = spawn_cli(slow_run(dir, out), dir + "/log.txt");
  // Wait for the first epoch to finish, then interrupt in the middle of the second.
  for (int i = 0; i < 600 && lines_of(read_text(out + "/metrics.jsonl")).empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  kill(pid, SIGINT);
  EXPECT_EQ(wait_exit(pid), 130) << read_text(dir + "/log.txt");
  const auto ck = s2s::load_checkpoint(out + "/last.pt");
  const auto state = nlohmann::json::parse(ck.meta.state_json);
  EXPECT_GE(state["epoch"].get<int64_t>(), 1);
  EXPECT_NE(read_text(dir + "/log.txt").find("--resume"), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(read_text(out + "/summary.json"))["stop_reason"], "interrupted");
}

// oneDNN's JIT GEMM points rsp at heap memory while it runs, so a signal handler on a compute
// thread corrupts the heap (src/runtime/signal_thread.cpp). Every thread of a training process,
// OpenMP workers and dashboard server threads included, must block SIGINT and SIGTERM, except
// the one thread that exists to take them.
TEST(TrainCli, OnlyTheSignalThreadCanTakeSigintOrSigterm) {
  const std::string dir = temp_dir("sigmask");
  write_copy_task(dir, 400, 40);
  const std::string out = dir + "/run";
  auto args = slow_run(dir, out);
  args.back() = "2";  // --threads 2: OpenMP workers exist too
  args.insert(args.end(), {"--dashboard", "--dashboard-port", "0"});
  const pid_t pid = spawn_cli(args, dir + "/log.txt");
  for (int i = 0; i < 600 && lines_of(read_text(out + "/metrics.jsonl")).empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const uint64_t handled = (1ull << (SIGINT - 1)) | (1ull << (SIGTERM - 1));
  std::vector<std::string> unblocked;
  int blocked = 0;
  for (const auto& task : fs::directory_iterator(fmt::format("/proc/{}/task", pid))) {
    const std::string status = read_text(task.path().string() + "/status");
    const auto at = status.find("SigBlk:");
    ASSERT_NE(at, std::string::npos) << status;
    const uint64_t mask = std::stoull(status.substr(at + 7), nullptr, 16);
    if ((mask & handled) == handled) {
      ++blocked;
    } else {
      std::string name = read_text(task.path().string() + "/comm");
      unblocked.push_back(name.substr(0, name.find('\n')));
    }
  }
  kill(pid, SIGINT);
  EXPECT_EQ(wait_exit(pid), 130) << read_text(dir + "/log.txt");
  EXPECT_EQ(unblocked, std::vector<std::string>{"s2s-signals"});
  EXPECT_GE(blocked, 3);  // main, an OpenMP worker, the dashboard server
}

TEST(TrainCli, DashboardServesTheRunWhileItTrains) {
  const std::string dir = temp_dir("dashboard");
  write_copy_task(dir, 400, 40);
  const std::string out = dir + "/run", log = dir + "/log.txt";
  auto args = slow_run(dir, out);
  args.insert(args.end(), {"--dashboard", "--dashboard-port", "0"});
  const pid_t pid = spawn_cli(args, log);
  // The URL is printed before the first epoch; then the run's epochs appear in the API.
  int port = 0;
  size_t epochs_seen = 0;
  for (int i = 0; i < 600 && epochs_seen == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const std::string text = fs::exists(log) ? read_text(log) : "";
    const auto at = text.find("dashboard: http://127.0.0.1:");
    if (at == std::string::npos) continue;
    port = std::stoi(text.substr(at + std::string("dashboard: http://127.0.0.1:").size()));
    httplib::Client client("127.0.0.1", port);
    auto runs = client.Get("/api/runs");
    if (!runs || runs->status != 200) continue;
    const auto list = nlohmann::json::parse(runs->body)["runs"];
    if (list.size() != 1) continue;
    epochs_seen = list[0]["epochs"].get<size_t>();
  }
  kill(pid, SIGINT);
  EXPECT_EQ(wait_exit(pid), 130);
  EXPECT_GT(port, 0) << read_text(log);
  EXPECT_GE(epochs_seen, 1u) << read_text(log);
}

TEST(TrainCli, CheckpointKilledAtRandomMomentsIsAlwaysLoadable) {
  const std::string dir = temp_dir("kill9");
  write_copy_task(dir, 64, 16);  // tiny epochs: last.pt is rewritten many times a second
  const std::string out = dir + "/run";
  std::mt19937 rng(11);
  int loaded = 0;
  for (int round = 0; round < 6; ++round) {
    // Resume when there is something to resume: kills then also land in resume's writes.
    const auto args = fs::exists(out + "/last.pt")
                          ? std::vector<std::string>{"train", "--resume", out, "--threads", "1"}
                          : slow_run(dir, out);
    const auto before = fs::exists(out + "/last.pt") ? fs::last_write_time(out + "/last.pt")
                                                     : fs::file_time_type::min();
    const pid_t pid = spawn_cli(args, dir + "/log.txt");
    // Once the process is writing checkpoints, kill it at a random moment within ~1 s.
    for (int i = 0; i < 600; ++i) {
      if (fs::exists(out + "/last.pt") && fs::last_write_time(out + "/last.pt") != before) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 1000));
    kill(pid, SIGKILL);
    wait_exit(pid);
    if (!fs::exists(out + "/last.pt")) continue;
    EXPECT_NO_THROW(s2s::load_checkpoint(out + "/last.pt")) << "round " << round;
    ++loaded;
  }
  EXPECT_EQ(loaded, 6);
}

// Issue 16: `--resume RUN --epochs 2 --layers 1 --hidden 32` on a run of 2 layers of 64 units
// exited 0, wrote 1x32 into config.json and the checkpoints, and `s2s eval --model RUN/last.pt`
// failed from then on. Now it stops before touching the run, naming both flags; flags that may
// change are applied and recorded.
// Each rank's clock would plan its own epochs and leave the others waiting in an all-reduce:
// refused before any rendezvous (nothing listens at the --init address here).
TEST(TrainCli, TimeBudgetIsRefusedInADistributedRun) {
  const std::string dir = temp_dir("budget_dist");
  write_copy_task(dir, 20, 10);
  const auto r =
      run_cli("train --train " + dir + "/train.csv --valid " + dir + "/valid.csv --out " + dir +
              "/run --time-budget 5 --world-size 2 "
              "--rank 1 --init tcp://127.0.0.1:9");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_EQ(r.out,
            "s2s: error: --time-budget works with one process only, not in a distributed run "
            "(world size 2)\n");
  const auto negative = run_cli("train --train " + dir + "/train.csv --valid " + dir +
                                "/valid.csv --out " + dir + "/run --time-budget -1");
  EXPECT_EQ(negative.exit_code, 2) << negative.out;
  EXPECT_NE(negative.out.find("--time-budget must be >= 0 minutes (0: no limit)"),
            std::string::npos)
      << negative.out;
}

TEST(TrainCli, ResumeRefusesFlagsThatChangeTheModelAndRecordsTheOthers) {
  const std::string dir = temp_dir("resume_flags");
  write_copy_task(dir, 120, 30);
  const std::string run = dir + "/run";
  const std::string data = " --train " + dir + "/train.csv --valid " + dir + "/valid.csv";
  ASSERT_EQ(run_cli("train" + data + " --out " + run +
                    " --layers 2 --hidden 64 --epochs 1 --batch 32 --threads 1")
                .exit_code,
            0);
  const std::string config = read_text(run + "/config.json");
  const std::string metrics = read_text(run + "/metrics.jsonl");
  const std::string last = read_text(run + "/last.pt");

  const auto refused = run_cli("train --resume " + run + " --epochs 2 --layers 1 --hidden 32");
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_EQ(refused.out, "s2s: error: --resume " + run +
                             ": --layers 1 differs from the run's 2; --hidden 32 differs from "
                             "the run's 64\n");
  EXPECT_EQ(read_text(run + "/config.json"), config);
  EXPECT_EQ(read_text(run + "/metrics.jsonl"), metrics);
  EXPECT_TRUE(read_text(run + "/last.pt") == last) << "last.pt was rewritten";
  const auto eval = run_cli("eval --model " + run + "/last.pt --data " + dir + "/valid.csv");
  EXPECT_EQ(eval.exit_code, 0) << eval.out;

  // The same model flags as the run's are fine; epochs and patience are applied and recorded.
  const auto resumed =
      run_cli("train --resume " + run + " --layers 2 --epochs 2 --patience 4 --threads 1");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.out;
  const auto stored = nlohmann::json::parse(read_text(run + "/config.json"));
  EXPECT_EQ(stored["epochs"], 2);
  EXPECT_EQ(stored["patience"], 4);
  EXPECT_EQ(stored["layers"], 2);
  EXPECT_EQ(lines_of(read_text(run + "/metrics.jsonl")).size(), 2u);
  EXPECT_EQ(run_cli("eval --model " + run + "/last.pt --data " + dir + "/valid.csv").exit_code, 0);
}

class TrainedModel : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = temp_dir("trained");
    write_copy_task(dir_, 4000, 200);
    const auto r = run_cli("train --train " + dir_ + "/train.csv --valid " + dir_ +
                           "/valid.csv --out " + dir_ +
                           "/run --layers 1 --hidden 128 --dropout 0 --batch 32 --lr 0.005 "
                           "--lr-decay 0.7 --epochs 8 --threads 1 --seed 3");
    ASSERT_EQ(r.exit_code, 0) << r.out;
  }
  static std::string model() { return dir_ + "/run/best.pt"; }
  static std::string dir_;
};
std::string TrainedModel::dir_;

TEST_F(TrainedModel, EvalJsonReportsTheNumbers) {
  const auto r = run_cli("eval --model " + model() + " --data " + dir_ + "/valid.csv --json");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["rows"], 200);
  // The training run's best validation epoch, recomputed from best.pt.
  const auto summary = nlohmann::json::parse(read_text(dir_ + "/run/summary.json"));
  EXPECT_DOUBLE_EQ(j["seq_acc"].get<double>(),
                   summary["best_metrics"]["valid_seq_acc"].get<double>());
  EXPECT_DOUBLE_EQ(j["token_acc"].get<double>(),
                   summary["best_metrics"]["valid_token_acc"].get<double>());
  EXPECT_NEAR(j["loss"].get<double>(), summary["best_metrics"]["valid_loss"].get<double>(), 1e-6);
  EXPECT_GE(j["seq_acc"].get<double>(), 0.98);
  EXPECT_LT(j["loss"].get<double>(), 0.05);
  EXPECT_EQ(j["unknown_tokens"], 0);
}

TEST_F(TrainedModel, InferPrintsTheCoursesLines) {
  auto r = run_cli("infer --model " + model() + " --input '3 1 4 1'");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out, "Call: 3 1 4 1\nResp: 3 1 4 1\n");
  r = run_cli("infer --model " + model() + " --data " + dir_ + "/valid.csv --show 2");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto lines = lines_of(r.out);
  ASSERT_EQ(lines.size(), 7u) << r.out;
  EXPECT_EQ(lines[0].substr(0, 6), "Call: ");
  EXPECT_EQ(lines[1].substr(6), lines[0].substr(6));  // True: the copy
  EXPECT_EQ(lines[2].substr(0, 6), "Resp: ");
  const auto summary = nlohmann::json::parse(read_text(dir_ + "/run/summary.json"));
  const double acc = summary["best_metrics"]["valid_seq_acc"].get<double>();
  EXPECT_EQ(lines[6], fmt::format("Accuracy: {:.4f} ({}/200)", acc, std::lround(acc * 200)));
  std::ofstream(dir_ + "/stdin.txt") << "9 9 8 7\n\n5 5 5 5\n";
  r = run_cli("infer --model " + model() + " < " + dir_ + "/stdin.txt");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out, "Call: 9 9 8 7\nResp: 9 9 8 7\nCall: 5 5 5 5\nResp: 5 5 5 5\n");
}

TEST_F(TrainedModel, BadInputsGiveOneLineErrorsAndExit2) {
  const std::string bad = dir_ + "/bad";
  fs::create_directories(bad);
  const std::string bytes = read_text(model());
  std::ofstream(bad + "/truncated.pt", std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  std::ofstream(bad + "/letters.csv") << "source,target\na b c,c b a\nx y,y x\n";
  const std::pair<std::string, std::string> cases[] = {
      {"eval --model " + bad + "/truncated.pt --data " + dir_ + "/valid.csv",
       "truncated.pt: not a readable s2s checkpoint"},
      {"eval --model " + dir_ + "/valid.csv --data " + dir_ + "/valid.csv",
       "valid.csv: not a readable s2s checkpoint"},
      {"eval --model " + model() + " --data " + bad + "/letters.csv",
       "letters.csv: none of its tokens are in the vocabulary"},
      {"infer --model " + model() + " --input 'a b'", "none of its tokens"},
      {"train --resume " + bad, "config.json: cannot open"},
      // Choices are parsed once, at the flag, into the configuration's enums.
      {"train --train " + dir_ + "/train.csv --valid " + dir_ + "/valid.csv --out " + bad +
           "/never --cell transformer",
       "--cell: unknown cell 'transformer': expected gru, lstm or rnn"},
      {"train --train " + dir_ + "/train.csv --valid " + dir_ + "/valid.csv --out " + bad +
           "/never --lr-schedule cyclic",
       "--lr-schedule: unknown learning-rate schedule 'cyclic'"},
      {"train --train " + dir_ + "/train.csv --valid " + dir_ + "/valid.csv --out " + bad +
           "/never --lr-schedule warmup-cosine --warmup-epochs -1",
       "--warmup-epochs must be >= 0"},
      {"train --train " + dir_ + "/train.csv --valid " + dir_ + "/valid.csv --out " + bad +
           "/never --grad-compression bf16",
       "--grad-compression: unknown gradient compression 'bf16': expected none or fp16"},
  };
  for (const auto& [args, message] : cases) {
    const auto r = run_cli(args);
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.out;
    EXPECT_EQ(lines_of(r.out).size(), 1u) << r.out;
    EXPECT_NE(r.out.find("s2s: error: "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(message), std::string::npos) << r.out;
  }
}

// A checkpoint is f32 weights whatever trained it; eval and infer can decode it in bf16. On a
// model this well trained the two precisions agree nearly everywhere.
TEST_F(TrainedModel, Bf16EvalAndInferAgreeWithF32) {
  const std::string eval = "eval --model " + model() + " --data " + dir_ + "/valid.csv --json";
  const auto f32 = run_cli(eval);
  const auto bf16 = run_cli(eval + " --precision bf16");
  ASSERT_EQ(f32.exit_code, 0) << f32.out;
  ASSERT_EQ(bf16.exit_code, 0) << bf16.out;
  const auto a = nlohmann::json::parse(f32.out), b = nlohmann::json::parse(bf16.out);
  EXPECT_GE(b["seq_acc"].get<double>(), 0.97);
  EXPECT_NEAR(b["seq_acc"].get<double>(), a["seq_acc"].get<double>(), 0.02);
  EXPECT_NEAR(b["loss"].get<double>(), a["loss"].get<double>(),
              0.25 * a["loss"].get<double>() + 1e-3);
  EXPECT_NE(b["loss"].get<double>(), a["loss"].get<double>()) << "bf16 did not run";
  const auto r = run_cli("infer --precision bf16 --model " + model() + " --input '3 1 4 1'");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out, "Call: 3 1 4 1\nResp: 3 1 4 1\n");
}

// Each error is one line and exit 2. ONEDNN_MAX_CPU_ISA=AVX2 makes oneDNN behave as on a CPU
// without AVX-512, where it has no bf16 RNN.
TEST_F(TrainedModel, Bf16ErrorsAreOneLine) {
  const std::string data = " --data " + dir_ + "/valid.csv";
  const std::string no_bf16 =
      "--precision bf16: oneDNN has no bf16 RNN for this CPU (needs AVX-512); use --precision f32";
  const std::pair<std::string, std::string> cases[] = {
      {"train --train " + dir_ + "/train.csv --valid " + dir_ + "/valid.csv --out " + dir_ +
           "/never --rnn-impl torch --precision bf16",
       "--precision bf16 needs --rnn-impl onednn or gemm (the stock torch RNNs run in f32 only)"},
      {"eval --model " + model() + data + " --precision f16",
       "unknown precision 'f16': expected f32 or bf16"},
      {"infer --model " + model() + " --input '1 2' --precision fp32",
       "unknown precision 'fp32': expected f32 or bf16"},
  };
  for (const auto& [args, message] : cases) {
    const auto r = run_cli(args);
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.out;
    EXPECT_EQ(r.out, "s2s: error: " + message + "\n") << args;
  }
  EXPECT_FALSE(fs::exists(dir_ + "/never"));
  for (const std::string& args : {"eval --model " + model() + data + " --precision bf16",
                                  "infer --model " + model() + " --input '1 2' --precision bf16"}) {
    const auto r =
        s2s::test::run_command("ONEDNN_MAX_CPU_ISA=AVX2 " S2S_CLI_PATH " " + args + " 2>&1");
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.out;
    EXPECT_EQ(r.out, "s2s: error: " + no_bf16 + "\n") << args;
    // f32 still works there.
    const std::string f32_args = args.substr(0, args.size() - 4) + "f32";
    const auto f32 =
        s2s::test::run_command("ONEDNN_MAX_CPU_ISA=AVX2 " S2S_CLI_PATH " " + f32_args + " 2>&1");
    EXPECT_EQ(f32.exit_code, 0) << f32.out;
  }
}

std::string python(const std::string& args) {
  const std::string cmd =
      "/usr/bin/python3 " S2S_SOURCE_DIR "/tests/train/interop_check.py " + args + " 2>&1";
  std::string out;
  FILE* pipe = popen(cmd.c_str(), "r");
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  EXPECT_EQ(pclose(pipe), 0) << out;
  return out;
}

const char* kInputs = "3 1 4 1\n5 9 2 6\n0 0 0 7\n8 8 1 2\n";

TEST_F(TrainedModel, ExportedStateDictGivesTheSameGreedyOutputsInPython) {
  const std::string sd = dir_ + "/export.pt";
  const auto r = run_cli("export --model " + model() + " --to " + sd);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  ASSERT_TRUE(fs::exists(dir_ + "/export.vocab.json"));
  std::ofstream(dir_ + "/inputs.txt") << kInputs;
  const std::string py =
      python("greedy " + dir_ + "/export.vocab.json " + dir_ + "/inputs.txt " + sd);
  const auto cpp = run_cli("infer --model " + model() + " < " + dir_ + "/inputs.txt");
  std::string resp;
  for (const auto& line : lines_of(cpp.out)) {
    if (line.rfind("Resp: ", 0) == 0) resp += line.substr(6) + "\n";
  }
  EXPECT_EQ(py, resp);
  EXPECT_EQ(py, kInputs);  // and the model copies
}

TEST(Interop, ImportedPythonModelsDecodeLikePython) {
  const std::string dir = temp_dir("import");
  std::ofstream(dir + "/inputs.txt") << kInputs;
  const std::string vocab = dir + "/vocab.json";
  python("make " + dir + " " + vocab);
  std::string cpp_all;
  for (const char* cell : {"gru", "lstm", "rnn"}) {
    const std::string sd = dir + "/" + cell + ".pt";
    const auto r = run_cli("import --from " + sd + " --vocab " + vocab + " --to " + dir + "/m.pt");
    ASSERT_EQ(r.exit_code, 0) << r.out;
    const auto ck = s2s::load_checkpoint(dir + "/m.pt");
    EXPECT_EQ(s2s::to_string(ck.model->options.cell()), cell);
    EXPECT_EQ(ck.model->options.layers(), 2);
    const auto cpp = run_cli("infer --model " + dir + "/m.pt < " + dir + "/inputs.txt");
    for (const auto& line : lines_of(cpp.out)) {
      if (line.rfind("Resp:", 0) == 0) cpp_all += (line.size() > 6 ? line.substr(6) : "") + "\n";
    }
  }
  const std::string py = python("greedy " + vocab + " " + dir + "/inputs.txt " + dir + "/gru.pt " +
                                dir + "/lstm.pt " + dir + "/rnn.pt");
  EXPECT_EQ(py, cpp_all);
  EXPECT_GE(lines_of(py).size(), 12u);
}

std::string responses(const std::string& infer_output) {
  std::string out;
  for (const auto& line : lines_of(infer_output)) {
    if (line.rfind("Resp:", 0) == 0) out += (line.size() > 6 ? line.substr(6) : "") + "\n";
  }
  return out;
}

// Attention models written by a PyTorch module with the same equations (interop_check.py's
// AttnSeq2Seq): imported, they decode as in Python; exported again, Python decodes the export
// the same way (the round trip keeps names, shapes and the attention settings). Each `infer`
// call gets sources of one length: in a batch of mixed lengths the encoder's final state runs
// over the padding (as the course model's does), which Python's one-at-a-time decoding has not.
TEST(Interop, AttentionModelsRoundTripThroughPython) {
  const std::string dir = temp_dir("import_attention");
  const std::vector<std::string> inputs = {kInputs, "4 4 1 9 6 2\n", "7\n"};
  for (size_t i = 0; i < inputs.size(); ++i) {
    std::ofstream(dir + "/inputs" + std::to_string(i) + ".txt") << inputs[i];
  }
  std::ofstream(dir + "/inputs.txt") << inputs[0] << inputs[1] << inputs[2];
  const std::string vocab = dir + "/vocab.json";
  python("make-attention " + dir + " " + vocab);
  using s2s::DirectionMerge;
  const std::map<std::string, std::tuple<s2s::Attention, bool, bool, DirectionMerge>> models = {
      {"gru_dot", {s2s::Attention::Dot, false, false, DirectionMerge::Sum}},
      {"lstm_general_bi", {s2s::Attention::General, false, true, DirectionMerge::Sum}},
      {"gru_concat_feed", {s2s::Attention::Concat, true, false, DirectionMerge::Sum}},
      {"lstm_general_bicat", {s2s::Attention::General, false, true, DirectionMerge::Concat}}};
  for (const auto& [name, settings] : models) {
    const std::string sd = dir + "/" + name + ".pt", model = dir + "/" + name + ".s2s.pt";
    auto r = run_cli("import --from " + sd + " --vocab " + vocab + " --to " + model);
    ASSERT_EQ(r.exit_code, 0) << r.out;
    const auto ck = s2s::load_checkpoint(model);
    EXPECT_EQ(ck.model->options.attention(), std::get<0>(settings)) << name;
    EXPECT_EQ(ck.model->options.input_feeding(), std::get<1>(settings)) << name;
    EXPECT_EQ(ck.model->options.bidirectional(), std::get<2>(settings)) << name;
    EXPECT_EQ(ck.model->options.bidirectional_merge(), std::get<3>(settings)) << name;
    const std::string py = python("greedy " + vocab + " " + dir + "/inputs.txt " + sd);
    const auto py_lines = lines_of(py);
    EXPECT_EQ(py_lines.size(), 6u) << name;
    EXPECT_GT(std::set<std::string>(py_lines.begin(), py_lines.end()).size(), 2u)
        << name << ": degenerate outputs prove little";
    std::string cpp;
    for (size_t i = 0; i < inputs.size(); ++i) {
      const std::string file = dir + "/inputs" + std::to_string(i) + ".txt";
      cpp += responses(run_cli("infer --model " + model + " < " + file).out);
    }
    EXPECT_EQ(cpp, py) << name;
    const std::string exported = dir + "/" + name + ".export.pt";
    r = run_cli("export --model " + model + " --to " + exported);
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_EQ(python("greedy " + vocab + " " + dir + "/inputs.txt " + exported), py) << name;
  }
}

}  // namespace
