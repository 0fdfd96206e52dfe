#include "report/conclusions.h"

#include <fmt/core.h>

#include <algorithm>
#include <functional>

namespace s2s::report {
namespace {

enum class Outcome { Supports, Contradicts, Inconclusive };

struct Pair {
  const Observation* low;   // lower value of the axis
  const Observation* high;  // higher value
};

// Pairs of runs equal in every key but `axis`, both passing `keep`, ordered by the axis value.
std::vector<Pair> pairs_along(const std::vector<Observation>& runs, const std::string& axis,
                              const std::function<bool(const Observation&)>& keep) {
  std::vector<Pair> pairs;
  for (const Observation& a : runs)
    for (const Observation& b : runs) {
      if (&a == &b || !keep(a) || !keep(b) || a.params.size() != b.params.size()) continue;
      bool only_axis_differs = true;
      bool axis_differs = false;
      for (std::size_t i = 0; i < a.params.size(); ++i) {
        if (a.params[i].first != b.params[i].first) only_axis_differs = false;
        if (a.params[i].second == b.params[i].second) continue;
        if (a.params[i].first == axis)
          axis_differs = std::stod(a.params[i].second) < std::stod(b.params[i].second);
        else
          only_axis_differs = false;
      }
      if (only_axis_differs && axis_differs) pairs.push_back({&a, &b});
    }
  return pairs;
}

std::string overfit_text(const Observation& r) {
  return r.overfit_epoch ? fmt::format("overfits at epoch {}", *r.overfit_epoch)
                         : fmt::format("does not overfit in {} epochs", r.epochs_run);
}

// Does `later` overfit later than `sooner`? A run that did not overfit counts as later only if it
// ran past the other's overfitting epoch.
Outcome overfits_later(const Observation& later, const Observation& sooner) {
  if (sooner.overfit_epoch) {
    if (later.overfit_epoch)
      return *later.overfit_epoch > *sooner.overfit_epoch ? Outcome::Supports
                                                          : Outcome::Contradicts;
    return later.epochs_run > *sooner.overfit_epoch ? Outcome::Supports : Outcome::Inconclusive;
  }
  if (later.overfit_epoch && sooner.epochs_run > *later.overfit_epoch) return Outcome::Contradicts;
  return Outcome::Inconclusive;
}

const char* outcome_text(Outcome o) {
  switch (o) {
    case Outcome::Supports:
      return "supports";
    case Outcome::Contradicts:
      return "contradicts";
    case Outcome::Inconclusive:
      return "inconclusive";
  }
  return "?";
}

struct Claim {
  std::string text;
  std::string axis;
  std::function<bool(const Observation&)> keep;
  // Judges one pair; fills in the evidence line.
  std::function<Outcome(const Pair&, std::string&)> judge;
};

Conclusion judge_claim(const Claim& claim, const std::vector<Observation>& all) {
  Conclusion c;
  c.claim = claim.text;
  const std::vector<Pair> pairs = pairs_along(all, claim.axis, claim.keep);
  int supports = 0, contradicts = 0, inconclusive = 0, pending = 0;
  for (const Pair& p : pairs) {
    c.compared.push_back({p.low->name, p.high->name});
    if (!p.low->finished || !p.high->finished) {
      ++pending;
      c.evidence.push_back(
          fmt::format("{} vs {}: not both finished yet", p.high->name, p.low->name));
      continue;
    }
    std::string line;
    const Outcome o = claim.judge(p, line);
    (o == Outcome::Supports ? supports : o == Outcome::Contradicts ? contradicts : inconclusive)++;
    c.evidence.push_back(fmt::format("{}: {}", line, outcome_text(o)));
  }
  const int judged = supports + contradicts + inconclusive;
  if (pairs.empty()) {
    c.verdict = Verdict::NotTested;
    c.summary =
        fmt::format("Not tested: the grid has no two runs that differ only in {}.", claim.axis);
    return c;
  }
  if (supports > 0 && contradicts == 0)
    c.verdict = Verdict::Supported;
  else if (contradicts > 0 && supports == 0)
    c.verdict = Verdict::Contradicted;
  else if (supports > 0 && contradicts > 0)
    c.verdict = Verdict::Mixed;
  else
    c.verdict = Verdict::Inconclusive;
  c.summary = fmt::format(
      "{}: {} of {} comparisons support it, {} contradict it, {} are "
      "inconclusive{}.",
      to_string(c.verdict), supports, judged, contradicts, inconclusive,
      pending > 0 ? fmt::format(" ({} still waiting for runs)", pending) : "");
  return c;
}

bool deep(const Observation& r) {
  return std::stoi(param_or(r.params, "layers", "4")) > 1;
}
bool no_dropout(const Observation& r) {
  return std::stod(param_or(r.params, "dropout", "0")) == 0;
}
bool any(const Observation&) {
  return true;
}

std::string acc(const Observation& r) {
  return r.seq_acc ? fmt::format("{:.1f}%", 100 * *r.seq_acc) : "no accuracy";
}

}  // namespace

const char* to_string(Verdict verdict) {
  switch (verdict) {
    case Verdict::Supported:
      return "Supported";
    case Verdict::Contradicted:
      return "Contradicted";
    case Verdict::Mixed:
      return "Mixed";
    case Verdict::Inconclusive:
      return "Inconclusive";
    case Verdict::NotTested:
      return "Not tested";
  }
  return "?";
}

namespace {

// The course's five claims, each with the axis it varies, the runs it applies to and how one
// pair is judged. `options` must outlive the claims.
std::vector<Claim> course_claims(const JudgeOptions& options) {
  const auto higher_acc = [&options](const Observation& better, const Observation& worse,
                                     std::string& line) {
    line = fmt::format("{} {} vs {} {}", better.name, acc(better), worse.name, acc(worse));
    if (!better.seq_acc || !worse.seq_acc) return Outcome::Inconclusive;
    const double diff = *better.seq_acc - *worse.seq_acc;
    if (diff > options.acc_margin) return Outcome::Supports;
    if (diff < -options.acc_margin) return Outcome::Contradicts;
    line += fmt::format(" (within {:.1f} points)", 100 * options.acc_margin);
    return Outcome::Inconclusive;
  };
  const auto later = [](const Observation& l, const Observation& s, std::string& line) {
    line = fmt::format("{} {} vs {} {}", l.name, overfit_text(l), s.name, overfit_text(s));
    return overfits_later(l, s);
  };
  return {
      {"Dropout delays overfitting", "dropout", deep,
       [later](const Pair& p, std::string& line) { return later(*p.high, *p.low, line); }},
      {"Dropout raises accuracy", "dropout", deep,
       [higher_acc](const Pair& p, std::string& line) {
         return higher_acc(*p.high, *p.low, line);
       }},
      {"More data raises accuracy", "train_size", any,
       [higher_acc](const Pair& p, std::string& line) {
         return higher_acc(*p.high, *p.low, line);
       }},
      {"More data delays overfitting", "train_size", any,
       [later](const Pair& p, std::string& line) { return later(*p.high, *p.low, line); }},
      {"Too deep without dropout overfits sooner", "layers", no_dropout,
       [later](const Pair& p, std::string& line) { return later(*p.low, *p.high, line); }},
  };
}

}  // namespace

std::vector<Conclusion> judge_course_conclusions(const std::vector<Observation>& runs,
                                                 const JudgeOptions& options) {
  std::vector<Conclusion> out;
  for (const Claim& claim : course_claims(options)) out.push_back(judge_claim(claim, runs));
  return out;
}

std::vector<ComparedRuns> compared_pairs(const std::vector<Observation>& runs) {
  std::vector<ComparedRuns> out;
  const JudgeOptions options;
  for (const Claim& claim : course_claims(options))
    for (const Pair& p : pairs_along(runs, claim.axis, claim.keep)) {
      const ComparedRuns pair{p.low->name, p.high->name};
      if (std::find(out.begin(), out.end(), pair) == out.end()) out.push_back(pair);
    }
  return out;
}

}  // namespace s2s::report
