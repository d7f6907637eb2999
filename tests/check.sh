#!/bin/sh
# ipad's whole test suite, as CI runs it:
#   1. install the build and test dependencies (tests/install-deps.sh),
#   2. ./autogen.sh,
#   3. build/       : ../configure --enable-werror, make, make check (cmocka),
#   4. build-asan/  : ../configure --enable-werror --enable-sanitizers, make,
#                     make check,
#   5. the end-to-end suite (pytest, tests/e2e) against build-asan/src/ipad,
#      inside a private mount namespace (the tests run their own journald),
#   6. the packaging checks (tests/package.sh build: manual pages, the unit's
#      security score, make distcheck, .deb build/lintian/install/purge,
#      .rpm smoke build),
#   7. the .deb under a real systemd (pytest tests/systemd): a Debian 12
#      booted with systemd-nspawn installs it, starts ipad.service against
#      the demo environment, reloads and stops it, reads the journal
#      (skips, with the reason, where that cannot run; IPAD_TEST_ROOTFS
#      caches the debootstrap tree, see the test's docstring),
# and ends with exactly one line "N passed, N failed[, N skipped]".
# Exit status: 0 only when nothing failed and every suite ran.
#
# Environment: JOBS (make -j, default 2), PYTEST_ARGS (extra pytest arguments,
# e.g. "-k dry_run"), SKIP_DEPS=1 (do not run install-deps.sh).
set -u

cd "$(dirname "$0")/.." || exit 1
ROOT=$(pwd)
JOBS=${JOBS:-2}
PY=/usr/bin/python3
PASSED=0
FAILED=0
SKIPPED=0
BROKEN=""          # suites or steps that did not run to completion

say() { printf '== %s\n' "$*" >&2; }
broken() {
    say "FAILED: $*"
    BROKEN="$BROKEN
  $*"
}
show_tail() {  # show_tail LOG: the end of a log, so CI output tells why
    [ -f "$1" ] && { echo "---- last lines of $1" >&2; tail -n 60 "$1" >&2; echo "----" >&2; }
}

# -- 1. dependencies -------------------------------------------------------------
if [ "${SKIP_DEPS:-0}" != 1 ]; then
    say "dependencies"
    tests/install-deps.sh || broken "tests/install-deps.sh"
fi

# -- 2. autotools ----------------------------------------------------------------
say "autogen"
if ! ./autogen.sh >autogen.log 2>&1; then
    show_tail autogen.log
    broken "./autogen.sh"
fi
rm -f autogen.log

# -- 3./4. builds and unit tests ----------------------------------------------------
# unit_counts DIR: add the cmocka counts of DIR's unit test logs.
unit_counts() {
    dir=$1
    n_trs=0
    for trs in "$dir"/tests/unit/*.trs; do
        [ -f "$trs" ] || continue
        n_trs=$((n_trs + 1))
        log=${trs%.trs}.log
        p=$(sed -n 's/^\[  PASSED  \] \([0-9][0-9]*\) test.*/\1/p' "$log" 2>/dev/null | awk '{s+=$1} END {print s+0}')
        f=$(sed -n 's/^\[  FAILED  \] \([0-9][0-9]*\) test.*/\1/p' "$log" 2>/dev/null | awk '{s+=$1} END {print s+0}')
        s=$(sed -n 's/^\[  SKIPPED \] \([0-9][0-9]*\) test.*/\1/p' "$log" 2>/dev/null | awk '{s+=$1} END {print s+0}')
        result=$(sed -n 's/^:test-result: //p' "$trs" | head -n 1)
        case $result in
            FAIL|ERROR|XPASS)
                # crashed, leaked (ASan) or failed outside a cmocka test
                if [ "$f" -eq 0 ]; then f=1; fi
                show_tail "$log" ;;
            SKIP)
                if [ "$p" -eq 0 ] && [ "$s" -eq 0 ]; then s=1; fi ;;
        esac
        PASSED=$((PASSED + p)); FAILED=$((FAILED + f)); SKIPPED=$((SKIPPED + s))
        echo "   $(basename "${trs%.trs}"): $p passed, $f failed, $s skipped ($result)" >&2
    done
    if [ "$n_trs" -eq 0 ]; then
        broken "$dir: no unit test ran"
    fi
}

