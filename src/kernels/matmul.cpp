#include "kernels/matmul.h"

#include <omp.h>

#include <map>
#include <mutex>
#include <tuple>
#include <unordered_map>

#include "kernels/rnn_primitives.h"

namespace s2s::kernels {
namespace {

using dnnl::memory;

struct Key {
  int64_t m, k, n;
  int64_t a0, a1, b0, b1;  // strides
  bool bf16;               // a and b in bf16 (out and bias stay f32)
  bool bias, accumulate;
  int threads;  // the threads the primitive splits its work for
  int owner;    // the thread of a parallel region that runs it, or -1 (see key_for)
  bool operator<(const Key& o) const {
    return std::tie(m, k, n, a0, a1, b0, b1, bf16, bias, accumulate, threads, owner) <
           std::tie(o.m, o.k, o.n, o.a0, o.a1, o.b0, o.b1, o.bf16, o.bias, o.accumulate, o.threads,
                    o.owner);
  }
};

// oneDNN's matmul splits its work, when it is created, for omp_get_max_threads() threads: run
// inside a parallel region (gemm_rnn's wavefront), where it gets one thread, it would do one
// thread's share only. And one primitive must not run on two threads at once (measured: two
// cells of the wavefront sharing one primitive corrupt each other's results). So inside a region
// each thread of it gets its own primitives, created for one thread; outside, one primitive per
// shape for the current thread count.
Key key_for(const Matrix& a, const Matrix& b, bool bf16, bool bias, bool accumulate) {
  const bool region = omp_in_parallel() != 0;
  return Key{a.rows,
             a.cols,
             b.cols,
             a.row_stride,
             a.col_stride,
             b.row_stride,
             b.col_stride,
             bf16,
             bias,
             accumulate,
             region ? 1 : omp_get_max_threads(),
             region ? omp_get_thread_num() : -1};
}

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
  // omp_set_num_threads changes this thread's setting only; restored right after.
  const int before = omp_get_max_threads();
  omp_set_num_threads(key.threads);
  e.primitive = dnnl::matmul(dnnl::matmul::primitive_desc(desc, attr, cpu_engine()));
  omp_set_num_threads(before);
  return cache.emplace(key, std::move(e)).first->second;
}

}  // namespace

void matmul(const Matrix& a, const Matrix& b, float* out, const float* bias, bool bf16,
            bool accumulate) {
  const Key key = key_for(a, b, bf16, bias != nullptr, accumulate);
  const Entry& e = cached(key);
  const auto memory_of = [](const memory::desc& md, const void* data) {
    return memory(md, cpu_engine(), const_cast<void*>(data));
  };
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, memory_of(e.a, a.data)},
                                       {DNNL_ARG_WEIGHTS, memory_of(e.b, b.data)},
                                       {DNNL_ARG_DST, memory_of(e.out, out)}};
  if (bias != nullptr) args.emplace(DNNL_ARG_BIAS, memory_of(e.bias, bias));
  e.primitive.execute(cpu_stream(), args);
}

}  // namespace s2s::kernels
