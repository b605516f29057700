// status.h: Status and StatusOr<T>, keyward's error values.
//
// A Status says whether an operation could be carried out; it never carries a
// decision (a refused API key is a VerifyOutcome value, not an error). The
// shape follows absl::Status so that a later switch is mechanical.
//
// Messages are for operators and may be shown to API callers: they must never
// contain a key's plaintext or any other secret.
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace keyward {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // the caller's input is wrong; retrying will not help
  kNotFound,            // the named user, key or job does not exist
  kAlreadyExists,       // a unique field (external_id, job_id, ...) is taken
  kFailedPrecondition,  // the system is not in a state that allows this
  kPermissionDenied,    // identified caller may not do this
  kUnauthenticated,     // caller could not be identified
  kResourceExhausted,   // quota or rate limit
  kUnavailable,         // storage busy/down; retrying may help
  kInternal,            // a bug or a broken invariant
};

// Returns the canonical name, e.g. "NOT_FOUND".
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message)
      : code_(code), message_(std::move(message)) {}

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "NOT_FOUND: user usr_x does not exist"
  std::string ToString() const;

  // Explicitly drops a Status the caller has decided not to act on.
  void IgnoreError() const {}

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status OkStatus() { return Status(); }
inline Status InvalidArgumentError(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status NotFoundError(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status AlreadyExistsError(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
inline Status FailedPreconditionError(std::string m) { return {StatusCode::kFailedPrecondition, std::move(m)}; }
inline Status PermissionDeniedError(std::string m) { return {StatusCode::kPermissionDenied, std::move(m)}; }
inline Status UnauthenticatedError(std::string m) { return {StatusCode::kUnauthenticated, std::move(m)}; }
inline Status ResourceExhaustedError(std::string m) { return {StatusCode::kResourceExhausted, std::move(m)}; }
inline Status UnavailableError(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status InternalError(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

// StatusOr<T> holds either a T (success) or a non-OK Status, never an OK
// Status without a value. value() on an error is a bug (asserts in debug).
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(Status status) : rep_(std::move(status)) {  // NOLINT: implicit by design
    assert(!std::get<Status>(rep_).ok() && "StatusOr built from an OK Status");
    if (std::get<Status>(rep_).ok()) rep_ = InternalError("StatusOr built from OK status");
  }
  StatusOr(T value) : rep_(std::move(value)) {}  // NOLINT: implicit by design

  bool ok() const { return std::holds_alternative<T>(rep_); }
  Status status() const { return ok() ? OkStatus() : std::get<Status>(rep_); }

  T& value() & { assert(ok()); return std::get<T>(rep_); }
  const T& value() const& { assert(ok()); return std::get<T>(rep_); }
  T&& value() && { assert(ok()); return std::get<T>(std::move(rep_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<Status, T> rep_;
};

}  // namespace keyward

#define KW_STATUS_CONCAT_INNER_(a, b) a##b
#define KW_STATUS_CONCAT_(a, b) KW_STATUS_CONCAT_INNER_(a, b)

// Returns from the enclosing function if `expr` (a Status) is not OK.
#define KW_RETURN_IF_ERROR(expr)                      \
  do {                                                \
    ::keyward::Status kw_status_ = (expr);            \
    if (!kw_status_.ok()) return kw_status_;          \
  } while (0)

// `KW_ASSIGN_OR_RETURN(auto x, Foo());` declares/assigns x from a StatusOr, or
// returns its Status from the enclosing function.
#define KW_ASSIGN_OR_RETURN(lhs, rexpr) \
  KW_ASSIGN_OR_RETURN_IMPL_(KW_STATUS_CONCAT_(kw_statusor_, __LINE__), lhs, rexpr)
#define KW_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                              \
  if (!tmp.ok()) return tmp.status();              \
  lhs = std::move(tmp).value()
