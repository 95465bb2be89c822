#!/bin/sh
# The man page keeps step with --help: every command of 'simrun --help' has
# its own section, and every option any command's --help names (long or
# short) is in the page; the page renders with no groff warning.
SIMRUN=${1:?usage: man_test.sh SIMRUN MANPAGE}
PAGE=${2:?usage: man_test.sh SIMRUN MANPAGE}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
passed=0 failed=0
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL $1"; }

# missing_options HELP PAGE: print each option HELP names that PAGE lacks.
missing_options() {
    for opt in $(grep -o -- '--[a-z][a-z0-9-]*\|\[-[a-zA-Z]\b\|^  -[a-zA-Z]\b' "$1" |
                 tr -d '[ ' | sort -u); do
        # In roff a dash is written \-.
        roff=$(printf '%s' "$opt" | sed 's/-/\\\\-/g')
        grep -q -- "$roff" "$2" || echo "$opt"
    done
}

"$SIMRUN" --help > "$TMP/help" || bad "simrun --help"
cmds=$(sed -n 's/^  \([a-z][a-z]*\) .*/\1/p; s/^  \([a-z][a-z]*\)$/\1/p' "$TMP/help")
[ "$(echo "$cmds" | wc -w)" -ge 10 ] || bad "too few commands found in --help: $cmds"
for c in $cmds; do
    if grep -q "^\.SS \"\{0,1\}$c\b" "$PAGE"; then ok; else bad "command '$c' has no section"; fi
    "$SIMRUN" "$c" --help >> "$TMP/help" 2>&1 || bad "simrun $c --help exits non-zero"
done
nopts=$(grep -o -- '--[a-z][a-z0-9-]*' "$TMP/help" | sort -u | wc -l)
[ "$nopts" -ge 20 ] || bad "too few options found in the --help texts ($nopts)"
missing_options "$TMP/help" "$PAGE" > "$TMP/missing"
if [ -s "$TMP/missing" ]; then
    bad "options not in the man page: $(tr '\n' ' ' < "$TMP/missing")"
else ok; fi
# The check itself fails on a page that lacks an option.
sed 's/\\-\\-watch/\\-\\-wotch/g' "$PAGE" > "$TMP/short.1"
if missing_options "$TMP/help" "$TMP/short.1" | grep -qx -- '--watch'; then ok
else bad "a page without --watch goes unnoticed"; fi
if groff -man -Tutf8 -ww -z "$PAGE" 2>"$TMP/warn" && [ ! -s "$TMP/warn" ]; then ok
else bad "groff warns: $(head -c 300 "$TMP/warn")"; fi
if MANWIDTH=80 man -l "$PAGE" 2>/dev/null | grep -q "simrun report"; then ok
else bad "man -l does not show the page"; fi

printf '%d passed, %d failed\n' "$passed" "$failed"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
