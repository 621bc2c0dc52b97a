#include "receiver/store/open_report_source.h"

#include "receiver/store/open_store.h"
#include "receiver/store/postgres_report_source.h"
#include "receiver/store/sqlite_report_source.h"

namespace fleet::receiver {
namespace {

// SqliteReportSource and PostgresReportSource have the same members; one interface here.
template <typename Source>
class Registered final : public RegistrySource {
 public:
  explicit Registered(std::unique_ptr<Source> source) : source_(std::move(source)) {}
  Outcome AddOperator(const OperatorEntry& entry) override { return source_->AddOperator(entry); }
  Outcome AddReferral(const Referral& referral) override { return source_->AddReferral(referral); }
  Result<Registry> LoadRegistry() override { return source_->LoadRegistry(); }
  Outcome ForEachHeartbeat(const std::string& node, std::int64_t begin, std::int64_t end,
                           const std::function<void(const HeartbeatRow&)>& row) override {
    return source_->ForEachHeartbeat(node, begin, end, row);
  }
  Outcome ForEachTask(const std::string& node, std::int64_t begin, std::int64_t end,
                      const std::function<void(const TaskRow&)>& row) override {
    return source_->ForEachTask(node, begin, end, row);
  }
  Outcome ForEachIncident(const std::string& node, std::int64_t begin, std::int64_t end,
                          const std::function<void(const IncidentRow&)>& row) override {
    return source_->ForEachIncident(node, begin, end, row);
  }
  Outcome ForEachAck(const std::string& node, std::int64_t begin, std::int64_t end,
                     const std::function<void(const AckRow&)>& row) override {
    return source_->ForEachAck(node, begin, end, row);
  }
  Result<std::optional<ReceiverAlerting>> ReceiverAlertingOf(const std::string& node) override {
    return source_->ReceiverAlertingOf(node);
  }
  Outcome ForEachReceiverAlert(const std::string& node, std::int64_t begin, std::int64_t end,
                               const std::function<void(const ReceiverAlertRow&)>& row) override {
    return source_->ForEachReceiverAlert(node, begin, end, row);
  }

 private:
  std::unique_ptr<Source> source_;
};

template <typename Source>
Result<std::unique_ptr<RegistrySource>> Wrap(Result<std::unique_ptr<Source>> source) {
  if (!source) return Error{source.error()};
  return std::unique_ptr<RegistrySource>(new Registered<Source>(std::move(source).value()));
}

}  // namespace

Result<std::unique_ptr<RegistrySource>> OpenReportSource(const std::string& db) {
  if (IsPostgresUrl(db)) return Wrap(PostgresReportSource::Open(db));
  return Wrap(SqliteReportSource::Open(db));
}

}  // namespace fleet::receiver
