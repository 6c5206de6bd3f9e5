#!/usr/bin/env bash
# Builds erpbridge for Windows amd64 and Linux amd64/arm64, then the MSI (wixl),
# the .deb and the .rpm (nfpm), into dist/. Run from anywhere; see README.md.
#
# Environment (all optional):
#   ERPBRIDGE_VERSION   version stamped in and used for the packages
#                       (default: git describe --tags --always)
#   ERPBRIDGE_COMMIT    commit stamped in (default: git rev-parse HEAD)
#   ERPBRIDGE_DATE      build date stamped in (default: now, UTC, RFC 3339)
#   ERPBRIDGE_SIGN_PKCS12    Authenticode certificate and key (PKCS#12 file): when
#                            set, erpbridge.exe and the MSI are signed with osslsigncode
#   ERPBRIDGE_SIGN_PASSWORD  its password (passed to osslsigncode through a file)
#   ERPBRIDGE_SIGN_TIMESTAMP_URL  RFC 3161 timestamp server (default: no timestamp)
#   PKG_MAINTAINER      Maintainer of the .deb/.rpm, "Name <address>"
#                       (default: erpbridge maintainers <maintainers@erpbridge.example>)
#   NFPM                an nfpm v2.45.x binary (default: built once into a temp folder)
#
# Output: dist/ in the repository (emptied first; nfpm.yaml reads dist/ too).
#
# Needs: go, wixl and msibuild (apt-get install --no-install-recommends wixl msitools),
# osslsigncode when signing.
set -euo pipefail

