// ServeOptions' checks and --model NAME=PATH: strings become values once, at the edge.
#include <fmt/core.h>

#include <algorithm>
#include <set>

#include "s2s/error.h"
#include "s2s/serve.h"

namespace s2s {
namespace {

bool valid_name(const std::string& name) {
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

void check_range(const char* flag, int64_t value, int64_t low, int64_t high) {
  if (value < low || value > high) {
    throw Error(fmt::format("{} must be in [{}, {}], got {}", flag, low, high, value));
  }
}

}  // namespace

ModelSpec parse_model_spec(const std::string& text) {
  const auto eq = text.find('=');
  if (eq == std::string::npos) {
    throw Error(
        fmt::format("--model {}: expected NAME=PATH (e.g. course=runs/course/best.pt)", text));
  }
  ModelSpec spec{text.substr(0, eq), text.substr(eq + 1)};
  if (!valid_name(spec.name)) {
    throw Error(
        fmt::format("--model {}: the name must be 1-64 letters, digits, '.', '_' or '-'", text));
  }
  if (spec.path.empty()) throw Error(fmt::format("--model {}: no PATH after '='", text));
  return spec;
}

void ServeOptions::check() const {
  if (models.empty()) throw Error("--model: give at least one NAME=PATH");
  std::set<std::string> names;
  for (const auto& m : models) {
    if (!valid_name(m.name)) throw Error(fmt::format("--model {}: bad name", m.name));
    if (!names.insert(m.name).second) {
      throw Error(fmt::format("--model {}: the name is given twice", m.name));
    }
  }
  check_range("--port", port, 0, 65535);
  check_range("--max-batch", max_batch, 1, 4096);
  check_range("--max-delay-ms", max_delay_ms, 0, 10000);
  check_range("--max-queue", max_queue, 1, 1 << 24);
  if (max_inputs > max_queue) {
    throw Error(
        fmt::format("--max-inputs {} is above --max-queue {}: a request that large could "
                    "never be queued",
                    max_inputs, max_queue));
  }
  check_range("--max-inputs", max_inputs, 1, max_queue);
  check_range("--max-input-tokens", max_input_tokens, 1, 1 << 20);
  check_range("--max-body-bytes", max_body_bytes, 64, int64_t{1} << 30);
  check_range("--max-timeout-ms", max_timeout_ms, 1, 24 * 3600 * 1000);
  check_range("--timeout-ms", timeout_ms, 1, max_timeout_ms);
  check_range("--http-threads", http_threads, 2, 4096);
  check_range("--read-timeout-ms", read_timeout_ms, 1, 3600 * 1000);
  check_range("--write-timeout-ms", write_timeout_ms, 1, 3600 * 1000);
  search.check();
}

}  // namespace s2s
