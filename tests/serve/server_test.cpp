// The model server in-process on 127.0.0.1: each endpoint, batched results against the
// Predictor decoding each sentence alone, every bad input of issue 15's item 3 with its status
// (and /health still answering after it), the bounded queue, deadlines, reload and drain.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <thread>

#include "s2s/corpus.h"
#include "s2s/decode.h"
#include "s2s/error.h"
#include "serve/serve_test_util.h"

namespace {

using nlohmann::json;
using s2s::test::get;
using s2s::test::inputs_body;
using s2s::test::post;
using s2s::test::Reply;

const std::vector<std::string> kInputs = {"a b c", "e", "d d a b c e", "b a", "c c c c",
                                          "a e",   "b", "e d c b a",   "a a", "c b"};

std::vector<std::vector<std::string>> tokens_of(const std::vector<std::string>& inputs) {
  std::vector<std::vector<std::string>> out;
  for (const auto& text : inputs) out.push_back(s2s::split_tokens(text));
  return out;
}

std::string join(const std::vector<std::string>& tokens) {
  return s2s::join_tokens(tokens);
}

// The value of one un-labelled-or-labelled sample line of a /metrics scrape; -1 if absent.
double metric(const std::string& text, const std::string& sample) {
  const auto at = text.find("\n" + sample + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + sample.size() + 2));
}

class ServeTest : public ::testing::Test {
 protected:
  void SetUp() override { model_ = s2s::test::save_tiny_model(dir_.file("m.pt")); }
  std::unique_ptr<s2s::ModelServer> start(s2s::ServeOptions o) {
    auto server = s2s::start_server(o);
    port_ = server->port();
    return server;
  }
  s2s::ServeOptions options() { return s2s::test::loopback_options({{"m", model_}}); }
  void expect_healthy() {
    const Reply r = get(port_, "/health");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, json::parse(R"({"status": "ok"})"));
  }
  s2s::test::TempDir dir_;
  std::string model_;
  int port_ = 0;
};

TEST_F(ServeTest, HealthReadyModelsAndMetricsAnswer) {
  auto o = options();
  o.models.push_back({"second", s2s::test::save_tiny_model(dir_.file("second.pt"), 7)});
  o.search.beam = 3;
  auto server = start(o);
  expect_healthy();
  EXPECT_EQ(get(port_, "/ready").body, json::parse(R"({"ready": true})"));
  const Reply models = get(port_, "/v1/models");
  ASSERT_EQ(models.status, 200);
  ASSERT_EQ(models.body["models"].size(), 2u);
  EXPECT_EQ(models.body["models"][0]["name"], "m");
  EXPECT_EQ(models.body["models"][0]["path"], model_);
  EXPECT_EQ(models.body["models"][0]["vocab_size"], 9);  // 4 specials + a..e
  EXPECT_EQ(models.body["models"][0]["config"]["hidden"], 16);
  EXPECT_EQ(models.body["models"][0]["loads"], 1);
  EXPECT_EQ(models.body["models"][1]["name"], "second");
  EXPECT_EQ(models.body["server"]["beam"], 3);
  ASSERT_EQ(post(port_, "/v1/models/second/translate", inputs_body({"a b", "c"})).status, 200);
  httplib::Client client("127.0.0.1", port_);
  auto scrape = client.Get("/metrics");
  ASSERT_TRUE(scrape);
  EXPECT_EQ(scrape->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  const std::string& text = scrape->body;
  EXPECT_EQ(metric(text, "s2s_ready"), 1);
  EXPECT_EQ(metric(text, "s2s_sentences_total{model=\"second\"}"), 2);
  EXPECT_EQ(metric(text, "s2s_sentences_total{model=\"m\"}"), 0);
  EXPECT_EQ(metric(text, "s2s_input_tokens_total{model=\"second\"}"), 3);
  EXPECT_EQ(metric(text, "s2s_http_requests_total{endpoint=\"translate\",code=\"200\"}"), 1);
  EXPECT_EQ(metric(text, "s2s_http_requests_total{endpoint=\"health\",code=\"200\"}"), 1);
  EXPECT_EQ(metric(text, "s2s_batch_size_sentences_count{model=\"second\"}"), 1);
  EXPECT_EQ(metric(text, "s2s_queue_wait_seconds_count{model=\"second\"}"), 2);
  EXPECT_EQ(metric(text, "s2s_compute_seconds_count{model=\"second\"}"), 1);
  EXPECT_EQ(metric(text, "s2s_request_seconds_count{model=\"second\"}"), 1);
  EXPECT_EQ(metric(text, "s2s_queue_depth{model=\"second\"}"), 0);
}

TEST_F(ServeTest, TranslateGivesWhatThePredictorGivesWithScoresAndNBest) {
  auto o = options();
  o.search.beam = 3;
  o.search.length_penalty = s2s::LengthPenalty::parse("avg");
  auto server = start(o);
  s2s::Predictor predictor(model_);
  s2s::SearchOptions search = o.search;
  search.n_best = 3;
  const auto expected = predictor.predict_n_best(tokens_of(kInputs), search, 1);
  const Reply r = post(port_, "/v1/models/m/translate",
                       inputs_body(kInputs, {{"n_best", 3}, {"return_scores", true}}));
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.body["model"], "m");
  ASSERT_EQ(r.body["outputs"].size(), kInputs.size());
  for (size_t i = 0; i < kInputs.size(); ++i) {
    EXPECT_EQ(r.body["outputs"][i], join(expected[i][0].tokens)) << kInputs[i];
    EXPECT_NEAR(r.body["scores"][i].get<double>(), expected[i][0].score, 1e-5);
    EXPECT_EQ(r.body["unknown_tokens"][i], 0);
    ASSERT_EQ(r.body["hypotheses"][i].size(), expected[i].size());
    for (size_t k = 0; k < expected[i].size(); ++k) {
      const json& h = r.body["hypotheses"][i][k];
      EXPECT_EQ(h["output"], join(expected[i][k].tokens));
      EXPECT_NEAR(h["score"].get<double>(), expected[i][k].score, 1e-5);
      EXPECT_NEAR(h["log_prob"].get<double>(), expected[i][k].log_prob, 1e-5);
      EXPECT_EQ(h["ended"], expected[i][k].ended);
    }
  }
  // Without n_best and return_scores: outputs only.
  const Reply plain = post(port_, "/v1/models/m/translate", inputs_body({"a b c"}));
  EXPECT_FALSE(plain.body.contains("scores"));
  EXPECT_FALSE(plain.body.contains("hypotheses"));
}

