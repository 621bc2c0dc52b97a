#!/bin/bash
# fuzz/run-fuzz.sh [SECONDS]: builds record_parser_fuzz with clang++-14 (libFuzzer, ASan,
# UBSan) in its own build dir and runs it for SECONDS (default 60) over a temporary copy of
# the seed corpus (fuzz/corpus/record_parser/) and the kept findings (tests/data/fuzz/
# record_parser/), so the repository is not touched unless something is found. A crash,
# leak, timeout or out-of-memory input is copied into tests/data/fuzz/record_parser/ (the
# regression test replays it) and the script exits 1 naming it. Exit 77: no clang++-14 or
# no libFuzzer runtime (skipped, saying why).
# Environment: FLEET_FUZZ_BUILD_DIR (default build-fuzz), FLEET_FUZZ_JOBS (default 2),
# FLEET_FUZZ_CXX (default clang++-14), FLEET_FUZZ_KEEP_CORPUS=DIR to keep the grown corpus.
set -euo pipefail
seconds=${1:-60}
src=$(cd "$(dirname "$0")/.." && pwd)
build=${FLEET_FUZZ_BUILD_DIR:-$src/build-fuzz}
jobs=${FLEET_FUZZ_JOBS:-2}
cxx=${FLEET_FUZZ_CXX:-clang++-14}
findings=$src/tests/data/fuzz/record_parser
if [[ ! "$seconds" =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: fuzz/run-fuzz.sh [SECONDS]  (default 60)" >&2
  exit 2
fi

if ! command -v "$cxx" >/dev/null; then
  echo "SKIPPED: $cxx is not installed (Debian: clang; packaging/install-deps.sh --test)"
  exit 77
fi
runtime="$("$cxx" -print-resource-dir)/lib/linux/libclang_rt.fuzzer-$(uname -m).a"
if [[ ! -f "$runtime" ]]; then
  echo "SKIPPED: libFuzzer's runtime $runtime is missing (Debian: libclang-rt-14-dev)"
  exit 77
fi

echo "== building record_parser_fuzz with $cxx in $build"
mkdir -p "$build"
cmake -S "$src" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" -DFLEET_FUZZ=ON \
  -DFLEET_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$build/configure.log" 2>&1 ||
  { cat "$build/configure.log"; exit 1; }
cmake --build "$build" -j "$jobs" --target record_parser_fuzz

work=$(mktemp -d "${TMPDIR:-/tmp}/fleet-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/corpus" "$work/artifacts"
cp "$src"/fuzz/corpus/record_parser/* "$work/corpus/"
find "$findings" -maxdepth 1 -type f ! -name '*.md' -exec cp {} "$work/corpus/" \;

echo "== fuzzing for ${seconds}s (log: $build/fuzz.log)"
# A smaller ASan quarantine and shorter malloc stacks about double the executions per second.
export ASAN_OPTIONS=${ASAN_OPTIONS:-quarantine_size_mb=32:malloc_context_size=5}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
status=0
(cd "$work" && "$build/fuzz/record_parser_fuzz" -max_total_time="$seconds" -rss_limit_mb=2048 \
  -max_len=70000 -timeout=10 -print_final_stats=1 -dict="$src/fuzz/record_parser.dict" \
  -artifact_prefix="$work/artifacts/" "$work/corpus") >"$build/fuzz.log" 2>&1 || status=$?
grep -E '^#[0-9]+[[:space:]]+(INITED|DONE)' "$build/fuzz.log" || true
grep -E '^stat::' "$build/fuzz.log" || true
echo "corpus: $(find "$work/corpus" -type f | wc -l) inputs"
if [[ -n "${FLEET_FUZZ_KEEP_CORPUS:-}" ]]; then
  mkdir -p "$FLEET_FUZZ_KEEP_CORPUS" && cp "$work"/corpus/* "$FLEET_FUZZ_KEEP_CORPUS/"
fi

found=("$work"/artifacts/*)
if [[ -e "${found[0]}" ]]; then
  mkdir -p "$findings"
  echo "FOUND by the fuzzer (kept for the regression test, tests/receiver/fuzz_regressions_test.cc):"
  for f in "${found[@]}"; do
    cp "$f" "$findings/"
    echo "  tests/data/fuzz/record_parser/$(basename "$f")"
  done
  tail -n 60 "$build/fuzz.log"
  exit 1
fi
if ((status != 0)); then
  echo "record_parser_fuzz exited $status without an artifact:"
  tail -n 60 "$build/fuzz.log"
  exit 1
fi
echo "no crash in ${seconds}s"
