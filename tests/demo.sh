#!/bin/sh
# The README's first quick-start command: install what is needed, build ipad,
# and run it against the bundled demo environment on 127.0.0.1 (a Kubernetes
# API simulator with the Deployment shop/web, a real Prometheus, a day of the
# NASA-HTTP 1995 trace replayed with compressed time).
#
#   tests/demo.sh [--advisor ipa-agent] [--hours 16] [--speedup 240] [--start ...]
#
# Arguments go to tests/sim/demo.py; see its --help.
set -eu
cd "$(dirname "$0")/.."
tests/install-deps.sh
if [ ! -x build/src/ipad ] || [ configure.ac -nt build/Makefile ]; then
    ./autogen.sh >/dev/null 2>&1
    mkdir -p build
    (cd build && ../configure --quiet)
fi
echo "demo: building ipad (build/make.log)"
make -C build -j2 src/ipad >build/make.log 2>&1 || { tail -30 build/make.log; exit 1; }
exec /usr/bin/python3 tests/sim/demo.py --ipad build/src/ipad "$@"
