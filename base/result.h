// Result<T>: a value or an error message, the way expected failures travel between
// modules (no exception crosses a module boundary). An Error is one human-readable line;
// callers add context ("reading cron/jobs.json: ...") as it moves up.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace fleet {

struct Error {
  std::string message;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : state_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return std::holds_alternative<T>(state_); }
  explicit operator bool() const { return ok(); }

  const T& value() const& { return std::get<T>(state_); }
  T& value() & { return std::get<T>(state_); }
  T&& value() && { return std::get<T>(std::move(state_)); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

  const std::string& error() const { return std::get<Error>(state_).message; }

 private:
  std::variant<T, Error> state_;
};

// For operations that return nothing on success.
struct Done {};
using Outcome = Result<Done>;
inline Outcome Success() { return Done{}; }

}  // namespace fleet
