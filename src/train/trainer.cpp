#include "s2s/trainer.h"

#include <ATen/ATen.h>
#include <torch/types.h>  // clip_grad.h uses torch::Tensor without including it

#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/adam.h>

#include <fmt/core.h>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>
#include <vector>

#include "s2s/checkpoint.h"
#include "s2s/csv.h"
#include "s2s/dataset.h"
#include "s2s/error.h"
#include "s2s/file_io.h"
#include "s2s/fused_adam.h"
#include "s2s/metrics.h"
#include "s2s/overfit.h"
#include "s2s/runtime.h"
#include "train/scoring.h"

namespace s2s {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::atomic<bool> g_stop{false};

extern "C" void on_stop_signal(int signo) {
  g_stop.store(true);
  std::signal(signo, SIG_DFL);  // a second press ends the process at once
}

// Installs the handlers for the lifetime of a train() call.
class SignalScope {
 public:
  explicit SignalScope(bool enabled) : enabled_(enabled) {
    if (!enabled_) return;
    isolate_signals();  // the handler must not run on a thread inside a oneDNN kernel
    old_int_ = std::signal(SIGINT, on_stop_signal);
    old_term_ = std::signal(SIGTERM, on_stop_signal);
  }
  ~SignalScope() {
    if (!enabled_) return;
    std::signal(SIGINT, old_int_);
    std::signal(SIGTERM, old_term_);
  }

 private:
  bool enabled_;
  void (*old_int_)(int) = SIG_DFL;
  void (*old_term_)(int) = SIG_DFL;
};

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// What a checkpoint needs to continue exactly where the run stopped.
struct RunState {
  int64_t epoch = 0;  // epochs completed
  int64_t step = 0;   // optimizer steps done in epoch + 1 (an interrupted epoch)
  Tally partial;      // training tally of those steps
  double partial_seconds = 0;
  double lr = 0;
  double elapsed_seconds = 0;
  int64_t best_epoch = 0;
  double best_valid_seq_acc = -1;
  double best_valid_loss = 0;
  int64_t min_loss_epoch = 0;
  double min_valid_loss = 0;

  std::string to_json() const {
    return nlohmann::json{{"epoch", epoch},
                          {"step", step},
                          {"partial", partial.to_json()},
                          {"partial_seconds", partial_seconds},
                          {"lr", lr},
                          {"elapsed_seconds", elapsed_seconds},
                          {"best_epoch", best_epoch},
                          {"best_valid_seq_acc", best_valid_seq_acc},
                          {"best_valid_loss", best_valid_loss},
                          {"min_loss_epoch", min_loss_epoch},
                          {"min_valid_loss", min_valid_loss}}
        .dump();
  }
  static RunState from_json(const std::string& text, const std::string& source) {
    try {
      const auto j = nlohmann::json::parse(text);
      RunState s;
      s.epoch = j.at("epoch").get<int64_t>();
      s.step = j.at("step").get<int64_t>();
      s.partial = Tally::from_json(j.at("partial").get<std::string>());
      s.partial_seconds = j.at("partial_seconds").get<double>();
      s.lr = j.at("lr").get<double>();
      s.elapsed_seconds = j.at("elapsed_seconds").get<double>();
      s.best_epoch = j.at("best_epoch").get<int64_t>();
      s.best_valid_seq_acc = j.at("best_valid_seq_acc").get<double>();
      s.best_valid_loss = j.at("best_valid_loss").get<double>();
      s.min_loss_epoch = j.at("min_loss_epoch").get<int64_t>();
      s.min_valid_loss = j.at("min_valid_loss").get<double>();
      return s;
    } catch (const nlohmann::json::exception& e) {
      throw Error(source + ": checkpoint has no resumable training state (" + e.what() + ")");
    }
  }
};

std::shared_ptr<const PairDataset> load_dataset(const std::string& path, const Vocab& vocab,
                                                std::ostream* log) {
  auto corpus = std::make_shared<const Corpus>(read_pairs_csv(path));
  auto dataset = std::make_shared<const PairDataset>(corpus, vocab);
  const UnknownTokens& unknown = dataset->unknown();
  if (unknown.tokens > 0 && static_cast<size_t>(unknown.tokens) == corpus->total_tokens()) {
    throw Error(path + ": none of its tokens are in the vocabulary (wrong file or model?)");
  }
  if (unknown.any() && log) *log << path << ": " << unknown.describe() << "\n";
  return dataset;
}

std::vector<EpochMetrics> read_metrics(const std::string& path, int64_t up_to_epoch) {
  std::vector<EpochMetrics> history;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    try {
      EpochMetrics m = EpochMetrics::from_json(line);
      if (m.epoch <= up_to_epoch) history.push_back(m);
    } catch (const std::exception&) {
      // A line cut by a crash: the checkpoint is the truth, drop it.
    }
  }
  return history;
}

