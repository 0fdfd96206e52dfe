// `s2s serve` as a process: SIGTERM with requests in flight drains them and exits 0, SIGHUP
// reloads a good file and keeps the old model for a bad one, bad flags are one-line errors.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <future>
#include <regex>
#include <thread>

#include "s2s/corpus.h"
#include "s2s/decode.h"
#include "serve/serve_test_util.h"

namespace {

using nlohmann::json;
using s2s::test::get;
using s2s::test::inputs_body;
using s2s::test::post;
using s2s::test::Reply;

// build/s2s serve ARGS... in a child process, its stdout and stderr read through one pipe.
class ServeProcess {
 public:
  explicit ServeProcess(std::vector<std::string> args) {
    int fds[2];
    if (pipe(fds) != 0) throw std::runtime_error("pipe");
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fds[1], 1);
      dup2(fds[1], 2);
      close(fds[0]);
      std::vector<char*> argv = {const_cast<char*>("s2s"), const_cast<char*>("serve")};
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(S2S_CLI_PATH, argv.data());
      _exit(127);
    }
    close(fds[1]);
    out_fd_ = fds[0];
    const std::regex url_line(R"(serving \d+ model\(s\) on http://127\.0\.0\.1:(\d+)/)");
    std::smatch m;
    read_until([&] { return std::regex_search(output_, m, url_line); });
    if (std::regex_search(output_, m, url_line)) port_ = std::stoi(m[1]);
  }
  ~ServeProcess() {
    if (pid_ > 0 && exit_code_ == -2) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    close(out_fd_);
  }
  int port() const { return port_; }
  void signal(int signo) { kill(pid_, signo); }
  // Reads output until `done()` or 60 s pass.
  template <class Done>
  void read_until(Done done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      pollfd p{out_fd_, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      char buf[512];
      const ssize_t n = read(out_fd_, buf, sizeof buf);
      if (n <= 0) break;
      output_.append(buf, static_cast<size_t>(n));
    }
  }
  // Waits for the process to end; its exit status (-1 if killed by a signal).
  int wait() {
    read_until([] { return false; });  // to end of output: the process closed the pipe
    int status = 0;
    waitpid(pid_, &status, 0);
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return exit_code_;
  }
  const std::string& output() const { return output_; }

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  int port_ = 0;
  int exit_code_ = -2;  // -2: still running
  std::string output_;
};

double queue_depth(int port) {
  const std::string text = get(port, "/metrics").text;
  const std::string sample = "\ns2s_queue_depth{model=\"m\"} ";
  const auto at = text.find(sample);
  return at == std::string::npos ? -1 : std::stod(text.substr(at + sample.size()));
}

std::string best(const std::string& model, const std::string& input) {
  return s2s::join_tokens(s2s::Predictor(model).predict({s2s::split_tokens(input)})[0]);
}

TEST(ServeCli, SigtermFinishesRequestsInFlightAndExitsZero) {
  s2s::test::TempDir dir;
  const std::string model = s2s::test::save_tiny_model(dir.file("m.pt"));
  ServeProcess server(
      {"--model", "m=" + model, "--port", "0", "--threads", "1", "--max-delay-ms", "10000"});
  ASSERT_GT(server.port(), 0) << server.output();
  const std::vector<std::string> inputs = {"a b c", "e d", "c c a"};
  std::vector<std::future<Reply>> replies;
  for (const auto& input : inputs) {
    replies.push_back(std::async(std::launch::async, [&, input] {
      return post(server.port(), "/v1/models/m/translate", inputs_body({input}));
    }));
  }
  for (int i = 0; i < 500 && queue_depth(server.port()) != 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(queue_depth(server.port()), 3) << server.output();
  server.signal(SIGTERM);
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Reply r = replies[i].get();
    EXPECT_EQ(r.status, 200) << r.text;
    EXPECT_EQ(r.body["outputs"][0], best(model, inputs[i]));
  }
  EXPECT_EQ(server.wait(), 0) << server.output();
  EXPECT_NE(server.output().find("s2s serve: stopping: finishing requests in flight\n"
                                 "s2s serve: stopped\n"),
            std::string::npos)
      << server.output();
}

