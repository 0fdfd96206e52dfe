// The doctor's report as readable text or as one JSON object.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "s2s/doctor.h"

namespace s2s {
namespace {

using Json = nlohmann::ordered_json;

Json pairs_to_object(const std::vector<std::pair<std::string, std::string>>& pairs) {
  Json object = Json::object();
  for (const auto& [key, value] : pairs) object[key] = value;
  return object;
}

std::string join(const std::vector<std::string>& items, const char* separator) {
  std::string text;
  for (const std::string& item : items) {
    if (!text.empty()) text += separator;
    text += item;
  }
  return text;
}

}  // namespace

std::string format_doctor_json(const DoctorReport& report, bool verbose) {
  Json json;
  json["ok"] = report.ok;
  json["versions"] = pairs_to_object(report.versions);
  json["torch"] = pairs_to_object(report.torch);
  json["distributed"] = {{"available", report.distributed_available},
                         {"backend", report.distributed}};

  const BlasInfo& blas = report.blas;
  json["blas"] = {{"library", blas.library},
                  {"vendor", blas.vendor},
                  {"is_reference", blas.is_reference},
                  {"loaded", blas.loaded},
                  {"openblas",
                   {{"config", blas.openblas_config},
                    {"parallel", blas.openblas_parallel},
                    {"threads", blas.openblas_threads}}},
                  {"sgemm_size", blas.sgemm_size},
                  {"sgemm_gflops", blas.sgemm_gflops}};

  const OneDnnInfo& onednn = report.onednn;
  Json layers = Json::array();
  for (const LayerRoute& route : onednn.layers) {
    layers.push_back({{"layer", route.layer}, {"backend", route.backend}});
  }
  Json executions = Json::array();
  for (const OneDnnExec& exec : onednn.executions) {
    executions.push_back({{"primitive", exec.primitive},
                          {"implementation", exec.implementation},
                          {"problem", exec.problem},
                          {"time_ms", exec.time_ms}});
  }
  json["onednn"] = {{"version", onednn.version},
                    {"ran", onednn.ran},
                    {"isa", onednn.isa},
                    {"isa_used", onednn.isa_used},
                    {"primitives", onednn.primitives},
                    {"layers", layers},
                    {"executions", executions},
                    {"linear_max_abs_diff", onednn.linear_max_abs_diff}};
  if (verbose) json["onednn"]["verbose_lines"] = onednn.verbose_lines;

  const ThreadInfo& threads = report.threads;
  json["threads"] = {{"torch_intra_op", threads.torch_intra_op},
                     {"torch_inter_op", threads.torch_inter_op},
                     {"omp_max_threads", threads.omp_max_threads},
                     {"openblas", blas.openblas_threads},
                     {"hardware_concurrency", threads.hardware_concurrency},
                     {"env", pairs_to_object(threads.env)}};
  json["autograd"] = {
      {"da", report.autograd.da}, {"db", report.autograd.db}, {"ok", report.autograd.ok}};
  json["warnings"] = report.warnings;
  json["notes"] = report.notes;
  return json.dump(2);
}

std::string format_doctor_text(const DoctorReport& report, bool verbose) {
  std::string out;
  auto line = [&out](const std::string& text) { out += text + "\n"; };

  line("s2s doctor: is the stack set up, and is the Intel optimization on?");
  line("");
  line("Versions");
  for (const auto& [name, value] : report.versions) {
    line(fmt::format("  {:<10} {}", name, value.empty() ? "(not loaded)" : value));
  }
  std::string torch_facts;
  for (const auto& [name, value] : report.torch) {
    torch_facts += (torch_facts.empty() ? "" : ", ") + name + " " + value;
  }
  line(fmt::format("  {:<10} {}", "torch", torch_facts));
  line(fmt::format(
      "  {:<10} distributed training {}{}", "c10d",
      report.distributed_available ? "available: " : "unavailable: ", report.distributed));

  const BlasInfo& blas = report.blas;
  line("");
  line("BLAS (what torch's matrix multiplies call)");
  line(fmt::format("  {:<10} {}", "library", blas.library.empty() ? "(none)" : blas.library));
  line(fmt::format("  {:<10} {}{}", "vendor", blas.vendor,
                   blas.is_reference ? "  <- REFERENCE BLAS, slow" : ""));
  line(fmt::format("  {:<10} {}", "loaded", join(blas.loaded, ", ")));
  if (!blas.openblas_parallel.empty()) {
    line(fmt::format("  {:<10} {} threading, {} threads{}", "OpenBLAS", blas.openblas_parallel,
                     blas.openblas_threads,
                     blas.vendor == "OpenBLAS" ? "" : " (loaded, but sgemm_ resolves elsewhere)"));
  }
  line(fmt::format("  {:<10} {:.1f} GFLOP/s ({}x{} float matmul through torch::mm)", "sgemm",
                   blas.sgemm_gflops, blas.sgemm_size, blas.sgemm_size));

  const OneDnnInfo& onednn = report.onednn;
  line("");
  line("oneDNN (the course's check: a Conv2d + Linear net with verbose on)");
  line(fmt::format("  {:<10} {}, highest ISA {}, used {}", "version", onednn.version, onednn.isa,
                   onednn.isa_used.empty() ? "(none)" : join(onednn.isa_used, ", ")));
  for (const LayerRoute& route : onednn.layers) {
    line(fmt::format("  {:<19} {}", route.layer, route.backend));
  }
  line(fmt::format("  {:<10} {} ({} executions)", "primitives",
                   onednn.primitives.empty() ? "(none)" : join(onednn.primitives, ", "),
                   onednn.executions.size()));
  line(fmt::format("  {:<10} oneDNN Linear vs BLAS Linear: max |diff| {:.2g}", "agree",
                   onednn.linear_max_abs_diff));
  if (verbose) {
    for (const std::string& verbose_line : onednn.verbose_lines) line("    " + verbose_line);
  }

  const ThreadInfo& threads = report.threads;
  line("");
  line("Threads");
  line(fmt::format("  torch intra-op {}, inter-op {}; OpenMP max {}; OpenBLAS {}; cores {}",
                   threads.torch_intra_op, threads.torch_inter_op, threads.omp_max_threads,
                   blas.openblas_threads, threads.hardware_concurrency));
  for (const auto& [name, value] : threads.env) line(fmt::format("  {}={}", name, value));

  line("");
  line("Autograd (a=1, b=2, x=a+a*b, y=x^2, y.backward())");
  line(fmt::format("  da = {:g}, db = {:g}  ({})", report.autograd.da, report.autograd.db,
                   report.autograd.ok ? "expected 18 and 6: ok" : "expected 18 and 6: WRONG"));

  if (!report.notes.empty()) {
    line("");
    line("Notes");
    for (const std::string& note : report.notes) line("  - " + note);
  }
  line("");
  if (report.ok) {
    line("OK: every check passed.");
  } else {
    for (const std::string& warning : report.warnings) line("WARNING: " + warning);
    line(fmt::format("FAILED: {} check(s) did not pass.", report.warnings.size()));
  }
  return out;
}

}  // namespace s2s
