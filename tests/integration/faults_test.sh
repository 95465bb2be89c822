#!/bin/sh
# Faults integration test: faults_driver runs every fault type on
# video_drop's network and checks each one itself (see faults_driver.c).
# Usage: faults_test.sh DRIVER SOURCE_DIR
set -u
DIR=$(mktemp -d /tmp/simrun-faults-it-XXXXXX)
"$1" "$2/scenarios/video_drop.toml" "$DIR/run"
rc=$?
if [ "$rc" = 0 ] || [ "$rc" = 77 ]; then
    rm -rf "$DIR"
else
    echo "faults_driver failed ($rc); files kept in $DIR"
fi
exit "$rc"
