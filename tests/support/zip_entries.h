// Reads the entries of a zip archive held in memory and rewrites an entry's CRC-32, for tests
// that forge a damaged file whose zip checksums still match (so that only a later check can
// catch the damage). Deliberately separate from src/train/zip_crc.cpp, the code such tests
// check: small zips, no zip64; only stored (uncompressed) entries can be rewritten. LibTorch writes
// each entry with a data descriptor (general purpose flag bit 3): the local header's CRC field is 0
// and the CRC follows the data, so that is where it is rewritten (APPNOTE.TXT 4.3.9, 4.4.4).
#pragma once

#include <zlib.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace s2s::test {

struct ZipEntry {
  std::string name;
  uint64_t central_header = 0;  // offset of its central directory header
  uint64_t local_header = 0;    // offset of its local file header
  uint64_t data = 0;            // offset of its data
  uint64_t size = 0;            // bytes of data in the file (compressed, if it is)
  bool stored = false;          // kept uncompressed: the bytes at `data` are the entry's contents
  uint64_t descriptor_crc = 0;  // offset of the CRC in its data descriptor; 0: none (CRC in the
                                // local header)
};

namespace zip_detail {

inline uint64_t read_le(const std::string& zip, uint64_t at, int width) {
  if (at + static_cast<uint64_t>(width) > zip.size())
    throw std::runtime_error("zip: out of bounds");
  uint64_t value = 0;
  for (int i = width - 1; i >= 0; --i) {
    value = (value << 8) | static_cast<unsigned char>(zip[at + static_cast<uint64_t>(i)]);
  }
  return value;
}

inline void write_le32(std::string& zip, uint64_t at, uint32_t value) {
  for (int i = 0; i < 4; ++i)
    zip[at + static_cast<uint64_t>(i)] = static_cast<char>(value >> (8 * i));
}

}  // namespace zip_detail

// The entries in central directory order (APPNOTE.TXT 4.3.12, 4.3.16, 4.3.7). Throws
// std::runtime_error on what this reader does not handle (zip64), so a test never forges a file
// it misunderstood.
inline std::vector<ZipEntry> zip_entries(const std::string& zip) {
  using zip_detail::read_le;
  if (zip.size() < 22) throw std::runtime_error("zip: too short");
  uint64_t end = zip.size() - 22;  // the end-of-central-directory record, after any comment
  while (read_le(zip, end, 4) != 0x06054b50) {
    if (end == 0) throw std::runtime_error("zip: no end of central directory");
    --end;
  }
  const uint64_t count = read_le(zip, end + 10, 2);
  uint64_t at = read_le(zip, end + 16, 4);
  if (count == 0xffff || at == 0xffffffff) throw std::runtime_error("zip: zip64 not handled");
  std::vector<ZipEntry> entries;
  for (uint64_t i = 0; i < count; ++i) {
    if (read_le(zip, at, 4) != 0x02014b50) throw std::runtime_error("zip: bad directory entry");
    ZipEntry e;
    const uint64_t flags = read_le(zip, at + 8, 2);
    const uint64_t method = read_le(zip, at + 10, 2);
    e.size = read_le(zip, at + 20, 4);
    e.stored = method == 0 && e.size == read_le(zip, at + 24, 4);
    const uint64_t name_length = read_le(zip, at + 28, 2);
    e.central_header = at;
    e.local_header = read_le(zip, at + 42, 4);
    e.name = zip.substr(at + 46, name_length);
    if (read_le(zip, e.local_header, 4) != 0x04034b50) throw std::runtime_error("zip: bad header");
    e.data = e.local_header + 30 + read_le(zip, e.local_header + 26, 2) +
             read_le(zip, e.local_header + 28, 2);
    if (e.data + e.size > zip.size()) throw std::runtime_error("zip: data out of bounds");
    if ((flags & 0x8) != 0) {  // the descriptor's signature is optional
      const uint64_t descriptor = e.data + e.size;
      e.descriptor_crc = descriptor + (read_le(zip, descriptor, 4) == 0x08074b50 ? 4 : 0);
      if (read_le(zip, e.descriptor_crc, 4) != read_le(zip, at + 16, 4)) {
        throw std::runtime_error("zip: data descriptor and directory disagree on " + e.name);
      }
    }
    entries.push_back(e);
    at += 46 + name_length + read_le(zip, at + 30, 2) + read_le(zip, at + 32, 2);
  }
  return entries;
}

// Stores the CRC-32 of the entry's current data where a writer would have for that data: in its
// central directory header, and in its data descriptor or else its local header.
inline void rewrite_crc(std::string& zip, const ZipEntry& e) {
  if (!e.stored) throw std::runtime_error("zip: " + e.name + " is compressed");
  const auto crc = static_cast<uint32_t>(
      crc32_z(0L, reinterpret_cast<const Bytef*>(zip.data() + e.data), e.size));
  zip_detail::write_le32(zip, e.descriptor_crc != 0 ? e.descriptor_crc : e.local_header + 14, crc);
  zip_detail::write_le32(zip, e.central_header + 16, crc);
}

// The stored entry with the most data (the first of equals).
inline ZipEntry largest_stored_entry(const std::string& zip) {
  ZipEntry largest;
  for (const ZipEntry& e : zip_entries(zip)) {
    if (e.stored && e.size > largest.size) largest = e;
  }
  if (!largest.stored) throw std::runtime_error("zip: no stored entries");
  return largest;
}

}  // namespace s2s::test
