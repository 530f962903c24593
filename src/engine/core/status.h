// Errors as values. Nothing derived from input (a file, a request) may throw or abort: functions
// that can fail on input return Status or StatusOr<T>. Asserts guard programmer invariants only.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace sg {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,  // a caller-supplied value is wrong (flag, request field)
  kNotFound,         // a file, tensor or key does not exist
  kDataLoss,         // a file is malformed: truncated, overflowing, inconsistent
  kUnimplemented,    // valid input we do not support (architecture, weight type)
  kOutOfRange,       // an index or size past a configured limit
  kResourceExhausted,
  kIoError,  // the OS refused (open, mmap, read)
  kInternal,
};

const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "<CodeName>: <message>", or "OK".
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status OkStatus() { return Status(); }
inline Status InvalidArgumentError(std::string m) {
  return Status(StatusCode::kInvalidArgument, std::move(m));
}
inline Status NotFoundError(std::string m) { return Status(StatusCode::kNotFound, std::move(m)); }
inline Status DataLossError(std::string m) { return Status(StatusCode::kDataLoss, std::move(m)); }
inline Status UnimplementedError(std::string m) {
  return Status(StatusCode::kUnimplemented, std::move(m));
}
inline Status OutOfRangeError(std::string m) {
  return Status(StatusCode::kOutOfRange, std::move(m));
}
inline Status ResourceExhaustedError(std::string m) {
  return Status(StatusCode::kResourceExhausted, std::move(m));
}
inline Status IoError(std::string m) { return Status(StatusCode::kIoError, std::move(m)); }
inline Status InternalError(std::string m) { return Status(StatusCode::kInternal, std::move(m)); }

// A value or an error. Accessing value() of an error is a programmer bug (asserted).
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(Status status) : v_(std::move(status)) { assert(!std::get<Status>(v_).ok()); }
  StatusOr(T value) : v_(std::move(value)) {}

  bool ok() const { return v_.index() == 1; }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & {
    assert(ok());
    return std::get<T>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<T>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<T>(std::move(v_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<Status, T> v_;
};

}  // namespace sg

#define SG_CONCAT_INNER_(a, b) a##b
#define SG_CONCAT_(a, b) SG_CONCAT_INNER_(a, b)

#define SG_RETURN_IF_ERROR(expr)             \
  do {                                       \
    ::sg::Status sg_status_ = (expr);        \
    if (!sg_status_.ok()) return sg_status_; \
  } while (0)

#define SG_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()

// SG_ASSIGN_OR_RETURN(auto x, F()); returns F()'s error from the enclosing function.
#define SG_ASSIGN_OR_RETURN(lhs, expr) \
  SG_ASSIGN_OR_RETURN_IMPL_(SG_CONCAT_(sg_statusor_, __LINE__), lhs, expr)
