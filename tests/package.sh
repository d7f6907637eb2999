#!/bin/sh
# The packaging checks of ipad, as CI runs them (a stage of tests/check.sh):
#   man-lint        mandoc -T lint -W warning on every manual page
#   unit-security   systemd-analyze security --offline=yes scores the unit
#                   at most $SECURITY_MAX (2.0)
#   catalog         journalctl reads systemd/ipad.catalog: every MESSAGE_ID
#                   of src/journal.h has an entry
#   distcheck       make distcheck: the release tarball builds, passes
#                   make check, installs and uninstalls from scratch
#   deb-build       the release tarball builds a .deb with
#                   packaging/debian (nocheck: the unit tests ran already)
#   deb-lintian     lintian has no error or warning
#   deb-install     dpkg -i; the files landed; the unit is enabled, the
#                   system user exists, /etc/ipad/ipad.conf is a conffile;
#                   ipad --version and ipad --check-config (as user ipad)
#                   from the installed paths; journalctl -x knows the records
#   deb-purge       dpkg --purge leaves none of it behind
#   rpm-build       rpmbuild (Debian's: a smoke test) builds the .rpm from
#                   the tarball with packaging/rpm/ipad.spec
#   rpm-scriptlets  no scriptlet holds an unexpanded %macro
# Each check prints one line "PASS name", "FAIL name: why" or "SKIP name:
# why" on stdout; details go to stderr. Exit status 0 when none failed.
#
# Usage: tests/package.sh BUILDDIR  (a configured build tree; the work is
# done in BUILDDIR/package). Installing the .deb needs root and a machine
# you may change: set PACKAGE_INSTALL=0 to skip it.
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:?usage: tests/package.sh BUILDDIR}" && pwd)
WORK=$BUILD/package
SECURITY_MAX=${SECURITY_MAX:-2.0}
FAILED=0
export LC_ALL=C.UTF-8

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; FAILED=$((FAILED + 1)); }
skip() { echo "SKIP $1: $2"; }
log() { printf '   %s\n' "$*" >&2; }
# run LOG CMD...: run CMD with its output in LOG; on failure show its end
run() {
    out=$1; shift
    if "$@" >"$out" 2>&1; then return 0; fi
    echo "---- $* failed; last lines of $out" >&2
    tail -n 40 "$out" >&2
    return 1
}

rm -rf "$WORK"
mkdir -p "$WORK"

# -- manual pages ------------------------------------------------------------------
bad=""
for m in "$ROOT"/man/*.[1-9]; do
    out=$(mandoc -T lint -W warning "$m" 2>&1) || bad="$bad $(basename "$m")"
    [ -z "$out" ] || { bad="$bad $(basename "$m")"; echo "$out" >&2; }
done
if [ -z "$bad" ]; then pass man-lint; else fail man-lint "mandoc warnings in$bad"; fi

# -- the unit's exposure -----------------------------------------------------------
make -C "$BUILD" systemd/ipad.service >/dev/null 2>&1
score=$(systemd-analyze security --offline=yes "$BUILD/systemd/ipad.service" 2>&1 |
        sed -n 's/^→ Overall exposure level for ipad.service: \([0-9.]*\).*/\1/p')
if [ -z "$score" ]; then
    fail unit-security "systemd-analyze security gave no score"
elif awk -v s="$score" -v m="$SECURITY_MAX" 'BEGIN { exit !(s <= m) }'; then
    pass unit-security; log "exposure $score (at most $SECURITY_MAX)"
else
    fail unit-security "exposure $score, more than $SECURITY_MAX"
fi

# -- the message catalog -----------------------------------------------------------
# every MESSAGE_ID of journal.h must be explained
ids=$(sed -n 's/^#define IPAD_MESSAGE_[A-Z_]* *"\([0-9a-f]\{32\}\)"/\1/p' "$ROOT/src/journal.h")
croot=$WORK/catalog-root
mkdir -p "$croot/usr/lib/systemd/catalog"
cp "$ROOT/systemd/ipad.catalog" "$croot/usr/lib/systemd/catalog/"
if run "$WORK/catalog.log" journalctl --root="$croot" --update-catalog; then
    journalctl --root="$croot" --list-catalog >"$WORK/catalog.list" 2>&1
    missing=""
    for id in $ids; do
        grep -q "^$id ipad" "$WORK/catalog.list" || missing="$missing $id"
    done
    if [ -z "$ids" ]; then fail catalog "no MESSAGE_ID found in src/journal.h"
    elif [ -n "$missing" ]; then fail catalog "no catalog entry for$missing"
    else pass catalog; fi
