// Step-wise decoding (start_decoding / decode_step / DecoderState::select) against the model's
// own teacher-forced forward pass, on both RNN implementations and precisions.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <tuple>

#include "s2s/error.h"
#include "s2s/seq2seq.h"

namespace {

using s2s::Cell;
using s2s::Precision;
using s2s::RnnImpl;

s2s::Seq2Seq tiny_model(Cell cell, RnnImpl impl, Precision precision = Precision::F32) {
  torch::manual_seed(3);
  s2s::Seq2Seq model(
      s2s::Seq2SeqOptions(9).cell(cell).hidden(16).layers(2).dropout(0).impl(impl).precision(
          precision));
  model->eval();
  return model;
}

// Log-probs of every step from the decode API, feeding `tgt_in` [T, B] as the model's forward
// does (teacher forcing): [T, B, V].
at::Tensor stepwise(s2s::Seq2Seq& model, const at::Tensor& src, const at::Tensor& tgt_in) {
  const at::Tensor lengths = at::full({src.size(1)}, src.size(0), at::kLong);
  s2s::DecoderState state = model->start_decoding(src, lengths);
  std::vector<at::Tensor> steps;
  for (int64_t t = 0; t < tgt_in.size(0); ++t) {
    steps.push_back(model->decode_step(state, tgt_in[t]).clone());
  }
  return at::stack(steps);
}

class DecodeApi : public ::testing::TestWithParam<std::tuple<Cell, RnnImpl>> {};

TEST_P(DecodeApi, StepsEqualTheTeacherForcedForwardPass) {
  auto [cell, impl] = GetParam();
  auto model = tiny_model(cell, impl);
  const at::Tensor src = at::randint(3, 9, {5, 4}, at::kLong);
  at::Tensor tgt_in = at::randint(3, 9, {6, 4}, at::kLong);
  tgt_in[0].fill_(s2s::kSosId);
  torch::NoGradGuard no_grad;
  const at::Tensor expected = model->forward(src, tgt_in);
  EXPECT_TRUE(at::allclose(stepwise(model, src, tgt_in), expected, 1e-5, 1e-5));
}

TEST_P(DecodeApi, SelectReordersExpandsAndDropsRows) {
  auto [cell, impl] = GetParam();
  auto model = tiny_model(cell, impl);
  const at::Tensor src = at::randint(3, 9, {5, 3}, at::kLong);
  const at::Tensor lengths = at::full({3}, 5, at::kLong);
  const at::Tensor tok = at::tensor({4, 5, 6}, at::kLong);
  s2s::DecoderState all = model->start_decoding(src, lengths);
  model->decode_step(all, at::full({3}, s2s::kSosId, at::kLong));
  const at::Tensor expected = model->decode_step(all, tok).clone();
  for (const at::Tensor& index : {at::tensor({2, 0, 1}, at::kLong),           // reorder
                                  at::tensor({1, 1, 1, 2, 2, 0}, at::kLong),  // expand
                                  at::tensor({2}, at::kLong)}) {              // drop
    s2s::DecoderState state = model->start_decoding(src, lengths);
    model->decode_step(state, at::full({3}, s2s::kSosId, at::kLong));
    state.select(index);
    EXPECT_EQ(state.rows(), index.numel());
    const at::Tensor got = model->decode_step(state, tok.index_select(0, index));
    EXPECT_TRUE(at::allclose(got, expected.index_select(0, index), 1e-5, 1e-5)) << index;
  }
}

TEST_P(DecodeApi, EncodingIgnoresPaddingBeyondEachLength) {
  auto [cell, impl] = GetParam();
  auto model = tiny_model(cell, impl);
  // Column 0 is 3 positions long and padded to 6 in the batch; alone it is unpadded.
  at::Tensor src = at::randint(3, 9, {6, 2}, at::kLong);
  src.narrow(0, 3, 3).select(1, 0).fill_(s2s::kPadId);
  const at::Tensor sos = at::full({1}, s2s::kSosId, at::kLong);
  s2s::DecoderState alone =
      model->start_decoding(src.narrow(0, 0, 3).narrow(1, 0, 1), at::tensor({3}, at::kLong));
  s2s::DecoderState shared = model->start_decoding(src, at::tensor({3, 6}, at::kLong));
  const at::Tensor expected = model->decode_step(alone, sos).clone();
  const at::Tensor got = model->decode_step(shared, at::full({2}, s2s::kSosId, at::kLong));
  EXPECT_TRUE(at::allclose(got[0], expected[0], 1e-5, 1e-5));
  // ...and the padded encoding (what greedy sees) is different, so the test can fail.
  s2s::DecoderState padded = model->start_decoding(src, at::tensor({6, 6}, at::kLong));
  EXPECT_FALSE(at::allclose(model->decode_step(padded, at::full({2}, s2s::kSosId, at::kLong))[0],
                            expected[0], 1e-5, 1e-5));
}

INSTANTIATE_TEST_SUITE_P(CellsAndImpls, DecodeApi,
                         ::testing::Combine(::testing::Values(Cell::GRU, Cell::LSTM),
                                            ::testing::Values(RnnImpl::OneDNN, RnnImpl::Torch)));

TEST(DecodeApi, BadLengthsAreErrors) {
  auto model = tiny_model(Cell::GRU, RnnImpl::OneDNN);
  const at::Tensor src = at::randint(3, 9, {4, 2}, at::kLong);
  EXPECT_THROW(model->start_decoding(src, at::tensor({4}, at::kLong)), s2s::Error);
  EXPECT_THROW(model->start_decoding(src, at::tensor({0, 4}, at::kLong)), s2s::Error);
  EXPECT_THROW(model->start_decoding(src, at::tensor({5, 4}, at::kLong)), s2s::Error);
}

}  // namespace

namespace {

// Moving rows through select() must not change a bit of the state, in bf16 too (its f32 copy
// of bf16 values goes back unchanged): decoding after a reorder and its inverse equals
// decoding without them, exactly.
TEST(DecodeApi, SelectKeepsTheStateBitForBitInBothPrecisions) {
  for (Precision precision : {Precision::F32, Precision::BF16}) {
    s2s::Seq2Seq model{nullptr};
    try {
      model = tiny_model(Cell::LSTM, RnnImpl::OneDNN, precision);
      const at::Tensor src = at::randint(3, 9, {4, 3}, at::kLong);
      const at::Tensor lengths = at::full({3}, 4, at::kLong);
      const at::Tensor sos = at::full({3}, s2s::kSosId, at::kLong);
      const at::Tensor tok = at::tensor({5, 6, 7}, at::kLong);
      s2s::DecoderState plain = model->start_decoding(src, lengths);
      model->decode_step(plain, sos);
      const at::Tensor expected = model->decode_step(plain, tok).clone();
      s2s::DecoderState moved = model->start_decoding(src, lengths);
      model->decode_step(moved, sos);
      moved.select(at::tensor({2, 0, 1}, at::kLong));
      moved.select(at::tensor({1, 2, 0}, at::kLong));  // back in order
      EXPECT_TRUE(at::equal(model->decode_step(moved, tok), expected));
    } catch (const s2s::Error& e) {
      if (precision == Precision::BF16) GTEST_SKIP() << e.what();  // no bf16 RNN on this CPU
      throw;
    }
  }
}

}  // namespace
