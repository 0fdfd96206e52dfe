// The course's encoder-decoder: embedding -> RnnStack encoder -> its final state initialises an
// RnnStack decoder -> linear -> log_softmax. Submodules are named as in the PyTorch reference
// model (enc_emb, enc, dec_emb, dec, out), so state_dicts are interchangeable with it.
// Optionally (Seq2SeqOptions::attention) Luong global attention (s2s/attention.h, submodule
// `attn`) sits between the decoder and `out`, with input feeding and a bidirectional encoder as
// further options; with Attention::None the model and its parameters are exactly the course's.
#pragma once

#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>

#include <functional>
#include <memory>
#include <tuple>
#include <vector>

#include "s2s/attention.h"
#include "s2s/rnn.h"
#include "s2s/vocab.h"  // kPadId, kSosId, kEosId

namespace s2s {

namespace kernels {
class DecodeStep;
}

// The decoder between two steps of step-wise decoding (Seq2SeqImpl::start_decoding and
// decode_step): one row per hypothesis. Search code only counts and selects rows; what a row
// holds (the RNN state, on the fused path inside a kernels::DecodeStep) is the model's business.
class DecoderState {
 public:
  DecoderState();
  ~DecoderState();
  DecoderState(DecoderState&&) noexcept;
  DecoderState& operator=(DecoderState&&) noexcept;

  int64_t rows() const { return rows_; }
  // Keeps the rows `index` (int64 [N], any N >= 1, repeats allowed), in that order: reorders
  // (beams that survive), expands (one row per beam) or drops (finished sentences).
  void select(const at::Tensor& index);

 private:
  friend class Seq2SeqImpl;
  void rebuild_step(int64_t rows);  // a DecodeStep for `rows` rows, state zero

  int64_t rows_ = 0;
  RnnState rnn;  // the unfused path's state (the fused path keeps it inside `step`)
  // Attention models: the encoder outputs and source mask of every row; with input feeding
  // also the previous attentional state h̃ [rows, H] (zeros before the first step).
  AttentionMemory memory;
  at::Tensor attentional;
  // Fused path: the step, the weights it needs to be rebuilt for another row count, and the
  // buffers of the output layer.
  std::unique_ptr<kernels::DecodeStep> step;
  Cell cell = Cell::GRU;
  Precision precision = Precision::F32;
  RnnImpl impl = RnnImpl::Auto;  // the decoder's: which kernels a rebuilt step runs on
  int64_t layers = 0;
  std::vector<at::Tensor> weights;
  at::Tensor embedding;  // the decoder's, which the step reads tokens of (no input feeding)
  at::Tensor logits, log_probs;
};

struct Seq2SeqOptions {
  explicit Seq2SeqOptions(int64_t vocab_size) : vocab_size_(vocab_size) {}
  TORCH_ARG(int64_t, vocab_size);
  TORCH_ARG(Cell, cell) = Cell::GRU;
  // Width of the embeddings and of every recurrent layer (the reference uses one width).
  TORCH_ARG(int64_t, hidden) = 256;
  TORCH_ARG(int64_t, layers) = 4;
  // Between stacked layers only; ignored (as in PyTorch) when layers == 1.
  TORCH_ARG(double, dropout) = 0.2;
  TORCH_ARG(RnnImpl, impl) = RnnImpl::OneDNN;
  // Arithmetic of both RNN stacks and of greedy decoding's fused step (see Precision).
  TORCH_ARG(Precision, precision) = Precision::F32;
  // Luong global attention over the encoder outputs; None = the course's model.
  TORCH_ARG(Attention, attention) = Attention::None;
  // Luong's input feeding (attention only): the decoder's input at step t is [embedding;
  // h̃_{t-1}], so training runs the decoder step by step instead of in one fused call.
  TORCH_ARG(bool, input_feeding) = false;
  // Bidirectional encoder. Its two directions meet as bidirectional_merge says, both for the
  // decoder's initial state (layer by layer; the same for an LSTM's c) and for the attention
  // memory, so everything after the encoder stays `hidden` wide and parameter-free. Sum:
  // h_l = h_l,forward + h_l,backward, each direction `hidden` wide. Concat: h_l = [h_l,forward;
  // h_l,backward], each direction hidden/2 wide (hidden must be even).
  TORCH_ARG(bool, bidirectional) = false;
  TORCH_ARG(DirectionMerge, bidirectional_merge) = DirectionMerge::Sum;
};

class Seq2SeqImpl : public torch::nn::Cloneable<Seq2SeqImpl> {
 public:
  explicit Seq2SeqImpl(const Seq2SeqOptions& options);
  void reset() override;

  // src [S, B], tgt_in [T, B] (<sos> then the target shifted right), time-major ids;
  // src_lengths [B] (tokens incl. <eos>) tells attention which source positions are padding
  // (undefined: the <pad> positions, see source_mask). Returns log-probabilities [T, B, V];
  // where training packs the decoder (see teacher_forced), positions past a target's last
  // non-<pad> token hold 0 (the loss and the tallies skip <pad> targets).
  // With teacher_forcing < 1, at each step the whole batch feeds back its own previous
  // prediction with probability 1 - teacher_forcing (decided by torch's global generator, so
  // seeded runs repeat).
  at::Tensor forward(const at::Tensor& src, const at::Tensor& tgt_in, double teacher_forcing = 1.0,
                     const at::Tensor& src_lengths = {});

