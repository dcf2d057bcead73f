// The convergence study bn_vs_no_bn end to end: the built executable runs on small MNIST-format IDX files
// written here (a learnable rule: the class decides where a bright block sits), and its CSVs, table,
// pictures and exit status are checked. Also the property the study rests on: the variants of a reference
// network start from the same weights. Budgets are a few steps; the whole file runs in seconds.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "xgrad/core/autograd.hpp"
#include "example_runner.hpp"
#include "xgrad/data/idx.hpp"
#include "xgrad/data/transforms.hpp"
#include "xgrad/layers/conv2d.hpp"
#include "xgrad/layers/dense.hpp"
#include "xgrad/models/reference_networks.hpp"

namespace fs = std::filesystem;
using namespace xgrad;
using example_runner::read_text;
using example_runner::Run;
using example_runner::TempDir;
using Catch::Matchers::Contains;

namespace {

void put_u32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

// `n` 28x28 images and labels in IDX files dir/<prefix>-{images-idx3,labels-idx1}-ubyte. Image i has class
// i % 10; the class puts an 8x4 block of bright pixels at one of ten places (two rows of five) on a dim,
// pseudo-random background, so a few steps of training already beat chance.
void write_idx_pair(const std::string& dir, const std::string& prefix, std::uint32_t n, std::uint32_t seed) {
  std::string images, labels;
  put_u32(images, 2051);
  put_u32(images, n);
  put_u32(images, 28);
  put_u32(images, 28);
  put_u32(labels, 2049);
  put_u32(labels, n);
  std::uint32_t state = seed;
  for (std::uint32_t i = 0; i < n; ++i) {
    const std::uint32_t k = i % 10, top = 3 + 14 * (k / 5), left = 1 + 5 * (k % 5);
    for (std::uint32_t r = 0; r < 28; ++r) {
      for (std::uint32_t c = 0; c < 28; ++c) {
        state = state * 1664525u + 1013904223u;  // a linear congruential generator: same bytes every time
        const bool block = r >= top && r < top + 8 && c >= left && c < left + 4;
        images.push_back(static_cast<char>(block ? 200 + (state >> 27) : (state >> 26)));
      }
    }
    labels.push_back(static_cast<char>(k));
  }
  std::ofstream(dir + "/" + prefix + "-images-idx3-ubyte", std::ios::binary) << images;
  std::ofstream(dir + "/" + prefix + "-labels-idx1-ubyte", std::ios::binary) << labels;
}

// The four standard MNIST files in dir/mnist: 640 training and 200 test images.
std::string make_mnist(const TempDir& dir) {
  const std::string data = dir / "mnist";
  fs::create_directories(data);
  write_idx_pair(data, "train", 640, 1);
  write_idx_pair(data, "t10k", 200, 2);
  return data;
}

// Runs the built bn_vs_no_bn with `args` (quoted as needed); `env` prefixes the command (e.g. "PATH=/x").
Run run_study(const TempDir& dir, const std::string& args, const std::string& env = "") {
  return example_runner::run(dir, "bn_vs_no_bn", args, env);
}

// A CSV as a header and rows of fields (the study's fields hold no commas or quotes).
struct Csv {
  std::vector<std::string> header;
  std::vector<std::map<std::string, std::string>> rows;
};

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> fields;
  std::stringstream s(line);
  for (std::string f; std::getline(s, f, ',');) fields.push_back(f);
  if (!line.empty() && line.back() == ',') fields.push_back("");
  return fields;
}

Csv read_csv(const std::string& path) {
  INFO("reading " << path);
  std::ifstream in(path);
  REQUIRE(in);
  Csv csv;
  std::string line;
  REQUIRE(std::getline(in, line));
  csv.header = split(line);
  while (std::getline(in, line)) {
    const auto fields = split(line);
    REQUIRE(fields.size() == csv.header.size());
    std::map<std::string, std::string> row;
    for (std::size_t i = 0; i < fields.size(); ++i) row[csv.header[i]] = fields[i];
    csv.rows.push_back(row);
  }
  return csv;
}

