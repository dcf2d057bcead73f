// A resume continues the same run or is refused: the checkpoint records the data set and the settings the
// optimizer and schedule were built from; a different data set, a conflicting --lr, --weight-decay or
// --schedule, or metadata of the wrong type is named before any training, and the checkpoint is untouched.
#include <catch2/catch.hpp>
#include <string>

#include "example_runner.hpp"
#include "examples/common/run_record.hpp"
#include "xgrad/core/error.hpp"

using namespace example_runner;

namespace {

const std::string kTiny = " --limit 64 --batch-size 32 --seed 3";

std::string quoted(const std::string& path) { return "'" + path + "'"; }

}  // namespace

TEST_CASE("resume: other data, conflicting flags and bad metadata are refused, the checkpoint kept",
          "[reliability][resume]") {
  TempDir dir;
  const std::string data = make_data(dir, "mnist", 64, 16);
  const std::string ckpt = dir / "run.ckpt";
  Run r = run_ok(dir, "train_mnist",
                 "--data " + quoted(data) + kTiny + " --schedule none --epochs 1 --checkpoint " + quoted(ckpt));
  const json saved = read_json(ckpt);
  CHECK(saved["metadata"]["dataset"]["name"] == "mnist");
  CHECK(saved["metadata"]["dataset"]["sample_shape"] == json::array({1, 28, 28}));
  CHECK(saved["metadata"]["settings"]["lr"] == 0.05);
  const std::string before = read_text(ckpt);

  // Another data set of the same shape and size: its labels differ.
  const std::string other = dir / "other";
  r = run_ok(dir, "make_synthetic_data", "--format mnist --out " + quoted(other) + " --train 64 --test 16 --seed 8");
  struct Case {
    std::string args, message;
    int status;
  };
  const std::string resume = " --epochs 2 --resume " + quoted(ckpt) + " --checkpoint " + quoted(ckpt);
  const std::string same = kTiny + " --schedule none";
  const Case cases[] = {
      {"--data " + quoted(other) + same + resume, "field '/metadata/dataset/train_labels_crc32c'", 1},
      {"--data " + quoted(data) + same + " --dataset fashion" + resume, "field '/metadata/dataset/name'", 1},
      {"--data " + quoted(data) + same + " --lr 0.1" + resume,
       "--lr is 0.1 but the checkpoint '" + ckpt + "' was trained with --lr 0.05: resume with --lr 0.05", 2},
      {"--data " + quoted(data) + same + " --weight-decay 0.001" + resume, "--weight-decay is 0.001 but", 2},
      {"--data " + quoted(data) + kTiny + " --schedule cosine" + resume,
       "--schedule is cosine but the checkpoint '" + ckpt + "' was trained with --schedule none", 2},
      {"--data " + quoted(data) + same + " --optimizer adam" + resume, "--optimizer is adam but", 2},
      {"--data " + quoted(data) + same + " --no-bn" + resume, "field '/metadata/architecture'", 1},
  };
  for (const Case& c : cases) {
    INFO(c.args);
    r = run(dir, "train_mnist", c.args);
    INFO(r.err);
    CHECK(r.status == c.status);
    CHECK(r.err.find(c.message) != std::string::npos);
    CHECK(r.err.find("epoch 2:") == std::string::npos);  // refused before training
    CHECK(read_text(ckpt) == before);
  }
  // The same flags resume.
  r = run(dir, "train_mnist", "--data " + quoted(data) + same + resume);
  INFO(r.err);
  CHECK(r.status == 0);
  CHECK(read_json(ckpt)["epoch"] == 2);
}

TEST_CASE("resume: metadata of the wrong type is named before anything is loaded", "[reliability][resume]") {
  using xgrad::examples::check_resume;
  const json dataset = {{"name", "mnist"}};
  const json settings = {{"lr", 0.05}};
  const auto message = [&](const json& metadata) {
    try {
      check_resume("c.ckpt", metadata, "mnist_cnn(batch)", dataset, settings, 10);
    } catch (const xgrad::Error& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  CHECK(message({{"report_epochs", "x"}}) == "resume: 'c.ckpt': field '/metadata/report_epochs' must be an array");
  CHECK(message({{"report_epochs", json::array({1})}}).find("'/metadata/report_epochs/0' must be an epoch's") !=
        std::string::npos);
  CHECK(message({{"architecture", 3}}).find("'/metadata/architecture' must be a string") != std::string::npos);
  CHECK(message({{"steps_in_epoch", 10}}).find("must be an integer in [0, 10)") != std::string::npos);
  CHECK(message({{"steps_in_epoch", -1}}).find("must be an integer in [0, 10)") != std::string::npos);
  CHECK(message({{"settings", {{"lr", "0.05"}}}}).find("'/metadata/settings/lr' must be a number") !=
        std::string::npos);
  CHECK(message({{"dataset", 1}}).find("'/metadata/dataset' must be an object") != std::string::npos);
  CHECK(message({{"architecture", "mnist_cnn(batch)"}, {"settings", settings}, {"dataset", dataset}}) == "accepted");
  CHECK(message(json::object()) == "accepted");  // a checkpoint from before these records: nothing to check
}
