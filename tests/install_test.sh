#!/bin/sh
# cmake --install puts simrun, simtraffic, the scenarios, the controller app,
# the reference diagnoser, the man page and the documentation under a
# prefix, and simrun works from there, far from the source and build trees.
# With --run (root, Open vSwitch) the installed simrun also runs a short
# scenario: its traffic agents are the installed simtraffic.
BUILD=${1:?usage: install_test.sh BUILDDIR [--run]}
RUN=${2:-}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
passed=0 failed=0
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL $1"; }
check() { # check DESCRIPTION COMMAND...
    what=$1; shift
    if "$@" > "$TMP/out" 2>&1; then ok; else bad "$what: $(head -c 400 "$TMP/out")"; fi
}

P=$TMP/prefix
check "cmake --install" cmake --install "$BUILD" --prefix "$P"
for f in bin/simrun bin/simtraffic share/simrun/diagnoser/serve.py \
         share/simrun/diagnoser/train.py; do
    if [ -x "$P/$f" ]; then ok; else bad "$f is not installed as a program"; fi
done
for f in share/simrun/scenarios/video_drop.toml share/simrun/scenarios/thesis.toml \
         share/simrun/controller/simrun_controller.py share/man/man1/simrun.1 \
         share/doc/simrun/README.md share/doc/simrun/scenarios.md \
         share/doc/simrun/report.png share/doc/simrun/protocols/diagnoser-window.schema.json \
         share/simrun/diagnoser/models/reference.json \
         share/simrun/diagnoser/simrun_diagnoser/forest.py; do
    if [ -s "$P/$f" ]; then ok; else bad "$f is not installed"; fi
done
if find "$P" -name '__pycache__' -o -name '*.pyc' | grep -q .; then
    bad "compiled Python was installed"
else ok; fi

# From elsewhere, with nothing of the build tree on the way.
cd "$TMP" || exit 1
check "installed simrun --version" "$P/bin/simrun" --version
check "installed simrun check" "$P/bin/simrun" check "$P/share/simrun/scenarios/"*.toml
check "installed simrun plan" "$P/bin/simrun" plan "$P/share/simrun/scenarios/video_drop.toml"
grep -q "drop_service" "$TMP/out" && ok || bad "plan does not show video_drop's fault"
check "installed simtraffic --help" sh -c "'$P/bin/simtraffic' --help 2>&1 | grep -q -- --plan"
check "installed man page" sh -c "MANWIDTH=80 man -l '$P/share/man/man1/simrun.1' | grep -q 'simrun report'"
check "manpath finds the page" sh -c "MANPATH='$P/share/man' man -w simrun | grep -q '$P'"
check "installed controller app parses" /usr/bin/python3 -c \
    "import ast,sys; ast.parse(open(sys.argv[1]).read())" \
    "$P/share/simrun/controller/simrun_controller.py"
check "installed diagnoser runs" env PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 \
    "$P/share/simrun/diagnoser/serve.py" --help

if [ "$RUN" = "--run" ]; then
    if [ "$(id -u)" != 0 ]; then echo "skipped: --run needs root"; exit 77; fi
    cat > "$TMP/installed.toml" <<'TOML'
name = "installed"
seed = 5
duration = "14s"
warmup = "4s"
[topology]
core = { switches = 4, m = 2 }
access = { networks = 1, switches = 2, m = 1, uplinks = 2, hosts = 3 }
datacenters = 1
[[fault]]
type = "drop_service"
service = "video"
at = "4s"
duration = "5s"
TOML
    check "installed simrun run" "$P/bin/simrun" run --quiet --out "$TMP/run" "$TMP/installed.toml"
    check "the run is complete" /usr/bin/python3 - "$TMP/run" <<'PY'
import json, sys
d = sys.argv[1]
m = json.load(open(d + "/manifest.json"))
assert m["status"] == "complete", m["status"]
assert m.get("traffic", {}).get("generated", True) is not False, m["traffic"]
records = [json.loads(l) for l in open(d + "/traffic.jsonl")]
services = {r["service"] for r in records}
assert {"video", "chat"} <= services, services
ev = [json.loads(l)["event"] for l in open(d + "/faults.jsonl")]
assert "verified" in ev and "reverted" in ev, ev
PY
fi

printf '%d passed, %d failed\n' "$passed" "$failed"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
