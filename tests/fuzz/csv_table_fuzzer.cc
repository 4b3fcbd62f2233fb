// CSV tables of model inputs (src/serving/scoring/csv_table.h: batch scoring and reference-score tests).
// Byte 0 picks the signature (column-based table, per-column with a text column, tensor [-1, n] of a dtype),
// byte 1 the chunk size; the rest is the CSV.
// Properties: no crash, hang or escaped exception; errors are InvalidArgument; every chunk's tensors are
// well-formed with one row per line read; an accepted line re-splits to the same cells after CsvCell.
#include <cstdint>
#include <sstream>
#include <string>

#include "fuzz/fuzz_input.h"
#include "serving/scoring/csv_table.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tamga;
  fuzz::FuzzInput in(data, size);
  uint8_t which = in.Byte();
  int64_t chunk_rows = 1 + in.Byte() % 17;
  std::string text(in.Rest());

  // SplitCsvLine / CsvCell round trip on the first line.
  std::string first = text.substr(0, text.find('\n'));
  if (auto cells = SplitCsvLine(first, 64); cells.ok()) {
    std::string joined;
    for (size_t i = 0; i < cells->size(); ++i) joined += (i ? "," : "") + CsvCell((*cells)[i]);
    auto again = SplitCsvLine(joined, 64);
    TAMGA_FUZZ_ASSERT(again.ok() && *again == *cells, "CsvCell does not round-trip");
  } else {
    TAMGA_FUZZ_ASSERT(cells.status().code() == StatusCode::kInvalidArgument,
                      "split error not InvalidArgument");
  }

  ModelSignature sig;
  static const DataType kTypes[] = {DataType::kFp32, DataType::kFp64,   DataType::kInt64,
                                    DataType::kInt8, DataType::kUint16, DataType::kBool};
  DataType dt = kTypes[(which >> 2) % 6];
  switch (which % 3) {
    case 0:  // column-based, one [rows, 2] table
      sig.columns = {"a", "b"};
      sig.column_specs = {{"a", dt, {-1}}, {"b", dt, {-1}}};
      sig.inputs = {{"input", dt, {-1, 2}}};
      break;
    case 1:  // per-column, one text column
      sig.columns = {"name", "x"};
      sig.column_specs = {{"name", DataType::kBytes, {-1}}, {"x", dt, {-1}}};
      sig.inputs = sig.column_specs;
      sig.column_tensors = true;
      break;
    default:  // tensor [-1, 3]
      sig.inputs = {{"input-0", dt, {-1, 3}}};
      break;
  }
  std::istringstream stream(text);
  auto reader = CsvTableReader::Open(&stream, sig);
  if (!reader.ok()) {
    TAMGA_FUZZ_ASSERT(reader.status().code() == StatusCode::kInvalidArgument,
                      "open error not InvalidArgument");
    return 0;
  }
  for (int guard = 0; guard < 100000; ++guard) {
    auto chunk = (*reader)->Next(chunk_rows);
    if (!chunk.ok()) {
      TAMGA_FUZZ_ASSERT(chunk.status().code() == StatusCode::kInvalidArgument,
                        "read error not InvalidArgument");
      return 0;
    }
    if (chunk->lines.empty()) return 0;
    TAMGA_FUZZ_ASSERT(static_cast<int64_t>(chunk->lines.size()) <= chunk_rows, "chunk larger than asked");
    TAMGA_FUZZ_ASSERT(chunk->inputs.size() == sig.inputs.size(), "wrong number of inputs");
    for (const auto& t : chunk->inputs) {
      TAMGA_FUZZ_ASSERT(ValidateTensor(t).ok(), "malformed tensor");
      TAMGA_FUZZ_ASSERT(t.Rows() == static_cast<int64_t>(chunk->lines.size()), "rows differ from lines");
    }
  }
  return 0;
}
