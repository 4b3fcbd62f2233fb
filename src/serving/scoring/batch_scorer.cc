#include "serving/scoring/batch_scorer.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <map>

#include "serving/monitoring/reference_stats.h"
#include "serving/scoring/csv_table.h"

namespace tamga {
namespace {

double Since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// Runs one chunk and checks that every output has one row per input row and well-formed bytes, so nothing
// downstream reads past a buffer whatever the model returns.
Result<std::vector<Tensor>> Execute(ModelRuntime* runtime, std::vector<Tensor> inputs, int64_t rows,
                                    const ScoreOptions& options) {
  TAMGA_ASSIGN_OR_RETURN(auto outputs, runtime->Execute(inputs));
  if (options.mlflow_predictions) outputs = runtime->ToMlflowPredictions(std::move(outputs));
  if (outputs.empty()) return Internal("the model returned no outputs");
  for (auto& t : outputs) {
    if (t.shape.empty()) t.shape = {1};
    TAMGA_RETURN_IF_ERROR(ValidateTensor(t));
    if (t.shape[0] != rows) {
      return Internal("the model returned " + std::to_string(t.shape[0]) + " rows of '" + t.name + "' for " +
                      std::to_string(rows) + " input rows");
    }
  }
  return outputs;
}

}  // namespace

Result<ScoreStats> ScoreCsv(ModelRuntime* runtime, std::istream* in, std::ostream* out,
                            const ScoreOptions& options) {
  auto start = std::chrono::steady_clock::now();
  TAMGA_ASSIGN_OR_RETURN(auto reader, CsvTableReader::Open(in, runtime->signature()));
  ScoreStats stats;
  std::string buf;
  bool header_written = false;
  for (;;) {
    TAMGA_ASSIGN_OR_RETURN(auto chunk, reader->Next(std::max<int64_t>(1, options.batch_rows)));
    if (chunk.lines.empty()) break;
    auto rows = static_cast<int64_t>(chunk.lines.size());
    TAMGA_ASSIGN_OR_RETURN(auto outputs, Execute(runtime, std::move(chunk.inputs), rows, options));
    buf.clear();
    if (!header_written) {
      stats.prediction_columns = PredictionColumns(outputs);
      if (options.write_header) {
        buf = reader->header_line();
        for (const auto& c : stats.prediction_columns) buf += "," + CsvCell(c);
        buf += "\n";
      }
      header_written = true;
    }
    for (int64_t r = 0; r < rows; ++r) {
      buf += chunk.lines[r];
      AppendPredictionCells(outputs, r, &buf);
      buf += '\n';
    }
    out->write(buf.data(), static_cast<std::streamsize>(buf.size()));
    if (!*out) return Unavailable("cannot write the scored table");
    stats.rows += rows;
  }
  if (!header_written) return InvalidArgument("the CSV has a header but no rows to score");
  stats.seconds = Since(start);
  return stats;
}

namespace {

// The expected table: its header mapped onto the prediction columns, read row by row.
struct ExpectedTable {
  std::istream* in;
  std::vector<size_t> cells;  // CSV cell index per prediction column
  size_t width = 0;           // cells per row
  int64_t row = 0;

  Status Open(const std::vector<std::string>& predictions) {
    std::string line;
    do {
      if (!std::getline(*in, line))
        return InvalidArgument("the expected-scores CSV is empty (a header row is required)");
      if (!line.empty() && line.back() == '\r') line.pop_back();
    } while (line.find_first_not_of(" \t") == std::string::npos);
    if (line.compare(0, 3, "\xEF\xBB\xBF") == 0) line.erase(0, 3);
    TAMGA_ASSIGN_OR_RETURN(auto header, SplitCsvLine(line));
    width = header.size();
    std::map<std::string, size_t> index;
    for (size_t i = 0; i < header.size(); ++i) index.emplace(header[i], i);
    bool by_name = true;
    for (const auto& p : predictions) by_name = by_name && index.count(p);
    if (by_name) {
      for (const auto& p : predictions) cells.push_back(index[p]);
      return Status::Ok();
    }
    if (header.size() < predictions.size()) {
      return InvalidArgument("the expected-scores CSV has " + std::to_string(header.size()) +
                             " columns; the model predicts " + std::to_string(predictions.size()));
    }
    for (size_t i = header.size() - predictions.size(); i < header.size(); ++i) cells.push_back(i);
    return Status::Ok();
  }

