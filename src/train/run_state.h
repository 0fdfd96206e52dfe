// What a checkpoint needs to continue a run exactly where it stopped, and the checkpoints
// themselves (DIR/last.pt after every epoch and on a stop, DIR/best.pt for the best epoch).
#pragma once

#include <cstdint>
#include <string>

#include "s2s/checkpoint.h"
#include "s2s/metrics.h"
#include "s2s/run_record.h"
#include "train/scheduler.h"
#include "train/weight_smoothing.h"

namespace torch::optim {
class Optimizer;
}

namespace s2s {

struct RunState {
  int64_t epoch = 0;  // epochs completed
  int64_t step = 0;   // optimizer steps done in epoch + 1 (an interrupted epoch)
  Tally partial;      // training tally of those steps
  double partial_seconds = 0;
  double elapsed_seconds = 0;
  ScheduleState schedule;
  Tally window;  // the steps since the last DIR/steps.jsonl record
  double window_seconds = 0;

  // After an optimizer step that took `seconds` (its tally is already in `partial`).
  void step_done(double seconds) {
    ++step;
    partial_seconds += seconds;
  }
  // After validating `epoch`: the next one starts from scratch.
  void epoch_done(int64_t done, double elapsed) {
    epoch = done;
    step = 0;
    partial = Tally{};
    partial_seconds = 0;
    elapsed_seconds = elapsed;
  }

  std::string to_json() const;
  // Reads what to_json wrote, and the state of checkpoints written before schedules and the
  // step log (their fields keep their defaults). Throws s2s::Error naming `source`.
  static RunState from_json(const std::string& json, const std::string& source);
};

// Writes the run's checkpoints, each with the configuration and the state it was taken in.
class Checkpointer {
 public:
  // With `smoothing`, a checkpoint's model is the smoothed weights and it also holds the trained
  // ones (save_checkpoint's `trained`).
  Checkpointer(const TrainConfig& config, Seq2Seq& model, const Vocab& vocab,
               torch::optim::Optimizer& optimizer, WeightSmoothing* smoothing = nullptr);
  std::string last_path() const;
  std::string best_path() const;
  void save_last(const RunState& state);
  // A new best epoch's end: best.pt, then last.pt (the commit point), one checkpoint written
  // once under both names.
  void save_best_and_last(const RunState& state);

 private:
  void save(const std::vector<std::string>& paths, const RunState& state);
  const TrainConfig& config_;
  Seq2Seq& model_;
  const Vocab& vocab_;
  torch::optim::Optimizer& optimizer_;
  WeightSmoothing* smoothing_;
  CheckpointBuffer buffer_;  // reused by every save of the run
};

}  // namespace s2s
