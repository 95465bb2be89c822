#!/bin/sh
# Command-line tests of simrun: exit codes, messages, and that real tools
# accept its outputs (Graphviz renders the DOT, Debian's Python compiles the
# Mininet script, JSON parses).  Usage: cli_test.sh SIMRUN SOURCE_DIR
set -u
SIMRUN=$1
SRC=$2
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT INT TERM
cd "$SRC" || exit 1
passed=0
failed=0

ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); printf 'FAIL: %s\n' "$*"; }

# expect STATUS DESCRIPTION COMMAND...: runs COMMAND, stdout to $TMP/out,
# stderr to $TMP/err, and checks its exit status.
expect() {
    want=$1; what=$2; shift 2
    "$@" >"$TMP/out" 2>"$TMP/err"
    got=$?
    if [ "$got" = "$want" ]; then ok; else bad "$what: exit $got, wanted $want: $(head -c 400 "$TMP/err")"; fi
}
has() { # has FILE PATTERN DESCRIPTION
    if grep -q -- "$2" "$1"; then ok; else bad "$3: no '$2' in $(head -c 400 "$1")"; fi
}

expect 0 "version" "$SIMRUN" --version
has "$TMP/out" "^simrun [0-9]" "version output"
expect 0 "help" "$SIMRUN" --help
has "$TMP/out" "usage: simrun" "help output"
expect 2 "no arguments" "$SIMRUN"
expect 2 "unknown command" "$SIMRUN" frobnicate
has "$TMP/err" "unknown command 'frobnicate'" "unknown command message"

expect 0 "check shipped scenarios" "$SIMRUN" check scenarios/*.toml
has "$TMP/out" "video_drop.toml: ok" "check output"
expect 2 "check a bad scenario" "$SIMRUN" check tests/data/scenarios/unknown-keys.toml
has "$TMP/err" "unknown-keys.toml:2:1: unknown key 'durtion'" "check message with position"
expect 2 "check good and bad" "$SIMRUN" check scenarios/video_drop.toml tests/data/scenarios/fault-timing.toml
has "$TMP/out" "video_drop.toml: ok" "good file still checked"
has "$TMP/err" "fault-timing.toml:22:12" "bad file reported"
expect 2 "check a missing file" "$SIMRUN" check /nonexistent.toml
has "$TMP/err" "cannot read '/nonexistent.toml'" "missing file message"

expect 0 "plan video_drop" "$SIMRUN" plan scenarios/video_drop.toml
busiest=$(sed -n 's/^  busiest core *\([a-z0-9]*\) .*/\1/p' "$TMP/out")
has "$TMP/out" "drop_service *$busiest (core:busiest) *service=video" "fault on the busiest core"
has "$TMP/out" "60.0s *105.0s" "fault times"
has "$TMP/out" "9 of 18 users stream 1500 kbit/s" "video mix"
expect 2 "plan with bad seed" "$SIMRUN" plan --seed abc scenarios/video_drop.toml
expect 2 "plan with two files" "$SIMRUN" plan scenarios/video_drop.toml scenarios/teaching_lab.toml

expect 0 "topo json" "$SIMRUN" topo scenarios/video_drop.toml
cp "$TMP/out" "$TMP/a.json"
expect 0 "topo json again" "$SIMRUN" topo --format json scenarios/video_drop.toml
if cmp -s "$TMP/out" "$TMP/a.json"; then ok; else bad "same seed gave different JSON"; fi
expect 0 "topo json other seed" "$SIMRUN" topo --seed 8 scenarios/video_drop.toml
if cmp -s "$TMP/out" "$TMP/a.json"; then bad "another seed gave the same JSON"; else ok; fi
expect 0 "topology JSON shape" /usr/bin/python3 -c '
import json, sys
t = json.load(open(sys.argv[1]))
assert t["seed"] == 7 and t["name"] == "video_drop"
assert len(t["switches"]) == 20 and len(t["hosts"]) == 24
assert all(set(s) >= {"name", "dpid", "role"} and len(s["dpid"]) == 16 for s in t["switches"])
assert all(set(h) >= {"name", "ip", "mac", "role", "switch"} for h in t["hosts"])
assert all(set(l) >= {"a", "b", "a_port", "b_port"} for l in t["links"])
' "$TMP/a.json"

expect 0 "topo dot" "$SIMRUN" topo --format dot --output "$TMP/t.dot" scenarios/video_drop.toml
if command -v dot >/dev/null 2>&1; then
    expect 0 "graphviz renders the DOT" dot -Tsvg -o "$TMP/t.svg" "$TMP/t.dot"
    has "$TMP/t.svg" "<svg" "SVG output"
else
    bad "graphviz 'dot' is not installed (setup.sh installs it)"
fi

