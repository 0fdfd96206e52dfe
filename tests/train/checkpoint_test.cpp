// Checkpoint integrity: a damaged byte anywhere in a checkpoint's records is found on load, in
// the library and through the CLI; checkpoints from before the checksum still load, unverified.
#include <gtest/gtest.h>
#include <torch/optim/adam.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "s2s/checkpoint.h"
#include "s2s/error.h"
#include "support/run_command.h"
#include "support/zip_entries.h"
#include "test_util.h"
#include "train/zip_crc.h"

namespace {

using s2s::testing::read_text;
using s2s::testing::temp_dir;

const std::string kV1Dir = S2S_FIXTURES_DIR "/checkpoint-v1";
const std::string kDamagedDir = S2S_FIXTURES_DIR "/damaged-checkpoints";

// A model large enough that a checkpoint's middle is tensor data, with optimizer state, and what
// a checkpoint of it holds besides.
struct Checkpointed {
  s2s::Seq2Seq model{s2s::Seq2SeqOptions(14).hidden(64).layers(2)};
  torch::optim::Adam optimizer{model->parameters()};
  s2s::Vocab vocab = s2s::Vocab::from_tokens({"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"});
  s2s::CheckpointMeta meta{0, R"({"cell": "gru", "hidden": 64, "layers": 2, "dropout": 0.2})",
                           "{}"};

  std::string save(const std::string& path, s2s::CheckpointBuffer* buffer = nullptr) {
    s2s::save_checkpoint({path}, model, vocab, meta, &optimizer, buffer);
    return path;
  }
};

std::string write_checkpoint(const std::string& dir) {
  return Checkpointed().save(dir + "/model.pt");
}

std::string load_error(const std::string& path) {
  try {
    s2s::load_checkpoint(path);
  } catch (const s2s::Error& e) {
    return e.what();
  }
  return "";
}

void overwrite(const std::string& path, size_t at, size_t count) {
  std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
  file.seekp(static_cast<std::streamoff>(at));
  file << std::string(count, '\x5a');
}

// A buffer kept between saves (the trainer's) changes nothing in the file: the bytes equal those
// of a save without one, also when the buffer held a larger checkpoint before.
TEST(CheckpointIntegrity, AReusedBufferWritesTheSameBytes) {
  const std::string dir = temp_dir("reused_buffer");
  Checkpointed checkpointed;
  s2s::CheckpointBuffer buffer;
  buffer.records.assign(4 << 20, 'x');  // an earlier, larger save's
  const std::string plain = checkpointed.save(dir + "/plain.pt");
  const std::string reused = checkpointed.save(dir + "/reused.pt", &buffer);
  EXPECT_EQ(read_text(reused), read_text(plain));
  checkpointed.save(reused, &buffer);  // and again
  EXPECT_EQ(read_text(reused), read_text(plain));
  EXPECT_TRUE(s2s::load_checkpoint(reused).verified);
}

TEST(CheckpointIntegrity, NewCheckpointsAreVerifiedOnLoad) {
  const std::string path = write_checkpoint(temp_dir("verified"));
  EXPECT_TRUE(s2s::load_checkpoint(path).verified);
}

// The failure reported by hand: 256 bytes overwritten in the middle of a checkpoint (inside the
// tensor data) loaded silently and evaluated to a different accuracy.
TEST(CheckpointIntegrity, OverwrittenBytesInTheMiddleAreAChecksumMismatch) {
  const std::string path = write_checkpoint(temp_dir("middle"));
  const size_t size = read_text(path).size();
  ASSERT_GT(size, 100000u);
  overwrite(path, size / 2, 256);
  EXPECT_EQ(load_error(path), path + ": checksum mismatch (corrupt or modified)");
}

// Every flipped byte of the records (weights, optimizer state, metadata) is caught: by the
// checksum, or by the archive reader when it lands in the file's own structure.
TEST(CheckpointIntegrity, NoSingleFlippedByteLoads) {
  const std::string dir = temp_dir("flips");
  const std::string path = write_checkpoint(dir);
  const std::string bytes = read_text(path);
  int mismatches = 0;
  for (size_t at = 64; at < bytes.size() - 64; at += bytes.size() / 40) {
    std::string bad = bytes;
    bad[at] = static_cast<char>(bad[at] ^ 0x01);
    const std::string flipped = dir + "/flipped.pt";
    std::ofstream(flipped, std::ios::binary) << bad;
    const std::string error = load_error(flipped);
    EXPECT_NE(error, "") << "a flip at byte " << at << " of " << bytes.size() << " loaded";
    mismatches += error.find("checksum mismatch") != std::string::npos;
  }
  EXPECT_GT(mismatches, 30) << "most of the file is the checksummed payload";
}

TEST(CheckpointIntegrity, RestoringTrainingStateChecksTheChecksumToo) {
  const std::string path = write_checkpoint(temp_dir("restore"));
  overwrite(path, read_text(path).size() * 3 / 4, 64);  // the optimizer state's part
  s2s::Seq2Seq model(s2s::Seq2SeqOptions(14).hidden(64).layers(2));
  torch::optim::Adam optimizer(model->parameters());
  try {
    s2s::restore_training_state(path, optimizer);
    ADD_FAILURE() << "a damaged checkpoint restored its training state";
  } catch (const s2s::Error& e) {
    EXPECT_EQ(std::string(e.what()), path + ": checksum mismatch (corrupt or modified)");
  }
}

TEST(CheckpointIntegrity, TheCliRefusesADamagedCheckpointWithExitStatus2) {
  const std::string dir = temp_dir("cli");
  const std::string path = write_checkpoint(dir);
  overwrite(path, read_text(path).size() / 2, 256);
  std::ofstream(dir + "/data.csv") << "source,target\n1 2,2 1\n";
  const auto r = s2s::test::run_cli("eval --model " + path + " --data " + dir + "/data.csv");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "s2s: error: " + path + ": checksum mismatch (corrupt or modified)\n");
}

