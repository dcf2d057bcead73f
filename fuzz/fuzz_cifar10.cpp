// libFuzzer harness for the CIFAR-10 binary reader (read_cifar10): any bytes must give one image and one
// label in [0, 10) per 3073-byte record, or an xgrad::Error. Any other exception, a crash, a sanitizer
// report or a hang is a finding. The input is also read as two files, split after as many whole records
// as its first byte says (modulo their count + 1), for the several-batches path. Seeds: fuzz/corpus/cifar10.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "xgrad/core/error.hpp"
#include "xgrad/data/cifar.hpp"
#include "fuzz/scratch_file.hpp"

namespace {

void check(const std::vector<std::string>& paths, std::size_t size) {
  try {
    const xgrad::TensorDataset d = xgrad::read_cifar10(paths);
    if (d.size() * 3073 != size || d.inputs().numel() != d.size() * 3 * 32 * 32) std::abort();
    for (auto label : d.labels()) {
      if (label < 0 || label >= 10) std::abort();
    }
  } catch (const xgrad::Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto& scratch = xgrad::fuzz::scratch();
  check({scratch.write("whole.bin", data, size)}, size);
  const std::size_t records = size / 3073;
  const std::size_t cut = size > 0 ? 3073 * (data[0] % (records + 1)) : 0;
  check({scratch.write("first.bin", data, cut), scratch.write("second.bin", data + cut, size - cut)}, size);
  return 0;
}