die() { echo "build.sh: $*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || die "$1 not found: $2"; }

# paths given relative to the caller's folder, before moving to the repository
if [ -n "${ERPBRIDGE_SIGN_PKCS12:-}" ]; then
	ERPBRIDGE_SIGN_PKCS12="$(realpath -e -- "$ERPBRIDGE_SIGN_PKCS12")" ||
		die "ERPBRIDGE_SIGN_PKCS12: no such file"
fi
if [ -n "${NFPM:-}" ] && [[ $NFPM == */* ]]; then
	NFPM="$(realpath -e -- "$NFPM")" || die "NFPM: no such file"
fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
here=installer/packaging
dist=dist
nfpm_module="github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.45.2"

need go "install Go"
need wixl "apt-get install --no-install-recommends wixl"
need msibuild "apt-get install --no-install-recommends msitools"
if [ -n "${ERPBRIDGE_SIGN_PKCS12:-}" ]; then
	need osslsigncode "apt-get install osslsigncode"
	[ -r "$ERPBRIDGE_SIGN_PKCS12" ] || die "ERPBRIDGE_SIGN_PKCS12=$ERPBRIDGE_SIGN_PKCS12 is not a readable file"
fi

tmp="$(mktemp -d /tmp/erpbridge-build.XXXXXX)"
trap 'rm -rf "$tmp"' EXIT

# --- versions -----------------------------------------------------------------
# version: what `erpbridge version` prints. pkg_version: the .deb/.rpm version
# (sorts right: 1.2.3~rc1 < 1.2.3 < 1.2.3+4.gabc1234). msi_version: Windows
# Installer's numeric a.b.c.d (upgrades compare a.b.c).
version="${ERPBRIDGE_VERSION:-$(git describe --tags --always 2>/dev/null || echo dev)}"
commit="${ERPBRIDGE_COMMIT:-$(git rev-parse HEAD 2>/dev/null || echo unknown)}"
date="${ERPBRIDGE_DATE:-$(date -u +%Y-%m-%dT%H:%M:%SZ)}"
rest="${version#v}" ahead=0 hash=""
if [[ $rest =~ ^(.+)-([0-9]+)-g([0-9a-f]+)$ ]]; then
	rest="${BASH_REMATCH[1]}" ahead="${BASH_REMATCH[2]}" hash="${BASH_REMATCH[3]}"
fi
if [[ $rest =~ ^([0-9]+)\.([0-9]+)\.([0-9]+)(-([0-9A-Za-z.-]+))?$ ]]; then
	base="${BASH_REMATCH[1]}.${BASH_REMATCH[2]}.${BASH_REMATCH[3]}"
	pre="${BASH_REMATCH[5]}"
	(( 10#${BASH_REMATCH[1]} <= 255 && 10#${BASH_REMATCH[2]} <= 255 && 10#${BASH_REMATCH[3]} <= 65535 )) ||
		die "version $version does not fit an MSI version (255.255.65535)"
	pkg_version="$base${pre:+~${pre//-/.}}"
	[ "$ahead" != 0 ] && pkg_version+="+$ahead.g$hash"
	msi_version="$base.$ahead"
else
	# no release tag: 0.0.<commit count>, so later builds still upgrade earlier ones
	count="$(git rev-list --count HEAD 2>/dev/null || echo 0)"
	pkg_version="0.0.$count"
	[[ $rest =~ ^[0-9a-f]{7,40}$ ]] && pkg_version+="+g$rest"
	msi_version="0.0.$count"
fi
echo "version $version (packages $pkg_version, MSI $msi_version), commit $commit, built $date"

rm -rf "$dist"
mkdir -p "$dist"

# --- binaries -----------------------------------------------------------------
ldflags="-s -w -X main.version=$version -X main.commit=$commit -X main.date=$date"
for target in windows/amd64 linux/amd64 linux/arm64; do
	os="${target%/*}" arch="${target#*/}"
	exe=erpbridge
	[ "$os" = windows ] && exe=erpbridge.exe
	out="$dist/erpbridge_${os}_${arch}/$exe"
	echo "building $out"
	CGO_ENABLED=0 GOOS="$os" GOARCH="$arch" go build -trimpath -ldflags "$ldflags" -o "$out" ./cmd/erpbridge
done

# --- Authenticode -------------------------------------------------------------
passfile=""
if [ -n "${ERPBRIDGE_SIGN_PKCS12:-}" ]; then
	passfile="$tmp/pass"
	(umask 077 && printf '%s' "${ERPBRIDGE_SIGN_PASSWORD:-}" >"$passfile")
fi
sign() {
	[ -n "$passfile" ] || return 0
	local ts=()
	[ -n "${ERPBRIDGE_SIGN_TIMESTAMP_URL:-}" ] && ts=(-ts "$ERPBRIDGE_SIGN_TIMESTAMP_URL")
	osslsigncode sign -pkcs12 "$ERPBRIDGE_SIGN_PKCS12" -readpass "$passfile" -h sha256 \
		-n erpbridge -i https://github.com/erpbridge/erpbridge "${ts[@]}" \
		-in "$1" -out "$1.signed" >/dev/null || die "signing $1 failed"
	mv "$1.signed" "$1"
	echo "signed $1"
}
if [ -z "$passfile" ]; then
	echo "not signing: ERPBRIDGE_SIGN_PKCS12 is not set"
fi
sign "$dist/erpbridge_windows_amd64/erpbridge.exe"

# --- MSI ----------------------------------------------------------------------
msi="$dist/erpbridge-$pkg_version-x64.msi"
echo "building $msi"
"$here/msi.sh" "$msi" "$msi_version" "$dist/erpbridge_windows_amd64/erpbridge.exe" installer/packaging/erpbridge.toml
sign "$msi"

# --- .deb and .rpm ------------------------------------------------------------
maintainer="${PKG_MAINTAINER:-erpbridge maintainers <maintainers@erpbridge.example>}"
pkg_release=1 # the packaging's own revision: -1 in erpbridge_1.2.3-1_amd64.deb
env -u GOOS -u GOARCH go run ./installer/packaging/unitgen >"$dist/erpbridge.service"
# the maintainer scripts, with the service account (scripts/account.sh) put in
for script in deb/postinst deb/prerm deb/postrm rpm/postinstall.sh rpm/preremove.sh rpm/postremove.sh; do
	mkdir -p "$dist/scripts/${script%/*}"
	sed -e "/^# @account@\$/{r $here/scripts/account.sh" -e 'd}' "$here/scripts/$script" >"$dist/scripts/$script"
	chmod 0755 "$dist/scripts/$script"
done
# the changelog (chglog format): one entry, this build, with the package's
# full version (Debian checks it against the package's)
cat >"$dist/changelog.yml" <<EOF
- semver: "$pkg_version-$pkg_release"
  date: "$date"
  packager: "$maintainer"
  deb:
    urgency: medium
    distributions: [stable]
  changes:
    - note: "erpbridge $version (commit ${commit:0:12})"
EOF
nfpm="${NFPM:-}"
if [ -z "$nfpm" ]; then
	echo "building nfpm ($nfpm_module)"
	env -u GOOS -u GOARCH GOBIN="$tmp/bin" go install "$nfpm_module"
	nfpm="$tmp/bin/nfpm"
fi
for arch in amd64 arm64; do
	for packager in deb rpm; do
		GOARCH="$arch" PKG_VERSION="$pkg_version" PKG_RELEASE="$pkg_release" PKG_MAINTAINER="$maintainer" \
			"$nfpm" package -f "$here/nfpm.yaml" -p "$packager" -t "$dist/" | sed 's/^/  /'
	done
done

(cd "$dist" && sha256sum -- *.msi *.deb *.rpm erpbridge_*/erpbridge* >SHA256SUMS)
echo "artefacts in $dist:"
(cd "$dist" && ls -l -- *.msi *.deb *.rpm erpbridge_*/* | awk '{print "  " $5 "\t" $NF}')
