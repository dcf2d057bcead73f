// Saving and loading training checkpoints and inference weights as JSON files (layout and value
// encoding in checkpoint_format.hpp). Loading checks the whole file before changing anything; saving
// replaces the file atomically. Not a general serializer: it knows modules, optimizers, schedules and
// generators, and carries anything else in the free-form metadata.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "xgrad/core/generator.hpp"
#include "xgrad/layers/module.hpp"
#include "xgrad/models/metadata.hpp"
#include "xgrad/optim/lr_scheduler.hpp"
#include "xgrad/optim/optimizer.hpp"
#include "xgrad/optim/reduce_lr_on_plateau.hpp"

namespace xgrad {

// Training progress and free-form notes (architecture description, metrics) saved with a checkpoint.
struct TrainingState {
  std::int64_t epoch = 0;
  std::int64_t step = 0;
  Metadata metadata = Metadata::object();
};

// Writes every parameter and buffer of `model`, the optimizer's state and settings, the schedule's
// state, each generator's state (in order), `state`, and a ReduceLROnPlateau's state (best metric, bad
// epochs, cooldown; it sits last so that calls without one read as before). Null optimizer / scheduler /
// plateau: not saved. Throws
// xgrad::Error naming the file and the field (a NaN or an infinity has no JSON form), leaving any
// previous file at `path` untouched.
void save_checkpoint(const std::string& path, const Module& model, const Optimizer* optimizer = nullptr,
                     const LRScheduler* scheduler = nullptr, const std::vector<Generator*>& generators = {},
                     const TrainingState& state = {}, const ReduceLROnPlateau* plateau = nullptr);

// Restores what the file holds into the objects given and returns epoch, step and metadata. The file
// and the objects must correspond: an optimizer, scheduler or generator in one and not the other is an
// error. Every problem (unreadable, truncated or non-JSON file, wrong format or version, unknown or
// missing names, shape mismatches, wrong types, values that are not finite float32 numbers, settings
// that differ) throws xgrad::Error naming the file and the field as a JSON pointer, and leaves every
// object exactly as it was.
TrainingState load_checkpoint(const std::string& path, Module& model, Optimizer* optimizer = nullptr,
                              LRScheduler* scheduler = nullptr, const std::vector<Generator*>& generators = {},
                              ReduceLROnPlateau* plateau = nullptr);

// The epoch, step and metadata of a checkpoint for `model`, checked as load_checkpoint checks the file
// (regular file, size bound, checksum, format and version) without reading any tensor into anything: what a
// trainer looks at before it resumes. Throws xgrad::Error naming the file.
TrainingState read_checkpoint_state(const std::string& path, const Module& model);

// load_weights reports unmatched names in IncompatibleKeys (layers/module.hpp), as load_state_dict does.

// Weights only, for inference: format, version, metadata and the model's parameters and buffers.
void save_weights(const std::string& path, const Module& model, const Metadata& metadata = Metadata::object());
// Reads the model section of a weights file or of a training checkpoint. strict (the default, as in
// PyTorch): the names must match exactly; otherwise unmatched names are skipped and reported. Shapes must
// always match. Nothing changes unless the whole file is valid.
IncompatibleKeys load_weights(const std::string& path, Module& model, bool strict = true);

}  // namespace xgrad
