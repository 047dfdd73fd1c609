#!/bin/sh
# summary.sh TAPDIR - sum the TAP files of every suite; the last line is
# "N passed, N failed[, N skipped]"; exit status 1 if anything failed.
tapdir=$1
passed=0; failed=0; skipped=0
for f in "$tapdir"/*.tap; do
    [ -e "$f" ] || continue
    p=$(grep -E '^ok' "$f" | grep -vc '# SKIP')
    s=$(grep -E '^ok' "$f" | grep -c '# SKIP')
    n=$(grep -c '^not ok' "$f")
    printf '# %-28s %4d passed, %d failed, %d skipped\n' "$(basename "$f" .tap)" "$p" "$n" "$s"
    passed=$((passed + p)); failed=$((failed + n)); skipped=$((skipped + s))
done
if [ "$failed" -gt 0 ]; then
    echo "# failures:"
    grep -h '^not ok' "$tapdir"/*.tap | sed 's/^/#   /'
fi
if [ "$skipped" -gt 0 ]; then
    echo "$passed passed, $failed failed, $skipped skipped"
else
    echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
