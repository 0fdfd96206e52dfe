// Run discovery and loading: config.json, summary.json, and the epochs to mark.
#include "s2s/runs.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "s2s/error.h"
#include "s2s/file_io.h"

namespace s2s {

namespace fs = std::filesystem;

namespace {

constexpr std::uintmax_t kMaxJsonBytes = 1024 * 1024;  // config/summary larger than this: ignored
constexpr size_t kMaxRuns = 1000;
constexpr size_t kMaxEntriesScanned = 100000;

// Reads a small JSON object file; nullopt when missing, too big or malformed.
std::optional<nlohmann::json> read_small_json(const fs::path& path) {
  const auto text = read_small_file(path.string(), kMaxJsonBytes);
  if (!text) return std::nullopt;
  auto j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  return j;
}

std::optional<int> optional_int(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<int>();
}

std::string scalar_text(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_float()) {
    std::ostringstream s;
    s << v.get<double>();
    return s.str();
  }
  return v.dump();
}

void flatten(const nlohmann::json& obj, const std::string& prefix,
             std::vector<std::pair<std::string, std::string>>& out) {
  for (auto it = obj.begin(); it != obj.end() && out.size() < 64; ++it) {
    const std::string key = prefix.empty() ? it.key() : prefix + "." + it.key();
    if (it->is_object()) {
      if (prefix.empty()) flatten(*it, key, out);  // one level of nesting is enough
    } else if (it->is_primitive() && !it->is_null()) {
      out.emplace_back(key, scalar_text(*it));
    }
  }
}

// The few settings that tell runs apart, in the order a reader scans them.
std::string summarize(const std::vector<std::pair<std::string, std::string>>& config) {
  static const char* kPreferred[] = {
      "task",   "cell",        "rnn",   "impl",       "precision", "layers", "num_layers",
      "hidden", "hidden_size", "batch", "batch_size", "lr",        "dropout"};
  auto leaf = [](const std::string& key) {
    const auto dot = key.rfind('.');
    return dot == std::string::npos ? key : key.substr(dot + 1);
  };
  std::string out;
  std::set<std::string> used;
  for (const char* want : kPreferred) {
    for (const auto& [key, value] : config) {
      if (leaf(key) == want && !used.count(want)) {
        used.insert(want);
        out += (out.empty() ? "" : " ") + std::string(want) + "=" + value;
      }
    }
  }
  if (out.empty()) {  // unknown schema: show the first few settings
    for (size_t i = 0; i < config.size() && i < 6; ++i)
      out += (out.empty() ? "" : " ") + config[i].first + "=" + config[i].second;
  }
  return out;
}

bool looks_like_run(const fs::path& dir) {
  std::error_code ec;
  return fs::is_regular_file(dir / "metrics.jsonl", ec) ||
         fs::is_regular_file(dir / "config.json", ec);
}

}  // namespace

RunStatus RunInfo::status() const {
  return summary ? summary->status : RunStatus::Running;
}

bool is_inside(const fs::path& root, const fs::path& path) {
  std::error_code ec;
  const fs::path real = fs::canonical(path, ec);
  if (ec) return false;
  auto r = root.begin();
  auto p = real.begin();
  for (; r != root.end(); ++r, ++p) {
    if (r->empty()) continue;  // trailing separator of root
    if (p == real.end() || *p != *r) return false;
  }
  return true;
}

RunInfo load_run(const fs::path& dir, std::string id) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw Error(dir.string() + ": not a run directory");
  RunInfo run;
  run.dir = fs::canonical(dir);
  run.root = run.dir;
  run.id = id.empty() ? run.dir.filename().string() : std::move(id);
  const fs::path config_path = run.dir / "config.json";
  if (auto config = is_inside(run.dir, config_path) ? read_small_json(config_path) : std::nullopt) {
    flatten(*config, "", run.config);
    for (const char* key : {"patience", "early_stopping_patience"}) {
      auto p = optional_int(*config, key);
      if (!p) {
        auto train = config->find("train");
        if (train != config->end() && train->is_object()) p = optional_int(*train, key);
      }
      if (p && *p >= 1) run.patience = *p;  // 0 disables early stopping; keep 3 for marking
    }
  }
  run.config_summary = summarize(run.config);
  if (is_inside(run.dir, run.dir / run_files::kSummary)) run.summary = read_summary(run.dir);
  return run;
}

std::vector<RunInfo> discover_runs(const std::vector<fs::path>& roots) {
  std::vector<RunInfo> runs;
  std::set<std::string> ids;
  auto add = [&](const fs::path& root, const fs::path& dir, std::string id) {
    if (runs.size() >= kMaxRuns) return;
    std::string unique = id;
    for (int n = 2; ids.count(unique); ++n) unique = id + "~" + std::to_string(n);
    ids.insert(unique);
    RunInfo run = load_run(dir, unique);
    run.root = root;
    runs.push_back(std::move(run));
  };
  for (const auto& given : roots) {
    std::error_code ec;
    if (!fs::is_directory(given, ec)) throw Error(given.string() + ": no such runs directory");
    const fs::path root = fs::canonical(given);
    // Multiple roots: prefix ids with the root's name so runs with the same name stay apart.
    const std::string prefix = roots.size() > 1 ? root.filename().string() + "/" : "";
    if (looks_like_run(root)) {
      add(root, root, root.filename().string());
      continue;
    }
    std::vector<fs::path> found;
    size_t scanned = 0;
    fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec);
    for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (++scanned > kMaxEntriesScanned) break;
      if (it.depth() >= 1) it.disable_recursion_pending();  // at most two levels below root
      std::error_code dec;
      if (!it->is_directory(dec)) continue;
      if (!is_inside(root, it->path())) {  // a symlink out of the root
        it.disable_recursion_pending();
        continue;
      }
      if (looks_like_run(it->path())) {
        found.push_back(it->path());
        it.disable_recursion_pending();
      }
    }
    std::sort(found.begin(), found.end());
    for (const auto& dir : found)
      add(root, fs::canonical(dir), prefix + dir.lexically_relative(root).generic_string());
  }
  return runs;
}

RunMarkers run_markers(const RunInfo& run, const std::vector<EpochRecord>& epochs) {
  RunMarkers m;
  m.best_valid_token_acc = std::numeric_limits<double>::quiet_NaN();
  m.best_valid_seq_acc = std::numeric_limits<double>::quiet_NaN();
  for (const auto& e : epochs) {
    if (std::isfinite(e.valid_token_acc) &&
        !(e.valid_token_acc <= m.best_valid_token_acc))  // NaN-safe max
      m.best_valid_token_acc = e.valid_token_acc;
    if (std::isfinite(e.valid_seq_acc) && !(e.valid_seq_acc <= m.best_valid_seq_acc))
      m.best_valid_seq_acc = e.valid_seq_acc;
  }
  if (run.summary && run.summary->best_epoch) {
    m.best_epoch = run.summary->best_epoch;
  } else {
    m.best_epoch = best_epoch(epochs);
  }
  if (run.summary) {
    m.overfit_epoch = run.summary->overfit_epoch;
  } else {
    m.overfit_epoch = overfit_epoch(epochs, run.patience);
  }
  return m;
}

}  // namespace s2s
