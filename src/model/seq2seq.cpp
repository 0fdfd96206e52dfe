#include "s2s/seq2seq.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>

#include <algorithm>
#include <optional>
#include <vector>

#include "kernels/decode_step.h"
#include "kernels/dense.h"
#include "s2s/error.h"

namespace s2s {

namespace {

// The width of each encoder direction: hidden, or hidden/2 for a bidirectional encoder whose
// directions are concatenated.
int64_t encoder_width(const Seq2SeqOptions& options) {
  const bool halves =
      options.bidirectional() && options.bidirectional_merge() == DirectionMerge::Concat;
  return halves ? options.hidden() / 2 : options.hidden();
}

}  // namespace

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
  const bool concat = options.bidirectional_merge() == DirectionMerge::Concat;
  if (concat && !options.bidirectional()) {
    throw Error("--bidirectional-merge concat needs --bidirectional");
  }
  if (concat && options.hidden() % 2 != 0) {
    throw Error("--bidirectional-merge concat needs an even --hidden (each direction is half)");
  }
  const int64_t v = options.vocab_size(), h = options.hidden();
  const auto rnn = [&](int64_t input_size, int64_t width, bool bidirectional) {
    return RnnStack(RnnStackOptions(options.cell(), input_size, width)
                        .num_layers(options.layers())
                        .dropout(options.dropout())
                        .impl(options.impl())
                        .precision(options.precision())
                        .bidirectional(bidirectional));
  };
  // Registration order = state_dict order = the reference's order.
  enc_emb = register_module("enc_emb", torch::nn::Embedding(v, h));
  enc = register_module("enc", rnn(h, encoder_width(options), options.bidirectional()));
  dec_emb = register_module("dec_emb", torch::nn::Embedding(v, h));
  dec = register_module("dec", rnn(options.input_feeding() ? 2 * h : h, h, false));
  if (options.attention() != Attention::None) {
    attn = register_module(
        "attn", LuongAttention(
                    LuongAttentionOptions(options.attention(), h).precision(options.precision())));
  }
  out = register_module("out", torch::nn::Linear(h, v));
}

std::tuple<at::Tensor, RnnState> Seq2SeqImpl::encode_all(const at::Tensor& src,
                                                         const at::Tensor& lengths) {
  auto [y, state] = enc->forward_tokens(src, enc_emb->weight, {}, lengths);
  if (!options.bidirectional()) return {y, state};
  const int64_t h = options.hidden(), layers = options.layers();
  if (options.bidirectional_merge() == DirectionMerge::Concat) {
    // y is already [S, B, h]: [forward; backward] per position. States [2L, B, h/2] in
    // PyTorch's order (l0 forward, l0 backward, ...) -> [L, B, h], forward half first.
    const auto concat_directions = [&](const at::Tensor& s) {
      return s.defined() ? s.view({layers, 2, s.size(1), h / 2})
                               .permute({0, 2, 1, 3})
                               .reshape({layers, s.size(1), h})
                         : s;
    };
    return {y, RnnState{concat_directions(state.h), concat_directions(state.c)}};
  }
  // [2L, B, H] in PyTorch's order (l0 forward, l0 backward, ...) -> [L, B, H].
  const auto sum_directions = [&](const at::Tensor& s) {
    return s.defined() ? s.view({layers, 2, s.size(1), h}).sum(1) : s;
  };
  return {y.narrow(-1, 0, h) + y.narrow(-1, h, h),
          RnnState{sum_directions(state.h), sum_directions(state.c)}};
}

RnnState Seq2SeqImpl::encode(const at::Tensor& src) {
  return std::get<1>(encode_all(src));
}

