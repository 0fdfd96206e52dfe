// The course model trained with our oneDNN kernels and with stock torch: same losses step by
// step, and weights saved under one implementation load and run under the other; padded
// batches trained packed on gemm and by length groups on oneDNN to the same losses.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <string>
#include <vector>

#include "s2s/seq2seq.h"

namespace s2s {
namespace {

Seq2Seq course_model(RnnImpl impl, Cell cell) {
  return Seq2Seq(Seq2SeqOptions(13).cell(cell).hidden(256).layers(4).dropout(0.8).impl(impl));
}

// Losses of `steps` Adam steps on fixed random batches, from the same initial weights and the
// same seed (so the same dropout masks, drawn by the same at::dropout calls in both).
std::vector<double> train_losses(RnnImpl impl, Cell cell, int steps) {
  torch::manual_seed(1);
  Seq2Seq model = course_model(impl, cell);
  torch::optim::Adam adam(model->parameters(), torch::optim::AdamOptions(1e-3));
  torch::manual_seed(2);
  const int64_t len = 10, batch = 64;
  std::vector<double> losses;
  for (int s = 0; s < steps; ++s) {
    const at::Tensor src = torch::randint(3, 13, {len, batch});
    const at::Tensor tgt = torch::randint(3, 13, {len, batch});
    const at::Tensor tgt_in =
        torch::cat({torch::full({1, batch}, kSosId, torch::kLong), tgt.narrow(0, 0, len - 1)});
    model->train();
    adam.zero_grad();
    const at::Tensor loss =
        torch::nll_loss(model->forward(src, tgt_in).reshape({-1, 13}), tgt.reshape({-1}));
    loss.backward();
    adam.step();
    losses.push_back(loss.item<double>());
  }
  return losses;
}

// got equals want step by step (1e-4 relative), and got moves: equal losses that never change
// would prove nothing about the updates.
void expect_same_losses(const std::vector<double>& got, const std::vector<double>& want,
                        const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_NEAR(got[i], want[i], 1e-4 * std::abs(want[i])) << what << " step " << i;
  }
  EXPECT_NE(got.front(), got.back()) << what;
}

TEST(ImplEquivalence, CourseModelTrainsToTheSameLossesWithEveryImplementation) {
  for (Cell cell : {Cell::GRU, Cell::LSTM}) {
    const std::vector<double> torch_losses = train_losses(RnnImpl::Torch, cell, 4);
    for (RnnImpl impl : {RnnImpl::OneDNN, RnnImpl::Gemm}) {
      expect_same_losses(train_losses(impl, cell, 4), torch_losses,
                         to_string(impl) + " " + to_string(cell));
    }
  }
}

// Losses of `steps` Adam steps on batches of variable-length (padded) sources and, with
// pad_targets, variable-length targets (the loss leaves their padding out).
std::vector<double> padded_losses(const Seq2SeqOptions& options, int steps, bool pad_targets) {
  torch::manual_seed(1);
  Seq2Seq model(options);
  torch::optim::Adam adam(model->parameters(), torch::optim::AdamOptions(1e-3));
  torch::manual_seed(2);
  const int64_t len = 9, batch = 16;
  const auto padded = [&](int64_t shortest) {
    at::Tensor tokens = torch::randint(3, 13, {len, batch});
    const at::Tensor lengths = torch::randint(shortest, len + 1, {batch});
    tokens.masked_fill_(at::arange(len).unsqueeze(1).ge(lengths.unsqueeze(0)), kPadId);
    return std::pair{tokens, lengths};
  };
  std::vector<double> losses;
  for (int s = 0; s < steps; ++s) {
    const auto [src, src_lengths] = padded(2);
    const at::Tensor tgt = pad_targets ? padded(1).first : torch::randint(3, 13, {len, batch});
    const at::Tensor tgt_in =
        torch::cat({torch::full({1, batch}, kSosId, torch::kLong), tgt.narrow(0, 0, len - 1)});
    model->train();
    adam.zero_grad();
    const at::Tensor loss =
        torch::nll_loss(model->forward(src, tgt_in, 1.0, src_lengths).reshape({-1, 13}),
                        tgt.reshape({-1}), {}, at::Reduction::Mean, kPadId);
    loss.backward();
    adam.step();
    losses.push_back(loss.item<double>());
  }
  return losses;
}

// Attention models, with variable-length (padded) sources: the batched attention path, input
// feeding (step by step) and the bidirectional encoder train to the same losses under both.
TEST(ImplEquivalence, AttentionModelsTrainToTheSameLossesWithBothImplementations) {
  const auto base = Seq2SeqOptions(13).hidden(32).layers(2).dropout(0.3);
  for (const auto& options :
       {Seq2SeqOptions(base).attention(Attention::General),
        Seq2SeqOptions(base).attention(Attention::Concat).input_feeding(true).cell(Cell::LSTM),
        Seq2SeqOptions(base).attention(Attention::Dot).bidirectional(true)}) {
    expect_same_losses(padded_losses(Seq2SeqOptions(options).impl(RnnImpl::OneDNN), 4, false),
                       padded_losses(Seq2SeqOptions(options).impl(RnnImpl::Torch), 4, false),
                       to_string(options.attention()) + " " + to_string(options.cell()));
  }
}

// Training on gemm packs each source and target to its length (one call per batch); oneDNN
// encodes each group of equal-length sources on its own and decodes over the targets' padding.
// Both leave the padding out of every result the loss reads, so the losses agree (no dropout:
// the groups draw their masks per group).
TEST(ImplEquivalence, PackedTrainingOnGemmMatchesOneDnnOnPaddedBatches) {
  const auto base = Seq2SeqOptions(13).hidden(32).layers(2).dropout(0.0);
  for (const auto& options :
       {Seq2SeqOptions(base).cell(Cell::GRU),
        Seq2SeqOptions(base).cell(Cell::LSTM).attention(Attention::General).bidirectional(true),
        Seq2SeqOptions(base)
            .cell(Cell::LSTM)
            .attention(Attention::Dot)
            .bidirectional(true)
            .bidirectional_merge(DirectionMerge::Concat)}) {
    expect_same_losses(padded_losses(Seq2SeqOptions(options).impl(RnnImpl::Gemm), 4, true),
                       padded_losses(Seq2SeqOptions(options).impl(RnnImpl::OneDNN), 4, true),
                       to_string(options.cell()) + " " + to_string(options.attention()));
  }
}

TEST(ImplEquivalence, WeightsSavedWithOneImplementationRunUnderTheOther) {
  torch::manual_seed(5);
  Seq2Seq trained = course_model(RnnImpl::OneDNN, Cell::GRU);
  const auto path = std::filesystem::temp_directory_path() / "s2s_impl_equivalence.pt";
  torch::save(trained, path.string());
  torch::manual_seed(6);  // different initial weights, overwritten by the load
  Seq2Seq loaded = course_model(RnnImpl::Torch, Cell::GRU);
  torch::load(loaded, path.string());
  std::filesystem::remove(path);
  trained->eval();
  loaded->eval();
  const at::Tensor src = torch::randint(3, 13, {10, 8});
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::equal(trained->greedy(src, 10), loaded->greedy(src, 10)));
  const at::Tensor tgt_in = torch::randint(3, 13, {10, 8});
  EXPECT_TRUE(
      torch::allclose(trained->forward(src, tgt_in), loaded->forward(src, tgt_in), 1e-4, 1e-5));
}

