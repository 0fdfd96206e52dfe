#include "serve/translate_api.h"

#include <fmt/core.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "s2s/corpus.h"  // split_tokens, join_tokens

namespace s2s::serve {

using nlohmann::json;

namespace {

[[noreturn]] void refuse(const std::string& message) {
  throw RequestError(400, message);
}

int64_t integer_field(const json& body, const char* key, int64_t fallback, int64_t low,
                      int64_t high, const char* limit_note) {
  const auto it = body.find(key);
  if (it == body.end()) return fallback;
  if (!it->is_number_integer()) refuse(fmt::format("\"{}\" must be an integer", key));
  // Non-negative JSON integers are number_unsigned (up to 2^64 - 1): compare them unsigned.
  const bool in_range =
      it->is_number_unsigned()
          ? it->get<uint64_t>() <= static_cast<uint64_t>(high) &&
                it->get<uint64_t>() >= static_cast<uint64_t>(std::max<int64_t>(low, 0))
          : it->get<int64_t>() >= low && it->get<int64_t>() <= high;
  if (!in_range) {
    refuse(fmt::format("\"{}\" must be in [{}, {}]{}, got {}", key, low, high, limit_note,
                       it->dump()));
  }
  return it->get<int64_t>();
}

json hypothesis_json(const Prediction& p) {
  return {{"output", join_tokens(p.tokens)},
          {"score", p.score},
          {"log_prob", p.log_prob},
          {"ended", p.ended}};
}

}  // namespace

TranslateRequest parse_translate_request(std::string_view body_text, const RequestLimits& limits) {
  json body;
  try {
    body = json::parse(body_text.begin(), body_text.end());
  } catch (const json::parse_error& e) {
    // e.byte is where the parser stopped; nlohmann's own message repeats the input.
    refuse(fmt::format("malformed JSON at byte {}", e.byte));
  } catch (const json::exception&) {
    // out_of_range 406: a number beyond double's range ("1e999"), found by fuzz/serve_request.
    refuse("malformed JSON: a number out of range");
  }
  if (!body.is_object()) refuse("the body must be a JSON object with \"inputs\"");
  for (const auto& [key, value] : body.items()) {
    if (key != "inputs" && key != "n_best" && key != "return_scores" && key != "timeout_ms") {
      refuse(fmt::format("unknown field \"{}\" (known: inputs, n_best, return_scores, timeout_ms)",
                         key));
    }
  }
  const auto inputs = body.find("inputs");
  if (inputs == body.end()) refuse("missing \"inputs\": an array of strings");
  if (!inputs->is_array()) refuse("\"inputs\" must be an array of strings");
  if (inputs->empty()) refuse("\"inputs\" is empty");
  if (static_cast<int64_t>(inputs->size()) > limits.max_inputs) {
    refuse(fmt::format("{} inputs; at most {} per request (--max-inputs)", inputs->size(),
                       limits.max_inputs));
  }
  TranslateRequest request;
  for (size_t i = 0; i < inputs->size(); ++i) {
    const json& input = (*inputs)[i];
    if (!input.is_string()) refuse(fmt::format("inputs[{}] must be a string", i));
    auto tokens = split_tokens(input.get<std::string>());
    if (tokens.empty()) refuse(fmt::format("inputs[{}] has no tokens", i));
    if (static_cast<int64_t>(tokens.size()) > limits.max_input_tokens) {
      refuse(fmt::format("inputs[{}] has {} tokens; at most {} (--max-input-tokens)", i,
                         tokens.size(), limits.max_input_tokens));
    }
    request.sources.push_back(std::move(tokens));
  }
  request.n_best = integer_field(body, "n_best", 1, 1, limits.max_n_best, " (up to --beam)");
  request.timeout_ms =
      integer_field(body, "timeout_ms", limits.default_timeout_ms, 1, limits.max_timeout_ms, "");
  if (const auto it = body.find("return_scores"); it != body.end()) {
    if (!it->is_boolean()) refuse("\"return_scores\" must be true or false");
    request.return_scores = it->get<bool>();
  }
  return request;
}

std::string translate_response(const std::string& model, const TranslateRequest& request,
                               const std::vector<std::vector<Prediction>>& results,
                               const std::vector<int64_t>& unknown_tokens) {
  json outputs = json::array(), scores = json::array(), hypotheses = json::array();
  for (const auto& predictions : results) {
    outputs.push_back(predictions.empty() ? "" : join_tokens(predictions.front().tokens));
    scores.push_back(predictions.empty() ? json(nullptr) : json(predictions.front().score));
    json list = json::array();
    for (const auto& p : predictions) list.push_back(hypothesis_json(p));
    hypotheses.push_back(std::move(list));
  }
  json out = {{"model", model}, {"outputs", outputs}, {"unknown_tokens", unknown_tokens}};
  if (request.return_scores) out["scores"] = std::move(scores);
  if (request.n_best > 1) out["hypotheses"] = std::move(hypotheses);
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string error_body(const std::string& message) {
  return json{{"error", message}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace s2s::serve
