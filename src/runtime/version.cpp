#include "s2s/version.h"

#include <torch/version.h>
#include <dnnl.hpp>

#include "s2s_build_info.h"

namespace s2s {

std::string version() {
  return S2S_VERSION_STRING;
}

std::string version_string() {
  const dnnl_version_t* v = dnnl_version();
  return "s2s " + version() + " (LibTorch " + TORCH_VERSION + ", oneDNN " +
         std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
         std::to_string(v->patch) + ")";
}

}  // namespace s2s
