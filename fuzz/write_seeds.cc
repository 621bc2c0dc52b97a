// record_parser_seeds DIR: writes the seed corpus (RecordParserSeeds) into DIR, one file
// each. Signatures are deterministic, so running it again rewrites the same bytes.
#include <cstdio>
#include <fstream>

#include "fuzz/record_parser_harness.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: record_parser_seeds DIR (fuzz/corpus/record_parser)\n");
    return 2;
  }
  for (const auto& seed : fleet::fuzz::RecordParserSeeds()) {
    const std::string path = std::string(argv[1]) + "/" + seed.name;
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << seed.content;
    if (!out.flush()) {
      std::fprintf(stderr, "record_parser_seeds: cannot write %s\n", path.c_str());
      return 1;
    }
  }
  return 0;
}
