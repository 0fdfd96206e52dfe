// Fuzzes the dashboard's request handling (src/dashboard/server.cpp) through the real server:
// a Dashboard on 127.0.0.1 (any free port) over a copy of tests/fixtures/runs, and each input
// sent as the raw bytes of one HTTP connection (request line, path, query string, headers,
// body). So the whole path a request takes is exercised: cpp-httplib's parser, the screening
// (method, path, Host), the routes and the JSON answers.
// Checks: the server answers every connection (no crash, no hang: a reply within 10 s), never
// serves anything but its page assets and API, and never answers a traversal path with 200.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "fuzz_check.h"
#include "s2s/dashboard.h"

namespace fs = std::filesystem;

namespace {

std::unique_ptr<s2s::Dashboard> g_dashboard;

// The response's status code, or 0 when the server closed without answering.
int status_of(const std::string& response) {
  if (response.rfind("HTTP/1.1 ", 0) != 0 || response.size() < 12) return 0;
  return std::stoi(response.substr(9, 3));
}

// Thousands of connections a second, each ended by the client (shutdown(SHUT_WR) marks the end
// of the request), so each client socket spends a minute in TIME_WAIT. From one source address
// that used up the ~28,000 ephemeral ports in under a minute and connect() failed (the first
// runs stopped after 24 and 31 s; closing with a reset does not help: the socket is already in
// TIME_WAIT when the server's FIN arrives). Each connection therefore comes from the next of
// 65,536 loopback addresses (127.1.0.0/16): their port ranges are separate.
void bind_next_source_address(int sock) {
  static uint32_t next = 0;
  sockaddr_in source{};
  source.sin_family = AF_INET;
  source.sin_port = 0;
  source.sin_addr.s_addr = htonl((127u << 24) | (1u << 16) | (next++ & 0xffffu));
  S2S_FUZZ_REQUIRE(::bind(sock, reinterpret_cast<sockaddr*>(&source), sizeof source) == 0);
}

std::string exchange(int port, const uint8_t* data, size_t size) {
  const int sock = ::socket(AF_INET, SOCK_STREAM, 0);
  S2S_FUZZ_REQUIRE(sock >= 0);
  bind_next_source_address(sock);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  S2S_FUZZ_REQUIRE(::connect(sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  timeval timeout{10, 0};  // a server that has not answered in 10 s is hung
  ::setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  size_t sent = 0;
  while (sent < size) {
    const ssize_t n = ::send(sock, data + sent, size - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server may close early on a bad request: fine
    sent += static_cast<size_t>(n);
  }
  ::shutdown(sock, SHUT_WR);  // end of request: the server must not wait for more
  std::string response;
  char buffer[65536];
  for (;;) {
    const ssize_t n = ::recv(sock, buffer, sizeof buffer, 0);
    if (n == 0) break;
    if (n < 0) {
      // A reset is the server refusing the rest of a bad request; EAGAIN is the 10 s timeout,
      // a hang.
      S2S_FUZZ_REQUIRE(errno != EAGAIN && errno != EWOULDBLOCK);
      break;
    }
    response.append(buffer, static_cast<size_t>(n));
  }
  ::close(sock);
  return response;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const fs::path root = fs::temp_directory_path() / ("s2s-fuzz-runs-" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root);
  fs::copy(fs::path(S2S_SOURCE_DIR) / "tests/fixtures/runs", root, fs::copy_options::recursive);
  s2s::DashboardOptions options;
  options.run_roots = {root};
  options.port = 0;
  options.web_dir = fs::path(S2S_SOURCE_DIR) / "web";
  g_dashboard = s2s::start_dashboard(options);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string request(reinterpret_cast<const char*>(data), size);
  const std::string response = exchange(g_dashboard->port(), data, size);
  const int status = status_of(response);
  // Traversal: a path (before any '?') naming a parent directory, plainly or percent-encoded,
  // is never answered with 200.
  const std::string line = request.substr(0, request.find_first_of("\r\n"));
  const auto target_begin = line.find(' ');
  if (target_begin != std::string::npos) {
    std::string path = line.substr(target_begin + 1);
    path = path.substr(0, path.find_first_of(" ?"));
    for (auto& c : path) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (const char* parent : {"..", "%2e%2e", "%2e.", ".%2e"}) {
      if (path.find(parent) != std::string::npos) S2S_FUZZ_REQUIRE(status != 200);
    }
  }
  return 0;
}
