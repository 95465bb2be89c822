#!/bin/sh
# Faults integration test: faults_driver runs every fault type on
# video_drop's network and checks each one itself (see faults_driver.c).
# Usage: faults_test.sh DRIVER SOURCE_DIR
set -u
DIR=$(mktemp -d /tmp/simrun-faults-it-XXXXXX)
# Every message of every fault type, checked against docs/protocols/.
SIMRUN_PROTOCOL_TRACE="$DIR/trace.jsonl" "$1" "$2/scenarios/video_drop.toml" "$DIR/run"
rc=$?
if [ "$rc" = 0 ]; then
    /usr/bin/python3 "$2/tests/protocols_check.py" "$2/docs/protocols" "$DIR/trace.jsonl" \
        "$DIR/run" || rc=1
fi
if [ "$rc" = 0 ] || [ "$rc" = 77 ]; then
    rm -rf "$DIR"
else
    echo "faults_driver failed ($rc); files kept in $DIR"
fi
exit "$rc"
