// Checks of the trainers' output paths (--checkpoint, --report) made at parse time, before any data is read
// or any training done: each is a usage error (exit 2) with the reason. What write_file_atomically refuses
// at write time (a device, FIFO or directory at the path, a dangling symlink) is refused here already.
#pragma once
#include <string>
#include <vector>

namespace xgrad::examples {

struct OutputPath {
  std::string flag;                 // "--checkpoint"
  std::string path;                 // as given; empty when the flag was not given
  bool given = false;               // the flag appeared on the command line
  std::vector<std::string> inputs;  // files the run reads that this output must not replace
};

// Throws CLI::ValidationError naming the flag when: the path is empty but the flag was given, it is a
// directory, device, FIFO, socket or dangling symlink, its directory is missing or not writable, two outputs
// name one file, or an output names one of its inputs.
void check_output_paths(const std::vector<OutputPath>& outputs);

// The regular files in `dir` (not recursive; none if it cannot be listed): a trainer's data files.
std::vector<std::string> files_in(const std::string& dir);

// True when a and b name the same file (the same inode, or the same absolute path for files not there yet).
bool same_file(const std::string& a, const std::string& b);

}  // namespace xgrad::examples
