#pragma once
// Result<T>: a T or a non-OK Status. Access the value only after checking ok().
#include <optional>
#include <utility>

#include "core/check.h"
#include "core/status.h"

namespace tamga {

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    TAMGA_CHECK(!status_.ok());
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  T& value() & {
    TAMGA_CHECK(ok());
    return *value_;
  }
  const T& value() const& {
    TAMGA_CHECK(ok());
    return *value_;
  }
  T&& value() && {
    TAMGA_CHECK(ok());
    return std::move(*value_);
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace tamga

#define TAMGA_CONCAT_INNER_(a, b) a##b
#define TAMGA_CONCAT_(a, b) TAMGA_CONCAT_INNER_(a, b)
#define TAMGA_ASSIGN_OR_RETURN(lhs, expr) \
  TAMGA_ASSIGN_OR_RETURN_IMPL_(TAMGA_CONCAT_(tamga_result_, __LINE__), lhs, expr)
#define TAMGA_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.status();                \
  lhs = std::move(tmp).value()
