// CSV tables of model inputs and predictions (serving/scoring/csv_table.h).
#include "serving/scoring/csv_table.h"

#include <gtest/gtest.h>

#include <cstring>
#include <sstream>

namespace tamga {
namespace {

std::vector<float> Floats(const Tensor& t) {
  std::vector<float> v(t.data.size() / 4);
  std::memcpy(v.data(), t.data.data(), t.data.size());
  return v;
}

ModelSignature Columns(std::vector<std::string> names) {
  ModelSignature sig;
  sig.columns = names;
  for (const auto& n : names) sig.column_specs.push_back({n, DataType::kFp32, {-1}});
  sig.inputs = {{"input", DataType::kFp32, {-1, static_cast<int64_t>(names.size())}}};
  return sig;
}

TEST(CsvTableTest, SplitsQuotedCellsAndRoundTrips) {
  auto cells = SplitCsvLine(R"(a,"b,c","say ""hi""",,)");
  ASSERT_TRUE(cells.ok());
  EXPECT_EQ(*cells, (std::vector<std::string>{"a", "b,c", "say \"hi\"", "", ""}));
  std::string joined;
  for (size_t i = 0; i < cells->size(); ++i) joined += (i ? "," : "") + CsvCell((*cells)[i]);
  EXPECT_EQ(*SplitCsvLine(joined), *cells);
  EXPECT_FALSE(SplitCsvLine(R"(a,"unterminated)").ok());
  EXPECT_FALSE(SplitCsvLine(R"("a"b,c)").ok());
  EXPECT_FALSE(SplitCsvLine("a,b,c", 2).ok());
}

TEST(CsvTableTest, ColumnSignatureMatchesByNameInAnyOrderAndKeepsExtraColumns) {
  std::istringstream in("id,f1,f0\r\n7,2.5,1\n8,-1,0.25\n\n9,3,4\n");
  auto r = CsvTableReader::Open(&in, Columns({"f0", "f1"}));
  ASSERT_TRUE(r.ok()) << r.status().message();
  auto c = (*r)->Next(2);
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(c->lines.size(), 2u);
  EXPECT_EQ(c->lines[0], "7,2.5,1");
  ASSERT_EQ(c->inputs.size(), 1u);
  EXPECT_EQ(c->inputs[0].shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(Floats(c->inputs[0]), (std::vector<float>{1, 2.5f, 0.25f, -1}));
  c = (*r)->Next(2);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->first_row, 3);
  EXPECT_EQ(c->lines.size(), 1u);
  EXPECT_TRUE((*r)->Next(2)->lines.empty());
}

TEST(CsvTableTest, ProblemsNameTheRowAndColumn) {
  auto fails = [](const std::string& text, const ModelSignature& sig, const std::string& why) {
    std::istringstream in(text);
    auto r = CsvTableReader::Open(&in, sig);
    Status s = r.status();
    if (r.ok()) {
      for (;;) {
        auto c = (*r)->Next(10);
        if (!c.ok()) {
          s = c.status();
          break;
        }
        if (c->lines.empty()) break;
      }
    }
    ASSERT_FALSE(s.ok()) << text;
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(s.message().find(why), std::string::npos) << s.message() << " / " << why;
  };
  fails("", Columns({"a"}), "empty");
  fails("b,c\n1,2\n", Columns({"a"}), "no column 'a'");
  fails("a,b\n1,2\n3\n", Columns({"a", "b"}), "row 2 has 1 fields");
  fails("a,b\n1,x\n", Columns({"a", "b"}), "row 1, column 'b': 'x' is not a number");
  fails("a,b\n1,\n", Columns({"a", "b"}), "row 1, column 'b' is empty");
  ModelSignature tensor;
  tensor.inputs = {{"input-0", DataType::kFp32, {-1, 3}}};
  fails("a,b\n1,2\n", tensor, "takes 3 features");
  ModelSignature ints;
  ints.inputs = {{"input-0", DataType::kInt8, {-1, 1}}};
  fails("a\n200\n", ints, "out of range");
  fails("a\n1.5\n", ints, "not an integer");
  fails("a\n" + std::string(2 << 20, '1') + "\n", ints, "longer than 1 MiB");
}

TEST(CsvTableTest, PerColumnModelsGetTextAsBytes) {
  ModelSignature sig;
  sig.columns = {"name", "x"};
  sig.column_specs = {{"name", DataType::kBytes, {-1}}, {"x", DataType::kInt64, {-1}}};
  sig.inputs = sig.column_specs;
  sig.column_tensors = true;
  std::istringstream in("x,name\n3,\"Smith, J\"\n4,Li\n");
  auto r = CsvTableReader::Open(&in, sig);
  ASSERT_TRUE(r.ok());
  auto c = (*r)->Next(10);
  ASSERT_TRUE(c.ok()) << c.status().message();
  ASSERT_EQ(c->inputs.size(), 2u);
  EXPECT_TRUE(ValidateTensor(c->inputs[0]).ok());
  EXPECT_EQ(c->inputs[0].data, std::string("\x08\0\0\0Smith, J\x02\0\0\0Li", 18));
  EXPECT_EQ(c->inputs[1].shape, (std::vector<int64_t>{2}));
}

TEST(CsvTableTest, PredictionColumnsAndCells) {
  Tensor probs{"probs", DataType::kFp32, {2, 2}, std::string(16, '\0')};
  float v[4] = {0.25f, 0.75f, 1, 0};
  std::memcpy(probs.data.data(), v, 16);
  Tensor label{"label", DataType::kInt64, {2}, std::string(16, '\0')};
  int64_t l[2] = {1, 0};
  std::memcpy(label.data.data(), l, 16);
  EXPECT_EQ(PredictionColumns({probs, label}), (std::vector<std::string>{"probs_0", "probs_1", "label"}));
  std::string row;
  AppendPredictionCells({probs, label}, 0, &row);
  EXPECT_EQ(row, ",0.25,0.75,1");
  std::vector<double> values;
  PredictionValues({probs, label}, 1, &values);
  EXPECT_EQ(values, (std::vector<double>{1, 0, 0}));
}

}  // namespace
}  // namespace tamga
