// BinaryFile: see binary_file.hpp.
#include "xgrad/data/binary_file.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include <sys/stat.h>

namespace xgrad::data_detail {

BinaryFile::BinaryFile(std::string path, const char* op) : path_(std::move(path)), op_(op) {
  namespace fs = std::filesystem;
  std::error_code ec;
  // stat's own reason: "file not found" only when there is none (not for a symlink loop or a folder
  // without permission, which say so).
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) {
    const int error = errno;
    if (error != ENOENT) fail("cannot open (", std::strerror(error), ")");
    if (fs::exists(path_ + ".gz", ec))
      fail("file not found (a gzip-compressed copy ", path_, ".gz is there: decompress it with gunzip)");
    fail("file not found");
  }
  if (!S_ISREG(st.st_mode)) fail("not a regular file");
  file_.reset(std::fopen(path_.c_str(), "rb"));
  if (!file_) fail("cannot open (", std::strerror(errno), ")");
  size_ = static_cast<std::uint64_t>(st.st_size);
  // A gzip stream starts with 1f 8b: the readers name it instead of reporting a size or magic mismatch.
  unsigned char magic[2] = {0, 0};
  gzip_ = std::fread(magic, 1, 2, file_.get()) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
  std::rewind(file_.get());
}

void BinaryFile::read(void* out, std::size_t bytes) {
  const std::size_t got = std::fread(out, 1, bytes, file_.get());
  if (got != bytes)
    fail("read failed at byte ", offset_ + got, " of ", size_, " (wanted ", bytes, " bytes from byte ",
         offset_, ")");
  offset_ += bytes;
}

void bytes_to_unit_floats(float* out, const unsigned char* in, std::size_t n) {
  // A table keeps the division exact (v / 255.0f, not v * (1 / 255.0f)) at the cost of a lookup.
  static const std::array<float, 256> table = [] {
    std::array<float, 256> t{};
    for (int v = 0; v < 256; ++v) t[v] = static_cast<float>(v) / 255.0f;
    return t;
  }();
  for (std::size_t i = 0; i < n; ++i) out[i] = table[in[i]];
}

}  // namespace xgrad::data_detail
