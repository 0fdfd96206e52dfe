// `s2s train`: the course's training run (Adam, NLLLoss, train/eval, per-epoch metrics).
#include <fmt/core.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "s2s/dashboard.h"
#include "s2s/distributed.h"
#include "s2s/error.h"
#include "s2s/file_io.h"
#include "s2s/trainer.h"

namespace s2s::cli {
namespace {

constexpr const char* kFooter = R"(Writes into --out DIR:
  config.json     the effective settings (reusable with --config)
  metrics.jsonl   one JSON object per epoch: epoch, train_loss, train_token_acc, train_seq_acc,
                  valid_loss, valid_token_acc, valid_seq_acc, epoch_seconds,
                  train_pairs_per_second, lr (flushed every epoch; `s2s dashboard` follows it)
  steps.jsonl     every --log-every steps: step, epoch, epoch_fraction, train_loss (mean of
                  those steps), tokens_per_second, lr (the dashboard and `s2s plot` draw it)
  last.pt         checkpoint after every epoch (and on Ctrl-C), written atomically
  best.pt         checkpoint of the best validation exact-match accuracy
  summary.json    best epoch and metrics, overfitting epoch, total time, why it stopped

Validation accuracy is free-running greedy decoding (no teacher forcing); valid_loss is
teacher-forced NLL. Ctrl-C (or SIGTERM) finishes the current step, writes last.pt and exits
130; --resume DIR continues exactly where it stopped. An epoch's line reaches metrics.jsonl
only after its last.pt is written.

Examples:
  s2s gen zero-shift --train 14000 --valid 2800 --out-dir data/
  s2s train --train data/train.csv --valid data/valid.csv --out runs/course
        the course model (4-layer GRU, 256 units) with the tuned defaults
  s2s train --train data/train.csv --valid data/valid.csv --out runs/lstm \
      --cell lstm --layers 2 --hidden 128 --dropout 0.5 --epochs 30 --patience 5
  s2s train --resume runs/course --epochs 20     continue, now up to epoch 20
  s2s train --train data/train.csv --valid data/valid.csv --out runs/bf16 --precision bf16
        the course model with bf16 RNN matmuls (f32 weights; validation decodes in bf16 too)
  s2s gen reverse --train 3000 --valid 600 --length 12 --min-length 3 --out-dir rev/
  s2s train --train rev/train.csv --valid rev/valid.csv --out runs/rev --attention general \
      --bidirectional --epochs 30
        variable-length reversal: 99.8% exact match (~66-73% without attention)
  s2s train --config runs/course/config.json --out runs/again --seed 2
  s2s train --train data/train.csv --valid data/valid.csv --out runs/live --dashboard
        the same, with its live curves on http://127.0.0.1:8050/
)";

struct TrainFlags {
  TrainConfig given;  // values of the flags on the command line
  std::string config_file;
  std::string resume_dir;
  bool dashboard = false;
  DistFlags dist;
  CLI::Option* world_size = nullptr;
  CLI::Option* rank = nullptr;
  int world_size_value = 1;
  int rank_value = 0;
  int dashboard_port = 8050;
  CLI::Option* lr_decay = nullptr;
  CLI::Option* lr_schedule = nullptr;
  CLI::Option* warmup_steps = nullptr;
  CLI::Option* warmup_epochs = nullptr;
  // For each flag: was it given, and how to copy its value into a base configuration.
  std::vector<std::pair<CLI::Option*, std::function<void(TrainConfig&)>>> setters;
};

template <typename T>
CLI::Option* add(CLI::App* cmd, TrainFlags& f, const std::string& name, T TrainConfig::*field,
                 const std::string& help) {
  auto* opt = cmd->add_option(name, f.given.*field, help);
  f.setters.emplace_back(opt, [&f, field](TrainConfig& c) { c.*field = f.given.*field; });
  return opt;
}

// A flag whose value names a choice (--cell gru): parsed here, once, into the enum the
// configuration holds; a bad value is an error naming the flag.
template <typename E>
CLI::Option* add_choice(CLI::App* cmd, TrainFlags& f, const std::string& name,
                        E TrainConfig::*field, E (*parse)(const std::string&),
                        const std::string& help) {
  auto text = std::make_shared<std::string>();
  auto* opt = cmd->add_option(name, *text, help);
  f.setters.emplace_back(opt, [text, field, parse, opt](TrainConfig& c) {
    try {
      c.*field = parse(*text);
    } catch (const Error& e) {
      throw Error("--" + opt->get_single_name() + ": " + e.what());
    }
  });
  return opt;
}

// An on/off setting: `--flag` turns it on (and `--flag=false` off, over a --config file).
void add_switch(CLI::App* cmd, TrainFlags& f, const std::string& name, bool TrainConfig::*field,
                const std::string& help) {
  auto* opt = cmd->add_flag(name, f.given.*field, help);
  f.setters.emplace_back(opt, [&f, field](TrainConfig& c) { c.*field = f.given.*field; });
}

int run(TrainFlags& f) {
  TrainConfig config;
  TrainOptions options;
  if (!f.resume_dir.empty()) {
    if (!f.config_file.empty()) throw Error("--resume and --config do not go together");
    const std::string path = (std::filesystem::path(f.resume_dir) / "config.json").string();
    config = TrainConfig::from_json(read_file(path), path);
    config.out = f.resume_dir;
    options.resume = true;
  } else if (!f.config_file.empty()) {
    config = TrainConfig::from_json(read_file(f.config_file), f.config_file);
  }
  for (auto& [opt, set] : f.setters) {
    if (opt->count() > 0) set(config);
  }
  // --lr-decay alone still means what it always did: decay exponentially by that factor.
  if (f.lr_decay->count() > 0 && f.lr_schedule->count() == 0) {
    config.lr_schedule = LrSchedule::Exponential;
  }
  // --warmup-steps N alone is a warm-up of N steps, not N steps plus the default epoch.
  if (f.warmup_steps->count() > 0 && f.warmup_epochs->count() == 0) config.warmup_epochs = 0;
  // The live page for this run, served while it trains. A busy port is not worth losing a
  // training run over: warn and train without it.
  std::unique_ptr<Dashboard> dashboard;
  if (f.dashboard && !config.out.empty()) {
    std::filesystem::create_directories(config.out);
    DashboardOptions dash;
    dash.run_roots = {config.out};
    dash.port = f.dashboard_port;
    try {
      dashboard = start_dashboard(dash);
      fmt::print("dashboard: {} (live curves of this run)\n", dashboard->url());
      std::fflush(stdout);
    } catch (const Error& e) {
      fmt::print(stderr, "s2s: warning: dashboard not started: {}\n", e.what());
    }
  }
  // A rank of a distributed job (s2s launch, torchrun, or --world-size/--rank/--init by hand).
  if (f.world_size->count() > 0) f.dist.world_size = f.world_size_value;
  if (f.rank->count() > 0) f.dist.rank = f.rank_value;
  const DistSettings dist = resolve_dist_settings(f.dist);
  if (dist.distributed() && config.time_budget > 0) {  // before the rendezvous, not after it
    throw Error(std::string(kTimeBudgetNeedsOneProcess) + " (world size " +
                std::to_string(dist.world_size) + ")");
  }
  std::unique_ptr<ProcessGroup> group;
  if (dist.distributed()) {
    // Automatic threads: the machine's cores shared by the ranks on it (what torchrun's
    // OMP_NUM_THREADS is for); config.json records the count used.
    if (config.threads == 0) config.threads = threads_per_rank(dist);
    group = ProcessGroup::connect(dist);
    options.group = group.get();
  }
  const bool tty = isatty(STDERR_FILENO) != 0;
  options.progress_bar = tty;
  options.progress = &std::cerr;
  options.log = &std::cout;
  const TrainSummary s = train(config, options);
  fmt::print(
      "{}: {} after {} epochs in {:.1f}s; best epoch {} (valid seq acc {:.4f}, loss "
      "{:.4f}); checkpoints in {}\n",
      config.out, to_string(s.reason), s.epochs_completed, s.total_seconds, s.best_epoch,
      s.best_valid_seq_acc, s.best_valid_loss, config.out);
  switch (s.reason) {
    case RunStatus::Interrupted:
      return 130;
    case RunStatus::NonFiniteLoss:
      return 1;
    default:
      return 0;
  }
}

}  // namespace

