// The project's PyTorch peer (python/s2s_peer.py), which bench/run times beside s2s: it runs
// from a fresh clone, prints the numbers bench/run reads, and trains on s2s's CSV format.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>

#include "support/run_command.h"

namespace {

namespace fs = std::filesystem;

const std::string kPeer = "/usr/bin/python3 " S2S_SOURCE_DIR "/python/s2s_peer.py";

TEST(PyTorchPeer, BenchPrintsTheTimesBenchRunReads) {
  const auto r = s2s::test::run_command(
      kPeer +
      " --bench --cell lstm --layers 2 --hidden 16 --batch 8 --len 5 --steps 2 "
      "--threads 1 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out.substr(r.out.find('{')));
  EXPECT_EQ(j.at("cell"), "lstm");
  EXPECT_EQ(j.at("layers"), 2);
  EXPECT_EQ(j.at("hidden"), 16);
  EXPECT_EQ(j.at("batch"), 8);
  EXPECT_EQ(j.at("len"), 5);
  EXPECT_EQ(j.at("threads"), 1);
  for (const char* key :
       {"train_step_ms", "greedy_b1_ms", "greedy_b8_ms", "beam5_b1_ms", "beam5_b8_ms"}) {
    EXPECT_GT(j.at(key).get<double>(), 0.0) << key;
  }
}

TEST(PyTorchPeer, BenchTimesTheAttentionModelItIsAskedFor) {
  const auto r = s2s::test::run_command(
      kPeer +
      " --bench --attention concat --input-feeding --layers 2 --hidden 16 --batch 4 --len 5 "
      "--steps 2 --threads 1 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out.substr(r.out.find('{')));
  EXPECT_EQ(j.at("attention"), "concat");
  EXPECT_EQ(j.at("input_feeding"), true);
  EXPECT_GT(j.at("beam5_b4_ms").get<double>(), 0.0);
}

// What bench/run compares our beam search with must be a beam search: beam 1 is greedy, and a
// beam as wide as every prefix (V^(steps-1)) finds the exhaustive best sequence's score (a beam
// that forgets to reorder the decoder states after its top-k fails this).
TEST(PyTorchPeer, BeamSearchIsGreedyAtOneAndExactWhenWideEnough) {
  const std::string script = R"(
import itertools, sys, torch
sys.path.insert(0, ')" S2S_SOURCE_DIR R"(/python')
import s2s_peer as p
torch.manual_seed(3)
for m in (p.Seq2Seq(5, 8, 2, 0.0, 'gru'),
          p.AttnSeq2Seq(5, 8, 2, 'gru', 'general', feed=True, bidirectional=True)):
    m.eval()
    with torch.no_grad():
        for q in m.parameters(): q.mul_(3)  # varied outputs that depend on the state
    src = torch.randint(3, 5, (4, 4))
    assert torch.equal(p.beam_search(m, src, 4, 1), m.greedy(src, 4)), 'beam 1 != greedy'
    def score(seq, col):
        state, tok, total = m.start(src[:, col:col + 1]), torch.tensor([[p.SOS_ID]]), 0.0
        for w in seq:
            logp, state = m.step(tok, state)
            total, tok = total + logp[0, w].item(), torch.tensor([[w]])
        return total
    with torch.no_grad():
        best = p.beam_search(m, src, 4, 125)
        for col in range(4):
            exhaustive = max(score(s, col) for s in itertools.product(range(5), repeat=4))
            found = score(best[:, col].tolist(), col)
            assert abs(found - exhaustive) < 1e-5, (col, found, exhaustive)
print('ok')
)";
  const fs::path file = fs::temp_directory_path() / "s2s_peer_beam_check.py";
  std::ofstream(file) << script;
  const auto r = s2s::test::run_command("/usr/bin/python3 " + file.string() + " 2>&1");
  fs::remove(file);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out, "ok\n");
}

TEST(PyTorchPeer, TrainsOnS2sCsvAndReportsEveryEpoch) {
  const fs::path dir = fs::temp_directory_path() / "s2s_peer_test";
  fs::create_directories(dir);
  for (const char* name : {"train.csv", "valid.csv"}) {
    std::ofstream(dir / name) << "source,target\n1 2 3,3 2 1\n4 5,5 4\n6 7 8 9,9 8 7 6\n";
  }
  const auto r = s2s::test::run_command(kPeer + " --train " + (dir / "train.csv").string() +
                                        " --valid " + (dir / "valid.csv").string() +
                                        " --epochs 2 --layers 1 --hidden 8 --batch 2 2>&1");
  fs::remove_all(dir);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const std::regex epoch_line(
      R"(epoch (\d) train_loss \d+\.\d{4} valid_seq_acc (0|1)\.\d{4} epoch_s \d+\.\d)");
  int epochs = 0;
  for (std::sregex_iterator it(r.out.begin(), r.out.end(), epoch_line), end; it != end; ++it) {
    EXPECT_EQ(std::stoi((*it)[1]), ++epochs);
  }
  EXPECT_EQ(epochs, 2) << r.out;
}

TEST(PyTorchPeer, RefusesTrainWithoutValid) {
  const auto r = s2s::test::run_command(kPeer + " --train x.csv 2>&1");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("--train needs --valid"), std::string::npos) << r.out;
}

}  // namespace
