// OpenReportSource: the reports' source a --db text names, picked as OpenRecordStore picks
// the store (open_store.h): a postgresql:// or postgres:// URI is a PostgresReportSource,
// anything else the path of an existing SQLite file (SqliteReportSource). Both give the same
// rows for the same records. RegistrySource adds the writes only the registry commands
// make (operators, referrals); the nodes themselves go through the RecordStore.
#pragma once

#include <memory>
#include <string>

#include "receiver/report/report_source.h"

namespace fleet::receiver {

class RegistrySource : public ReportSource {
 public:
  virtual Outcome AddOperator(const OperatorEntry& entry) = 0;  // replaces name and date
  virtual Outcome AddReferral(const Referral& referral) = 0;    // one per (partner, referred)
};

Result<std::unique_ptr<RegistrySource>> OpenReportSource(const std::string& db);

}  // namespace fleet::receiver
