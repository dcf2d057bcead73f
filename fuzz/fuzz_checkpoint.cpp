// libFuzzer harness for the checkpoint loader: the input is a file handed to load_checkpoint (with Adam, a
// schedule and a generator; and with SGD) and to load_weights (non-strict). Each load must either succeed
// or throw xgrad::Error leaving every object exactly as it was; a successful full load must survive a
// save and reload unchanged. Any other exception, a crash, a sanitizer report or a hang is a finding.
// Seeds: fuzz/corpus/checkpoint (files saved by make_fuzz_seeds from the same fixture).
#include <cstdint>
#include <cstdlib>
#include <functional>

#include "xgrad/core/error.hpp"
#include "fuzz/checkpoint_fixture.hpp"
#include "fuzz/scratch_file.hpp"
#include "xgrad/models/checkpoint.hpp"

namespace {

using xgrad::fuzz::CheckpointFixture;

// Runs `load`; on xgrad::Error the objects must be untouched. Returns whether it loaded.
bool attempt(CheckpointFixture& f, const std::function<void()>& load) {
  const auto before = f.snapshot();
  try {
    load();
    return true;
  } catch (const xgrad::Error&) {
    if (f.snapshot() != before) std::abort();  // a failed load changed something
    return false;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static CheckpointFixture f;  // kept across inputs: a successful load replaces all it restores
  const auto& scratch = xgrad::fuzz::scratch();
  const std::string path = scratch.write("input.json", data, size);

  xgrad::TrainingState state;
  if (attempt(f, [&] { state = xgrad::load_checkpoint(path, f.model, &f.adam, &f.schedule, {&f.gen}); })) {
    // What loaded must save and load back to the same objects and training state.
    const auto loaded = f.snapshot();
    const std::string again = scratch.file("again.json");
    xgrad::save_checkpoint(again, f.model, &f.adam, &f.schedule, {&f.gen}, state);
    const xgrad::TrainingState reloaded = xgrad::load_checkpoint(again, f.model, &f.adam, &f.schedule, {&f.gen});
    if (f.snapshot() != loaded || reloaded.epoch != state.epoch || reloaded.step != state.step ||
        reloaded.metadata != state.metadata) {
      std::abort();
    }
  }
  attempt(f, [&] { xgrad::load_checkpoint(path, f.model, &f.sgd); });
  attempt(f, [&] { xgrad::load_weights(path, f.model, false); });
  return 0;
}