std::tuple<at::Tensor, RnnState> Seq2SeqImpl::encode_by_length(const at::Tensor& src,
                                                               const at::Tensor& src_lengths) {
  // Columns grouped by length, each group encoded without padding: a sentence's final state
  // (and, bidirectional, its backward outputs) never read padding, in training as in decoding,
  // and do not depend on the batch. A batch of one length (the course's) is one call as before.
  const at::Tensor lengths = src_lengths.to(at::kLong).contiguous();
  if (enc->runs_packed() && lengths.numel() == src.size(1) && lengths.min().item<int64_t>() >= 1 &&
      lengths.max().item<int64_t>() <= src.size(0)) {
    return encode_all(src, lengths);
  }
  const int64_t* len = lengths.data_ptr<int64_t>();
  const int64_t batch = src.size(1);
  std::vector<int64_t> order(static_cast<size_t>(batch));
  for (int64_t b = 0; b < batch; ++b) order[static_cast<size_t>(b)] = b;
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return len[a] < len[b]; });
  RnnState state;
  at::Tensor outputs;  // [S, B, H] encoder outputs, zeros past each column's length
  for (size_t first = 0; first < order.size();) {
    size_t last = first;
    while (last < order.size() && len[order[last]] == len[order[first]]) ++last;
    const int64_t steps = len[order[first]];
    if (steps < 1 || steps > src.size(0)) {
      throw Error("a source length is outside 1.." + std::to_string(src.size(0)));
    }
    const at::Tensor cols =
        at::tensor(std::vector<int64_t>(order.begin() + static_cast<std::ptrdiff_t>(first),
                                        order.begin() + static_cast<std::ptrdiff_t>(last)),
                   lengths.options());
    const bool whole = first == 0 && last == order.size() && steps == src.size(0);
    auto [part_outputs, part] =
        encode_all(whole ? src : src.narrow(0, 0, steps).index_select(1, cols));
    if (whole) {
      state = part;
      outputs = part_outputs;
      break;
    }
    if (!state.h.defined()) {
      state.h = at::empty({part.h.size(0), batch, part.h.size(2)}, part.h.options());
      if (part.c.defined()) state.c = at::empty_like(state.h);
      outputs = at::zeros({src.size(0), batch, part_outputs.size(2)}, part_outputs.options());
    }
    outputs.narrow(0, 0, steps).index_copy_(1, cols, part_outputs);
    state.h.index_copy_(1, cols, part.h);
    if (part.c.defined()) state.c.index_copy_(1, cols, part.c);
    first = last;
  }
  return {outputs, state};
}

Seq2SeqImpl::Encoded Seq2SeqImpl::encode_source(const at::Tensor& src,
                                                const at::Tensor& src_lengths) {
  // Collated batches pad with <pad> after each source, never inside it.
  const at::Tensor lengths =
      src_lengths.defined() ? src_lengths.to(at::kLong) : src.ne(kPadId).sum(0);
  auto [outputs, rnn] = encode_by_length(src, lengths);
  Encoded e{rnn, {}};
  if (options.attention() != Attention::None) {
    e.memory = attn->prepare(outputs, source_mask(src, lengths));
  }
  return e;
}

at::Tensor Seq2SeqImpl::step_logits(RnnState& rnn, const AttentionMemory& memory,
                                    at::Tensor& attentional, const at::Tensor& tokens) {
  at::Tensor x = dec_emb->forward(tokens);
  if (options.input_feeding()) x = at::cat({x, attentional.unsqueeze(0)}, -1);
  auto [y, next] = dec->forward(x, rnn);
  rnn = next;
  if (options.attention() != Attention::None) {
    y = attn->forward(y, memory);
    if (options.input_feeding()) attentional = y[0];
  }
  return kernels::linear(y, out->weight, out->bias, options.precision());
}

