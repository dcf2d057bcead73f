// What a trainer's checkpoint records about its run besides the tensors (metadata), and the check on resume
// that the run being resumed is the same one: the data set (name, sample shape, counts, a checksum of the
// training labels, so Fashion-MNIST cannot resume into MNIST), the settings the optimizer and schedule were
// built from (a differing --lr, --weight-decay, --schedule, --optimizer, --batch-size or --epochs is refused,
// naming the flag and the value to give), and the metadata's own types.
#pragma once
#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>

#include "xgrad/core/error.hpp"
#include "xgrad/data/tensor_dataset.hpp"
#include "examples/common/classifier_app.hpp"

namespace xgrad::examples {

// A problem with the command line found after parsing (a flag conflicting with a checkpoint): the trainers
// exit with status 2 for it, as for a parse error.
class UsageError : public Error {
 public:
  using Error::Error;
};

// {"name", "sample_shape", "train_size", "test_size", "train_labels_crc32c"}.
nlohmann::json dataset_record(const std::string& name, const TensorDataset& train, const TensorDataset& test);

// {"lr", "weight_decay", "schedule", "optimizer", "batch_size", "label_smoothing", "epochs", "pct_start"};
// lr is the rate in use (after rollbacks, --lr / 10^k), which a resume must be given; "epochs" only with a
// schedule (which spreads over them): without one, a resume may train longer; "pct_start" only with onecycle.
nlohmann::json settings_record(const ClassifierConfig& config, double lr);

// Checks a checkpoint's metadata before resuming from it: throws UsageError naming the flag for a setting
// that differs, Error naming the field for a data set that differs or metadata of the wrong type.
// `steps_per_epoch` bounds "steps_in_epoch". Metadata written before these records existed lacks them:
// what is absent is not checked.
void check_resume(const std::string& path, const nlohmann::json& metadata, const std::string& architecture,
                  const nlohmann::json& dataset, const nlohmann::json& settings, std::size_t steps_per_epoch);

}  // namespace xgrad::examples
