#include "report/task_report.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace s2s::report {
namespace {

std::string percent(double x) {
  return std::isnan(x) ? "-" : fmt::format("{:.1f}%", 100 * x);
}

// One argument as a POSIX shell reads it back unchanged.
std::string shell_quote(const std::string& arg) {
  const bool plain = !arg.empty() && arg.find_first_not_of(
                                         "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                         "0123456789_./:=,+-@%") == std::string::npos;
  if (plain) return arg;
  std::string out = "'";
  for (char c : arg) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string command_line(const std::vector<std::string>& args) {
  std::string line = "s2s";
  for (const std::string& a : args) line += " " + shell_quote(a);
  return line;
}

std::string row_status(const TaskRow& row) {
  if (!row.eval_status.empty()) return row.eval_status;
  if (!row.run.live.empty() || !has_ended(row.run.result.status)) return status_of(row.run);
  return row.valid ? "evaluated" : "to evaluate";
}

// The numbers of one split: sentence and token error rates, exact match, token accuracy.
void add_numbers(std::vector<std::string>& cells, const std::optional<EvalNumbers>& n) {
  cells.push_back(n ? percent(n->sentence_error_rate) : "-");
  cells.push_back(n ? percent(n->token_error_rate) : "-");
  cells.push_back(n ? percent(n->exact_match) : "-");
  cells.push_back(n ? percent(n->token_acc) : "-");
}

}  // namespace

std::vector<std::size_t> rank_rows(const std::vector<TaskRow>& rows, Metric metric) {
  std::vector<std::size_t> order(rows.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  const bool higher = higher_is_better(metric);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const auto& x = rows[a].valid;
    const auto& y = rows[b].valid;
    if (!x || !y) return x.has_value() && !y.has_value();
    const double u = x->value(metric);
    const double v = y->value(metric);
    return higher ? u > v : u < v;
  });
  return order;
}

std::string best_commands(const ExperimentOptions& options, const Plan& plan,
                          const EvalSpec& eval) {
  const RunSpec& run = plan.runs.at(eval.run);
  const std::filesystem::path out = options.out / "best";
  std::vector<std::string> train = train_args(options, plan, run, false);
  for (std::size_t i = 0; i + 1 < train.size(); ++i) {
    if (train[i] == "--out") train[i + 1] = out.string();
    if (train[i] == "--threads") {  // the experiment's share of the cores; alone: automatic
      train.erase(train.begin() + static_cast<std::ptrdiff_t>(i),
                  train.begin() + static_cast<std::ptrdiff_t>(i) + 2);
      --i;
    }
  }
  const std::filesystem::path data =
      options.test_file.empty() ? options.valid_file : options.test_file;
  const std::vector<std::string> evaluate{"eval",
                                          "--model",
                                          (out / "best.pt").string(),
                                          "--data",
                                          data.string(),
                                          "--beam",
                                          std::to_string(eval.search.beam),
                                          "--length-penalty",
                                          eval.search.length_penalty.to_string()};
  return command_line(train) + "\n" + command_line(evaluate);
}

Report render_task_report(const TaskReportInput& in) {
  const ExperimentOptions& options = *in.options;
  const Metric metric = options.metric;
  const bool with_test = !options.test_file.empty();
  std::vector<Block> doc;
  const auto heading = [&](int level, std::string text) {
    doc.push_back({Block::Heading, level, std::move(text), {}, {}, {}});
  };
  const auto para = [&](std::string text) {
    doc.push_back({Block::Paragraph, 0, std::move(text), {}, {}, {}});
  };
  const auto code = [&](std::string text) {
    doc.push_back({Block::Code, 0, std::move(text), {}, {}, {}});
  };

  std::size_t evaluated = 0;
  for (const TaskRow& row : in.rows) evaluated += row.valid ? 1 : 0;
  double training_seconds = 0;
  for (const RunSpec& run : in.plan->runs)
    for (const TaskRow& row : in.rows)
      if (row.run.spec == &run) {
        training_seconds += row.run.result.wall_seconds;
        break;
      }

  const std::string title = "s2s experiment on " + options.train_file.string();
  heading(1, title);
  para(fmt::format(
      "{} of {} configurations evaluated ({} trainings: configurations that differ only in "
      "decoding share one); {} of training so far. Updated {}. Machine: {}.",
      evaluated, in.rows.size(), in.plan->runs.size(), format_duration(training_seconds),
      in.updated, in.machine));
  para("Reproduce, or resume after an interruption (finished runs and evaluations are skipped):");
  code(options.command);

  heading(2, "Data");
  std::vector<std::string> data{
      fmt::format("train: {}{}", options.train_file.string(),
                  !in.plan->data.empty() && in.plan->data.front().source == DataSpec::Source::Subset
                      ? fmt::format(" (train_size: the first N rows of one shuffle seeded with "
                                    "--data-seed {}, so smaller subsets are inside larger ones; "
                                    "written to {})",
                                    options.data_seed, (options.out / "data").string())
                      : ""),
      "valid: " + options.valid_file.string() + " (ranks the runs; picks each run's best.pt)"};
  if (with_test)
    data.push_back("test: " + options.test_file.string() + " (shown, never used to choose)");
  doc.push_back({Block::List, 0, {}, data, {}, {}});

  heading(2, "Budget");
  para(in.budget);
  if (!in.plan->notes.empty()) doc.push_back({Block::List, 0, {}, in.plan->notes, {}, {}});

  const std::vector<std::size_t> order = rank_rows(in.rows, metric);
  heading(2, "Results");
  Block table{Block::Table, 0, {}, {"rank", "run"}, {}, {}};
  RunParams first;
  if (!in.rows.empty()) {
    first = in.rows.front().run.spec->params;
    for (const auto& kv : in.rows.front().eval->decode) first.push_back(kv);
  }
  for (const auto& kv : first)
    table.items.push_back(kv.first == "train_size" ? "train pairs" : kv.first);
  table.items.emplace_back("status");
  for (const char* split : {"valid", "test"}) {
    if (std::string(split) == "test" && !with_test) continue;
    for (const char* h : {"SER", "TER", "exact match", "token acc"})
      table.items.push_back(fmt::format("{} {}", split, h));
  }
  for (const char* h : {"best epoch", "epochs run", "training time"}) table.items.emplace_back(h);
  std::size_t rank = 0;
  for (std::size_t i : order) {
    const TaskRow& row = in.rows[i];
    const RunResult& r = row.run.result;
    std::vector<std::string> cells{row.valid ? std::to_string(++rank) : "-", row.eval->name};
    for (const auto& kv : first) {
      const std::string value = param_or(row.run.spec->params, kv.first, "");
      cells.push_back(value.empty() ? param_or(row.eval->decode, kv.first, "") : value);
    }
    cells.push_back(row_status(row));
    add_numbers(cells, row.valid);
    if (with_test) add_numbers(cells, row.test);
    cells.push_back(r.best_epoch ? std::to_string(*r.best_epoch) : "-");
    cells.push_back(r.epochs.empty() ? "0" : std::to_string(r.epochs.back().epoch));
    cells.push_back(r.epochs.empty() ? "-" : format_duration(r.wall_seconds));
    table.rows.push_back(std::move(cells));
  }
  doc.push_back(std::move(table));
  para(fmt::format(
      "Ranked by {} on valid ({} is better). SER (sentence error rate): the share of distinct "
      "sources whose decoding, with the run's beam and length penalty, equals none of their "
      "targets; TER (token error rate): edit distance to the closest target over its length. "
      "Exact match and token accuracy: greedy decoding against each row's target, as training "
      "validates. All from `s2s eval` on the run's best.pt (its best validation exact-match "
      "epoch).",
      to_string(metric), higher_is_better(metric) ? "higher" : "lower"));

  heading(2, "Best configuration");
  if (order.empty() || !in.rows[order.front()].valid) {
    para("No configuration evaluated yet.");
  } else {
    const TaskRow& best = in.rows[order.front()];
    para(fmt::format("{}: {} {} on valid. Its model is {}; to train it again and evaluate it{}:",
                     best.eval->name, to_string(metric),
                     metric == Metric::Loss ? fmt::format("{:.4f}", best.valid->value(metric))
                                            : percent(best.valid->value(metric)),
                     (best.run.spec->dir / "best.pt").string(), with_test ? " on test" : ""));
    code(best_commands(options, *in.plan, *best.eval));
  }

  std::vector<std::string> names;
  for (const RunSpec& run : in.plan->runs) names.push_back(run.name);
  add_curves(doc, in.plots, names);

  Report report;
  report.markdown = to_markdown(doc);
  report.html = to_html(doc, title);
  return report;
}

}  // namespace s2s::report
