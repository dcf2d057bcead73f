// Write to a temporary file, fsync, rename, fsync the directory: see atomic_file.hpp.
#include "xgrad/models/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dirent.h>

#include <cerrno>
#include <csignal>
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

// "<name>.tmp.XXXXXX": a temporary file of ours for `name`, left by a save that was killed before its rename.
bool is_temp_of(const std::string& entry, const std::string& name) {
  const std::string prefix = name + ".tmp.";
  return entry.size() == prefix.size() + 6 && entry.compare(0, prefix.size(), prefix) == 0;
}

// Removes the temporary files that killed saves to `dir/name` left behind (a kill -9 between mkstemp and
// rename cannot clean up after itself). Two processes saving to one path at once is not supported anyway.
void remove_stale_temps(const std::filesystem::path& dir, const std::string& name) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return;
  while (const dirent* entry = ::readdir(d)) {
    if (!is_temp_of(entry->d_name, name)) continue;
    const std::filesystem::path stale = dir / entry->d_name;
    struct stat st {};
    if (::lstat(stale.c_str(), &st) == 0 && S_ISREG(st.st_mode)) ::unlink(stale.c_str());
  }
  ::closedir(d);
}

const char* file_kind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

}  // namespace

std::string resolve_output_path(const std::string& path) {
  namespace fs = std::filesystem;
  XGRAD_CHECK(!path.empty(), "write_file_atomically: the path is empty");
  XGRAD_CHECK(!fs::path(path).filename().empty(), "write_file_atomically: '", path, "' does not name a file");
  std::string target = path;
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
    // A symlink is written through: the file it points to is replaced atomically, the link stays.
    std::error_code error;
    const fs::path resolved = fs::canonical(path, error);
    if (error) {
      detail::fail("write_file_atomically: '", path, "' is a symlink that cannot be followed (", error.message(),
                   "); remove it or point it at a file");
    }
    target = resolved.string();
  }
  if (::stat(target.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    detail::fail("write_file_atomically: '", path, "' is ", file_kind(st.st_mode),
                 "; only a regular file is replaced (or a new one created)");
  }
  return target;
}

void write_file_atomically(const std::string& requested_path, std::string_view contents) {
  namespace fs = std::filesystem;
  // Writing over a file-size limit (ulimit -f) raises SIGXFSZ, which kills silently by default; ignored,
  // the write fails with EFBIG and is reported like any other write error.
  std::signal(SIGXFSZ, SIG_IGN);
  const std::string path = resolve_output_path(requested_path);
  const fs::path target(path);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  remove_stale_temps(dir, target.filename().string());

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