TEST(ServeCli, SighupReloadsAGoodFileAndKeepsTheOldModelForABadOne) {
  s2s::test::TempDir dir;
  const std::string model = s2s::test::save_tiny_model(dir.file("m.pt"));
  const std::string other = s2s::test::save_tiny_model(dir.file("other.pt"), 99);
  const std::vector<std::string> inputs = {"a b c", "e", "d d a b c e", "b a", "c c c c", "a e"};
  std::vector<std::string> before, after;
  for (const auto& input : inputs) {
    before.push_back(best(model, input));
    after.push_back(best(other, input));
  }
  ASSERT_NE(before, after) << "the two tiny models should differ somewhere";
  ServeProcess server({"--model", "m=" + model, "--port", "0", "--threads", "1"});
  ASSERT_GT(server.port(), 0) << server.output();
  const auto outputs = [&] {
    const Reply r = post(server.port(), "/v1/models/m/translate", inputs_body(inputs));
    std::vector<std::string> got;
    for (const auto& o : r.body["outputs"]) got.push_back(o.get<std::string>());
    return got;
  };
  const auto model_info = [&] { return get(server.port(), "/v1/models").body["models"][0]; };
  EXPECT_EQ(outputs(), before);

  std::filesystem::copy_file(other, model, std::filesystem::copy_options::overwrite_existing);
  server.signal(SIGHUP);
  for (int i = 0; i < 500 && model_info()["loads"] != 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(model_info()["loads"], 2) << server.output();
  EXPECT_EQ(outputs(), after);
  server.read_until([&] { return server.output().find("reloaded m\n") != std::string::npos; });
  EXPECT_NE(server.output().find("s2s serve: reloaded m\n"), std::string::npos);

  s2s::test::write_text(model, "garbage");
  server.signal(SIGHUP);
  for (int i = 0; i < 500 && model_info()["last_reload_error"].is_null(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const json info = model_info();
  ASSERT_TRUE(info["last_reload_error"].is_string()) << server.output();
  EXPECT_EQ(info["loads"], 2);
  EXPECT_EQ(outputs(), after);  // the last good model still answers
  EXPECT_EQ(get(server.port(), "/health").status, 200);
  server.read_until([&] { return server.output().find("failed") != std::string::npos; });
  EXPECT_NE(server.output().find("s2s serve: reload of m failed, still serving the old model: " +
                                 info["last_reload_error"].get<std::string>() + "\n"),
            std::string::npos)
      << server.output();
  server.signal(SIGINT);
  EXPECT_EQ(server.wait(), 0) << server.output();
}

TEST(ServeCli, BadFlagsAreOneLineErrorsWithExitTwo) {
  using s2s::test::run_cli;
  auto r = run_cli("serve --model course");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err,
            "s2s: error: --model course: expected NAME=PATH (e.g. course=runs/course/best.pt)\n");
  r = run_cli("serve --model m=/nonexistent/best.pt --port 0");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err.rfind("s2s: error: /nonexistent/best.pt", 0), 0u) << r.err;
  r = run_cli("serve --model m=x.pt --max-batch 0");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err, "s2s: error: --max-batch must be in [1, 4096], got 0\n");
  r = run_cli("serve --model m=x.pt --precision f16");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err, "s2s: error: unknown precision 'f16': expected f32 or bf16\n");
}

// Off loopback the server warns before it binds (here to an address this machine does not
// have, so nothing listens beyond 127.0.0.1 during the test).
TEST(ServeCli, WarnsOffLoopback) {
  s2s::test::TempDir dir;
  const std::string model = s2s::test::save_tiny_model(dir.file("m.pt"));
  const auto r = s2s::test::run_cli("serve --model m=" + model + " --host 192.0.2.1 --port 0");
  EXPECT_EQ(r.err.rfind("s2s: warning: listening on 192.0.2.1: anyone who can reach this "
                        "address can use your models (no authentication)\n",
                        0),
            0u)
      << r.err;
  EXPECT_NE(r.err.find("s2s: error: serve: cannot listen on 192.0.2.1"), std::string::npos)
      << r.err;
  EXPECT_EQ(r.status, 2);
}

}  // namespace
