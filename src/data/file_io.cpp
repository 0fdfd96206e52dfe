// Whole-file reads and atomic writes (temp file in the same directory, fsync, rename).
#include "s2s/file_io.h"

#include <fcntl.h>
#include <fmt/core.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "s2s/error.h"

namespace s2s {
namespace {

std::string directory_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

[[noreturn]] void fail(const std::string& path, const char* what, int err) {
  throw Error(fmt::format("{}: {}: {}", path, what, std::strerror(err)));
}

// What `produce` gives its sink, into a new temporary file beside `path`, flushed to disk;
// returns its name.
std::string write_temp(const std::string& path,
                       const std::function<void(const ByteSink&)>& produce) {
  std::string temp = path + ".tmp.XXXXXX";
  const int fd = ::mkstemp(&temp[0]);
  if (fd < 0) fail(path, "cannot create a temporary file beside it", errno);
  const ByteSink sink = [&](const void* data, size_t size) {
    const char* bytes = static_cast<const char*>(data);
    for (size_t done = 0; done < size;) {
      const ssize_t n = ::write(fd, bytes + done, size - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        fail(path, "cannot write", errno);
      }
      done += static_cast<size_t>(n);
    }
  };
  try {
    produce(sink);
  } catch (...) {  // the sink's error, or the producer's
    ::close(fd);
    ::unlink(temp.c_str());
    throw;
  }
  // mkstemp creates 0600; data files are ordinary files (0644, minus the umask).
  const mode_t mask = ::umask(0);
  ::umask(mask);
  ::fchmod(fd, 0644 & ~mask);
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const int err = errno;
    ::unlink(temp.c_str());
    fail(path, "cannot write", err);
  }
  return temp;
}

// Replaces `path` by `temp` (consumed).
void replace(const std::string& temp, const std::string& path) {
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(temp.c_str());
    fail(path, "cannot replace", err);
  }
}

// Makes the renames in `path`'s directory durable.
void sync_directory_of(const std::string& path) {
  const int dir = ::open(directory_of(path).c_str(), O_RDONLY | O_DIRECTORY);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
}

// A second name for the file `temp`, beside `path`, or "" where the file system has no hard
// links (or refuses this one).
std::string link_beside(const std::string& temp, const std::string& path) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    const std::string name = fmt::format("{}.tmp.link.{}.{}", path, ::getpid(), attempt);
    if (::link(temp.c_str(), name.c_str()) == 0) return name;
    if (errno != EEXIST) return "";
  }
  return "";
}

}  // namespace

void write_file_atomic(const std::string& path, std::string_view contents) {
  write_file_atomic(std::vector<std::string>{path}, contents);
}

void write_file_atomic(const std::vector<std::string>& paths, std::string_view contents) {
  write_file_atomic(paths,
                    [contents](const ByteSink& sink) { sink(contents.data(), contents.size()); });
}

void write_file_atomic(const std::vector<std::string>& paths,
                       const std::function<void(const ByteSink&)>& produce) {
  if (paths.empty()) return;
  const std::string& last = paths.back();
  const std::string temp = write_temp(last, produce);
  for (size_t i = 0; i + 1 < paths.size(); ++i) {
    const std::string second = link_beside(temp, paths[i]);
    try {
      if (second.empty()) {
        write_file_atomic(std::vector<std::string>{paths[i]}, produce);
      } else {
        replace(second, paths[i]);
      }
    } catch (...) {
      ::unlink(temp.c_str());
      throw;
    }
  }
  replace(temp, last);
  sync_directory_of(last);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot open", errno);
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad()) fail(path, "read error", errno);
  return out.str();
}

std::optional<std::string> read_small_file(const std::string& path, std::uintmax_t max_bytes) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return std::nullopt;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec || size > max_bytes) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return out.str();
}

}  // namespace s2s
