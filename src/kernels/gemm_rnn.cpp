// The whole stack is one autograd function, so that its layers can run as a wavefront: the cell
// (layer l, step t) needs only (l-1, t) and (l, t-1), so the cells of one anti-diagonal
// l + t = d are independent and run side by side, one thread each, every product on that
// thread alone, each cell as soon as its two inputs are done (see wavefront). A step's products are
// too small to split across threads well (a 64x256x768 product runs 1.1x faster on two threads than
// on one); two whole cells at once run 2x faster.
//
// Per cell, forward: its input (the layer below's h_t through the dropout mask, in the
// products' precision), then x_t W_ih^T + b_ih and h_{t-1} W_hh^T + b_hh, then the gate loop.
// Backward, in reverse diagonal order: the gate derivatives (summed into the bias gradients while
// they are in registers), d h_{t-1} through W_hh, and the gradient reaching the layer below through
// W_ih and the mask. A layer's weight gradients (and the first layer's, the input's) are large
// products over all steps, each on one thread as soon as the layer's cells are done.
//
// Workspace kept for backward per layer: the input it read, h_0..h_T, the activated gates and
// LSTM c_t or GRU W_hn h_{t-1} + b_hn (the reset gate multiplies it, so backward needs it
// apart). In bf16 only the products' operands are rounded: weights and the first layer's input
// once per call, states and gate gradients as they are written (masked_copy, the gate loops);
// products accumulate in f32, and the gate loops, the workspace and every result stay f32, as in
// onednn_rnn's bf16.
#include "kernels/gemm_rnn.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <immintrin.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "kernels/dropout.h"
#include "kernels/gates.h"
#include "kernels/matmul.h"
#include "kernels/weight_cache.h"
#include "s2s/error.h"

