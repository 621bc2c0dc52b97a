#!/bin/bash
# The whole test suite, from a fresh checkout on Debian 12 as root: installs what the
# tests need, builds with -Werror, runs every test (unit, integration against a real tmux,
# a real systemd in a container, tmpfs...), then the unit tests again under ASan+UBSan.
set -euo pipefail
cd "$(dirname "$0")/.."
bash packaging/install-deps.sh --test
jobs=$(nproc)

# FLEET_NO_SKIP: a test that would skip (no root, nspawn, PostgreSQL...) fails instead.
export FLEET_NO_SKIP=1
cmake -S . -B build -G Ninja -DFLEET_WERROR=ON -DFLEET_TESTS=ON -DFLEET_NO_SKIP=ON >/dev/null
cmake --build build -j "$jobs"
ctest --test-dir build --output-on-failure -j 2 --timeout 900

cmake -S . -B build-asan -G Ninja -DFLEET_WERROR=ON -DFLEET_SANITIZE=ON \
  -DCMAKE_BUILD_TYPE=Debug -DFLEET_NO_SKIP=ON >/dev/null
cmake --build build-asan -j "$jobs"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure -R '^unit\.' --timeout 900
