// train(): Trainer::run() is the loop, on one screen with its three parts below it. The other
// parts, each on a screen: the step (train_step.cpp), the schedule (scheduler.cpp), checkpoints
// and the resumable state (run_state.cpp), the step log (step_log.cpp), what the user sees
// (progress.cpp), data parallelism (data_parallel.cpp); the setup and the per-epoch files below.
#include "s2s/trainer.h"

#include <ATen/ATen.h>
#include <torch/optim/adam.h>

#include <fmt/core.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "s2s/checkpoint.h"
#include "s2s/csv.h"
#include "s2s/dataset.h"
#include "s2s/error.h"
#include "s2s/file_io.h"
#include "s2s/fused_adam.h"
#include "s2s/metrics.h"
#include "s2s/metrics_log.h"
#include "s2s/overfit.h"
#include "s2s/runtime.h"
#include "s2s/train_step.h"
#include "train/data_parallel.h"
#include "train/progress.h"
#include "train/run_state.h"
#include "train/scheduler.h"
#include "train/scoring.h"
#include "train/step_log.h"
#include "train/weight_smoothing.h"

namespace s2s {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::shared_ptr<const PairDataset> make_dataset(std::shared_ptr<const Corpus> corpus,
                                                const std::string& path, const Vocab& vocab,
                                                ProgressReporter& progress) {
  auto dataset = std::make_shared<const PairDataset>(corpus, vocab);
  const UnknownTokens& unknown = dataset->unknown();
  if (unknown.tokens > 0 && static_cast<size_t>(unknown.tokens) == corpus->total_tokens()) {
    throw Error(path + ": none of its tokens are in the vocabulary (wrong file or model?)");
  }
  if (unknown.any()) progress.note(path + ": " + unknown.describe());
  return dataset;
}

// A resumed run goes on with the model and the data it started with: `config` may change only
// the settings that do not define them (s2s/run_record.h). Checked before any file is written.
// Returns the run's configuration.
TrainConfig check_same_run(const TrainConfig& config, const std::string& run_config_json,
                           const std::string& checkpoint) {
  const TrainConfig run = TrainConfig::from_json(run_config_json, checkpoint, true);
  std::string differences;
  for (const SettingChange& change : run_defining_changes(run, config)) {
    if (!differences.empty()) differences += "; ";
    differences +=
        change.flag() + " " + change.new_value + " differs from the run's " + change.run_value;
  }
  if (!differences.empty()) throw Error("--resume " + config.out + ": " + differences);
  return run;
}

// Everything a run works with: the model and its vocabulary (new, or from the checkpoint being
// resumed), the data (the training CSV is read once, for the vocabulary and the batches), the
// optimizer and the resumable state.
struct Setup {
  Vocab vocab;
  Seq2Seq model{nullptr};
  RunState state;
  std::unique_ptr<DataLoader> train_loader, valid_loader;
  std::unique_ptr<FusedAdam> optimizer;
  int64_t steps_per_epoch = 1;  // optimizer steps (one per global batch, or per --accumulate)
  std::unique_ptr<WeightSmoothing> smoothing;  // --ema-epochs
  std::string threads_note;                    // why --threads 0 chose its count ("" when given)
};

Setup set_up(const TrainConfig& config, bool resume, const DataParallel& parallel,
             ProgressReporter& progress) {
  Setup s;
  RuntimeOptions runtime;
  runtime.threads = config.threads;
  runtime.seed = config.seed;
  if (config.threads == 0) {
    const ThreadChoice choice = auto_threads();
    runtime.threads = choice.threads;
    s.threads_note = choice.reason;
  }
  configure_runtime(runtime);
  const std::string last_path = (fs::path(config.out) / run_files::kLastCheckpoint).string();
  if (resume) {
    if (!fs::exists(last_path)) {
      throw Error(config.out + ": nothing to resume (no last.pt; start without --resume)");
    }
    LoadedCheckpoint ck = load_checkpoint(last_path, config.impl, config.precision);
    const TrainConfig run = check_same_run(config, ck.meta.config_json, last_path);
    s.vocab = ck.vocab;
    s.model = ck.model;
    s.state = RunState::from_json(ck.meta.state_json, last_path);
    // A new --lr rescales the rate in force: the schedule keeps its progress (an exponential
    // decay goes on from where it was), on the new base rate.
    s.state.schedule.lr *= config.lr / run.lr;
  }
  auto train_corpus = std::make_shared<const Corpus>(read_pairs_csv(config.train));
  if (!resume) {
    if (parallel.writes_files()) fs::create_directories(config.out);
    s.vocab = Vocab::from_corpus(*train_corpus);
    s.model = Seq2Seq(model_options(config, s.vocab.size()));
  }
  if (parallel.writes_files()) {
    TrainConfig written = config;
    written.ranks = parallel.world_size();
    write_file_atomic((fs::path(config.out) / run_files::kConfig).string(),
                      written.to_json() + "\n");
  }

  LoaderOptions train_opts;
  train_opts.batch_size = config.batch * parallel.world_size();  // the global batch
  train_opts.shuffle = true;
  train_opts.seed = static_cast<uint64_t>(config.seed);
  train_opts.bucket_by_length = config.bucket_pool > 0;
  train_opts.bucket_pool = config.bucket_pool;
  s.train_loader = std::make_unique<DataLoader>(
      make_dataset(train_corpus, config.train, s.vocab, progress), train_opts);
  LoaderOptions valid_opts;
  valid_opts.batch_size = config.valid_batch;
  valid_opts.shuffle = false;
  // Sorted by length, whatever --bucket-pool: validation sums over its rows, so only the
  // padding changes.
  valid_opts.bucket_by_length = true;
  auto valid_corpus = std::make_shared<const Corpus>(read_pairs_csv(config.valid));
  s.valid_loader = std::make_unique<DataLoader>(
      make_dataset(valid_corpus, config.valid, s.vocab, progress), valid_opts);

  s.optimizer =
      std::make_unique<FusedAdam>(s.model->parameters(), torch::optim::AdamOptions(config.lr));
  // On resume the model holds the checkpoint's model, the smoothed weights if it had any: they
  // start the smoothing, then the trained weights stored beside them replace them.
  s.steps_per_epoch = parallel.steps_per_epoch(s.train_loader->num_batches());
  if (config.ema_epochs > 0) {
    const auto steps = static_cast<double>(std::max<int64_t>(s.steps_per_epoch, 1));
    s.smoothing = std::make_unique<WeightSmoothing>(
        s.model->parameters(), std::min(1.0, 1.0 / (config.ema_epochs * steps)));
  }
  if (resume) restore_training_state(last_path, *s.optimizer, &s.model);
  return s;
}

void set_lr(torch::optim::Optimizer& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) {
    static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
  }
}

