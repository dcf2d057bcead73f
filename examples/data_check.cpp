// data_check: loads a data set directory with xgrad's readers and prints what it holds, so a fetched or
// hand-placed copy can be checked before training. Format by file names: IDX (MNIST, Fashion-MNIST) or
// CIFAR-10 binary. Usage: data_check DIR [DIR...]   e.g. data_check datasets/mnist datasets/fashion
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <new>
#include <string>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

#include "xgrad/data/cifar.hpp"
#include "xgrad/data/tensor_dataset.hpp"
#include "xgrad/data/idx.hpp"
#include "xgrad/data/transforms.hpp"
#include "examples/common/cli.hpp"
#include "xgrad/xgrad.hpp"

namespace {

void print_split(const char* name, const xgrad::TensorDataset& d) {
  std::printf("  %-5s %zu samples of %s\n", name, d.size(), xgrad::shape_str(d.sample_shape()).c_str());
  const auto counts = xgrad::bincount(d.labels(), 10);
  std::printf("        labels:");
  for (std::size_t k = 0; k < counts.size(); ++k) std::printf(" %zu:%zu", k, counts[k]);
  std::printf("\n");
  const auto stats = xgrad::channel_mean_std(d.inputs());
  std::printf("        pixel mean/std per channel:");
  for (std::size_t c = 0; c < stats.mean.size(); ++c) std::printf(" %.4f/%.4f", stats.mean[c], stats.std[c]);
  std::printf("\n");
}

int check(const std::string& dir) {
  namespace fs = std::filesystem;
  // The folder itself first: a missing one, a symlink loop or one without permission is named with the
  // system's reason, not reported as a folder without data files.
  struct stat st {};
  const char* why = nullptr;
  if (::stat(dir.c_str(), &st) != 0 || ::access(dir.c_str(), R_OK | X_OK) != 0)
    why = std::strerror(errno);
  else if (!S_ISDIR(st.st_mode))
    why = "not a folder";
  if (why) {
    std::fprintf(stderr, "data_check: %s: cannot read the folder (%s)\n", dir.c_str(), why);
    return 1;
  }
  // The error_code forms: an unreadable file is "not there" here, and the reader that opens it then names
  // the system's reason.
  std::error_code ec;
  const bool idx =
      fs::exists(dir + "/train-images-idx3-ubyte", ec) || fs::exists(dir + "/t10k-images-idx3-ubyte", ec);
  const bool cifar = fs::exists(dir + "/data_batch_1.bin", ec) || fs::exists(dir + "/test_batch.bin", ec);
  if (!idx && !cifar) {
    std::fprintf(stderr,
                 "data_check: %s holds neither IDX (train-images-idx3-ubyte) nor CIFAR-10 "
                 "(data_batch_1.bin) files\n",
                 dir.c_str());
    return 1;
  }
  std::printf("%s (%s)\n", dir.c_str(), idx ? "IDX" : "CIFAR-10 binary");
  print_split("train", idx ? xgrad::load_mnist(dir, true) : xgrad::load_cifar10(dir, true));
  print_split("test", idx ? xgrad::load_mnist(dir, false) : xgrad::load_cifar10(dir, false));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> dirs;
  CLI::App app("Load data set folders with xgrad's readers (IDX or CIFAR-10 binary) and print what they hold.",
               "data_check");
  app.add_option("dirs", dirs, "Data set folders, e.g. datasets/mnist datasets/fashion")->required();
  if (int status = xgrad::examples::parse_command_line(app, argc, argv); status >= 0) return status;

  int status = 0;
  for (const std::string& dir : dirs) {
    try {
      status |= check(dir);
    } catch (const std::bad_alloc&) {
      std::fprintf(stderr, "data_check: %s: not enough memory to load it\n", dir.c_str());
      status = 1;
    } catch (const std::exception& e) {  // xgrad::Error, and std::filesystem's errors (a symlink loop...)
      std::fprintf(stderr, "data_check: %s\n", e.what());
      status = 1;
    }
  }
  return status;
}
