#!/bin/bash
# build-receiver-deb.sh [BUILD_DIR] [OUT_DIR]: builds fleet-receiver_<version>_<arch>.deb
# from an existing build (BUILD_DIR/receiver/fleet-receiver; default: build) into OUT_DIR
# (default: BUILD_DIR). The sibling of build-deb.sh (fleet-agent's package), with the same
# VERSION and DEB_REVISION overrides and needs; `build-deb.sh --receiver` runs this one.
# Prints the path of the .deb on its last line.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source_dir=$(cd "$here/.." && pwd)
build_dir=$(cd "${1:-$source_dir/build}" && pwd)
out_dir=${2:-$build_dir}
binary=$build_dir/receiver/fleet-receiver
[[ -x "$binary" ]] || { echo "build-receiver-deb: no built binary at $binary (build first)" >&2; exit 1; }
for tool in dpkg-deb dpkg-shlibdeps strip gzip; do
  command -v "$tool" >/dev/null ||
    { echo "build-receiver-deb: $tool is missing (apt-get install dpkg-dev binutils gzip)" >&2; exit 1; }
done

cmake_version=$(sed -n 's/^project(fleet-agent VERSION \([0-9.]*\).*/\1/p' "$source_dir/CMakeLists.txt")
version=${VERSION:-$cmake_version}
revision=${DEB_REVISION:-1}
[[ "$version" =~ ^[0-9][0-9A-Za-z.+~]*$ ]] || { echo "build-receiver-deb: bad VERSION '$version'" >&2; exit 1; }
[[ "$revision" =~ ^[0-9A-Za-z.+~]+$ ]] || { echo "build-receiver-deb: bad DEB_REVISION '$revision'" >&2; exit 1; }
deb_version=$version-$revision
arch=$(dpkg --print-architecture)
maintainer="fleet-agent maintainers <maintainers@users.noreply.b-seed-9cc86e46.example>"
debian=$here/receiver-debian

# The shipped receiver.yaml must be valid as shipped and with every key uncommented.
work=$(mktemp -d "${TMPDIR:-/tmp}/fleet-receiver-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
"$binary" config check "$here/receiver.yaml" >/dev/null ||
  { echo "build-receiver-deb: packaging/receiver.yaml is not a valid configuration" >&2; exit 1; }
sed 's/^# \( *[a-z_]\+:\)/\1/' "$here/receiver.yaml" >"$work/uncommented.yaml"
"$binary" config check "$work/uncommented.yaml" >/dev/null ||
  { echo "build-receiver-deb: packaging/receiver.yaml has a commented key that is not valid" >&2; exit 1; }

root=$work/root
doc=$root/usr/share/doc/fleet-receiver
install -d -m 0755 "$root/DEBIAN" "$root/usr/bin" "$root/lib/systemd/system" \
  "$root/etc/fleet-receiver" "$doc" "$root/usr/share/man/man1" "$root/usr/share/lintian/overrides"
install -m 0755 "$binary" "$root/usr/bin/fleet-receiver"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$root/usr/bin/fleet-receiver"
install -m 0644 "$source_dir/systemd/fleet-receiver.service" "$root/lib/systemd/system/"
install -m 0644 "$here/receiver.yaml" "$root/etc/fleet-receiver/receiver.yaml"
install -m 0644 "$debian/copyright" "$doc/copyright"
install -m 0644 "$debian/lintian-overrides" "$root/usr/share/lintian/overrides/fleet-receiver"
gzip -9n <"$here/fleet-receiver.1" >"$root/usr/share/man/man1/fleet-receiver.1.gz"
chmod 0644 "$root/usr/share/man/man1/fleet-receiver.1.gz"

date=$(git -C "$source_dir" log -1 --format=%cD 2>/dev/null || date -R)
cat >"$work/changelog" <<EOF
fleet-receiver ($deb_version) unstable; urgency=medium

  * fleet-receiver $version: verifies, stores and reports the signed records fleet
    agents push, run as a hardened systemd service.

 -- $maintainer  $date
EOF
gzip -9n <"$work/changelog" >"$doc/changelog.Debian.gz"
chmod 0644 "$doc/changelog.Debian.gz"

mkdir -p "$work/src/debian"
printf 'Source: fleet-receiver\n\nPackage: fleet-receiver\nArchitecture: any\n' >"$work/src/debian/control"
depends=$(cd "$work/src" && dpkg-shlibdeps -O "$root/usr/bin/fleet-receiver" 2>"$work/shlibdeps.err" |
  sed -n 's/^shlibs:Depends=//p') ||
  { cat "$work/shlibdeps.err" >&2; exit 1; }
[[ -n "$depends" ]] || { echo "build-receiver-deb: dpkg-shlibdeps found no dependencies" >&2; exit 1; }
# libcurl is opened with dlopen by the alert sender (base/curl_library.h); adduser makes
# the system user in postinst.
depends+=", libcurl3-gnutls (>= 7.85.0), adduser"

installed_size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat >"$root/DEBIAN/control" <<EOF
Package: fleet-receiver
Version: $deb_version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $installed_size
Depends: $depends
Suggests: postgresql
Section: admin
Priority: optional
Description: verifies and stores the signed uptime records of a Hermes node fleet
 fleet-receiver is the foundation's side of fleet-agent: it takes the records
 the nodes' agents push over HTTP or HTTPS, verifies their Ed25519 signatures
 and hash chains, stores each once (SQLite or PostgreSQL), alerts operators
 (Telegram, Discord, a webhook) and computes the monthly uptime reports and
 payout statements.
EOF
install -m 0644 "$debian/conffiles" "$root/DEBIAN/conffiles"
for script in postinst prerm postrm; do
  install -m 0755 "$debian/$script" "$root/DEBIAN/$script"
done
(cd "$root" && find . -type f ! -path './DEBIAN/*' ! -path './etc/*' -printf '%P\0' | LC_ALL=C sort -z |
  xargs -0 md5sum) >"$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/md5sums"

mkdir -p "$out_dir"
deb=$out_dir/fleet-receiver_${deb_version}_${arch}.deb
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
