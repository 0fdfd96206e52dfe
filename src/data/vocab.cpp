// Vocabulary: special tokens first, then data tokens in first-seen order.
#include "s2s/vocab.h"

#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include "s2s/error.h"
#include "s2s/file_io.h"

namespace s2s {
namespace {
constexpr const char* kFormat = "s2s-vocab";
constexpr int kVersion = 1;
}  // namespace

Vocab::Vocab() {
  for (const char* t : {kPadToken, kSosToken, kEosToken, kUnkToken}) add(t);
}

Vocab Vocab::from_corpus(const Corpus& corpus) {
  Vocab vocab;
  for (size_t id = 0; id < corpus.num_tokens(); ++id) {
    vocab.add(corpus.token(static_cast<int32_t>(id)));
  }
  return vocab;
}

Vocab Vocab::from_tokens(const std::vector<std::string>& tokens) {
  Vocab vocab;
  for (const std::string& t : tokens) vocab.add(t);
  return vocab;
}

int64_t Vocab::add(std::string_view token) {
  std::string key(token);
  auto it = ids_.find(key);
  if (it != ids_.end()) return it->second;
  const auto id = static_cast<int64_t>(tokens_.size());
  tokens_.push_back(key);
  ids_.emplace(std::move(key), id);
  return id;
}

int64_t Vocab::id(std::string_view token) const {
  auto it = ids_.find(std::string(token));
  return it == ids_.end() ? kUnkId : it->second;
}

bool Vocab::contains(std::string_view token) const {
  return ids_.count(std::string(token)) > 0;
}

const std::string& Vocab::token(int64_t id) const {
  if (id < 0 || id >= size()) {
    throw Error(
        fmt::format("token id {} is out of range for a vocabulary of {} tokens", id, size()));
  }
  return tokens_[static_cast<size_t>(id)];
}

std::vector<int64_t> Vocab::encode(const std::vector<std::string>& tokens, int64_t* unknown) const {
  std::vector<int64_t> ids;
  ids.reserve(tokens.size());
  for (const std::string& t : tokens) {
    auto it = ids_.find(t);
    if (it == ids_.end()) {
      ids.push_back(kUnkId);
      if (unknown != nullptr) ++*unknown;
    } else {
      ids.push_back(it->second);
    }
  }
  return ids;
}

std::vector<std::string> Vocab::decode(const std::vector<int64_t>& ids) const {
  std::vector<std::string> out;
  for (int64_t id : ids) {
    if (id == kEosId) break;
    if (id == kPadId || id == kSosId) continue;
    out.push_back(token(id));
  }
  return out;
}

std::string Vocab::to_json() const {
  nlohmann::json j;
  j["format"] = kFormat;
  j["version"] = kVersion;
  j["tokens"] = tokens_;
  return j.dump();
}

Vocab Vocab::from_json(std::string_view text, const std::string& source) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("{}: not valid JSON: {}", source, e.what()));
  }
  // Not j.value("format", ...): it throws nlohmann's type_error when "format" is not a string
  // (found by fuzz/vocab_fuzz.cpp).
  if (!j.is_object() || !j.contains("format") || j["format"] != kFormat) {
    throw Error(
        fmt::format("{}: not an s2s vocabulary (expected \"format\": \"{}\")", source, kFormat));
  }
  if (!j.contains("version") || !j["version"].is_number_integer() || j["version"] != kVersion) {
    throw Error(fmt::format("{}: unsupported vocabulary version (expected {})", source, kVersion));
  }
  const auto& tokens = j["tokens"];
  if (!tokens.is_array()) throw Error(fmt::format("{}: \"tokens\" must be an array", source));
  Vocab vocab;
  vocab.tokens_.clear();
  vocab.ids_.clear();
  for (const auto& t : tokens) {
    if (!t.is_string()) throw Error(fmt::format("{}: every token must be a string", source));
    const std::string s = t.get<std::string>();
    if (vocab.ids_.count(s) > 0) {
      throw Error(fmt::format("{}: token '{}' appears twice", source, s));
    }
    vocab.add(s);
  }
  const char* specials[] = {kPadToken, kSosToken, kEosToken, kUnkToken};
  for (int64_t i = 0; i < kNumSpecialTokens; ++i) {
    if (vocab.size() <= i || vocab.tokens_[static_cast<size_t>(i)] != specials[i]) {
      throw Error(fmt::format("{}: token {} must be '{}'", source, i, specials[i]));
    }
  }
  return vocab;
}

void Vocab::save(const std::string& path) const {
  write_file_atomic(path, to_json() + "\n");
}

Vocab Vocab::load(const std::string& path) {
  return from_json(read_file(path), path);
}

std::string UnknownTokens::describe() const {
  if (tokens == 0) return "";
  std::string examples_text;
  for (size_t i = 0; i < examples.size(); ++i) examples_text += (i ? ", " : "") + examples[i];
  return fmt::format("{} token{} in {} row{} {} not in the vocabulary and map to <unk> (e.g. {})",
                     tokens, tokens == 1 ? "" : "s", rows, rows == 1 ? "" : "s",
                     tokens == 1 ? "is" : "are", examples_text);
}

}  // namespace s2s
