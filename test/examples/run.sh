#!/bin/sh
# run.sh BUILD - run every example program and check what a user would see. One TAP line each.
build=${1:-build}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export HCS_RUNTIME_ROOT="$tmp/run" HCS_DATA_ROOT="$tmp/data"
n=0
# expect NAME WANT_STATUS WANT_TEXT PROGRAM [ARGS...]
expect() {
    name=$1; want_rc=$2; want=$3; shift 3
    n=$((n + 1))
    out=$("$@" 2>&1); rc=$?
    if [ "$rc" -eq "$want_rc" ] && printf '%s' "$out" | grep -qF -- "$want"; then
        echo "ok $n - example: $name"
    else
        echo "not ok $n - example: $name (exit $rc, wanted $want_rc and \"$want\")"
        printf '%s\n' "$out" | sed 's/^/# /'
    fi
}
expect "service-info prints the supported schema versions" 0 '"SupportedSchemaVersions":[{"Major":2,"Minor":0}' "$build/examples/service-info"
expect "service-info reports the runtime root in use" 0 "\"RuntimeRoot\":\"$tmp/run\"" "$build/examples/service-info"
expect "list-systems on an empty root prints []" 0 '[]' "$build/examples/list-systems"
expect "list-systems names the bad field of a query" 1 'Names[0]: expected a string, got 1' "$build/examples/list-systems" '{"Names":[1]}'
expect "async-callback completes on a library thread" 0 'finished on a library thread: 0x00000000 []' "$build/examples/async-callback"
expect "demo shows the path of a malformed field" 0 'Container.Memory.SizeInMB: expected an unsigned integer, got \"lots\"' "$build/examples/demo"
expect "demo without a root folder says why and stops" 0 'no root folder given' "$build/examples/demo"
if [ "$(id -u)" -eq 0 ]; then
    here=$(dirname "$0")
    "$here/../../tools/mkroot" "$tmp/root"
    # As make demo runs it: the root packed as a tar+zstd layer.
    tar --zstd -cf "$tmp/base.tar.zst" -C "$tmp/root" .
    demo_out=$("$build/examples/demo" "$tmp/base.tar.zst" 2>&1); demo_rc=$?
    # One run, several checks of what it printed.
    for want in 'diff id sha256:' '== $ hostname' 'hcs-init' '"ExitCode":7' 'demo: done'; do
        n=$((n + 1))
        if [ "$demo_rc" -eq 0 ] && printf '%s' "$demo_out" | grep -qF -- "$want"; then
            echo "ok $n - example: demo in a real container prints $want"
        else
            echo "not ok $n - example: demo in a real container prints $want (exit $demo_rc)"
            printf '%s\n' "$demo_out" | sed 's/^/# /'
        fi
    done
    # run-image over a layer imported by hcsdiag: the chain JSON written by hand.
    "$build/hcsdiag" layer import "$tmp/layer" "$tmp/base.tar.zst" > /dev/null &&
        printf '{"Layers":[{"Path":"%s"}]}\n' "$tmp/layer" > "$tmp/chain.json"
    expect "run-image runs a command over a layer chain and keeps its exit code" 5 'in-image' \
        "$build/examples/run-image" "$tmp/chain.json" sh -c 'echo in-image; exit 5'
    expect "run-image names a missing executable" 1 'executable \"nope\" not found' \
        "$build/examples/run-image" "$tmp/chain.json" nope
else
    n=$((n + 1)); echo "ok $n - example: demo in a real container # SKIP needs root"
fi
expect "run-image without arguments prints its usage" 2 'usage: run-image CHAIN.json' \
    "$build/examples/run-image"
# Every example is covered above.
for p in "$build"/examples/*; do
    case " service-info list-systems async-callback demo run-image " in
    *" $(basename "$p") "*) ;;
    *) n=$((n + 1)); echo "not ok $n - example: $(basename "$p") has no check in test/examples/run.sh" ;;
    esac
done
echo "1..$n"
