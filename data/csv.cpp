// read_csv: see csv.hpp. The file is read line by line; cells are parsed with std::from_chars (locale-free,
// exact round trip of what printf("%.9g") wrote).
#include "xgrad/data/csv.hpp"

#include <charconv>
#include <cmath>
#include <fstream>
#include <string_view>

#include "xgrad/core/error.hpp"

namespace xgrad {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split(std::string_view line, char delimiter) {
  std::vector<std::string_view> cells;
  for (std::size_t start = 0;;) {
    const std::size_t end = line.find(delimiter, start);
    cells.push_back(trim(line.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start)));
    if (end == std::string_view::npos) return cells;
    start = end + 1;
  }
}

std::string header_name(std::string_view cell) {
  if (cell.size() >= 2 && cell.front() == '"' && cell.back() == '"') cell = cell.substr(1, cell.size() - 2);
  return std::string(cell);
}

bool blank(std::string_view line) { return trim(line).empty(); }

}  // namespace

CsvData read_csv(const std::string& path, const CsvOptions& options) {
  std::ifstream in(path, std::ios::binary);
  XGRAD_CHECK(in.is_open(), "read_csv: cannot open '", path, "'");
  XGRAD_CHECK(options.header || options.target_columns.empty(), "read_csv: ", path,
              ": target columns are chosen by name, which needs a header (options.header is false)");
  std::string line;
  std::size_t line_no = 0;
  // The first non-blank line: the header, or the first row (which then fixes the column count).
  bool have_line = false;
  while (!have_line && std::getline(in, line)) {
    ++line_no;
    have_line = !blank(line);
  }
  XGRAD_CHECK(have_line, "read_csv: ", path, " is empty (no ", options.header ? "header" : "rows", ")");
  std::vector<std::string> names;
  const std::size_t first_line = line_no;
  for (std::string_view cell : split(line, options.delimiter))
    names.push_back(options.header ? header_name(cell) : "column " + std::to_string(names.size() + 1));
  const std::size_t C = names.size();

  // is_target[c], and each target's column index in the order asked for.
  std::vector<bool> is_target(C, false);
  std::vector<std::size_t> target_index;
  for (const std::string& want : options.target_columns) {
    std::size_t found = C;
    for (std::size_t c = 0; c < C; ++c) {
      if (names[c] != want) continue;
      XGRAD_CHECK(found == C, "read_csv: ", path, ": the header names column '", want, "' twice (columns ",
                  found + 1, " and ", c + 1, ")");
      found = c;
    }
    XGRAD_CHECK(found < C, "read_csv: ", path, ": target column '", want, "' is not in the header (line ",
                first_line, ")");
    XGRAD_CHECK(!is_target[found], "read_csv: ", path, ": target column '", want, "' is asked for twice");
    is_target[found] = true;
    target_index.push_back(found);
  }

  // values: row-major (N, C), every cell checked.
  std::vector<float> values;
  auto parse_row = [&](const std::string& text) {
    const std::vector<std::string_view> cells = split(text, options.delimiter);
    XGRAD_CHECK(cells.size() == C, "read_csv: ", path, " line ", line_no, ": ", cells.size(), " cells, but ",
                options.header ? "the header has " : "the first row has ", C);
    for (std::size_t c = 0; c < C; ++c) {
      const std::string_view cell = cells[c];
      float v = 0;
      const char* end = cell.data() + cell.size();
      const auto [ptr, ec] = std::from_chars(cell.data() + (!cell.empty() && cell[0] == '+'), end, v);
      XGRAD_CHECK(!cell.empty() && ec == std::errc() && ptr == end && std::isfinite(v), "read_csv: ", path, " line ",
                  line_no, ", column ", c + 1, " ('", names[c], "'): ",
                  cell.empty() ? std::string("an empty cell") : std::string("'").append(cell).append("'"),
                  ec == std::errc::result_out_of_range ? " is out of float's range" : " is not a finite number");
      values.push_back(v);
    }
  };
  if (!options.header) parse_row(line);
  while (std::getline(in, line)) {
    ++line_no;
    if (!blank(line)) parse_row(line);
  }
  XGRAD_CHECK(in.eof(), "read_csv: ", path, ": read failed after line ", line_no);
  const std::size_t N = values.size() / C;
  XGRAD_CHECK(N > 0, "read_csv: ", path, " has a header but no rows");

  // Split the columns: inputs[n, i] and targets[n, t] from values[n, c].
  CsvData out;
  std::vector<std::size_t> input_index;
  for (std::size_t c = 0; c < C; ++c) {
    if (!is_target[c]) {
      input_index.push_back(c);
      out.input_columns.push_back(names[c]);
    }
  }
  for (std::size_t c : target_index) out.target_columns.push_back(names[c]);
  auto take = [&](const std::vector<std::size_t>& columns) {
    Tensor t = empty({N, columns.size()});
    float* p = t.data();
    for (std::size_t n = 0; n < N; ++n)
      for (std::size_t k = 0; k < columns.size(); ++k) p[n * columns.size() + k] = values[n * C + columns[k]];
    return t;
  };
  out.inputs = take(input_index);
  if (!target_index.empty()) out.targets = take(target_index);
  return out;
}

}  // namespace xgrad
