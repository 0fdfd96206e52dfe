// Luong attention against a plain ATen implementation of the same equations, written one
// (batch row, step) at a time over the unpadded source only; and the source-padding mask.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>
#include <vector>

#include "s2s/attention.h"
#include "s2s/error.h"
#include "s2s/vocab.h"

namespace s2s {
namespace {

constexpr int64_t kS = 6, kB = 3, kT = 4, kH = 5;

// h̃_t = tanh(W_c [c_t; h_t]) for every (t, b), attending to memory[0 .. length_b) only: no mask,
// no batching, so it shares nothing with the module but the parameters.
at::Tensor plain_attention(LuongAttention& attn, const at::Tensor& query, const at::Tensor& memory,
                           const std::vector<int64_t>& lengths) {
  std::vector<at::Tensor> rows;  // [T] each [B, H]
  for (int64_t t = 0; t < query.size(0); ++t) {
    std::vector<at::Tensor> cols;
    for (int64_t b = 0; b < query.size(1); ++b) {
      const at::Tensor h_t = query[t][b];                                   // [H]
      const at::Tensor h_s = memory.narrow(0, 0, lengths[b]).select(1, b);  // [len, H]
      at::Tensor score;
      switch (attn->options.score()) {
        case Attention::Dot:
          score = at::mv(h_s, h_t);
          break;
        case Attention::General:
          score = at::mv(at::mm(h_s, attn->linear_in->weight.t()), h_t);
          break;
        default: {
          // W_a [h_t; h̄_s] with W_a = [W_query W_context].
          const at::Tensor w_a =
              at::cat({attn->linear_query->weight, attn->linear_context->weight}, 1);
          const at::Tensor pairs = at::cat({h_t.expand({lengths[b], kH}), h_s}, 1);
          score = at::mv(at::tanh(at::mm(pairs, w_a.t())), attn->v->weight[0]);
        }
      }
      const at::Tensor a = at::softmax(score, 0);
      const at::Tensor c_t = at::mv(h_s.t(), a);
      cols.push_back(at::tanh(at::mv(attn->linear_out->weight, at::cat({c_t, h_t}))));
    }
    rows.push_back(at::stack(cols));
  }
  return at::stack(rows);
}

at::Tensor lengths_tensor(const std::vector<int64_t>& lengths) {
  return torch::tensor(lengths, torch::kLong);
}

void expect_close(const at::Tensor& got, const at::Tensor& want, const std::string& what) {
  ASSERT_EQ(got.sizes(), want.sizes()) << what;
  const double scale = want.abs().max().item<double>();
  const double error = (got - want).abs().max().item<double>();
  EXPECT_LE(error, 1e-4 * scale) << what << "\n" << got << "\n" << want;
  EXPECT_GT(scale, 0) << what << ": all zeros proves nothing";
}

class AttentionScores : public ::testing::TestWithParam<Attention> {};

TEST_P(AttentionScores, ForwardAndGradientsEqualPlainAten) {
  torch::manual_seed(3);
  LuongAttention attn(LuongAttentionOptions(GetParam(), kH));
  attn->to(torch::kDouble);  // both sides in double: differences are the code's, not rounding's
  const std::vector<int64_t> lengths = {kS, 2, 4};
  const at::Tensor query = torch::randn({kT, kB, kH}, torch::kDouble).requires_grad_();
  const at::Tensor memory = torch::randn({kS, kB, kH}, torch::kDouble).requires_grad_();
  const at::Tensor upstream = torch::randn({kT, kB, kH}, torch::kDouble);

  const auto run = [&](bool plain) {
    attn->zero_grad();
    if (query.grad().defined()) query.grad().zero_();
    if (memory.grad().defined()) memory.grad().zero_();
    const at::Tensor y =
        plain ? plain_attention(attn, query, memory, lengths)
              : attn->forward(query, attn->prepare(memory, source_mask(memory.select(2, 0),
                                                                       lengths_tensor(lengths))));
    (y * upstream).sum().backward();
    std::vector<at::Tensor> grads = {y.detach(), query.grad().clone(), memory.grad().clone()};
    for (const auto& p : attn->parameters()) grads.push_back(p.grad().clone());
    return grads;
  };
  const auto got = run(false), want = run(true);
  ASSERT_EQ(got.size(), want.size());
  const auto names = attn->named_parameters().keys();
  for (size_t i = 0; i < got.size(); ++i) {
    const std::string what = i == 0   ? "output"
                             : i == 1 ? "d query"
                             : i == 2 ? "d memory"
                                      : "d " + names[i - 3];
    expect_close(got[i], want[i], to_string(GetParam()) + " " + what);
  }
}

TEST_P(AttentionScores, PaddingGetsNoWeightAndDoesNotMatter) {
  torch::manual_seed(4);
  LuongAttention attn(LuongAttentionOptions(GetParam(), kH));
  const std::vector<int64_t> lengths = {3, kS, 1};
  const at::Tensor mask =
      source_mask(torch::zeros({kS, kB}, torch::kLong), lengths_tensor(lengths));
  const at::Tensor query = torch::randn({kT, kB, kH});
  const at::Tensor memory = torch::randn({kS, kB, kH});
  // The same memory with other (large) values on every padded position.
  const at::Tensor noisy = memory.clone();
  for (int64_t b = 0; b < kB; ++b) {
    if (lengths[b] < kS) {
      noisy.narrow(0, lengths[b], kS - lengths[b]).select(1, b).normal_(0, 100);
    }
  }
  const at::Tensor noisy_leaf = noisy.clone().requires_grad_();
  at::Tensor weights, noisy_weights;
  const at::Tensor y = attn->forward(query, attn->prepare(memory, mask), &weights);
  const at::Tensor y_noisy = attn->forward(query, attn->prepare(noisy_leaf, mask), &noisy_weights);
  EXPECT_TRUE(torch::equal(y, y_noisy.detach()));
  EXPECT_TRUE(torch::equal(weights, noisy_weights.detach()));
  ASSERT_EQ(weights.sizes(), (at::IntArrayRef{kB, kT, kS}));
  for (int64_t b = 0; b < kB; ++b) {
    const at::Tensor padded = weights[b].narrow(1, lengths[b], kS - lengths[b]);
    EXPECT_EQ(padded.count_nonzero().item<int64_t>(), 0) << "row " << b;
    EXPECT_TRUE(torch::allclose(weights[b].sum(1), torch::ones({kT})));
  }
  // Nor does any gradient flow into padded positions.
  y_noisy.sum().backward();
  const at::Tensor grad = noisy_leaf.grad();
  for (int64_t b = 0; b < kB; ++b) {
    const at::Tensor padded = grad.narrow(0, lengths[b], kS - lengths[b]).select(1, b);
    EXPECT_EQ(padded.count_nonzero().item<int64_t>(), 0) << "row " << b;
    EXPECT_GT(grad.narrow(0, 0, lengths[b]).select(1, b).abs().sum().item<double>(), 0);
  }
}

TEST_P(AttentionScores, SelectedMemoryAttendsLikeTheRowsItCameFrom) {
  torch::manual_seed(6);
  LuongAttention attn(LuongAttentionOptions(GetParam(), kH));
  const at::Tensor mask =
      source_mask(torch::zeros({kS, kB}, torch::kLong), lengths_tensor({2, kS, 4}));
  const AttentionMemory memory = attn->prepare(torch::randn({kS, kB, kH}), mask);
  const at::Tensor query = torch::randn({1, kB, kH});
  const at::Tensor index = torch::tensor({2, 0, 2, 1}, torch::kLong);
  const at::Tensor got = attn->forward(query.index_select(1, index), memory.select(index));
  const at::Tensor want = attn->forward(query, memory).index_select(1, index);
  EXPECT_TRUE(torch::allclose(got, want, 1e-6, 1e-6));
}

INSTANTIATE_TEST_SUITE_P(Luong, AttentionScores,
                         ::testing::Values(Attention::Dot, Attention::General, Attention::Concat),
                         [](const auto& info) { return to_string(info.param); });

TEST(LuongAttention, ParameterNamesAndShapesFollowOpenNmt) {
  const auto shapes = [](Attention score) {
    std::map<std::string, std::vector<int64_t>> out;
    LuongAttention attn(LuongAttentionOptions(score, 4));
    for (const auto& p : attn->named_parameters()) out[p.key()] = p.value().sizes().vec();
    return out;
  };
  using Shapes = std::map<std::string, std::vector<int64_t>>;
  EXPECT_EQ(shapes(Attention::Dot), (Shapes{{"linear_out.weight", {4, 8}}}));
  EXPECT_EQ(shapes(Attention::General),
            (Shapes{{"linear_in.weight", {4, 4}}, {"linear_out.weight", {4, 8}}}));
  EXPECT_EQ(shapes(Attention::Concat), (Shapes{{"linear_query.weight", {4, 4}},
                                               {"linear_context.weight", {4, 4}},
                                               {"v.weight", {1, 4}},
                                               {"linear_out.weight", {4, 8}}}));
}

TEST(SourceMask, FromLengthsOrFromPadding) {
  // Columns: lengths 3, 1, 2 (<pad> after them).
  const std::vector<int64_t> ids = {5, 6, 7, 4, kPadId, 8, 9, kPadId, kPadId};
  const at::Tensor src = torch::tensor(ids, torch::kLong).view({3, 3});  // [S, B]
  const at::Tensor want =
      torch::tensor({1, 1, 1, 1, 0, 0, 1, 1, 0}, torch::kLong).view({3, 3}).to(torch::kBool);
  EXPECT_TRUE(torch::equal(source_mask(src, at::Tensor()), want));
  EXPECT_TRUE(torch::equal(source_mask(src, torch::tensor({3, 1, 2}, torch::kLong)), want));
}

TEST(ParseAttention, NamesRoundTripAndBadNamesSayWhatIsAccepted) {
  for (Attention a : {Attention::None, Attention::Dot, Attention::General, Attention::Concat}) {
    EXPECT_EQ(parse_attention(to_string(a)), a);
  }
  try {
    parse_attention("bahdanau");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "unknown attention 'bahdanau': expected none, dot, general or concat");
  }
}

}  // namespace
}  // namespace s2s
