#include "train/step_log.h"

#include <sstream>

#include "s2s/file_io.h"
#include "s2s/run_record.h"

namespace s2s {

StepLog::StepLog(const std::string& path, int64_t every, int64_t done_steps) : every_(every) {
  if (every_ <= 0) return;
  std::string kept;
  if (done_steps > 0) {
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) {
      const auto r = StepRecord::parse(line);
      if (r && r->step <= done_steps) kept += r->to_json() + "\n";
    }
  }
  write_file_atomic(path, kept);
  out_.open(path, std::ios::app);
}

void StepLog::add(RunState& state, const StepResult& result, double seconds, int64_t step,
                  int64_t epoch, int64_t step_in_epoch, int64_t steps, double lr) {
  if (every_ <= 0) return;
  state.window.loss_sum += result.loss * static_cast<double>(result.tokens);
  state.window.tokens += result.tokens;
  state.window_seconds += seconds;
  if (step % every_ != 0) return;
  StepRecord r;
  r.step = step;
  r.epoch = epoch;
  r.epoch_fraction = static_cast<double>(epoch - 1) +
                     static_cast<double>(step_in_epoch) / static_cast<double>(steps);
  r.train_loss = state.window.loss();
  r.tokens_per_second = state.window_seconds > 0
                            ? static_cast<double>(state.window.tokens) / state.window_seconds
                            : 0.0;
  r.lr = lr;
  out_ << r.to_json() << "\n" << std::flush;
  state.window = Tally{};
  state.window_seconds = 0;
}

}  // namespace s2s
