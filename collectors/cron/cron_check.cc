#include "collectors/cron/cron_check.h"

namespace fleet {
namespace {

class CronCheck final : public Collector {
 public:
  explicit CronCheck(CronOptions options) : options_(std::move(options)) {}
  std::string Name() const override { return "cron"; }
  CheckResult Run(const CheckContext&) override {
    return MakeResult("cron", Status::kUnknown, "not implemented yet");
  }

 private:
  CronOptions options_;
};

}  // namespace

std::unique_ptr<Collector> MakeCronCheck(CronOptions options) {
  return std::make_unique<CronCheck>(std::move(options));
}

}  // namespace fleet
