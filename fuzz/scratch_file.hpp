// The readers under fuzzing take paths, not bytes: ScratchFile puts each input into one file in a private
// temporary folder (made once per process, removed at exit). Fuzzing support only, not a library facility.
#pragma once
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace xgrad::fuzz {

class ScratchFolder {
 public:
  ScratchFolder() {
    std::string pattern = (std::filesystem::temp_directory_path() / "xgrad_fuzz_XXXXXX").string();
    if (!::mkdtemp(pattern.data())) std::abort();
    path_ = pattern;
  }
  ~ScratchFolder() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  // path/name, holding exactly `size` bytes of `data`.
  std::string write(const std::string& name, const std::uint8_t* data, std::size_t size) const {
    const std::string file = path_ + "/" + name;
    std::FILE* f = std::fopen(file.c_str(), "wb");
    if (!f || std::fwrite(data, 1, size, f) != size || std::fclose(f) != 0) std::abort();
    return file;
  }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// One folder for the whole run: a static, so libFuzzer's exit() removes it.
inline const ScratchFolder& scratch() {
  static const ScratchFolder folder;
  return folder;
}

}  // namespace xgrad::fuzz
