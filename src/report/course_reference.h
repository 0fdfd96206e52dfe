// The course's reported figures (docs/MISSION.md, "The analysis"), to print beside ours.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "report/grid.h"

namespace s2s::report {

struct CourseFigure {
  std::string setup;                 // the course's row label
  std::optional<int> overfit_epoch;  // none: "does not overfit"
  double seq_acc = 0;                // accuracy when it overfits (or at the end)
};

// The course's figure for the run with these parameters, if it reported one. The course's
// model rows (1 layer, 4 layers, 4 layers + dropout 0.8) are on 2800 training pairs: its
// "4 layers, dropout 0.8" row and its "2800 training pairs" row are the same run (~1700 epochs,
// ~81%). Its 14000-pair row is the 4-layer, dropout-0.8 model. A study on 1/data_scale of the
// course's data matches its runs to the course's by train_size x data_scale.
std::optional<CourseFigure> course_figure(const RunParams& params, int64_t data_scale = 1);

}  // namespace s2s::report
