#!/bin/sh
# run.sh BUILD - run every example program and check what a user would see. One TAP line each.
build=${1:-build}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export HCS_RUNTIME_ROOT="$tmp/run" HCS_DATA_ROOT="$tmp/data"
n=0 failed=0
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
        failed=$((failed + 1))
    fi
}
# check NAME OUTPUT STATUS WANT_STATUS [!] GREP_ARGS...: one more check of the saved output of one
# run: its exit status, and a line matching (with !: no line matching) grep's pattern.
check() {
    name=$1 out=$2 rc=$3 want_rc=$4; shift 4
    n=$((n + 1))
    negate=false
    if [ "$1" = "!" ]; then negate=true; shift; fi
    if printf '%s\n' "$out" | grep -q "$@"; then found=true; else found=false; fi
    if [ "$rc" -eq "$want_rc" ] && [ "$found" != "$negate" ]; then
        echo "ok $n - example: $name"
    else
        echo "not ok $n - example: $name (exit $rc, wanted $want_rc)"
        printf '%s\n' "$out" | sed 's/^/# /'
        failed=$((failed + 1))
    fi
}
expect "service-info prints the supported schema versions" 0 '"SupportedSchemaVersions":[{"Major":2,"Minor":0}' "$build/examples/service-info"
expect "service-info reports the runtime root in use" 0 "\"RuntimeRoot\":\"$tmp/run\"" "$build/examples/service-info"
expect "list-systems on an empty root prints []" 0 '[]' "$build/examples/list-systems"
expect "list-systems names the bad field of a query" 1 'Names[0]: expected a string, got 1' "$build/examples/list-systems" '{"Names":[1]}'
expect "async-callback completes on a library thread" 0 'finished on a library thread: 0x00000000 []' "$build/examples/async-callback"
expect "demo shows the path of a malformed field" 0 'Container.Memory.SizeInMB: expected an unsigned integer, got \"lots\"' "$build/examples/demo"
# (without root, demo stops earlier, saying that it needs root)
if [ "$(id -u)" -eq 0 ]; then demo_why='no root folder given'; else demo_why='needs root'; fi
expect "demo without a root folder says why and stops" 0 "$demo_why" "$build/examples/demo"
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
            failed=$((failed + 1))
        fi
    done
    # run-image over a layer imported by hcsdiag: the chain JSON written by hand.
    "$build/hcsdiag" layer import "$tmp/layer" "$tmp/base.tar.zst" > /dev/null &&
        printf '{"Layers":[{"Path":"%s"}]}\n' "$tmp/layer" > "$tmp/chain.json"
    expect "run-image runs a command over a layer chain and keeps its exit code" 5 'in-image' \
        "$build/examples/run-image" "$tmp/chain.json" sh -c 'echo in-image; exit 5'
    expect "run-image names a missing executable" 1 'executable \"nope\" not found' \
        "$build/examples/run-image" "$tmp/chain.json" nope
    # Over a root folder, streaming: 1.4 MB on stderr before stdout ends must not block it.
    expect "run-image over a root folder streams stdout and a large stderr" 3 'after-the-flood' \
        "$build/examples/run-image" "$tmp/root" sh -c 'i=0; while [ $i -lt 20000 ]; do
            echo xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx >&2
            i=$((i+1)); done; echo after-the-flood; exit 3'
    # registry and events over a root with the in-container registry client, /bin/hcsreg.
    HCSREG="$build/hcsreg" "$here/../../tools/mkroot" "$tmp/regroot"
    out=$("$build/examples/registry" "$tmp/regroot" 2>&1); rc=$?
    check "registry reads the value set at create from the host" "$out" "$rc" 0 \
        -Fx '    Greeting (String) = hello'
    check "registry reads the DWord added at run time from the host" "$out" "$rc" 0 \
        -Fx '    Level (DWord) = 42'
    check "registry no longer lists the value deleted at run time" "$out" "$rc" 0 \
        ! -F 'Obsolete (String)'
    check "registry: hcsreg inside the container sees the same key" "$out" "$rc" 0 \
        -Fx 'HKEY_LOCAL_MACHINE\SOFTWARE\Example'
    check "registry: hcsreg inside the container sees the run-time DWord" "$out" "$rc" 0 \
        -E '^ +Level +REG_DWORD +0x2a$'
    check "registry: hcsreg inside the container sees the create-time string" "$out" "$rc" 0 \
        -E '^ +Greeting +REG_SZ +hello$'
    expect "registry names a missing root folder" 1 "registry: $tmp/nope: No such file" \
        "$build/examples/registry" "$tmp/nope"
    out=$("$build/examples/events" "$tmp/regroot" 2>&1); rc=$?
    check "events: the process callback gets ProcessExited with exit code 3" "$out" "$rc" 0 \
        -E '^event: HcsEventProcessExited \{.*"ExitCode":3[,}]'
    check "events: the system callback gets SystemExited after the terminate" "$out" "$rc" 0 \
        -E '^event: HcsEventSystemExited \{.*"ExitType":"ForcedExit"'
    check "events: the main thread saw both events through its copies" "$out" "$rc" 0 \
        -Fx 'the compute system has exited'
    expect "registry and events leave no compute system behind" 0 '[]' \
        "$build/examples/list-systems"
    # Without root, both say so (as the unprivileged user nobody, when it can run them).
    for ex in registry events; do
        if setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$build/examples/$ex" \
            2> /dev/null; then
            expect "$ex without root says it needs root" 1 "$ex: creating a container needs root" \
                setpriv --reuid=65534 --regid=65534 --clear-groups "$build/examples/$ex" "$tmp/root"
        else
            n=$((n + 1))
            echo "ok $n - example: $ex without root says it needs root # SKIP nobody cannot run it"
        fi
    done
else
    n=$((n + 1)); echo "ok $n - example: demo in a real container # SKIP needs root"
    n=$((n + 1)); echo "ok $n - example: registry and events in a real container # SKIP needs root"
    expect "registry without root says it needs root" 1 'registry: creating a container needs root' \
        "$build/examples/registry" /
    expect "events without root says it needs root" 1 'events: creating a container needs root' \
        "$build/examples/events" /
fi
expect "run-image without arguments prints its usage" 2 'usage: run-image CHAIN.json' \
    "$build/examples/run-image"
expect "registry without arguments prints its usage" 2 'usage: registry ROOTFS' \
    "$build/examples/registry"
expect "events without arguments prints its usage" 2 'usage: events ROOTFS' \
    "$build/examples/events"
# Every example is covered above.
covered=" service-info list-systems async-callback demo run-image registry events "
for p in "$build"/examples/*; do
    case "$covered" in
    *" $(basename "$p") "*) ;;
    *) n=$((n + 1)); failed=$((failed + 1))
       echo "not ok $n - example: $(basename "$p") has no check in test/examples/run.sh" ;;
    esac
done
echo "1..$n"
[ "$failed" -eq 0 ]
