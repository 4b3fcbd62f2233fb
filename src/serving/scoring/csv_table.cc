#include "serving/scoring/csv_table.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <map>

namespace tamga {
namespace {

constexpr size_t kMaxLine = 1 << 20;
constexpr size_t kMaxColumns = 4096;

std::string Where(int64_t row, const std::string& column) {
  return "CSV row " + std::to_string(row) + ", column '" + column.substr(0, 64) + "'";
}

// Appends `cell` to `t` as an element of `dtype`.
Status AppendCell(const std::string& cell, DataType dtype, std::string* data, int64_t row,
                  const std::string& col) {
  std::string_view s = cell;
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  if (dtype == DataType::kBytes) {
    uint32_t n = static_cast<uint32_t>(cell.size());
    data->append(reinterpret_cast<const char*>(&n), 4);
    data->append(cell);
    return Status::Ok();
  }
  if (s.empty()) return InvalidArgument(Where(row, col) + " is empty");
  auto put = [data](auto v) { data->append(reinterpret_cast<const char*>(&v), sizeof(v)); };
  if (dtype == DataType::kBool) {
    if (s == "1" || s == "true" || s == "True" || s == "TRUE") return put(uint8_t{1}), Status::Ok();
    if (s == "0" || s == "false" || s == "False" || s == "FALSE") return put(uint8_t{0}), Status::Ok();
    return InvalidArgument(Where(row, col) + ": '" + std::string(s.substr(0, 50)) + "' is not a boolean");
  }
  bool integer = dtype == DataType::kInt8 || dtype == DataType::kInt16 || dtype == DataType::kInt32 ||
                 dtype == DataType::kInt64 || dtype == DataType::kUint8 || dtype == DataType::kUint16 ||
                 dtype == DataType::kUint32 || dtype == DataType::kUint64;
  if (integer) {
    int64_t v = 0;
    const char* b = s.data() + (s.front() == '+' ? 1 : 0);
    auto [p, ec] = std::from_chars(b, s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size()) {
      return InvalidArgument(Where(row, col) + ": '" + std::string(s.substr(0, 50)) + "' is not an integer");
    }
    auto range = [&](int64_t lo, int64_t hi) -> Status {
      if (v < lo || v > hi)
        return InvalidArgument(Where(row, col) + ": " + std::to_string(v) + " is out of range");
      return Status::Ok();
    };
    switch (dtype) {
      case DataType::kInt8:
        TAMGA_RETURN_IF_ERROR(range(-128, 127));
        put(static_cast<int8_t>(v));
        break;
      case DataType::kInt16:
        TAMGA_RETURN_IF_ERROR(range(-32768, 32767));
        put(static_cast<int16_t>(v));
        break;
      case DataType::kInt32:
        TAMGA_RETURN_IF_ERROR(range(INT32_MIN, INT32_MAX));
        put(static_cast<int32_t>(v));
        break;
      case DataType::kUint8:
        TAMGA_RETURN_IF_ERROR(range(0, 255));
        put(static_cast<uint8_t>(v));
        break;
      case DataType::kUint16:
        TAMGA_RETURN_IF_ERROR(range(0, 65535));
        put(static_cast<uint16_t>(v));
        break;
      case DataType::kUint32:
        TAMGA_RETURN_IF_ERROR(range(0, UINT32_MAX));
        put(static_cast<uint32_t>(v));
        break;
      case DataType::kUint64:
        TAMGA_RETURN_IF_ERROR(range(0, INT64_MAX));
        put(static_cast<uint64_t>(v));
        break;
      default:
        put(v);
        break;
    }
    return Status::Ok();
  }
  double d = 0;
  const char* b = s.data() + (s.front() == '+' ? 1 : 0);
  auto [p, ec] = std::from_chars(b, s.data() + s.size(), d);
  if (ec != std::errc() || p != s.data() + s.size()) {
    return InvalidArgument(Where(row, col) + ": '" + std::string(s.substr(0, 50)) + "' is not a number");
  }
  if (dtype == DataType::kFp64) return put(d), Status::Ok();
  if (dtype == DataType::kFp32) return put(static_cast<float>(d)), Status::Ok();
  return InvalidArgument(Where(row, col) + ": the model's " + DataTypeName(dtype) +
                         " input cannot be read from CSV");
}

bool ReadLine(std::istream* in, std::string* line, bool* too_long) {
  *too_long = false;
  if (!std::getline(*in, *line)) return false;
  if (line->size() > kMaxLine) *too_long = true;
  if (!line->empty() && line->back() == '\r') line->pop_back();
  return true;
}

}  // namespace

Result<std::vector<std::string>> SplitCsvLine(std::string_view line, size_t max_cells) {
  std::vector<std::string> cells;
  std::string cell;
  size_t i = 0;
  for (;;) {
    cell.clear();
    if (i < line.size() && line[i] == '"') {
      ++i;
      for (;;) {
        if (i >= line.size()) return InvalidArgument("unterminated quote (quoted cells cannot span lines)");
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            cell.push_back('"');
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        cell.push_back(line[i++]);
      }
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
      if (i < line.size() && line[i] != ',') return InvalidArgument("text after a closing quote");
    } else {
      size_t c = line.find(',', i);
      cell.assign(line.substr(i, c == std::string_view::npos ? std::string_view::npos : c - i));
      i = c == std::string_view::npos ? line.size() : c;
    }
    if (cells.size() >= max_cells)
      return InvalidArgument("more than " + std::to_string(max_cells) + " columns");
    cells.push_back(cell);
    if (i >= line.size()) break;
    ++i;                     // the comma
    if (i == line.size()) {  // a trailing comma: one more empty cell
      cells.emplace_back();
      break;
    }
  }
  return cells;
}

std::string CsvCell(std::string_view v) {
  if (v.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(v);
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  return out + "\"";
}

Result<std::unique_ptr<CsvTableReader>> CsvTableReader::Open(std::istream* in, const ModelSignature& sig) {
  std::unique_ptr<CsvTableReader> r(new CsvTableReader());
  r->in_ = in;
  bool too_long = false;
  do {
    if (!ReadLine(in, &r->header_line_, &too_long))
      return InvalidArgument("the CSV is empty (a header row is required)");
  } while (r->header_line_.find_first_not_of(" \t") == std::string::npos);
  if (too_long) return InvalidArgument("the CSV header is longer than 1 MiB");
  if (r->header_line_.size() >= 3 && r->header_line_.compare(0, 3, "\xEF\xBB\xBF") == 0)
    r->header_line_.erase(0, 3);  // a UTF-8 byte order mark
  TAMGA_ASSIGN_OR_RETURN(r->header_, SplitCsvLine(r->header_line_, kMaxColumns));
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < r->header_.size(); ++i) {
    std::string name = r->header_[i];
    while (!name.empty() && name.back() == ' ') name.pop_back();
    while (!name.empty() && name.front() == ' ') name.erase(0, 1);
    r->header_[i] = name;
    index.emplace(name, i);
  }
  if (!sig.columns.empty()) {
    r->per_column_ = sig.column_tensors;
    for (size_t c = 0; c < sig.columns.size(); ++c) {
      auto it = index.find(sig.columns[c]);
      if (it == index.end()) {
        return InvalidArgument("the CSV has no column '" + sig.columns[c].substr(0, 64) +
                               "' that the model's signature names");
      }
      DataType dt = c < sig.column_specs.size() ? sig.column_specs[c].dtype : DataType::kFp32;
      if (!r->per_column_) dt = sig.inputs.empty() ? DataType::kFp32 : sig.inputs[0].dtype;
      r->columns_.push_back({it->second, dt});
    }
    r->specs_ = sig.inputs;
  } else {
    if (sig.inputs.size() != 1) {
      return InvalidArgument("a CSV table can feed a model with one input; this one takes " +
                             std::to_string(sig.inputs.size()));
    }
    const TensorSpec& spec = sig.inputs[0];
    if (sig.shapes_known && spec.shape.size() != 2) {
      return InvalidArgument("a CSV table feeds a [rows, features] input; the model's input is " +
                             ShapeString(spec.shape));
    }
    if (sig.shapes_known && spec.shape[1] >= 0 && spec.shape[1] != static_cast<int64_t>(r->header_.size())) {
      return InvalidArgument("the model takes " + std::to_string(spec.shape[1]) + " features; the CSV has " +
                             std::to_string(r->header_.size()) + " columns");
    }
    for (size_t i = 0; i < r->header_.size(); ++i) r->columns_.push_back({i, spec.dtype});
    r->specs_ = sig.inputs;
  }
  return r;
}

Result<CsvTableReader::Chunk> CsvTableReader::Next(int64_t max_rows) {
  Chunk chunk;
  chunk.first_row = rows_read_ + 1;
  size_t ncols = columns_.size();
  std::vector<std::string> data(per_column_ ? ncols : 1);
  std::string line;
  bool too_long = false;
  while (static_cast<int64_t>(chunk.lines.size()) < max_rows && ReadLine(in_, &line, &too_long)) {
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    int64_t row = rows_read_ + 1;
    if (too_long) return InvalidArgument("CSV row " + std::to_string(row) + " is longer than 1 MiB");
    auto cells = SplitCsvLine(line, kMaxColumns);
    if (!cells.ok())
      return InvalidArgument("CSV row " + std::to_string(row) + ": " + cells.status().message());
    if (cells->size() != header_.size()) {
      return InvalidArgument("CSV row " + std::to_string(row) + " has " + std::to_string(cells->size()) +
                             " fields; the header has " + std::to_string(header_.size()));
    }
    for (size_t c = 0; c < ncols; ++c) {
      const Column& col = columns_[c];
      TAMGA_RETURN_IF_ERROR(
          AppendCell((*cells)[col.cell], col.dtype, &data[per_column_ ? c : 0], row, header_[col.cell]));
    }
    ++rows_read_;
    chunk.lines.push_back(std::move(line));
  }
  if (chunk.lines.empty()) return chunk;
  auto rows = static_cast<int64_t>(chunk.lines.size());
  if (per_column_) {
    for (size_t c = 0; c < ncols; ++c) {
      Tensor t;
      t.name = specs_[c].name;
      t.dtype = columns_[c].dtype;
      t.shape = {rows};
      t.data = std::move(data[c]);
      chunk.inputs.push_back(std::move(t));
    }
  } else {
    Tensor t;
    t.name = specs_[0].name;
    t.dtype = columns_.empty() ? specs_[0].dtype : columns_[0].dtype;
    t.shape = {rows, static_cast<int64_t>(ncols)};
    t.data = std::move(data[0]);
    chunk.inputs.push_back(std::move(t));
  }
  return chunk;
}

namespace {

int64_t Width(const Tensor& t) {
  int64_t w = 1;
  for (size_t i = 1; i < t.shape.size(); ++i) w *= t.shape[i];
  return w;
}

}  // namespace

std::vector<std::string> PredictionColumns(const std::vector<Tensor>& outputs) {
  std::vector<std::string> cols;
  for (const auto& t : outputs) {
    int64_t w = Width(t);
    if (w == 1) {
      cols.push_back(t.name);
      continue;
    }
    for (int64_t i = 0; i < w; ++i) cols.push_back(t.name + "_" + std::to_string(i));
  }
  return cols;
}

namespace {

// Element i of a numeric tensor as text (shortest form that reads back exactly for its type).
void AppendNumber(const Tensor& t, int64_t i, std::string* out) {
  char buf[64];
  const char* p = t.data.data();
  auto chars = [&](auto v) {
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    out->append(buf, ec == std::errc() ? end : buf);
  };
  auto get = [&](auto tag) {
    decltype(tag) v;
    std::memcpy(&v, p + i * sizeof(v), sizeof(v));
    return v;
  };
  switch (t.dtype) {
    case DataType::kBool:
      out->append(get(uint8_t{}) ? "1" : "0");
      break;
    case DataType::kUint8:
      chars(static_cast<unsigned>(get(uint8_t{})));
      break;
    case DataType::kUint16:
      chars(get(uint16_t{}));
      break;
    case DataType::kUint32:
      chars(get(uint32_t{}));
      break;
    case DataType::kUint64:
      chars(get(uint64_t{}));
      break;
    case DataType::kInt8:
      chars(static_cast<int>(get(int8_t{})));
      break;
    case DataType::kInt16:
      chars(get(int16_t{}));
      break;
    case DataType::kInt32:
      chars(get(int32_t{}));
      break;
    case DataType::kInt64:
      chars(get(int64_t{}));
      break;
    case DataType::kFp32:
      chars(get(float{}));
      break;
    case DataType::kFp64:
      chars(get(double{}));
      break;
    case DataType::kFp16:
    case DataType::kBytes:
      out->append("nan");
      break;
  }
}

// The element offsets of BYTES tensor `t` (4-byte length + bytes each).
std::string_view BytesElement(const Tensor& t, int64_t index) {
  size_t pos = 0;
  for (int64_t k = 0; pos + 4 <= t.data.size(); ++k) {
    uint32_t n;
    std::memcpy(&n, t.data.data() + pos, 4);
    if (pos + 4 + n > t.data.size()) break;
    if (k == index) return std::string_view(t.data).substr(pos + 4, n);
    pos += 4 + n;
  }
  return {};
}

}  // namespace

void AppendPredictionCells(const std::vector<Tensor>& outputs, int64_t row, std::string* out) {
  for (const auto& t : outputs) {
    int64_t w = Width(t);
    for (int64_t k = 0; k < w; ++k) {
      out->push_back(',');
      if (t.dtype == DataType::kBytes) {
        out->append(CsvCell(BytesElement(t, row * w + k)));
      } else {
        AppendNumber(t, row * w + k, out);
      }
    }
  }
}

void PredictionValues(const std::vector<Tensor>& outputs, int64_t row, std::vector<double>* out) {
  out->clear();
  std::string cell;
  for (const auto& t : outputs) {
    int64_t w = Width(t);
    for (int64_t k = 0; k < w; ++k) {
      if (t.dtype == DataType::kBytes || t.dtype == DataType::kFp16) {
        out->push_back(NAN);
        continue;
      }
      cell.clear();
      AppendNumber(t, row * w + k, &cell);
      double d = 0;
      std::from_chars(cell.data(), cell.data() + cell.size(), d);
      out->push_back(d);
    }
  }
}

}  // namespace tamga