std::set<std::string> column_values(const Csv& csv, const std::string& column) {
  std::set<std::string> values;
  for (const auto& row : csv.rows) values.insert(row.at(column));
  return values;
}

// The weights of the Conv2d and Dense layers of `net`, in order, as plain vectors.
std::vector<std::vector<float>> layer_weights(const Sequential& net) {
  std::vector<std::vector<float>> weights;
  for (std::size_t i = 0; i < net.size(); ++i) {
    if (auto conv = std::dynamic_pointer_cast<Conv2d>(net[i])) weights.push_back(conv->weight().to_vector());
    if (auto dense = std::dynamic_pointer_cast<Dense>(net[i])) weights.push_back(dense->weight().to_vector());
  }
  return weights;
}

bool gnuplot_on_path() { return std::system("gnuplot --version >/dev/null 2>&1") == 0; }

}  // namespace

TEST_CASE("bn_vs_no_bn: the variants of a reference network share their initial weights", "[bn_vs_no_bn]") {
  // The study's claim "same initial weights": the k-th conv/dense weight is the same tensor, bit for bit,
  // whichever normalization sits between the layers.
  const auto plain = layer_weights(*mnist_cnn(Normalization::None, 5));
  REQUIRE(plain.size() == 4);  // conv, conv, dense, dense
  for (Normalization norm : {Normalization::Batch, Normalization::Layer, Normalization::Group}) {
    INFO(to_string(norm));
    CHECK(layer_weights(*mnist_cnn(norm, 5)) == plain);
  }
  const auto mlp = layer_weights(*ioffe_szegedy_mlp(false, 5));
  REQUIRE(mlp.size() == 4);  // three hidden layers and the output
  CHECK(layer_weights(*ioffe_szegedy_mlp(true, 5)) == mlp);
  // And the seed matters, so the equalities above are not trivially true.
  CHECK(layer_weights(*mnist_cnn(Normalization::None, 6)) != plain);
}

TEST_CASE("bn_vs_no_bn: cnn preset writes every curve, the table and the pictures", "[bn_vs_no_bn]") {
  REQUIRE(gnuplot_on_path());  // the project installs gnuplot-nox (scripts/setup.sh)
  TempDir dir;
  const std::string data = make_mnist(dir), out = dir / "out";
  const std::string args = "--data '" + data + "' --preset cnn --images 320 --eval-every 2 --eval-images 100 "
                           "--lrs 0.1 --adam-lrs 0.01 --seed 3 --out '" + out + "'";
  const Run r = run_study(dir, args);
  INFO(r.err);
  REQUIRE(r.status == 0);

  const Csv curves = read_csv(out + "/cnn_curves.csv");
  CHECK(curves.header == std::vector<std::string>{"config", "norm", "optimizer", "lr", "batch_size", "step", "images",
                                                  "train_loss", "test_accuracy"});
  const std::set<std::string> configs = {"none sgd lr=0.1 B=64", "batch sgd lr=0.1 B=64", "none adam lr=0.01 B=64",
                                         "batch adam lr=0.01 B=64"};
  CHECK(column_values(curves, "config") == configs);
  // 320 images / 64 = 5 steps: rows at steps 0, 2, 4 and the last step 5, for each of the 4 runs.
  CHECK(curves.rows.size() == 4 * 4);
  CHECK(column_values(curves, "step") == std::set<std::string>{"0", "2", "4", "5"});
  for (const auto& row : curves.rows) {
    CHECK(std::stod(row.at("images")) == 64 * std::stod(row.at("step")));
    CHECK(row.at("train_loss").empty() == (row.at("step") == "0"));  // not measured before the first step
    const double accuracy = std::stod(row.at("test_accuracy"));
    CHECK((accuracy >= 0 && accuracy <= 1));
  }

  // Every run starts from the same weights and sees the same batches, with or without BN.
  const Csv summary = read_csv(out + "/cnn_summary.csv");
  CHECK(summary.header == std::vector<std::string>{"config", "norm", "optimizer", "lr", "batch_size", "steps",
                                                   "steps_to_target", "final_accuracy", "diverged", "seconds",
                                                   "init_weights", "batch_order"});
  CHECK(column_values(summary, "config") == configs);
  CHECK(column_values(summary, "init_weights").size() == 1);
  CHECK(column_values(summary, "batch_order").size() == 1);

  // The table: a header and a line per configuration.
  CHECK_THAT(r.out, Contains("configuration") && Contains("steps to 97%") && Contains("final accuracy") &&
                        Contains("diverged"));
  for (const std::string& c : configs) CHECK_THAT(r.out, Contains(c));

  for (const char* picture : {"/cnn_curves.png", "/cnn_curves.svg", "/cnn_curves.gp"}) {
    INFO(picture);
    CHECK(fs::exists(out + picture));
    CHECK(fs::file_size(out + picture) > 1000);
  }
  CHECK(read_text(out + "/cnn_curves.png").substr(1, 3) == "PNG");

  // Same seed, same data, same threads: the same curves, bit for bit.
  const std::string again = dir / "again";
  REQUIRE(run_study(dir, "--data '" + data + "' --preset cnn --images 320 --eval-every 2 --eval-images 100 "
                         "--lrs 0.1 --adam-lrs 0.01 --seed 3 --out '" + again + "'")
              .status == 0);
  CHECK(read_text(again + "/cnn_curves.csv") == read_text(out + "/cnn_curves.csv"));
}

