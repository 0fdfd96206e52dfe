// The model: PyTorch-compatible parameters, correct gradients, decoding behaviour.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdio>
#include <map>
#include <memory>
#include <string>

#include "s2s/seq2seq.h"

namespace {

std::map<std::string, std::vector<int64_t>> shapes_of(const s2s::Seq2Seq& model) {
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const auto& p : model->named_parameters()) shapes[p.key()] = p.value().sizes().vec();
  return shapes;
}

// Names and shapes the project's PyTorch peer (python/s2s_peer.py) reports, read by running it.
std::map<std::string, std::vector<int64_t>> reference_shapes(const std::string& cell, int layers,
                                                             int hidden, int vocab) {
  const std::string cmd = "/usr/bin/python3 -c \"import sys; sys.path.insert(0, '" S2S_SOURCE_DIR
                          "/python'); import s2s_peer as r; m = r.Seq2Seq(" +
                          std::to_string(vocab) + ", " + std::to_string(hidden) + ", " +
                          std::to_string(layers) + ", 0.1, '" + cell +
                          "'); [print(k, *v.shape) for k, v in m.state_dict().items()]\"";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(cmd.c_str(), "r"), pclose);
  std::map<std::string, std::vector<int64_t>> shapes;
  char line[512];
  while (pipe && fgets(line, sizeof line, pipe.get())) {
    std::istringstream in(line);
    std::string name;
    in >> name;
    int64_t d;
    while (in >> d) shapes[name].push_back(d);
  }
  return shapes;
}

TEST(RnnImpl, AutoTrainsWithGemmAndRunsF32InferenceOnOneDnn) {
  using s2s::Cell;
  using s2s::Precision;
  using s2s::RnnImpl;
  for (const Precision precision : {Precision::F32, Precision::BF16}) {
    for (const bool training : {false, true}) {
      for (const Cell cell : {Cell::GRU, Cell::LSTM, Cell::RNN}) {
        for (const RnnImpl impl : {RnnImpl::OneDNN, RnnImpl::Torch, RnnImpl::Gemm}) {
          // explicit choices stand
          EXPECT_EQ(s2s::resolve_impl(impl, cell, training, precision), impl);
        }
      }
    }
  }
  for (const Cell cell : {Cell::GRU, Cell::LSTM, Cell::RNN}) {
    for (const Precision precision : {Precision::F32, Precision::BF16}) {
      EXPECT_EQ(s2s::resolve_impl(RnnImpl::Auto, cell, true, precision), RnnImpl::Gemm)
          << s2s::to_string(cell);
    }
    EXPECT_EQ(s2s::resolve_impl(RnnImpl::Auto, cell, false, Precision::BF16), RnnImpl::Gemm)
        << s2s::to_string(cell);
    EXPECT_EQ(s2s::resolve_impl(RnnImpl::Auto, cell, false, Precision::F32), RnnImpl::OneDNN)
        << s2s::to_string(cell);
  }
}

TEST(Seq2Seq, ParameterNamesAndShapesEqualTheReference) {
  for (const auto& [name, cell] :
       {std::pair{"gru", s2s::Cell::GRU}, std::pair{"lstm", s2s::Cell::LSTM},
        std::pair{"rnn", s2s::Cell::RNN}}) {
    s2s::Seq2Seq model(s2s::Seq2SeqOptions(13).cell(cell).hidden(8).layers(3));
    const auto expected = reference_shapes(name, 3, 8, 13);
    ASSERT_EQ(expected.size(), 4u + 2u * 4u * 3u) << name;
    EXPECT_EQ(shapes_of(model), expected) << name;
  }
  s2s::Seq2Seq model(s2s::Seq2SeqOptions(13).hidden(8).layers(2));
  EXPECT_TRUE(model->named_parameters().contains("enc.weight_ih_l0"));
  EXPECT_EQ(model->named_parameters()["dec.weight_hh_l1"].sizes(), (at::IntArrayRef{24, 8}));
}

