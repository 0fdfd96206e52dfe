// Which recurrent cell a model uses, and which implementation runs it.
#pragma once

#include <string>

namespace s2s {

// The course's three cells. GRU and LSTM follow PyTorch's equations and gate order exactly,
// RNN is the tanh vanilla cell, so weights move between s2s and PyTorch unchanged.
enum class Cell { RNN, LSTM, GRU };

// oneDNN: our fused kernels (src/kernels). Torch: stock LibTorch ops, the reference.
enum class RnnImpl { OneDNN, Torch };

// "gru" -> Cell::GRU; throws s2s::Error naming the accepted values otherwise.
Cell parse_cell(const std::string& name);
std::string to_string(Cell cell);
// Gates per cell: RNN 1, GRU 3, LSTM 4 (rows of weight_ih are gates * hidden).
int gate_count(Cell cell);

RnnImpl parse_rnn_impl(const std::string& name);
std::string to_string(RnnImpl impl);

}  // namespace s2s
