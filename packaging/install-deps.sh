#!/bin/bash
# Installs what fleet-agent needs on Debian 12, as root: the build tools and libraries,
# and with --test also what the test suite uses (a real tmux, systemd-nspawn, ...).
set -euo pipefail
build_packages=(
  g++ cmake ninja-build pkg-config dpkg-dev
  libboost-dev libcurl4-openssl-dev libyaml-cpp-dev libspdlog-dev nlohmann-json3-dev
  libsodium-dev libsystemd-dev libsqlite3-dev libcli11-dev libpq-dev doctest-dev
  tmux
  libcurl3-gnutls  # loaded by the agent on its first push (base/curl_library.h)
  libssl-dev  # the receiver's native TLS (Asio over OpenSSL; libpq-dev pulls it in too)
)
test_packages=(
  systemd systemd-container dbus util-linux procps coreutils iproute2 clang-format jq sqlite3
  curl openssl python3 ca-certificates postgresql lintian fakeroot
  clang libclang-rt-14-dev  # fuzz/run-fuzz.sh: clang++-14 and libFuzzer (ctest fuzz.record_parser)
  # The dashboard's browser test (tests/integration/dashboard_browser_test.sh): a real headless
  # Chromium, driven by the npm package playwright-core (installed by the test, like jose),
  # with a font for legible screenshots.
  chromium fonts-dejavu-core
)
packages=("${build_packages[@]}")
if [[ "${1:-}" == "--test" ]]; then packages+=("${test_packages[@]}"); fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# The JOSE interoperability test verifies our records with the npm package `jose` under
# Node.js, and the dashboard's browser test drives Chromium with `playwright-core` (Node.js
# 18 or later); take Debian's nodejs and npm unless a Node.js with npm is already there.
if [[ "${1:-}" == "--test" ]] && ! command -v npm >/dev/null; then missing+=(nodejs npm); fi
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
