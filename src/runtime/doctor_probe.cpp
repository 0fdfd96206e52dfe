// The doctor's probes of the process itself: mapped libraries, symbol owners, OpenBLAS and
// OpenMP facts, oneDNN's verbose lines. No torch here: this file compiles in a second.
#include <dlfcn.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dnnl.hpp>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>

#include "common/split.h"
#include "runtime/doctor.h"

namespace s2s::doctor {
namespace {

std::string file_name_of(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string parent_dir_name_of(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0) return "";
  const auto before = path.rfind('/', slash - 1);
  return path.substr(before == std::string::npos ? 0 : before + 1,
                     slash - (before == std::string::npos ? 0 : before + 1));
}

bool contains(const std::string& text, const char* part) {
  return text.find(part) != std::string::npos;
}

bool starts_with(const std::string& text, const char* prefix) {
  return text.rfind(prefix, 0) == 0;
}

template <typename Fn>
Fn find_function(const char* name) {
  // POSIX guarantees object and function pointers convert through dlsym's void*.
  return reinterpret_cast<Fn>(dlsym(RTLD_DEFAULT, name));
}

// Whether a library file name looks like a BLAS implementation.
bool looks_like_blas(const std::string& name) {
  static const std::array<const char*, 6> kPrefixes = {"libblas.", "libopenblas", "libmkl_",
                                                       "libblis",  "libatlas",    "libcblas."};
  return std::any_of(kPrefixes.begin(), kPrefixes.end(),
                     [&](const char* prefix) { return starts_with(name, prefix); });
}

}  // namespace

std::string blas_vendor_of(const std::string& real_path) {
  if (real_path.empty()) return "unknown";
  if (contains(real_path, "openblas")) return "OpenBLAS";
  if (contains(real_path, "mkl")) return "MKL";
  if (contains(real_path, "blis")) return "BLIS";
  if (contains(real_path, "atlas")) return "ATLAS";
  if (is_reference_blas(real_path)) return "reference BLAS (netlib)";
  return "unknown";
}

bool is_reference_blas(const std::string& real_path) {
  // Debian installs netlib's reference BLAS as /usr/lib/<triplet>/blas/libblas.so.3.<ver>; the
  // optimised ones live in openblas-*/, blis-*/, atlas/ and carry their own names.
  const std::string name = file_name_of(real_path);
  return starts_with(name, "libblas.so") && parent_dir_name_of(real_path) == "blas";
}

std::vector<std::string> blas_libraries_in_maps(const std::string& maps_text) {
  std::vector<std::string> libraries;
  std::istringstream in(maps_text);
  std::string line;
  while (std::getline(in, line)) {
    // address perms offset dev inode pathname: the path starts at the first '/'.
    const auto slash = line.find('/');
    if (slash == std::string::npos) continue;
    std::string path = line.substr(slash);
    if (const auto deleted = path.find(" (deleted)"); deleted != std::string::npos) {
      path.resize(deleted);
    }
    if (!looks_like_blas(file_name_of(path))) continue;
    if (std::find(libraries.begin(), libraries.end(), path) == libraries.end()) {
      libraries.push_back(path);
    }
  }
  return libraries;
}

std::string read_proc_self_maps() {
  std::ifstream in("/proc/self/maps");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string library_providing(const char* symbol) {
  void* address = dlsym(RTLD_DEFAULT, symbol);
  if (address == nullptr) return "";
  Dl_info info{};
  if (dladdr(address, &info) == 0 || info.dli_fname == nullptr) return "";
  std::array<char, PATH_MAX> resolved{};
  if (realpath(info.dli_fname, resolved.data()) == nullptr) return info.dli_fname;
  return resolved.data();
}

OpenBlasFacts probe_openblas() {
  OpenBlasFacts facts;
  if (auto get_config = find_function<char* (*)()>("openblas_get_config")) {
    facts.config = get_config();
  }
  if (auto get_parallel = find_function<int (*)()>("openblas_get_parallel")) {
    switch (get_parallel()) {
      case 0:
        facts.parallel = "sequential";
        break;
      case 1:
        facts.parallel = "pthread";
        break;
      case 2:
        facts.parallel = "openmp";
        break;
      default:
        facts.parallel = "unknown";
        break;
    }
  }
  if (auto get_threads = find_function<int (*)()>("openblas_get_num_threads")) {
    facts.threads = get_threads();
  }
  return facts;
}

int omp_max_threads() {
  auto get_max_threads = find_function<int (*)()>("omp_get_max_threads");
  return get_max_threads ? get_max_threads() : -1;
}

std::optional<OneDnnExec> parse_onednn_exec_line(const std::string& line) {
  std::string text = line;
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  std::vector<std::string> fields = split(text, ',');
  if (fields.size() < 4) return std::nullopt;
  const std::string& marker = fields[0];
  if (marker != "onednn_verbose" && marker != "dnnl_verbose" && marker != "mkldnn_verbose") {
    return std::nullopt;
  }
  // oneDNN 3.x inserts a "primitive" category before "exec".
  size_t next = 1;
  if (fields[next] == "primitive") ++next;
  if (fields[next] != "exec") return std::nullopt;
  ++next;
  // Since 1.x an engine kind follows ("cpu", "gpu"); MKL-DNN 0.x had none.
  if (fields[next] == "cpu" || fields[next] == "gpu") ++next;
  // primitive, implementation, ..., problem, time: at least 4 fields from `next` on.
  if (fields.size() < next + 4) return std::nullopt;
  OneDnnExec exec;
  exec.primitive = fields[next];
  exec.implementation = fields[next + 1];
  exec.problem = fields[fields.size() - 2];
  const std::string& time = fields.back();
  char* end = nullptr;
  exec.time_ms = std::strtod(time.c_str(), &end);
  if (end == time.c_str()) return std::nullopt;
  return exec;
}

std::vector<std::string> onednn_verbose_lines(const std::string& captured) {
  std::vector<std::string> lines;
  std::istringstream in(captured);
  std::string line;
  while (std::getline(in, line)) {
    if (starts_with(line, "onednn_verbose,") || starts_with(line, "dnnl_verbose,") ||
        starts_with(line, "mkldnn_verbose,")) {
      lines.push_back(line);
    }
  }
  return lines;
}

std::string capture_stdout(const std::function<void()>& fn) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> sink(std::tmpfile(), &std::fclose);
  if (!sink)
    throw std::runtime_error("capture_stdout: tmpfile: " + std::string(std::strerror(errno)));
  std::fflush(stdout);
  const int saved = dup(STDOUT_FILENO);
  if (saved < 0 || dup2(fileno(sink.get()), STDOUT_FILENO) < 0) {
    if (saved >= 0) close(saved);
    throw std::runtime_error("capture_stdout: cannot redirect fd 1: " +
                             std::string(std::strerror(errno)));
  }
  // Restores fd 1 on every path out, including exceptions from fn.
  struct Restore {
    int saved;
    ~Restore() {
      std::fflush(stdout);
      dup2(saved, STDOUT_FILENO);
      close(saved);
    }
  };
  {
    Restore restore{saved};
    fn();
  }
  std::string text;
  std::rewind(sink.get());
  std::array<char, 4096> buffer{};
  size_t n = 0;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), sink.get())) > 0) {
    text.append(buffer.data(), n);
  }
  return text;
}

