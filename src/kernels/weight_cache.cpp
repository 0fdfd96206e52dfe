#include "kernels/weight_cache.h"

#include <ATen/ATen.h>
#include <c10/util/intrusive_ptr.h>

#include <list>
#include <mutex>

#include "kernels/dense.h"
#include "kernels/matmul.h"

namespace s2s::kernels {
namespace {

struct Key {
  // Weak references keep each TensorImpl's address from being reused while we remember it.
  std::vector<c10::weak_intrusive_ptr<c10::TensorImpl>> tensors;
  std::vector<uint32_t> versions;
  const RnnPrimitives* prims;
  bool bf16;

  bool matches(const RnnPrimitives* p, bool b, at::TensorList params) const {
    if (prims != p || bf16 != b || tensors.size() != params.size()) return false;
    for (size_t i = 0; i < params.size(); ++i) {
      if (tensors[i].expired() ||
          tensors[i]._unsafe_get_target() != params[i].unsafeGetTensorImpl() ||
          versions[i] != params[i]._version())
        return false;
    }
    return true;
  }
};

ConvertedWeights convert(const RnnPrimitives& p, at::TensorList params) {
  const RnnShape& s = p.shape;
  std::vector<at::Tensor> wl, wi, b;
  for (int64_t l = 0; l < s.layers; ++l) {
    wl.push_back(to_onednn_gate_order(s.cell, params[4 * l]));
    wi.push_back(to_onednn_gate_order(s.cell, params[4 * l + 1]));
    b.push_back(onednn_bias(s.cell, params[4 * l + 2], params[4 * l + 3]));
  }
  const at::Tensor layer = s.layers == 1 ? wl[0] : at::cat(wl).contiguous();
  const at::Tensor iter = s.layers == 1 ? wi[0] : at::cat(wi).contiguous();
  ConvertedWeights out;
  out.layer =
      reorder_to(layer, user_weights_md(s.layers, s.input, s.cell, s.hidden), p.weights_layer);
  out.iter =
      reorder_to(iter, user_weights_md(s.layers, s.hidden, s.cell, s.hidden), p.weights_iter);
  out.bias = s.layers == 1 ? b[0] : at::cat(b).contiguous();
  // Results that alias the parameters must be copied, or the cache would see later updates.
  if (out.layer.is_same(params[0])) out.layer = out.layer.clone();
  if (out.iter.is_same(params[1])) out.iter = out.iter.clone();
  return out;
}

// The most recent conversions of one kind (one cache per Converted type), found by the weights'
// identity and versions. prims is nullptr for conversions that need none.
template <typename Converted, typename Convert>
Converted cached(const RnnPrimitives* prims, bool bf16, at::TensorList params, Convert convert) {
  static std::mutex mutex;
  static std::list<std::pair<Key, Converted>> cache;  // most recent first
  constexpr size_t kCapacity = 32;
  std::lock_guard<std::mutex> lock(mutex);
  for (auto it = cache.begin(); it != cache.end(); ++it) {
    if (it->first.matches(prims, bf16, params)) {
      cache.splice(cache.begin(), cache, it);
      return cache.front().second;
    }
  }
  Key key{{}, {}, prims, bf16};
  for (const auto& t : params) {
    key.tensors.emplace_back(t.getIntrusivePtr());
    key.versions.push_back(t._version());
  }
  // Drop entries whose tensors are gone (their storage would otherwise linger here).
  cache.remove_if([](const auto& e) {
    for (const auto& w : e.first.tensors)
      if (w.expired()) return true;
    return false;
  });
  cache.emplace_front(std::move(key), convert());
  if (cache.size() > kCapacity) cache.pop_back();
  return cache.front().second;
}

}  // namespace

ConvertedWeights converted_weights(const RnnPrimitives& prims, at::TensorList params) {
  return cached<ConvertedWeights>(&prims, false, params, [&] { return convert(prims, params); });
}

PackedWeights packed_weights(at::TensorList params, bool bf16) {
  return cached<PackedWeights>(nullptr, bf16, params, [&] {
    PackedWeights out;
    for (size_t l = 0; l + 3 < params.size(); l += 4) {
      for (size_t k : {l, l + 1}) {
        const at::Tensor& w = params[k];
        // A parameter already in the right type would come back as itself: clone, or the
        // cache would see its updates.
        at::Tensor plain = (bf16 ? w.to(at::kBFloat16) : w.to(at::kFloat)).contiguous();
        if (plain.is_same(w)) plain = plain.clone();
        const int64_t rows = plain.size(0), cols = plain.size(1);  // W [G*H, in]
        at::Tensor packed =
            at::empty({packed_bytes(cols, rows, bf16)}, w.options().dtype(at::kByte));
        pack(Matrix{plain.data_ptr(), rows, cols, cols, 1}.t(), packed.data_ptr(), bf16);
        out.plain.push_back(plain);
        out.packed.push_back(packed);
      }
    }
    return out;
  });
}

at::Tensor token_table(const at::Tensor& embedding, const at::Tensor& w_ih,
                       const at::Tensor& b_ih) {
  return cached<at::Tensor>(nullptr, false, {embedding, w_ih, b_ih}, [&] {
    at::NoGradGuard no_grad;
    return linear(embedding, w_ih, b_ih).contiguous();  // the table run_rnn_tokens trains with
  });
}

}  // namespace s2s::kernels
