// pack_blocked against oneDNN's own reorder into the layout its matmul picks: the same bytes,
// padding zeros included, for whole and partial blocks, plain and transposed weights, views
// with a row stride wider than the row, f32 and bf16, on one and two threads.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <dnnl.hpp>
#include <string>
#include <vector>

#include "kernels/blocked_pack.h"
#include "kernels/matmul.h"
#include "kernels/rnn_test_util.h"

namespace s2s::kernels {
namespace {

using test_util::ThreadCount;

// b [K, N] reordered by oneDNN into the weights layout of a matmul with b left to it (format any).
at::Tensor reordered_by_onednn(const Matrix& b, bool bf16) {
  using dnnl::memory;
  const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  dnnl::stream stream(engine);
  const auto type = bf16 ? memory::data_type::bf16 : memory::data_type::f32;
  const memory::desc plain({b.rows, b.cols}, type, memory::dims{b.row_stride, b.col_stride});
  const memory::desc a({1, b.rows}, type, memory::format_tag::ab);
  const memory::desc any({b.rows, b.cols}, type, memory::format_tag::any);
  const memory::desc out({1, b.cols}, memory::data_type::f32, memory::format_tag::ab);
  const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a, any, out), engine);
  at::Tensor bytes =
      at::full({static_cast<int64_t>(pd.weights_desc().get_size())}, 0x33, at::kByte);
  memory from(plain, engine, const_cast<void*>(b.data)),
      to(pd.weights_desc(), engine, bytes.data_ptr());
  dnnl::reorder(from, to).execute(stream, from, to);
  stream.wait();
  return bytes;
}

TEST(BlockedPack, WritesTheBytesOfOneDnnsReorder) {
  at::manual_seed(2);
  struct Shape {
    int64_t rows, cols;
  };
  // Course weights both ways, whole blocks, partial blocks in either dimension, one element.
  const std::vector<Shape> shapes{{768, 256}, {256, 768}, {64, 128}, {33, 65},
                                  {100, 130}, {7, 5},     {1, 1}};
  for (const int threads : {1, 2}) {
    const ThreadCount count(threads);
    for (const bool bf16 : {false, true}) {
      for (const Shape& shape : shapes) {
        // Stored with 3 spare columns: a view whose row stride is wider than its row.
        const at::Tensor storage =
            at::randn({shape.rows, shape.cols + 3}).to(bf16 ? at::kBFloat16 : at::kFloat);
        const Matrix stored{storage.data_ptr(), shape.rows, shape.cols, shape.cols + 3, 1};
        for (const bool transposed : {false, true}) {
          const Matrix b = transposed ? stored.t() : stored;
          const std::string what = std::to_string(b.rows) + "x" + std::to_string(b.cols) +
                                   (bf16 ? " bf16" : " f32") + (transposed ? " transposed" : "") +
                                   ", " + std::to_string(threads) + " threads";
          const at::Tensor want = reordered_by_onednn(b, bf16);
          ASSERT_EQ(BlockedLayout::bytes(b.rows, b.cols, bf16), want.numel()) << what;
          at::Tensor got = at::full_like(want, 0x5a);  // padding must be written as zeros
          pack_blocked(b, got.data_ptr(), bf16);
          EXPECT_TRUE(at::equal(got, want)) << what;
          at::Tensor through_pack = at::full_like(want, 0x5a);  // kernels::pack's choice
          pack(b, through_pack.data_ptr(), bf16);
          EXPECT_TRUE(at::equal(through_pack, want)) << what;
        }
      }
    }
  }
}

}  // namespace
}  // namespace s2s::kernels
