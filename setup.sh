#!/bin/sh
# simrun set-up for Debian 12, run as root:
#   sh setup.sh          install the packages simrun needs, build it into
#                        build/, and start Open vSwitch if it is not running
#   sh setup.sh --test   the same, then the whole test suite, then the unit
#                        tests again in a second build with ASan + UBSan
# Safe to run again: it installs only what is missing and rebuilds only what
# changed.
set -eu

cd "$(dirname "$0")"
ROOT=$(pwd)
JOBS=$(nproc 2>/dev/null || echo 2)

# Build tools and libraries, the emulation (Mininet, Open vSwitch, os-ken and
# what the embedded controller's REST server uses), the reference diagnoser's
# scikit-learn, Graphviz's library for the report's topology, and the real
# clients the tests talk to our servers with (kcat reads the Kafka topics
# back; Chromium opens the report headless; tcpdump and tshark judge the
# packet captures; groff and man-db show the man page; pandas runs the
# README's grouped-split example in the campaign test; the remote test runs
# its own OpenSSH server on 127.0.0.1).
PACKAGES="build-essential cmake pkg-config
libigraph-dev libjansson-dev libcurl4-openssl-dev libpcap-dev libssh2-1-dev
libcmocka-dev libssl-dev librdkafka-dev kcat python3-sklearn python3-pandas libgraphviz-dev
chromium
slurmctld slurmd slurm-client munge
mininet openvswitch-switch python3-os-ken python3-eventlet python3-webob
python3-routes
ethtool iproute2 iputils-ping curl graphviz ffmpeg groff-base man-db tcpdump tshark
python3-jsonschema clang libclang-rt-14-dev openssh-server openssh-client"

say() { printf 'setup: %s\n' "$*" >&2; }

if [ "$(id -u)" != 0 ]; then
    say "run me as root (I install packages and start Open vSwitch)"
    exit 2
fi

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
if [ -n "$missing" ]; then
    say "installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    # A fresh machine has no package lists yet; update once, then install.
    if ! apt-get install -y -q --no-install-recommends $missing >/dev/null 2>&1; then
        apt-get update -q >/dev/null
        apt-get install -y -q --no-install-recommends $missing >/dev/null
    fi
fi

# Open vSwitch: the userspace datapath needs only ovsdb-server and
# ovs-vswitchd (there is no kernel module on these machines).
if ! ovs-vsctl --timeout=5 show >/dev/null 2>&1; then
    say "starting Open vSwitch"
    /usr/share/openvswitch/scripts/ovs-ctl start --system-id=random >/dev/null 2>&1 || true
    if ! ovs-vsctl --timeout=5 show >/dev/null 2>&1; then
        say "Open vSwitch did not start; see /var/log/openvswitch/"
        exit 1
    fi
fi

# Warnings are errors when the tests run (ours and CI's builds), not for a
# user's build.
WERROR=OFF
[ "${1:-}" = "--test" ] && WERROR=ON
say "building in build/"
cmake -S "$ROOT" -B "$ROOT/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DSIMRUN_WERROR="$WERROR" >/dev/null
cmake --build "$ROOT/build" -j "$JOBS" >/dev/null

if [ "${1:-}" = "--test" ]; then
    # The integration tests need the machine to themselves: a network an
    # earlier run left behind would make them fail for its sake.
    if [ -e /run/simrun/state.json ]; then
        say "removing what an earlier run left (simrun clean)"
        "$ROOT/build/bin/simrun" clean || exit 1
    fi
    say "running the test suite"
    ctest --test-dir "$ROOT/build" --output-on-failure -j "$JOBS"
    say "running the unit tests with ASan + UBSan (build-asan/)"
    cmake -S "$ROOT" -B "$ROOT/build-asan" -DCMAKE_BUILD_TYPE=Debug \
        -DSIMRUN_SANITIZE=ON -DSIMRUN_WERROR=ON >/dev/null
    cmake --build "$ROOT/build-asan" -j "$JOBS" >/dev/null
    ctest --test-dir "$ROOT/build-asan" --output-on-failure -j "$JOBS" -L unit
    say "fuzzing the parsers for ${SIMRUN_FUZZ_SECONDS:-60} s each (build-fuzz/)"
    sh "$ROOT/tests/fuzz/run" "${SIMRUN_FUZZ_SECONDS:-60}"
elif [ -n "${1:-}" ]; then
    say "unknown option '$1' (use --test or nothing)"
    exit 2
fi
say "ready: build/bin/simrun"
