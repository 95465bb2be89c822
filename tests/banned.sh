#!/bin/sh
# Fails when a C source under DIR calls a function the house style bans
# (curl's list): unbounded or unchecked string and number handling.  Use
# snprintf or sr_buf, sr_strlcpy, sr_parse_i64 or strtol with end checks,
# strtok_r.
#   tests/banned.sh [DIR]        (default: the source tree)
dir=${1:-$(dirname "$0")/..}
files=$(find "$dir" -name '*.[ch]' -not -path '*/build*' -not -path '*/.git/*')
[ -n "$files" ] || { echo "no C sources under $dir" >&2; exit 2; }
found=$(printf '%s\n' $files | xargs grep -nHE \
    '(^|[^_[:alnum:]])(sprintf|vsprintf|strcpy|strcat|atoi|atol|atoll|sscanf|gets|strtok)[[:space:]]*\(')
if [ -n "$found" ]; then
    printf 'banned function calls:\n%s\n' "$found" >&2
    exit 1
fi
echo "no banned function calls in $(printf '%s\n' $files | wc -l) C files"
