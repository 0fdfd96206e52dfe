// Times the course model the way the PyTorch peer (shared/reference/run_seq2seq.py --bench) does:
// same shapes, same step (embedding, encoder, decoder, linear, log_softmax, NLLLoss, backward,
// Adam), greedy decoding at batch 1 and B. Prints one JSON object per measurement.
// bench/run drives it; run it directly for one configuration:
//   build/bench/s2s_bench --impl onednn --cell gru --layers 4 --hidden 256 --dropout 0.8
//   build/bench/s2s_bench --impl onednn --precision bf16 ...   (bf16 RNN kernels)
#include <torch/torch.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <chrono>
#include <iostream>

#include "s2s/error.h"
#include "s2s/runtime.h"
#include "s2s/seq2seq.h"

namespace {

template <class F>
double median_ms(F&& fn, int warm, int n) {
  std::vector<double> ts;
  for (int i = 0; i < warm + n; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    const auto t1 = std::chrono::steady_clock::now();
    if (i >= warm) ts.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  std::sort(ts.begin(), ts.end());
  return ts.size() % 2 ? ts[ts.size() / 2] : (ts[ts.size() / 2 - 1] + ts[ts.size() / 2]) / 2;
}

// The machine's ceiling: GFLOP/s of a large f32 oneDNN matmul (what the RNN cells reduce to).
double matmul_gflops(int64_t n) {
  using dnnl::memory;
  dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  dnnl::stream stream(eng);
  const memory::desc md({n, n}, memory::data_type::f32, memory::format_tag::ab);
  std::vector<float> a(n * n, 1.0f), b(n * n, 0.5f), c(n * n);
  memory ma(md, eng, a.data()), mb(md, eng, b.data()), mc(md, eng, c.data());
  dnnl::matmul mm(dnnl::matmul::primitive_desc(dnnl::matmul::desc(md, md, md), eng));
  const double ms = median_ms(
      [&] {
        mm.execute(stream, {{DNNL_ARG_SRC, ma}, {DNNL_ARG_WEIGHTS, mb}, {DNNL_ARG_DST, mc}});
        stream.wait();
      },
      2, 7);
  return 2.0 * n * n * n / (ms * 1e6);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("s2s benchmark: one configuration, JSON lines on stdout");
  std::string impl = "onednn", cell = "gru", precision = "f32";
  int64_t layers = 4, hidden = 256, batch = 64, len = 10, threads = 0;
  int steps = 30;
  double dropout = 0.0;
  bool ceiling = false;
  app.add_option("--impl", impl, "onednn | torch");
  app.add_option("--precision", precision, "f32 | bf16 (onednn only)");
  app.add_option("--cell", cell, "gru | lstm | rnn");
  app.add_option("--layers", layers);
  app.add_option("--hidden", hidden);
  app.add_option("--batch", batch);
  app.add_option("--len", len);
  app.add_option("--dropout", dropout);
  app.add_option("--steps", steps, "timed repetitions (after 5 warm-up)");
  app.add_option("--threads", threads, "0: s2s's default");
  app.add_flag("--ceiling", ceiling, "only measure the oneDNN f32 matmul ceiling (GFLOP/s)");
  CLI11_PARSE(app, argc, argv);

  s2s::RuntimeOptions ro;
  ro.threads = threads;
  const int64_t used_threads = s2s::configure_runtime(ro);
  if (ceiling) {
    std::cout << nlohmann::json{{"case", "matmul_ceiling"},
                                {"impl", "onednn"},
                                {"gflops", matmul_gflops(2048)},
                                {"threads", used_threads}}
                     .dump()
              << std::endl;
    return 0;
  }

  torch::manual_seed(0);
  const int64_t vocab = 13;
  s2s::Seq2Seq model{nullptr};
  try {
    model = s2s::Seq2Seq(s2s::Seq2SeqOptions(vocab)
                             .cell(s2s::parse_cell(cell))
                             .hidden(hidden)
                             .layers(layers)
                             .dropout(dropout)
                             .impl(s2s::parse_rnn_impl(impl))
                             .precision(s2s::parse_precision(precision)));
  } catch (const s2s::Error& e) {
    // Bad flags, or bf16 on a CPU without oneDNN bf16 RNNs (bench/run skips those rows).
    std::cerr << "s2s_bench: " << e.what() << std::endl;
    return 2;
  }
  torch::optim::Adam adam(model->parameters(), torch::optim::AdamOptions(1e-3));
  const at::Tensor src = torch::randint(3, vocab, {len, batch});
  const at::Tensor tgt = torch::randint(3, vocab, {len, batch});
  const at::Tensor tgt_in =
      torch::cat({torch::full({1, batch}, s2s::kSosId, torch::kLong), tgt.narrow(0, 0, len - 1)});

  const auto emit = [&](const std::string& name, double ms, double gflop) {
    nlohmann::json j{{"case", name},           {"impl", impl},           {"median_ms", ms},
                     {"precision", precision}, {"cell", cell},           {"layers", layers},
                     {"hidden", hidden},       {"batch", batch},         {"len", len},
                     {"dropout", dropout},     {"threads", used_threads}};
    if (gflop > 0) j["gflop"] = gflop;
    std::cout << j.dump() << std::endl;
  };

  // GEMM FLOPs of the recurrent layers: per layer and step 2*B*(I+H)*G*H forward; backward does
  // twice that (data and weight gradients). Encoder and decoder: two stacks.
  const double gates = s2s::gate_count(s2s::parse_cell(cell));
  const double fwd_flop = 2.0 * 2.0 * layers * len * batch * (2.0 * hidden) * gates * hidden;

  model->train();
  const double train_ms = median_ms(
      [&] {
        adam.zero_grad();
        const at::Tensor loss =
            torch::nll_loss(model->forward(src, tgt_in).reshape({-1, vocab}), tgt.reshape({-1}));
        loss.backward();
        adam.step();
        loss.item<double>();
      },
      5, steps);
  emit("train_step", train_ms, 3.0 * fwd_flop / 1e9);

  // The recurrent part of the step alone: both stacks forward and backward.
  {
    const at::Tensor xe = model->enc_emb->forward(src).detach();
    const at::Tensor xd = model->dec_emb->forward(tgt_in).detach();
    const double rnn_ms = median_ms(
        [&] {
          auto [ye, se] = model->enc->forward(xe);
          auto [yd, sd] = model->dec->forward(xd, se);
          yd.sum().backward();
        },
        5, steps);
    emit("rnn_fwd_bwd", rnn_ms, 3.0 * fwd_flop / 1e9);
  }

  // Greedy decoding of len tokens like the peer (which never stops early): <eos> can't win.
  model->eval();
  {
    torch::NoGradGuard no_grad;
    model->out->bias[s2s::kEosId].fill_(-1e9);
  }
  for (int64_t bs : {int64_t{1}, batch}) {
    const at::Tensor s = src.narrow(1, 0, bs).contiguous();
    const double ms = median_ms([&] { model->greedy(s, len); }, 5, steps);
    // Decoding runs both stacks forward once: a third of a training step's GEMM FLOPs per pair.
    emit("greedy_b" + std::to_string(bs), ms, fwd_flop * static_cast<double>(bs) / batch / 1e9);
  }
  return 0;
}
