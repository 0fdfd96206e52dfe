#include "s2s/cell.h"

#include "s2s/error.h"

namespace s2s {

Cell parse_cell(const std::string& name) {
  if (name == "gru") return Cell::GRU;
  if (name == "lstm") return Cell::LSTM;
  if (name == "rnn") return Cell::RNN;
  throw Error("unknown cell '" + name + "': expected gru, lstm or rnn");
}

std::string to_string(Cell cell) {
  switch (cell) {
    case Cell::GRU:
      return "gru";
    case Cell::LSTM:
      return "lstm";
    case Cell::RNN:
      return "rnn";
  }
  return "?";
}

int gate_count(Cell cell) {
  switch (cell) {
    case Cell::GRU:
      return 3;
    case Cell::LSTM:
      return 4;
    case Cell::RNN:
      return 1;
  }
  return 0;
}

RnnImpl parse_rnn_impl(const std::string& name) {
  if (name == "onednn") return RnnImpl::OneDNN;
  if (name == "torch") return RnnImpl::Torch;
  if (name == "gemm") return RnnImpl::Gemm;
  if (name == "auto") return RnnImpl::Auto;
  throw Error("unknown RNN implementation '" + name + "': expected auto, onednn, gemm or torch");
}

std::string to_string(RnnImpl impl) {
  switch (impl) {
    case RnnImpl::OneDNN:
      return "onednn";
    case RnnImpl::Torch:
      return "torch";
    case RnnImpl::Gemm:
      return "gemm";
    case RnnImpl::Auto:
      return "auto";
  }
  return "?";
}

RnnImpl resolve_impl(RnnImpl impl, Cell cell, bool training, Precision precision) {
  if (impl != RnnImpl::Auto) return impl;
  // Training, gemm against onednn (2026-12-01 06:45 UTC, three runs each, ms per step): the
  // course's GRU 4x256 at batch 64, 2 threads, 34.3 vs 37.7 in f32 and 20.4 vs 31.3 in bf16
  // (bench/run; oneDNN trains GRUs through its reference driver); an LSTM of that shape, bf16,
  // 29.0-29.5 vs 31.7-33.6; G2P's LSTM (2x128, batch 128, 1 thread) 14.6-15.1 vs 16.7-18.0 in
  // bf16 and 23.9-24.5 vs 25.7-26.4 in f32; the tanh RNN 8.0-8.2 vs 10.8 (bf16) and 12.0-12.2 vs
  // 14.6-14.9 (f32).
  // Without gradients, with both weights converted once and cached, and gemm's products reading
  // packed weights (2026-12-02, one thread unless said, encoding the course's 10 tokens, ms): in
  // bf16 gemm is faster for every cell and batch, GRU 0.25 vs 0.32-0.43 at batch 1, 0.92 vs 1.20
  // at 8, 3.42-3.50 vs 3.62-3.67 at 32, 3.45-3.72 vs 4.71-4.84 at 64 on 2 threads; LSTM 0.39 vs
  // 0.50 and 5.05 vs 6.00 (1, 32); RNN 0.12 vs 0.20 and 1.16 vs 1.32. In f32 they tie (GRU
  // 0.50 vs 0.45-0.47 at batch 1, 5.84-6.05 vs 5.79-5.97 at 32): oneDNN, as before.
  return training || precision == Precision::BF16 ? RnnImpl::Gemm : RnnImpl::OneDNN;
}

Precision parse_precision(const std::string& name) {
  if (name == "f32") return Precision::F32;
  if (name == "bf16") return Precision::BF16;
  throw Error("unknown precision '" + name + "': expected f32 or bf16");
}

std::string to_string(Precision precision) {
  return precision == Precision::F32 ? "f32" : "bf16";
}

Attention parse_attention(const std::string& name) {
  if (name == "none") return Attention::None;
  if (name == "dot") return Attention::Dot;
  if (name == "general") return Attention::General;
  if (name == "concat") return Attention::Concat;
  throw Error("unknown attention '" + name + "': expected none, dot, general or concat");
}

std::string to_string(Attention attention) {
  switch (attention) {
    case Attention::None:
      return "none";
    case Attention::Dot:
      return "dot";
    case Attention::General:
      return "general";
    case Attention::Concat:
      return "concat";
  }
  return "?";
}

DirectionMerge parse_direction_merge(const std::string& name) {
  if (name == "sum") return DirectionMerge::Sum;
  if (name == "concat") return DirectionMerge::Concat;
  throw Error("unknown direction merge '" + name + "': expected sum or concat");
}

std::string to_string(DirectionMerge merge) {
  return merge == DirectionMerge::Sum ? "sum" : "concat";
}

}  // namespace s2s
