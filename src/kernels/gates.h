// The element-wise half of gemm_rnn: each step's gate nonlinearities after its recurrent matrix
// product, and their derivatives in backward. Plain loops over float arrays, compiled for the
// CPU they run on (AVX-512, AVX2 or baseline, chosen at load time) with glibc's vector exp and
// tanh, so the matrix products stay the step's main cost. PyTorch's equations and gate order:
//   LSTM (i,f,g,o): c = f*c_prev + i*g, h = o*tanh(c)
//   GRU (r,z,n):    n = tanh(xn + r*(W_hn h_prev + b_hn)), h = (1-z)*n + z*h_prev
//   RNN:            h = tanh(x + W_hh h_prev + b)
// Arrays are row-major [batch, gates*hidden] (xp, gh, gates, dgi, dgh) or [batch, hidden].
#pragma once

#include <c10/util/BFloat16.h>

#include <cstdint>

#include "s2s/cell.h"

namespace s2s::kernels {

// xp, gh: the step's input and recurrent projections, biases included. Writes the activated
// gates, the new cell state c, and h.
void lstm_step(int64_t batch, int64_t hidden, const float* xp, const float* gh, const float* c_prev,
               float* gates, float* c, float* h);
// Writes the activated gates r,z,n, ghn = W_hn h_prev + b_hn (backward needs it) and h.
void gru_step(int64_t batch, int64_t hidden, const float* xp, const float* gh, const float* h_prev,
              float* gates, float* ghn, float* h);
// count = batch * hidden.
void rnn_step(int64_t count, const float* xp, const float* gh, float* h);

// The step of `cell`: prev is the LSTM's c_{t-1} or the GRU's h_{t-1} (unread for RNN); extra
// receives the LSTM's c_t or the GRU's W_hn h_{t-1} + b_hn (unwritten for RNN).
inline void cell_step(Cell cell, int64_t batch, int64_t hidden, const float* xp, const float* gh,
                      const float* prev, float* gates, float* extra, float* h) {
  switch (cell) {
    case Cell::LSTM:
      lstm_step(batch, hidden, xp, gh, prev, gates, extra, h);
      break;
    case Cell::GRU:
      gru_step(batch, hidden, xp, gh, prev, gates, extra, h);
      break;
    case Cell::RNN:
      rnn_step(batch * hidden, xp, gh, h);
      break;
  }
}

// Backward of one step. dh = dy + dh_next is the gradient reaching h_t (from the layer above and
// from step t+1). Writes the gates' pre-activation gradients dgi (input side) in the precision
// the products read them, and adds them to the bias gradient db ([G*H], summed over the batch
// rows, in row order) while they are in registers. The recurrent side's are the same as dgi
// except the GRU's candidate, which the reset gate scales (dgh, summed into db_hh). LSTM: dc
// carries the cell gradient from step t+1 in and to step t-1 out. GRU: direct = z * dh, the part
// of d h_{t-1} that bypasses W_hh (direct may be dh_next itself: each element is read before it
// is written). bf16 outputs are rounded as masked_copy rounds.
void lstm_step_backward(int64_t batch, int64_t hidden, const float* dy, const float* dh_next,
                        const float* gates, const float* c, const float* c_prev, float* dc,
                        float* dgi, float* db);
void lstm_step_backward(int64_t batch, int64_t hidden, const float* dy, const float* dh_next,
                        const float* gates, const float* c, const float* c_prev, float* dc,
                        c10::BFloat16* dgi, float* db);
void gru_step_backward(int64_t batch, int64_t hidden, const float* dy, const float* dh_next,
                       const float* gates, const float* ghn, const float* h_prev, float* dgi,
                       float* dgh, float* direct, float* db_ih, float* db_hh);
void gru_step_backward(int64_t batch, int64_t hidden, const float* dy, const float* dh_next,
                       const float* gates, const float* ghn, const float* h_prev,
                       c10::BFloat16* dgi, c10::BFloat16* dgh, float* direct, float* db_ih,
                       float* db_hh);
// h: [batch, hidden], the step's output.
void rnn_step_backward(int64_t batch, int64_t hidden, const float* dy, const float* dh_next,
                       const float* h, float* dgi, float* db);
void rnn_step_backward(int64_t batch, int64_t hidden, const float* dy, const float* dh_next,
                       const float* h, c10::BFloat16* dgi, float* db);

// dst = src * mask (mask may be nullptr: a plain copy), what the next product reads: a layer's
// input through inter-layer dropout, or a state or gradient rounded to bf16 (to nearest, ties to
// even, as c10::BFloat16). dst may be src (f32).
void masked_copy(int64_t count, const float* src, const float* mask, float* dst);
void masked_copy(int64_t count, const float* src, const float* mask, c10::BFloat16* dst);

}  // namespace s2s::kernels
