#include "kernels/matmul.h"

#include <omp.h>

#include <map>
#include <mutex>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "kernels/blocked_pack.h"
#include "kernels/rnn_primitives.h"

namespace s2s::kernels {
namespace {

using dnnl::memory;

struct Key {
  int64_t batch, m, k, n;
  int64_t a_batch, a0, a1, b_batch, b0, b1;  // strides
  bool bf16;                                 // a and b in bf16 (out and bias stay f32)
  bool bias, accumulate;
  int threads;          // the threads the primitive splits its work for (see key_for)
  bool packed = false;  // b in packed_desc's layout (b0, b1 then 0)
  bool operator<(const Key& o) const {
    return std::tie(batch, m, k, n, a_batch, a0, a1, b_batch, b0, b1, bf16, bias, accumulate,
                    threads, packed) < std::tie(o.batch, o.m, o.k, o.n, o.a_batch, o.a0, o.a1,
                                                o.b_batch, o.b0, o.b1, o.bf16, o.bias, o.accumulate,
                                                o.threads, o.packed);
  }
};

// oneDNN's matmul splits its work, when it is created, for omp_get_max_threads() threads: run
// inside a parallel region (gemm_rnn's wavefront), where it gets one thread, it would do one
// thread's share only. So inside a region a primitive is created for one thread; outside, for
// the current thread count.
Key key_for(const Matrix& a, const Matrix& b, bool bf16, bool bias, bool accumulate) {
  return Key{a.batch,
             a.rows,
             a.cols,
             b.cols,
             a.batch > 1 ? a.batch_stride : 0,
             a.row_stride,
             a.col_stride,
             b.batch > 1 ? b.batch_stride : 0,
             b.row_stride,
             b.col_stride,
             bf16,
             bias,
             accumulate,
             omp_in_parallel() != 0 ? 1 : omp_get_max_threads()};
}

// The layout oneDNN's matmul picks for a [K, N] weight left to it (format any): measured the
// same for every row count from 1 to 2560 and for 1 and 2 threads on AVX-512, so one packing
// serves all products; a primitive that wants another (see build) reads the plain matrix.
memory::desc packed_desc(int64_t k, int64_t n, bool bf16) {
  static std::mutex mutex;
  static std::map<std::tuple<int64_t, int64_t, bool>, memory::desc> descs;
  std::lock_guard<std::mutex> lock(mutex);
  const auto key = std::make_tuple(k, n, bf16);
  auto it = descs.find(key);
  if (it == descs.end()) {
    const auto f32 = memory::data_type::f32;
    const auto in = bf16 ? memory::data_type::bf16 : f32;
    const memory::desc a({1, k}, in, memory::format_tag::ab);
    const memory::desc b({k, n}, in, memory::format_tag::any);
    const memory::desc out({1, n}, f32, memory::format_tag::ab);
    const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a, b, out), cpu_engine());
    it = descs.emplace(key, pd.weights_desc()).first;
  }
  return it->second;
}

// One thread's primitive for a key, with its memory objects, whose data handles each call sets.
struct Entry {
  dnnl::matmul primitive;
  memory a, b, out, bias;
  std::unordered_map<int, memory> args;
};

Entry build(const Key& key) {
  Entry e;
  const auto f32 = memory::data_type::f32;
  const auto in = key.bf16 ? memory::data_type::bf16 : f32;
  const bool batched = key.batch > 1;
  const memory::desc a =
      batched ? memory::desc({key.batch, key.m, key.k}, in, {key.a_batch, key.a0, key.a1})
              : memory::desc({key.m, key.k}, in, memory::dims{key.a0, key.a1});
  const memory::desc b =
      key.packed ? packed_desc(key.k, key.n, key.bf16)
      : batched  ? memory::desc({key.batch, key.k, key.n}, in, {key.b_batch, key.b0, key.b1})
                 : memory::desc({key.k, key.n}, in, memory::dims{key.b0, key.b1});
  const memory::desc out =
      batched ? memory::desc({key.batch, key.m, key.n}, f32, memory::format_tag::abc)
              : memory::desc({key.m, key.n}, f32, memory::format_tag::ab);
  const memory::desc bias = !key.bias ? memory::desc()
                            : batched ? memory::desc({1, 1, key.n}, f32, memory::format_tag::abc)
                                      : memory::desc({1, key.n}, f32, memory::format_tag::ab);
  dnnl::primitive_attr attr;
  if (key.accumulate) {
    dnnl::post_ops ops;
    ops.append_sum(1.0f);
    attr.set_post_ops(ops);
  }
  const dnnl::matmul::desc desc =
      key.bias ? dnnl::matmul::desc(a, b, bias, out) : dnnl::matmul::desc(a, b, out);
  // omp_set_num_threads changes this thread's setting only; restored right after.
  const int before = omp_get_max_threads();
  omp_set_num_threads(key.threads);
  try {
    e.primitive = dnnl::matmul(dnnl::matmul::primitive_desc(desc, attr, cpu_engine()));
  } catch (const dnnl::error&) {
    omp_set_num_threads(before);
    if (!key.packed) throw;
    return Entry{};  // no primitive for the packed layout: the caller reads the plain matrix
  }
  omp_set_num_threads(before);
  e.a = memory(a, cpu_engine(), nullptr);
  e.b = memory(b, cpu_engine(), nullptr);
  e.out = memory(out, cpu_engine(), nullptr);
  e.args = {{DNNL_ARG_SRC, e.a}, {DNNL_ARG_WEIGHTS, e.b}, {DNNL_ARG_DST, e.out}};
  if (key.bias) {
    e.bias = memory(bias, cpu_engine(), nullptr);
    e.args.emplace(DNNL_ARG_BIAS, e.bias);
  }
  return e;
}

