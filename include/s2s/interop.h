// Moving models between s2s and PyTorch. An export is a state_dict file that Python's
// torch.load reads and the project's PyTorch peer (python/s2s_peer.py) load_state_dict accepts,
// plus the vocabulary as JSON (token at position = id). An import is the reverse: the cell,
// depth and width are read off the tensor shapes.
#pragma once

#include <string>

namespace s2s {

// Writes the weights of checkpoint `model_path` to `state_dict_path` and the vocabulary to
// `vocab_path`.
void export_state_dict(const std::string& model_path, const std::string& state_dict_path,
                       const std::string& vocab_path);

// Builds an s2s checkpoint at `model_path` from a PyTorch state_dict file (in Python,
// torch.save(dict(model.state_dict()), path): a plain dict, because the OrderedDict's _metadata
// does not unpickle in C++) and a vocabulary JSON in s2s's format (Vocab::to_json: the
// four special tokens first). Throws s2s::Error naming the file for missing, extra or misshapen
// tensors.
void import_state_dict(const std::string& state_dict_path, const std::string& vocab_path,
                       const std::string& model_path);

}  // namespace s2s