expect 0 "topo mininet" "$SIMRUN" topo --format mininet --output "$TMP/net.py" scenarios/video_drop.toml
expect 0 "mininet script compiles" /usr/bin/python3 -m py_compile "$TMP/net.py"
expect 0 "mininet script matches the JSON" /usr/bin/python3 -c '
import json, sys, runpy
ns = runpy.run_path(sys.argv[1], run_name="not_main")
topo, t = ns["TOPOLOGY"], json.load(open(sys.argv[2]))
assert [s for s, _ in topo["switches"]] == [s["name"] for s in t["switches"]]
assert [d for _, d in topo["switches"]] == [s["dpid"] for s in t["switches"]]
assert [(h[0], h[1].split("/")[0], h[2]) for h in topo["hosts"]] == [(h["name"], h["ip"], h["mac"]) for h in t["hosts"]]
assert [(l[0], l[1], l[2], l[3]) for l in topo["links"]] == [(l["a"], l["a_port"], l["b"], l["b_port"]) for l in t["links"]]
assert topo["bw_mbps"] == 100
' "$TMP/net.py" "$TMP/a.json"
expect 2 "topo unknown format" "$SIMRUN" topo --format yaml scenarios/video_drop.toml
expect 1 "topo unwritable output" "$SIMRUN" topo --output /nonexistent/dir/x.json scenarios/video_drop.toml

expect 0 "plan the thesis campaign" "$SIMRUN" plan scenarios/thesis.toml
cp "$TMP/out" "$TMP/thesis1"
expect 0 "plan the thesis campaign again" "$SIMRUN" plan scenarios/thesis.toml
if cmp -s "$TMP/out" "$TMP/thesis1"; then ok; else bad "same seed gave another campaign"; fi
expect 0 "thesis campaign covers the eleven, balanced" /usr/bin/python3 -c '
import re, sys
line = [l for l in open(sys.argv[1]) if "episodes/type" in l][0]
counts = dict((k, int(v)) for k, v in re.findall(r"(\w+):(\d+)", line))
seed = ["heavy_streaming_host", "congestion", "link_down", "switch_down", "server_down",
        "flow_output_changed", "flow_inport_changed", "flow_idle_timeout", "flow_hard_timeout",
        "flows_deleted", "lldp_drop"]
assert sorted(counts) == sorted(seed), counts
assert max(counts.values()) - min(counts.values()) <= 1, counts
' "$TMP/thesis1"
# The plan refuses what the scenario alone allows (here a fault past a
# shortened end): a usage error with the place, not a crash.
expect 2 "run refuses a fault after a shortened end" "$SIMRUN" run --duration 2s scenarios/video_drop.toml
has "$TMP/err" "video_drop.toml:36:12: .*after the run ends" "the refusal names the place"
expect 0 "faults catalogue" "$SIMRUN" faults
has "$TMP/out" "lldp_drop *11" "catalogue lists seed ids"

# ---- hostile input: nothing from a scenario runs, any input gets an answer ----

# A file name with Python, shell and a newline: the name derived from it is
# refused, and nothing it holds is run (the marker files must not appear).
evil="x'+__import__('os').system('touch pwned-py')+'\$(touch pwned-sh)
.toml"
(cd "$TMP" && printf 'seed = 3\n' > "$evil")
expect 2 "a hostile file name is refused" "$SIMRUN" check "$TMP/$evil"
has "$TMP/err" "cannot name the run" "hostile name message"
if [ "$(wc -l < "$TMP/err")" -le 3 ]; then ok; else bad "the name's newline reached the output"; fi
(cd "$TMP" && "$SIMRUN" topo --format mininet "$evil" >/dev/null 2>&1)
if [ $? = 2 ]; then ok; else bad "a hostile file name was not refused by topo"; fi
if [ -e "$TMP/pwned-py" ] || [ -e "$TMP/pwned-sh" ]; then bad "a hostile file name ran code"; else ok; fi
# With a valid name the same characters elsewhere are escaped: the script
# compiles and its TOPOLOGY name is the literal text.
printf 'name = "ok-name"\ndescription = "\\u001b[31mred\\u001b[0m \\u0007 bell"\n' > "$TMP/esc.toml"
expect 0 "plan prints a description with terminal escapes" "$SIMRUN" plan "$TMP/esc.toml"
if grep -q "$(printf '\033')" "$TMP/out"; then bad "an escape sequence reached the terminal"; else ok; fi
has "$TMP/out" "?\[31mred?\[0m ? bell" "escapes shown as '?'"