// Many clients at once, batches of at most 3 sentences, and a request of 10 sentences split
// across batches: every sentence's result is the Predictor's for that sentence alone.
// One batcher thread per model: two models decode at the same moment in one process (their
// fused oneDNN steps side by side), and each still answers what its Predictor gives alone.
TEST_F(ServeTest, TwoModelsDecodingAtOnceEachAnswerWhatTheirPredictorGives) {
  auto o = options();
  const std::string second = s2s::test::save_tiny_model(dir_.file("second.pt"), 7);
  o.models.push_back({"second", second});
  o.max_batch = 2;
  o.max_delay_ms = 0;
  auto server = start(o);
  const auto expected_m = s2s::Predictor(model_).predict(tokens_of(kInputs));
  const auto expected_second = s2s::Predictor(second).predict(tokens_of(kInputs));
  ASSERT_NE(expected_m, expected_second);  // the two models differ, so a mix-up shows
  std::vector<std::future<std::vector<Reply>>> clients;
  for (const std::string name : {"m", "second", "m", "second"}) {
    clients.push_back(std::async(std::launch::async, [&, name] {
      std::vector<Reply> replies;
      for (int round = 0; round < 10; ++round) {
        replies.push_back(post(port_, "/v1/models/" + name + "/translate", inputs_body(kInputs)));
      }
      return replies;
    }));
  }
  for (size_t c = 0; c < clients.size(); ++c) {
    const auto& expected = c % 2 == 0 ? expected_m : expected_second;
    for (const Reply& r : clients[c].get()) {
      ASSERT_EQ(r.status, 200) << r.text;
      for (size_t i = 0; i < kInputs.size(); ++i) {
        EXPECT_EQ(r.body["outputs"][i], join(expected[i])) << "client " << c << " input " << i;
      }
    }
  }
  expect_healthy();
}

