// DispatchCheck: the fleet dispatch files, whose format is unpublished, treated as opaque
// JSON: present, parses, age of the last change (mtime), size and length of the top-level
// value. A missing, unreadable, unparsable or stale file is the finding itself: WARNING
// naming the file (rules: dispatch_file.h). Symlinks are followed and noted; directories,
// FIFOs and files over 4 MiB are findings, never read; Hermes' secret files and files others
// could have planted are refused (RefuseUntrustedFile).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "core/collector.h"

namespace fleet {

struct DispatchOptions {
  // Relative paths are inside the Hermes home.
  std::vector<std::string> files{"fleet-dispatch-state.json", "/tmp/hermes/dispatch-queue.json"};
  std::chrono::seconds stale_after{3600};
};

std::unique_ptr<Collector> MakeDispatchCheck(DispatchOptions options);

}  // namespace fleet