namespace s2s::kernels {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

struct Shape {
  Cell cell;
  int64_t layers, steps, batch, input, hidden;
  bool bf16;
  // The first layer reads rows of a table of its input projections (gemm_rnn_tokens): input is
  // the table's width, G*H, and that layer has no input product.
  bool tokens;
  int64_t chunk;  // steps per wavefront cell (see shape_of)
  // Packed rows, as PyTorch's PackedSequence: the columns sorted longest first, step t runs the
  // first active[t] of them, and every per-step buffer ([N, ...], N = offset[steps] rows) holds
  // step t's rows from row offset[t]. Without lengths, active[t] = batch and offset[t] = t * batch.
  std::vector<int64_t> active, offset;
  int64_t rows() const { return gate_count(cell) * hidden; }  // G*H
  int64_t total() const { return offset.back(); }             // N
  int64_t in(int64_t layer) const { return layer == 0 ? input : hidden; }
  int64_t chunks() const { return (steps + chunk - 1) / chunk; }
  at::ScalarType operand_type() const { return bf16 ? at::kBFloat16 : at::kFloat; }
};

// A wavefront cell is a chunk of steps of one layer: its input projections are one product.
// On several threads, one step per cell gives the most cells to run side by side; on one
// thread (or inside another parallel region) the layers run one after the other anyway, and
// one product over all steps is the larger, faster one (and fewer calls).
Shape shape_of(Cell cell, int64_t layers, const std::vector<int64_t>& active, int64_t batch,
               int64_t input, int64_t hidden, bool bf16, bool tokens) {
  const bool side_by_side = at::get_num_threads() > 1 && !at::in_parallel_region();
  const auto steps = static_cast<int64_t>(active.size());
  std::vector<int64_t> offset(active.size() + 1, 0);
  for (size_t t = 0; t < active.size(); ++t) offset[t + 1] = offset[t] + active[t];
  return Shape{cell,   layers, steps, batch, input, hidden, bf16, tokens, side_by_side ? 1 : steps,
               active, offset};
}

// Each column's last packed row (of h_T, at its own length): where its final state is.
at::Tensor last_rows(const Shape& s) {
  std::vector<int64_t> last(static_cast<size_t>(s.batch));
  for (int64_t t = 0; t < s.steps; ++t) {
    const int64_t after = t + 1 < s.steps ? s.active[t + 1] : 0;  // columns still running at t+1
    for (int64_t b = after; b < s.active[t]; ++b) last[b] = s.offset[t] + b;
  }
  return at::tensor(last, at::kLong);
}

// Pointer to element `offset` of a contiguous tensor of either precision.
void* at_offset(const at::Tensor& t, int64_t offset) {
  return static_cast<char*>(t.data_ptr()) + offset * static_cast<int64_t>(t.element_size());
}
float* f32_at(const at::Tensor& t, int64_t offset) {
  return t.data_ptr<float>() + offset;
}

// b in the layout the products read directly (kernels::PackedMatrix), for a weight that serves
// `products` products (a step's or a chunk's each) in `pass`: packed once per call instead of
// copied by each product, or undefined where that does not pay (the products then read b
// itself). The returned storage must outlive the products.
enum class Pass { Forward, Backward };
at::Tensor packed_storage(const Matrix& b, bool bf16, Pass pass, int64_t products) {
  // Packing is one copy of b, what each plain product makes: a gain from two products on. Course
  // training step at 2 threads, alternating pairs (ms):
  //   bf16, both passes packed against none: 26.5-28.0 against 29.1-31.3 (2026-12-02); against
  //   the forward only: 22.0-22.9 against 22.6-23.5, backward 12.5-13.0 against 13.1-13.7.
  //   f32, the forward only against none: 38.9-41.0 against 40.5-41.7, forward 14.2-15.3
  //   against 15.4-16.0; both passes: 45.8-46.9 against 43.5-45.3, backward 28.5-29.1 against
  //   25.1-26.1 (oneDNN's f32 product of a packed [G*H, H] runs slower than of the plain one).
  if (products < 2 || (!bf16 && pass == Pass::Backward)) return {};
  at::Tensor storage = at::empty({packed_bytes(b.rows, b.cols, bf16)}, at::kByte);
  pack(b, storage.data_ptr(), bf16);
  return storage;
}

const void* packed_or_null(const at::Tensor& storage) {
  return storage.defined() ? storage.data_ptr() : nullptr;
}

// dst = src (* mask) in dst's precision (f32 or bf16).
void copy_operand(int64_t count, const float* src, const float* mask, const at::Tensor& dst,
                  int64_t offset) {
  if (dst.scalar_type() == at::kBFloat16) {
    masked_copy(count, src, mask, static_cast<c10::BFloat16*>(at_offset(dst, offset)));
  } else {
    masked_copy(count, src, mask, f32_at(dst, offset));
  }
}

// dst row i = table row index[i], rows of `width` floats.
void gather_rows(int64_t rows, const int64_t* index, const float* table, int64_t width,
                 float* dst) {
  for (int64_t i = 0; i < rows; ++i) {
    std::copy_n(table + index[i] * width, width, dst + i * width);
  }
}

// dst row index[i] += src row i, columns [begin, end) of rows `width` wide: a table's gradient.
// Rows of one index add up, so threads split the columns, never the rows.
template <class T>
void scatter_add_rows(int64_t rows, const int64_t* index, const T* src, int64_t width,
                      int64_t begin, int64_t end, float* dst) {
  for (int64_t i = 0; i < rows; ++i) {
    float* d = dst + index[i] * width;
    const T* r = src + i * width;
    for (int64_t j = begin; j < end; ++j) d[j] += static_cast<float>(r[j]);
  }
}

// Work that may start once all of one layer's cells are done (backward: that layer's weight
// gradients), run by the wavefront's threads as they free up: in the last diagonals, which have
// fewer cells than threads, instead of after them.
struct AfterLayer {
  int64_t layer;
  std::function<void()> run;
};

// Runs cell(l, c) for every cell of the stack, each once the two cells it reads from are done:
// (l-1, c) and (l, c-1), or with `reverse` (l+1, c) and (l, c+1). Threads claim cells from one
// counter in anti-diagonal order, so a cell's inputs were claimed before it, and wait for them
// by spinning (a cell takes tens of microseconds). No barrier between diagonals: a thread that
// finishes early starts the next diagonal's first ready cell instead of idling until its
// partner's cell is done (with 2 threads, 4 layers and 10 steps: the work of 20 cells' time
// against 22 with a barrier per diagonal, and no fork/join per diagonal). `after`'s tasks join
// the claim order one diagonal after their layer's last cell.
template <class F>
void wavefront(int64_t layers, int64_t chunks, bool reverse, const F& cell,
               const std::vector<AfterLayer>& after = {}) {
  struct Item {
    int64_t l, c;            // the cell, or for a task the layer's last cell
    const AfterLayer* task;  // nullptr: the cell itself
  };
  std::vector<Item> order;  // claim order
  const int64_t diagonals = layers + chunks - 1, last_chunk = reverse ? 0 : chunks - 1;
  for (int64_t i = 0; i <= diagonals; ++i) {
    if (i < diagonals) {
      const int64_t d = reverse ? diagonals - 1 - i : i;
      const int64_t first = std::max<int64_t>(0, d - chunks + 1), last = std::min(layers - 1, d);
      for (int64_t l = first; l <= last; ++l) order.push_back({l, d - l, nullptr});
    }
    // A layer's tasks one diagonal after its last cell's, so that it is likely done by the
    // time a thread claims them.
    for (const AfterLayer& task : after) {
      const int64_t d = task.layer + last_chunk;  // the diagonal of the layer's last cell
      if ((reverse ? diagonals - 1 - d : d) + 1 == i) {
        order.push_back({task.layer, last_chunk, &task});
      }
    }
  }
  std::vector<std::atomic<bool>> done(static_cast<size_t>(layers * chunks));
  for (auto& flag : done) flag.store(false, std::memory_order_relaxed);
  const int64_t before = reverse ? 1 : -1;  // the inputs' direction, in layers and in chunks
  const auto ready = [&](int64_t l, int64_t c) {
    return l < 0 || l >= layers || c < 0 || c >= chunks ||
           done[static_cast<size_t>(l * chunks + c)].load(std::memory_order_acquire);
  };
  std::atomic<int64_t> next{0};
  std::atomic<bool> failed{false};  // a thread that threw: the others stop waiting for its cell
  const auto count = static_cast<int64_t>(order.size());
  at::parallel_for(0, at::get_num_threads(), 1, [&](int64_t, int64_t) {
    for (int64_t i = next++; i < count; i = next++) {
      const Item item = order[static_cast<size_t>(i)];
      const auto inputs_done = [&] {
        return item.task ? ready(item.l, item.c)
                         : ready(item.l + before, item.c) && ready(item.l, item.c + before);
      };
      while (!inputs_done()) {
        if (failed.load(std::memory_order_relaxed)) return;
        _mm_pause();
      }
      try {
        if (item.task) {
          item.task->run();
          continue;
        }
        cell(item.l, item.c);
      } catch (...) {
        failed = true;
        throw;
      }
      done[static_cast<size_t>(item.l * chunks + item.c)].store(true, std::memory_order_release);
    }
  });
}

// out = a b, out contiguous f32.
struct Product {
  Matrix a, b;
  float* out;
};

// A product as tasks for a wavefront's threads, after `layer`: on several threads split into two
// halves of its output rows, so that the last ones to start do not leave a thread idle for long.
void add_product(std::vector<AfterLayer>& tasks, int64_t layer, const Product& p, bool bf16) {
  const int64_t element = bf16 ? 2 : 4;
  const int64_t halves = at::get_num_threads() > 1 ? 2 : 1;
  const int64_t step = (p.a.rows + halves - 1) / halves;
  for (int64_t begin = 0; begin < p.a.rows; begin += step) {
    const int64_t rows = std::min(step, p.a.rows - begin);
    const void* a = static_cast<const char*>(p.a.data) + begin * p.a.row_stride * element;
    const Product part{Matrix{a, rows, p.a.cols, p.a.row_stride, p.a.col_stride}, p.b,
                       p.out + begin * p.b.cols};
    tasks.push_back({layer, [part, bf16] { matmul(part.a, part.b, part.out, nullptr, bf16); }});
  }
}

// The first layer's table gradient as tasks for a wavefront's threads, after layer 0: each step's
// gate gradients dgi [T*B, G*H] (operand precision) summed into its token's row of table_grad
// [V, G*H] (zeros); on several threads one task per half of the columns.
void add_table_gradient(std::vector<AfterLayer>& tasks, const at::Tensor& tokens,
                        const at::Tensor& dgi, const at::Tensor& table_grad) {
  const int64_t rows = tokens.numel(), width = table_grad.size(1);
  const int64_t halves = at::get_num_threads() > 1 ? 2 : 1;
  const int64_t step = (width + halves - 1) / halves;
  for (int64_t begin = 0; begin < width; begin += step) {
    const int64_t end = std::min(width, begin + step);
    tasks.push_back({0, [=] {
                       const int64_t* ids = tokens.data_ptr<int64_t>();
                       float* out = table_grad.data_ptr<float>();
                       if (dgi.scalar_type() == at::kBFloat16) {
                         scatter_add_rows(rows, ids, dgi.data_ptr<c10::BFloat16>(), width, begin,
                                          end, out);
                       } else {
                         scatter_add_rows(rows, ids, dgi.data_ptr<float>(), width, begin, end, out);
                       }
                     }});
  }
}

// One layer's forward buffers, per-step ones packed ([N, ...], see Shape); what backward reads is
// kept in the autograd context.
struct Layer {
  at::Tensor w_ih, w_hh;  // the products' weights, operand precision: [G*H, in], [G*H, H]
  // Packed for the per-step products (packed_storage): forward W_ih^T, W_hh^T; backward W_ih
  // (layers above the first) and W_hh.
  at::Tensor w_ih_packed, w_hh_packed;
  at::Tensor b_ih, b_hh;    // [G*H] f32
  at::Tensor x;             // [N, in] the input the products read (operand precision), or
                            // with tokens the first layer's table [V, G*H] f32
  at::Tensor tokens;        // [N] int64: the table's row per packed row (first layer)
  at::Tensor mask;          // [N, H] dropout applied to x (layers above the first), or none
  at::Tensor h0, c0;        // [B, H] f32 initial states (c0: LSTM)
  at::Tensor ys;            // [N, H] f32: step t's rows h_{t+1}
  at::Tensor hs;            // [N, H] the products' operand: step t's rows h_t (operand precision)
  at::Tensor gates, extra;  // [N, G*H] and [N, H] (LSTM c_t, GRU W_hn h + b_hn), or see below
  // Without backward (stack_forward's `inference`) a buffer that nothing reads after its step
  // holds one step's rows at a time ([B, ...]): gates, and extra outside the LSTM (the next step
  // reads c_t). Validation's encoder at 512 columns would otherwise fill 16 MB of gates per layer.
  bool gates_per_step = false, extra_per_step = false;
  at::Tensor xp, gh;  // [chunk * B, G*H] and [B, G*H] scratch: the steps' projections
};

// The state step t reads, f32: the initial one or the previous step's rows of `from` (ys, or
// LSTM's c_t in extra); its first active[t] rows are step t's columns.
const float* previous(const Shape& s, const at::Tensor& first, const at::Tensor& from, int64_t t) {
  return t == 0 ? first.data_ptr<float>() : f32_at(from, s.offset[t - 1] * s.hidden);
}

// Steps [c * chunk, ...) of layer l.
void forward_cell(const Shape& s, std::vector<Layer>& layers, int64_t l, int64_t c) {
  Layer& L = layers[l];
  const int64_t H = s.hidden, R = s.rows(), in = s.in(l);
  const int64_t t0 = c * s.chunk, n = std::min(s.chunk, s.steps - t0);
  const int64_t r0 = s.offset[t0], rows = s.offset[t0 + n] - r0;  // the chunk's packed rows
  if (l > 0) {
    const float* mask = L.mask.defined() ? f32_at(L.mask, r0 * H) : nullptr;
    copy_operand(rows * H, f32_at(layers[l - 1].ys, r0 * H), mask, L.x, r0 * H);
  }
  if (L.tokens.defined()) {
    gather_rows(rows, L.tokens.data_ptr<int64_t>() + r0, L.x.data_ptr<float>(), R,
                L.xp.data_ptr<float>());
  } else {
    matmul(Matrix{at_offset(L.x, r0 * in), rows, in, in, 1},
           PackedMatrix{Matrix{L.w_ih.data_ptr(), R, in, in, 1}.t(), packed_or_null(L.w_ih_packed)},
           L.xp.data_ptr<float>(), L.b_ih.data_ptr<float>(), s.bf16);
  }
  for (int64_t t = t0; t < t0 + n; ++t) {
    const int64_t B = s.active[t], row = s.offset[t];
    matmul(Matrix{at_offset(L.hs, row * H), B, H, H, 1},
           PackedMatrix{Matrix{L.w_hh.data_ptr(), R, H, H, 1}.t(), packed_or_null(L.w_hh_packed)},
           L.gh.data_ptr<float>(), L.b_hh.data_ptr<float>(), s.bf16);
    const float* xp = f32_at(L.xp, (row - r0) * R);
    const float* gh = L.gh.data_ptr<float>();
    float* h = f32_at(L.ys, row * H);
    const float* prev =
        s.cell == Cell::LSTM ? previous(s, L.c0, L.extra, t) : previous(s, L.h0, L.ys, t);
    cell_step(s.cell, B, H, xp, gh, prev, f32_at(L.gates, (L.gates_per_step ? 0 : row) * R),
              f32_at(L.extra, (L.extra_per_step ? 0 : row) * H), h);
    // The next step's operand: the rows of the columns still running.
    if (t + 1 < s.steps) copy_operand(s.active[t + 1] * H, h, nullptr, L.hs, s.offset[t + 1] * H);
  }
}

// gemm_rnn_tokens' token ids and the packing, handed through autograd as plain values rather
// than variables: they have no gradient.
struct Packing {
  at::Tensor ids;               // [N] int64 token ids (gemm_rnn_tokens), or undefined
  at::Tensor positions;         // [N] int64: packed row n's place t * B + b in [T, B], or
                                // undefined: not packed (N = T * B, row n is place n)
  std::vector<int64_t> active;  // Shape::active
};

// The forward pass of the stack: input [N, I] f32 contiguous (or with ids the first layer's
// table [V, G*H]), h0/c0 [L,B,H] in the packed columns' order, params as at::gru. With
// `inference` (nothing recorded for backward) the weights come rounded and packed from the weight
// cache, converted once while they do not change, instead of on every call.
std::vector<Layer> stack_forward(const Shape& s, const at::Tensor& input, const Packing& p,
                                 const at::Tensor& h0, const at::Tensor& c0, at::TensorList params,
                                 double dropout, bool train, bool inference = false) {
  const at::TensorOptions f32 = input.options(), low = f32.dtype(s.operand_type());
  const int64_t T = s.steps, B = s.batch, H = s.hidden, R = s.rows(), N = s.total();
  std::vector<Layer> layers(s.layers);
  const PackedWeights cached = inference ? packed_weights(params, s.bf16) : PackedWeights{};
  for (int64_t l = 0; l < s.layers; ++l) {
    Layer& L = layers[l];
    const bool table = l == 0 && s.tokens;  // no input product: its weights are not read
    if (inference) {
      L.w_ih = cached.plain[2 * l];
      L.w_ih_packed = cached.packed[2 * l];
      L.w_hh = cached.plain[2 * l + 1];
      L.w_hh_packed = cached.packed[2 * l + 1];
    } else if (!table) {
      L.w_ih = params[4 * l].to(s.operand_type()).contiguous();
      L.w_ih_packed = packed_storage(Matrix{L.w_ih.data_ptr(), R, s.in(l), s.in(l), 1}.t(), s.bf16,
                                     Pass::Forward, s.chunks());
    }
    if (!inference) {
      L.w_hh = params[4 * l + 1].to(s.operand_type()).contiguous();
      L.w_hh_packed =
          packed_storage(Matrix{L.w_hh.data_ptr(), R, H, H, 1}.t(), s.bf16, Pass::Forward, s.steps);
    }
    L.b_ih = params[4 * l + 2].contiguous();
    L.b_hh = params[4 * l + 3].contiguous();
    // The masks in layer order, one draw each, as kernels::dropout after each layer would (and
    // packed, the same values at the same places).
    if (l > 0 && train && dropout > 0.0) {
      const at::Tensor mask = dropout_mask({T * B, H}, dropout);
      L.mask = p.positions.defined() ? mask.index_select(0, p.positions) : mask;
    }
    if (table) {
      L.x = input;
      L.tokens = p.ids;
    } else {
      L.x = l == 0 ? input.to(s.operand_type()) : at::empty({N, H}, low);
    }
    L.h0 = h0[l].contiguous();
    if (s.cell == Cell::LSTM) L.c0 = c0[l].contiguous();
    L.ys = at::empty({N, H}, f32);
    L.hs = at::empty({N, H}, low);
    L.hs.narrow(0, 0, B).copy_(L.h0);
    L.gates_per_step = inference;
    L.extra_per_step = inference && s.cell != Cell::LSTM;
    L.gates = at::empty({L.gates_per_step ? B : N, s.cell == Cell::RNN ? 0 : R}, f32);
    L.extra = at::empty({L.extra_per_step ? B : N, s.cell == Cell::RNN ? 0 : H}, f32);
    L.xp = at::empty({s.chunk * B, R}, f32);
    L.gh = at::empty({B, R}, f32);
  }
  wavefront(s.layers, s.chunks(), false,
            [&](int64_t l, int64_t c) { forward_cell(s, layers, l, c); });
  return layers;
}

// What stack_forward's caller returns: the last layer's outputs [N, H], h_n and (LSTM) c_n, each
// column's at its own length.
variable_list results(const Shape& s, const std::vector<Layer>& layers) {
  const at::Tensor last = last_rows(s);
  std::vector<at::Tensor> h_n, c_n;
  for (const Layer& L : layers) {
    h_n.push_back(L.ys.index_select(0, last));
    if (s.cell == Cell::LSTM) c_n.push_back(L.extra.index_select(0, last));
  }
  variable_list out{layers.back().ys.clone(), at::stack(h_n)};
  if (s.cell == Cell::LSTM) out.push_back(at::stack(c_n));
  return out;
}

// Autograd keeps tensors by name; per-layer ones as "<name><layer>".
void keep(AutogradContext* ctx, const std::string& name, const at::Tensor& t) {
  if (t.defined()) ctx->saved_data[name] = t;
}
at::Tensor kept(AutogradContext* ctx, const std::string& name) {
  const auto it = ctx->saved_data.find(name);
  return it != ctx->saved_data.end() && it->second.isTensor() ? it->second.toTensor()
                                                              : at::Tensor();
}

// One layer's backward buffers.
struct LayerGrad {
  at::Tensor dy;            // [N, H] gradient reaching h_t from above (the output's, on top)
  at::Tensor dh, dc;        // [B, H] running gradient of h_t (and LSTM c_t) from step t+1; a
                            // column's final-state gradient until its last step is reached
  at::Tensor dgi, dgh;      // [N, G*H] pre-activation gradients, input and recurrent side,
                            // in the products' precision (dgh is dgi outside the GRU)
  at::Tensor db_ih, db_hh;  // [G*H] the biases' gradients, summed step by step (db_hh: GRU)
};

// Step t's gate gradients, written in the products' precision T; accumulate: whether dh
// already holds a part of d h_{t-1} that bypasses W_hh (GRU).
template <class T>
bool gate_gradients(const Shape& s, const Layer& L, LayerGrad& G, int64_t t) {
  const int64_t B = s.active[t], H = s.hidden, R = s.rows(), row = s.offset[t];
  const float* dy = f32_at(G.dy, row * H);
  float* dh = G.dh.data_ptr<float>();
  T* dgi = G.dgi.data_ptr<T>() + row * R;
  float* db_ih = G.db_ih.data_ptr<float>();
  switch (s.cell) {
    case Cell::LSTM:
      lstm_step_backward(B, H, dy, dh, f32_at(L.gates, row * R), f32_at(L.extra, row * H),
                         previous(s, L.c0, L.extra, t), G.dc.data_ptr<float>(), dgi, db_ih);
      return false;
    case Cell::GRU:
      gru_step_backward(B, H, dy, dh, f32_at(L.gates, row * R), f32_at(L.extra, row * H),
                        previous(s, L.h0, L.ys, t), dgi, G.dgh.data_ptr<T>() + row * R, dh, db_ih,
                        G.db_hh.data_ptr<float>());
      return true;
    case Cell::RNN:
      rnn_step_backward(B, H, dy, dh, f32_at(L.ys, row * H), dgi, db_ih);
      return false;
  }
  return false;
}

// Steps [c * chunk, ...) of layer l, last first.
void backward_cell(const Shape& s, const std::vector<Layer>& layers, std::vector<LayerGrad>& grads,
                   int64_t l, int64_t c) {
  const Layer& L = layers[l];
  LayerGrad& G = grads[l];
  const int64_t H = s.hidden, R = s.rows(), in = s.in(l);
  const int64_t t0 = c * s.chunk, n = std::min(s.chunk, s.steps - t0);
  const int64_t r0 = s.offset[t0], rows = s.offset[t0 + n] - r0;
  const PackedMatrix w_hh{Matrix{L.w_hh.data_ptr(), R, H, H, 1}, packed_or_null(L.w_hh_packed)};
  for (int64_t t = t0 + n - 1; t >= t0; --t) {
    const bool accumulate =
        s.bf16 ? gate_gradients<c10::BFloat16>(s, L, G, t) : gate_gradients<float>(s, L, G, t);
    matmul(Matrix{at_offset(G.dgh, s.offset[t] * R), s.active[t], R, R, 1}, w_hh,
           G.dh.data_ptr<float>(), nullptr, s.bf16, accumulate);
  }
  if (l > 0) {  // the gradient reaching the layer below: through W_ih, then the dropout mask
    float* below = f32_at(grads[l - 1].dy, r0 * H);
    matmul(Matrix{at_offset(G.dgi, r0 * R), rows, R, R, 1},
           PackedMatrix{Matrix{L.w_ih.data_ptr(), R, in, in, 1}, packed_or_null(L.w_ih_packed)},
           below, nullptr, s.bf16);
    if (L.mask.defined()) masked_copy(rows * H, below, f32_at(L.mask, r0 * H), below);
  }
}

struct GemmStackFunction : public torch::autograd::Function<GemmStackFunction> {
  static variable_list forward(AutogradContext* ctx, const at::Tensor& input, const at::Tensor& h0,
                               const at::Tensor& c0, at::TensorList params, int64_t cell_index,
                               double dropout, bool train, bool bf16, const Packing& packing) {
    const Cell cell = static_cast<Cell>(cell_index);
    const Shape s = shape_of(cell, h0.size(0), packing.active, h0.size(1), input.size(1),
                             h0.size(2), bf16, packing.ids.defined());
    const std::vector<Layer> layers =
        stack_forward(s, input, packing, h0, c0, params, dropout, train);
    ctx->saved_data["cell"] = cell_index;
    ctx->saved_data["bf16"] = bf16;
    ctx->saved_data["active"] = packing.active;
    keep(ctx, "tokens", packing.ids);
    for (int64_t l = 0; l < s.layers; ++l) {
      const Layer& L = layers[l];
      const std::string n = std::to_string(l);
      for (const auto& [name, t] : {std::pair{"w_ih", L.w_ih},
                                    {"w_hh", L.w_hh},
                                    {"x", L.x},
                                    {"mask", L.mask},
                                    {"h0", L.h0},
                                    {"c0", L.c0},
                                    {"ys", L.ys},
                                    {"hs", L.hs},
                                    {"gates", L.gates},
                                    {"extra", L.extra}}) {
        keep(ctx, name + n, t);
      }
    }
    return results(s, layers);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const Cell cell = static_cast<Cell>(ctx->saved_data["cell"].toInt());
    const bool bf16 = ctx->saved_data["bf16"].toBool();
    std::vector<Layer> layers;
    for (int64_t l = 0; kept(ctx, "ys" + std::to_string(l)).defined(); ++l) {
      const std::string n = std::to_string(l);
      Layer L;
      L.w_ih = kept(ctx, "w_ih" + n);
      L.w_hh = kept(ctx, "w_hh" + n);
      L.x = kept(ctx, "x" + n);
      L.mask = kept(ctx, "mask" + n);
      L.h0 = kept(ctx, "h0" + n);
      L.c0 = kept(ctx, "c0" + n);
      L.ys = kept(ctx, "ys" + n);
      L.hs = kept(ctx, "hs" + n);
      L.gates = kept(ctx, "gates" + n);
      L.extra = kept(ctx, "extra" + n);
      layers.push_back(std::move(L));
    }
    const at::Tensor tokens = kept(ctx, "tokens");
    const Shape s = shape_of(cell, static_cast<int64_t>(layers.size()),
                             ctx->saved_data["active"].toIntVector(), layers[0].h0.size(0),
                             layers[0].x.size(1), layers[0].h0.size(1), bf16, tokens.defined());
    const int64_t B = s.batch, H = s.hidden, R = s.rows(), N = s.total();
    const at::TensorOptions f32 = layers[0].ys.options(), low = f32.dtype(s.operand_type());
    for (int64_t l = 0; l < s.layers; ++l) {  // the per-step products' weights
      Layer& L = layers[l];
      L.w_hh_packed =
          packed_storage(Matrix{L.w_hh.data_ptr(), R, H, H, 1}, bf16, Pass::Backward, s.steps);
      if (l > 0) {
        L.w_ih_packed =
            packed_storage(Matrix{L.w_ih.data_ptr(), R, H, H, 1}, bf16, Pass::Backward, s.chunks());
      }
    }
    const auto grad_or_zeros = [&](size_t i, at::IntArrayRef sizes) {
      return grad_outputs.size() > i && grad_outputs[i].defined() ? grad_outputs[i].contiguous()
                                                                  : at::zeros(sizes, f32);
    };
    const at::Tensor dy = grad_or_zeros(0, {N, H}), dh_n = grad_or_zeros(1, {s.layers, B, H});
    const at::Tensor dc_n = cell == Cell::LSTM ? grad_or_zeros(2, {s.layers, B, H}) : at::Tensor();
    std::vector<LayerGrad> grads(s.layers);
    for (int64_t l = 0; l < s.layers; ++l) {
      LayerGrad& G = grads[l];
      G.dy = l + 1 == s.layers ? dy : at::empty({N, H}, f32);
      G.dh = dh_n[l].clone();
      if (cell == Cell::LSTM) G.dc = dc_n[l].clone();
      G.dgi = at::empty({N, R}, low);
      G.dgh = cell == Cell::GRU ? at::empty({N, R}, low) : G.dgi;
      G.db_ih = at::zeros({R}, f32);
      if (cell == Cell::GRU) G.db_hh = at::zeros({R}, f32);
    }
    // The large products over all steps, each weight's gradient and the input's, as tasks
    // that start once their layer is done.
    variable_list result(3 + 4 * s.layers + 5);
    // The input's gradient: [N, I], or with tokens the table's [V, G*H].
    at::Tensor dx = s.tokens ? at::zeros_like(layers[0].x) : at::empty({N, s.input}, f32);
    std::vector<at::Tensor> dw_ih(s.layers), dw_hh(s.layers);
    for (int64_t l = 0; l < s.layers; ++l) {
      if (l > 0 || !s.tokens) dw_ih[l] = at::empty({R, s.in(l)}, f32);
      dw_hh[l] = at::empty({R, H}, f32);
    }
    std::vector<AfterLayer> products;
    for (int64_t l = s.layers - 1; l >= 0; --l) {
      const int64_t in = s.in(l);
      // dW_ih = dgi^T x (not for a table: its gradient is dx's), dW_hh = dgh^T h_{t-1}
      if (l > 0 || !s.tokens) {
        add_product(products, l,
                    {Matrix{grads[l].dgi.data_ptr(), N, R, R, 1}.t(),
                     Matrix{layers[l].x.data_ptr(), N, in, in, 1}, dw_ih[l].data_ptr<float>()},
                    bf16);
      }
      add_product(products, l,
                  {Matrix{grads[l].dgh.data_ptr(), N, R, R, 1}.t(),
                   Matrix{layers[l].hs.data_ptr(), N, H, H, 1}, dw_hh[l].data_ptr<float>()},
                  bf16);
    }
    if (s.tokens) {
      add_table_gradient(products, tokens, grads[0].dgi, dx);
    } else {
      // dx = dgi W_ih, of the first layer
      add_product(products, 0,
                  {Matrix{grads[0].dgi.data_ptr(), N, R, R, 1},
                   Matrix{layers[0].w_ih.data_ptr(), R, s.input, s.input, 1}, dx.data_ptr<float>()},
                  bf16);
    }
    wavefront(
        s.layers, s.chunks(), true,
        [&](int64_t l, int64_t c) { backward_cell(s, layers, grads, l, c); }, products);
    result[0] = dx;
    std::vector<at::Tensor> dh0, dc0;
    for (int64_t l = 0; l < s.layers; ++l) {
      dh0.push_back(grads[l].dh);
      if (cell == Cell::LSTM) dc0.push_back(grads[l].dc);
      // A table stands for the first layer's W_ih and b_ih: they get their gradients through it.
      const bool table = l == 0 && s.tokens;
      if (!table) result[3 + 4 * l] = dw_ih[l];
      result[3 + 4 * l + 1] = dw_hh[l];
      // Outside the GRU both biases get the same gradient; each its own tensor, since autograd
      // may keep a returned gradient as the parameter's .grad and add to it in place.
      if (!table) result[3 + 4 * l + 2] = grads[l].db_ih;
      result[3 + 4 * l + 3] = cell == Cell::GRU ? grads[l].db_hh
                              : table           ? grads[l].db_ih
                                                : grads[l].db_ih.clone();
    }
    result[1] = at::stack(dh0);
    if (cell == Cell::LSTM) result[2] = at::stack(dc0);
    return result;  // (the last five: cell, dropout, train, bf16, packing)
  }
};

// Both entry points: input [T,B,I] with tokens undefined, or the table [V, G*H] and tokens [T,B];
// lengths [B] int64 in 1..T, or undefined (every column T long). Packs what the kernel reads
// (rows of the columns longest first) and unpacks what it returns, with differentiable ATen ops.
RnnResult run_stack(Cell cell, const at::Tensor& input, const at::Tensor& tokens,
                    const at::Tensor& lengths, const at::Tensor& h0, const at::Tensor& c0,
                    at::TensorList params, int64_t num_layers, double dropout, bool train,
                    Precision precision) {
  const bool lstm = cell == Cell::LSTM, bf16 = precision == Precision::BF16;
  const int64_t T = tokens.defined() ? tokens.size(0) : input.size(0), B = h0.size(1);
  const bool packed = lengths.defined() && lengths.min().item<int64_t>() < T;
  Packing p;
  at::Tensor h = h0, c = lstm ? c0 : h0, order, inverse;  // order: packed column -> column
  if (packed) {
    order = std::get<1>(lengths.sort(/*stable=*/true, /*dim=*/0, /*descending=*/true));
    inverse = at::empty_like(order).index_copy_(0, order, at::arange(B, order.options()));
    const int64_t* len = lengths.data_ptr<int64_t>();
    const int64_t* column = order.data_ptr<int64_t>();
    std::vector<int64_t> positions;
    // Steps up to the longest column: past it no column runs (and no product has 0 rows).
    for (int64_t t = 0; t < len[column[0]]; ++t) {
      int64_t running = 0;
      while (running < B && len[column[running]] > t) ++running;
      p.active.push_back(running);
      for (int64_t b = 0; b < running; ++b) positions.push_back(t * B + column[b]);
    }
    p.positions = at::tensor(positions, at::kLong);
    h = h0.index_select(1, order);
    if (lstm) c = c0.index_select(1, order);
  } else {
    p.active.assign(static_cast<size_t>(T), B);
  }
  const auto pack = [&](const at::Tensor& t) {  // [T, B, ...] -> [N, ...]
    const at::Tensor rows = t.reshape({T * B, -1});
    return packed ? rows.index_select(0, p.positions) : rows;
  };
  at::Tensor x = input.contiguous();
  if (tokens.defined()) {
    p.ids = pack(tokens).view({-1});
  } else {
    x = pack(x).contiguous();
  }
  const bool record = records_gradients(input, h0, lstm ? c0 : at::Tensor(), params);
  variable_list out;
  if (record) {
    // Non-LSTM cells have no cell state; h0 stands in so that no input is undefined.
    out = GemmStackFunction::apply(x, h, c, params, static_cast<int64_t>(cell), dropout, train,
                                   bf16, p);
  } else {
    at::NoGradGuard no_grad;
    const Shape s =
        shape_of(cell, num_layers, p.active, B, x.size(1), h0.size(2), bf16, tokens.defined());
    out = results(s, stack_forward(s, x, p, h, c, params, dropout, train, /*inference=*/true));
  }
  RnnResult result;
  const int64_t H = h0.size(2);
  result.output = packed ? at::zeros({T * B, H}, out[0].options())
                               .index_copy(0, p.positions, out[0])
                               .view({T, B, H})
                         : out[0].view({T, B, H});
  result.h_n = packed ? out[1].index_select(1, inverse) : out[1];
  if (lstm) result.c_n = packed ? out[2].index_select(1, inverse) : out[2];
  return result;
}

// lengths, if given: [B] integers in 1..steps, as int64 (s2s::Error naming the kernel otherwise).
at::Tensor checked_lengths(const char* kernel, const at::Tensor& lengths, int64_t steps,
                           int64_t batch) {
  if (!lengths.defined()) return lengths;
  const auto fail = [&](const std::string& what) {
    throw Error(std::string(kernel) + ": " + what);
  };
  if (lengths.dim() != 1 || lengths.size(0) != batch || !lengths.device().is_cpu() ||
      !at::isIntegralType(lengths.scalar_type(), /*includeBool=*/false))
    fail("lengths must be a [" + std::to_string(batch) + "] integer CPU tensor");
  const at::Tensor len = lengths.to(at::kLong).contiguous();
  if (len.min().item<int64_t>() < 1 || len.max().item<int64_t>() > steps)
    fail("a length is outside 1.." + std::to_string(steps));
  return len;
}

}  // namespace

