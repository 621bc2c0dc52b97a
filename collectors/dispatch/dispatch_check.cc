#include "collectors/dispatch/dispatch_check.h"

namespace fleet {
namespace {

class DispatchCheck final : public Collector {
 public:
  explicit DispatchCheck(DispatchOptions options) : options_(std::move(options)) {}
  std::string Name() const override { return "dispatch"; }
  CheckResult Run(const CheckContext&) override {
    return MakeResult("dispatch", Status::kUnknown, "not implemented yet");
  }

 private:
  DispatchOptions options_;
};

}  // namespace

std::unique_ptr<Collector> MakeDispatchCheck(DispatchOptions options) {
  return std::make_unique<DispatchCheck>(std::move(options));
}

}  // namespace fleet
