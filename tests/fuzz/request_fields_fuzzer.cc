// http/request_fields.h: MLflow's request field rules over a JSON body (FromJsonText) or a GET query string
// (From), and every typed getter on the keys the input itself carries. Properties: never throws (typed access
// on user input is checked first); a getter error is InvalidArgument.
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz/fuzz_input.h"
#include "http/request_fields.h"

namespace {

void CheckGetters(const tamga::RequestFields& f, std::string_view input, int depth) {
  using namespace tamga;
  auto expect_user_error = [&](const Status& s) {
    TAMGA_FUZZ_ASSERT(s.ok() || s.code() == StatusCode::kInvalidArgument, input);
  };
  if (!f.raw().is_object()) return;
  std::vector<std::string> keys;
  for (auto it = f.raw().begin(); it != f.raw().end() && keys.size() < 8; ++it) keys.push_back(it.key());
  keys.push_back("missing");
  for (const auto& k : keys) {
    const char* key = k.c_str();
    (void)f.Has(key);
    expect_user_error(f.RequiredString(key).status());
    expect_user_error(f.OptString(key).status());
    expect_user_error(f.OptInt(key).status());
    expect_user_error(f.RequiredInt(key).status());
    expect_user_error(f.RequiredDouble(key).status());
    expect_user_error(f.OptBool(key).status());
    expect_user_error(f.StringList(key).status());
    auto list = f.ObjectList(key);
    expect_user_error(list.status());
    auto obj = f.OptObject(key);
    expect_user_error(obj.status());
    if (depth < 2) {
      if (list.ok()) {
        for (size_t i = 0; i < list->size() && i < 4; ++i) CheckGetters((*list)[i], input, depth + 1);
      }
      if (obj.ok() && *obj) CheckGetters(**obj, input, depth + 1);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tamga;
  fuzz::FuzzInput in(data, size);
  uint8_t mode = in.Byte();
  std::string_view text = in.Rest();
  Result<RequestFields> f = InvalidArgument("unset");
  if (mode & 1) {
    HttpRequest req;
    req.method = HttpMethod::kGet;
    req.query = std::string(text);
    req.target = "/x?" + req.query;
    req.path = "/x";
    f = RequestFields::From(req);
  } else {
    f = RequestFields::FromJsonText(text);
  }
  if (!f.ok()) {
    TAMGA_FUZZ_ASSERT(f.status().code() == StatusCode::kInvalidArgument, text);
    return 0;
  }
  CheckGetters(*f, text, 0);
  return 0;
}