// Written by s2s before checkpoints had a checksum (see the fixture's README).
TEST(CheckpointIntegrity, FormatOneCheckpointsStillLoadUnverified) {
  const s2s::LoadedCheckpoint ck = s2s::load_checkpoint(kV1Dir + "/tiny-gru.pt");
  EXPECT_FALSE(ck.verified);
  EXPECT_EQ(ck.meta.epoch, 1);
  const auto r = s2s::test::run_command(std::string(S2S_CLI_PATH) + " eval --model " + kV1Dir +
                                        "/tiny-gru.pt --data " + kV1Dir +
                                        "/valid.csv --json --threads 1 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const std::string note = "s2s: note: " + kV1Dir +
                           "/tiny-gru.pt: written before checkpoints carried a checksum; loaded "
                           "unverified\n";
  ASSERT_EQ(r.out.rfind(note, 0), 0u) << r.out;
  const auto report = nlohmann::json::parse(r.out.substr(note.size()));
  EXPECT_EQ(report.at("rows"), 10);
  EXPECT_NEAR(report.at("loss").get<double>(), 2.7345131613991476, 1e-6);
}

// Found by fuzzing: two changed bytes in the TorchScript records of a format-1 checkpoint (no
// s2s checksum) crashed LibTorch's parser (SIGSEGV, exit 139). The zip's own CRC-32s are
// checked before torch parses anything.
TEST(CheckpointIntegrity, ZipEntryCrcsAreCheckedBeforeTorchParsesTheFile) {
  const std::string path = kDamagedDir + "/format1-jit-parser-segv.pt";
  EXPECT_EQ(load_error(path), path + ": checksum mismatch (corrupt or modified)");
  std::ofstream(temp_dir("segv") + "/data.csv") << "source,target\n1 2,2 1\n";
  const auto r =
      s2s::test::run_cli("eval --model " + path + " --data " + temp_dir("segv") + "/data.csv");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "s2s: error: " + path + ": checksum mismatch (corrupt or modified)\n");
}

// Format-1 files have no s2s checksum, but their zip has one per record: damage inside the
// tensor data no longer loads silently.
TEST(CheckpointIntegrity, DamagedFormatOneWeightsAreAChecksumMismatch) {
  const std::string dir = temp_dir("v1damaged");
  const std::string path = dir + "/tiny-gru.pt";
  std::filesystem::copy_file(kV1Dir + "/tiny-gru.pt", path);
  ASSERT_FALSE(s2s::load_checkpoint(path).verified);
  // Inside the zip record archive/data/38 (its local header at byte 18456, then 5056 bytes of
  // tensor data), a record LibTorch reads without checking.
  overwrite(path, 18700, 16);
  EXPECT_EQ(load_error(path), path + ": checksum mismatch (corrupt or modified)");
}

