// read_csv: a numeric table split into inputs and targets by column name, read from files the test writes
// into its own temporary directory; each defect is an Error naming the file, the line and the column.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "xgrad/data/csv.hpp"
#include "xgrad/data/tensor_dataset.hpp"
#include "xgrad/xgrad.hpp"

using namespace xgrad;
using Catch::Matchers::Contains;

namespace {

struct CsvDir {
  std::filesystem::path path;
  CsvDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "xgrad_csv_XXXXXX").string();
    REQUIRE(mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~CsvDir() { std::filesystem::remove_all(path); }
  std::string write(const std::string& name, const std::string& text) const {
    const std::string file = (path / name).string();
    std::ofstream(file, std::ios::binary) << text;
    return file;
  }
};

}  // namespace

TEST_CASE("read_csv: header, targets by name in the order asked, the rest as inputs", "[data][csv]") {
  CsvDir dir;
  const std::string file = dir.write("houses.csv",
                                     "rooms, area ,\"price\",age\r\n"
                                     "3,120.5,250000,12\r\n"
                                     "\r\n"
                                     " 2 ,-7.25e1,+1.5e5,0.125\r\n");
  const CsvData d = read_csv(file, {.target_columns = {"age", "price"}});
  CHECK(d.input_columns == std::vector<std::string>{"rooms", "area"});
  CHECK(d.target_columns == std::vector<std::string>{"age", "price"});
  CHECK(d.inputs.shape() == Shape{2, 2});
  CHECK(d.inputs.to_vector() == std::vector<float>{3, 120.5f, 2, -72.5f});
  CHECK(d.targets.to_vector() == std::vector<float>{12, 250000, 0.125f, 150000});

  const CsvData all = read_csv(file);
  CHECK_FALSE(all.targets.defined());
  CHECK(all.inputs.shape() == Shape{2, 4});
  // Into a dataset, with labels from a column of class numbers.
  const std::string iris = dir.write("iris.csv", "a;b;class\n0.5;1;2\n1.5;2;0\n2.5;3;1\n");
  const CsvData c = read_csv(iris, {.delimiter = ';', .target_columns = {"class"}});
  const TensorDataset set(c.inputs, to_labels(c.targets));
  CHECK(set.labels() == Labels{2, 0, 1});
  // Without a header: every line is a row, columns are numbered.
  const CsvData plain = read_csv(dir.write("plain.csv", "1,2\n3,4\n5,6"), {.header = false});
  CHECK(plain.inputs.to_vector() == std::vector<float>{1, 2, 3, 4, 5, 6});
  CHECK(plain.input_columns == std::vector<std::string>{"column 1", "column 2"});
}

TEST_CASE("read_csv: each defect names the file, the line and the column", "[data][csv][errors]") {
  CsvDir dir;
  const std::string bad = dir.write("bad.csv", "x,y,z\n1,2,3\n4,abc,6\n");
  CHECK_THROWS_WITH(read_csv(bad), "read_csv: " + bad + " line 3, column 2 ('y'): 'abc' is not a finite number");
  const std::string empty_cell = dir.write("hole.csv", "x,y\n1,\n");
  CHECK_THROWS_WITH(read_csv(empty_cell), "read_csv: " + empty_cell + " line 2, column 2 ('y'): an empty cell is not a finite number");
  const std::string nan = dir.write("nan.csv", "x\n1\nnan\n");
  CHECK_THROWS_WITH(read_csv(nan), Contains("line 3, column 1 ('x'): 'nan' is not a finite number"));
  const std::string huge = dir.write("huge.csv", "x\n1e39\n");
  CHECK_THROWS_WITH(read_csv(huge), Contains("line 2, column 1 ('x'): '1e39' is out of float's range"));
  const std::string trailing = dir.write("trailing.csv", "x\n1.5x\n");
  CHECK_THROWS_WITH(read_csv(trailing), Contains("line 2, column 1 ('x'): '1.5x' is not a finite number"));
  const std::string ragged = dir.write("ragged.csv", "a,b,c\n1,2,3\n1,2\n");
  CHECK_THROWS_WITH(read_csv(ragged), "read_csv: " + ragged + " line 3: 2 cells, but the header has 3");
  const std::string long_row = dir.write("long.csv", "1,2\n1,2,3\n");
  CHECK_THROWS_WITH(read_csv(long_row, {.header = false}), Contains("line 2: 3 cells, but the first row has 2"));
  const std::string empty = dir.write("empty.csv", "");
  CHECK_THROWS_WITH(read_csv(empty), "read_csv: " + empty + " is empty (no header)");
  CHECK_THROWS_WITH(read_csv(dir.write("blank.csv", "\n  \n")), Contains("is empty (no header)"));
  const std::string header_only = dir.write("header.csv", "a,b\n");
  CHECK_THROWS_WITH(read_csv(header_only), "read_csv: " + header_only + " has a header but no rows");
  const std::string ok = dir.write("ok.csv", "a,b,a\n1,2,3\n");
  CHECK_THROWS_WITH(read_csv(ok, {.target_columns = {"c"}}),
                    "read_csv: " + ok + ": target column 'c' is not in the header (line 1)");
  CHECK_THROWS_WITH(read_csv(ok, {.target_columns = {"a"}}),
                    "read_csv: " + ok + ": the header names column 'a' twice (columns 1 and 3)");
  CHECK_THROWS_WITH(read_csv(ok, {.target_columns = {"b", "b"}}), Contains("target column 'b' is asked for twice"));
  CHECK_THROWS_WITH(read_csv(ok, {.header = false, .target_columns = {"a"}}), Contains("needs a header"));
  const std::string missing = (dir.path / "missing.csv").string();
  CHECK_THROWS_WITH(read_csv(missing), "read_csv: cannot open '" + missing + "'");
}