  // The next row's expected values; false at the end.
  Result<bool> Next(std::vector<double>* values) {
    std::string line;
    do {
      if (!std::getline(*in, line)) return false;
      if (!line.empty() && line.back() == '\r') line.pop_back();
    } while (line.find_first_not_of(" \t") == std::string::npos);
    ++row;
    auto split = SplitCsvLine(line);
    if (!split.ok())
      return InvalidArgument("expected-scores row " + std::to_string(row) + ": " + split.status().message());
    if (split->size() != width) {
      return InvalidArgument("expected-scores row " + std::to_string(row) + " has " +
                             std::to_string(split->size()) + " fields; the header has " +
                             std::to_string(width));
    }
    values->clear();
    for (size_t c : cells) {
      std::string_view s = (*split)[c];
      while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
      while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
      double d = 0;
      auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
      if (s.empty() || ec != std::errc() || p != s.data() + s.size()) {
        return InvalidArgument("expected-scores row " + std::to_string(row) + ": '" +
                               std::string(s.substr(0, 50)) + "' is not a number");
      }
      values->push_back(d);
    }
    return true;
  }
};

}  // namespace

Result<ReferenceTestResult> RunReferenceTest(ModelRuntime* runtime, std::istream* inputs,
                                             std::istream* expected, double atol, double rtol,
                                             const ScoreOptions& options) {
  auto start = std::chrono::steady_clock::now();
  if (!(atol >= 0) || !(rtol >= 0) || !std::isfinite(atol) || !(rtol <= 1))
    return InvalidArgument("atol must be finite and non-negative, rtol in [0, 1]");
  TAMGA_ASSIGN_OR_RETURN(auto reader, CsvTableReader::Open(inputs, runtime->signature()));
  ReferenceTestResult res;
  res.atol = atol;
  res.rtol = rtol;
  ExpectedTable table{expected};
  std::vector<double> got, want;
  ReferenceStatsBuilder stats;
  bool stats_ok = true;
  std::string stats_note;
  for (;;) {
    TAMGA_ASSIGN_OR_RETURN(auto chunk, reader->Next(std::max<int64_t>(1, options.batch_rows)));
    if (chunk.lines.empty()) break;
    auto rows = static_cast<int64_t>(chunk.lines.size());
    if (stats_ok) {
      FeatureRows features = FeaturesOf(chunk.inputs);
      // A table-tensor model's features are named by the CSV columns it took (same order), unless two
      // columns share a name (the names label metrics: they must differ).
      std::vector<std::string> names = reader->scored_columns();
      std::vector<std::string> sorted = names;
      std::sort(sorted.begin(), sorted.end());
      bool unique = std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end();
      if (features.cols() == names.size() && unique) features.names = names;
      Status added = stats.Add(features);
      stats_ok = added.ok();
      if (!stats_ok) stats_note = added.message();
    }
    TAMGA_ASSIGN_OR_RETURN(auto outputs, Execute(runtime, std::move(chunk.inputs), rows, options));
    if (res.columns.empty()) {
      res.columns = PredictionColumns(outputs);
      TAMGA_RETURN_IF_ERROR(table.Open(res.columns));
    }
    for (int64_t r = 0; r < rows; ++r) {
      TAMGA_ASSIGN_OR_RETURN(bool more, table.Next(&want));
      if (!more) {
        return InvalidArgument("the expected-scores CSV has " + std::to_string(res.rows) +
                               " rows; the inputs have more");
      }
      PredictionValues(outputs, r, &got);
      bool row_ok = true;
      for (size_t k = 0; k < got.size() && k < want.size(); ++k) {
        ++res.compared_values;
        double g = got[k], w = want[k];
        bool ok;
        if (std::isnan(g) || std::isnan(w)) {
          ok = std::isnan(g) && std::isnan(w);
        } else if (std::isinf(g) || std::isinf(w)) {
          ok = g == w;
        } else {
          double d = std::fabs(g - w);
          if (d > res.max_abs_delta) res.max_abs_delta = d;
          ok = d <= atol + rtol * std::fabs(w);
        }
        if (!ok) {
          row_ok = false;
          if (res.examples.size() < 10) res.examples.push_back({chunk.first_row + r, res.columns[k], w, g});
        }
      }
      if (!row_ok) ++res.mismatched_rows;
      ++res.rows;
    }
  }
  if (res.rows == 0) return InvalidArgument("the inputs CSV has a header but no rows");
  TAMGA_ASSIGN_OR_RETURN(bool extra, table.Next(&want));
  if (extra) {
    return InvalidArgument("the expected-scores CSV has more rows than the inputs (" +
                           std::to_string(res.rows) + ")");
  }
  res.passed = res.mismatched_rows == 0;
  if (stats_ok) {
    auto s = stats.Finish();
    if (s.ok()) {
      res.reference_stats_json = s->ToJson();
    } else {
      stats_note = s.status().message();
    }
  }
  res.reference_stats_note = stats_note;
  res.seconds = Since(start);
  return res;
}

}  // namespace tamga
