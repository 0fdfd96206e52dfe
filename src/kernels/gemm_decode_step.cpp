// DecodeStep on our own kernels: per layer, the step's input and recurrent products on oneDNN's
// matmul (kernels::matmul) and the gate loop of gemm_rnn (kernels/gates.h), in gemm_rnn's
// arithmetic: in bf16 only the products' operands are rounded (the weights once, packed in the
// weight cache; the input and each new state as they are written), and the states, the LSTM cell
// and the gate loops stay f32. So a step's result is gemm_rnn's for the same step.
//
// Why: a decoding step's products are small (B x H by H x G*H per layer), and oneDNN 2.6's bf16
// GRU inference primitive runs them at ~70% of the matmul ceiling, while the matmul primitive
// runs a 32 x 256 by 256 x 768 bf16 product at the ceiling (bench/run's greedy rows).
#include <ATen/ATen.h>

#include <cstring>
#include <string>
#include <vector>

#include "kernels/decode_step.h"
#include "kernels/gates.h"
#include "kernels/matmul.h"
#include "kernels/weight_cache.h"
#include "s2s/error.h"

namespace s2s::kernels {
namespace {

class GemmSteps final : public DecodeStep::Impl {
 public:
  GemmSteps(Cell cell, at::TensorList params, int64_t num_layers, int64_t batch,
            Precision precision, const at::Tensor& embedding)
      : cell_(cell),
        bf16_(precision == Precision::BF16),
        layers_(num_layers),
        batch_(batch),
        input_(params[0].size(1)),
        hidden_(params[1].size(1)),
        gates_(gate_count(cell) * hidden_) {
    if (params.size() != static_cast<size_t>(4 * num_layers)) {
      throw Error("DecodeStep: expected " + std::to_string(4 * num_layers) +
                  " parameter tensors, got " + std::to_string(params.size()));
    }
    const auto f32 = params[0].options().dtype(at::kFloat).requires_grad(false);
    const auto operand = f32.dtype(bf16_ ? at::kBFloat16 : at::kFloat);
    weights_ = packed_weights(params, bf16_);
    for (int64_t l = 0; l < num_layers; ++l) {
      biases_.push_back(params[4 * l + 2].detach().to(at::kFloat).contiguous());
      biases_.push_back(params[4 * l + 3].detach().to(at::kFloat).contiguous());
    }
    if (embedding.defined()) {
      if (embedding.dim() != 2 || embedding.size(1) != input_) {
        throw Error("DecodeStep: the embedding must be [V, " + std::to_string(input_) + "]");
      }
      vocabulary_ = embedding.size(0);
      ids_ = at::zeros({batch}, f32.dtype(at::kLong));
      if (vocabulary_ <= DecodeStep::kMaxTableRows) {
        table_ = token_table(embedding, params[0], params[2]);
      } else {
        embedding_ = embedding;
      }
    }
    x_ = at::zeros({batch, input_}, f32);
    x_operand_ = bf16_ ? at::zeros({batch, input_}, operand) : x_;
    for (int i = 0; i < 2; ++i) {
      h_[i] = at::zeros({num_layers, batch, hidden_}, f32);
      if (cell == Cell::LSTM) c_[i] = at::zeros({num_layers, batch, hidden_}, f32);
      top_[i] = h_[i].narrow(0, num_layers - 1, 1);
    }
    if (bf16_) h_operand_ = at::zeros({num_layers, batch, hidden_}, operand);
    xp_ = at::empty({batch, gates_}, f32);
    gh_ = at::empty({batch, gates_}, f32);
    activated_ = at::empty({batch, gates_}, f32);
    ghn_ = at::empty({batch, hidden_}, f32);
  }

  void set_state(const at::Tensor& h, const at::Tensor& c) override {
    parity_ = 0;
    h_[0].copy_(h);
    if (bf16_) h_operand_.copy_(h_[0]);  // rounds to nearest even, as masked_copy
    if (cell_ == Cell::LSTM) c_[0].copy_(c);
  }

  at::Tensor& input() override { return x_; }
  at::Tensor& tokens() override { return ids_; }