// parameter_count, which loaders use before building a model, counts what the model registers.
TEST(Seq2Seq, ParameterCountIsWhatTheModelRegisters) {
  int checked = 0;
  for (const s2s::Cell cell : {s2s::Cell::GRU, s2s::Cell::LSTM, s2s::Cell::RNN})
    for (const s2s::Attention attention : {s2s::Attention::None, s2s::Attention::Dot,
                                           s2s::Attention::General, s2s::Attention::Concat})
      for (const bool bidirectional : {false, true})
        for (const bool input_feeding : {false, true})
          for (const int64_t layers : {1, 3}) {
            if (input_feeding && attention == s2s::Attention::None) continue;
            const auto options = s2s::Seq2SeqOptions(11)
                                     .cell(cell)
                                     .hidden(6)
                                     .layers(layers)
                                     .attention(attention)
                                     .bidirectional(bidirectional)
                                     .input_feeding(input_feeding);
            int64_t registered = 0;
            for (const auto& p : s2s::Seq2Seq(options)->parameters()) registered += p.numel();
            EXPECT_EQ(s2s::parameter_count(options), registered)
                << s2s::to_string(cell) << " " << s2s::to_string(attention) << " bidirectional "
                << bidirectional << " input feeding " << input_feeding << " layers " << layers;
            ++checked;
          }
  EXPECT_EQ(checked, 3 * (2 * 2 + 3 * 2 * 2 * 2));
}

TEST(Seq2Seq, InitialisationFollowsPyTorch) {
  torch::manual_seed(0);
  s2s::Seq2Seq model(s2s::Seq2SeqOptions(13).hidden(64).layers(2));
  const double bound = 1.0 / 8.0;  // 1/sqrt(hidden)
  for (const auto& p : model->enc->named_parameters()) {
    EXPECT_LE(p.value().abs().max().item<double>(), bound) << p.key();
    EXPECT_GT(p.value().abs().max().item<double>(), 0.9 * bound) << p.key();
  }
  // Embeddings ~ N(0, 1).
  EXPECT_NEAR(model->enc_emb->weight.std().item<double>(), 1.0, 0.1);
}

double loss_of(s2s::Seq2Seq& model, const at::Tensor& src, const at::Tensor& tgt_in,
               const at::Tensor& tgt) {
  auto logp = model->forward(src, tgt_in);
  return torch::nll_loss(logp.reshape({-1, logp.size(-1)}), tgt.reshape(-1), {},
                         at::Reduction::Mean, s2s::kPadId)
      .item<double>();
}

class GradientTest : public ::testing::TestWithParam<s2s::Cell> {};

TEST_P(GradientTest, AgreesWithFiniteDifferences) {
  torch::manual_seed(3);
  s2s::Seq2Seq model(s2s::Seq2SeqOptions(7).cell(GetParam()).hidden(5).layers(2).dropout(0.5));
  model->to(torch::kDouble);
  model->eval();  // dropout off: the loss must be a deterministic function of the weights
  auto src = torch::randint(3, 7, {4, 3}, torch::kLong);
  auto tgt = torch::randint(3, 7, {5, 3}, torch::kLong);
  tgt[4][2] = s2s::kPadId;  // padding is ignored by the loss
  auto tgt_in = torch::cat({torch::full({1, 3}, s2s::kSosId, torch::kLong), tgt.slice(0, 0, 4)});

  auto logp = model->forward(src, tgt_in);
  auto loss =
      torch::nll_loss(logp.reshape({-1, 7}), tgt.reshape(-1), {}, at::Reduction::Mean, s2s::kPadId);
  model->zero_grad();
  loss.backward();

  torch::NoGradGuard no_grad;
  const double eps = 1e-6;
  int checked = 0;
  for (auto& p : model->named_parameters()) {
    auto flat = p.value().view(-1);
    auto grad = p.value().grad().view(-1);
    for (int64_t i : {int64_t{0}, flat.numel() / 2, flat.numel() - 1}) {
      const double saved = flat[i].item<double>();
      flat[i] = saved + eps;
      const double up = loss_of(model, src, tgt_in, tgt);
      flat[i] = saved - eps;
      const double down = loss_of(model, src, tgt_in, tgt);
      flat[i] = saved;
      const double numeric = (up - down) / (2 * eps);
      EXPECT_NEAR(grad[i].item<double>(), numeric, 1e-6 + 1e-5 * std::abs(numeric))
          << p.key() << "[" << i << "]";
      ++checked;
    }
  }
  EXPECT_EQ(checked, 3 * (4 + 16));  // 2 embeddings, 2x8 RNN tensors, linear W and b
}

