// Times the course model the way the PyTorch peer (python/s2s_peer.py --bench) does:
// same shapes, same step (embedding, encoder, decoder, linear, log_softmax, NLLLoss, backward,
// Adam), greedy decoding at batch 1 and B. The training step is s2s::train_step, the function
// `s2s train` runs (it also clips gradients at the trainer's default --clip and tallies
// accuracy, as every training step does). Prints one JSON object per measurement.
// bench/run drives it; run it directly for one configuration:
//   build/bench/s2s_bench --impl onednn --cell gru --layers 4 --hidden 256 --dropout 0.8
//   build/bench/s2s_bench --impl onednn --precision bf16 ...   (bf16 RNN kernels)
#include <torch/csrc/autograd/profiler_legacy.h>
#include <torch/torch.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <optional>

#include "s2s/beam_search.h"
#include "s2s/error.h"
#include "s2s/fused_adam.h"
#include "s2s/runtime.h"
#include "s2s/seq2seq.h"
#include "s2s/train_step.h"
#include "s2s/trainer.h"

namespace {

double median(std::vector<double> ts) {
  std::sort(ts.begin(), ts.end());
  return ts.size() % 2 ? ts[ts.size() / 2] : (ts[ts.size() / 2 - 1] + ts[ts.size() / 2]) / 2;
}

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

template <class F>
double median_ms(F&& fn, int warm, int n) {
  std::vector<double> ts;
  for (int i = 0; i < warm + n; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    if (i >= warm) ts.push_back(ms_since(t0));
  }
  return median(ts);
}

// Where a training step's time goes: the median of each phase over the timed steps.
struct StepPhases {
  std::vector<double> forward, backward, optimizer;
  void add(const s2s::StepPhaseTimes& t) {
    forward.push_back(t.forward_ms);
    backward.push_back(t.backward_ms);
    optimizer.push_back(t.optimizer_ms);
  }
  void clear() {
    forward.clear();
    backward.clear();
    optimizer.clear();
  }
};

// The machine's ceiling: GFLOP/s of a large oneDNN matmul (what the RNN cells reduce to), in f32
// or with bf16 inputs and f32 output (what the bf16 RNN kernels' matmuls do). The best of the
// timed runs: a ceiling is what the machine can do, and on a shared machine the median of a
// single-digit count of runs moves with the neighbours.
double matmul_gflops(int64_t n, dnnl::memory::data_type in_type) {
  using dnnl::memory;
  dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  dnnl::stream stream(eng);
  const memory::desc in_md({n, n}, in_type, memory::format_tag::ab);
  const memory::desc out_md({n, n}, memory::data_type::f32, memory::format_tag::ab);
  memory ma(in_md, eng), mb(in_md, eng), mc(out_md, eng);
  // Fill through f32 and a reorder, so bf16 inputs hold ordinary numbers.
  std::vector<float> ones(n * n, 1.0f);
  memory f32_src(out_md, eng, ones.data());
  dnnl::reorder(f32_src, ma).execute(stream, f32_src, ma);
  dnnl::reorder(f32_src, mb).execute(stream, f32_src, mb);
  dnnl::matmul mm(dnnl::matmul::primitive_desc(dnnl::matmul::desc(in_md, in_md, out_md), eng));
  double best_ms = 1e300;
  for (int i = 0; i < 12; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    mm.execute(stream, {{DNNL_ARG_SRC, ma}, {DNNL_ARG_WEIGHTS, mb}, {DNNL_ARG_DST, mc}});
    stream.wait();
    const auto t1 = std::chrono::steady_clock::now();
    if (i >= 2)
      best_ms = std::min(best_ms, std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  return 2.0 * n * n * n / (best_ms * 1e6);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("s2s benchmark: one configuration, JSON lines on stdout");
  std::string impl = "onednn", cell = "gru", precision = "f32", attention = "none";
  bool input_feeding = false;
  int64_t layers = 4, hidden = 256, batch = 64, len = 10, threads = 0;
  int steps = 30;
  double dropout = 0.0;
  bool ceiling = false;
  std::string profile;
  app.add_option("--impl", impl, "onednn | torch | gemm");
  app.add_option("--precision", precision, "f32 | bf16 (onednn and gemm)")
      ->check(CLI::IsMember({"f32", "bf16"}));
  app.add_option("--cell", cell, "gru | lstm | rnn");
  app.add_option("--layers", layers);
  app.add_option("--hidden", hidden);
  app.add_option("--batch", batch);
  app.add_option("--len", len);
  app.add_option("--dropout", dropout);
  app.add_option("--attention", attention, "none | dot | general | concat");
  app.add_flag("--input-feeding", input_feeding,
               "with --attention (the decoder runs step by step)");
  app.add_option("--steps", steps, "timed repetitions (after 5 warm-up)");
  app.add_option("--threads", threads, "0: s2s's default");
  app.add_flag(
      "--ceiling", ceiling,
      "only measure the oneDNN matmul ceiling (GFLOP/s) in --precision (bf16: bf16 inputs, "
      "f32 output)");
  app.add_option("--profile", profile,
                 "write a Chrome trace (chrome://tracing) of the timed training steps' operators "
                 "to this file (slows them down; the times printed are then not comparable)");
  CLI11_PARSE(app, argc, argv);

  s2s::RuntimeOptions ro;
  ro.threads = threads;
  const int64_t used_threads = s2s::configure_runtime(ro);
  if (ceiling) {
    const auto in_type =
        precision == "bf16" ? dnnl::memory::data_type::bf16 : dnnl::memory::data_type::f32;
    try {
      std::cout << nlohmann::json{{"case", "matmul_ceiling"},
                                  {"impl", "onednn"},
                                  {"precision", precision},
                                  {"gflops", matmul_gflops(2048, in_type)},
                                  {"threads", used_threads}}
                       .dump()
                << std::endl;
    } catch (const dnnl::error& e) {
      // A CPU without bf16 matmuls (bench/run then leaves the bf16 ceiling out).
      std::cerr << "s2s_bench: " << precision << " matmul: " << e.what() << std::endl;
      return 2;
    }
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
                             .precision(s2s::parse_precision(precision))
                             .attention(s2s::parse_attention(attention))
                             .input_feeding(input_feeding));
  } catch (const s2s::Error& e) {
    // Bad flags, or bf16 on a CPU without oneDNN bf16 RNNs (bench/run skips those rows).
    std::cerr << "s2s_bench: " << e.what() << std::endl;
    return 2;
  }
  s2s::FusedAdam adam(model->parameters(), torch::optim::AdamOptions(1e-3));
  const at::Tensor src = torch::randint(3, vocab, {len, batch});
  const at::Tensor tgt = torch::randint(3, vocab, {len, batch});
  const at::Tensor tgt_in =
      torch::cat({torch::full({1, batch}, s2s::kSosId, torch::kLong), tgt.narrow(0, 0, len - 1)});
  // The batch as the data loader hands it over: every position a real token, like the peer's.
  s2s::Batch train_batch;
  train_batch.src = src;
  train_batch.tgt = tgt;
  train_batch.src_lengths = torch::full({batch}, len, torch::kLong);
  train_batch.tgt_lengths = train_batch.src_lengths;
  train_batch.tgt_mask = torch::ones({len, batch}, torch::kBool);
  train_batch.indices.resize(static_cast<size_t>(batch));
  s2s::StepOptions step_options;
  step_options.clip = s2s::TrainConfig{}.clip;

  const auto emit = [&](const std::string& name, double ms, double gflop,
                        const nlohmann::json& extra = nlohmann::json::object()) {
    nlohmann::json j{{"case", name},           {"impl", impl},           {"median_ms", ms},
                     {"precision", precision}, {"cell", cell},           {"layers", layers},
                     {"hidden", hidden},       {"batch", batch},         {"len", len},
                     {"dropout", dropout},     {"threads", used_threads}};
    if (gflop > 0) j["gflop"] = gflop;
    if (attention != "none") {
      j["attention"] = attention;
      j["input_feeding"] = input_feeding;
    }
    j.update(extra);
    std::cout << j.dump() << std::endl;
  };

  // GEMM FLOPs of the recurrent layers: per layer and step 2*B*(I+H)*G*H forward; backward does
  // twice that (data and weight gradients). Encoder and decoder: two stacks. The conventional
  // count: with gemm the first layers' input products run on a per-token table instead (V rows,
  // not B*len), so gemm's training rows do ~1/8 fewer FLOPs than this (4 layers, I = H).
  const double gates = s2s::gate_count(s2s::parse_cell(cell));
  const double fwd_flop = 2.0 * 2.0 * layers * len * batch * (2.0 * hidden) * gates * hidden;

  model->train();
  StepPhases phases;
  s2s::Tally tally;
  const auto step = [&] {
    s2s::StepPhaseTimes times;
    s2s::train_step(model, adam, train_batch, step_options, tally, &times);
    phases.add(times);
  };
  median_ms(step, 0, 5);  // warm-up: primitive creation, first allocations
  phases.clear();
  std::optional<torch::autograd::profiler::RecordProfile> recording;
  if (!profile.empty()) recording.emplace(profile);
  const double train_ms = median_ms(step, 0, steps);
  recording.reset();
  emit("train_step", train_ms, 3.0 * fwd_flop / 1e9,
       {{"forward_ms", median(phases.forward)},
        {"backward_ms", median(phases.backward)},
        {"optimizer_ms", median(phases.optimizer)}});

  // The recurrent part of the step alone: both stacks forward and backward from the token ids,
  // as the step runs them (forward_tokens: with gemm, the first layer reads a per-token table of
  // its input projections), one fused call each; input feeding has no such part.
  if (!input_feeding) {
    const double rnn_ms = median_ms(
        [&] {
          auto [ye, se] = model->enc->forward_tokens(src, model->enc_emb->weight);
          auto [yd, sd] = model->dec->forward_tokens(tgt_in, model->dec_emb->weight, se);
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
  // Beam search for the same len steps (no <eos>, so no early stop): beam 1 against greedy's
  // overhead, beam 5 as translation toolkits use it. FLOPs: K hypotheses decode per sentence.
  for (int64_t beam : {int64_t{1}, int64_t{5}}) {
    s2s::SearchOptions search;
    search.beam = beam;
    search.max_len = len;
    for (int64_t bs : {int64_t{1}, batch}) {
      const at::Tensor s = src.narrow(1, 0, bs).contiguous();
      const at::Tensor lengths = at::full({bs}, s.size(0), at::kLong);
      const double ms = median_ms([&] { s2s::beam_search(model, s, lengths, search); }, 5, steps);
      emit("beam" + std::to_string(beam) + "_b" + std::to_string(bs), ms,
           fwd_flop * static_cast<double>(bs * beam) / batch / 1e9);
    }
  }
  return 0;
}
