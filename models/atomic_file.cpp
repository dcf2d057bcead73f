// Write to a temporary file, fsync, rename, fsync the directory: see atomic_file.hpp.
#include "xgrad/models/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "xgrad/core/error.hpp"

namespace xgrad {
namespace {

std::function<void(const std::string&)>& before_rename_hook() {
  static std::function<void(const std::string&)> hook;
  return hook;
}

[[noreturn]] void fail_io(const std::string& path, const char* what, int error) {
  detail::fail("write_file_atomically: cannot ", what, " for '", path, "': ", std::strerror(error));
}

// Closes and removes the temporary file unless released after a successful rename.
struct TempFile {
  std::string path;
  int fd = -1;
  bool keep = false;
  ~TempFile() {
    if (fd >= 0) ::close(fd);
    if (!keep) ::unlink(path.c_str());
  }
};

void write_all(int fd, std::string_view contents, const std::string& path) {
  const char* p = contents.data();
  std::size_t left = contents.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail_io(path, "write the temporary file", errno);
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

}  // namespace

void write_file_atomically(const std::string& path, std::string_view contents) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  XGRAD_CHECK(!target.filename().empty(), "write_file_atomically: '", path, "' does not name a file");
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");

  // mkstemp gives a name no other writer uses, in the same directory (so rename() cannot cross devices).
  std::string pattern = path + ".tmp.XXXXXX";
  std::vector<char> name(pattern.begin(), pattern.end());
  name.push_back('\0');
  TempFile temp;
  temp.fd = ::mkstemp(name.data());
  if (temp.fd < 0) fail_io(path, "create a temporary file", errno);
  temp.path = name.data();

  // mkstemp makes the file 0600; keep the mode of the file being replaced, else the usual 0644.
  struct stat old {};
  const mode_t mode = ::stat(path.c_str(), &old) == 0 ? (old.st_mode & 07777) : 0644;
  if (::fchmod(temp.fd, mode) != 0) fail_io(path, "set the temporary file's mode", errno);

  write_all(temp.fd, contents, path);
  if (::fsync(temp.fd) != 0) fail_io(path, "fsync the temporary file", errno);
  const int fd = temp.fd;
  temp.fd = -1;
  if (::close(fd) != 0) fail_io(path, "close the temporary file", errno);

  if (before_rename_hook()) before_rename_hook()(temp.path);
  if (::rename(temp.path.c_str(), path.c_str()) != 0) fail_io(path, "rename the temporary file", errno);
  temp.keep = true;

  // Make the rename durable. Some file systems cannot fsync a directory; the file itself is safe then.
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
}

namespace testing {
void set_before_rename_hook(std::function<void(const std::string& temp_path)> hook) {
  before_rename_hook() = std::move(hook);
}
}  // namespace testing

}  // namespace xgrad
