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

Seq2SeqImpl::Seq2SeqImpl(const Seq2SeqOptions& options_) : options(options_) {
  reset();
}

void Seq2SeqImpl::reset() {
  if (options.vocab_size() < 4) {
    throw Error("a vocabulary needs at least <pad>, <sos>, <eos> and one token");
  }
  const int64_t v = options.vocab_size(), h = options.hidden();
  const auto rnn = [&] {
    return RnnStack(RnnStackOptions(options.cell(), h, h)
                        .num_layers(options.layers())
                        .dropout(options.dropout())
                        .impl(options.impl())
                        .precision(options.precision()));
  };
  // Registration order = state_dict order = the reference's order.
  enc_emb = register_module("enc_emb", torch::nn::Embedding(v, h));
  enc = register_module("enc", rnn());
  dec_emb = register_module("dec_emb", torch::nn::Embedding(v, h));
  dec = register_module("dec", rnn());
  out = register_module("out", torch::nn::Linear(h, v));
}

RnnState Seq2SeqImpl::encode(const at::Tensor& src) {
  return std::get<1>(enc->forward(enc_emb->forward(src)));
}

at::Tensor Seq2SeqImpl::forward(const at::Tensor& src, const at::Tensor& tgt_in,
                                double teacher_forcing) {
  RnnState state = encode(src);
  if (teacher_forcing >= 1.0) {
    auto y = std::get<0>(dec->forward(dec_emb->forward(tgt_in), state));
    return at::log_softmax(out->forward(y), -1);
  }
  // Scheduled sampling: step by step, feeding back the argmax when the coin says so.
  std::vector<at::Tensor> steps;
  at::Tensor tok = tgt_in[0].unsqueeze(0);
  for (int64_t t = 0; t < tgt_in.size(0); ++t) {
    if (t > 0) {
      const bool force = at::rand({1}).item<double>() < teacher_forcing;
      tok = force ? tgt_in[t].unsqueeze(0) : steps.back().argmax(-1).detach();
    }
    auto [y, next] = dec->forward(dec_emb->forward(tok), state);
    state = next;
    steps.push_back(at::log_softmax(out->forward(y), -1));
  }
  return at::cat(steps, 0);
}

bool Seq2SeqImpl::fused_decoding() const {
  return options.impl() == RnnImpl::OneDNN && dec_emb->weight.scalar_type() == at::kFloat;
}

