#include "collectors/disk/disk_check.h"

namespace fleet {
namespace {

class DiskCheck final : public Collector {
 public:
  explicit DiskCheck(DiskOptions options) : options_(std::move(options)) {}
  std::string Name() const override { return "disk"; }
  CheckResult Run(const CheckContext&) override {
    return MakeResult("disk", Status::kUnknown, "not implemented yet");
  }

 private:
  DiskOptions options_;
};

}  // namespace

std::unique_ptr<Collector> MakeDiskCheck(DiskOptions options) {
  return std::make_unique<DiskCheck>(std::move(options));
}

}  // namespace fleet