void add_train(CLI::App& app, Context& ctx) {
  auto f = std::make_shared<TrainFlags>();
  auto* cmd = app.add_subcommand("train", "Train a seq2seq model on CSV pairs");
  cmd->footer(kFooter);
  add(cmd, *f, "--train", &TrainConfig::train, "Training data (CSV with source,target)");
  add(cmd, *f, "--valid", &TrainConfig::valid, "Validation data (CSV with source,target)");
  add(cmd, *f, "-o,--out", &TrainConfig::out, "Run directory for checkpoints and metrics");
  cmd->add_option("--config", f->config_file,
                  "JSON settings file (e.g. a run's config.json); flags override it");
  cmd->add_option("--resume", f->resume_dir,
                  "Continue the run in DIR from its last.pt. Flags that define the model or the "
                  "data (--cell, --layers, --hidden, --attention, --input-feeding, "
                  "--bidirectional, --bidirectional-merge, --train, --valid, --batch, --seed) must "
                  "be the run's; the "
                  "others (--epochs, --patience, the learning rate and its schedule, --threads, "
                  "...) are applied and recorded in config.json");
  const TrainConfig d;
  add_choice(cmd, *f, "--cell", &TrainConfig::cell, parse_cell,
             "gru, lstm or rnn [" + to_string(d.cell) + "]");
  add(cmd, *f, "--layers", &TrainConfig::layers, fmt::format("Stacked layers [{}]", d.layers));
  add(cmd, *f, "--hidden", &TrainConfig::hidden,
      fmt::format("Units per layer and embedding width [{}]", d.hidden));
  add(cmd, *f, "--dropout", &TrainConfig::dropout,
      fmt::format("Dropout between stacked layers [{}]", d.dropout));
  add(cmd, *f, "--epochs", &TrainConfig::epochs,
      fmt::format("Epochs (with --time-budget: the most) [{}]", d.epochs));
  add(cmd, *f, "--time-budget", &TrainConfig::time_budget,
      "Minutes of training the run may take, validation included (e.g. 55); 0 = no limit. "
      "After each epoch it plans how many epochs fit at the speed of its last three (plus 5%), "
      "up to --epochs, and warmup-cosine's decay ends at the planned last epoch (the run ends "
      "there, however fast its last epochs were): a slower machine trains fewer epochs of the "
      "same shape instead of running over. One process "
      "only (not with --world-size or s2s launch) [0]");
  add(cmd, *f, "--batch", &TrainConfig::batch, fmt::format("Batch size [{}]", d.batch));
  add(cmd, *f, "--bucket-pool", &TrainConfig::bucket_pool,
      fmt::format("Length bucketing: cut each epoch's shuffled rows into pools of N batches, "
                  "sort each pool by length and cut it into batches (then shuffled), so a "
                  "batch holds rows of about one length and the RNNs skip most padding. On the "
                  "CMU dictionary at batch 128, pools of 50 cut the padding from 48% of the "
                  "token slots to 7%, scripts/g2p's epochs ran 1.1x faster, and its hour ended "
                  "at a worse WER (23.68% against 23.23%: batches less random). 0 = off; data "
                  "of one length is never reordered [{}]",
                  d.bucket_pool));
  add(cmd, *f, "--lr", &TrainConfig::lr, fmt::format("Adam learning rate [{}]", d.lr));
  f->lr_schedule = add_choice(
      cmd, *f, "--lr-schedule", &TrainConfig::lr_schedule, parse_lr_schedule,
      "constant | exponential (x --lr-decay per epoch) | plateau (halve when valid loss has "
      "not improved for --lr-patience epochs) | warmup-cosine (linear warm-up over "
      "--warmup-steps/--warmup-epochs, then a half cosine to 0 at the last step) [" +
          to_string(d.lr_schedule) + "]");
  f->lr_decay = add(cmd, *f, "--lr-decay", &TrainConfig::lr_decay,
                    fmt::format("exponential: multiply the learning rate by this after each "
                                "epoch (alone, implies --lr-schedule exponential) [{}]",
                                d.lr_decay));
  add(cmd, *f, "--lr-patience", &TrainConfig::lr_patience,
      fmt::format("plateau: epochs without a lower valid loss before halving [{}]", d.lr_patience));
  f->warmup_steps =
      add(cmd, *f, "--warmup-steps", &TrainConfig::warmup_steps,
          fmt::format("warmup-cosine: warm-up length in optimizer steps (alone: exactly these, no "
                      "warm-up epochs) [{}]",
                      d.warmup_steps));
  f->warmup_epochs =
      add(cmd, *f, "--warmup-epochs", &TrainConfig::warmup_epochs,
          fmt::format("warmup-cosine: warm-up length in epochs, added to --warmup-steps; the "
                      "warm-up never takes the whole run [{}]",
                      d.warmup_epochs));
  add(cmd, *f, "--log-every", &TrainConfig::log_every,
      fmt::format("Write the mean training loss of every N steps to steps.jsonl, 0 = off [{}]",
                  d.log_every));
  add(cmd, *f, "--teacher-forcing", &TrainConfig::teacher_forcing,
      fmt::format("Probability of feeding the true previous token [{}]", d.teacher_forcing));
  add(cmd, *f, "--label-smoothing", &TrainConfig::label_smoothing,
      fmt::format("Train on (1 - E) x NLL + E x cross entropy against a uniform distribution over "
                  "the vocabulary (torch's cross_entropy label_smoothing), so the model does not "
                  "grow over-confident: often better beam search and accuracy on real tasks "
                  "(0.1 is usual). Losses shown stay plain NLL [{}]",
                  d.label_smoothing));
  add(cmd, *f, "--clip", &TrainConfig::clip,
      fmt::format("Max gradient norm, 0 = off [{}]", d.clip));
  add(cmd, *f, "--ema-epochs", &TrainConfig::ema_epochs,
      fmt::format("Weight smoothing: validate and save a moving average of the weights over about "
                  "the last N epochs (after each step it moves 1/(N x steps per epoch) of the way "
                  "to them; at first the mean of the weights so far). It smooths out the steps' "
                  "noise (on the course: 99.7% an epoch sooner). best.pt holds the average, "
                  "last.pt also the trained weights for --resume. 0 = off [{}]",
                  d.ema_epochs));
  add(cmd, *f, "--seed", &TrainConfig::seed,
      fmt::format("Seed of init, shuffling, dropout [{}]", d.seed));
  accepting_auto_threads(add(cmd, *f, "--threads", &TrainConfig::threads, kThreadsHelp));
  add(cmd, *f, "--patience", &TrainConfig::patience,
      "Stop when valid loss has not improved for N epochs, 0 = never [0]");
  add_choice(cmd, *f, "--rnn-impl,--impl", &TrainConfig::impl, parse_rnn_impl,
             "RNN implementation: auto (the faster of onednn and gemm, as measured: gemm to "
             "train every cell, onednn for validation), onednn (oneDNN's fused RNN "
             "primitives), gemm (layers composed from oneDNN matrix products and s2s's own gate "
             "loops, the layers side by side on several threads) or torch (stock LibTorch, the "
             "reference, f32 only). All give the same numbers to rounding; speeds in "
             "docs/PERFORMANCE.md [auto]");
  add_choice(
      cmd, *f, "--precision", &TrainConfig::precision, parse_precision,
      "RNN arithmetic, f32 or bf16 (onednn and gemm; needs AVX-512). bf16 runs the recurrent "
      "matmuls on bfloat16 activations and weights while the master weights, the optimizer and "
      "every other layer stay f32 (validation decodes in bf16 too). Speed and accuracy "
      "measured: docs/PERFORMANCE.md (bf16) [f32]");
  add_choice(
      cmd, *f, "--attention", &TrainConfig::attention, parse_attention,
      "Luong global attention over the encoder outputs (source padding masked): none, dot, "
      "general or concat. Each decoder step scores its output h_t against every encoder output "
      "(dot: h_t.h_s; general: h_t.W_a h_s; concat: v.tanh(W_a[h_t;h_s])) and feeds "
      "tanh(W_c[context;h_t]) to the output layer, so the decoder no longer depends on one "
      "fixed-size state to carry the whole input: needed for long or variable-length inputs "
      "(reversal of 3-12 digits, 30 epochs: ~66-73% without, 95.7% with general, 99.8% with "
      "general and --bidirectional; README). Training keeps the decoder one fused call over the "
      "whole target; "
      "attention adds batched matrix products (course model: ~10% (general) to ~25% (concat) "
      "per step). Stored in the run: eval/infer/export take it from the checkpoint [none]");
  add_switch(cmd, *f, "--input-feeding", &TrainConfig::input_feeding,
             "With --attention: feed the previous attentional state to the next decoder step "
             "(Luong et al.). The decoder then has to run step by step in training too (one "
             "fused call per target token instead of one per batch): ~1.6x slower steps on the "
             "course model");
  add_switch(cmd, *f, "--bidirectional", &TrainConfig::bidirectional,
             "Bidirectional encoder (a second set of *_reverse weights reads the source "
             "backwards). The two directions are merged (--bidirectional-merge), layer by layer, "
             "into the decoder's initial state and, per position, into the attention memory");
  add_choice(cmd, *f, "--bidirectional-merge", &TrainConfig::bidirectional_merge,
             parse_direction_merge,
             "With --bidirectional, how the directions meet. sum: each direction --hidden wide, "
             "added. concat: each direction --hidden/2 wide, concatenated (OpenNMT's brnn): the "
             "same width for the decoder at about a third of the encoder's arithmetic "
             "(measured on G2P: docs/results/g2p/) [sum]");
  add(cmd, *f, "--accumulate", &TrainConfig::accumulate,
      fmt::format("Gradient accumulation: one optimizer step per N batches (per rank), fewer "
                  "all-reduces on slow links; the effective batch is --batch x N x ranks [{}]",
                  d.accumulate));
  f->world_size =
      cmd->add_option("--world-size", f->world_size_value,
                      "Distributed: number of ranks (overrides WORLD_SIZE; usually set by "
                      "`s2s launch` or torchrun). --batch is per rank [1]")
          ->group("Distributed (see README: Several processes and machines)");
  f->rank = cmd->add_option("--rank", f->rank_value,
                            "Distributed: this process's rank, 0 = the writer (overrides RANK)")
                ->group("Distributed (see README: Several processes and machines)");
  cmd->add_option("--init", f->dist.init,
                  "Distributed: rendezvous, tcp://HOST:PORT (rank 0 listens there) or "
                  "file:///shared/path (overrides MASTER_ADDR/MASTER_PORT) "
                  "[tcp://127.0.0.1:29500]")
      ->group("Distributed (see README: Several processes and machines)");
  add_choice(cmd, *f, "--grad-compression", &TrainConfig::grad_compression, parse_grad_compression,
             "Distributed: the form gradients travel in between the ranks. none: f32. fp16: "
             "as DistributedDataParallel's fp16_compress_hook, each rank divides its gradients "
             "by the number of ranks and rounds them to float16, half the bytes (values beyond "
             "+-65504 saturate); the averages differ from f32's by float16's rounding, ~1e-3 "
             "relative. (Gloo adds float16 slowly: s2s adds the ranks' segments itself between "
             "an all-to-all and an all-gather.) Measured: docs/PERFORMANCE.md (Data-parallel "
             "training) [" +
                 to_string(d.grad_compression) + "]")
      ->group("Distributed (see README: Several processes and machines)");
  cmd->add_option("--dist-timeout", f->dist.timeout_seconds,
                  "Distributed: seconds to wait for the rendezvous, for another rank at any "
                  "collective, before failing [30]")
      ->group("Distributed (see README: Several processes and machines)");
  add(cmd, *f, "--valid-batch", &TrainConfig::valid_batch,
      fmt::format("Batch size for validation [{}]", d.valid_batch));
  cmd->add_flag("--dashboard", f->dashboard,
                "Serve the live dashboard of this run on 127.0.0.1 while it trains");
  cmd->add_option("--dashboard-port", f->dashboard_port, "Port of --dashboard [8050]")
      ->check(CLI::Range(0, 65535));
  cmd->callback([f, &ctx] { ctx.exit_code = run(*f); });
}

}  // namespace s2s::cli