TEST_F(ServeTest, BatchedResultsEqualOneByOneResults) {
  auto o = options();
  o.search.beam = 2;
  o.max_batch = 3;
  o.max_delay_ms = 20;
  auto server = start(o);
  s2s::Predictor predictor(model_);
  s2s::SearchOptions search = o.search;
  search.n_best = 2;
  const auto alone = predictor.predict_n_best(tokens_of(kInputs), search, /*batch=*/1);

  std::vector<std::future<Reply>> replies;
  for (size_t i = 0; i < kInputs.size(); ++i) {
    replies.push_back(std::async(std::launch::async, [&, i] {
      return post(port_, "/v1/models/m/translate",
                  inputs_body({kInputs[i]}, {{"n_best", 2}, {"return_scores", true}}));
    }));
  }
  replies.push_back(std::async(std::launch::async, [&] {
    return post(port_, "/v1/models/m/translate",
                inputs_body(kInputs, {{"n_best", 2}, {"return_scores", true}}));
  }));
  for (size_t i = 0; i < kInputs.size(); ++i) {
    const Reply r = replies[i].get();
    ASSERT_EQ(r.status, 200) << r.text;
    EXPECT_EQ(r.body["outputs"][0], join(alone[i][0].tokens));
    EXPECT_EQ(r.body["hypotheses"][0][1]["output"], join(alone[i][1].tokens));
    EXPECT_NEAR(r.body["scores"][0].get<double>(), alone[i][0].score, 1e-5);
  }
  const Reply all = replies.back().get();
  ASSERT_EQ(all.status, 200) << all.text;
  for (size_t i = 0; i < kInputs.size(); ++i) {
    EXPECT_EQ(all.body["outputs"][i], join(alone[i][0].tokens)) << i;
    EXPECT_EQ(all.body["hypotheses"][i][1]["output"], join(alone[i][1].tokens)) << i;
    EXPECT_NEAR(all.body["scores"][i].get<double>(), alone[i][0].score, 1e-5);
  }
  // 20 sentences in batches of at most 3: at least 7 batches, none over 3.
  const std::string text = get(port_, "/metrics").text;
  EXPECT_GE(metric(text, "s2s_batches_total{model=\"m\"}"), 7);
  // The histogram's buckets are 1, 2, 4, 8, ...: no batch above the le="4" bucket.
  EXPECT_EQ(metric(text, "s2s_batch_size_sentences_bucket{model=\"m\",le=\"4\"}"),
            metric(text, "s2s_batch_size_sentences_count{model=\"m\"}"));
  EXPECT_EQ(metric(text, "s2s_sentences_total{model=\"m\"}"), 20);
}

// Sends `raw` bytes on a new connection and returns what comes back before the server closes
// it (or 10 s pass).
std::string raw_exchange(int port, const std::string& raw, int pause_ms = 0,
                         const std::string& rest = "") {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return "";
  }
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  [[maybe_unused]] ssize_t sent = ::send(fd, raw.data(), raw.size(), MSG_NOSIGNAL);
  if (pause_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms));
  if (!rest.empty()) sent = ::send(fd, rest.data(), rest.size(), MSG_NOSIGNAL);
  std::string got;
  char buf[4096];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;)
    got.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return got;
}