// DIR/metrics.jsonl holds exactly the completed epochs of the checkpoint we continue from.
class EpochLog {
 public:
  // `write` false (a rank other than 0): the history is read, the file left alone.
  EpochLog(const std::string& path, int64_t done_epochs, bool write = true) : path_(path) {
    for (const EpochRecord& m : read_metrics(path))
      if (m.epoch <= done_epochs) history_.push_back(m);
    if (!write) return;
    std::string text;
    for (const auto& m : history_) text += m.to_json() + "\n";
    write_file_atomic(path, text);
    out_.open(path, std::ios::app);
  }
  void add(const EpochRecord& m) {
    history_.push_back(m);
    if (!out_.is_open()) return;
    out_ << m.to_json() << "\n" << std::flush;
    if (!out_) throw Error(path_ + ": cannot append the epoch's metrics (disk full?)");
  }
  const std::vector<EpochRecord>& history() const { return history_; }

 private:
  std::string path_;
  std::vector<EpochRecord> history_;
  std::ofstream out_;
};

// The epoch's record from its training tally (in `state`) and its validation; epoch_seconds
// is the training time so far (the caller adds validation's).
EpochRecord epoch_record(int64_t epoch, const RunState& state, const Tally& valid, double lr) {
  const Tally& train = state.partial;
  EpochRecord m;
  m.epoch = static_cast<int>(epoch);
  m.train_loss = train.loss();
  m.train_token_acc = train.token_acc();
  m.train_seq_acc = train.seq_acc();
  m.valid_loss = valid.loss();
  m.valid_token_acc = valid.token_acc();
  m.valid_seq_acc = valid.seq_acc();
  m.epoch_seconds = state.partial_seconds;
  m.train_pairs_per_second =
      state.partial_seconds > 0 ? static_cast<double>(train.seqs) / state.partial_seconds : 0.0;
  m.lr = lr;
  return m;
}