// Greedy decoding takes the fused DecodeStep path under OneDNN and the module path under Torch.
TEST(ImplEquivalence, GreedyDecodingAgreesForEveryCell) {
  for (Cell cell : {Cell::GRU, Cell::LSTM, Cell::RNN}) {
    for (int64_t layers : {1, 3}) {
      torch::manual_seed(9);
      const auto options = Seq2SeqOptions(11).cell(cell).hidden(24).layers(layers);
      Seq2Seq ours(Seq2SeqOptions(options).impl(RnnImpl::OneDNN));
      Seq2Seq ref(Seq2SeqOptions(options).impl(RnnImpl::Torch));
      {
        torch::NoGradGuard no_grad;
        // Large weights make the argmax sequences varied (and differences visible).
        for (auto& p : ours->parameters()) p.uniform_(-1.5, 1.5);
        ours->out->bias[kEosId].fill_(-100);  // decode to full length
        const auto theirs = ref->parameters();
        const auto mine = ours->parameters();
        for (size_t i = 0; i < mine.size(); ++i) theirs[i].copy_(mine[i]);
      }
      ours->eval();
      ref->eval();
      const at::Tensor src = torch::randint(3, 11, {7, 5});
      const at::Tensor got = ours->greedy(src, 9), want = ref->greedy(src, 9);
      EXPECT_TRUE(torch::equal(got, want)) << to_string(cell) << " L" << layers << "\n"
                                           << got << "\n"
                                           << want;
      EXPECT_EQ(got.size(0), 9);
      EXPECT_GT(std::get<0>(at::_unique(got)).numel(), 2) << "degenerate decoding proves little";
    }
  }
}

}  // namespace
}  // namespace s2s