else
    fail catalog "journalctl --update-catalog rejected systemd/ipad.catalog"
fi

# -- the release tarball: builds, passes make check and installs from scratch --------
version=$(sed -n 's/^PACKAGE_VERSION = //p' "$BUILD/Makefile")
tarball=$BUILD/ipad-$version.tar.gz
rm -f "$tarball"
if run "$WORK/distcheck.log" make -C "$BUILD" -j"${JOBS:-2}" distcheck; then
    pass distcheck
else
    fail distcheck "make distcheck failed (see $WORK/distcheck.log)"
    run "$WORK/dist.log" make -C "$BUILD" dist
fi
if [ ! -f "$tarball" ]; then
    fail deb-build "no release tarball"; fail rpm-build "no release tarball"
    echo "packaging: $FAILED failed" >&2
    exit 1
fi

# -- Debian ---------------------------------------------------------------------------
deb=""
mkdir -p "$WORK/deb"
cp "$tarball" "$WORK/deb/ipad_$version.orig.tar.gz"
tar -xzf "$tarball" -C "$WORK/deb"
src=$WORK/deb/ipad-$version
cp -r "$src/packaging/debian" "$src/debian"
if (cd "$src" && DEB_BUILD_OPTIONS="nocheck parallel=2" \
        run "$WORK/deb-build.log" dpkg-buildpackage -us -uc -b); then
    deb=$(ls "$WORK"/deb/ipad_"$version"-*_*.deb 2>/dev/null | head -n 1)
fi
if [ -n "$deb" ]; then pass deb-build; log "$(basename "$deb")"; else fail deb-build "no .deb"; fi

if [ -n "$deb" ]; then
    lintian --fail-on error,warning --suppress-tags-from-file /dev/null \
        "$WORK"/deb/ipad_"$version"-*.changes >"$WORK/lintian.log" 2>&1
    rc=$?
    if [ "$rc" -eq 0 ]; then pass deb-lintian
    else cat "$WORK/lintian.log" >&2; fail deb-lintian "lintian: $(grep -c '^[EW]:' "$WORK/lintian.log") error(s)/warning(s)"; fi
fi

# deb_installed_check: what must be there after dpkg -i (prints a reason on failure)
deb_installed_check() {
    for f in /usr/sbin/ipad /lib/systemd/system/ipad.service \
             /usr/lib/sysusers.d/ipad.conf /usr/lib/systemd/catalog/ipad.catalog \
             /usr/share/man/man8/ipad.8.gz /usr/share/man/man5/ipad.conf.5.gz \
             /usr/share/man/man5/ipad.ipa.5.gz /etc/ipad/ipad.conf \
             /usr/share/ipad/examples/example.yaml; do
        [ -e "$f" ] || { echo "$f is missing"; return 1; }
    done
    [ -d /etc/ipad/ipa.d ] && [ -d /etc/ipad/credentials ] ||
        { echo "/etc/ipad/ipa.d or /etc/ipad/credentials is missing"; return 1; }
    dpkg-query -W -f='${Conffiles}\n' ipad | grep -q ' /etc/ipad/ipad.conf ' ||
        { echo "/etc/ipad/ipad.conf is not a conffile"; return 1; }
    getent passwd ipad >/dev/null || { echo "no system user ipad"; return 1; }
    [ -L /etc/systemd/system/multi-user.target.wants/ipad.service ] ||
        { echo "ipad.service was not enabled by the postinst"; return 1; }
    v=$(/usr/sbin/ipad --version) && [ "$v" = "ipad $version" ] ||
        { echo "ipad --version said \"$v\""; return 1; }
    # a configuration as a user would write it: the shipped ipad.conf, a
    # kubeconfig where it points, the shipped example as a target
    cat >/etc/ipad/kubeconfig <<'EOF'
apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
EOF
    chgrp ipad /etc/ipad/kubeconfig && chmod 0640 /etc/ipad/kubeconfig
    cp /usr/share/ipad/examples/example.yaml /etc/ipad/ipa.d/
    out=$(runuser -u ipad -- /usr/sbin/ipad --check-config 2>&1)
    rc=$?
    rm -f /etc/ipad/kubeconfig /etc/ipad/ipa.d/example.yaml
    [ "$rc" -eq 0 ] || { echo "ipad --check-config as ipad exited $rc: $out"; return 1; }
    case $out in *" cluster, advisor "*) ;; *) echo "ipad --check-config said: $out"; return 1;; esac
    log "ipad --check-config: $out"
    journalctl --list-catalog 2>/dev/null | grep -q '^c1166194fd7a4538b12ea45c58fa659e ipad' ||
        { echo "journalctl --list-catalog does not know the decision record"; return 1; }
    return 0
}

