#include "report/report.h"

#include <fmt/core.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <fstream>

#include "report/course_reference.h"
#include "report/document.h"
#include "s2s/file_io.h"

namespace s2s::report {
namespace {

std::string percent(double x) {
  return std::isnan(x) ? "-" : fmt::format("{:.1f}%", 100 * x);
}

std::string rule_text(const OverfitRule& rule) {
  return fmt::format(
      "the epoch of the lowest validation loss, when at least {} epochs follow it, the median "
      "validation loss of the last {} epochs is more than {:.0f}% (and {}) above that minimum, "
      "and the training loss is still lower at the end than at that epoch",
      rule.patience, rule.patience, 100 * rule.min_rise, rule.min_rise_abs);
}

std::vector<std::string> param_keys(const std::vector<RunView>& runs) {
  std::vector<std::string> keys;
  if (!runs.empty())
    for (const auto& kv : runs.front().spec->params) keys.push_back(kv.first);
  return keys;
}

// Under a claim, the chart of each pair it compared: the two runs' curves with their best and
// overfitting epochs marked, which is what the verdict reads.
void add_pair_charts(std::vector<Block>& doc, const Conclusion& c,
                     const std::vector<PlotView>& plots) {
  for (const ComparedRuns& pair : c.compared) {
    const std::string file = pair_plot_file(pair.low, pair.high);
    const auto p = std::find_if(plots.begin(), plots.end(),
                                [&](const PlotView& v) { return v.group.file == file; });
    if (p == plots.end() || !p->made) continue;
    doc.push_back({Block::Image, 0, p->group.title, {}, {}, file});
  }
}

}  // namespace

std::string status_of(const RunView& run) {
  if (!run.live.empty()) return run.live;
  const RunResult& r = run.result;
  if (has_ended(r.status))
    return r.stop_reason.empty() ? "finished" : "finished (" + r.stop_reason + ")";
  if (r.resumable) return "interrupted";
  return r.epochs.empty() ? "pending" : "incomplete";
}

void add_curves(std::vector<Block>& doc, const std::vector<PlotView>& plots,
                const std::vector<std::string>& run_names) {
  doc.push_back({Block::Heading, 2, "Curves", {}, {}, {}});
  if (std::none_of(plots.begin(), plots.end(),
                   [](const PlotView& p) { return p.group.kind != kComparedPairKind; }))
    doc.push_back({Block::Paragraph,
                   0,
                   "No two runs differ in a way the course compares; no charts.",
                   {},
                   {},
                   {}});
  std::string kind;
  for (const PlotView& p : plots) {
    if (p.group.kind == kComparedPairKind) continue;
    if (p.group.kind != kind) {
      kind = p.group.kind;
      doc.push_back({Block::Heading, 3, kind, {}, {}, {}});
    }
    std::string runs;
    for (std::size_t i : p.group.runs) runs += (runs.empty() ? "" : ", ") + run_names[i];
    const std::string caption = fmt::format("{}: {}", p.group.title, runs);
    if (p.made)
      doc.push_back({Block::Image, 0, caption, {}, {}, p.group.file});
    else
      doc.push_back({Block::Paragraph,
                     0,
                     fmt::format("{} (chart not made: {})", caption,
                                 p.error.empty() ? "no epochs yet" : p.error),
                     {},
                     {},
                     {}});
  }
}

std::vector<Observation> observations(const std::vector<RunView>& runs) {
  std::vector<Observation> out;
  for (const RunView& run : runs) {
    Observation o;
    o.name = run.spec->name;
    o.params = run.spec->params;
    o.finished = has_ended(run.result.status) && run.live.empty();
    if (run.result.best) o.seq_acc = run.result.best->valid_seq_acc;
    o.overfit_epoch = run.result.overfit_epoch;
    o.epochs_run = run.result.epochs.empty() ? 0 : run.result.epochs.back().epoch;
    out.push_back(std::move(o));
  }
  return out;
}

Report render_report(const ReportInput& in) {
  std::vector<Block> doc;
  const auto heading = [&](int level, std::string text) {
    doc.push_back({Block::Heading, level, std::move(text), {}, {}, {}});
  };
  const auto para = [&](std::string text) {
    doc.push_back({Block::Paragraph, 0, std::move(text), {}, {}, {}});
  };
  const auto list = [&](std::vector<std::string> items) {
    if (!items.empty()) doc.push_back({Block::List, 0, {}, std::move(items), {}, {}});
  };

  std::size_t finished = 0;
  double training_seconds = 0;
  for (const RunView& r : in.runs) {
    if (has_ended(r.result.status) && r.live.empty()) ++finished;
    training_seconds += r.result.wall_seconds;
  }

  heading(1, "s2s experiment: " + in.title);
  para(fmt::format(
      "{} of {} runs finished; {} of training so far (all runs). Updated {}. "
      "Machine: {}.",
      finished, in.runs.size(), format_duration(training_seconds), in.updated, in.machine));
  para("Reproduce, or resume after an interruption (finished runs are skipped):");
  doc.push_back({Block::Code, 0, in.command, {}, {}, {}});

  heading(2, "Budget");
  para(in.budget);
  list(in.notes);

  heading(2, "Results");
  Block table{Block::Table, 0, {}, {"run"}, {}, {}};
  const std::vector<std::string> keys = param_keys(in.runs);
  for (const std::string& k : keys) table.items.push_back(k == "train_size" ? "train pairs" : k);
  const std::string course =
      in.course_data_scale == 1 ? "course" : fmt::format("course ({}x data)", in.course_data_scale);
  for (const char* h : {"status", "best valid seq acc", "valid token acc", "best epoch",
                        "overfit epoch", "epochs run", "wall time"})
    table.items.emplace_back(h);
  table.items.push_back(course + ": overfits at");
  table.items.push_back(course + ": accuracy");
  for (const RunView& run : in.runs) {
    const RunResult& r = run.result;
    std::vector<std::string> row{run.spec->name};
    for (const std::string& k : keys) row.push_back(param_or(run.spec->params, k, ""));
    row.push_back(status_of(run));
    row.push_back(r.best ? percent(r.best->valid_seq_acc) : "-");
    row.push_back(r.best ? percent(r.best->valid_token_acc) : "-");
    row.push_back(r.best_epoch ? std::to_string(*r.best_epoch) : "-");
    row.push_back(r.overfit_epoch    ? std::to_string(*r.overfit_epoch)
                  : r.epochs.empty() ? "-"
                                     : "none");
    row.push_back(r.epochs.empty() ? "0" : std::to_string(r.epochs.back().epoch));
    row.push_back(r.epochs.empty() ? "-" : format_duration(r.wall_seconds));
    const auto figure = course_figure(run.spec->params, in.course_data_scale);
    row.push_back(!figure                 ? "-"
                  : figure->overfit_epoch ? fmt::format("~{}", *figure->overfit_epoch)
                                          : "does not overfit");
    row.push_back(figure ? "~" + percent(figure->seq_acc) : "-");
    table.rows.push_back(std::move(row));
  }
  doc.push_back(std::move(table));
  para(
      "Accuracy is exact-match sequence accuracy on the validation set (1/5 the size of the "
      "training set) at the best epoch, the one with the highest validation sequence accuracy; "
      "token accuracy is at the same epoch. Overfit epoch: " +
      rule_text(in.rule) +
      "; \"none\" means no overfitting within the epochs run. The course's figures come from "
      "its own runs of up to 2000 epochs; its model rows are on 2800 training pairs" +
      (in.course_data_scale == 1
           ? std::string(".")
           : fmt::format(", so here they sit beside the runs on {}x fewer pairs (the course's "
                         "2800 and 14000 pairs beside {} and {}).",
                         in.course_data_scale, 2800 / in.course_data_scale,
                         14000 / in.course_data_scale)));

  heading(2, "The course's conclusions, judged from these numbers");
  para(
      "Generated from the table: each claim is checked on every pair of finished runs that "
      "differ in one setting only; accuracies within half a percentage point count as a tie, "
      "and a run that did not overfit counts as overfitting later only if it ran past the "
      "other's overfitting epoch. Under each claim, the chart of each pair it compared: "
      "training (dashed) and validation (solid) curves per run, the best epoch dotted and the "
      "overfitting epoch in long dashes.");
  for (const Conclusion& c : judge_course_conclusions(observations(in.runs))) {
    heading(3, fmt::format("{}: {}", to_string(c.verdict), c.claim));
    para(c.summary);
    list(c.evidence);
    add_pair_charts(doc, c, in.plots);
  }

  std::vector<std::string> names;
  for (const RunView& run : in.runs) names.push_back(run.spec->name);
  add_curves(doc, in.plots, names);

  Report report;
  report.markdown = to_markdown(doc);
  report.html = to_html(doc, "s2s experiment: " + in.title);
  return report;
}

void write_report(const std::filesystem::path& dir, const Report& report) {
  write_file_atomic((dir / "REPORT.md").string(), report.markdown);
  write_file_atomic((dir / "REPORT.html").string(), report.html);
}

std::string machine_description() {
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  std::string cpu = "unknown CPU";
  std::ifstream info("/proc/cpuinfo");
  std::string line;
  while (std::getline(info, line))
    if (line.rfind("model name", 0) == 0) {
      cpu = line.substr(line.find(':') + 2);
      break;
    }
  return fmt::format("{}, {}, {} cores", host, cpu, available_cores());
}

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

std::string format_duration(double seconds) {
  const long s = std::lround(seconds);
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
}

}  // namespace s2s::report
