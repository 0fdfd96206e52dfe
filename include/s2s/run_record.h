// A run, described once. `s2s train --out DIR` writes, and every reader (the trainer on resume,
// the dashboard, `s2s plot`, experiment reports) reads, these files through the types here:
//   DIR/config.json    TrainConfig: the typed configuration (strings only at the edge: JSON keys
//                      and values are those of the command-line flags)
//   DIR/metrics.jsonl  EpochRecord, one line per epoch
//   DIR/steps.jsonl    StepRecord: the training loss every --log-every optimizer steps
//   DIR/summary.json   RunSummary, written when training stops (RunStatus says why)
//   DIR/last.pt, DIR/best.pt  checkpoints (s2s/checkpoint.h)
// Writers are strict (every field, always); readers are tolerant (a missing field is NaN or
// absent, a damaged line is skipped), so runs from older or newer versions still read. The best
// epoch and the overfitting epoch follow the one rule each in s2s/overfit.h. No torch here.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "s2s/cell.h"

namespace s2s {

// How the learning rate moves during a run (src/train/scheduler.cpp).
//   constant       lr throughout
//   exponential    lr * lr_decay^(epochs done): the course's schedule
//   plateau        halve when the validation loss has not improved for lr_patience epochs
//   warmup-cosine  linear from 0 to lr over the warm-up, then a half cosine down to 0 at the
//                  last step of the last epoch
enum class LrSchedule { Constant, Exponential, Plateau, WarmupCosine };
// "constant" | "exponential" | "plateau" | "warmup-cosine"; throws s2s::Error otherwise.
LrSchedule parse_lr_schedule(const std::string& name);
std::string to_string(LrSchedule schedule);

// How data-parallel ranks send their gradients to the all-reduce (--grad-compression):
//   none  f32, as backward computed them
//   fp16  DistributedDataParallel's fp16_compress_hook: each rank divides its gradients by the
//         number of ranks, rounds them to float16 (half the bytes), the ranks sum in float16 and
//         every rank widens the average back to f32. Values beyond float16's range saturate at
//         +-65504 instead of becoming infinite (which would turn the weights into NaN).
// One process sends nothing, whichever it is.
enum class GradCompression { None, Fp16 };
// "none" | "fp16"; throws s2s::Error otherwise.
GradCompression parse_grad_compression(const std::string& name);
std::string to_string(GradCompression compression);

// Everything a run depends on. Written to DIR/config.json and into every checkpoint.
struct TrainConfig {
  std::string train;  // data files (CSV, header source,target)
  std::string valid;
  std::string out;  // run directory

  // Model: the course's 4-layer GRU with 256 units. (src/run/config_fields.h lists every field
  // once, in S2S_CONFIG_FIELDS: a new field is one line there plus its default here; config.json,
  // train_settings() and so `s2s experiment`'s grid axes follow from that list.)
  Cell cell = Cell::GRU;
  int64_t layers = 4;
  int64_t hidden = 256;
  // Dropout between stacked layers. The course used 0.8 over ~2000 epochs; 0.2 reaches the
  // same accuracy in a handful of epochs (the PyTorch reference does it in 7).
  double dropout = 0.2;
  RnnImpl impl = RnnImpl::Auto;  // which code runs the RNNs
  // The RNN kernels' matmuls (onednn only); weights and optimizer stay f32.
  Precision precision = Precision::F32;
  // Luong global attention over the encoder outputs (None = the course's model).
  Attention attention = Attention::None;
  bool input_feeding = false;  // attention's previous state fed to the next step (step by step)
  bool bidirectional = false;  // bidirectional encoder, its directions merged into the decoder
  DirectionMerge bidirectional_merge = DirectionMerge::Sum;  // how (Seq2SeqOptions)