  // The decoder's initial state (bidirectional: the directions merged), padding included.
  RnnState encode(const at::Tensor& src);

  // Step-wise decoding, no gradients. src [S, B] as for forward; src_lengths [B] (int64) the
  // positions of each column to encode (its tokens and <eos>; the <pad> after them are not
  // read), so a sentence's encoding does not depend on the batch it shares: columns of equal
  // length are encoded together. The state's rows are the batch's columns, at <sos>. Attention
  // models attend to each column's own positions only.
  DecoderState start_decoding(const at::Tensor& src, const at::Tensor& src_lengths);
  // Feeds tokens [rows] (int64) and returns the next token's log-probabilities [rows, V] (a
  // buffer the next call may overwrite on the fused path: copy what you keep).
  at::Tensor decode_step(DecoderState& state, const at::Tensor& tokens);

  // Free-running greedy decoding, no gradients: [steps, B] ids. A sequence stops at its first
  // <eos> (later positions are <pad>); decoding ends when all have stopped or after max_len.
  // With our own kernels (any impl but Torch) and several threads, slices of the batch decode in
  // parallel, one thread each (the same tokens).
  at::Tensor greedy(const at::Tensor& src, int64_t max_len, const at::Tensor& src_lengths = {});

  // Validation's two passes over one batch with the source encoded once (a quarter of their
  // work): forward's log-probabilities with teacher forcing [T, B, V], and greedy's decoding
  // [steps, B]. No gradients. The encoding is the whole batch's here, the slices' in greedy:
  // the same per sentence up to float rounding.
  // With `tgt` ([T, B], the tokens tgt_in feeds shifted by one: <eos>, then <pad>), a column
  // whose teacher-forced argmax is tgt at each of its real positions is not decoded: greedy
  // decoding would feed back its own tokens, which are then tgt_in's, and so write tgt again
  // (the same arithmetic; the two kernels round alike up to float rounding). Only the other
  // columns are decoded, about 1% of them once a model is good.
  std::pair<at::Tensor, at::Tensor> score_and_greedy(const at::Tensor& src,
                                                     const at::Tensor& tgt_in, int64_t max_len,
                                                     const at::Tensor& src_lengths = {},
                                                     const at::Tensor& tgt = {});

  Seq2SeqOptions options;
  torch::nn::Embedding enc_emb{nullptr};
  RnnStack enc{nullptr};
  torch::nn::Embedding dec_emb{nullptr};
  RnnStack dec{nullptr};
  LuongAttention attn{nullptr};  // attention models only
  torch::nn::Linear out{nullptr};

 private:
  // What the decoder needs from a (padded) source batch.
  struct Encoded {
    RnnState rnn;                                      // its initial state
    AttentionMemory memory;                            // attention models: outputs and mask
    Encoded rows(int64_t first, int64_t count) const;  // batch rows [first, first + count)
    Encoded select(const at::Tensor& index) const;     // batch rows index [N] (int64)
  };
  // The encoder's top-layer outputs [S, B, H] (directions summed) and the decoder's initial
  // state; with lengths (only where enc->runs_packed()), each column packed to its length.
  std::tuple<at::Tensor, RnnState> encode_all(const at::Tensor& src,
                                              const at::Tensor& lengths = {});
  // encode_all with each column's padding left out (outputs zero past each column's length, the
  // state at it): packed in one call where the encoder runs on gemm (training, by default), else
  // each group of equal-length columns on its own, put back in column order. src_lengths [B]
  // int64.
  std::tuple<at::Tensor, RnnState> encode_by_length(const at::Tensor& src,
                                                    const at::Tensor& src_lengths);
  // Training, greedy decoding: undefined src_lengths are read off the <pad> positions.
  Encoded encode_source(const at::Tensor& src, const at::Tensor& src_lengths);
  // One decoder step on the module path: tokens [1, B] -> logits [1, B, V], advancing `rnn`
  // (and, with input feeding, `attentional`).
  at::Tensor step_logits(RnnState& rnn, const AttentionMemory& memory, at::Tensor& attentional,
                         const at::Tensor& tokens);
  // forward's whole-target path: teacher forcing, no input feeding; where the decoder runs on
  // gemm, it, the attention's output and the output layer are packed to each target's length
  // (the steps past it feed only masked loss terms).
  at::Tensor teacher_forced(const Encoded& e, const at::Tensor& tgt_in);
  // teacher_forced's log-probabilities from the packed decoder's outputs y [T, B, H]: h̃ and the
  // output layer only for the positions a target reaches (about half of a random G2P batch's),
  // 0 past them.
  at::Tensor packed_log_probs(const Encoded& e, const at::Tensor& y, const at::Tensor& lengths);
  bool fused_decoding() const;  // decoding through kernels::DecodeStep
  // Greedy decoding of `batch` rows: decode(first, rows) for slices of the batch side by side
  // where that pays (see the .cpp), joined in order.
  at::Tensor greedy_slices(int64_t batch, int64_t max_len,
                           const std::function<at::Tensor(int64_t first, int64_t rows)>& decode);
  at::Tensor greedy_rows(const Encoded& encoded, int64_t batch, int64_t max_len);
};

TORCH_MODULE(Seq2Seq);

// The number of parameters Seq2Seq(options) has, computed without allocating them: a loader can
// refuse a configuration whose weights could not be in its file before building the model.
int64_t parameter_count(const Seq2SeqOptions& options);

}  // namespace s2s