// Entries per (key, thread): one primitive must not run on two threads at once (measured: two
// cells of the wavefront sharing one corrupt each other's results), and an entry's memory
// objects take each call's data. The shared map owns the entries (a thread_local owner would be
// destroyed at thread exit, perhaps after oneDNN's globals) and is locked only to add one; each
// thread finds its own through a thread-local index, without a lock, since a step makes
// hundreds of calls from two threads at once.
Entry& cached(const Key& key) {
  thread_local std::map<Key, Entry*> mine;
  const auto found = mine.find(key);
  if (found != mine.end()) return *found->second;
  static std::mutex mutex;
  static std::map<std::pair<Key, std::thread::id>, Entry> all;
  std::lock_guard<std::mutex> lock(mutex);
  const std::pair<Key, std::thread::id> id{key, std::this_thread::get_id()};
  auto it = all.find(id);
  if (it == all.end()) it = all.emplace(id, build(key)).first;
  mine.emplace(key, &it->second);
  return it->second;
}

void run(Entry& e, const void* a, const void* b, float* out, const float* bias) {
  e.a.set_data_handle(const_cast<void*>(a));
  e.b.set_data_handle(const_cast<void*>(b));
  e.out.set_data_handle(out);
  if (bias != nullptr) e.bias.set_data_handle(const_cast<float*>(bias));
  e.primitive.execute(cpu_stream(), e.args);
}

}  // namespace

void matmul(const Matrix& a, const Matrix& b, float* out, const float* bias, bool bf16,
            bool accumulate) {
  run(cached(key_for(a, b, bf16, bias != nullptr, accumulate)), a.data, b.data, out, bias);
}

int64_t packed_bytes(int64_t k, int64_t n, bool bf16) {
  return static_cast<int64_t>(packed_desc(k, n, bf16).get_size());
}

namespace {

// Whether `d`, oneDNN's packed layout for a [k, n] weight, is BlockedLayout, which pack_blocked
// writes (on AVX-512 it is, for every shape seen).
bool is_blocked_layout(const memory::desc& d, int64_t k, int64_t n, bool bf16) {
  const dnnl_memory_desc_t& m = d.data;
  if (m.ndims != 2 || m.format_kind != dnnl_blocked || m.offset0 != 0) return false;
  const int64_t kb = BlockedLayout::k_block(bf16), columns = BlockedLayout::kColumns;
  const int64_t k_padded = (k + kb - 1) / kb * kb, n_padded = (n + columns - 1) / columns * columns;
  const dnnl_blocking_desc_t& b = m.format_desc.blocking;
  const int wanted = bf16 ? 3 : 2;
  const dnnl_dim_t blocks[] = {BlockedLayout::kUnitRows, columns, 2};
  const dnnl_dim_t dims[] = {0, 1, 0};
  if (b.inner_nblks != wanted) return false;
  for (int i = 0; i < wanted; ++i) {
    if (b.inner_blks[i] != blocks[i] || b.inner_idxs[i] != dims[i]) return false;
  }
  return m.padded_dims[0] == k_padded && m.padded_dims[1] == n_padded &&
         b.strides[0] == kb * columns && b.strides[1] == k_padded * columns &&
         static_cast<int64_t>(d.get_size()) == BlockedLayout::bytes(k, n, bf16);
}

}  // namespace

void pack(const Matrix& b, void* packed, bool bf16) {
  const memory::desc layout = packed_desc(b.rows, b.cols, bf16);
  if (is_blocked_layout(layout, b.rows, b.cols, bf16)) {
    pack_blocked(b, packed, bf16);
    return;
  }
  const memory::desc plain({b.rows, b.cols},
                           bf16 ? memory::data_type::bf16 : memory::data_type::f32,
                           memory::dims{b.row_stride, b.col_stride});
  memory from(plain, cpu_engine(), const_cast<void*>(b.data));
  memory to(layout, cpu_engine(), packed);
  dnnl::reorder(from, to).execute(cpu_stream(), from, to);
}

void matmul(const Matrix& a, const PackedMatrix& b, float* out, const float* bias, bool bf16,
            bool accumulate) {
  if (b.packed == nullptr) {
    matmul(a, b.plain, out, bias, bf16, accumulate);
    return;
  }
  Key key = key_for(a, b.plain, bf16, bias != nullptr, accumulate);
  key.packed = true;
  key.b0 = key.b1 = key.b_batch = 0;
  Entry& e = cached(key);
  if (!e.primitive) {
    matmul(a, b.plain, out, bias, bf16, accumulate);
    return;
  }
  run(e, a.data, b.packed, out, bias);
}

}  // namespace s2s::kernels
