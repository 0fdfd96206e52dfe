// Reads just enough of the zip format (APPNOTE.TXT: end of central directory, its zip64
// variant, central directory headers, local headers) to check each entry's CRC-32 with zlib.
#include "train/zip_crc.h"

#include <zlib.h>

#include <array>
#include <cstdint>
#include <new>
#include <optional>

#include "s2s/error.h"

namespace s2s {
namespace {

constexpr uint32_t kEndOfDirectory = 0x06054b50;
constexpr uint32_t kZip64Locator = 0x07064b50;
constexpr uint32_t kZip64EndOfDirectory = 0x06064b50;
constexpr uint32_t kDirectoryEntry = 0x02014b50;
constexpr uint32_t kLocalHeader = 0x04034b50;
constexpr uint16_t kZip64ExtraField = 0x0001;
constexpr uint16_t kStored = 0;
constexpr uint16_t kDeflated = 8;

struct Damaged {};  // anything wrong with the structure

// Little-endian reads that never leave the buffer.
class Bytes {
 public:
  explicit Bytes(std::string_view data) : data_(data) {}
  uint64_t size() const { return data_.size(); }
  uint64_t read(uint64_t at, int width) const {
    if (at > data_.size() || static_cast<uint64_t>(width) > data_.size() - at) throw Damaged{};
    uint64_t value = 0;
    for (int i = width - 1; i >= 0; --i)
      value = (value << 8) | static_cast<unsigned char>(data_[at + static_cast<uint64_t>(i)]);
    return value;
  }
  uint16_t u16(uint64_t at) const { return static_cast<uint16_t>(read(at, 2)); }
  uint32_t u32(uint64_t at) const { return static_cast<uint32_t>(read(at, 4)); }
  uint64_t u64(uint64_t at) const { return read(at, 8); }
  std::string_view slice(uint64_t at, uint64_t length) const {
    if (at > data_.size() || length > data_.size() - at) throw Damaged{};
    return data_.substr(at, length);
  }

 private:
  std::string_view data_;
};

struct Directory {
  uint64_t entries = 0;
  uint64_t offset = 0;
};

// The end-of-central-directory record is the last 22 bytes plus a comment of up to 64 KiB.
Directory find_directory(const Bytes& zip) {
  if (zip.size() < 22) throw Damaged{};
  const uint64_t lowest = zip.size() > 22 + 0xffff ? zip.size() - 22 - 0xffff : 0;
  for (uint64_t at = zip.size() - 22;; --at) {
    if (zip.u32(at) == kEndOfDirectory && at + 22 + zip.u16(at + 20) == zip.size()) {
      Directory d{zip.u16(at + 10), zip.u32(at + 16)};
      if ((d.entries == 0xffff || d.offset == 0xffffffff) && at >= 20 &&
          zip.u32(at - 20) == kZip64Locator) {
        const uint64_t record = zip.u64(at - 20 + 8);
        if (zip.u32(record) != kZip64EndOfDirectory) throw Damaged{};
        d = {zip.u64(record + 32), zip.u64(record + 48)};
      }
      return d;
    }
    if (at == lowest) throw Damaged{};
  }
}

struct Entry {
  uint16_t method = 0;
  uint32_t crc = 0;
  uint64_t compressed = 0;
  uint64_t size = 0;
  uint64_t local_header = 0;
};

// Sizes and offset that do not fit 32 bits are in the zip64 extra field, in this order.
void read_zip64_fields(const Bytes& zip, uint64_t extra, uint64_t extra_length, Entry& e) {
  for (uint64_t at = extra; at + 4 <= extra + extra_length;) {
    const uint16_t id = zip.u16(at);
    const uint16_t length = zip.u16(at + 2);
    if (id == kZip64ExtraField) {
      uint64_t field = at + 4;
      for (uint64_t* value : {&e.size, &e.compressed, &e.local_header}) {
        if (*value != 0xffffffff) continue;
        if (field + 8 > at + 4 + length) throw Damaged{};
        *value = zip.u64(field);
        field += 8;
      }
      return;
    }
    at += 4 + static_cast<uint64_t>(length);
  }
}

// The CRC-32 of a deflated entry's `size` bytes; nullopt when the data does not inflate to
// exactly that many bytes (damaged data, like a CRC that does not match).
std::optional<uint32_t> crc_of_deflated(std::string_view data, uint64_t size) {
  z_stream stream{};
  if (inflateInit2(&stream, -MAX_WBITS) != Z_OK) throw std::bad_alloc();
  std::array<Bytef, 1 << 16> out{};
  uLong crc = crc32_z(0L, Z_NULL, 0);
  uint64_t produced = 0;
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());  // checkpoints' entries are below 4 GiB each
  int status = Z_OK;
  while (status == Z_OK) {
    stream.next_out = out.data();
    stream.avail_out = static_cast<uInt>(out.size());
    status = inflate(&stream, Z_NO_FLUSH);
    const uint64_t n = out.size() - stream.avail_out;
    produced += n;
    if (produced > size || (status == Z_BUF_ERROR && n == 0)) break;
    crc = crc32_z(crc, out.data(), n);
  }
  inflateEnd(&stream);
  if (status != Z_STREAM_END || produced != size) return std::nullopt;
  return static_cast<uint32_t>(crc);
}

}  // namespace

void verify_zip_crcs(std::string_view data, const std::string& source) {
  const Bytes zip(data);
  bool crc_mismatch = false;
  try {
    const Directory directory = find_directory(zip);
    uint64_t at = directory.offset;
    for (uint64_t i = 0; i < directory.entries; ++i) {
      if (zip.u32(at) != kDirectoryEntry) throw Damaged{};
      Entry e{zip.u16(at + 10), zip.u32(at + 16), zip.u32(at + 20), zip.u32(at + 24),
              zip.u32(at + 42)};
      const uint64_t name_length = zip.u16(at + 28);
      const uint64_t extra_length = zip.u16(at + 30);
      const uint64_t comment_length = zip.u16(at + 32);
      read_zip64_fields(zip, at + 46 + name_length, extra_length, e);
      at += 46 + name_length + extra_length + comment_length;

      if (zip.u32(e.local_header) != kLocalHeader) throw Damaged{};
      const uint64_t start =
          e.local_header + 30 + zip.u16(e.local_header + 26) + zip.u16(e.local_header + 28);
      const std::string_view stored = zip.slice(start, e.compressed);
      std::optional<uint32_t> crc;
      if (e.method == kStored) {
        if (e.compressed != e.size) throw Damaged{};
        crc = static_cast<uint32_t>(crc32_z(0L, reinterpret_cast<const Bytef*>(stored.data()),
                                            static_cast<z_size_t>(e.size)));
      } else if (e.method == kDeflated && e.compressed <= 0xffffffff) {
        crc = crc_of_deflated(stored, e.size);
      } else {
        throw Damaged{};
      }
      if (crc != e.crc) {
        crc_mismatch = true;
        break;
      }
    }
  } catch (const Damaged&) {
    throw Error(source + ": not a readable s2s checkpoint (truncated, corrupt or another format)");
  }
  if (crc_mismatch) throw Error(source + ": checksum mismatch (corrupt or modified)");
}

}  // namespace s2s
