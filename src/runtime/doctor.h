// The doctor's probes, one small function each, so tests can feed them known input
// (a /proc/self/maps text, a verbose line) instead of this machine's state.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "s2s/doctor.h"

namespace s2s::doctor {

// Debian's reference BLAS: /usr/lib/<triplet>/blas/libblas.so.3 (package libblas3).
// Classification looks at the resolved path only, so it works on any text we are given.
std::string blas_vendor_of(const std::string& real_path);
bool is_reference_blas(const std::string& real_path);

// The distinct BLAS-like libraries (libblas, libopenblas, libmkl_*, libblis, libatlas...) in a
// /proc/<pid>/maps text, in order of first mapping. The kernel prints resolved paths.
std::vector<std::string> blas_libraries_in_maps(const std::string& maps_text);
std::string read_proc_self_maps();

// Real path of the shared object whose `symbol` the process resolves to (dlsym + dladdr +
// realpath): the library a call from torch lands in. Empty if the symbol is not found.
std::string library_providing(const char* symbol);

// OpenBLAS facts via dlsym, so we need not link OpenBLAS: empty / -1 when it is absent.
struct OpenBlasFacts {
  std::string config;    // openblas_get_config()
  std::string parallel;  // openblas_get_parallel(): "sequential" | "pthread" | "openmp"
  int threads = -1;      // openblas_get_num_threads()
};
OpenBlasFacts probe_openblas();

// omp_get_max_threads() of the OpenMP runtime loaded in the process, or -1.
int omp_max_threads();

// Parses one oneDNN verbose exec line ("onednn_verbose,exec,cpu,convolution,jit:avx2,...").
// Accepts the onednn_/dnnl_/mkldnn_ prefixes; anything else (info lines, other output) -> none.
std::optional<OneDnnExec> parse_onednn_exec_line(const std::string& line);
// Splits captured output into lines and keeps those that start with a oneDNN verbose prefix.
std::vector<std::string> onednn_verbose_lines(const std::string& captured);

// Runs fn with file descriptor 1 redirected to a temporary file and returns what was written
// there (C stdio and raw writes alike). fd 1 is restored even when fn throws.
std::string capture_stdout(const std::function<void()>& fn);

// "avx512_core_bf16" for the value of dnnl_get_effective_cpu_isa().
std::string onednn_effective_isa();
std::string onednn_version();
// Turns oneDNN's verbose mode on (1) or off (0) at run time.
void set_onednn_verbose(int level);

// Environment variables that change threads, BLAS or oneDNN, as (name, value) when set.
std::vector<std::pair<std::string, std::string>> relevant_environment();

// Adds a warning for every failed check (reference or missing BLAS, oneDNN did not run or
// disagrees with BLAS, wrong gradients) and sets ok when there is none.
void apply_verdict(DoctorReport& report);

}  // namespace s2s::doctor
