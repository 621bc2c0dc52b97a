// AllocMeter: counts the bytes the program holds through operator new, and the most it held
// since the meter was made, so a test can say "parsing this 4 MiB file never held more
// than 1 MiB beside it" without timing or RSS noise. Linking this file replaces the global
// operator new and delete of the test binary (malloc underneath). Thread-safe counters.
#pragma once

#include <cstddef>

namespace fleet::testing {

class AllocMeter {
 public:
  AllocMeter();
  // The most bytes held at once since construction, above what was held then.
  std::size_t PeakAbove() const;

 private:
  std::size_t start_;
};

}  // namespace fleet::testing