// DIR/summary.json, and what train() returns.
TrainSummary write_summary(const TrainConfig& config, RunStatus reason, const RunState& state,
                           const std::vector<EpochRecord>& history, bool write) {
  const ScheduleState& s = state.schedule;
  TrainSummary summary;
  summary.reason = reason;
  summary.epochs_completed = state.epoch;
  summary.best_epoch = s.best_epoch;
  summary.best_valid_seq_acc = std::max(0.0, s.best_valid_seq_acc);
  summary.best_valid_loss = s.best_valid_loss;
  std::vector<LossPoint> losses;
  for (const auto& m : history) losses.push_back({m.epoch, m.train_loss, m.valid_loss});
  OverfitRule rule;
  rule.patience = config.patience > 0 ? static_cast<int>(config.patience) : 3;
  summary.overfitting_epoch = overfitting_epoch(losses, rule).value_or(0);
  summary.total_seconds = state.elapsed_seconds;

  RunSummary file;
  file.status = reason;
  file.epochs_completed = static_cast<int>(state.epoch);
  file.best_epoch = static_cast<int>(s.best_epoch);
  for (const auto& m : history)
    if (m.epoch == s.best_epoch) file.best_metrics = m;
  if (summary.overfitting_epoch) file.overfit_epoch = static_cast<int>(summary.overfitting_epoch);
  file.min_valid_loss_epoch = static_cast<int>(s.min_loss_epoch);
  file.total_seconds = summary.total_seconds;
  if (write) {
    write_file_atomic((fs::path(config.out) / run_files::kSummary).string(), file.to_json() + "\n");
  }
  return summary;
}

// One run of train(): what it works with, and the loop in three parts (an epoch's steps, the
// epoch's end, the finish), each returning the status that ends the run, if any.
class Trainer {
 public:
  Trainer(const TrainConfig& config, const TrainOptions& options)
      : config_(config),
        options_(options),
        start_(Clock::now()),
        signals_(options.handle_signals),
        progress_(options, config),
        parallel_(options.group, config.accumulate, config.grad_compression),
        writes_(parallel_.writes_files()),
        s_(set_up(config, options.resume, parallel_, warn_on_new_ranks())),
        state_(s_.state),
        loader_(*s_.train_loader),
        steps_(s_.steps_per_epoch),
        scheduler_(config, steps_),
        checkpoints_(config, s_.model, s_.vocab, *s_.optimizer, s_.smoothing.get()),
        epochs_((fs::path(config.out) / run_files::kMetrics).string(), state_.epoch, writes_),
        step_log_((fs::path(config.out) / run_files::kSteps).string(),
                  writes_ ? config.log_every : 0, state_.epoch * steps_ + state_.step),
        elapsed_before_(state_.elapsed_seconds) {
    if (config.time_budget > 0 && parallel_.distributed()) throw Error(kTimeBudgetNeedsOneProcess);
    parallel_.broadcast_parameters(s_.model);
    if (options.log && !s_.threads_note.empty()) *options.log << s_.threads_note << "\n";
    if (!options.resume) state_.schedule = scheduler_.start();
    // A resume plans again at once: the budget or --epochs may be new.
    if (options.resume && config.time_budget > 0) {
      const std::string note = plan_within_budget(state_.epoch, epoch_seconds(),
                                                  state_.elapsed_seconds, /*resume=*/true);
      if (!note.empty()) progress_.note(note);
    }
    // The checkpoint's tally of an interrupted epoch is every rank's (save_last): rank 0 adds
    // to it, the others start their share from zero.
    if (options.resume && parallel_.rank() != 0) state_.partial = Tally{};
    if (parallel_.distributed()) {
      // One flat all-reduce after backward, unless S2S_BUCKET_MB (a benchmark's switch,
      // bench/dist: not a user setting) asks for buckets of that size whose all-reduce starts
      // while backward runs. Off by default because it lost on the idle 2-core machine (1.56x
      // against 1.62x for 2 ranks): Gloo's thread and the bucket copies take CPU from the
      // ranks' compute when no core is spare (docs/PERFORMANCE.md).
      const char* mb = std::getenv("S2S_BUCKET_MB");
      const int64_t bucket = mb ? static_cast<int64_t>(std::atof(mb) * (1 << 20)) : 0;
      if (bucket > 0) parallel_.overlap_gradients(s_.model, bucket);
      // The step's all-reduce also decides, for all ranks at once, whether to stop after it.
      sync_gradients_.before_last_backward = [this](bool accumulated) {
        parallel_.arm(accumulated);
      };
      sync_gradients_.after_backward = [this](bool finite) {
        return parallel_.average_gradients(s_.model, finite,
                                           stop_requested(steps_this_process_ + 1));
      };
    }
  }

  TrainSummary run() {
    for (int64_t epoch = state_.epoch + 1; epoch <= scheduler_.last_epoch(state_.schedule);
         ++epoch) {
      double lr = 0;
      if (const auto status = train_epoch(epoch, lr)) return finish(*status);
      if (const auto status = end_epoch(epoch, lr)) return finish(*status);
    }
    return finish(RunStatus::Completed);
  }

