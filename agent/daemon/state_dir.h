// StateDir: the daemon's one directory. Prepare creates it (0750) when missing and proves
// it writable by creating and removing a file, so a read-only or foreign directory is
// refused at start with a clear reason. WriteFileAtomically writes a sibling temporary
// file and renames it over the target, so readers never see half a file.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace fleet {

Outcome PrepareStateDir(const std::string& path);
Outcome WriteFileAtomically(const std::string& path, std::string_view content);

}  // namespace fleet