at::Tensor Seq2SeqImpl::forward(const at::Tensor& src, const at::Tensor& tgt_in,
                                double teacher_forcing, const at::Tensor& src_lengths) {
  Encoded e = encode_source(src, src_lengths);
  if (teacher_forcing >= 1.0 && !options.input_feeding()) return teacher_forced(e, tgt_in);
  // Step by step: input feeding needs h̃_{t-1} before step t; scheduled sampling feeds back the
  // argmax when the coin says so.
  at::Tensor attentional;
  if (options.input_feeding()) {
    attentional = at::zeros({src.size(1), options.hidden()}, dec_emb->weight.options());
  }
  std::vector<at::Tensor> steps;
  at::Tensor tok = tgt_in[0].unsqueeze(0);
  for (int64_t t = 0; t < tgt_in.size(0); ++t) {
    if (t > 0 && teacher_forcing < 1.0) {
      const bool force = at::rand({1}).item<double>() < teacher_forcing;
      tok = force ? tgt_in[t].unsqueeze(0) : steps.back().argmax(-1).detach();
    } else if (t > 0) {
      tok = tgt_in[t].unsqueeze(0);
    }
    steps.push_back(at::log_softmax(step_logits(e.rnn, e.memory, attentional, tok), -1));
  }
  return at::cat(steps, 0);
}

at::Tensor Seq2SeqImpl::teacher_forced(const Encoded& e, const at::Tensor& tgt_in) {
  // The whole target in one decoder call (one fused primitive with OneDNN), then attention for
  // all steps as batched matrix products.
  // Collated targets pad with <pad> after each one: a column's length runs to its last other
  // token (at least 1).
  at::Tensor lengths;
  if (dec->runs_packed()) {
    const at::Tensor position = at::arange(1, tgt_in.size(0) + 1, tgt_in.options()).unsqueeze(1);
    lengths = (position * tgt_in.ne(kPadId)).amax(0).clamp_min(1);
  }
  auto y = std::get<0>(dec->forward_tokens(tgt_in, dec_emb->weight, e.rnn, lengths));
  if (lengths.defined() && lengths.min().item<int64_t>() < tgt_in.size(0)) {
    return packed_log_probs(e, y, lengths);
  }
  if (options.attention() != Attention::None) y = attn->forward(y, e.memory);
  return at::log_softmax(kernels::linear(y, out->weight, out->bias, options.precision()), -1);
}

at::Tensor Seq2SeqImpl::packed_log_probs(const Encoded& e, const at::Tensor& y,
                                         const at::Tensor& lengths) {
  // Batch-major rows (b * T + t), the order attention's batched products leave them in.
  const int64_t steps = y.size(0), batch = y.size(1);
  const at::Tensor rows = at::arange(steps, lengths.options())
                              .unsqueeze(0)
                              .lt(lengths.unsqueeze(1))
                              .reshape(-1)
                              .nonzero()
                              .squeeze(1);
  const at::Tensor h = options.attention() != Attention::None
                           ? attn->forward_rows(y, e.memory, rows)
                           : y.transpose(0, 1).reshape({-1, y.size(2)}).index_select(0, rows);
  const at::Tensor logp =
      at::log_softmax(kernels::linear(h, out->weight, out->bias, options.precision()), -1);
  return at::zeros({batch * steps, logp.size(1)}, logp.options())
      .index_copy(0, rows, logp)
      .view({batch, steps, logp.size(1)})
      .transpose(0, 1);
}

namespace {

// The kernels a decoding step runs on: ours where the model's RNNs run on gemm without
// gradients (resolve_impl: Auto in bf16), oneDNN's fused primitives where they run on oneDNN.
// One step of the course's decoder (GRU 4x256, one thread, 2026-12-02): bf16 47/86/150/291/601
// us against oneDNN's 47/143/217/349/668 at 1/8/16/32/64 rows; f32 a tie from 8 rows up
// (155-1111 us each) and 93 against 81 us at one row.
kernels::StepKernels step_kernels(RnnImpl impl, Cell cell, Precision precision) {
  return resolve_impl(impl, cell, /*training=*/false, precision) == RnnImpl::Gemm
             ? kernels::StepKernels::Gemm
             : kernels::StepKernels::OneDNN;
}

}  // namespace

bool Seq2SeqImpl::fused_decoding() const {
  return options.impl() != RnnImpl::Torch && dec_emb->weight.scalar_type() == at::kFloat;
}