 private:
  // The epoch's remaining steps; `lr` is the last step's learning rate.
  std::optional<RunStatus> train_epoch(int64_t epoch, double& lr) {
    s_.model->train();
    const auto plan = loader_.plan(epoch);
    for (int64_t i = state_.step; i < steps_; ++i) {
      const auto step_start = Clock::now();
      const int64_t run_step = (epoch - 1) * steps_ + i;  // 0-based, across epochs
      lr = scheduler_.lr_at(state_.schedule, run_step);
      set_lr(*s_.optimizer, lr);
      std::vector<Batch> batches;
      for (const auto& rows : parallel_.step_rows(plan, i)) batches.push_back(loader_.batch(rows));
      const StepResult r = train_step(s_.model, *s_.optimizer, batches, step_options(),
                                      state_.partial, nullptr, sync_gradients_);
      if (!r.finite) {
        progress_.non_finite_loss(epoch, i + 1, r.loss, state_.epoch);
        return RunStatus::NonFiniteLoss;
      }
      if (s_.smoothing) s_.smoothing->update(run_step + 1);
      const double seconds = seconds_since(step_start);
      state_.step_done(seconds);
      ++steps_this_process_;
      step_log_.add(state_, r, seconds, run_step + 1, epoch, i + 1, steps_, lr);
      progress_.step(epoch, scheduler_.last_epoch(state_.schedule), i + 1, steps_,
                     state_.partial.loss(), state_.partial_seconds);
      const bool stop =
          parallel_.distributed() ? parallel_.stop_agreed() : stop_requested(steps_this_process_);
      if (stop && i + 1 < steps_) {
        state_.elapsed_seconds = elapsed_before_ + seconds_since(start_);
        save_last();
        progress_.interrupted(epoch, i + 1, steps_);
        return RunStatus::Interrupted;
      }
    }
    return std::nullopt;
  }

  // Validation, the epoch's record and verdict, checkpoints, and whether to stop.
  std::optional<RunStatus> end_epoch(int64_t epoch, double lr) {
    const auto valid_start = Clock::now();
    // Validated and saved: the smoothed weights (--ema-epochs), while this lives.
    const SmoothedWeights smoothed(s_.smoothing.get());
    // Every rank's tallies summed (and whether any rank was asked to stop), so all report and
    // decide alike; one process: the tallies themselves.
    bool stop = false;
    RunState whole = state_;
    whole.partial = parallel_.sum(state_.partial, stop);
    Tally valid = evaluate(s_.model, *s_.valid_loader, parallel_.rank(), parallel_.world_size());
    stop = stop_requested(steps_this_process_);
    valid = parallel_.sum(valid, stop);
    EpochRecord m = epoch_record(epoch, whole, valid, lr);
    m.epoch_seconds += seconds_since(valid_start);
    m.elapsed_seconds = elapsed_before_ + seconds_since(start_);
    state_.epoch_done(epoch, m.elapsed_seconds);
    const EpochVerdict verdict =
        scheduler_.end_epoch(state_.schedule, epoch, m.valid_seq_acc, m.valid_loss);
    const int64_t last_epoch = scheduler_.last_epoch(state_.schedule);  // as the epoch ran
    std::string plan_note;  // said after the epoch's line
    if (config_.time_budget > 0) {
      std::vector<double> seconds = epoch_seconds();
      seconds.push_back(m.epoch_seconds);
      plan_note = plan_within_budget(epoch, seconds, m.elapsed_seconds, /*resume=*/false);
    }
    // last.pt is the commit point of an epoch: best.pt before it (a best.pt ahead of last.pt is
    // rewritten by the exact resume that redoes the epoch), metrics.jsonl after it, so readers
    // never see an epoch that a failed checkpoint write (a full disk) lost.
    // A new best is written once under both names (save_best_and_last). Both of rank 0's writes
    // before the barrier: a rank that dies now fails the barrier, and metrics.jsonl must not
    // then miss the epoch that last.pt already holds.
    if (writes_) {
      if (verdict.best) {
        checkpoints_.save_best_and_last(state_);
      } else {
        checkpoints_.save_last(state_);
      }
    }
    epochs_.add(m);
    parallel_.barrier();
    progress_.epoch(m, last_epoch, verdict.best);
    if (!plan_note.empty()) progress_.note(plan_note);
    if (verdict.stop_early) {
      progress_.early_stop(state_.schedule.min_loss_epoch);
      return RunStatus::EarlyStopping;
    }
    if (stop || (!parallel_.distributed() && stop_requested(steps_this_process_))) {
      progress_.interrupted(epoch, steps_, steps_);
      return RunStatus::Interrupted;
    }
    return std::nullopt;
  }