std::string metrics_text(const std::vector<EpochMetrics>& history) {
  std::string text;
  for (const auto& m : history) text += m.to_json() + "\n";
  return text;
}

void draw_bar(std::ostream& out, int64_t epoch, int64_t epochs, int64_t step, int64_t steps,
              double loss, double seconds) {
  constexpr int kWidth = 30;
  const int filled = static_cast<int>(kWidth * step / std::max<int64_t>(steps, 1));
  const double eta = step > 0 ? seconds / step * (steps - step) : 0.0;
  out << fmt::format("\repoch {}/{} [{}{}] {}/{} loss {:.4f} {:.0f}s eta {:.0f}s ", epoch, epochs,
                     std::string(filled, '#'), std::string(kWidth - filled, '.'), step, steps, loss,
                     seconds, eta)
      << std::flush;
}

}  // namespace

void request_stop() {
  g_stop.store(true);
}

TrainSummary train(const TrainConfig& config, const TrainOptions& options) {
  config.validate();
  const auto start = Clock::now();
  configure_runtime({config.threads, config.seed});
  g_stop.store(false);
  SignalScope signals(options.handle_signals);

  const fs::path dir(config.out);
  const std::string last_path = (dir / "last.pt").string();
  const std::string best_path = (dir / "best.pt").string();
  const std::string metrics_path = (dir / "metrics.jsonl").string();

  // Vocabulary and model: fresh from the training data, or from the run being resumed.
  Vocab vocab;
  Seq2Seq model{nullptr};
  RunState state;
  TrainConfig effective = config;
  if (options.resume) {
    if (!fs::exists(last_path)) {
      throw Error(config.out + ": nothing to resume (no last.pt; start without --resume)");
    }
    LoadedCheckpoint ck =
        load_checkpoint(last_path, parse_rnn_impl(config.impl), parse_precision(config.precision));
    vocab = ck.vocab;
    model = ck.model;
    state = RunState::from_json(ck.meta.state_json, last_path);
  } else {
    fs::create_directories(dir);
    vocab = Vocab::from_corpus(read_pairs_csv(config.train));
    model = Seq2Seq(Seq2SeqOptions(vocab.size())
                        .cell(parse_cell(config.cell))
                        .hidden(config.hidden)
                        .layers(config.layers)
                        .dropout(config.dropout)
                        .impl(parse_rnn_impl(config.impl))
                        .precision(parse_precision(config.precision))
                        .attention(parse_attention(config.attention))
                        .input_feeding(config.input_feeding)
                        .bidirectional(config.bidirectional));
    state.lr = config.lr;
  }
  write_file_atomic((dir / "config.json").string(), effective.to_json() + "\n");

  auto train_set = load_dataset(config.train, vocab, options.log);
  auto valid_set = load_dataset(config.valid, vocab, options.log);
  LoaderOptions train_opts;
  train_opts.batch_size = config.batch;
  train_opts.shuffle = true;
  train_opts.seed = static_cast<uint64_t>(config.seed);
  DataLoader train_loader(train_set, train_opts);
  LoaderOptions valid_opts;
  valid_opts.batch_size = config.valid_batch;
  valid_opts.shuffle = false;
  DataLoader valid_loader(valid_set, valid_opts);

  FusedAdam optimizer(model->parameters(), torch::optim::AdamOptions(config.lr));
  if (options.resume) restore_training_state(last_path, optimizer);
  const auto set_lr = [&](double lr) {
    for (auto& group : optimizer.param_groups()) {
      static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
    }
  };
  set_lr(state.lr);

  // metrics.jsonl holds exactly the completed epochs of the checkpoint we continue from.
  std::vector<EpochMetrics> history =
      options.resume ? read_metrics(metrics_path, state.epoch) : std::vector<EpochMetrics>{};
  write_file_atomic(metrics_path, metrics_text(history));
  std::ofstream metrics_out(metrics_path, std::ios::app);

  TrainSummary summary;
  const double elapsed_before = state.elapsed_seconds;
  const auto elapsed = [&] { return elapsed_before + seconds_since(start); };
  const auto meta = [&] {
    CheckpointMeta m;
    m.epoch = state.epoch;
    m.config_json = effective.to_json();
    state.elapsed_seconds = elapsed();
    m.state_json = state.to_json();
    return m;
  };
  const auto write_summary = [&] {
    summary.epochs_completed = state.epoch;
    summary.best_epoch = state.best_epoch;
    summary.best_valid_seq_acc = std::max(0.0, state.best_valid_seq_acc);
    summary.best_valid_loss = state.best_valid_loss;
    std::vector<LossPoint> losses;
    for (const auto& m : history)
      losses.push_back({static_cast<int>(m.epoch), m.train_loss, m.valid_loss});
    OverfitRule rule;
    rule.patience = config.patience > 0 ? static_cast<int>(config.patience) : 3;
    summary.overfitting_epoch = overfitting_epoch(losses, rule).value_or(0);
    summary.total_seconds = elapsed();
    nlohmann::ordered_json j;
    j["stop_reason"] = to_string(summary.reason);
    j["epochs_completed"] = summary.epochs_completed;
    j["best_epoch"] = summary.best_epoch;
    j["best_metrics"] = nullptr;
    for (const auto& m : history) {
      if (m.epoch == summary.best_epoch) j["best_metrics"] = nlohmann::json::parse(m.to_json());
    }
    j["overfitting_epoch"] =
        summary.overfitting_epoch ? nlohmann::json(summary.overfitting_epoch) : nlohmann::json();
    j["min_valid_loss_epoch"] = state.min_loss_epoch;
    j["total_seconds"] = summary.total_seconds;
    write_file_atomic((dir / "summary.json").string(), j.dump(2) + "\n");
  };

  std::ostream* log = options.log;
  int64_t steps_this_process = 0;
  for (int64_t epoch = state.epoch + 1; epoch <= config.epochs; ++epoch) {
    model->train();
    const auto plan = train_loader.plan(epoch);
    const int64_t steps = static_cast<int64_t>(plan.size());
    Tally tally = state.partial;
    const auto epoch_start = Clock::now();
    const double seconds_before = state.partial_seconds;
    for (int64_t i = state.step; i < steps; ++i) {
      const Batch batch = train_loader.batch(plan[static_cast<size_t>(i)]);
      optimizer.zero_grad();
      const at::Tensor logp = model->forward(batch.src, decoder_input(batch),
                                             config.teacher_forcing, batch.src_lengths);
      const at::Tensor loss_sum = summed_nll(logp, batch.tgt);
      const int64_t tokens = batch.tgt_mask.sum().item<int64_t>();
      const at::Tensor loss = loss_sum / static_cast<double>(std::max<int64_t>(tokens, 1));
      const double loss_value = loss.item<double>();
      if (!std::isfinite(loss_value)) {
        summary.reason = StopReason::NonFiniteLoss;
        if (options.progress_bar && options.progress) *options.progress << "\n";
        if (log) {
          *log << fmt::format(
              "epoch {} step {}: loss is {}; stopped. {} keeps epoch {} (try a lower --lr or "
              "--clip)\n",
              epoch, i + 1, loss_value, last_path, state.epoch);
        }
        write_summary();
        return summary;
      }
      loss.backward();
      if (config.clip > 0) torch::nn::utils::clip_grad_norm_(model->parameters(), config.clip);
      optimizer.step();
      {
        at::NoGradGuard no_grad;
        tally_batch(tally, loss_sum.item<double>(), logp.argmax(-1), batch.tgt, batch.tgt_mask);
      }
      ++steps_this_process;
      if (options.progress_bar && options.progress) {
        draw_bar(*options.progress, epoch, config.epochs, i + 1, steps, tally.loss(),
                 seconds_before + seconds_since(epoch_start));
      }
      const bool stop = g_stop.load() || (options.stop_after_steps > 0 &&
                                          steps_this_process >= options.stop_after_steps);
      if (stop && i + 1 < steps) {
        state.step = i + 1;
        state.partial = tally;
        state.partial_seconds = seconds_before + seconds_since(epoch_start);
        save_checkpoint(last_path, model, vocab, meta(), &optimizer);
        summary.reason = StopReason::Interrupted;
        write_summary();
        if (options.progress_bar && options.progress) *options.progress << "\n";
        if (log) {
          *log << fmt::format(
              "interrupted in epoch {} after step {}/{}; saved {} (continue "
              "with --resume {})\n",
              epoch, i + 1, steps, last_path, config.out);
        }
        return summary;
      }
    }
    const double train_seconds = seconds_before + seconds_since(epoch_start);
    const Tally valid = evaluate(model, valid_loader);

    EpochMetrics m;
    m.epoch = epoch;
    m.train_loss = tally.loss();
    m.train_token_acc = tally.token_acc();
    m.train_seq_acc = tally.seq_acc();
    m.valid_loss = valid.loss();
    m.valid_token_acc = valid.token_acc();
    m.valid_seq_acc = valid.seq_acc();
    m.epoch_seconds = seconds_before + seconds_since(epoch_start);
    m.train_pairs_per_second = train_seconds > 0 ? tally.seqs / train_seconds : 0.0;
    m.lr = state.lr;
    m.elapsed_seconds = elapsed();
    history.push_back(m);
    metrics_out << m.to_json() << "\n" << std::flush;

    state.epoch = epoch;
    state.step = 0;
    state.partial = Tally{};
    state.partial_seconds = 0;
    const bool best =
        m.valid_seq_acc > state.best_valid_seq_acc ||
        (m.valid_seq_acc == state.best_valid_seq_acc && m.valid_loss < state.best_valid_loss);
    if (best) {
      state.best_epoch = epoch;
      state.best_valid_seq_acc = m.valid_seq_acc;
      state.best_valid_loss = m.valid_loss;
    }
    if (state.min_loss_epoch == 0 || m.valid_loss < state.min_valid_loss) {
      state.min_loss_epoch = epoch;
      state.min_valid_loss = m.valid_loss;
    }
    state.lr *= config.lr_decay;
    set_lr(state.lr);
    if (best) save_checkpoint(best_path, model, vocab, meta(), &optimizer);
    save_checkpoint(last_path, model, vocab, meta(), &optimizer);

    if (options.progress_bar && options.progress) *options.progress << "\n";
    if (log) {
      *log << fmt::format(
                  "epoch {}/{}  train loss {:.4f} tok {:.4f} seq {:.4f} | valid loss {:.4f} tok "
                  "{:.4f} seq {:.4f} | {:.1f}s {:.0f} pairs/s lr {:.3g}{}\n",
                  epoch, config.epochs, m.train_loss, m.train_token_acc, m.train_seq_acc,
                  m.valid_loss, m.valid_token_acc, m.valid_seq_acc, m.epoch_seconds,
                  m.train_pairs_per_second, m.lr, best ? "  *best" : "")
           << std::flush;
    }
    if (config.patience > 0 && epoch - state.min_loss_epoch >= config.patience) {
      summary.reason = StopReason::EarlyStopping;
      if (log) {
        *log << fmt::format(
            "early stopping: valid loss has not improved for {} epochs (best at epoch {})\n",
            config.patience, state.min_loss_epoch);
      }
      write_summary();
      return summary;
    }
    if (g_stop.load() ||
        (options.stop_after_steps > 0 && steps_this_process >= options.stop_after_steps)) {
      summary.reason = StopReason::Interrupted;
      if (log) {
        *log << fmt::format("interrupted after epoch {}; saved {} (continue with --resume {})\n",
                            epoch, last_path, config.out);
      }
      write_summary();
      return summary;
    }
  }
  summary.reason = StopReason::Completed;
  write_summary();
  return summary;
}

}  // namespace s2s
