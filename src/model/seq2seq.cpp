#include "s2s/seq2seq.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>

#include <algorithm>
#include <vector>

#include "kernels/decode_step.h"
#include "s2s/error.h"

namespace s2s {

DecoderState DecoderState::select(const at::Tensor& index) const {
  const auto rows = [&](const at::Tensor& t, int64_t dim) {
    return t.defined() ? t.index_select(dim, index) : t;
  };
  DecoderState s;
  s.rnn = RnnState{rows(rnn.h, 1), rows(rnn.c, 1)};
  s.memory = memory.values.defined() ? memory.select(index) : memory;
  s.attentional = rows(attentional, 0);
  return s;
}

Seq2SeqImpl::Seq2SeqImpl(const Seq2SeqOptions& options_) : options(options_) {
  reset();
}

void Seq2SeqImpl::reset() {
  if (options.vocab_size() < 4) {
    throw Error("a vocabulary needs at least <pad>, <sos>, <eos> and one token");
  }
  if (options.input_feeding() && options.attention() == Attention::None) {
    throw Error("--input-feeding needs --attention (dot, general or concat)");
  }
  const int64_t v = options.vocab_size(), h = options.hidden();
  const auto rnn = [&](int64_t input_size, bool bidirectional) {
    return RnnStack(RnnStackOptions(options.cell(), input_size, h)
                        .num_layers(options.layers())
                        .dropout(options.dropout())
                        .impl(options.impl())
                        .precision(options.precision())
                        .bidirectional(bidirectional));
  };
  // Registration order = state_dict order = the reference's order.
  enc_emb = register_module("enc_emb", torch::nn::Embedding(v, h));
  enc = register_module("enc", rnn(h, options.bidirectional()));
  dec_emb = register_module("dec_emb", torch::nn::Embedding(v, h));
  dec = register_module("dec", rnn(options.input_feeding() ? 2 * h : h, false));
  if (options.attention() != Attention::None) {
    attn = register_module("attn", LuongAttention(LuongAttentionOptions(options.attention(), h)));
  }
  out = register_module("out", torch::nn::Linear(h, v));
}

std::tuple<at::Tensor, RnnState> Seq2SeqImpl::encode_all(const at::Tensor& src) {
  auto [y, state] = enc->forward(enc_emb->forward(src));
  if (!options.bidirectional()) return {y, state};
  const int64_t h = options.hidden();
  // [2L, B, H] in PyTorch's order (l0 forward, l0 backward, ...) -> [L, B, H].
  const auto sum_directions = [&](const at::Tensor& s) {
    return s.defined() ? s.view({options.layers(), 2, s.size(1), h}).sum(1) : s;
  };
  return {y.narrow(-1, 0, h) + y.narrow(-1, h, h),
          RnnState{sum_directions(state.h), sum_directions(state.c)}};
}

RnnState Seq2SeqImpl::encode(const at::Tensor& src) {
  return std::get<1>(encode_all(src));
}

DecoderState Seq2SeqImpl::start_decoding(const at::Tensor& src, const at::Tensor& src_lengths) {
  auto [memory, rnn] = encode_all(src);
  DecoderState state;
  state.rnn = rnn;
  if (options.attention() != Attention::None) {
    state.memory = attn->prepare(memory, source_mask(src, src_lengths));
  }
  if (options.input_feeding())
    state.attentional = at::zeros({src.size(1), options.hidden()}, memory.options());
  return state;
}

at::Tensor Seq2SeqImpl::step_logits(DecoderState& state, const at::Tensor& tokens) {
  at::Tensor x = dec_emb->forward(tokens);
  if (options.input_feeding()) x = at::cat({x, state.attentional.unsqueeze(0)}, -1);
  auto [y, next] = dec->forward(x, state.rnn);
  state.rnn = next;
  if (options.attention() != Attention::None) {
    y = attn->forward(y, state.memory);
    if (options.input_feeding()) state.attentional = y[0];
  }
  return out->forward(y);
}

at::Tensor Seq2SeqImpl::decode_step(DecoderState& state, const at::Tensor& tokens) {
  return at::log_softmax(step_logits(state, tokens.unsqueeze(0))[0], -1);
}

at::Tensor Seq2SeqImpl::forward(const at::Tensor& src, const at::Tensor& tgt_in,
                                double teacher_forcing, const at::Tensor& src_lengths) {
  DecoderState state = start_decoding(src, src_lengths);
  if (teacher_forcing >= 1.0 && !options.input_feeding()) {
    // The whole target in one decoder call (one fused primitive with OneDNN), then attention
    // for all steps as batched matrix products.
    auto y = std::get<0>(dec->forward(dec_emb->forward(tgt_in), state.rnn));
    if (options.attention() != Attention::None) y = attn->forward(y, state.memory);
    return at::log_softmax(out->forward(y), -1);
  }
  // Step by step: input feeding needs h̃_{t-1} before step t; scheduled sampling feeds back the
  // argmax when the coin says so.
  std::vector<at::Tensor> steps;
  at::Tensor tok = tgt_in[0].unsqueeze(0);
  for (int64_t t = 0; t < tgt_in.size(0); ++t) {
    if (t > 0 && teacher_forcing < 1.0) {
      const bool force = at::rand({1}).item<double>() < teacher_forcing;
      tok = force ? tgt_in[t].unsqueeze(0) : steps.back().argmax(-1).detach();
    } else if (t > 0) {
      tok = tgt_in[t].unsqueeze(0);
    }
    steps.push_back(at::log_softmax(step_logits(state, tok), -1));
  }
  return at::cat(steps, 0);
}

bool Seq2SeqImpl::fused_decoding() const {
  return options.impl() == RnnImpl::OneDNN && dec_emb->weight.scalar_type() == at::kFloat;
}

at::Tensor Seq2SeqImpl::greedy(const at::Tensor& src, int64_t max_len,
                               const at::Tensor& src_lengths) {
  // With several threads, the fused path decodes slices of the batch side by side, one thread
  // each: a token's GEMMs (B x H by H x 3H per layer) are too small to split well across
  // threads, and a slice per thread needs no barrier inside them. Every op inside runs on its
  // slice's thread alone (ATen and oneDNN run serially in a parallel region). Batch 64 at two
  // threads: 10.3 -> 8.0 ms (bf16). kMinRows keeps small batches in one pass; it is a floor, not
  // a tuned value.
  constexpr int64_t kMinRows = 8;
  const int64_t batch = src.size(1);
  const int64_t parts = std::min<int64_t>(at::get_num_threads(), batch / kMinRows);
  if (!fused_decoding() || parts < 2 || at::in_parallel_region()) {
    return greedy_rows(src, max_len, src_lengths);
  }
  std::vector<at::Tensor> results(parts);
  at::parallel_for(0, parts, 1, [&](int64_t begin, int64_t end) {
    at::NoGradGuard no_grad;  // grad mode is per thread
    for (int64_t k = begin; k < end; ++k) {
      const int64_t first = batch * k / parts, last = batch * (k + 1) / parts;
      const at::Tensor lengths =
          src_lengths.defined() ? src_lengths.narrow(0, first, last - first) : src_lengths;
      results[k] = greedy_rows(src.narrow(1, first, last - first), max_len, lengths);
    }
  });
  // A slice stops when its own rows have all ended; pad it to the longest, as one batch would.
  int64_t steps = 0;
  for (const auto& r : results) steps = std::max(steps, r.size(0));
  for (auto& r : results) {
    if (r.size(0) < steps) {
      r = at::cat({r, at::full({steps - r.size(0), r.size(1)}, kPadId, r.options())});
    }
  }
  return at::cat(results, 1);
}

at::Tensor Seq2SeqImpl::greedy_rows(const at::Tensor& src, int64_t max_len,
                                    const at::Tensor& src_lengths) {
  at::NoGradGuard no_grad;
  DecoderState state = start_decoding(src, src_lengths);
  const int64_t batch = src.size(1);
  const auto long_opts = src.options().dtype(at::kLong);
  at::Tensor result = at::full({max_len, batch}, kPadId, long_opts);
  at::Tensor tok = at::full({batch}, kSosId, long_opts);
  at::Tensor done = at::zeros({batch}, src.options().dtype(at::kBool));
  const auto finish = [&](int64_t t) {
    result[t].copy_(tok).masked_fill_(done, kPadId);
    done.logical_or_(tok == kEosId);
    return done.all().item<bool>();
  };
  int64_t steps = 0;
  if (fused_decoding()) {
    // Fused path: every layer in one oneDNN call per token, into preallocated buffers; attention
    // (if any) is a few small batched products on the step's output.
    const bool attention = options.attention() != Attention::None;
    const int64_t h = options.hidden();
    kernels::DecodeStep step(options.cell(), dec->flat_weights(), options.layers(), batch,
                             options.precision());
    step.set_state(state.rnn.h, state.rnn.c);
    at::Tensor logits = at::empty({batch, options.vocab_size()}, dec_emb->weight.options());
    const at::Tensor w_out_t = out->weight.t();
    // Input feeding: the step reads [embedding; h̃_{t-1}], the h̃ half zero at the first step.
    at::Tensor& input = step.input();
    if (options.input_feeding()) input.narrow(1, h, h).zero_();
    while (steps < max_len) {
      if (options.input_feeding()) {
        input.narrow(1, 0, h).copy_(dec_emb->weight.index_select(0, tok));
      } else {
        at::index_select_out(input, dec_emb->weight, 0, tok);
      }
      const at::Tensor& top = step.run();  // [1, B, H]
      const at::Tensor y = attention ? attn->forward(top, state.memory)[0] : top[0];
      if (options.input_feeding()) input.narrow(1, h, h).copy_(y);
      at::addmm_out(logits, out->bias, y, w_out_t);
      at::argmax_out(tok, logits, 1);
      if (finish(steps++)) break;
    }
  } else {
    while (steps < max_len) {
      tok = step_logits(state, tok.unsqueeze(0))[0].argmax(-1);
      if (finish(steps++)) break;
    }
  }
  return result.narrow(0, 0, steps);
}

}  // namespace s2s