TEST_CASE("bn_vs_no_bn: ioffe preset tracks the percentiles of a sigmoid's input", "[bn_vs_no_bn]") {
  TempDir dir;
  const std::string data = make_mnist(dir), out = dir / "out";
  const Run r = run_study(dir, "--data '" + data + "' --preset ioffe --steps 10 --eval-every 5 --optimizers sgd "
                                   "--lrs 0.5 --out '" + out + "'");
  INFO(r.err);
  REQUIRE(r.status == 0);
  const Csv curves = read_csv(out + "/ioffe_curves.csv");
  CHECK(curves.header == std::vector<std::string>{"config", "norm", "optimizer", "lr", "batch_size", "step", "images",
                                                  "train_loss", "test_accuracy", "p15", "p50", "p85"});
  CHECK(column_values(curves, "config") == std::set<std::string>{"none sgd lr=0.5 B=60", "batch sgd lr=0.5 B=60"});
  CHECK(curves.rows.size() == 2 * 3);  // steps 0, 5, 10
  for (const auto& row : curves.rows) {
    const double p15 = std::stod(row.at("p15")), p50 = std::stod(row.at("p50")), p85 = std::stod(row.at("p85"));
    CHECK(p15 <= p50);
    CHECK(p50 <= p85);
  }
  // The probe, recomputed here: the input of the last sigmoid (BN output with BN, Dense output without),
  // unit 0, over the 200 test images, before any step; percentiles interpolated like NumPy's default.
  const TensorDataset test = load_mnist(data, false);
  Tensor x = test.inputs().clone();
  Generator unused(0);
  Normalize({0.1307f}, {0.3081f})(x, unused);  // the study's MNIST constants
  for (std::size_t run = 0; run < 2; ++run) {
    const bool bn = run == 1;
    INFO((bn ? "with BN" : "without BN"));
    auto net = ioffe_szegedy_mlp(bn, 1);  // --seed defaults to 1
    net->eval();
    NoGradGuard no_grad;
    Tensor h = x;
    for (std::size_t i = 0; i + 2 < net->size(); ++i) h = (*(*net)[i])(h);  // up to the last sigmoid
    REQUIRE(h.shape() == Shape{200, 100});
    std::vector<float> unit(200);
    for (std::size_t n = 0; n < 200; ++n) unit[n] = h.at({n, 0});
    std::sort(unit.begin(), unit.end());
    auto percentile = [&](double p) {
      const double at = p / 100 * 199;
      const auto k = static_cast<std::size_t>(at);
      return unit[k] + (at - double(k)) * (unit[k + 1] - unit[k]);
    };
    const auto& step0 = curves.rows[3 * run];
    REQUIRE(step0.at("step") == "0");
    CHECK(std::stod(step0.at("p15")) == Approx(percentile(15)).epsilon(1e-5).margin(1e-6));
    CHECK(std::stod(step0.at("p50")) == Approx(percentile(50)).epsilon(1e-5).margin(1e-6));
    CHECK(std::stod(step0.at("p85")) == Approx(percentile(85)).epsilon(1e-5).margin(1e-6));
  }
  CHECK(read_csv(out + "/ioffe_summary.csv").rows.size() == 2);
  CHECK(fs::exists(out + "/ioffe_percentiles.png"));
  CHECK(fs::exists(out + "/ioffe_percentiles.svg"));
  CHECK(fs::exists(out + "/ioffe_curves.png"));
}