  const at::Tensor& run() override {
    const int p = parity_, q = 1 - parity_;
    const int64_t B = batch_, H = hidden_;
    float* xp = xp_.data_ptr<float>();
    float* gh = gh_.data_ptr<float>();
    if (vocabulary_ > 0) {
      check_token_ids(ids_, vocabulary_);
      if (table_.defined()) {  // the first layer's input projections: rows of the table
        const int64_t* id = ids_.data_ptr<int64_t>();
        for (int64_t b = 0; b < B; ++b) {
          std::memcpy(xp + b * gates_, table_.data_ptr<float>() + id[b] * gates_,
                      sizeof(float) * static_cast<size_t>(gates_));
        }
      } else {
        at::index_select_out(x_, embedding_, 0, ids_);
      }
    }
    if (bf16_ && !table_.defined()) {
      masked_copy(B * input_, x_.data_ptr<float>(), nullptr,
                  static_cast<c10::BFloat16*>(x_operand_.data_ptr()));
    }
    for (int64_t l = 0; l < layers_; ++l) {
      // The layer's input: the step's input, or the new state of the layer below (in bf16 its
      // rounded copy, written right after that layer's gate loop).
      const int64_t in = l == 0 ? input_ : H;
      const void* x = l == 0 ? x_operand_.data_ptr() : state_operand(l - 1, q);
      if (l > 0 || !table_.defined()) {
        matmul(Matrix{x, B, in, in, 1}, weight(2 * l, in), xp, biases_[2 * l].data_ptr<float>(),
               bf16_);
      }
      matmul(Matrix{state_operand(l, p), B, H, H, 1}, weight(2 * l + 1, H), gh,
             biases_[2 * l + 1].data_ptr<float>(), bf16_);
      const bool lstm = cell_ == Cell::LSTM;
      float* h = at_layer(h_[q], l);
      cell_step(cell_, B, H, xp, gh, at_layer(lstm ? c_[p] : h_[p], l),
                activated_.data_ptr<float>(), lstm ? at_layer(c_[q], l) : ghn_.data_ptr<float>(),
                h);
      if (bf16_) {
        masked_copy(B * H, h, nullptr,
                    static_cast<c10::BFloat16*>(h_operand_.data_ptr()) + l * B * H);
      }
    }
    parity_ = q;
    return top_[q];
  }

  at::Tensor h() const override { return h_[parity_]; }
  at::Tensor c() const override { return cell_ == Cell::LSTM ? c_[parity_] : at::Tensor(); }

 private:
  // W^T [in, G*H] of weights_ entry k (w_ih, w_hh of each layer in turn).
  PackedMatrix weight(size_t k, int64_t in) const {
    return {Matrix{weights_.plain[k].data_ptr(), gates_, in, in, 1}.t(),
            weights_.packed[k].data_ptr()};
  }
  float* at_layer(const at::Tensor& t, int64_t layer) const {
    return t.data_ptr<float>() + layer * batch_ * hidden_;
  }
  // What the products read of layer l's state in buffer `parity`: in bf16 the rounded copy,
  // which always holds the layer's latest state (the step overwrites it after its products).
  const void* state_operand(int64_t layer, int parity) const {
    if (bf16_) return static_cast<c10::BFloat16*>(h_operand_.data_ptr()) + layer * batch_ * hidden_;
    return at_layer(h_[parity], layer);
  }

  Cell cell_;
  bool bf16_;
  int64_t layers_, batch_, input_, hidden_, gates_;
  PackedWeights weights_;                 // [w_ih, w_hh] per layer, for the products
  std::vector<at::Tensor> biases_;        // [b_ih, b_hh] per layer, f32
  at::Tensor x_, x_operand_;              // the step's input [B, I] f32, and what the product reads
  int64_t vocabulary_ = 0;                // with an embedding: its rows; ids_ [B] the step's tokens
  at::Tensor ids_, table_;                // table_ [V, G*H]: token_table, where V allows
  at::Tensor embedding_;                  // else the embedding, looked up into x_
  at::Tensor h_[2], c_[2], top_[2];       // state [L, B, H] double-buffered; top_ its last layer
  at::Tensor h_operand_;                  // bf16: the latest state of each layer, rounded
  at::Tensor xp_, gh_, activated_, ghn_;  // one layer's products and gate-loop outputs
  int parity_ = 0;
};

}  // namespace

std::unique_ptr<DecodeStep::Impl> gemm_decode_step(Cell cell, at::TensorList params,
                                                   int64_t num_layers, int64_t batch,
                                                   Precision precision,
                                                   const at::Tensor& embedding) {
  return std::make_unique<GemmSteps>(cell, params, num_layers, batch, precision, embedding);
}

}  // namespace s2s::kernels