INSTANTIATE_TEST_SUITE_P(Cells, GradientTest,
                         ::testing::Values(s2s::Cell::GRU, s2s::Cell::LSTM, s2s::Cell::RNN));

TEST(Seq2Seq, TeacherForcingOneIsTheWholeSequenceDecoderAndBelowOneFeedsBack) {
  torch::manual_seed(1);
  s2s::Seq2Seq model(s2s::Seq2SeqOptions(9).hidden(6).layers(2).dropout(0.0));
  auto src = torch::randint(3, 9, {5, 2}, torch::kLong);
  auto tgt_in = torch::randint(3, 9, {5, 2}, torch::kLong);
  auto full = model->forward(src, tgt_in, 1.0);
  // Stepwise decoding with forcing probability 1 equals the whole-sequence decoder.
  auto stepwise = model->forward(src, tgt_in, 0.999999);
  EXPECT_EQ(full.sizes(), (at::IntArrayRef{5, 2, 9}));
  // With ratio 0 the decoder feeds itself: it matches greedy decoding's tokens.
  auto free = model->forward(src, tgt_in, 0.0).argmax(-1);
  model->eval();
  auto greedy_tokens = model->greedy(src, 5);
  const int64_t n = greedy_tokens.size(0);
  // Greedy stops and pads after <eos>; compare up to the first <eos> of each column.
  for (int64_t b = 0; b < 2; ++b) {
    for (int64_t t = 0; t < n; ++t) {
      if (greedy_tokens[t][b].item<int64_t>() == s2s::kPadId) break;
      EXPECT_EQ(greedy_tokens[t][b].item<int64_t>(), free[t][b].item<int64_t>());
    }
  }
  // (seeded: the coin comes up "force" on all 4 steps with this seed)
  EXPECT_TRUE(torch::allclose(full, stepwise, 1e-5, 1e-6));
}

TEST(Seq2Seq, GreedyStopsAtEosAndPadsAfterIt) {
  torch::manual_seed(2);
  s2s::Seq2Seq model(s2s::Seq2SeqOptions(6).hidden(4).layers(1));
  model->eval();
  torch::NoGradGuard no_grad;
  // Make the output layer always prefer <eos>: decoding must stop after one step.
  model->out->bias.fill_(0);
  model->out->weight.fill_(0);
  model->out->bias[s2s::kEosId] = 10;
  auto tokens = model->greedy(torch::full({3, 4}, 4, torch::kLong), 20);
  EXPECT_EQ(tokens.sizes(), (at::IntArrayRef{1, 4}));
  EXPECT_TRUE((tokens == s2s::kEosId).all().item<bool>());
  // Prefer token 5: runs to the maximum length.
  model->out->bias[s2s::kEosId] = 0;
  model->out->bias[5] = 10;
  EXPECT_EQ(model->greedy(torch::full({3, 4}, 4, torch::kLong), 7).size(0), 7);
}