at::Tensor Seq2SeqImpl::greedy(const at::Tensor& src, int64_t max_len) {
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
    return greedy_rows(src, max_len);
  }
  std::vector<at::Tensor> results(parts);
  at::parallel_for(0, parts, 1, [&](int64_t begin, int64_t end) {
    at::NoGradGuard no_grad;  // grad mode is per thread
    for (int64_t k = begin; k < end; ++k) {
      const int64_t first = batch * k / parts, last = batch * (k + 1) / parts;
      results[k] = greedy_rows(src.narrow(1, first, last - first), max_len);
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

at::Tensor Seq2SeqImpl::greedy_rows(const at::Tensor& src, int64_t max_len) {
  at::NoGradGuard no_grad;
  RnnState state = encode(src);
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
    // Fused path: every layer in one oneDNN call per token, into preallocated buffers.
    kernels::DecodeStep step(options.cell(), dec->flat_weights(), options.layers(), batch,
                             options.precision());
    step.set_state(state.h, state.c);
    at::Tensor logits = at::empty({batch, options.vocab_size()}, dec_emb->weight.options());
    const at::Tensor w_out_t = out->weight.t();
    while (steps < max_len) {
      at::index_select_out(step.input(), dec_emb->weight, 0, tok);
      const at::Tensor& y = step.run();
      at::addmm_out(logits, out->bias, y[0], w_out_t);
      at::argmax_out(tok, logits, 1);
      if (finish(steps++)) break;
    }
  } else {
    while (steps < max_len) {
      auto [y, next] = dec->forward(dec_emb->forward(tok.unsqueeze(0)), state);
      state = next;
      tok = out->forward(y[0]).argmax(-1);
      if (finish(steps++)) break;
    }
  }
  return result.narrow(0, 0, steps);
}

}  // namespace s2s

namespace s2s {

DecoderState::DecoderState() = default;
DecoderState::~DecoderState() = default;
DecoderState::DecoderState(DecoderState&&) noexcept = default;
DecoderState& DecoderState::operator=(DecoderState&&) noexcept = default;

void DecoderState::rebuild_step(int64_t new_rows) {
  step = std::make_unique<kernels::DecodeStep>(cell, weights, layers, new_rows, precision);
  logits = at::empty({new_rows, logits.size(1)}, logits.options());
  log_probs = at::empty_like(logits);
}

void DecoderState::select(const at::Tensor& index) {
  if (index.dim() != 1 || index.numel() < 1)
    throw Error("DecoderState::select: index must be [N], N >= 1");
  const int64_t new_rows = index.numel();
  if (!step) {
    rnn.h = rnn.h.index_select(1, index);
    if (rnn.c.defined()) rnn.c = rnn.c.index_select(1, index);
    rows_ = new_rows;
    return;
  }
  // h() is a view of a buffer the step overwrites (F32) or an exact f32 copy of bf16 values
  // (BF16): index_select copies either way, and set_state writes it back unchanged.
  const at::Tensor h = step->h().index_select(1, index);
  const at::Tensor c = cell == Cell::LSTM ? step->c().index_select(1, index) : at::Tensor();
  if (new_rows != rows_) rebuild_step(new_rows);
  step->set_state(h, c);
  rows_ = new_rows;
}

DecoderState Seq2SeqImpl::start_decoding(const at::Tensor& src, const at::Tensor& src_lengths) {
  at::NoGradGuard no_grad;
  const int64_t batch = src.size(1);
  if (src_lengths.dim() != 1 || src_lengths.numel() != batch) {
    throw Error("start_decoding: src_lengths must have one entry per column of src");
  }
  const at::Tensor lengths = src_lengths.to(at::kLong).contiguous();
  const int64_t* len = lengths.data_ptr<int64_t>();
  // Columns grouped by length, each group encoded without padding: a sentence's final state is
  // then the same whatever batch it shares (trained models see padding, but never need it).
  std::vector<int64_t> order(static_cast<size_t>(batch));
  for (int64_t b = 0; b < batch; ++b) order[static_cast<size_t>(b)] = b;
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return len[a] < len[b]; });
  RnnState state;
  for (size_t first = 0; first < order.size();) {
    size_t last = first;
    while (last < order.size() && len[order[last]] == len[order[first]]) ++last;
    const int64_t steps = len[order[first]];
    if (steps < 1 || steps > src.size(0)) {
      throw Error("start_decoding: a source length is outside 1.." + std::to_string(src.size(0)));
    }
    const at::Tensor cols =
        at::tensor(std::vector<int64_t>(order.begin() + static_cast<std::ptrdiff_t>(first),
                                        order.begin() + static_cast<std::ptrdiff_t>(last)),
                   lengths.options());
    const bool whole = first == 0 && last == order.size() && steps == src.size(0);
    const RnnState part = encode(whole ? src : src.narrow(0, 0, steps).index_select(1, cols));
    if (whole) {
      state = part;
      break;
    }
    if (!state.h.defined()) {
      state.h = at::empty({part.h.size(0), batch, part.h.size(2)}, part.h.options());
      if (part.c.defined()) state.c = at::empty_like(state.h);
    }
    state.h.index_copy_(1, cols, part.h);
    if (part.c.defined()) state.c.index_copy_(1, cols, part.c);
    first = last;
  }
  DecoderState d;
  d.rows_ = batch;
  if (!fused_decoding()) {
    d.rnn = state;
    return d;
  }
  d.cell = options.cell();
  d.precision = options.precision();
  d.layers = options.layers();
  d.weights = dec->flat_weights();
  d.logits = at::empty({batch, options.vocab_size()}, dec_emb->weight.options());
  d.rebuild_step(batch);
  d.step->set_state(state.h, state.c);
  return d;
}

at::Tensor Seq2SeqImpl::decode_step(DecoderState& state, const at::Tensor& tokens) {
  at::NoGradGuard no_grad;
  if (tokens.dim() != 1 || tokens.numel() != state.rows()) {
    throw Error("decode_step: expected one token per state row");
  }
  if (!state.step) {
    auto [y, next] = dec->forward(dec_emb->forward(tokens.unsqueeze(0)), state.rnn);
    state.rnn = next;
    return at::log_softmax(out->forward(y[0]), -1);
  }
  at::index_select_out(state.step->input(), dec_emb->weight, 0, tokens);
  const at::Tensor& y = state.step->run();
  at::addmm_out(state.logits, out->bias, y[0], out->weight.t());
  return at::_log_softmax_out(state.log_probs, state.logits, 1, false);
}

}  // namespace s2s