deb_purged_check() {
    for f in /usr/sbin/ipad /lib/systemd/system/ipad.service /usr/lib/sysusers.d/ipad.conf \
             /usr/lib/systemd/catalog/ipad.catalog /etc/ipad \
             /etc/systemd/system/multi-user.target.wants/ipad.service; do
        [ ! -e "$f" ] || { echo "$f is still there"; return 1; }
    done
    ! dpkg-query -W -f='${Status}' ipad 2>/dev/null | grep -q installed ||
        { echo "dpkg still lists ipad"; return 1; }
}

if [ -z "$deb" ]; then
    :
elif [ "${PACKAGE_INSTALL:-1}" = 0 ] || [ "$(id -u)" != 0 ]; then
    skip deb-install "not root or PACKAGE_INSTALL=0"; skip deb-purge "not installed"
elif dpkg-query -W -f='${Status}' ipad 2>/dev/null | grep -q 'install ok'; then
    skip deb-install "an ipad package is installed on this machine already"
    skip deb-purge "not ours to remove"
else
    if run "$WORK/deb-install.log" dpkg -i "$deb"; then
        if why=$(deb_installed_check); then pass deb-install; else fail deb-install "$why"; fi
    else
        fail deb-install "dpkg -i failed"
    fi
    if run "$WORK/deb-purge.log" dpkg --purge ipad; then
        if why=$(deb_purged_check); then pass deb-purge; else fail deb-purge "$why"; fi
    else
        fail deb-purge "dpkg --purge failed"
    fi
fi

# -- RPM (smoke test with Debian's rpmbuild) -------------------------------------------------
# unexpanded_macros FILE: the lines of FILE that still hold a %macro
unexpanded_macros() { grep -nE '%(\{|\(|[A-Za-z_])' "$1"; }
# the check itself must see what an undefined macro leaves behind
printf 'postinstall scriptlet (using /bin/sh):\n%%systemd_post ipad.service\n' >"$WORK/selftest"
if ! unexpanded_macros "$WORK/selftest" >/dev/null; then
    fail rpm-scriptlets "the unexpanded-macro check does not see %systemd_post"
fi
top=$WORK/rpmbuild
mkdir -p "$top/SOURCES"
cp "$tarball" "$top/SOURCES/"
cp "$ROOT/systemd/ipad.sysusers" "$top/SOURCES/"
tar -xzf "$tarball" -C "$WORK" "ipad-$version/packaging/rpm"
spec=$WORK/ipad-$version/packaging/rpm/ipad.spec
rpm=""
if run "$WORK/rpm-build.log" rpmbuild --nodeps --nocheck \
        --load "$ROOT/packaging/rpm/smoke-macros" --define "_topdir $top" -bb "$spec"; then
    rpm=$(ls "$top"/RPMS/*/ipad-"$version"-*.rpm 2>/dev/null | head -n 1)
fi
if [ -n "$rpm" ]; then pass rpm-build; log "$(basename "$rpm")"; else fail rpm-build "no .rpm"; fi
if [ -n "$rpm" ]; then
    rpm -qp --scripts "$rpm" >"$WORK/rpm-scripts.txt" 2>&1
    if lines=$(unexpanded_macros "$WORK/rpm-scripts.txt"); then
        fail rpm-scriptlets "unexpanded macros: $(echo "$lines" | head -n 3 | tr '\n' ' ')"
    elif ! grep -q 'systemd-update-helper' "$WORK/rpm-scripts.txt" ||
         ! grep -q 'systemd-sysusers' "$WORK/rpm-scripts.txt"; then
        fail rpm-scriptlets "no systemd or sysusers scriptlet"
    else
        pass rpm-scriptlets
    fi
fi

echo "packaging: $FAILED failed" >&2
[ "$FAILED" -eq 0 ]
