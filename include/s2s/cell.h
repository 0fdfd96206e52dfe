// The model's typed choices: which recurrent cell, which implementation runs it, in which
// precision, and which attention (s2s/attention.h has the attention itself). No torch here.
#pragma once

#include <string>

namespace s2s {

// The course's three cells. GRU and LSTM follow PyTorch's equations and gate order exactly,
// RNN is the tanh vanilla cell, so weights move between s2s and PyTorch unchanged.
enum class Cell { RNN, LSTM, GRU };

// OneDNN: oneDNN's fused RNN primitives (src/kernels/onednn_rnn). Torch: stock LibTorch ops,
// the reference. Gemm: layers composed from oneDNN matrix products and our own gate loops, the
// layers side by side on several threads (src/kernels/gemm_rnn). Auto: whichever of OneDNN and
// Gemm measured faster for the cell, and for training or inference (resolve_impl).
enum class RnnImpl { OneDNN, Torch, Gemm, Auto };

// "gru" -> Cell::GRU; throws s2s::Error naming the accepted values otherwise.
Cell parse_cell(const std::string& name);
std::string to_string(Cell cell);
// Gates per cell: RNN 1, GRU 3, LSTM 4 (rows of weight_ih are gates * hidden).
int gate_count(Cell cell);

RnnImpl parse_rnn_impl(const std::string& name);
std::string to_string(RnnImpl impl);

// The arithmetic of the fused oneDNN RNN kernels. F32: everything f32. BF16: the kernels round
// inputs, states and weights to bfloat16 for the primitive's matmuls (f32 accumulation, f32
// bias and LSTM cell state) and hand back f32 outputs and gradients; the parameters, the
// optimizer and every other layer stay f32. RnnImpl::OneDNN and RnnImpl::Gemm have a bf16 path.
enum class Precision { F32, BF16 };

// The implementation that runs: `impl` itself unless it is Auto, which picks by measurement
// (docs/PERFORMANCE.md, "What runs the RNNs"): Gemm to train any cell and for every forward pass
// in bf16; OneDNN for forward passes without gradients in f32 (inference, validation, decoding),
// where the two tie.
RnnImpl resolve_impl(RnnImpl impl, Cell cell, bool training, Precision precision);

// The one error for bf16 with RnnImpl::Torch, from the configuration check and from run_rnn.
inline constexpr const char* kBf16NeedsOwnKernels =
    "--precision bf16 needs --rnn-impl onednn or gemm (the stock torch RNNs run in f32 only)";

// "f32" | "bf16"; throws s2s::Error naming the accepted values otherwise.
Precision parse_precision(const std::string& name);
std::string to_string(Precision precision);

// None: the course's model (the encoder's final state is all the decoder sees); otherwise Luong
// global attention with that score (s2s/attention.h).
enum class Attention { None, Dot, General, Concat };

// "none" | "dot" | "general" | "concat"; throws s2s::Error naming the accepted values otherwise.
Attention parse_attention(const std::string& name);
std::string to_string(Attention attention);

// How a bidirectional encoder's two directions meet. Sum: each direction is `hidden` wide and
// the two are added, per position and per layer's final state. Concat: each direction is
// hidden/2 wide and the two are concatenated (OpenNMT's brnn), so the decoder and attention see
// the same width for about a third of the encoder's arithmetic, and nothing is lost to a sum.
enum class DirectionMerge { Sum, Concat };

// "sum" | "concat"; throws s2s::Error naming the accepted values otherwise.
DirectionMerge parse_direction_merge(const std::string& name);
std::string to_string(DirectionMerge merge);

}  // namespace s2s
