#include "receiver/store/pg_connection.h"

#include <libpq-fe.h>

#include <cstdlib>

namespace fleet::receiver {
namespace {

// libpq messages end in a newline and may span lines ("DETAIL: ..."): one line here.
std::string OneLine(const char* text) {
  std::string out = text != nullptr ? text : "";
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  for (char& c : out) {
    if (c == '\n' || c == '\t') c = ' ';
  }
  return out.empty() ? "unknown PostgreSQL error" : out;
}

void DropNotice(void* /*arg*/, const char* /*message*/) {}

std::vector<const char*> Pointers(const PgParams& params) {
  std::vector<const char*> out;
  out.reserve(params.size());
  for (const auto& p : params) out.push_back(p.c_str());
  return out;
}

}  // namespace

PgResult::PgResult(pg_result* result) : result_(result, &PQclear) {}
int PgResult::Rows() const { return PQntuples(result_.get()); }
int PgResult::Columns() const { return PQnfields(result_.get()); }
bool PgResult::IsNull(int row, int column) const {
  return PQgetisnull(result_.get(), row, column) != 0;
}
std::string PgResult::Text(int row, int column) const {
  return std::string(PQgetvalue(result_.get(), row, column),
                     static_cast<std::size_t>(PQgetlength(result_.get(), row, column)));
}
std::int64_t PgResult::Int(int row, int column) const {
  return std::strtoll(PQgetvalue(result_.get(), row, column), nullptr, 10);
}
std::int64_t PgResult::Affected() const {
  return std::strtoll(PQcmdTuples(result_.get()), nullptr, 10);
}

Result<std::unique_ptr<PgConnection>> PgConnection::Connect(const std::string& conninfo) {
  // Ours first: the expanded conninfo (dbname) overrides them when it sets them too.
  const char* keys[] = {"connect_timeout", "application_name", "dbname", nullptr};
  const char* values[] = {"10", "fleet-receiver", conninfo.c_str(), nullptr};
  PGconn* conn = PQconnectdbParams(keys, values, 1);
  if (conn == nullptr) return Error{"postgresql: out of memory"};
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = "postgresql: cannot connect: " + OneLine(PQerrorMessage(conn));
    PQfinish(conn);
    return Error{message};
  }
  PQsetNoticeProcessor(conn, &DropNotice, nullptr);
  return std::unique_ptr<PgConnection>(new PgConnection(conn));
}

PgConnection::~PgConnection() { PQfinish(conn_); }

Result<PgResult> PgConnection::Check(pg_result* result) {
  const ExecStatusType status = PQresultStatus(result);
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
    last_sqlstate_.clear();
    return PgResult(result);
  }
  const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  last_sqlstate_ = state != nullptr ? state : "";
  std::string message =
      result != nullptr ? OneLine(PQresultErrorMessage(result)) : OneLine(PQerrorMessage(conn_));
  if (result != nullptr && message == "unknown PostgreSQL error") {
    message = OneLine(PQerrorMessage(conn_));
  }
  PQclear(result);
  return Error{"postgresql: " + message};
}

Result<PgResult> PgConnection::Exec(std::string_view sql) {
  return Check(PQexec(conn_, std::string(sql).c_str()));
}

Result<PgResult> PgConnection::Exec(const std::string& sql, const PgParams& params) {
  auto pointers = Pointers(params);
  return Check(PQexecParams(conn_, sql.c_str(), static_cast<int>(params.size()), nullptr,
                            pointers.data(), nullptr, nullptr, 0));
}

Result<PgResult> PgConnection::ExecNullable(const std::string& sql,
                                            const std::vector<std::optional<std::string>>& params) {
  std::vector<const char*> pointers;
  pointers.reserve(params.size());
  for (const auto& p : params) pointers.push_back(p ? p->c_str() : nullptr);
  return Check(PQexecParams(conn_, sql.c_str(), static_cast<int>(params.size()), nullptr,
                            pointers.data(), nullptr, nullptr, 0));
}

Outcome PgConnection::Prepare(const std::string& name, const std::string& sql) {
  auto done = Check(PQprepare(conn_, name.c_str(), sql.c_str(), 0, nullptr));
  if (!done) return Error{done.error()};
  return Success();
}

Result<PgResult> PgConnection::RunPrepared(const std::string& name, const PgParams& params) {
  auto pointers = Pointers(params);
  return Check(PQexecPrepared(conn_, name.c_str(), static_cast<int>(params.size()), pointers.data(),
                              nullptr, nullptr, 0));
}

void PgArray::AddText(std::string_view element) {
  if (text_.size() > 1) text_ += ',';
  text_ += '"';
  for (char c : element) {
    if (c == '"' || c == '\\') text_ += '\\';
    text_ += c;
  }
  text_ += '"';
}

void PgArray::AddNull() {
  if (text_.size() > 1) text_ += ',';
  text_ += "NULL";
}

bool PgConnection::Broken() const { return PQstatus(conn_) != CONNECTION_OK; }

Outcome PgConnection::Reset() {
  PQreset(conn_);
  if (PQstatus(conn_) != CONNECTION_OK) {
    return Error{"postgresql: cannot reconnect: " + OneLine(PQerrorMessage(conn_))};
  }
  PQsetNoticeProcessor(conn_, &DropNotice, nullptr);
  return Success();
}

int PgConnection::BackendPid() const { return PQbackendPID(conn_); }

bool PgConnection::LastFailureIsRetryable() const {
  return last_sqlstate_ == "40001" || last_sqlstate_ == "40P01";
}

}  // namespace fleet::receiver
