#!/bin/bash
# build-deb.sh [BUILD_DIR] [OUT_DIR]: builds fleet-agent_<version>_<arch>.deb from an
# existing build (BUILD_DIR/fleet-agent; default: build) into OUT_DIR (default: BUILD_DIR).
# Prints the path of the .deb on its last line.
#   VERSION=0.1.1 DEB_REVISION=2 bash packaging/build-deb.sh build /var/tmp/debs
# VERSION defaults to the CMake project version, DEB_REVISION to 1: the package version is
# VERSION-DEB_REVISION. Needs dpkg-dev (dpkg-shlibdeps), binutils (strip) and gzip; runs
# as any user (files are owned by root in the package through --root-owner-group).
set -euo pipefail
# build-deb.sh --receiver [BUILD_DIR] [OUT_DIR]: fleet-receiver's package instead
# (build-receiver-deb.sh), so this one script makes both.
if [[ "${1:-}" == --receiver ]]; then
  shift
  exec bash "$(dirname "$0")/build-receiver-deb.sh" "$@"
fi
here=$(cd "$(dirname "$0")" && pwd)
source_dir=$(cd "$here/.." && pwd)
build_dir=$(cd "${1:-$source_dir/build}" && pwd)
out_dir=${2:-$build_dir}
binary=$build_dir/fleet-agent
[[ -x "$binary" ]] || { echo "build-deb: no built binary at $binary (build first)" >&2; exit 1; }
for tool in dpkg-deb dpkg-shlibdeps strip gzip; do
  command -v "$tool" >/dev/null ||
    { echo "build-deb: $tool is missing (apt-get install dpkg-dev binutils gzip)" >&2; exit 1; }
done

cmake_version=$(sed -n 's/^project(fleet-agent VERSION \([0-9.]*\).*/\1/p' "$source_dir/CMakeLists.txt")
version=${VERSION:-$cmake_version}
revision=${DEB_REVISION:-1}
[[ "$version" =~ ^[0-9][0-9A-Za-z.+~]*$ ]] || { echo "build-deb: bad VERSION '$version'" >&2; exit 1; }
[[ "$revision" =~ ^[0-9A-Za-z.+~]+$ ]] || { echo "build-deb: bad DEB_REVISION '$revision'" >&2; exit 1; }
deb_version=$version-$revision
arch=$(dpkg --print-architecture)
maintainer="fleet-agent maintainers <maintainers@users.noreply.b-seed-9cc86e46.example>"

# The shipped configuration must mean "the defaults", and each commented key must be a
# real one: the file is checked as shipped and with every key line uncommented (the secret
# files its alerts: example names belong to the machine it is installed on: not read here).
work=$(mktemp -d "${TMPDIR:-/tmp}/fleet-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
"$binary" config check "$here/agent.yaml" >/dev/null ||
  { echo "build-deb: packaging/agent.yaml is not a valid configuration" >&2; exit 1; }
sed 's/^# \( *[a-z_]\+:\)/\1/' "$here/agent.yaml" >"$work/uncommented.yaml"
"$binary" config check --no-secrets "$work/uncommented.yaml" >/dev/null ||
  { echo "build-deb: packaging/agent.yaml has a commented key that is not valid" >&2; exit 1; }

root=$work/root
install -d -m 0755 "$root/DEBIAN" "$root/usr/bin" "$root/lib/systemd/system" \
  "$root/etc/fleet-agent" "$root/usr/share/doc/fleet-agent" "$root/usr/share/man/man1" \
  "$root/usr/share/lintian/overrides"
install -m 0755 "$binary" "$root/usr/bin/fleet-agent"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$root/usr/bin/fleet-agent"
install -m 0644 "$source_dir/systemd/fleet-agent.service" "$root/lib/systemd/system/"
install -m 0644 "$here/agent.yaml" "$root/etc/fleet-agent/agent.yaml"
install -m 0644 "$here/debian/copyright" "$root/usr/share/doc/fleet-agent/copyright"
install -m 0644 "$here/debian/lintian-overrides" "$root/usr/share/lintian/overrides/fleet-agent"
gzip -9n <"$here/fleet-agent.1" >"$root/usr/share/man/man1/fleet-agent.1.gz"
chmod 0644 "$root/usr/share/man/man1/fleet-agent.1.gz"

# The changelog's date is the last commit's (reproducible), else now.
date=$(git -C "$source_dir" log -1 --format=%cD 2>/dev/null || date -R)
cat >"$work/changelog" <<EOF
fleet-agent ($deb_version) unstable; urgency=medium

  * fleet-agent $version: health checks, uptime history and signed records for a
    Hermes agent node, run as a hardened systemd service.

 -- $maintainer  $date
EOF
gzip -9n <"$work/changelog" >"$root/usr/share/doc/fleet-agent/changelog.Debian.gz"
chmod 0644 "$root/usr/share/doc/fleet-agent/changelog.Debian.gz"

# Depends from the shared libraries the binary really links (dpkg-shlibdeps wants a
# debian/control in its working directory).
mkdir -p "$work/src/debian"
printf 'Source: fleet-agent\n\nPackage: fleet-agent\nArchitecture: any\n' >"$work/src/debian/control"
depends=$(cd "$work/src" && dpkg-shlibdeps -O "$root/usr/bin/fleet-agent" 2>"$work/shlibdeps.err" |
  sed -n 's/^shlibs:Depends=//p') ||
  { cat "$work/shlibdeps.err" >&2; exit 1; }
[[ -n "$depends" ]] || { echo "build-deb: dpkg-shlibdeps found no dependencies" >&2; exit 1; }
# libcurl is opened with dlopen on the first push (base/curl_library.h), so
# dpkg-shlibdeps cannot see it: the GnuTLS flavour, which it prefers; CURLOPT_PROTOCOLS_STR
# needs 7.85.
depends+=", libcurl3-gnutls (>= 7.85.0)"

installed_size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat >"$root/DEBIAN/control" <<EOF
Package: fleet-agent
Version: $deb_version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $installed_size
Depends: $depends
Recommends: tmux
Section: admin
Priority: optional
Description: health checks and signed uptime history for a Hermes agent node
 fleet-agent is the operator's daily checklist for a node running Hermes AI
 agents: the expected tmux sessions, the Hermes gateway service, disk space,
 Hermes cron results and the dispatch files. As a systemd service it runs the
 checks on a schedule, keeps the node's uptime, task and incident history, and
 pushes it upstream as records signed with the node's Ed25519 key.
EOF
install -m 0644 "$here/debian/conffiles" "$root/DEBIAN/conffiles"
for script in postinst prerm postrm; do
  install -m 0755 "$here/debian/$script" "$root/DEBIAN/$script"
done
# md5sums of every file but the conffiles (dpkg keeps those apart), as dh_md5sums does.
(cd "$root" && find . -type f ! -path './DEBIAN/*' ! -path './etc/*' -printf '%P\0' | LC_ALL=C sort -z |
  xargs -0 md5sum) >"$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/md5sums"

mkdir -p "$out_dir"
deb=$out_dir/fleet-agent_${deb_version}_${arch}.deb
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