// In a batch, each row stops at its own <eos>: every later step of that row is <pad>, while the
// batch runs on for rows that have not ended.
TEST(Seq2Seq, GreedyPadsEachRowAfterItsOwnEos) {
  torch::manual_seed(7);
  s2s::Seq2Seq model(s2s::Seq2SeqOptions(8).hidden(16).layers(1));
  model->eval();
  torch::NoGradGuard no_grad;
  model->out->weight.mul_(20);  // tokens follow the state, so rows end at different steps
  const auto tokens = model->greedy(torch::randint(4, 8, {5, 32}, torch::kLong), 12);
  int64_t rows_ending_early = 0;
  for (int64_t b = 0; b < tokens.size(1); ++b) {
    bool ended = false;
    for (int64_t t = 0; t < tokens.size(0); ++t) {
      const int64_t id = tokens[t][b].item<int64_t>();
      if (ended) {
        EXPECT_EQ(id, s2s::kPadId) << "row " << b << " step " << t;
      } else if (id == s2s::kEosId) {
        ended = true;
        rows_ending_early += t + 1 < tokens.size(0);
      }
    }
  }
  // The check above could fail: some rows end before the batch does.
  EXPECT_GT(rows_ending_early, 0);
}

// With two threads the fused path decodes two slices of the batch side by side; the tokens must
// be those of one single-threaded pass, including when the slices end at different steps.
TEST(Seq2Seq, GreedyDecodesTheSameTokensWithBatchSlicesOnTwoThreads) {
  const int threads = at::get_num_threads();
  for (s2s::Cell cell : {s2s::Cell::GRU, s2s::Cell::LSTM}) {
    torch::manual_seed(4);
    s2s::Seq2Seq model(s2s::Seq2SeqOptions(11).cell(cell).hidden(32).layers(2));
    model->eval();
    torch::NoGradGuard no_grad;
    model->out->weight.mul_(20);  // tokens follow the state closely
    at::set_num_threads(1);
    // Two sources whose decodings end at different steps (found by trying each token).
    std::map<int64_t, int64_t> source_by_length;
    for (int64_t tok = 3; tok < 11; ++tok) {
      source_by_length[model->greedy(torch::full({7, 1}, tok, torch::kLong), 12).size(0)] = tok;
    }
    ASSERT_GE(source_by_length.size(), 2u) << s2s::to_string(cell);
    const int64_t short_tok = source_by_length.begin()->second;
    const int64_t long_tok = source_by_length.rbegin()->second;
    // Slices are rows 0-17 and 18-36: the first ends early, the second later.
    const at::Tensor src = torch::cat({torch::full({7, 18}, short_tok, torch::kLong),
                                       torch::full({7, 19}, long_tok, torch::kLong)},
                                      1);
    const at::Tensor one = model->greedy(src, 12);
    at::set_num_threads(2);
    const at::Tensor two = model->greedy(src, 12);
    at::set_num_threads(threads);
    ASSERT_TRUE(one.sizes().equals(two.sizes())) << s2s::to_string(cell);
    EXPECT_TRUE(torch::equal(one, two)) << s2s::to_string(cell);
    EXPECT_EQ(one.size(0), source_by_length.rbegin()->first);
  }
}

// One model of each kind validation treats apart: GRU, LSTM, attention, input feeding.
std::vector<s2s::Seq2SeqOptions> validation_kinds() {
  return {s2s::Seq2SeqOptions(11).hidden(32).layers(2),
          s2s::Seq2SeqOptions(11).cell(s2s::Cell::LSTM).hidden(32).layers(2),
          s2s::Seq2SeqOptions(11).hidden(32).layers(2).attention(s2s::Attention::General),
          s2s::Seq2SeqOptions(11)
              .hidden(32)
              .layers(1)
              .attention(s2s::Attention::Dot)
              .input_feeding(true)};
}

// `batch` random sources [9, batch] of 2-9 positions each (<eos> last, then <pad>), and their
// lengths.
std::pair<at::Tensor, at::Tensor> sources_of_several_lengths(int64_t batch) {
  at::Tensor src = torch::randint(3, 11, {9, batch}, torch::kLong);
  const at::Tensor lengths = torch::randint(2, 10, {batch}, torch::kLong);
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t n = lengths[b].item<int64_t>();
    src.index_put_({n - 1, b}, s2s::kEosId);
    if (n < 9) src.narrow(0, n, 9 - n).select(1, b).fill_(s2s::kPadId);
  }
  return {src, lengths};
}

