#!/bin/sh
# build-deb.sh DIR VERSION OUT: makes the Debian package OUT from DIR/root,
# where `make deb` has staged `make install` (PREFIX=/usr). The steps that
# debhelper would take are spelled out here: the project has no debian/ at its
# top level (the layout is fixed), so dpkg-buildpackage cannot drive it.
set -eu
# absolute: the package tools run from a scratch dir below
dir=$(cd "$1" && pwd) version=$2 out=$3
here=$(cd "$(dirname "$0")" && pwd)
root=$dir/root
pkg=infergate

# Policy 10.1: binaries stripped, the debugging symbols left to a -dbgsym.
strip --remove-section=.comment --remove-section=.note --strip-unneeded "$root/usr/sbin/$pkg"
gzip -9n "$root/usr/share/man/man8/$pkg.8" "$root/usr/share/man/man5/$pkg.conf.5"
install -D -m 0644 "$here/infergate.conf" "$root/etc/$pkg/$pkg.conf"
install -m 0644 "$here/copyright" "$root/usr/share/doc/$pkg/copyright"
install -D -m 0644 "$here/lintian-overrides" "$root/usr/share/lintian/overrides/$pkg"

# dpkg-shlibdeps and dpkg-gencontrol read a source tree's debian/: one in
# the scratch dir. A version the changelog has no entry for yet gets one, so
# that bumping IG_VERSION alone still gives a package whose changelog names it.
src=$dir/src
mkdir -p "$src/debian"
cp "$here/control" "$src/debian/control"
if [ "$(dpkg-parsechangelog -l "$here/changelog" -S Version)" = "$version" ]; then
	cp "$here/changelog" "$src/debian/changelog"
else
	{
		printf '%s (%s) unstable; urgency=medium\n\n' "$pkg" "$version"
		printf '  * Built by make deb from infergate %s (its changes: the project history).\n\n' "${version%-*}"
		printf ' -- %s  %s\n\n' "$(sed -n 's/^Maintainer: //p' "$here/control")" "$(date -R)"
		cat "$here/changelog"
	} >"$src/debian/changelog"
fi
gzip -9n <"$src/debian/changelog" >"$root/usr/share/doc/$pkg/changelog.Debian.gz"

mkdir -p "$root/DEBIAN"
install -m 0644 "$here/conffiles" "$root/DEBIAN/conffiles"
install -m 0755 "$here/postinst" "$here/prerm" "$here/postrm" "$root/DEBIAN/"
# whatever the builder's umask: files 0644, directories and programs 0755
chmod -R u+rwX,go+rX,go-w "$root"
(
	cd "$src"
	dpkg-shlibdeps -Tdebian/substvars "$root/usr/sbin/$pkg"
	dpkg-gencontrol -p"$pkg" -v"$version" -Tdebian/substvars -fdebian/files -P"$root"
)
(cd "$root" && find . -type f ! -path './DEBIAN/*' -printf '%P\0' | LC_ALL=C sort -z |
	xargs -0 md5sum >DEBIAN/md5sums)
chmod 0644 "$root/DEBIAN/md5sums"
dpkg-deb --root-owner-group -Zxz --build "$root" "$out" >/dev/null
