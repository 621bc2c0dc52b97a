#include "collectors/tmux/tmux_check.h"

namespace fleet {
namespace {

class TmuxCheck final : public Collector {
 public:
  explicit TmuxCheck(TmuxOptions options) : options_(std::move(options)) {}
  std::string Name() const override { return "tmux"; }
  CheckResult Run(const CheckContext&) override {
    return MakeResult("tmux", Status::kUnknown, "not implemented yet");
  }

 private:
  TmuxOptions options_;
};

}  // namespace

std::unique_ptr<Collector> MakeTmuxCheck(TmuxOptions options) {
  return std::make_unique<TmuxCheck>(std::move(options));
}

}  // namespace fleet

namespace fleet {
std::string DefaultTmuxSocket(const Os& os, const HermesTarget& hermes) {
  std::string dir = os.GetEnv("TMUX_TMPDIR").value_or("/tmp");
  if (dir.empty()) dir = "/tmp";
  return dir + "/tmux-" + std::to_string(hermes.user.uid) + "/default";
}
}  // namespace fleet
