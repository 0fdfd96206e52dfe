// Helpers of the serve tests: tiny briefly trained models saved as checkpoints, a server on
// 127.0.0.1 at a free port, and JSON requests to it.
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/test_util.h"  // TempDir
#include "infer/tiny_model.h"
#include "s2s/checkpoint.h"
#include "s2s/serve.h"

namespace s2s::test {

// A 2-layer GRU over the tokens a..e trained a moment on reversal (tests/infer/tiny_model.h);
// different seeds give different models.
inline std::string save_tiny_model(const std::string& path, uint64_t seed = 21) {
  const Vocab vocab = Vocab::from_tokens({"a", "b", "c", "d", "e"});
  Seq2Seq model = trained_tiny_model(vocab.size(), RnnImpl::OneDNN, seed);
  CheckpointMeta meta;
  meta.config_json = R"({"cell": "gru", "hidden": 16, "layers": 2, "dropout": 0})";
  save_checkpoint(path, model, vocab, meta);
  return path;
}

inline ServeOptions loopback_options(const std::vector<ModelSpec>& models) {
  ServeOptions o;
  o.models = models;
  o.host = "127.0.0.1";
  o.port = 0;
  o.http_threads = 16;
  return o;
}

struct Reply {
  int status = -1;  // -1: no HTTP answer at all
  nlohmann::json body;
  std::string text;
  std::string retry_after;
};

inline Reply to_reply(const httplib::Result& res) {
  Reply r;
  if (!res) return r;
  r.status = res->status;
  r.text = res->body;
  r.retry_after = res->get_header_value("Retry-After");
  r.body = nlohmann::json::parse(res->body, nullptr, /*allow_exceptions=*/false);
  return r;
}

inline Reply post(int port, const std::string& path, const std::string& body) {
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(60, 0);
  return to_reply(client.Post(path.c_str(), body, "application/json"));
}

inline Reply get(int port, const std::string& path) {
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(60, 0);
  return to_reply(client.Get(path.c_str()));
}

inline std::string inputs_body(const std::vector<std::string>& inputs,
                               const nlohmann::json& extra = nlohmann::json::object()) {
  nlohmann::json body = extra;
  body["inputs"] = inputs;
  return body.dump();
}

}  // namespace s2s::test
