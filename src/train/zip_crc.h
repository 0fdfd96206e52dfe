// The CRC-32 that a zip file stores for each entry, checked against the entry's data. LibTorch
// reads checkpoints (zip archives) without checking them, and its TorchScript parser crashes on
// some damaged files (fuzz/regressions/checkpoint-format1-jit-parser-segv.pt): a checkpoint's
// bytes pass this check before torch sees them, so damage is a one-line error, not a crash.
#pragma once

#include <string>
#include <string_view>

namespace s2s {

// Walks the zip's central directory and checks every entry (stored or deflated) against the
// CRC-32 and sizes the directory gives. Throws s2s::Error naming `source`:
//   "SOURCE: checksum mismatch (corrupt or modified)"  an entry's data does not match its CRC
//   "SOURCE: not a readable s2s checkpoint (truncated, corrupt or another format)"  anything
//       else: not a zip, a directory or header out of bounds, sizes that disagree.
// A deliberately crafted file with matching CRCs still reaches torch; this finds damage.
void verify_zip_crcs(std::string_view zip, const std::string& source);

}  // namespace s2s