TEST_CASE("bn_vs_no_bn: small-batch preset crosses normalizations with batch sizes on one image budget",
          "[bn_vs_no_bn]") {
  TempDir dir;
  const std::string data = make_mnist(dir), out = dir / "out";
  const Run r = run_study(dir, "--data '" + data + "' --preset small-batch --images 64 --batch-sizes 8,32 "
                                   "--eval-every-images 32 --eval-images 50 --out '" + out + "'");
  INFO(r.err);
  REQUIRE(r.status == 0);
  const Csv summary = read_csv(out + "/small-batch_summary.csv");
  REQUIRE(summary.rows.size() == 8);
  CHECK(column_values(summary, "norm") == std::set<std::string>{"none", "batch", "layer", "group"});
  for (const auto& row : summary.rows) {
    // The same 64 images for each batch size, and the rate scaled by B/64 from the base 0.1.
    const double b = std::stod(row.at("batch_size"));
    CHECK(std::stod(row.at("steps")) * b == 64);
    CHECK(std::stod(row.at("lr")) == Approx(0.1 * b / 64));
  }
  CHECK(column_values(summary, "init_weights").size() == 1);
  CHECK(column_values(summary, "batch_order").size() == 1);  // one shuffle for both batch sizes
  const Csv curves = read_csv(out + "/small-batch_curves.csv");
  CHECK(column_values(curves, "images") == std::set<std::string>{"0", "32", "64"});
  CHECK(fs::exists(out + "/small-batch_curves.png"));
}

TEST_CASE("bn_vs_no_bn: data-parallel preset on one process: SyncBatchNorm is BatchNorm there", "[bn_vs_no_bn]") {
  // Under mpirun it crosses BN per rank, SyncBatchNorm and no BN (scripts/test.sh runs it at 4 ranks); on one
  // process the first two are the same computation, so their curves must agree to the bit.
  TempDir dir;
  const std::string data = make_mnist(dir), out = dir / "out";
  const Run r = run_study(dir, "--data '" + data + "' --preset data-parallel --images 64 --batch-sizes 4,8 "
                                   "--eval-every-images 32 --eval-images 50 --out '" + out + "'");
  INFO(r.err);
  REQUIRE(r.status == 0);
  const Csv summary = read_csv(out + "/data-parallel_summary.csv");
  REQUIRE(summary.rows.size() == 6);
  CHECK(column_values(summary, "norm") == std::set<std::string>{"batch", "sync", "none"});
  const Csv curves = read_csv(out + "/data-parallel_curves.csv");
  std::map<std::string, std::vector<std::string>> by_norm;  // "batch B=4" -> its losses and accuracies
  for (const auto& row : curves.rows) {
    const std::string key = row.at("norm") + " B=" + row.at("batch_size");
    by_norm[key].push_back(row.at("train_loss") + " " + row.at("test_accuracy"));
  }
  for (const char* b : {"4", "8"}) {
    INFO("batch " << b);
    CHECK(by_norm["sync B=" + std::string(b)] == by_norm["batch B=" + std::string(b)]);
    CHECK(by_norm["none B=" + std::string(b)] != by_norm["batch B=" + std::string(b)]);
  }
  // Under mpirun only this preset runs; alone, a wrong norm for the others is still refused.
  const Run bad = run_study(dir, "--data '" + data + "' --norms sink --out '" + out + "'");
  CHECK(bad.status == 2);
}

