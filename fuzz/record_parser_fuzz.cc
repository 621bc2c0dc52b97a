// libFuzzer target over the receiver's record parser: every input goes through
// RunRecordParser (record_parser_harness.h), and a broken invariant aborts like a crash
// so libFuzzer keeps the input. Built only with -DFLEET_FUZZ=ON and clang (fuzz/run-fuzz.sh).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "fuzz/record_parser_harness.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto run =
      fleet::fuzz::RunRecordParser(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!run.broken.empty()) {
    for (const auto& what : run.broken)
      std::fprintf(stderr, "invariant broken: %s\n", what.c_str());
    std::abort();
  }
  return 0;
}
