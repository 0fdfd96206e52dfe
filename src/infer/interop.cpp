#include "s2s/interop.h"

#include <ATen/ATen.h>
#include <torch/csrc/jit/serialization/pickle.h>

#include <nlohmann/json.hpp>
#include <set>

#include "s2s/checkpoint.h"
#include "s2s/error.h"
#include "s2s/file_io.h"

namespace s2s {

void export_state_dict(const std::string& model_path, const std::string& state_dict_path,
                       const std::string& vocab_path) {
  LoadedCheckpoint ck = load_checkpoint(model_path);
  // A c10::Dict pickled by torch::jit::pickle_save is what Python's torch.load returns as a dict.
  c10::Dict<std::string, at::Tensor> dict;
  for (const auto& p : ck.model->named_parameters()) dict.insert(p.key(), p.value().detach());
  const std::vector<char> bytes = torch::jit::pickle_save(c10::IValue(dict));
  write_file_atomic(state_dict_path, std::string_view(bytes.data(), bytes.size()));
  ck.vocab.save(vocab_path);
}

namespace {

// Cell, width, depth and attention settings of a reference-model state_dict, read off its tensor
// names and shapes: attn.* means attention (general has linear_in, concat v, dot neither), a
// decoder input twice the width means input feeding, *_reverse encoder weights bidirectional
// (and an encoder half the decoder's width, directions concatenated).
Seq2SeqOptions options_from_shapes(const std::map<std::string, at::Tensor>& t,
                                   const std::string& source) {
  const auto need = [&](const std::string& key) -> const at::Tensor& {
    auto it = t.find(key);
    if (it == t.end()) throw Error(source + ": state_dict has no tensor '" + key + "'");
    return it->second;
  };
  const at::Tensor& emb = need("enc_emb.weight");
  const at::Tensor& whh = need("enc.weight_hh_l0");
  if (emb.dim() != 2 || whh.dim() != 2) throw Error(source + ": unexpected tensor ranks");
  const int64_t hidden = emb.size(1);
  const bool bidirectional = t.count("enc.weight_hh_l0_reverse") > 0;
  const bool halves = bidirectional && 2 * whh.size(1) == hidden;
  if (whh.size(1) != hidden && !halves) {
    throw Error(source + ": enc.weight_hh_l0 is " + std::to_string(whh.size(1)) +
                " wide but the embeddings " + std::to_string(hidden));
  }
  const int64_t gates = whh.size(0) / std::max<int64_t>(whh.size(1), 1);
  Cell cell = Cell::GRU;
  if (gates == 1)
    cell = Cell::RNN;
  else if (gates == 4)
    cell = Cell::LSTM;
  else if (gates != 3)
    throw Error(source + ": enc.weight_hh_l0 has an unexpected shape");
  int64_t layers = 0;
  while (t.count("enc.weight_hh_l" + std::to_string(layers))) ++layers;
  Attention attention = Attention::None;
  if (t.count("attn.linear_in.weight")) {
    attention = Attention::General;
  } else if (t.count("attn.v.weight")) {
    attention = Attention::Concat;
  } else if (t.count("attn.linear_out.weight")) {
    attention = Attention::Dot;
  }
  const bool input_feeding =
      attention != Attention::None && need("dec.weight_ih_l0").size(1) == 2 * hidden;
  return Seq2SeqOptions(emb.size(0))
      .cell(cell)
      .hidden(hidden)
      .layers(layers)
      .dropout(0.0)
      .attention(attention)
      .input_feeding(input_feeding)
      .bidirectional(bidirectional)
      .bidirectional_merge(halves ? DirectionMerge::Concat : DirectionMerge::Sum);
}

}  // namespace

void import_state_dict(const std::string& state_dict_path, const std::string& vocab_path,
                       const std::string& model_path) {
  const std::string bytes = read_file(state_dict_path);
  c10::IValue value;
  try {
    value = torch::jit::pickle_load(std::vector<char>(bytes.begin(), bytes.end()));
  } catch (const std::exception&) {
    throw Error(state_dict_path +
                ": not a readable torch.save file of a plain dict (in Python: "
                "torch.save(dict(model.state_dict()), path))");
  }
  if (!value.isGenericDict()) throw Error(state_dict_path + ": expected a state_dict (a dict)");
  std::map<std::string, at::Tensor> tensors;
  for (const auto& item : value.toGenericDict()) {
    if (!item.key().isString() || !item.value().isTensor()) {
      throw Error(state_dict_path + ": state_dict entries must map names to tensors");
    }
    tensors[item.key().toStringRef()] = item.value().toTensor();
  }
  const Vocab vocab = Vocab::load(vocab_path);
  Seq2SeqOptions options = options_from_shapes(tensors, state_dict_path);
  if (options.vocab_size() != vocab.size()) {
    throw Error(state_dict_path + ": embeddings have " + std::to_string(options.vocab_size()) +
                " rows but " + vocab_path + " has " + std::to_string(vocab.size()) + " tokens");
  }
  Seq2Seq model(options);
  std::set<std::string> unused;
  for (const auto& [k, v] : tensors) unused.insert(k);
  {
    at::NoGradGuard no_grad;
    for (auto& p : model->named_parameters()) {
      auto it = tensors.find(p.key());
      if (it == tensors.end()) throw Error(state_dict_path + ": missing tensor '" + p.key() + "'");
      if (it->second.sizes() != p.value().sizes()) {
        throw Error(state_dict_path + ": '" + p.key() + "' has shape " +
                    c10::str(it->second.sizes()) + ", expected " + c10::str(p.value().sizes()));
      }
      p.value().copy_(it->second);
      unused.erase(p.key());
    }
  }
  if (!unused.empty()) {
    throw Error(state_dict_path + ": unexpected tensor '" + *unused.begin() + "'");
  }
  CheckpointMeta meta;
  meta.config_json = nlohmann::json{
      {"cell", to_string(options.cell())},
      {"hidden", options.hidden()},
      {"layers", options.layers()},
      {"dropout", 0.0},
      {"attention", to_string(options.attention())},
      {"input_feeding", options.input_feeding()},
      {"bidirectional", options.bidirectional()},
      {"bidirectional_merge", to_string(options.bidirectional_merge())},
      {"imported_from",
       state_dict_path}}.dump(2);
  meta.state_json = "{}";
  save_checkpoint(model_path, model, vocab, meta);
}

}  // namespace s2s