RnnResult gemm_rnn(Cell cell, const at::Tensor& input, const at::Tensor& h0, const at::Tensor& c0,
                   at::TensorList params, int64_t num_layers, double dropout, bool train,
                   Precision precision, const at::Tensor& lengths) {
  check_rnn_arguments("gemm_rnn", cell, input, h0, c0, params, num_layers);
  return run_stack(cell, input, at::Tensor(),
                   checked_lengths("gemm_rnn", lengths, input.size(0), input.size(1)), h0, c0,
                   params, num_layers, dropout, train, precision);
}

RnnResult gemm_rnn_tokens(Cell cell, const at::Tensor& tokens, const at::Tensor& table,
                          const at::Tensor& h0, const at::Tensor& c0, at::TensorList params,
                          int64_t num_layers, double dropout, bool train, Precision precision,
                          const at::Tensor& lengths) {
  const char* kernel = "gemm_rnn_tokens";
  const auto fail = [&](const std::string& what) {
    throw Error(std::string(kernel) + ": " + what);
  };
  if (tokens.dim() != 2 || !at::isIntegralType(tokens.scalar_type(), /*includeBool=*/false) ||
      !tokens.device().is_cpu())
    fail("tokens must be a [T, B] integer CPU tensor");
  // The first layer's W_ih is not read; check the rest as for an input of W_ih's width.
  const int64_t input_size = params.empty() ? 0 : params[0].size(-1);
  check_rnn_shapes(kernel, cell, tokens.size(0), tokens.size(1), input_size, h0, c0, params,
                   num_layers);
  const int64_t rows = gate_count(cell) * h0.size(2);  // G*H
  if (table.dim() != 2 || table.scalar_type() != at::kFloat || !table.device().is_cpu() ||
      table.size(1) != rows || table.size(0) < 1)
    fail("table must be a [V, " + std::to_string(rows) + "] float CPU tensor");
  const at::Tensor ids = tokens.to(at::kLong).contiguous();
  const int64_t vocab = table.size(0);
  if (ids.min().item<int64_t>() < 0 || ids.max().item<int64_t>() >= vocab)
    fail("a token id is outside the table's 0.." + std::to_string(vocab - 1));
  return run_stack(cell, table, ids, checked_lengths(kernel, lengths, ids.size(0), ids.size(1)), h0,
                   c0, params, num_layers, dropout, train, precision);
}

}  // namespace s2s::kernels
