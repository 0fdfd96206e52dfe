#include "report/plot_groups.h"

#include <fmt/core.h>

#include "report/conclusions.h"

#include <map>
#include <set>

namespace s2s::report {
namespace {

const std::set<std::string> kModelKeys = {"layers", "hidden", "cell", "dropout"};

struct Kind {
  std::string name;
  std::string slug;
  std::set<std::string> keys;  // the keys that vary within one chart
};

std::string describe(const RunParams& fixed) {
  std::string text;
  for (const auto& [key, value] : fixed) {
    if (!text.empty()) text += ", ";
    text += key == "train_size" ? value + " training pairs" : key + " " + value;
  }
  return text.empty() ? "all runs" : text;
}

}  // namespace

std::vector<PlotGroup> plot_groups(const Plan& plan) {
  std::vector<std::string> varying;  // keys that take more than one value among the runs
  if (!plan.runs.empty())
    for (const auto& kv : plan.runs.front().params) {
      std::set<std::string> values;
      for (const RunSpec& r : plan.runs) values.insert(param_or(r.params, kv.first, ""));
      if (values.size() > 1) varying.push_back(kv.first);
    }

  std::vector<Kind> kinds;
  Kind model{"Model size and dropout", "model", {}};
  for (const std::string& key : varying)
    if (kModelKeys.count(key) != 0) model.keys.insert(key);
  if (!model.keys.empty()) kinds.push_back(model);
  for (const std::string& key : varying) {
    if (kModelKeys.count(key) != 0) continue;
    if (key == "train_size")
      kinds.push_back({"Dataset size", "data", {key}});
    else
      kinds.push_back({key, key, {key}});
  }

  std::vector<PlotGroup> groups;
  for (const Kind& kind : kinds) {
    // Runs with equal values of every other key share one chart.
    std::map<RunParams, std::vector<std::size_t>> by_rest;
    std::vector<RunParams> order;
    for (std::size_t i = 0; i < plan.runs.size(); ++i) {
      RunParams rest;
      for (const auto& kv : plan.runs[i].params)
        if (kind.keys.count(kv.first) == 0) rest.push_back(kv);
      if (by_rest.count(rest) == 0) order.push_back(rest);
      by_rest[rest].push_back(i);
    }
    for (const RunParams& rest : order) {
      if (by_rest[rest].size() < 2) continue;
      RunParams shown;  // only the varying keys say which chart this is
      for (const auto& kv : rest)
        for (const std::string& key : varying)
          if (kv.first == key) shown.push_back(kv);
      const std::string suffix = shown.empty() ? "all" : run_name(shown);
      groups.push_back({kind.name, describe(shown),
                        fmt::format("plots/{}-{}.png", kind.slug, suffix), by_rest[rest]});
    }
  }
  return groups;
}

std::string pair_plot_file(const std::string& low, const std::string& high) {
  return fmt::format("plots/pair-{}-vs-{}.png", low, high);
}

std::vector<PlotGroup> pair_plot_groups(const Plan& plan) {
  std::vector<Observation> runs;
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < plan.runs.size(); ++i) {
    Observation o;
    o.name = plan.runs[i].name;
    o.params = plan.runs[i].params;
    runs.push_back(std::move(o));
    index[plan.runs[i].name] = i;
  }
  std::vector<PlotGroup> groups;
  for (const ComparedRuns& pair : compared_pairs(runs))
    groups.push_back({kComparedPairKind,
                      fmt::format("{} vs {}", pair.low, pair.high),
                      pair_plot_file(pair.low, pair.high),
                      {index.at(pair.low), index.at(pair.high)}});
  return groups;
}

}  // namespace s2s::report
