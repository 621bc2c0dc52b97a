// Reading side of the dispatch check: each configured file through the Os seam (symlinks
// followed and reported; directories, FIFOs, oversized and unreadable files are findings,
// never read), then ParseDispatchFile and the rules in dispatch_file.h.
#include "collectors/dispatch/dispatch_check.h"

#include "base/units.h"
#include "collectors/dispatch/dispatch_file.h"

namespace fleet {
namespace {

// The format is opaque, so this is only a sanity bound.
constexpr std::uint64_t kMaxDispatchFileBytes = 4ull << 20;

DispatchFileSeen Look(const Os& os, const HermesTarget& hermes, const std::string& configured) {
  DispatchFileSeen seen;
  seen.path = ResolveInHome(hermes, configured);
  seen.shown = DisplayPath(hermes, seen.path);
  const std::string& shown = seen.shown;
  if (auto refusal = RefuseUntrustedFile(os, hermes, seen.path)) {
    seen.problem = "refusing to read " + shown + ": " + refusal->reason +
                   (refusal->secret ? "; fix checks.dispatch.files" : "");
    return seen;
  }
  auto link = os.Stat(seen.path, /*follow=*/false);
  if (!link) {
    seen.problem = "cannot read " + shown + ": " + link.error();
    return seen;
  }
  seen.symlink = link->has_value() && (*link)->kind == FileInfo::Kind::kSymlink;
  auto info = os.Stat(seen.path, /*follow=*/true);
  if (!info) {
    seen.problem = "cannot read " + shown + ": " + info.error();
    return seen;
  }
  if (!info->has_value()) {
    seen.problem = shown + (seen.symlink ? " is a dangling symlink" : " is missing");
    return seen;
  }
  seen.present = true;
  const FileInfo& file = **info;
  seen.size_bytes = file.size;
  seen.modified = file.modified;
  if (file.kind == FileInfo::Kind::kDirectory) {
    seen.problem = shown + " is a directory, not a file";
    return seen;
  }
  if (file.kind != FileInfo::Kind::kRegular) {
    seen.problem = shown + " is not a regular file (a FIFO, socket or device?)";
    return seen;
  }
  if (file.size > kMaxDispatchFileBytes) {
    seen.problem = shown + " is " + FormatBytes(file.size) + ", over the " +
                   FormatBytes(kMaxDispatchFileBytes) + " limit; not read";
    return seen;
  }
  auto content = os.ReadFile(seen.path, kMaxDispatchFileBytes);
  if (!content) {
    seen.problem = "cannot read " + content.error();
    return seen;
  }
  if (!content->has_value()) {
    seen.present = false;
    seen.problem = shown + " is missing (vanished while being read)";
    return seen;
  }
  auto shape = ParseDispatchFile(**content);
  if (!shape) {
    seen.problem = shown + ": " + shape.error();
    return seen;
  }
  seen.shape = *shape;
  return seen;
}

class DispatchCheck final : public Collector {
 public:
  explicit DispatchCheck(DispatchOptions options) : options_(std::move(options)) {}
  std::string Name() const override { return "dispatch"; }
  CheckResult Run(const CheckContext& context) override {
    std::vector<DispatchFileSeen> files;
    files.reserve(options_.files.size());
    for (const auto& configured : options_.files) {
      files.push_back(Look(context.os, context.hermes, configured));
    }
    return EvaluateDispatchFiles(files, context.os.Now(), options_.stale_after);
  }

 private:
  DispatchOptions options_;
};

}  // namespace

std::unique_ptr<Collector> MakeDispatchCheck(DispatchOptions options) {
  return std::make_unique<DispatchCheck>(std::move(options));
}

}  // namespace fleet
