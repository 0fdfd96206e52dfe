#pragma once

#include <string>

namespace s2s {

// "s2s 0.1.0 (LibTorch 1.13.1, oneDNN 2.6.3)": what `s2s --version` prints.
std::string version_string();
// The bare semantic version of the toolkit, "0.1.0".
std::string version();

}  // namespace s2s
