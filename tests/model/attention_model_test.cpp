// Seq2Seq with attention: parameter names, the batched training path against step-by-step
// decoding, greedy decoding against the step API, state selection, the bidirectional encoder
// against torch.nn's, and old configurations untouched.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>
#include <vector>

#include "s2s/error.h"
#include "s2s/seq2seq.h"

namespace s2s {
namespace {

constexpr int64_t kVocab = 11;

struct Variant {
  std::string name;
  Seq2SeqOptions options;
};

std::vector<Variant> variants(RnnImpl impl) {
  const auto base = Seq2SeqOptions(kVocab).hidden(16).layers(2).dropout(0.0).impl(impl);
  return {
      {"dot", Seq2SeqOptions(base).attention(Attention::Dot)},
      {"general_lstm", Seq2SeqOptions(base).attention(Attention::General).cell(Cell::LSTM)},
      {"concat_feeding", Seq2SeqOptions(base).attention(Attention::Concat).input_feeding(true)},
      {"general_bidirectional_lstm_feeding", Seq2SeqOptions(base)
                                                 .attention(Attention::General)
                                                 .cell(Cell::LSTM)
                                                 .bidirectional(true)
                                                 .input_feeding(true)},
      {"none_bidirectional", Seq2SeqOptions(base).bidirectional(true)},
      {"general_bidirectional_concat_lstm", Seq2SeqOptions(base)
                                                .attention(Attention::General)
                                                .cell(Cell::LSTM)
                                                .bidirectional(true)
                                                .bidirectional_merge(DirectionMerge::Concat)},
  };
}

// A batch with real padding: columns of lengths 5, 2, 4 (incl. <eos>), <pad> after them.
struct Sources {
  at::Tensor src = torch::randint(3, kVocab, {5, 3});
  at::Tensor lengths = torch::tensor({5, 2, 4}, torch::kLong);
  Sources() {
    for (int64_t b = 0; b < 3; ++b) {
      const int64_t n = lengths[b].item<int64_t>();
      src[n - 1][b] = kEosId;
      src.narrow(0, n, 5 - n).select(1, b).fill_(kPadId);
    }
  }
};

void randomize(Seq2Seq& model) {
  torch::NoGradGuard no_grad;
  for (auto& p : model->parameters()) p.uniform_(-1.5, 1.5);
}

TEST(AttentionModel, ParameterNamesExtendTheReferenceModelsInOrder) {
  Seq2Seq none(Seq2SeqOptions(kVocab).hidden(4).layers(1));
  EXPECT_EQ(none->named_parameters().keys(),
            (std::vector<std::string>{"enc_emb.weight", "enc.weight_ih_l0", "enc.weight_hh_l0",
                                      "enc.bias_ih_l0", "enc.bias_hh_l0", "dec_emb.weight",
                                      "dec.weight_ih_l0", "dec.weight_hh_l0", "dec.bias_ih_l0",
                                      "dec.bias_hh_l0", "out.weight", "out.bias"}));
  Seq2Seq full(Seq2SeqOptions(kVocab)
                   .hidden(4)
                   .layers(1)
                   .attention(Attention::General)
                   .input_feeding(true)
                   .bidirectional(true));
  const auto names = full->named_parameters().keys();
  const std::vector<std::string> tail = {"attn.linear_in.weight", "attn.linear_out.weight",
                                         "out.weight", "out.bias"};
  EXPECT_EQ(std::vector<std::string>(names.end() - 4, names.end()), tail);
  EXPECT_TRUE(full->named_parameters().contains("enc.weight_hh_l0_reverse"));
  // Input feeding: the decoder reads [embedding; h̃], twice the width.
  EXPECT_EQ(full->named_parameters()["dec.weight_ih_l0"].sizes(), (at::IntArrayRef{12, 8}));
}

TEST(AttentionModel, InputFeedingWithoutAttentionIsAnError) {
  try {
    Seq2Seq model(Seq2SeqOptions(kVocab).input_feeding(true));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "--input-feeding needs --attention (dot, general or concat)");
  }
}

// The training path (one decoder call over the whole target, attention batched over steps, or
// step by step with input feeding) gives the log-probabilities of feeding the same tokens one
// at a time through decode_step.
TEST(AttentionModel, TeacherForcedForwardEqualsDecodingStepByStep) {
  for (RnnImpl impl : {RnnImpl::OneDNN, RnnImpl::Torch}) {
    for (const auto& v : variants(impl)) {
      torch::manual_seed(7);
      Seq2Seq model(v.options);
      model->eval();
      // Padded sources: training, like step-wise decoding, encodes each source up to its length.
      const Sources s;
      const at::Tensor &src = s.src, &lengths = s.lengths;
      const at::Tensor tgt_in = torch::randint(3, kVocab, {6, 3});
      torch::NoGradGuard no_grad;
      const at::Tensor batched = model->forward(src, tgt_in, 1.0, lengths);
      DecoderState state = model->start_decoding(src, lengths);
      std::vector<at::Tensor> steps;
      for (int64_t t = 0; t < tgt_in.size(0); ++t) {
        steps.push_back(model->decode_step(state, tgt_in[t]).clone());
      }
      EXPECT_TRUE(torch::allclose(batched, at::stack(steps), 1e-5, 1e-5)) << v.name;
    }
  }
}

// Greedy decoding (the fused DecodeStep path with OneDNN, the module path with Torch) takes
// the argmax of the step API at every step.
TEST(AttentionModel, GreedyFollowsTheArgmaxOfDecodeStep) {
  for (RnnImpl impl : {RnnImpl::OneDNN, RnnImpl::Torch}) {
    for (const auto& v : variants(impl)) {
      torch::manual_seed(8);
      Seq2Seq model(v.options);
      randomize(model);
      {
        torch::NoGradGuard no_grad;
        model->out->bias[kEosId].fill_(-100);  // decode to full length
      }
      model->eval();
      const Sources s;
      const at::Tensor &src = s.src, &lengths = s.lengths;
      const at::Tensor got = model->greedy(src, 7, lengths);
      torch::NoGradGuard no_grad;
      DecoderState state = model->start_decoding(src, lengths);
      at::Tensor tok = torch::full({3}, kSosId, torch::kLong);
      std::vector<at::Tensor> want;
      for (int t = 0; t < 7; ++t) {
        tok = model->decode_step(state, tok).argmax(-1);
        want.push_back(tok);
      }
      EXPECT_TRUE(torch::equal(got, at::stack(want))) << v.name << "\n" << got << at::stack(want);
      EXPECT_GT(std::get<0>(at::_unique(got)).numel(), 2) << "degenerate decoding proves little";
    }
  }
}

TEST(AttentionModel, SelectedDecoderStateContinuesLikeTheRowsItCameFrom) {
  for (RnnImpl impl : {RnnImpl::OneDNN, RnnImpl::Torch}) {
    for (const auto& v : variants(impl)) {
      torch::manual_seed(9);
      Seq2Seq model(v.options);
      model->eval();
      const Sources s;
      const at::Tensor first = torch::tensor({4, 5, 6}, torch::kLong);
      DecoderState state = model->start_decoding(s.src, s.lengths);
      DecoderState twin = model->start_decoding(s.src, s.lengths);
      model->decode_step(state, first);
      model->decode_step(twin, first);
      const at::Tensor index = torch::tensor({2, 2, 0, 1}, torch::kLong);
      state.select(index);
      const at::Tensor next = torch::tensor({7, 8, 9}, torch::kLong);
      const at::Tensor got = model->decode_step(state, next.index_select(0, index)).clone();
      const at::Tensor want = model->decode_step(twin, next).index_select(0, index);
      EXPECT_TRUE(torch::allclose(got, want, 1e-5, 1e-5)) << v.name;
    }
  }
}

// Step-wise decoding reads each source up to its length only: neither how much padding
// follows nor what it holds changes anything (attention included).
TEST(AttentionModel, DecodingIgnoresWhateverFollowsEachSource) {
  for (const auto& v : variants(RnnImpl::OneDNN)) {
    torch::manual_seed(10);
    Seq2Seq model(v.options);
    model->eval();
    const Sources s;
    at::Tensor noisy = at::cat({s.src, torch::full({3, 3}, kPadId, torch::kLong)});
    for (int64_t b = 0; b < 3; ++b) {
      const int64_t n = s.lengths[b].item<int64_t>();
      noisy.narrow(0, n, 8 - n).select(1, b).random_(3, kVocab);
    }
    DecoderState state = model->start_decoding(s.src, s.lengths);
    DecoderState other = model->start_decoding(noisy, s.lengths);
    for (const at::Tensor& tok :
         {torch::tensor({4, 5, 6}, torch::kLong), torch::tensor({7, 3, 9}, torch::kLong)}) {
      const at::Tensor want = model->decode_step(state, tok).clone();
      EXPECT_TRUE(torch::allclose(model->decode_step(other, tok), want, 1e-6, 1e-6)) << v.name;
    }
  }
}

// Training reads each source up to its length: a column's log-probabilities are those of the
// column alone, without padding, whatever shares its batch (every variant, both impls).
TEST(AttentionModel, TrainingForwardOfAColumnIsThatOfTheColumnAlone) {
  for (RnnImpl impl : {RnnImpl::OneDNN, RnnImpl::Torch}) {
    for (const auto& v : variants(impl)) {
      torch::manual_seed(13);
      Seq2Seq model(v.options);
      model->eval();
      const Sources s;
      const at::Tensor tgt_in = torch::randint(3, kVocab, {4, 3});
      torch::NoGradGuard no_grad;
      const at::Tensor batched = model->forward(s.src, tgt_in, 1.0, s.lengths);
      for (int64_t b = 0; b < 3; ++b) {
        const int64_t n = s.lengths[b].item<int64_t>();
        const at::Tensor alone =
            model->forward(s.src.narrow(0, 0, n).narrow(1, b, 1), tgt_in.narrow(1, b, 1));
        EXPECT_TRUE(torch::allclose(batched.narrow(1, b, 1), alone, 1e-5, 1e-5))
            << v.name << " column " << b;
      }
    }
  }
}

// Training on gemm packs the decoder, the attention's output and the output layer to each
// target's length: on the positions a target reaches, the log-probabilities and every gradient
// are those of oneDNN's padded run with the same weights; past them, exactly 0.
TEST(AttentionModel, PackedTrainingOutputsEqualThePaddedRunAndZeroPastEachTarget) {
  for (const auto& v : variants(RnnImpl::Gemm)) {
    if (v.options.input_feeding()) continue;  // step by step: nothing packed
    torch::manual_seed(17);
    Seq2Seq packed(v.options);
    Seq2Seq padded(Seq2SeqOptions(v.options).impl(RnnImpl::OneDNN));
    randomize(packed);
    {
      torch::NoGradGuard no_grad;
      for (size_t i = 0; i < packed->parameters().size(); ++i) {
        padded->parameters()[i].copy_(packed->parameters()[i]);
      }
    }
    const Sources s;
    const at::Tensor target_lengths = torch::tensor({5, 2, 3}, torch::kLong);
    at::Tensor tgt_in = torch::randint(3, kVocab, {5, 3});
    const at::Tensor reached =
        torch::arange(5).unsqueeze(1).lt(target_lengths.unsqueeze(0));  // [T, B]
    tgt_in.masked_fill_(reached.logical_not(), kPadId);
    const at::Tensor upstream = torch::randn({5, 3, kVocab}) * reached.unsqueeze(-1);

    const auto run = [&](Seq2Seq& model) {
      model->zero_grad();
      const at::Tensor logp = model->forward(s.src, tgt_in, 1.0, s.lengths);
      (logp * upstream).sum().backward();
      std::vector<at::Tensor> results = {logp.detach()};
      for (const auto& p : model->parameters()) results.push_back(p.grad().clone());
      return results;
    };
    const auto got = run(packed), want = run(padded);
    const at::Tensor past = reached.logical_not().unsqueeze(-1).expand_as(got[0]);
    EXPECT_EQ(got[0].masked_select(past).count_nonzero().item<int64_t>(), 0) << v.name;
    EXPECT_TRUE(torch::allclose(got[0].masked_select(past.logical_not()),
                                want[0].masked_select(past.logical_not()), 1e-5, 1e-5))
        << v.name;
    const auto names = packed->named_parameters().keys();
    for (size_t i = 1; i < got.size(); ++i) {  // within 1e-4 of the largest: float rounding
      const double scale = want[i].abs().max().item<double>();
      EXPECT_LE((got[i] - want[i]).abs().max().item<double>(), 1e-4 * scale)
          << v.name << " d " << names[i - 1];
      EXPECT_GT(scale, 0) << v.name << " d " << names[i - 1];
    }
  }
}

// The bidirectional RnnStack is torch.nn's bidirectional RNN with the same weights, under both
// implementations (names, layout, outputs and final states).
TEST(BidirectionalRnnStack, EqualsTorchNnBidirectional) {
  for (RnnImpl impl : {RnnImpl::OneDNN, RnnImpl::Torch}) {
    for (Cell cell : {Cell::GRU, Cell::LSTM}) {
      torch::manual_seed(11);
      RnnStack ours(RnnStackOptions(cell, 6, 5).num_layers(2).bidirectional(true).impl(impl));
      const auto options = [&](auto o) { return o.num_layers(2).bidirectional(true); };
      const at::Tensor x = torch::randn({7, 3, 6});
      at::Tensor want_y, want_h, want_c;
      std::vector<std::string> names;
      if (cell == Cell::GRU) {
        torch::nn::GRU ref(options(torch::nn::GRUOptions(6, 5)));
        for (const auto& p : ref->named_parameters()) names.push_back(p.key());
        torch::NoGradGuard no_grad;
        for (const auto& p : ref->named_parameters())
          p.value().copy_(ours->named_parameters()[p.key()]);
        std::tie(want_y, want_h) = ref->forward(x);
      } else {
        torch::nn::LSTM ref(options(torch::nn::LSTMOptions(6, 5)));
        for (const auto& p : ref->named_parameters()) names.push_back(p.key());
        torch::NoGradGuard no_grad;
        for (const auto& p : ref->named_parameters())
          p.value().copy_(ours->named_parameters()[p.key()]);
        auto [y, hc] = ref->forward(x);
        want_y = y;
        std::tie(want_h, want_c) = hc;
      }
      EXPECT_EQ(ours->named_parameters().keys(), names);
      auto [y, state] = ours->forward(x);
      EXPECT_TRUE(torch::allclose(y, want_y, 1e-5, 1e-5)) << to_string(cell);
      EXPECT_TRUE(torch::allclose(state.h, want_h, 1e-5, 1e-5)) << to_string(cell);
      if (cell == Cell::LSTM) {
        EXPECT_TRUE(torch::allclose(state.c, want_c, 1e-5, 1e-5));
      }
    }
  }
}

TEST(BidirectionalEncoder, DirectionsAreSummedIntoTheDecodersInitialState) {
  torch::manual_seed(12);
  Seq2Seq model(Seq2SeqOptions(kVocab).hidden(6).layers(2).bidirectional(true));
  model->eval();
  const at::Tensor src = torch::randint(3, kVocab, {5, 2});
  torch::NoGradGuard no_grad;
  auto [y, both] = model->enc->forward(model->enc_emb->forward(src));
  const RnnState summed = model->encode(src);
  ASSERT_EQ(both.h.size(0), 4);
  EXPECT_TRUE(torch::allclose(summed.h[0], both.h[0] + both.h[1]));
  EXPECT_TRUE(torch::allclose(summed.h[1], both.h[2] + both.h[3]));
}

TEST(BidirectionalEncoder, ConcatenatedDirectionsAreHalfWidthAndJoinedForwardFirst) {
  torch::manual_seed(13);
  Seq2Seq model(Seq2SeqOptions(kVocab)
                    .hidden(6)
                    .layers(2)
                    .cell(Cell::LSTM)
                    .attention(Attention::General)
                    .bidirectional(true)
                    .bidirectional_merge(DirectionMerge::Concat));
  model->eval();
  // Each direction is 3 wide; layer 1 reads both directions of layer 0 (6 wide).
  EXPECT_EQ(model->enc->named_parameters()["weight_hh_l0"].sizes(), (at::IntArrayRef{12, 3}));
  EXPECT_EQ(model->enc->named_parameters()["weight_ih_l1_reverse"].sizes(),
            (at::IntArrayRef{12, 6}));
  EXPECT_EQ(model->dec->named_parameters()["weight_hh_l0"].sizes(), (at::IntArrayRef{24, 6}));
  int64_t count = 0;
  for (const auto& p : model->parameters()) count += p.numel();
  EXPECT_EQ(parameter_count(model->options), count);

  const at::Tensor src = torch::randint(3, kVocab, {5, 2});
  torch::NoGradGuard no_grad;
  auto [y, both] = model->enc->forward(model->enc_emb->forward(src));
  const RnnState joined = model->encode(src);
  ASSERT_EQ(both.h.sizes(), (at::IntArrayRef{4, 2, 3}));
  ASSERT_EQ(joined.h.sizes(), (at::IntArrayRef{2, 2, 6}));
  for (int64_t l = 0; l < 2; ++l) {
    EXPECT_TRUE(torch::equal(joined.h[l], torch::cat({both.h[2 * l], both.h[2 * l + 1]}, -1)));
    EXPECT_TRUE(torch::equal(joined.c[l], torch::cat({both.c[2 * l], both.c[2 * l + 1]}, -1)));
  }
}

TEST(BidirectionalEncoder, ConcatNeedsBidirectionalAndAnEvenWidth) {
  const auto message = [](const Seq2SeqOptions& options) {
    try {
      Seq2Seq model(options);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const auto concat = Seq2SeqOptions(kVocab).hidden(6).bidirectional_merge(DirectionMerge::Concat);
  EXPECT_EQ(message(concat), "--bidirectional-merge concat needs --bidirectional");
  EXPECT_EQ(message(Seq2SeqOptions(concat).bidirectional(true).hidden(7)),
            "--bidirectional-merge concat needs an even --hidden (each direction is half)");
}

}  // namespace
}  // namespace s2s
