#include "receiver/alerts/alert_leases.h"

#include <unistd.h>

#include <random>

namespace fleet::receiver {

Result<bool> AlertLeases::Take(std::string_view name, const std::string& holder, std::int64_t now,
                               std::int64_t ttl) {
  auto done = link_.Run(
      "INSERT INTO alert_leases (name, holder, expires) VALUES ($1, $2, $3) "
      "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires = excluded.expires "
      "WHERE alert_leases.holder = excluded.holder OR alert_leases.expires < $4",
      {std::string(name), holder, now + ttl, now});
  if (!done) return Error{"lease " + std::string(name) + ": " + done.error()};
  return done->affected() == 1;
}

Result<bool> AlertLeases::Renew(std::string_view name, const std::string& holder, std::int64_t now,
                                std::int64_t ttl) {
  auto done = link_.Run(
      "UPDATE alert_leases SET expires = $3 WHERE name = $1 AND holder = $2 AND expires >= $4",
      {std::string(name), holder, now + ttl, now});
  if (!done) return Error{"lease " + std::string(name) + ": " + done.error()};
  return done->affected() == 1;
}

Outcome AlertLeases::Release(std::string_view name, const std::string& holder) {
  auto done = link_.Run("DELETE FROM alert_leases WHERE name = $1 AND holder = $2",
                        {std::string(name), holder});
  if (!done) return Error{done.error()};
  return Success();
}

Result<std::optional<LeaseRow>> AlertLeases::Find(std::string_view name) {
  auto rows =
      link_.Run("SELECT holder, expires FROM alert_leases WHERE name = $1", {std::string(name)});
  if (!rows) return Error{rows.error()};
  if (rows->empty()) return std::optional<LeaseRow>();
  return std::optional<LeaseRow>(LeaseRow{rows->Text(0, 0), rows->Int(0, 1)});
}

Result<std::optional<std::string>> AlertLeases::Value(std::string_view key) {
  auto rows = link_.Run("SELECT value FROM alert_values WHERE key = $1", {std::string(key)});
  if (!rows) return Error{rows.error()};
  if (rows->empty()) return std::optional<std::string>();
  return std::optional<std::string>(rows->Text(0, 0));
}

Outcome AlertLeases::SetValue(std::string_view key, const std::string& value) {
  auto done = link_.Run(
      "INSERT INTO alert_values (key, value) VALUES ($1, $2) "
      "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      {std::string(key), value});
  if (!done) return Error{done.error()};
  return Success();
}

std::string MakeHolderName() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  std::random_device random;
  return std::string(host) + ":" + std::to_string(getpid()) + ":" +
         std::to_string(random() % 1000000);
}

}  // namespace fleet::receiver
