// Trainer data checks: see trainer_data.hpp.
#include "examples/common/trainer_data.hpp"

#include <cstdio>

#include "xgrad/core/error.hpp"

namespace xgrad::examples {

void check_samples(const TensorDataset& set, const Shape& expected, const std::string& file) {
  XGRAD_CHECK(set.size() > 0, file, ": holds no samples");
  XGRAD_CHECK(set.sample_shape() == expected, file, ": samples of shape ", shape_str(set.sample_shape()),
              ", the model takes ", shape_str(expected));
}

DataLoaderOptions training_loader_options(std::size_t train_size, std::size_t batch_size, std::uint64_t seed,
                                          bool batch_norm) {
  DataLoaderOptions options{.batch_size = batch_size, .shuffle = true, .seed = seed};
  if (batch_norm && train_size > batch_size && train_size % batch_size == 1) {
    options.drop_last = true;
    std::fprintf(stderr,
                 "the last batch of each epoch would hold 1 image, which BatchNorm cannot normalize: it is "
                 "dropped (drop_last; %zu of %zu images trained per epoch)\n",
                 train_size - 1, train_size);
  }
  return options;
}

}  // namespace xgrad::examples