# Scenario files are regular files of bounded size: /dev/zero, a FIFO with
# no writer and a directory get an answer at once.
expect 2 "check /dev/zero" "$SIMRUN" check /dev/zero
has "$TMP/err" "is not a regular file (a character device)" "device refused"
mkfifo "$TMP/fifo.toml"
expect 2 "check a FIFO" timeout 10 "$SIMRUN" check "$TMP/fifo.toml"
has "$TMP/err" "is not a regular file (a FIFO)" "FIFO refused without blocking"
head -c 2000000 /dev/zero | tr '\0' '#' > "$TMP/big.toml"
expect 2 "check a 2 MB file" "$SIMRUN" check "$TMP/big.toml"
has "$TMP/err" "over the limit of 1048576" "size limit named"
expect 2 "check a huge topology" "$SIMRUN" check tests/data/scenarios/too-big.toml
has "$TMP/err" "one machine runs at most 1000 switches and 2000 hosts" "topology limit named"

# The controller's password: only a private regular file, never sent over
# plain http to another machine without --insecure-credentials.
printf 'secret\n' > "$TMP/pw"
chmod 600 "$TMP/pw"
cat > "$TMP/ext.toml" <<EOT
name = "ext"
[controller]
kind = "odl"
url = "http://192.0.2.10:8181"
user = "admin"
password_file = "$TMP/pw"
EOT
expect 1 "credentials over plain http to another host are refused" "$SIMRUN" run "$TMP/ext.toml"
has "$TMP/err" "refusing to send the controller's credentials over plain http://" "insecure refusal"
if grep -q secret "$TMP/err"; then bad "the password reached stderr"; else ok; fi
chmod 644 "$TMP/pw"
expect 1 "a password file others can read is refused" "$SIMRUN" run --insecure-credentials "$TMP/ext.toml"
has "$TMP/err" "others can access it" "private file required"
sed -i "s|password_file = .*|password_file = \"/dev/zero\"|" "$TMP/ext.toml"
expect 1 "a device as password file is refused" "$SIMRUN" run --insecure-credentials "$TMP/ext.toml"
has "$TMP/err" "not a regular file" "password file must be regular"
expect 2 "ctl has no --password option" "$SIMRUN" ctl --password x switches
expect 2 "ctl refuses credentials over plain http" \
    env SIMRUN_CONTROLLER_PASSWORD=s3cr3t "$SIMRUN" ctl --url http://u@192.0.2.10:8080 switches
has "$TMP/err" "refusing to send credentials" "ctl insecure refusal"
# A name that merely begins like a loopback address is anyone's host.
expect 2 "ctl refuses credentials to a name beginning with 127." \
    env SIMRUN_CONTROLLER_PASSWORD=s3cr3t "$SIMRUN" ctl --url http://u@127.attacker.example:8080 switches
has "$TMP/err" "refusing to send credentials" "ctl refusal for 127.attacker.example"
if grep -q 's3cr3t' "$TMP/err"; then bad "the password reached stderr"; else ok; fi

# The embedded controller's applications drawn per run of a campaign:
# forwarding from the list, every policy application with its cookie and
# priority, the operator's changes; the same seed, the same plan.
cat >"$TMP/apps.toml" <<'EOF'
name = "apps"
seed = 40
duration = "300s"
[controller]
forwarding = ["proactive", "learning"]
policy = ["acl", "lldp_edge", "guest_meter", "dec_ttl", "admission"]
changes = 60
[campaign]
types = ["lldp_drop", "flow_inport_changed"]
episodes = 2
runs = 6
EOF
expect 0 "plan a campaign drawing the controller's applications" "$SIMRUN" plan "$TMP/apps.toml"
cp "$TMP/out" "$TMP/apps.plan"
has "$TMP/out" "forwarding    proactive .*(drawn for this run)" "a run drew proactive"
has "$TMP/out" "forwarding    learning (reactive: a flow on .*(drawn for this run)" "a run drew learning"
for app in acl lldp_edge guest_meter dec_ttl admission; do
    n=$(grep -c "^  $app .*; cookie 0x[0-9a-f]\{16\}, priority [0-9]" "$TMP/out")
    if [ "$n" = 6 ]; then ok; else bad "$app in each of the 6 runs' plans: $n"; fi
done
n=$(grep -c "^  changes       [1-9][0-9]* operator changes" "$TMP/out")
if [ "$n" = 6 ]; then ok; else bad "operator changes in each run's plan: $n"; fi
n=$(grep "^  acl " "$TMP/out" | sort -u | wc -l)
if [ "$n" = 6 ]; then ok; else bad "the runs' ACLs drawn apart: $n different of 6"; fi
expect 0 "plan it again" "$SIMRUN" plan "$TMP/apps.toml"
if cmp -s "$TMP/out" "$TMP/apps.plan"; then ok; else bad "the same seed gave another plan"; fi

printf '%d passed, %d failed\n' "$passed" "$failed"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
