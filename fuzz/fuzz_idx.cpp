// libFuzzer harness for the IDX readers (read_idx_images, read_idx_labels): any bytes must give a tensor
// whose size the header promised, or an xgrad::Error. Any other exception, a crash, a sanitizer report or
// a hang is a finding. Seeds: fuzz/corpus/idx (small valid image and label files).
#include <cstdint>
#include <cstdlib>

#include "xgrad/core/error.hpp"
#include "xgrad/data/idx.hpp"
#include "fuzz/scratch_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = xgrad::fuzz::scratch().write("input.idx", data, size);
  try {
    const xgrad::Tensor images = xgrad::read_idx_images(path);
    // A valid file holds exactly its 16-byte header and one byte per pixel.
    if (16 + images.numel() != size) std::abort();
  } catch (const xgrad::Error&) {
  }
  try {
    const xgrad::Labels labels = xgrad::read_idx_labels(path);
    if (8 + labels.size() != size) std::abort();
    for (auto label : labels) {
      if (label < 0 || label >= 10) std::abort();
    }
  } catch (const xgrad::Error&) {
  }
  return 0;
}
