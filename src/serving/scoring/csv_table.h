#pragma once
// CSV tables of model inputs and predictions (batch scoring, reference-score tests; docs/rollouts.md §4-5).
//
// CsvTableReader reads a CSV stream in chunks. The first line is a header; the signature decides how
// columns become inputs:
//  - a column-based MLflow signature: every signature column must be in the header (by name, any order;
//    other columns are carried along, not scored). Per-column models (the Python worker) get one tensor per
//    column, others one [rows, columns] tensor in the signature's order;
//  - a tensor signature with one input [-1, n]: the header's columns, in order, are its n features (n must
//    equal the column count when the model declares it).
// Cells may be quoted ("" inside quotes is one quote); numbers are parsed exactly (from_chars) and must be
// finite or nan/inf; an empty cell is an error naming its row and column. Limits: 4096 columns, 1 MiB per
// line, no line breaks inside quotes. Every problem is InvalidArgument naming the row.
//
// Thread-compatible.
#include <cstdint>
#include <istream>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "serving/runtime/model_runtime.h"

namespace tamga {

// One CSV line split into cells; InvalidArgument for an unterminated quote or more than `max_cells`.
Result<std::vector<std::string>> SplitCsvLine(std::string_view line, size_t max_cells = 4096);
// A cell as written in CSV: quoted when it holds a comma, quote or line break.
std::string CsvCell(std::string_view value);

class CsvTableReader {
 public:
  static Result<std::unique_ptr<CsvTableReader>> Open(std::istream* in, const ModelSignature& sig);

  struct Chunk {
    std::vector<Tensor> inputs;      // signature order; empty at the end of the table
    std::vector<std::string> lines;  // the rows as read (for echoing into an output table)
    int64_t first_row = 0;           // 1-based data row number of lines[0]
  };
  // Up to `max_rows` rows; a chunk with no lines at the end.
  Result<Chunk> Next(int64_t max_rows);
  const std::vector<std::string>& header() const { return header_; }
  const std::string& header_line() const { return header_line_; }
  // The header names of the columns the model takes, in the order they are fed to it.
  std::vector<std::string> scored_columns() const {
    std::vector<std::string> out;
    for (const Column& c : columns_) out.push_back(header_[c.cell]);
    return out;
  }

 private:
  CsvTableReader() = default;
  struct Column {
    size_t cell;  // index in the CSV row
    DataType dtype;
  };
  std::istream* in_ = nullptr;
  std::vector<std::string> header_;
  std::string header_line_;
  std::vector<Column> columns_;  // the scored columns, in signature order
  std::vector<TensorSpec> specs_;
  bool per_column_ = false;  // one tensor per column (else one [rows, columns] table)
  int64_t rows_read_ = 0;
};

// Prediction column names for a batch's outputs: an output of width 1 is its name, a wider one
// name_0 .. name_{k-1} (row-major over the dimensions after the batch).
std::vector<std::string> PredictionColumns(const std::vector<Tensor>& outputs);
// Row `row` of every output as CSV cells, each preceded by a comma.
void AppendPredictionCells(const std::vector<Tensor>& outputs, int64_t row, std::string* out);
// Row `row` of every output as numbers (BYTES cells become NaN); the reference-test comparison's input.
void PredictionValues(const std::vector<Tensor>& outputs, int64_t row, std::vector<double>* out);

}  // namespace tamga