at::Tensor Seq2SeqImpl::greedy(const at::Tensor& src, int64_t max_len,
                               const at::Tensor& src_lengths) {
  // Each slice encodes its own columns on its thread, as it decodes them.
  return greedy_slices(src.size(1), max_len, [&](int64_t first, int64_t rows) {
    const at::Tensor lengths =
        src_lengths.defined() ? src_lengths.narrow(0, first, rows) : src_lengths;
    return greedy_rows(encode_source(src.narrow(1, first, rows), lengths), rows, max_len);
  });
}

std::pair<at::Tensor, at::Tensor> Seq2SeqImpl::score_and_greedy(const at::Tensor& src,
                                                                const at::Tensor& tgt_in,
                                                                int64_t max_len,
                                                                const at::Tensor& src_lengths,
                                                                const at::Tensor& tgt) {
  at::NoGradGuard no_grad;
  // With input feeding forward runs step by step: no encoding to share.
  const bool feeding = options.input_feeding();
  std::optional<Encoded> e;
  at::Tensor logp;
  if (feeding) {
    logp = forward(src, tgt_in, 1.0, src_lengths);
  } else {
    e = encode_source(src, src_lengths);
    logp = teacher_forced(*e, tgt_in);
  }
  const auto decode = [&](const Encoded& part, int64_t rows) {
    return greedy_slices(rows, max_len, [&](int64_t first, int64_t count) {
      return greedy_rows(part.rows(first, count), count, max_len);
    });
  };
  if (!tgt.defined()) {
    return {logp, feeding ? greedy(src, max_len, src_lengths) : decode(*e, src.size(1))};
  }
  if (!tgt.sizes().equals(tgt_in.sizes()))
    throw Error("Seq2Seq::score_and_greedy: tgt must have tgt_in's shape [T, B]");
  // Every column starts as its target, cut to max_len: greedy's decoding where teacher forcing
  // got it all right. The others are decoded, and their rows past the decoding are <pad>.
  const at::Tensor right = logp.argmax(-1).eq(tgt).logical_or(tgt.eq(kPadId)).all(0);
  const at::Tensor wrong = right.logical_not().nonzero().squeeze(1);
  at::Tensor pred = tgt.narrow(0, 0, std::min(max_len, tgt.size(0))).clone();
  if (wrong.numel() > 0) {
    const int64_t rows = wrong.numel();
    const at::Tensor decoded =
        feeding ? greedy(src.index_select(1, wrong), max_len,
                         src_lengths.defined() ? src_lengths.index_select(0, wrong) : src_lengths)
                : decode(e->select(wrong), rows);
    const int64_t steps = decoded.size(0);
    if (steps > pred.size(0)) {
      pred =
          at::cat({pred, at::full({steps - pred.size(0), pred.size(1)}, kPadId, pred.options())});
    }
    pred.narrow(0, 0, steps).index_copy_(1, wrong, decoded);
    pred.narrow(0, steps, pred.size(0) - steps).index_fill_(1, wrong, kPadId);
  }
  // As greedy's own output, it ends at its last row holding a token.
  const at::Tensor used = pred.ne(kPadId).any(1).nonzero();
  const int64_t steps = used.numel() > 0 ? used.max().item<int64_t>() + 1 : 0;
  return {logp, pred.narrow(0, 0, std::max<int64_t>(steps, std::min<int64_t>(max_len, 1)))};
}

Seq2SeqImpl::Encoded Seq2SeqImpl::Encoded::rows(int64_t first, int64_t count) const {
  Encoded part;
  part.rnn.h = rnn.h.narrow(1, first, count);
  if (rnn.c.defined()) part.rnn.c = rnn.c.narrow(1, first, count);
  if (memory.values.defined()) {
    part.memory.values = memory.values.narrow(0, first, count);
    part.memory.keys = memory.keys.narrow(0, first, count);
    part.memory.mask = memory.mask.narrow(0, first, count);
  }
  return part;
}

Seq2SeqImpl::Encoded Seq2SeqImpl::Encoded::select(const at::Tensor& index) const {
  Encoded part;
  part.rnn.h = rnn.h.index_select(1, index);
  if (rnn.c.defined()) part.rnn.c = rnn.c.index_select(1, index);
  if (memory.values.defined()) part.memory = memory.select(index);
  return part;
}