// A flipped byte in a tensor inside a format-2 payload, with every zip CRC-32 recomputed (the
// records' own zip and the file's, in data descriptors and central directories), as a copy that
// rewrote the data together with its zip checksums would leave it: the zip check passes, so only
// the payload's checksum can refuse the file, which would otherwise load with a different tensor.
TEST(CheckpointIntegrity, DamagedPayloadWithMatchingZipCrcsIsAChecksumMismatch) {
  const std::string dir = temp_dir("forged");
  const std::string path = write_checkpoint(dir);
  std::string file = read_text(path);
  const s2s::test::ZipEntry payload = s2s::test::largest_stored_entry(file);
  ASSERT_NE(payload.name.find("/data/"), std::string::npos) << payload.name;
  std::string records = file.substr(payload.data, payload.size);
  const s2s::test::ZipEntry tensor = s2s::test::largest_stored_entry(records);
  ASSERT_NE(tensor.name.find("/data/"), std::string::npos) << tensor.name;
  records[tensor.data + tensor.size / 2] ^= 0x01;
  s2s::test::rewrite_crc(records, tensor);
  file.replace(payload.data, payload.size, records);
  s2s::test::rewrite_crc(file, payload);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << file;
  ASSERT_NO_THROW(s2s::verify_zip_crcs(file, path)) << "the forged file's zip CRCs match";

  EXPECT_EQ(load_error(path), path + ": checksum mismatch (corrupt or modified)");
  std::ofstream(dir + "/data.csv") << "source,target\n1 2,2 1\n";
  const auto r = s2s::test::run_cli("eval --model " + path + " --data " + dir + "/data.csv");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "s2s: error: " + path + ": checksum mismatch (corrupt or modified)\n");
}

// A checkpoint whose configuration was damaged or forged.
std::string save_with_config(const std::string& path, const std::string& config_json,
                             const s2s::Vocab& vocab) {
  s2s::Seq2Seq model(s2s::Seq2SeqOptions(14).hidden(8).layers(1));
  s2s::CheckpointMeta meta;
  meta.config_json = config_json;
  meta.state_json = "{}";
  s2s::save_checkpoint(path, model, vocab, meta);
  return path;
}

// Absurd sizes in a checkpoint are refused before the model is built: by the ranges the CLI
// checks too (TrainConfig::validate_settings), and by what the file can hold.
TEST(CheckpointIntegrity, AbsurdSizesAreRefusedBeforeAllocating) {
  const std::string dir = temp_dir("absurd");
  const s2s::Vocab digits =
      s2s::Vocab::from_tokens({"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"});
  const auto error_for = [&](const std::string& name, const std::string& config,
                             const s2s::Vocab& vocab) {
    return load_error(save_with_config(dir + "/" + name, config, vocab));
  };
  EXPECT_EQ(error_for("negative.pt", R"({"hidden": -5, "layers": 1})", digits),
            dir + "/negative.pt: stored configuration: --hidden must be between 1 and 16384");
  EXPECT_EQ(error_for("deep.pt", R"({"hidden": 8, "layers": 1000000000})", digits),
            dir + "/deep.pt: stored configuration: --layers must be between 1 and 64");
  // A vocabulary of 100000 tokens with the stored 256 units: 78 million weights. (Checked before
  // the next case, which must never reach the allocator: 825 GB.)
  std::vector<std::string> tokens;
  for (int i = 0; i < 100000; ++i) tokens.push_back("t" + std::to_string(i));
  const std::string huge =
      error_for("vocab.pt", R"({"hidden": 256, "layers": 1})", s2s::Vocab::from_tokens(tokens));
  ASSERT_NE(huge.find("(vocabulary 100004, hidden 256, layers 1) needs "), std::string::npos)
      << huge;
  // In range, but 64 layers of 16384 units are 206 billion weights (825 GB) for a file of a few
  // kilobytes.
  const std::string wide = error_for("wide.pt", R"({"hidden": 16384, "layers": 64})", digits);
  EXPECT_EQ(wide.rfind(dir + "/wide.pt: its configuration (vocabulary 14, hidden 16384, "
                             "layers 64) needs 206171701262 weights, more than the whole file of ",
                       0),
            0u)
      << wide;
}

}  // namespace