std::string onednn_effective_isa() {
  switch (dnnl_get_effective_cpu_isa()) {
    case dnnl_cpu_isa_all:
      return "all";
    case dnnl_cpu_isa_sse41:
      return "sse41";
    case dnnl_cpu_isa_avx:
      return "avx";
    case dnnl_cpu_isa_avx2:
      return "avx2";
    case dnnl_cpu_isa_avx512_mic:
      return "avx512_mic";
    case dnnl_cpu_isa_avx512_mic_4ops:
      return "avx512_mic_4ops";
    case dnnl_cpu_isa_avx512_core:
      return "avx512_core";
    case dnnl_cpu_isa_avx512_core_vnni:
      return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core_bf16:
      return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_amx:
      return "avx512_core_amx";
    case dnnl_cpu_isa_avx2_vnni:
      return "avx2_vnni";
  }
  return "unknown";
}

std::string onednn_version() {
  const dnnl_version_t* v = dnnl_version();
  return std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
}

void set_onednn_verbose(int level) {
  dnnl_set_verbose(level);
}

std::vector<std::pair<std::string, std::string>> relevant_environment() {
  static const std::array<const char*, 16> kNames = {
      "OMP_NUM_THREADS",  "OMP_PROC_BIND",        "OMP_PLACES",      "GOMP_CPU_AFFINITY",
      "KMP_AFFINITY",     "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "MKL_VERBOSE",
      "ONEDNN_VERBOSE",   "DNNL_VERBOSE",         "MKLDNN_VERBOSE",  "ONEDNN_MAX_CPU_ISA",
      "DNNL_MAX_CPU_ISA", "LD_PRELOAD",           "LD_LIBRARY_PATH", "ATEN_CPU_CAPABILITY"};
  std::vector<std::pair<std::string, std::string>> set;
  for (const char* name : kNames) {
    if (const char* value = std::getenv(name)) set.emplace_back(name, value);
  }
  return set;
}

}  // namespace s2s::doctor