TEST_F(ServeTest, EveryBadInputGetsItsStatusAndTheServerKeepsServing) {
  auto o = options();
  o.max_inputs = 4;
  o.max_input_tokens = 6;
  o.max_body_bytes = 2000;
  o.read_timeout_ms = 300;
  auto server = start(o);
  const std::string url = "/v1/models/m/translate";
  struct Case {
    const char* what;
    std::string path;
    std::string body;
    int status;
    std::string error_starts;
  };
  const std::vector<Case> cases = {
      {"malformed JSON", url, R"({"inputs": ["a")", 400, "malformed JSON"},
      {"wrong type", url, R"({"inputs": "a b"})", 400, "\"inputs\" must be an array"},
      {"wrong element type", url, R"({"inputs": [["a"]]})", 400, "inputs[0] must be a string"},
      {"wrong option type", url, R"({"inputs": ["a"], "n_best": "x"})", 400, "\"n_best\" must"},
      {"n_best over the beam", url, R"({"inputs": ["a"], "n_best": 2})", 400,
       "\"n_best\" must be in [1, 1]"},
      {"empty inputs", url, R"({"inputs": []})", 400, "\"inputs\" is empty"},
      {"missing inputs", url, R"({"n_best": 1})", 400, "missing \"inputs\""},
      {"empty input", url, R"({"inputs": ["   "]})", 400, "inputs[0] has no tokens"},
      {"too many inputs", url, inputs_body({"a", "b", "c", "d", "e"}), 400,
       "5 inputs; at most 4 per request (--max-inputs)"},
      {"too long input", url, inputs_body({"a b c d e a b"}), 400,
       "inputs[0] has 7 tokens; at most 6 (--max-input-tokens)"},
      {"only unknown tokens", url, inputs_body({"a", "x y"}), 400,
       "inputs[1]: none of its tokens are in the vocabulary of model \"m\""},
      {"unknown model", "/v1/models/nope/translate", inputs_body({"a"}), 404,
       "no model named \"nope\" (serving: m)"},
      {"body over the limit", url, inputs_body({std::string(3000, 'a')}), 413,
       "body over 2000 bytes (--max-body-bytes)"},
      {"unknown endpoint", "/v1/translate", inputs_body({"a"}), 404, "no such endpoint"},
  };
  for (const Case& c : cases) {
    const Reply r = post(port_, c.path, c.body);
    EXPECT_EQ(r.status, c.status) << c.what << ": " << r.text;
    ASSERT_TRUE(r.body.is_object() && r.body.contains("error")) << c.what << ": " << r.text;
    EXPECT_EQ(r.body["error"].get<std::string>().rfind(c.error_starts, 0), 0u)
        << c.what << ": " << r.body["error"];
    expect_healthy();
  }
  // GET on translate: 405 naming POST.
  const Reply wrong_method = get(port_, url);
  EXPECT_EQ(wrong_method.status, 405);
  EXPECT_EQ(wrong_method.body["error"], "translate takes POST with a JSON body");
  // Unknown tokens are decoded as <unk> and counted per input.
  s2s::Predictor predictor(model_);
  const Reply unknown = post(port_, url, inputs_body({"a x b", "c"}));
  ASSERT_EQ(unknown.status, 200) << unknown.text;
  EXPECT_EQ(unknown.body["unknown_tokens"], json::parse("[1, 0]"));
  EXPECT_EQ(unknown.body["outputs"][0], join(predictor.predict({{"a", "x", "b"}})[0]));
  // A slow client: headers, half the body, then silence past --read-timeout-ms. It gets a 400
  // with a JSON error and the connection closes; meanwhile other clients are served.
  const std::string head =
      "POST " + url + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 40\r\n\r\n{\"inputs\"";
  auto slow = std::async(std::launch::async, [&] { return raw_exchange(port_, head); });
  expect_healthy();
  const std::string answer = slow.get();
  EXPECT_EQ(answer.rfind("HTTP/1.1 400", 0), 0u) << answer;
  const auto body_at = answer.find("\r\n\r\n");
  ASSERT_NE(body_at, std::string::npos) << answer;
  EXPECT_EQ(json::parse(answer.substr(body_at + 4))["error"].get<std::string>().rfind(
                "bad request: malformed HTTP, or the body did not arrive within 300 ms", 0),
            0u)
      << answer;
  // Garbage instead of HTTP.
  const std::string garbage = raw_exchange(port_, "\x01\x02 not http at all\r\n\r\n");
  EXPECT_EQ(garbage.rfind("HTTP/1.1 400", 0), 0u) << garbage;
  expect_healthy();
  // Every refusal was counted by status.
  const std::string text = get(port_, "/metrics").text;
  EXPECT_EQ(metric(text, "s2s_http_requests_total{endpoint=\"translate\",code=\"400\"}"), 12);
  EXPECT_EQ(metric(text, "s2s_http_requests_total{endpoint=\"translate\",code=\"413\"}"), 1);
  EXPECT_EQ(metric(text, "s2s_http_requests_total{endpoint=\"translate\",code=\"404\"}"), 1);
}

// A batcher that waits a minute for company holds what it is given: the queue's bound is
// reached deterministically.
TEST_F(ServeTest, FullQueueGives503WithRetryAfterAndADeadlineGives504) {
  auto o = options();
  o.max_batch = 64;
  o.max_delay_ms = 10000;
  o.max_queue = 4;
  o.max_inputs = 4;
  auto server = start(o);
  const std::string url = "/v1/models/m/translate";
  auto held = std::async(std::launch::async, [&] {
    return post(port_, url, inputs_body({"a", "b", "c"}, {{"timeout_ms", 1500}}));
  });
  // Wait until the three sentences are queued.
  for (int i = 0;
       i < 500 && metric(get(port_, "/metrics").text, "s2s_queue_depth{model=\"m\"}") != 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(metric(get(port_, "/metrics").text, "s2s_queue_depth{model=\"m\"}"), 3);
  const Reply full = post(port_, url, inputs_body({"a", "b"}));
  EXPECT_EQ(full.status, 503) << full.text;
  EXPECT_EQ(full.retry_after, "1");
  EXPECT_EQ(full.body["error"],
            "model \"m\" is busy: its queue cannot take 2 more sentences (--max-queue 4); retry "
            "later");
  expect_healthy();
  const Reply late = held.get();
  EXPECT_EQ(late.status, 504) << late.text;
  EXPECT_EQ(late.body["error"], "not decoded within 1500 ms (timeout_ms; default --timeout-ms)");
  // The timed-out request's sentences left the queue: room again.
  EXPECT_EQ(metric(get(port_, "/metrics").text, "s2s_queue_depth{model=\"m\"}"), 0);
  auto again = std::async(std::launch::async, [&] {
    return post(port_, url, inputs_body({"a", "b", "c", "d"}, {{"timeout_ms", 200}}));
  });
  EXPECT_EQ(again.get().status, 504);
  expect_healthy();
}

// The kernel's queue of connections the server has not accepted yet. Debian's httplib listens
// with a backlog of 5: wrk opening 64 connections at once overflowed it, the dropped handshakes
// were retransmitted 1-3 s later, and those requests made the p99 (docs/PERFORMANCE.md).
// Whether a burst overflows depends on scheduling, so the test reads the queue's length: for
// a listening socket, TCP_INFO's tcpi_sacked is its backlog (what `ss -lnt` shows as Send-Q).
TEST_F(ServeTest, ListenQueueTakesABurstOfConnections) {
  auto server = start(options());
  int backlog = -1;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    const int fd = std::stoi(entry.path().filename().string());
    int listening = 0;
    socklen_t size = sizeof listening;
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &size) != 0 || !listening) continue;
    sockaddr_in address{};
    socklen_t address_size = sizeof address;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&address), &address_size) != 0 ||
        address.sin_family != AF_INET || ntohs(address.sin_port) != port_) {
      continue;
    }
    tcp_info info{};
    socklen_t info_size = sizeof info;
    ASSERT_EQ(getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &info_size), 0);
    backlog = static_cast<int>(info.tcpi_sacked);
  }
  ASSERT_NE(backlog, -1) << "no listening socket on port " << port_;
  EXPECT_GE(backlog, 64) << "64 clients connecting at once would overflow the listen queue";
}

