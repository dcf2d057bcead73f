// SyncBatchNorm on one process (a default Communicator, no MPI calls): it must be BatchNorm, in outputs,
// gradients and running statistics under both conventions, in training and in eval(); its op passes a
// finite-difference gradient check; convert_sync_batchnorm swaps every BatchNorm and keeps the names.
// The multi-rank behaviour is tested under mpirun (tests/mpi/).
#ifdef XGRAD_HAVE_MPI
#include <catch2/catch.hpp>

#include "tensor_checks.hpp"
#include "xgrad/distributed/sync_batch_norm.hpp"
#include "xgrad/distributed/sync_batch_norm_op.hpp"
#include "xgrad/xgrad.hpp"

using namespace xgrad;
using namespace xgrad::distributed;
using xgrad::testing::check_gradients;
using xgrad::testing::check_same;
using xgrad::testing::randomize;

namespace {

// Trains bn and sync side by side for 3 steps on the same inputs and random upstream gradients; compares
// outputs, input gradients, parameter gradients and buffers. Float sums in a different order (double
// here, BatchNorm's own kernel there): 2e-5 on O(1) values.
void check_equal_to_batch_norm(BatchNorm& bn, const Shape& shape) {
  SyncBatchNorm sync(bn.options());
  if (bn.weight().defined()) {
    randomize(bn.weight(), 3);
    randomize(bn.bias(), 4);
    randomize(sync.weight(), 3);
    randomize(sync.bias(), 4);
  }
  Generator gen(5);
  for (int step = 0; step < 3; ++step) {
    Tensor x = add(mul(randn(shape, gen), 2.0f), 1.5f).set_requires_grad();
    Tensor x2 = x.detach().clone().set_requires_grad();
    Tensor u = randn(shape, gen);
    Tensor y = bn(x), y2 = sync(x2);
    check_same(y2, y, 2e-5);
    y.backward(u);
    y2.backward(u);
    check_same(x2.grad(), x.grad(), 2e-5);
    if (bn.weight().defined()) {
      check_same(sync.weight().grad(), bn.weight().grad(), 2e-5);
      check_same(sync.bias().grad(), bn.bias().grad(), 2e-5);
      bn.zero_grad();
      sync.zero_grad();
    }
  }
  const auto a = bn.named_buffers(), b = sync.named_buffers();
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].first == b[i].first);
    check_same(b[i].second, a[i].second, 1e-6);
  }
  bn.eval();
  sync.eval();
  Tensor x = randn(shape, gen).set_requires_grad(), x2 = x.detach().clone().set_requires_grad();
  Tensor u = randn(shape, gen);
  Tensor y = bn(x), y2 = sync(x2);
  check_same(y2, y, 2e-5);
  y.backward(u);
  y2.backward(u);
  check_same(x2.grad(), x.grad(), 2e-5);
}

}  // namespace

TEST_CASE("SyncBatchNorm on one process equals BatchNorm (PyTorch convention)", "[distributed][sync_batch_norm]") {
  BatchNorm2d bn2(4);
  check_equal_to_batch_norm(bn2, {3, 4, 5, 2});
  BatchNorm1d bn1(6);
  check_equal_to_batch_norm(bn1, {7, 6});
  BatchNorm3d bn3(2);
  check_equal_to_batch_norm(bn3, {2, 2, 3, 2, 2});
}

TEST_CASE("SyncBatchNorm on one process equals BatchNorm (Keras convention, no affine)",
          "[distributed][sync_batch_norm]") {
  BatchNorm2d keras(BatchNormOptions::keras(3));
  check_equal_to_batch_norm(keras, {4, 3, 3, 3});
  BatchNormOptions plain(3);
  plain.affine = false;
  BatchNorm1d bn(plain);
  check_equal_to_batch_norm(bn, {5, 3, 4});
}

// O(1) inputs and outputs, h = 1e-2 (as BatchNorm's own check): truncation ~1e-4, float rounding ~1e-4,
// under atol 1e-3 + rtol 1e-2. Shifted, scaled inputs so that mean and variance are far from 0 and 1.
TEST_CASE("sync_batch_norm agrees with finite differences", "[distributed][sync_batch_norm][gradcheck]") {
  const Communicator one;
  for (const Shape& shape : {Shape{3, 2, 2, 3}, Shape{5, 3}}) {
    Generator gen(11);
    Tensor x = add(mul(randn(shape, gen), 1.5f), 0.7f).set_requires_grad();
    const std::size_t C = shape[1];
    Tensor gamma = randn({C}, gen).set_requires_grad(), beta = randn({C}, gen).set_requires_grad();
    check_gradients([&](const std::vector<Tensor>& in) { return sync_batch_norm(in[0], in[1], in[2], 1e-5f, one); },
                    {x, gamma, beta});
  }
}

TEST_CASE("convert_sync_batchnorm swaps every BatchNorm, keeping names, values and mode",
          "[distributed][sync_batch_norm]") {
  auto model = mnist_cnn(Normalization::Batch, 3);
  Generator gen(2);
  Tensor x = randn({4, 1, 28, 28}, gen);
  (*model)(x);  // moves the running statistics off their initial values
  model->eval();
  const Tensor want = (*model)(x);
  const auto names = model->named_parameters();
  const auto buffers = model->named_buffers();
  CHECK(convert_sync_batchnorm(*model, Communicator()) == 3);
  CHECK(convert_sync_batchnorm(*model, Communicator()) == 0);  // nothing left to convert
  const auto after = model->named_parameters();
  REQUIRE(after.size() == names.size());
  for (std::size_t i = 0; i < names.size(); ++i) CHECK(after[i].first == names[i].first);
  REQUIRE(model->named_buffers().size() == buffers.size());
  CHECK(!model->is_training());
  CHECK(dynamic_cast<SyncBatchNorm*>((*model)[1].get()) != nullptr);
  CHECK(!(*model)[1]->is_training());
  check_same((*model)(x), want, 2e-5);
}

TEST_CASE("SyncBatchNorm rejects bad options and inputs", "[distributed][sync_batch_norm][errors]") {
  CHECK_THROWS_WITH(SyncBatchNorm(BatchNormOptions(0)), "SyncBatchNorm: num_features must be positive, got 0");
  SyncBatchNorm bn(BatchNormOptions(3));
  Generator gen(1);
  CHECK_THROWS_WITH(bn(randn({2, 4}, gen)),
                    "SyncBatchNorm: expected input of shape (N, C, ...) of rank 2 to 5 with C = 3, got (2, 4)");
  CHECK_THROWS_WITH(bn(randn({1, 3}, gen)),
                    Catch::Contains("expected more than 1 value per channel in the global batch, got 1"));
}
#endif  // XGRAD_HAVE_MPI