// Validation's shared encoding: score_and_greedy gives forward's teacher-forced log-probabilities
// and greedy's tokens, for every kind of model, with sources of several lengths, on one thread
// and on two (where greedy decodes slices).
TEST(Seq2Seq, ScoreAndGreedyEqualsForwardAndGreedy) {
  const int threads = at::get_num_threads();
  const std::vector<s2s::Seq2SeqOptions> kinds = validation_kinds();
  for (size_t k = 0; k < kinds.size(); ++k) {
    torch::manual_seed(5);
    s2s::Seq2Seq model(kinds[k]);
    model->eval();
    torch::NoGradGuard no_grad;
    const int64_t batch = 37;
    const auto [src, lengths] = sources_of_several_lengths(batch);
    const at::Tensor tgt_in = torch::randint(3, 11, {6, batch}, torch::kLong);
    for (const int n : {1, 2}) {
      at::set_num_threads(n);
      const auto [logp, pred] = model->score_and_greedy(src, tgt_in, 12, lengths);
      const at::Tensor expected_logp = model->forward(src, tgt_in, 1.0, lengths);
      const at::Tensor expected_pred = model->greedy(src, 12, lengths);
      EXPECT_TRUE(torch::allclose(logp, expected_logp, 1e-5, 1e-5)) << "model " << k;
      ASSERT_TRUE(pred.sizes().equals(expected_pred.sizes())) << "model " << k;
      EXPECT_TRUE(torch::equal(pred, expected_pred)) << "model " << k << ", " << n << " threads";
    }
    at::set_num_threads(threads);
  }
}

// Given the targets, score_and_greedy decodes only the columns teacher forcing gets wrong; its
// tokens stay greedy's. Half the columns' targets are greedy's own output (teacher forcing then
// predicts them: nothing to decode), the others random (decoded), and two tests take only one
// kind: all right, all wrong.
TEST(Seq2Seq, ScoreAndGreedyWithTargetsEqualsGreedy) {
  const int threads = at::get_num_threads();
  const std::vector<s2s::Seq2SeqOptions> kinds = validation_kinds();
  for (size_t k = 0; k < kinds.size(); ++k) {
    torch::manual_seed(7);
    s2s::Seq2Seq model(kinds[k]);
    model->eval();
    torch::NoGradGuard no_grad;
    const int64_t batch = 40, max_len = 8;
    const auto [src, lengths] = sources_of_several_lengths(batch);
    const at::Tensor expected = model->greedy(src, max_len, lengths);
    // Greedy's tokens as targets, <pad> after its last; tgt_in feeds them after <sos>.
    at::Tensor own = torch::full({max_len, batch}, s2s::kPadId, torch::kLong);
    own.narrow(0, 0, expected.size(0)).copy_(expected);
    at::Tensor random = torch::randint(3, 11, {max_len, batch}, torch::kLong);
    random[max_len - 1].fill_(s2s::kEosId);
    const at::Tensor half = torch::where((torch::arange(batch) % 2 == 0).unsqueeze(0), own, random);
    for (const at::Tensor& tgt : {half, own, random}) {
      at::Tensor tgt_in = torch::full_like(tgt, s2s::kSosId);
      tgt_in.narrow(0, 1, max_len - 1).copy_(tgt.narrow(0, 0, max_len - 1));
      for (const int n : {1, 2}) {
        at::set_num_threads(n);
        const auto [logp, pred] = model->score_and_greedy(src, tgt_in, max_len, lengths, tgt);
        EXPECT_TRUE(torch::allclose(logp, model->forward(src, tgt_in, 1.0, lengths), 1e-5, 1e-5))
            << "model " << k;
        ASSERT_TRUE(pred.sizes().equals(expected.sizes())) << "model " << k << ": " << pred.sizes();
        EXPECT_TRUE(torch::equal(pred, expected)) << "model " << k << ", " << n << " threads";
      }
      at::set_num_threads(threads);
    }
  }
}

}  // namespace