  // Optimisation: Adam at 2e-3, one epoch of linear warm-up, then a half cosine to 0 at the
  // last step of --epochs, so the rate spans the run whatever its length. Measured (README,
  // Results): on the course split it passes 99.7% validation exact match at epoch 5 (the
  // earlier default, x0.75 per epoch, at epoch 6); on a 3-12 digit reversal nobody tuned it
  // for, 62.8% after 10 epochs (x0.75 per epoch: 57.8%, constant: 48.3%).
  int64_t epochs = 8;
  // Minutes of training (validation included, across resumes) the run may take; 0: no limit.
  // After every epoch the run plans how many epochs fit at the speed of its last three, up to
  // --epochs, and warmup-cosine's decay ends at the planned last epoch (Scheduler::plan), so a
  // slower machine trains fewer epochs of the same shape instead of running over.
  double time_budget = 0;
  int64_t batch = 64;
  // Length bucketing: each epoch's shuffled rows are cut into pools of this many batches, each
  // pool sorted by (source, target) length and cut into batches, the batches then shuffled, so
  // a batch holds rows of about one length and the RNNs run few padded steps (OpenNMT's pool,
  // Marian's maxi-batch). 0 (plain shuffled batches) by default, as measured on the CMU
  // dictionary: pools of 50 cut the padding of batch 128 from 48% of the token slots to 7%,
  // but scripts/g2p's epochs (two models side by side) only 1.1x, and in the same hour its
  // ensemble ended at 23.68% WER against 23.23% without (docs/results/g2p). Data whose rows
  // all have one length is never reordered.
  int64_t bucket_pool = 0;
  double lr = 2e-3;
  LrSchedule lr_schedule = LrSchedule::WarmupCosine;
  double lr_decay = 0.75;     // exponential: multiply the learning rate by this after every epoch
  int64_t lr_patience = 2;    // plateau: epochs without a lower validation loss before halving
  int64_t warmup_steps = 0;   // warmup-cosine: warm-up length in optimizer steps...
  int64_t warmup_epochs = 1;  // ...plus this many epochs' worth (the whole run at most)
  double teacher_forcing = 1.0;  // probability of feeding the true previous token
  // Label smoothing: training minimises (1 - e) x NLL + e x the cross entropy against the
  // uniform distribution over the vocabulary (torch's cross_entropy(label_smoothing = e)), which
  // keeps the model from growing over-confident; 0: plain NLL. Reported losses stay plain NLL.
  double label_smoothing = 0.0;
  double clip = 5.0;  // max gradient norm (a guard, rarely active); 0: off
  // Exponential smoothing of the weights (their moving average; Marian's exponential smoothing):
  // after every step a copy of the weights moves the fraction 1/(ema_epochs x steps per epoch)
  // of the way to the trained ones (at least 1/(steps + 1), so that it starts as the plain mean
  // of the weights so far), so it averages about the last ema_epochs epochs. Validation, best.pt
  // and the model in last.pt are the smoothed copy; last.pt also holds the trained weights a
  // resume goes on from. It averages out the steps' noise, as a decayed learning rate would,
  // without decaying it: on the course split 99.7% validation exact match at epoch 4 instead of
  // 5, the same at the end (README, Results). Measured in epochs, not steps, so that on a small
  // data set the average does not lag many epochs behind. 0: off. A configuration without
  // "ema_epochs" (written before it existed) had none.
  double ema_epochs = 0.5;
  int64_t seed = 1;
  int64_t threads = 0;   // 0: automatic (s2s::default_threads())
  int64_t patience = 0;  // stop when valid loss has not improved for N epochs; 0: never
  int64_t valid_batch = 512;
  // Write the mean training loss of every N optimizer steps to DIR/steps.jsonl; 0: never.
  // 10 gives a course epoch (14000 pairs, batch 64: 219 steps) about 20 points.
  int64_t log_every = 10;
  // Gradient accumulation: one optimizer step per this many batches (per rank), their losses
  // averaged. Fewer all-reduces on a slow link; the effective batch grows by this factor.
  int64_t accumulate = 1;
  // Data-parallel runs: the form gradients travel in (none: f32; fp16: half the bytes).
  GradCompression grad_compression = GradCompression::None;
  // Data-parallel ranks that trained the run (written by the trainer, not a flag): a resume on
  // another number of ranks is warned about, since the shards and steps per epoch change.
  int64_t ranks = 1;

