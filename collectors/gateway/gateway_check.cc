#include "collectors/gateway/gateway_check.h"

namespace fleet {
namespace {

class GatewayCheck final : public Collector {
 public:
  explicit GatewayCheck(GatewayOptions options) : options_(std::move(options)) {}
  std::string Name() const override { return "gateway"; }
  CheckResult Run(const CheckContext&) override {
    return MakeResult("gateway", Status::kUnknown, "not implemented yet");
  }

 private:
  GatewayOptions options_;
};

}  // namespace

std::unique_ptr<Collector> MakeGatewayCheck(GatewayOptions options) {
  return std::make_unique<GatewayCheck>(std::move(options));
}

}  // namespace fleet
