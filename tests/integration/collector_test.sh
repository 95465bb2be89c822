#!/bin/sh
# Collector integration test: collector_driver brings up a real network and
# collects; collector_check.py checks what it wrote.
# Usage: collector_test.sh DRIVER SOURCE_DIR
set -u
DIR=$(mktemp -d /tmp/simrun-col-it-XXXXXX)
"$1" "$2/scenarios/video_drop.toml" "$DIR/run"
rc=$?
if [ "$rc" = 77 ]; then
    rm -rf "$DIR"
    exit 77
fi
if [ "$rc" != 0 ]; then
    echo "collector_driver failed ($rc); files kept in $DIR"
    exit 1
fi
if /usr/bin/python3 "$2/tests/integration/collector_check.py" "$DIR/run"; then
    rm -rf "$DIR"
    exit 0
fi
echo "files kept in $DIR"
exit 1