  std::string to_json() const;  // pretty JSON, all fields
  // Reads a config file's JSON; unknown keys (unless `skip_unknown_keys`: a checkpoint's
  // configuration may carry notes such as "imported_from") and bad values are an error naming
  // `source`; missing keys keep their defaults, except that a file without "lr_schedule"
  // (written before it existed) ran the exponential schedule, and one that gives
  // "warmup_steps" without "warmup_epochs" means a warm-up of exactly those steps.
  static TrainConfig from_json(const std::string& json, const std::string& source,
                               bool skip_unknown_keys = false);
  // Throws s2s::Error naming the flag when a path is missing or a value is out of range.
  void validate() const;
  // The range checks alone (a checkpoint's stored configuration has no paths): the one place
  // that says which values are sane, for flags, config files and checkpoints alike, so that an
  // absurd size ("hidden": -5, "layers": 1e9) is an error before anything is allocated.
  void validate_settings() const;
};

// One setting of TrainConfig as config.json and `s2s train` name it, described from the one list
// of fields (src/run/config_fields.h): what `s2s experiment` derives its grid axes from.
struct TrainSetting {
  enum class Kind { Path, Int, Real, Bool, Choice };
  std::string key;   // config.json key, e.g. "lr_schedule"
  std::string flag;  // the `s2s train` flag, e.g. "--lr-schedule"; empty: not a flag ("ranks")
  Kind kind = Kind::Int;
  std::vector<std::string> choices;  // Choice: the accepted values, in the enum's order
  std::string default_value;         // a default TrainConfig's value, as text
  // The flag's argv for `value` (text as setting_text writes it): {"--layers", "4"}; a switch
  // is {"--bidirectional"} when on and {"--bidirectional=false"} when off.
  std::vector<std::string> flag_args(const std::string& value) const;
};

// Every setting, in config.json's order.
const std::vector<TrainSetting>& train_settings();
// The setting named by its key ("lr_schedule") or flag spelling ("lr-schedule", "rnn-impl");
// nullptr when there is none.
const TrainSetting* find_train_setting(const std::string& name);
// A setting's value as text, as its flag takes it: "lstm", "64", "0.001" (shortest form that
// reads back the same number), "true".
std::string setting_text(const TrainConfig& config, const std::string& key);
// Sets one setting from text as a flag would. Throws s2s::Error for an unknown key or a value of
// the wrong kind ("layers must be a whole number, got '1.5'"; an enum's parser message); ranges
// are validate_settings()'s.
void set_setting(TrainConfig& config, const std::string& key, const std::string& value);

// The settings that define what a run trains, as config.json keys: the model (cell, layers,
// hidden: also the embedding width, attention, input_feeding, bidirectional) and the data and
// the order it is seen in (train: also the vocabulary; valid: best.pt and early stopping compare
// its numbers across epochs; batch, bucket_pool and seed: which rows each step of an epoch
// takes). A resumed run must keep them. Every other setting may change on resume and is
// recorded in config.json and the checkpoints: epochs, patience, the learning rate and its
// schedule, dropout, teacher forcing, clip, threads, log_every, valid_batch, and rnn-impl and
// precision (the weights are f32 in PyTorch's layout whichever code runs them).
const std::vector<std::string>& run_defining_settings();

// A run-defining setting that differs between a run and the configuration meant to continue it.
struct SettingChange {
  std::string key;        // config.json key, e.g. "input_feeding"
  std::string run_value;  // as the run has it (JSON text; strings without quotes)
  std::string new_value;
  std::string flag() const;  // the command-line flag, e.g. "--input-feeding"
};

// The run-defining settings in which `resumed` differs from `run`. File paths are the same when
// their text is, or when both name the same existing file.
std::vector<SettingChange> run_defining_changes(const TrainConfig& run, const TrainConfig& resumed);

// The files of a run directory.
namespace run_files {
inline constexpr const char* kConfig = "config.json";
inline constexpr const char* kMetrics = "metrics.jsonl";
inline constexpr const char* kSteps = "steps.jsonl";
inline constexpr const char* kSummary = "summary.json";
inline constexpr const char* kLastCheckpoint = "last.pt";
inline constexpr const char* kBestCheckpoint = "best.pt";
}  // namespace run_files

// Where a run stands. Training ends in one of the last four (summary.json's "stop_reason");
// a reader also sees runs that have not started (no files) or are running (no summary yet).
enum class RunStatus { NotStarted, Running, Completed, EarlyStopping, Interrupted, NonFiniteLoss };
// "not_started", "running", "completed", "early_stopping", "interrupted", "non_finite_loss".
std::string to_string(RunStatus status);
// summary.json's "stop_reason", including other writers' words ("patience", "overfit": early
// stopping; "nan": non-finite loss; "error": interrupted); any other word reads as Completed.
RunStatus parse_stop_reason(const std::string& reason);
// For people: "not started", "running", "finished", "stopped early", "stopped".
const char* display_name(RunStatus status);
// Completed, stopped early or by a non-finite loss: nothing left to train or resume.
bool has_ended(RunStatus status);

// One line of DIR/metrics.jsonl: an epoch's training and validation numbers. Fields a reader
// did not find are NaN (NaN is written as null).
struct EpochRecord {
  int epoch = 0;
  double train_loss, train_token_acc, train_seq_acc;
  double valid_loss, valid_token_acc, valid_seq_acc;
  double epoch_seconds;  // train + validation wall time
  double train_pairs_per_second;
  double lr;                    // the learning rate of the epoch's last step
  double elapsed_seconds;       // since the run started, across resumes
  EpochRecord();                // every number NaN
  std::string to_json() const;  // one line, no newline, every field
  // Tolerant: nullopt for anything that is not a JSON object with an integer `epoch` >= 0
  // (blank lines, garbage, truncated JSON); missing or non-numeric fields are NaN.
  static std::optional<EpochRecord> parse(const std::string& line);
};

// DIR/summary.json: how the run ended. The trainer writes every field; readers get what a file
// has (older, partial or foreign files still load).
struct RunSummary {
  RunStatus status = RunStatus::Completed;
  std::string stop_reason;  // as written (foreign words kept for display)
  std::optional<int> epochs_completed;
  std::optional<int> best_epoch;
  std::optional<EpochRecord> best_metrics;
  std::optional<int> overfit_epoch;  // "overfitting_epoch"; null or 0 in the file: none
  std::optional<int> min_valid_loss_epoch;
  std::optional<double> total_seconds;
  std::string to_json() const;  // pretty JSON, no trailing newline
  static std::optional<RunSummary> parse(const std::string& text);  // nullopt: not an object
};

// DIR/summary.json read (nullopt when missing, too large or not a JSON object).
std::optional<RunSummary> read_summary(const std::filesystem::path& dir);
// The run's status from its files: summary.json if written; else Running if the run has any
// file, NotStarted if none.
RunStatus read_status(const std::filesystem::path& dir);

// One line of DIR/steps.jsonl: the training loss between two log points.
struct StepRecord {
  int64_t step = 0;           // optimizer steps since the run started (across epochs and resumes)
  int64_t epoch = 0;          // the epoch this step belongs to (1-based)
  double epoch_fraction = 0;  // epoch - 1 + (step within the epoch) / (steps per epoch)
  double train_loss = 0;      // per target token, over the steps since the previous record
  double tokens_per_second = 0;  // target tokens trained per second over those steps
  double lr = 0;                 // learning rate of the last of those steps
  std::string to_json() const;   // one line, no newline
  // Tolerant: nullopt for anything that is not an object with integer step and epoch and a
  // numeric train_loss (a line cut by a crash, garbage); other missing fields read as 0.
  static std::optional<StepRecord> parse(const std::string& line);
};

}  // namespace s2s