  std::vector<double> epoch_seconds() const {  // the logged epochs'
    std::vector<double> seconds;
    for (const auto& done : epochs_.history()) seconds.push_back(done.epoch_seconds);
    return seconds;
  }

  // --time-budget: how many epochs fit after `epoch` epochs that took `seconds` (oldest first),
  // `elapsed` seconds used; into the state before the epoch's checkpoint is written, so that the
  // checkpoint carries the plan. Returns the line that says so, or "" when the plan is unchanged.
  // After an epoch, a run that has reached its planned end stays there (replan_after_epoch); a
  // resume plans afresh.
  std::string plan_within_budget(int64_t epoch, const std::vector<double>& seconds, double elapsed,
                                 bool resume) {
    const bool changed =
        resume ? scheduler_.plan(state_.schedule, epoch, seconds, elapsed)
               : scheduler_.replan_after_epoch(state_.schedule, epoch, seconds, elapsed);
    if (!changed) return "";
    const int64_t last = scheduler_.last_epoch(state_.schedule);
    const std::string fit = last > epoch
                                ? fmt::format("{} epochs fit", last)
                                : fmt::format("no more epochs fit, epoch {} is the last", epoch);
    return fmt::format(
        "time budget {:g} min: {} ({:.1f} min used; the last "
        "epochs took {:.0f} s, planned at 5% more)",
        config_.time_budget, fit, elapsed / 60, recent_epoch_seconds(seconds));
  }

  TrainSummary finish(RunStatus reason) {
    state_.elapsed_seconds = elapsed_before_ + seconds_since(start_);
    TrainSummary summary = write_summary(config_, reason, state_, epochs_.history(), writes_);
    parallel_.barrier();
    if (parallel_.distributed() && options_.log) {
      const SyncStats& sync = parallel_.stats();
      if (sync.steps > 0) {
        *options_.log << fmt::format(
            "rank {}: gradient all-reduce {:.2f} MB and {:.2f} ms per step ({} steps, "
            "--grad-compression {}){}\n",
            parallel_.rank(), static_cast<double>(sync.bytes) / sync.steps / 1e6,
            sync.seconds * 1e3 / sync.steps, sync.steps, to_string(config_.grad_compression),
            sync.buckets == 0 ? ""
                              : fmt::format("; {:.1f} buckets per step, {:.1f} of them started "
                                            "during backward",
                                            static_cast<double>(sync.buckets) / sync.steps,
                                            static_cast<double>(sync.in_backward) / sync.steps));
      }
    }
    return summary;
  }

  // Rank 0 writes the run's files; the others wait until it has (a checkpoint on disk is then
  // the state of every rank). Each rank's training tally covers its own shard: a checkpoint in
  // the middle of an epoch holds their sum, which rank 0 alone continues from on --resume.
  void save_last() {
    RunState saved = state_;
    if (parallel_.distributed() && state_.step > 0) {  // every rank is at the same step
      bool stop = false;
      saved.partial = parallel_.sum(state_.partial, stop);
    }
    if (writes_) checkpoints_.save_last(saved);
    parallel_.barrier();
  }

  bool stop_requested(int64_t steps_done) const {
    return signals_.requested() ||
           (options_.stop_after_steps > 0 && steps_done >= options_.stop_after_steps);
  }

  StepOptions step_options() const {
    return {config_.teacher_forcing, config_.clip, config_.label_smoothing};
  }

  // Before set_up: resuming on another number of ranks changes the shards.
  ProgressReporter& warn_on_new_ranks() {
    if (options_.resume && config_.ranks != parallel_.world_size()) {
      progress_.note(fmt::format(
          "warning: this run was trained on {} rank(s), it continues on {}: the global batch, "
          "the shards and the steps per epoch change (an interrupted epoch continues at the "
          "same step number of the new plan)",
          config_.ranks, parallel_.world_size()));
    }
    return progress_;
  }

  const TrainConfig& config_;
  const TrainOptions& options_;
  const Clock::time_point start_;
  StopSignals signals_;
  ProgressReporter progress_;
  DataParallel parallel_;
  const bool writes_;
  Setup s_;
  RunState& state_;
  const DataLoader& loader_;
  const int64_t steps_;
  const Scheduler scheduler_;
  Checkpointer checkpoints_;
  EpochLog epochs_;
  StepLog step_log_;
  const double elapsed_before_;
  int64_t steps_this_process_ = 0;
  GradientSync sync_gradients_;
};

}  // namespace

TrainSummary train(const TrainConfig& config, const TrainOptions& options) {
  config.validate();
  return Trainer(config, options).run();
}

}  // namespace s2s
