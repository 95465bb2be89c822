#!/bin/sh
# The banned-function check must fail on a source that calls one.
d=$(mktemp -d) || exit 2
trap 'rm -rf "$d"' EXIT
printf 'int f(char *b) { return sprintf(b, "%%d", 1); }\n' > "$d/x.c"
printf 'int g(const char *s) { return atoi (s); }\n' > "$d/y.c"
out=$(sh "$(dirname "$0")/banned.sh" "$d" 2>&1) && { echo "the check passed a banned call" >&2; exit 1; }
echo "$out" | grep -q 'x.c:1:' && echo "$out" | grep -q 'y.c:1:' || { echo "missed: $out" >&2; exit 1; }
echo "the check catches sprintf and atoi"
