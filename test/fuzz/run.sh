#!/bin/sh
# run.sh FUZZDIR - run every libFuzzer target briefly and print one TAP line per target.
#
# For each fuzz/<name>.c the binary FUZZDIR/<name> runs for HCS_FUZZ_SECONDS (default 15) on a
# copy of its seed corpus fuzz/corpus/<name without "fuzz_"> in a temporary folder, with the
# dictionary fuzz/dict/<name without "fuzz_">.dict (fuzz/dict/json.dict when it has none; every
# other target reads JSON); new inputs and crash artifacts go to that folder, never into
# the repository, and it is removed at the end. The targets run side by side.
#
#   ok - fuzz: fuzz_documents (123456 runs)
#   not ok - fuzz: fuzz_json (crash: ERROR: AddressSanitizer: heap-buffer-overflow ...)
#
# A crash also prints the end of the report and the crashing input (base64) as "#" lines; to
# replay it: echo BASE64 | base64 -d > crash && FUZZDIR/<name> crash
# Environment: HCS_FUZZ_SECONDS, HCS_FUZZ_TIMEOUT (seconds per input, default 10),
# HCS_FUZZ_ARTIFACTS (a folder outside the repository that keeps crashing inputs).
# Exit status 0 when every target ran clean, 1 otherwise.

fuzzdir=${1:?usage: run.sh FUZZDIR}
# Absolute, since the targets run from inside the temporary folder.
[ -d "$fuzzdir" ] && fuzzdir=$(cd "$fuzzdir" && pwd)
root=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${HCS_FUZZ_SECONDS:-15}
timeout=${HCS_FUZZ_TIMEOUT:-10}

# UndefinedBehaviorSanitizer only reports by default; make its reports crashes.
UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export UBSAN_OPTIONS

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hcs-fuzz.XXXXXX") || {
    echo "not ok - fuzz: cannot create a temporary folder"
    exit 1
}
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

targets=
for src in "$root"/fuzz/*.c; do
    [ -e "$src" ] || continue
    targets="$targets $(basename "$src" .c)"
done
if [ -z "$targets" ]; then
    echo "not ok - fuzz: no fuzz targets (fuzz/*.c) in $root"
    exit 1
fi

status=0
if ! command -v clang > /dev/null 2>&1; then
    # The binaries may still exist from an earlier build; without clang they cannot be rebuilt.
    echo "# clang not found: the fuzz targets cannot be built (apt-get install clang)"
fi

# Start every target that is present; report the missing ones at once.
started=
for name in $targets; do
    bin=$fuzzdir/$name
    if [ ! -x "$bin" ]; then
        if command -v clang > /dev/null 2>&1; then
            echo "not ok - fuzz: $name (binary missing: $bin; run make fuzz)"
        else
            echo "not ok - fuzz: $name (clang not found, binary missing: $bin)"
        fi
        status=1
        continue
    fi
    corpus=$root/fuzz/corpus/${name#fuzz_}
    work=$tmp/$name
    mkdir -p "$work/corpus" "$work/artifacts"
    if [ -d "$corpus" ]; then
        cp "$corpus"/* "$work/corpus/" 2> /dev/null
    fi
    dict=$root/fuzz/dict/${name#fuzz_}.dict
    [ -f "$dict" ] || dict=$root/fuzz/dict/json.dict
    dict_opt=
    [ -f "$dict" ] && dict_opt=-dict=$dict
    (
        cd "$work" || exit 1
        "$bin" -max_total_time="$seconds" -timeout="$timeout" -rss_limit_mb=1024 ${dict_opt:+"$dict_opt"} \
            -artifact_prefix="$work/artifacts/" -print_final_stats=0 "$work/corpus" \
            > "$work/log" 2>&1
        echo $? > "$work/rc"
    ) &
    started="$started $name"
done
wait

for name in $started; do
    work=$tmp/$name
    rc=$(cat "$work/rc" 2> /dev/null || echo 1)
    runs=$(sed -n 's/^Done \([0-9][0-9]*\) runs in.*/\1/p' "$work/log" | tail -n 1)
    artifact=
    for a in "$work"/artifacts/*; do
        [ -e "$a" ] && artifact=$(basename "$a")
        break
    done
    if [ "$rc" -eq 0 ] && [ -z "$artifact" ] && [ -n "$runs" ]; then
        echo "ok - fuzz: $name ($runs runs)"
        continue
    fi
    status=1
    # The first line of the report: an assertion of the target, a sanitizer or libFuzzer error.
    first=$(grep -m 1 -E 'FUZZ-ASSERT:|ERROR: |runtime error:|WARNING: MemorySanitizer' \
        "$work/log" | sed -e 's/^==[0-9]*== *//' -e 's/ at pc 0x.*//')
    [ -n "$first" ] || first="exit status $rc, no report; last line: $(tail -n 1 "$work/log")"
    echo "not ok - fuzz: $name (crash: $first)"
    {
        grep -m 1 'SUMMARY' "$work/log"
        grep -E -m 8 '^ +#[0-9]+ 0x' "$work/log"
    } | sed -e 's/ (BuildId: [0-9a-f]*)//' -e 's/^ */#   /'
    if [ -n "$artifact" ]; then
        echo "#   input $artifact ($(wc -c < "$work/artifacts/$artifact") bytes), base64:"
        head -c 4096 "$work/artifacts/$artifact" | base64 | sed 's/^/#   /'
        if [ -n "$HCS_FUZZ_ARTIFACTS" ]; then
            mkdir -p "$HCS_FUZZ_ARTIFACTS" && cp "$work/artifacts/"* "$HCS_FUZZ_ARTIFACTS/" &&
                echo "#   kept in $HCS_FUZZ_ARTIFACTS/$artifact"
        fi
    fi
done
exit $status