build_and_check() {
    dir=$1; shift
    say "$dir: configure $*"
    mkdir -p "$dir"
    rm -f "$dir"/tests/unit/*.log "$dir"/tests/unit/*.trs
    if ! (cd "$dir" && ../configure "$@") >"$dir/configure.log" 2>&1; then
        show_tail "$dir/configure.log"
        broken "$dir: configure"
        return
    fi
    say "$dir: make -j$JOBS"
    if ! make -C "$dir" -j"$JOBS" >"$dir/make.log" 2>&1; then
        show_tail "$dir/make.log"
        broken "$dir: make (warnings are errors)"
        return
    fi
    say "$dir: make check"
    check_rc=0
    make -C "$dir" -j"$JOBS" check >"$dir/check.log" 2>&1 || check_rc=$?
    failed_before=$FAILED
    unit_counts "$dir"
    if [ "$check_rc" -ne 0 ] && [ "$FAILED" -eq "$failed_before" ]; then
        show_tail "$dir/check.log"
        broken "$dir: make check failed outside the unit tests (see $dir/check.log)"
    fi
}

# Sanitizer settings for everything below (unit tests of the plain build ignore them).
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export ASAN_OPTIONS UBSAN_OPTIONS

build_and_check build --enable-werror
build_and_check build-asan --enable-werror --enable-sanitizers

# -- 5. end to end -------------------------------------------------------------------
say "e2e: pytest tests/e2e against build-asan/src/ipad"
JUNIT=$ROOT/build-asan/e2e-junit.xml
rm -f "$JUNIT"
mkdir -p build-asan
IPAD_BIN=$ROOT/build-asan/src/ipad
export IPAD_BIN
PYTHONDONTWRITEBYTECODE=1
export PYTHONDONTWRITEBYTECODE
set -- "$PY" -m pytest -p no:cacheprovider -q -rfEs --junitxml="$JUNIT" tests/e2e
# shellcheck disable=SC2086
set -- "$@" ${PYTEST_ARGS:-}
if [ "$(id -u)" = 0 ] && unshare --mount --propagation private true 2>/dev/null; then
    unshare --mount --propagation private "$@"
else
    say "e2e: no private mount namespace (not root?): journald tests will skip"
    "$@"
fi
# junit_counts NAME FILE: add the counts of a pytest junit file to the totals
junit_counts() {
    if [ ! -f "$2" ]; then
        broken "$1: pytest did not run (no $2)"
        return
    fi
    counts=$("$PY" - "$2" <<'EOF'
import sys
import xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
t = f = e = s = 0
for su in suites:
    t += int(su.get("tests", 0)); f += int(su.get("failures", 0))
    e += int(su.get("errors", 0)); s += int(su.get("skipped", 0))
print(t - f - e - s, f + e, s)
EOF
    )
    if [ -n "$counts" ]; then
        set -- "$1" $counts
        say "$1: $2 passed, $3 failed, $4 skipped"
        PASSED=$((PASSED + $2)); FAILED=$((FAILED + $3)); SKIPPED=$((SKIPPED + $4))
        [ $(($2 + $3 + $4)) -gt 0 ] || broken "$1: no test collected"
    else
        broken "$1: unreadable $2"
    fi
}
junit_counts e2e "$JUNIT"

# -- 6. packaging ---------------------------------------------------------------------
# tests/package.sh: man pages, the unit's security score, the catalog,
# make distcheck, the .deb (lintian, install, purge), the .rpm smoke build;
# one "PASS/FAIL/SKIP name" line per check.
say "packaging: tests/package.sh build"
tests/package.sh build >build/package.out 2>build/package.err
pkg_rc=$?
p=$(grep -c '^PASS ' build/package.out); f=$(grep -c '^FAIL ' build/package.out)
s=$(grep -c '^SKIP ' build/package.out)
grep -E '^(FAIL|SKIP) ' build/package.out >&2
[ "$f" -gt 0 ] && tail -n 60 build/package.err >&2
say "packaging: $p passed, $f failed, $s skipped"
PASSED=$((PASSED + p)); FAILED=$((FAILED + f)); SKIPPED=$((SKIPPED + s))
if [ "$pkg_rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    tail -n 60 build/package.err >&2
    broken "tests/package.sh exited $pkg_rc without a failed check"
fi

# -- 7. the .deb under a real systemd ------------------------------------------------------
# tests/systemd boots a Debian 12 (debootstrap tree, cached) with systemd-nspawn
# and runs the shipped unit from the .deb that tests/package.sh just built.
say "systemd: pytest tests/systemd (the .deb in a booted Debian 12)"
JUNIT=$ROOT/build/systemd-junit.xml
rm -f "$JUNIT"
IPAD_DEB=$(ls build/package/deb/ipad_*.deb 2>/dev/null | grep -v dbgsym | head -n 1)
IPAD_TEST_LOG=$ROOT/build/systemd-unit-test.log
export IPAD_DEB IPAD_TEST_LOG
"$PY" -m pytest -p no:cacheprovider -q -rfEs --junitxml="$JUNIT" tests/systemd \
    >build/systemd.out 2>&1
tail -n 25 build/systemd.out >&2
[ -f "$IPAD_TEST_LOG" ] && sed 's/^/   /' "$IPAD_TEST_LOG" >&2
junit_counts systemd "$JUNIT"

# -- summary ---------------------------------------------------------------------------
if [ -n "$BROKEN" ]; then
    printf '== these did not run to completion:%s\n' "$BROKEN" >&2
    # a suite that did not run counts as a failure
    FAILED=$((FAILED + $(printf '%s\n' "$BROKEN" | grep -c .)))
fi
if [ "$SKIPPED" -gt 0 ]; then
    echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
else
    echo "$PASSED passed, $FAILED failed"
fi
[ "$FAILED" -eq 0 ] && [ -z "$BROKEN" ]