TEST_CASE("bn_vs_no_bn: a diverged run is recorded and the study goes on", "[bn_vs_no_bn]") {
  TempDir dir;
  const std::string data = make_mnist(dir), out = dir / "out";
  // Plain SGD at a rate of a million overflows the loss within a few steps; Adam's steps stay bounded.
  const Run r = run_study(dir, "--data '" + data + "' --images 640 --eval-every 5 --eval-images 50 --lrs 1e6 "
                                   "--adam-lrs 0.01 --norms none --out '" + out + "'");
  INFO(r.err);
  REQUIRE(r.status == 0);
  const Csv summary = read_csv(out + "/cnn_summary.csv");
  REQUIRE(summary.rows.size() == 2);
  CHECK(summary.rows[0].at("config") == "none sgd lr=1e+06 B=64");
  CHECK_THAT(summary.rows[0].at("diverged"), Contains("loss nan at step") || Contains("loss inf at step"));
  CHECK(summary.rows[0].at("final_accuracy").empty());
  CHECK(summary.rows[1].at("config") == "none adam lr=0.01 B=64");
  CHECK(summary.rows[1].at("diverged") == "no");
  CHECK(summary.rows[1].at("steps") == "10");
  CHECK_THAT(r.out, Contains("yes: loss"));
  // The curve of the diverged run ends at the step whose loss was non-finite.
  const Csv curves = read_csv(out + "/cnn_curves.csv");
  std::map<std::string, std::string> last;
  for (const auto& row : curves.rows) {
    if (row.at("optimizer") == "sgd") last = row;
  }
  CHECK((last.at("train_loss") == "nan" || last.at("train_loss") == "inf"));
  CHECK(last.at("test_accuracy").empty());
}

TEST_CASE("bn_vs_no_bn: without gnuplot the CSVs are still written and the reason printed", "[bn_vs_no_bn]") {
  TempDir dir;
  const std::string data = make_mnist(dir), out = dir / "out";
  const Run r = run_study(dir, "--data '" + data + "' --steps 2 --eval-every 1 --eval-images 50 --optimizers adam "
                                   "--adam-lrs 0.001 --out '" + out + "'", "PATH=/nonexistent");
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK_THAT(r.out, Contains("gnuplot was not found"));
  CHECK(read_csv(out + "/cnn_curves.csv").rows.size() == 2 * 3);
  CHECK_FALSE(fs::exists(out + "/cnn_curves.png"));
}

TEST_CASE("bn_vs_no_bn: bad flags print the usage and exit with status 2", "[bn_vs_no_bn]") {
  TempDir dir;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--preset resnet", "--preset"},
      {"--lrs 0.1,fast", "--lrs"},
      {"--images 100 --steps 5", "excludes"},
      {"--optimizers rmsprop", "--optimizers"},
      {"--preset ioffe --norms layer", "the ioffe network takes none or batch, not 'layer'"},
      {"--threads 0", "--threads"},
      {"--no-such-flag", "no-such-flag"},
  };
  for (const auto& [args, message] : cases) {
    INFO(args);
    const Run r = run_study(dir, args + " --out '" + (dir / "never") + "'");
    CHECK(r.status == 2);
    CHECK_THAT(r.err, Contains(message) && Contains("Usage"));
  }
  CHECK_FALSE(fs::exists(dir / "never"));
}
