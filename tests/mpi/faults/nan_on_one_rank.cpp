// nan_on_one_rank: the trainers' data-parallel flow (examples/common: DataParallel, run_classifier) on a
// synthetic data set in which one sample is NaN. The sampler hands that sample to exactly one rank, whose
// loss turns NaN while the others wait for it in an allreduce: the job must end at once, every rank, with
// the rank's message. Run by scripts/mpi_faults.sh under mpirun; exits non-zero (MPI_Abort) by design.
#include <cmath>

#include "examples/common/classifier_app.hpp"
#include "examples/common/data_parallel.hpp"
#include "xgrad/xgrad.hpp"

using namespace xgrad;

int main(int argc, char** argv) {
  examples::DataParallel dp(argc, argv, "nan_on_one_rank");
  try {
    // 64 samples (1, 8, 8), labels in [0, 4); sample 45 is NaN. Not shuffled, global batch 16: step 3
    // holds samples 32..47, and 45 goes to rank 1 of 2 (40..47) or rank 3 of 4 (44..47), a silenced rank.
    Generator gen(1);
    Tensor x = randn({64, 1, 8, 8}, gen);
    x.data()[45 * 64 + 5] = NAN;
    Labels labels;
    for (int i = 0; i < 64; ++i) labels.push_back(i % 4);
    TensorDataset data(x, labels);
    DataLoader train(data, dp.shard({.batch_size = 16}));
    DataLoader test(data.subset(0, 16), {.batch_size = 16});
    auto model = std::make_shared<Sequential>();
    model->add(std::make_shared<Flatten>());
    model->add(std::make_shared<Dense>(64, 4, gen));
    examples::ClassifierConfig config;
    config.epochs = 1;
    config.batch_size = 16;
    config.schedule = "none";
    const examples::DataParallelHooks hooks = dp.prepare(*model);
    return examples::run_classifier(config, "dense", *model, train, test, hooks);
  } catch (const std::exception& e) {
    return dp.fail(e.what());
  }
}
