// Writes a file users care about so that a crash never leaves it half written: a temporary file
// in the same directory, fsync, rename over the old one.
#pragma once

#include <filesystem>
#include <string>

namespace s2s::report {

void write_file_atomic(const std::filesystem::path& file, const std::string& content);

}  // namespace s2s::report