// An open connection holds an HTTP thread. With both of 2 threads held by clients that keep
// their connections busy, a third client is answered while they go on (the server closes a
// connection after a bounded number of answers and the waiting one gets its thread), not only
// once they stop.
TEST_F(ServeTest, AClientBeyondTheHttpThreadsIsAnsweredWhileOthersKeepTheirConnectionsBusy) {
  auto o = options();
  o.http_threads = 2;
  o.max_delay_ms = 0;
  auto server = start(o);
  const std::string url = "/v1/models/m/translate";
  const std::string body = inputs_body({"a b"});
  constexpr int kBound = 3000;  // requests per busy client at most: the test ends regardless
  std::atomic<bool> third_answered{false};
  std::atomic<int> busy_started{0};
  const auto busy = [&] {
    httplib::Client client("127.0.0.1", port_);
    client.set_keep_alive(true);
    client.set_tcp_nodelay(true);  // else each request waits for a delayed ACK (Nagle)
    client.set_read_timeout(60, 0);
    int sent = 0, answered = 0;
    while (!third_answered && sent < kBound) {
      const auto r = client.Post(url.c_str(), body, "application/json");
      answered += r && r->status == 200;
      if (++sent == 1) ++busy_started;
    }
    return std::make_pair(sent, answered);
  };
  auto first = std::async(std::launch::async, busy);
  auto second = std::async(std::launch::async, busy);
  for (int i = 0; i < 3000 && busy_started < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ASSERT_EQ(busy_started, 2);
  const Reply third = post(port_, url, body);
  third_answered = true;
  EXPECT_EQ(third.status, 200) << third.text;
  for (auto* client : {&first, &second}) {
    const auto [sent, answered] = client->get();
    EXPECT_LT(sent, kBound) << "the third client was answered only after the busy ones stopped";
    EXPECT_EQ(answered, sent);
  }
}

TEST_F(ServeTest, ReloadSwitchesToAGoodFileAndKeepsTheOldModelOnABadOne) {
  auto server = start(options());
  const std::string url = "/v1/models/m/translate";
  const std::string other = s2s::test::save_tiny_model(dir_.file("other.pt"), 99);
  const auto before = s2s::Predictor(model_).predict(tokens_of(kInputs));
  const auto after = s2s::Predictor(other).predict(tokens_of(kInputs));
  ASSERT_NE(before, after) << "the two tiny models should differ somewhere";
  const auto outputs = [&] {
    const Reply r = post(port_, url, inputs_body(kInputs));
    std::vector<std::vector<std::string>> got;
    for (const auto& o : r.body["outputs"]) got.push_back(tokens_of({o.get<std::string>()})[0]);
    return got;
  };
  EXPECT_EQ(outputs(), before);
  std::filesystem::copy_file(other, model_, std::filesystem::copy_options::overwrite_existing);
  auto results = server->reload();
  ASSERT_EQ(results.size(), 1u);
  EXPECT_TRUE(results[0].ok) << results[0].error;
  EXPECT_EQ(outputs(), after);
  EXPECT_EQ(get(port_, "/v1/models").body["models"][0]["loads"], 2);

  s2s::test::write_text(model_, "not a checkpoint");
  results = server->reload();
  EXPECT_FALSE(results[0].ok);
  EXPECT_NE(results[0].error.find(model_), std::string::npos) << results[0].error;
  EXPECT_EQ(outputs(), after);  // still the last good model
  const json info = get(port_, "/v1/models").body["models"][0];
  EXPECT_EQ(info["loads"], 2);
  EXPECT_EQ(info["last_reload_error"], results[0].error);
  const std::string text = get(port_, "/metrics").text;
  EXPECT_EQ(metric(text, "s2s_model_reloads_total{model=\"m\",result=\"ok\"}"), 1);
  EXPECT_EQ(metric(text, "s2s_model_reloads_total{model=\"m\",result=\"failed\"}"), 1);
}

// Requests waiting in the queue when the drain starts are decoded at once and answered; then
// the server accepts nothing more.
TEST_F(ServeTest, ShutdownFinishesRequestsInFlight) {
  auto o = options();
  o.max_delay_ms = 10000;
  auto server = start(o);
  const std::string url = "/v1/models/m/translate";
  const auto expected = s2s::Predictor(model_).predict(tokens_of(kInputs));
  std::vector<std::future<Reply>> replies;
  for (size_t i = 0; i < 4; ++i) {
    replies.push_back(std::async(std::launch::async,
                                 [&, i] { return post(port_, url, inputs_body({kInputs[i]})); }));
  }
  for (int i = 0;
       i < 500 && metric(get(port_, "/metrics").text, "s2s_queue_depth{model=\"m\"}") != 4; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(metric(get(port_, "/metrics").text, "s2s_queue_depth{model=\"m\"}"), 4);
  EXPECT_TRUE(server->shutdown(std::chrono::seconds(30)));
  for (size_t i = 0; i < 4; ++i) {
    const Reply r = replies[i].get();
    EXPECT_EQ(r.status, 200) << r.text;
    EXPECT_EQ(r.body["outputs"][0], join(expected[i]));
  }
  EXPECT_EQ(get(port_, "/health").status, -1);  // nobody listens any more
}

TEST(ServeOptions, BadValuesNameTheirFlag) {
  s2s::ServeOptions o;
  const auto message = [](const s2s::ServeOptions& bad) {
    try {
      bad.check();
    } catch (const s2s::Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_EQ(message(o), "--model: give at least one NAME=PATH");
  o.models = {{"m", "x.pt"}, {"m", "y.pt"}};
  EXPECT_EQ(message(o), "--model m: the name is given twice");
  o.models = {{"m", "x.pt"}};
  o.max_batch = 0;
  EXPECT_EQ(message(o), "--max-batch must be in [1, 4096], got 0");
  o.max_batch = 8;
  o.max_inputs = 2000;
  EXPECT_EQ(message(o),
            "--max-inputs 2000 is above --max-queue 1024: a request that large could never be "
            "queued");
  o.max_inputs = 8;
  o.search.beam = 0;
  EXPECT_EQ(message(o).rfind("--beam", 0), 0u) << message(o);
  EXPECT_EQ(s2s::parse_model_spec("g2p=runs/g2p/best.pt").path, "runs/g2p/best.pt");
  EXPECT_THROW(s2s::parse_model_spec("runs/g2p/best.pt"), s2s::Error);
  EXPECT_THROW(s2s::parse_model_spec("a/b=x.pt"), s2s::Error);
  EXPECT_THROW(s2s::parse_model_spec("g2p="), s2s::Error);
  EXPECT_THROW(s2s::start_server(s2s::test::loopback_options({{"m", "/nonexistent.pt"}})),
               s2s::Error);
}

}  // namespace
