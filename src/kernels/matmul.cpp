#include "kernels/matmul.h"

#include <ATen/ATen.h>

#include <map>
#include <mutex>
#include <tuple>

#include "kernels/rnn_primitives.h"
#include "s2s/error.h"

namespace s2s::kernels {
namespace {

using dnnl::memory;

struct Key {
  int64_t m, k, n;
  int64_t a0, a1, b0, b1;  // strides
  bool bf16;               // a and b in bf16 (out and bias stay f32)
  bool bias, accumulate;
  bool operator<(const Key& o) const {
    return std::tie(m, k, n, a0, a1, b0, b1, bf16, bias, accumulate) <
           std::tie(o.m, o.k, o.n, o.a0, o.a1, o.b0, o.b1, o.bf16, o.bias, o.accumulate);
  }
};

struct Entry {
  memory::desc a, b, out, bias;
  dnnl::matmul primitive;
};

const Entry& cached(const Key& key) {
  static std::mutex mutex;
  static std::map<Key, Entry> cache;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  Entry e;
  const auto f32 = memory::data_type::f32;
  const auto in = key.bf16 ? memory::data_type::bf16 : f32;
  e.a = memory::desc({key.m, key.k}, in, memory::dims{key.a0, key.a1});
  e.b = memory::desc({key.k, key.n}, in, memory::dims{key.b0, key.b1});
  e.out = memory::desc({key.m, key.n}, f32, memory::format_tag::ab);
  if (key.bias) e.bias = memory::desc({1, key.n}, f32, memory::format_tag::ab);
  dnnl::primitive_attr attr;
  if (key.accumulate) {
    dnnl::post_ops ops;
    ops.append_sum(1.0f);
    attr.set_post_ops(ops);
  }
  const dnnl::matmul::desc desc =
      key.bias ? dnnl::matmul::desc(e.a, e.b, e.bias, e.out) : dnnl::matmul::desc(e.a, e.b, e.out);
  e.primitive = dnnl::matmul(dnnl::matmul::primitive_desc(desc, attr, cpu_engine()));
  return cache.emplace(key, std::move(e)).first->second;
}

}  // namespace

void matmul(const at::Tensor& a, const at::Tensor& b, at::Tensor& out, const at::Tensor& bias,
            bool accumulate) {
  if (a.dim() != 2 || b.dim() != 2 || a.size(1) != b.size(0) || !out.is_contiguous() ||
      out.size(0) != a.size(0) || out.size(1) != b.size(1)) {
    throw Error("matmul: expected a [M,K], b [K,N] and a contiguous out [M,N]");
  }
  const bool bf16 = a.scalar_type() == at::kBFloat16;
  if (a.scalar_type() != b.scalar_type() || (!bf16 && a.scalar_type() != at::kFloat) ||
      out.scalar_type() != at::kFloat || (bias.defined() && bias.scalar_type() != at::kFloat)) {
    throw Error("matmul: a and b must both be f32 or both bf16; out and bias f32");
  }
  const Key key{a.size(0),   a.size(1),   b.size(1), a.stride(0),    a.stride(1),
                b.stride(0), b.stride(1), bf16,      bias.defined(), accumulate};
  const Entry& e = cached(key);
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, make_memory(e.a, a)},
                                       {DNNL_ARG_WEIGHTS, make_memory(e.b, b)},
                                       {DNNL_ARG_DST, make_memory(e.out, out)}};
  if (bias.defined()) args.emplace(DNNL_ARG_BIAS, make_memory(e.bias, bias));
  e.primitive.execute(cpu_stream(), args);
}

}  // namespace s2s::kernels
