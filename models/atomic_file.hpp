// Atomic replacement of a file: the path always holds either the previous file or the complete new one,
// whatever happens (crash, kill, full disk) during the write. Not a general file API.
#pragma once
#include <functional>
#include <string>
#include <string_view>

namespace xgrad {

// Writes `contents` to a new temporary file in `path`'s directory, flushes and fsyncs it, renames it over
// `path`, and fsyncs the directory so the rename itself is durable. On failure the temporary file is
// removed, `path` is untouched, and xgrad::Error names `path` and the system's reason. A process killed
// before the rename leaves `path` intact and may leave a "<path>.tmp.XXXXXX" file behind; the next write to
// `path` removes such files. Only a regular file is replaced: a directory, device, FIFO or socket at `path`
// is refused. A symlink is written through (its target is replaced atomically; the link stays); a dangling
// one is refused. SIGXFSZ is ignored from the first call on, so a write over `ulimit -f` is an error.
void write_file_atomically(const std::string& path, std::string_view contents);

// The file write_file_atomically(path, ...) would replace: `path`, or a symlink's target. Throws the same
// errors it would for an empty path, a dangling symlink or an existing file that is not a regular file.
std::string resolve_output_path(const std::string& path);

namespace testing {
// Called with the temporary file's path after it is written and fsynced, just before the rename: a test
// can throw from it (an injected failure) or kill the process. Pass nullptr to remove it.
void set_before_rename_hook(std::function<void(const std::string& temp_path)> hook);
}  // namespace testing

}  // namespace xgrad
