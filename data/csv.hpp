// read_csv: a numeric table from a CSV file, its columns split into inputs and targets by name (pandas'
// read_csv followed by df.drop(columns=...) / df[[...]]). Every cell must be a finite number; a bad cell,
// a row of the wrong length, an unknown column or an empty file throws xgrad::Error naming the file, the
// line and the column. Not a general CSV parser: no quoted cells, no missing values, no text columns.
//
//   CsvData d = read_csv("houses.csv", {.target_columns = {"price"}});   // inputs (N, F), targets (N, 1)
//   TensorDataset data(d.inputs, d.targets);
#pragma once
#include <string>
#include <vector>

#include "xgrad/core/tensor.hpp"

namespace xgrad {

struct CsvOptions {
  char delimiter = ',';
  bool header = true;  // the first line names the columns (cells trimmed of spaces and surrounding quotes)
  // These columns, in this order, become `targets`; the others, in file order, `inputs`. Needs a header.
  std::vector<std::string> target_columns;
};

struct CsvData {
  std::vector<std::string> input_columns;   // names (from the header; "column 1", ... without one)
  std::vector<std::string> target_columns;
  Tensor inputs;   // (N, input columns); (N, 0) when every column is a target
  Tensor targets;  // (N, target columns); undefined when no target column was asked for
};

CsvData read_csv(const std::string& path, const CsvOptions& options = {});

}  // namespace xgrad
