#!/bin/sh
# simrun report on a recorded run (tests/data/rundir/video_drop: the files
# of a real 30-s video_drop run, without ports.csv and broadcast records):
# the same directory gives the same bytes, twice and against the golden
# page; the page holds what report_check.py looks for; a check that is
# shown a wrong page fails; text from the run's files is escaped.
# SIMRUN_REGOLD=1 writes the golden page anew (after a deliberate change).
SIMRUN=${1:?usage: report_test.sh SIMRUN SOURCE_DIR}
SRC=${2:?usage: report_test.sh SIMRUN SOURCE_DIR}
RUN="$SRC/tests/data/rundir/video_drop"
GOLD="$SRC/tests/data/rundir/video_drop.report.html"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
passed=0 failed=0
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL $1"; }

"$SIMRUN" report -o "$TMP/a.html" "$RUN" >/dev/null || bad "report exits 0"
"$SIMRUN" report --output "$TMP/b.html" "$RUN" >/dev/null || bad "report exits 0 again"
if cmp -s "$TMP/a.html" "$TMP/b.html"; then ok; else bad "two renders differ"; fi
if [ "${SIMRUN_REGOLD:-}" = 1 ]; then cp "$TMP/a.html" "$GOLD"; echo "wrote $GOLD"; fi
if cmp -s "$TMP/a.html" "$GOLD"; then ok; else
    bad "the page differs from the golden page (SIMRUN_REGOLD=1 after a deliberate change)"
    diff "$GOLD" "$TMP/a.html" | head -c 2000
fi
# The run directory elsewhere under another path: the same bytes.
cp -r "$RUN" "$TMP/elsewhere"
"$SIMRUN" report -o "$TMP/c.html" "$TMP/elsewhere/" >/dev/null
sed 's|<td>elsewhere</td>|<td>video_drop</td>|' "$TMP/c.html" > "$TMP/c2.html"
if cmp -s "$TMP/a.html" "$TMP/c2.html"; then ok; else bad "the page depends on where the run lies"; fi
if /usr/bin/python3 "$SRC/tests/report_check.py" "$TMP/a.html" "$RUN"; then ok; else bad "report_check"; fi
# The checks can fail: a window moved by a second, and no viewer falling.
sed 's/data-from="12.024"/data-from="13.024"/' "$TMP/a.html" > "$TMP/moved.html"
if /usr/bin/python3 "$SRC/tests/report_check.py" "$TMP/moved.html" "$RUN" >"$TMP/out"; then
    bad "report_check accepts a window in the wrong place"
elif grep -q "FAIL every fault window spans" "$TMP/out"; then ok; else bad "wrong check failed"; fi
grep -v '"service":"video"' "$RUN/traffic.jsonl" > "$TMP/elsewhere/traffic.jsonl"
"$SIMRUN" report -o "$TMP/novideo.html" "$TMP/elsewhere" >/dev/null || bad "report without video"
if /usr/bin/python3 "$SRC/tests/report_check.py" "$TMP/novideo.html" "$RUN" >"$TMP/out"; then
    bad "report_check accepts a page without video"
else ok; fi
# Text from the run's files is escaped, never markup.
sed 's|"name": "video_drop"|"name": "<script>alert(1)</script>"|' "$RUN/manifest.json" \
    > "$TMP/elsewhere/manifest.json"
"$SIMRUN" report -o "$TMP/evil.html" "$TMP/elsewhere" >/dev/null || bad "report of a hostile name"
if grep -q "<script" "$TMP/evil.html"; then bad "a name became markup"; else ok; fi
if grep -q "&lt;script&gt;alert(1)" "$TMP/evil.html"; then ok; else bad "the name is not shown escaped"; fi
# What cannot be read is an error with its reason, not a page.
mkdir "$TMP/empty"
if "$SIMRUN" report -o "$TMP/e.html" "$TMP/empty" 2>"$TMP/err"; then bad "empty directory accepted"
elif grep -q "manifest" "$TMP/err" && [ ! -e "$TMP/e.html" ]; then ok; else bad "error: $(cat "$TMP/err")"; fi
"$SIMRUN" report 2>/dev/null
if [ $? = 2 ]; then ok; else bad "report without a run directory is a usage error"; fi

printf '%d passed, %d failed\n' "$passed" "$failed"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
