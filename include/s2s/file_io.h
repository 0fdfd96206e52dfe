// Whole-file reads and crash-safe writes for files users care about (data, vocabularies,
// reports): a write goes to a temp file in the same directory, is fsynced, then renamed over
// the target, so a previous file is never left half-written.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace s2s {

// Writes `contents` to `path` atomically. Throws s2s::Error naming the path on failure.
void write_file_atomic(const std::string& path, std::string_view contents);
// The same contents to each of `paths` (all in one directory), in order, each atomically as
// above, written to disk once: the names share one file (hard links), or where the file system
// has no hard links, the earlier ones get copies. Safe because no file is ever changed in place,
// only replaced. A failure leaves the paths not yet reached as they were.
void write_file_atomic(const std::vector<std::string>& paths, std::string_view contents);

// Appends bytes to the file being written; throws s2s::Error naming the file on failure.
using ByteSink = std::function<void(const void* data, size_t size)>;
// As above, for contents produced piece by piece: `produce` hands them to the sink, in order,
// and is called once per file written (once where the names share one file). For contents too
// large to assemble in memory first.
void write_file_atomic(const std::vector<std::string>& paths,
                       const std::function<void(const ByteSink&)>& produce);

// The whole file. Throws s2s::Error ("path: cannot open: No such file or directory").
std::string read_file(const std::string& path);

// The whole file if it is a regular file of at most `max_bytes`; nullopt otherwise (missing,
// a directory, too large, unreadable). For files a reader may skip, such as a run's summary.
std::optional<std::string> read_small_file(const std::string& path, std::uintmax_t max_bytes);

}  // namespace s2s
