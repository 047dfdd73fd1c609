#!/bin/sh
# test/man/run.sh [PAGE...] - check the manual pages.
#
# 1. Lints each PAGE with "mandoc -Tlint -Wwarning" and prints one TAP line for it:
#      ok - man: man3/HcsFree.3
#      not ok - man: man3/HcsFree.3: 12:5: WARNING: <mandoc's message>
#    mandoc runs in the folder above the page's section folder (man/), the way man(1) resolves
#    ".so man3/X.3", so an alias page is linted together with the page it includes. For an alias
#    page mandoc's ".so is fragile, better use ln(1)" warning is expected and ignored; every other
#    message (including a failed .so) fails the page.
# 2. Checks that every function declared HCS_API in include/hcs.h has a man3 page (a file, or a
#    one-line ".so" alias) whose NAME section lists the function: one TAP line per function.
# 3. Checks that every program under tools/ (a folder with C sources) has a man1 page.
#
# Without PAGE arguments every page under man/ is linted. Exit status 0, even when a test fails
# (test/summary.sh counts the failures); 1 only when the checks cannot run (mandoc missing).
# POSIX sh.

root=$(cd "$(dirname "$0")/../.." && pwd)
header=$root/include/hcs.h
man3=$root/man/man3
fragile='WARNING: \.so is fragile, better use ln(1)'
n=0

if ! command -v mandoc >/dev/null 2>&1; then
    echo "not ok - man: mandoc not installed"
    echo "1..1"
    exit 1
fi

if [ "$#" -eq 0 ]; then
    set -- "$root"/man/man*/*.[0-9]
    [ -e "$1" ] || shift
fi

# The included page of a ".so" alias page (its path relative to man/), or nothing.
so_target() {
    sed -n '1{s/^\.so[[:space:]][[:space:]]*\([^[:space:]]*\).*/\1/p;}' "$1"
}

for page in "$@"; do
    n=$((n + 1))
    sect=$(basename "$(dirname "$page")")
    name=$(basename "$page")
    label=$sect/$name
    if [ ! -f "$page" ]; then
        echo "not ok - man: $label: no such file"
        continue
    fi
    mandir=$(cd "$(dirname "$page")/.." && pwd)
    out=$(cd "$mandir" && mandoc -Tlint -Wwarning "$sect/$name" 2>&1)
    rc=$?
    if [ -n "$(so_target "$page")" ]; then
        out=$(printf '%s\n' "$out" | grep -v -e "$fragile")
        [ "$rc" -eq 2 ] && rc=0
    fi
    if [ -n "$out" ]; then
        msg=$(printf '%s\n' "$out" | sed -n '1{s/^mandoc: //;s|^'"$sect/$name"':||;s/^ *//;p;}')
        echo "not ok - man: $label: $msg"
    elif [ "$rc" -gt 1 ]; then
        echo "not ok - man: $label: mandoc exited with status $rc"
    else
        echo "ok - man: $label"
    fi
done

if [ ! -f "$header" ]; then
    n=$((n + 1))
    echo "not ok - man: include/hcs.h not found"
    echo "1..$n"
    exit 0
fi

# Names of the functions declared HCS_API (the declaration may continue on further lines).
funcs=$(sed -n 's/^[[:space:]]*HCS_API[^(]*[^A-Za-z0-9_]\([A-Za-z_][A-Za-z0-9_]*\)[[:space:]]*(.*/\1/p' \
    "$header" | sort -u)
if [ -z "$funcs" ]; then
    n=$((n + 1))
    echo "not ok - man: no HCS_API function found in include/hcs.h"
fi

for fn in $funcs; do
    n=$((n + 1))
    page=$man3/$fn.3
    if [ ! -f "$page" ]; then
        echo "not ok - man: $fn has no man3 page (man/man3/$fn.3)"
        continue
    fi
    target=$(so_target "$page")
    doc=$page
    [ -n "$target" ] && doc=$root/man/$target
    if [ ! -f "$doc" ]; then
        echo "not ok - man: $fn: man3/$fn.3 includes $target, which does not exist"
    elif grep -q "^\.Nm $fn\( ,\)\{0,1\}[[:space:]]*\$" "$doc"; then
        echo "ok - man: $fn has a man3 page${target:+ ($target)}"
    else
        echo "not ok - man: $fn is not listed in the NAME section of ${target:-man3/$fn.3}"
    fi
done

# 3. Every program under tools/ (a folder with C sources) has a man1 page naming it.
for dir in "$root"/tools/*/; do
    tool=$(basename "$dir")
    ls "$dir"*.c > /dev/null 2>&1 || continue
    n=$((n + 1))
    page=$root/man/man1/$tool.1
    if [ ! -f "$page" ]; then
        echo "not ok - man: the tool $tool has no man1 page (man/man1/$tool.1)"
    elif grep -q "^\.Nm $tool[[:space:]]*\$" "$page"; then
        echo "ok - man: the tool $tool has a man1 page"
    else
        echo "not ok - man: $tool is not the .Nm of man/man1/$tool.1"
    fi
done

echo "1..$n"
exit 0
