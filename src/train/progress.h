// What a training run tells the person watching it: a progress bar on a terminal, one line per
// epoch, and one line saying why it stopped and how to continue.
#pragma once

#include <cstdint>
#include <string>

#include "s2s/metrics.h"
#include "s2s/trainer.h"

namespace s2s {

class ProgressReporter {
 public:
  ProgressReporter(const TrainOptions& options, const TrainConfig& config);

  // After every optimizer step: redraws the bar (terminals only). `last_epoch`: the epoch the
  // run ends with (--epochs, or --time-budget's plan).
  void step(int64_t epoch, int64_t last_epoch, int64_t step, int64_t steps, double loss,
            double seconds);
  // After validation.
  void epoch(const EpochRecord& m, int64_t last_epoch, bool best);
  void note(const std::string& line);  // any other message, one line
  void non_finite_loss(int64_t epoch, int64_t step, double loss, int64_t kept_epoch);
  void interrupted(int64_t epoch, int64_t step, int64_t steps);  // step == steps: at its end
  void early_stop(int64_t min_loss_epoch);

 private:
  void end_bar();
  const TrainOptions& options_;
  const TrainConfig& config_;
  bool bar_open_ = false;
};

}  // namespace s2s
