#include "report/course_reference.h"

#include "report/plan.h"

namespace s2s::report {

std::optional<CourseFigure> course_figure(const RunParams& params, int64_t data_scale) {
  const std::string layers = param_or(params, "layers", "4");
  const std::string dropout = param_or(params, "dropout", "0");
  const std::string n = std::to_string(
      std::stoll(param_or(params, "train_size", std::to_string(kDefaultTrainSize))) * data_scale);
  if (param_or(params, "cell", "gru") != "gru") return std::nullopt;
  if (n == "2800") {
    if (layers == "1" && dropout == "0") return CourseFigure{"1 layer, dropout 0", 1900, 0.60};
    if (layers == "4" && dropout == "0") return CourseFigure{"4 layers, dropout 0", 600, 0.58};
    if (layers == "4" && dropout == "0.8")
      return CourseFigure{"4 layers, dropout 0.8, 2800 pairs", 1700, 0.812};
  }
  if (n == "14000" && layers == "4" && dropout == "0.8")
    return CourseFigure{"14000 training pairs", std::nullopt, 0.997};
  return std::nullopt;
}

}  // namespace s2s::report
