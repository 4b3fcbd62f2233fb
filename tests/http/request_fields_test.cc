#include "http/request_fields.h"

#include <gtest/gtest.h>

#include <cmath>

#include "http/fast_log_parser.h"

namespace tamga {
namespace {

HttpRequest Post(const std::string& body, const std::string& type = "application/json") {
  HttpRequest r;
  r.method = HttpMethod::kPost;
  r.headers["content-type"] = type;
  r.body = body;
  return r;
}

TEST(RequestFields, QueryStringListsAndNumbers) {
  HttpRequest r;
  r.query = "experiment_ids=1&experiment_ids=2&order_by=name+ASC&max_results=10&x%5B%5D=a";
  auto f = RequestFields::From(r);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(*f->StringList("experiment_ids"), (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(*f->StringList("order_by"), (std::vector<std::string>{"name ASC"}));
  EXPECT_EQ(**f->OptInt("max_results"), 10);
  EXPECT_EQ(*f->StringList("x"), (std::vector<std::string>{"a"}));
}

TEST(RequestFields, JsonBodyRules) {
  EXPECT_TRUE(RequestFields::From(Post("")).ok());
  EXPECT_FALSE(RequestFields::From(Post("{}", "text/plain")).ok());
  EXPECT_TRUE(RequestFields::From(Post("{}", "application/json; charset=utf-8")).ok());
  EXPECT_FALSE(RequestFields::From(Post("[1]")).ok());
  EXPECT_FALSE(RequestFields::From(Post("{\"a\":")).ok());
  auto twice = RequestFields::From(Post("\"{\\\"name\\\": \\\"x\\\"}\""));
  ASSERT_TRUE(twice.ok());
  EXPECT_EQ(*twice->RequiredString("name"), "x");
}

TEST(RequestFields, TypedGetters) {
  auto f = RequestFields::From(Post(R"({"i": "42", "j": 7.0, "d": "NaN", "e": "-Infinity", "s": 5, "b": true,
                                        "bad": {"x": 1}, "big": 18446744073709551615, "experiment_id": 3,
                                        "l": [{"key": "mae", "value": 2.5}, "it's", null, false, 1e20]})"));
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(*f->RequiredInt("i"), 42);
  EXPECT_EQ(*f->RequiredInt("j"), 7);
  EXPECT_TRUE(std::isnan(*f->RequiredDouble("d")));
  EXPECT_TRUE(std::isinf(*f->RequiredDouble("e")));
  // A number where a string belongs is refused, as MLflow does, except experiment_id (pre-0.9 clients).
  auto number = f->OptString("s");
  ASSERT_FALSE(number.ok());
  EXPECT_EQ(
      number.status().message(),
      "Invalid value 5 for parameter 's' supplied. Hint: Value was of type 'int'. See the API docs for more "
      "information about request parameters.");
  EXPECT_EQ(**f->OptString("experiment_id"), "3");
  // Values print as Python's str() prints what json.loads made of them.
  EXPECT_EQ(PythonStr(f->raw()["l"]), R"([{'key': 'mae', 'value': 2.5}, "it's", None, False, 1e+20])");
  EXPECT_EQ(PythonStr(f->raw()["j"]), "7.0");
  EXPECT_TRUE(**f->OptBool("b"));
  EXPECT_FALSE(f->RequiredInt("bad").ok());
  EXPECT_FALSE(f->RequiredInt("big").ok());
  EXPECT_FALSE(f->OptString("bad").ok());
  auto missing = f->RequiredString("nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("Missing value for required parameter 'nope'"),
            std::string::npos);
}

TEST(FastLogParser, AgreesWithTheGeneralPathOnWellFormedBodies) {
  auto req =
      TryParseLogBatch(R"({"run_id": "r", "metrics": [{"key": "m", "value": "NaN", "timestamp": 5, "step": 2,
      "model_id": "x"}], "params": [{"key": "p", "value": "v"}], "tags": [{"key": "t", "value": null}]})");
  ASSERT_TRUE(req.has_value());
  EXPECT_EQ(req->run_id, "r");
  ASSERT_EQ(req->metrics.size(), 1u);
  EXPECT_TRUE(std::isnan(req->metrics[0].value));
  EXPECT_EQ(req->metrics[0].step, 2);
  EXPECT_EQ(req->params[0].value, "v");
  EXPECT_EQ(req->tags[0].value, "");
}

TEST(FastLogParser, DefersAnythingUnusual) {
  EXPECT_FALSE(TryParseLogBatch("{\"metrics\": []}").has_value());  // no run id
  EXPECT_FALSE(TryParseLogBatch("{\"run_id\": \"r\", \"metrics\": [{\"key\": \"m\"}]}").has_value());
  EXPECT_FALSE(TryParseLogBatch("{\"run_id\": \"r\", \"metrics\": {}}").has_value());
  EXPECT_FALSE(TryParseLogBatch("not json").has_value());
  EXPECT_FALSE(TryParseLogMetric("{\"run_id\": \"r\", \"key\": \"m\", \"value\": \"x\", \"timestamp\": 1}")
                   .has_value());
  auto m = TryParseLogMetric("{\"run_uuid\": \"r\", \"key\": \"m\", \"value\": 1, \"timestamp\": 1}");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->run_id, "r");
}

}  // namespace
}  // namespace tamga
