// BinaryFile: the plumbing the IDX and CIFAR-10 readers share. Opens a file, knows its size, reads exact
// byte counts, and turns every problem into an xgrad::Error that names the reader and the file.
// Not a general I/O layer: read-only, sequential, whole files. Internal to data/ (no xtensor, no Tensor).
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "xgrad/core/error.hpp"

namespace xgrad::data_detail {

class BinaryFile {
 public:
  // Throws "op: path: file not found" (with a hint when path.gz exists), "not a regular file", or the
  // system's reason when it cannot be opened.
  BinaryFile(std::string path, const char* op);

  std::uint64_t size() const { return size_; }
  // The file starts with gzip's magic bytes (1f 8b).
  bool gzip() const { return gzip_; }
  // Throws "is gzip-compressed: decompress it first (gunzip)" when gzip() is true.
  void refuse_gzip() const {
    if (gzip_) fail("is gzip-compressed: decompress it first (gunzip)");
  }
  // A buffer of `count` T for this file's contents: out of memory becomes an error naming the file and the
  // size asked for, not a bare std::bad_alloc.
  template <class T>
  std::vector<T> buffer(std::uint64_t count) const {
    try {
      return std::vector<T>(count);
    } catch (const std::bad_alloc&) {
      fail("not enough memory for ", count * sizeof(T), " bytes to read it into");
    } catch (const std::length_error&) {
      fail("not enough memory for ", count, " values to read it into");
    }
  }
  const std::string& path() const { return path_; }

  // Reads exactly `bytes` bytes or throws naming the offset where the file ended.
  void read(void* out, std::size_t bytes);

  // Throws xgrad::Error "op: path: " followed by the parts.
  template <class... Parts>
  [[noreturn]] void fail(const Parts&... parts) const {
    detail::fail(op_, ": ", path_, ": ", parts...);
  }

 private:
  struct Closer {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  std::string path_;
  const char* op_;
  std::unique_ptr<std::FILE, Closer> file_;
  std::uint64_t size_ = 0;
  std::uint64_t offset_ = 0;
  bool gzip_ = false;
};

// The 4 bytes at p as a big-endian unsigned integer (IDX headers are big-endian).
inline std::uint32_t big_endian_u32(const unsigned char* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

// out[i] = in[i] / 255: pixels to [0, 1], the same float division as torchvision's ToTensor.
void bytes_to_unit_floats(float* out, const unsigned char* in, std::size_t n);

}  // namespace xgrad::data_detail