at::Tensor Seq2SeqImpl::greedy_slices(
    int64_t batch, int64_t max_len,
    const std::function<at::Tensor(int64_t first, int64_t rows)>& decode) {
  // With several threads, the fused path decodes slices of the batch side by side, one thread
  // each: a token's GEMMs (B x H by H x 3H per layer) are too small to split well across
  // threads, and a slice per thread needs no barrier inside them. Every op inside runs on its
  // slice's thread alone (ATen and oneDNN run serially in a parallel region). Batch 64 at two
  // threads: 10.3 -> 8.0 ms (bf16). kMinRows keeps small batches in one pass; it is a floor, not
  // a tuned value.
  constexpr int64_t kMinRows = 8;
  const int64_t parts = std::min<int64_t>(at::get_num_threads(), batch / kMinRows);
  if (!fused_decoding() || parts < 2 || at::in_parallel_region()) {
    at::NoGradGuard no_grad;
    return decode(0, batch);
  }
  std::vector<at::Tensor> results(parts);
  at::parallel_for(0, parts, 1, [&](int64_t begin, int64_t end) {
    at::NoGradGuard no_grad;  // grad mode is per thread
    for (int64_t k = begin; k < end; ++k) {
      const int64_t first = batch * k / parts, last = batch * (k + 1) / parts;
      results[k] = decode(first, last - first);
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

at::Tensor Seq2SeqImpl::greedy_rows(const Encoded& encoded, int64_t batch, int64_t max_len) {
  at::NoGradGuard no_grad;
  Encoded state = encoded;
  const auto long_opts = dec_emb->weight.options().dtype(at::kLong);
  at::Tensor result = at::full({max_len, batch}, kPadId, long_opts);
  at::Tensor tok = at::full({batch}, kSosId, long_opts);
  // Step t's tokens into the result (<pad> for rows that had ended), and whether every row has
  // ended now: one loop over the rows where ATen took six small ops per token.
  std::vector<char> ended(static_cast<size_t>(batch), 0);
  const auto finish = [&](int64_t t) {
    const at::Tensor next = tok.contiguous();
    const int64_t* id = next.data_ptr<int64_t>();
    int64_t* row = result.data_ptr<int64_t>() + t * batch;
    bool all = true;
    for (int64_t b = 0; b < batch; ++b) {
      char& e = ended[static_cast<size_t>(b)];
      row[b] = e ? kPadId : id[b];
      e = e || id[b] == kEosId;
      all = all && e;
    }
    return all;
  };
  int64_t steps = 0;
  if (fused_decoding()) {
    // Fused path: all layers of a token in one kernels::DecodeStep, into preallocated buffers,
    // reading the tokens themselves (without input feeding); attention (if any) is a few small
    // batched products on the step's output.
    const bool attention = options.attention() != Attention::None;
    const bool feeding = options.input_feeding();
    const int64_t h = options.hidden();
    kernels::DecodeStep step(options.cell(), dec->flat_weights(), options.layers(), batch,
                             options.precision(),
                             step_kernels(options.impl(), options.cell(), options.precision()),
                             feeding ? at::Tensor() : dec_emb->weight);
    step.set_state(state.rnn.h, state.rnn.c);
    at::Tensor logits = at::empty({batch, options.vocab_size()}, dec_emb->weight.options());
    const at::Tensor w_out_t = out->weight.t();
    // Input feeding: the step reads [embedding; h̃_{t-1}], the h̃ half zero at the first step.
    at::Tensor& input = step.input();
    if (feeding) input.narrow(1, h, h).zero_();
    while (steps < max_len) {
      if (feeding) {
        input.narrow(1, 0, h).copy_(dec_emb->weight.index_select(0, tok));
      } else {
        step.tokens().copy_(tok);
      }
      const at::Tensor& top = step.run();  // [1, B, H]
      const at::Tensor y = attention ? attn->forward(top, state.memory)[0] : top[0];
      if (feeding) input.narrow(1, h, h).copy_(y);
      at::addmm_out(logits, out->bias, y, w_out_t);
      at::argmax_out(tok, logits, 1);
      if (finish(steps++)) break;
    }
  } else {
    at::Tensor attentional;
    if (options.input_feeding()) {
      attentional = at::zeros({batch, options.hidden()}, dec_emb->weight.options());
    }
    while (steps < max_len) {
      tok = step_logits(state.rnn, state.memory, attentional, tok.unsqueeze(0))[0].argmax(-1);
      if (finish(steps++)) break;
    }
  }
  return result.narrow(0, 0, steps);
}

DecoderState::DecoderState() = default;
DecoderState::~DecoderState() = default;
DecoderState::DecoderState(DecoderState&&) noexcept = default;
DecoderState& DecoderState::operator=(DecoderState&&) noexcept = default;

void DecoderState::rebuild_step(int64_t new_rows) {
  step = std::make_unique<kernels::DecodeStep>(cell, weights, layers, new_rows, precision,
                                               step_kernels(impl, cell, precision), embedding);
  logits = at::empty({new_rows, logits.size(1)}, logits.options());
  log_probs = at::empty_like(logits);
}

void DecoderState::select(const at::Tensor& index) {
  if (index.dim() != 1 || index.numel() < 1)
    throw Error("DecoderState::select: index must be [N], N >= 1");
  const int64_t new_rows = index.numel();
  if (memory.values.defined()) memory = memory.select(index);
  if (attentional.defined()) attentional = attentional.index_select(0, index);
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
  const at::Tensor lengths = src_lengths.to(at::kLong);
  auto [outputs, state] = encode_by_length(src, lengths);
  DecoderState d;
  d.rows_ = batch;
  if (options.attention() != Attention::None) {
    d.memory = attn->prepare(outputs, source_mask(src, lengths));
  }
  if (options.input_feeding())
    d.attentional = at::zeros({batch, options.hidden()}, outputs.options());
  if (!fused_decoding()) {
    d.rnn = state;
    return d;
  }
  d.cell = options.cell();
  d.precision = options.precision();
  d.impl = options.impl();
  d.layers = options.layers();
  d.weights = dec->flat_weights();
  if (!options.input_feeding()) d.embedding = dec_emb->weight;
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
    const at::Tensor logits =
        step_logits(state.rnn, state.memory, state.attentional, tokens.unsqueeze(0));
    return at::log_softmax(logits[0], -1);
  }
  if (options.input_feeding()) {
    // The step reads [embedding; h̃_{t-1}].
    at::Tensor& input = state.step->input();
    const int64_t h = options.hidden();
    input.narrow(1, 0, h).copy_(dec_emb->weight.index_select(0, tokens));
    input.narrow(1, h, h).copy_(state.attentional);
  } else {
    state.step->tokens().copy_(tokens);
  }
  const at::Tensor& top = state.step->run();  // [1, rows, H]
  const at::Tensor y =
      options.attention() != Attention::None ? attn->forward(top, state.memory)[0] : top[0];
  if (options.input_feeding()) state.attentional = y;
  at::addmm_out(state.logits, out->bias, y, out->weight.t());
  return at::_log_softmax_out(state.log_probs, state.logits, 1, false);
}

// The modules registered in Seq2SeqImpl::reset.
int64_t parameter_count(const Seq2SeqOptions& options) {
  const int64_t v = options.vocab_size(), h = options.hidden();
  const auto rnn = [&](int64_t input_size, int64_t width, bool bidirectional) {
    return parameter_count(RnnStackOptions(options.cell(), input_size, width)
                               .num_layers(options.layers())
                               .bidirectional(bidirectional));
  };
  int64_t count = 2 * v * h;  // enc_emb, dec_emb
  count += rnn(h, encoder_width(options), options.bidirectional()) +
           rnn(options.input_feeding() ? 2 * h : h, h, false);
  if (options.attention() != Attention::None)
    count += parameter_count(LuongAttentionOptions(options.attention(), h));
  return count + h * v + v;  // out
}

}  // namespace s2s
