// The MPI tests' main: MPI around a Catch session; ranks other than 0 write their report to /dev/null.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <vector>

#include "xgrad/distributed/communicator.hpp"

int main(int argc, char** argv) {
  xgrad::distributed::Environment mpi(&argc, &argv);
  std::vector<char*> args(argv, argv + argc);
  char out_flag[] = "--out", dev_null[] = "/dev/null";
  if (!xgrad::distributed::Communicator::world().is_root()) {
    args.push_back(out_flag);
    args.push_back(dev_null);
  }
  return Catch::Session().run(static_cast<int>(args.size()), args.data());
}
