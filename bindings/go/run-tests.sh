#!/bin/sh
# run-tests.sh BUILD - vet and test the Go binding (package hcs) against BUILD/libhcs.so and
# print TAP: one line for go vet, one for gofmt, one per Go test and subtest (PASS -> ok,
# FAIL -> not ok, SKIP -> ok # SKIP reason). Exits non-zero on any failure.
#
# Offline and reproducible: GOFLAGS=-mod=mod GOPROXY=off, the Go caches under BUILD. The header
# hash goes into CGO_CFLAGS so a changed include/hcs.h rebuilds the package; libhcs.so is linked
# dynamically and found through LD_LIBRARY_PATH, so the library under test is always the one in
# BUILD. Tests run with -race and GODEBUG=cgocheck=2. As root, everything runs in a private
# mount namespace (whatever the containers mount goes away with it).
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
case "$build" in /*) ;; *) build="$top/$build" ;; esac

if [ "$(id -u)" -eq 0 ] && [ -z "${HCS_GO_TEST_PRIVATE:-}" ] &&
    unshare --mount --propagation private true 2> /dev/null; then
    HCS_GO_TEST_PRIVATE=1 exec unshare --mount --propagation private sh "$0" "$build"
fi

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - go: $1"; }
not_ok() { n=$((n + 1)); failed=1; echo "not ok $n - go: $1"; }
skip_all() { echo "1..0 # SKIP $1"; exit 0; }

command -v go > /dev/null 2>&1 || skip_all "go not installed (apt-get install golang-go)"
[ -f "$build/libhcs.so" ] || { echo "not ok 1 - go: $build/libhcs.so missing (run make)"; echo "1..1"; exit 1; }
if ldd "$build/libhcs.so" 2> /dev/null | grep -q libasan; then
    skip_all "$build/libhcs.so is built with AddressSanitizer, which a Go program cannot load"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hcs-go.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

hash=$(sha256sum "$top/include/hcs.h" | cut -c1-16)
export GOFLAGS=-mod=mod GOPROXY=off GOTOOLCHAIN=local GO111MODULE=on
export GOCACHE="$build/go/cache" GOMODCACHE="$build/go/mod" GOPATH="$build/go/path"
export CGO_ENABLED=1
export CGO_CFLAGS="-O2 -g -I$top/include -DHCS_HEADER_SHA256_${hash}"
export CGO_LDFLAGS="-L$build"
export LD_LIBRARY_PATH="$build${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
cd "$here" || exit 1

if go vet ./... > "$tmp/vet" 2>&1; then
    ok "go vet is clean"
else
    not_ok "go vet is clean"
    sed 's/^/# /' "$tmp/vet"
fi
unformatted=$(gofmt -l . 2>&1)
if [ -z "$unformatted" ]; then
    ok "gofmt -l is empty"
else
    not_ok "gofmt -l is empty"
    echo "$unformatted" | sed 's/^/# /'
fi

GODEBUG=cgocheck=2 go test -race -count=1 -v ./... > "$tmp/test" 2>&1
rc=$?
# --- PASS: TestX/sub (0.01s) -> ok; --- SKIP: the reason is the next line ("    file.go:N: why").
tap=$(awk -v n="$n" '
    # go test -v prints a test'"'"'s log (the t.Skip reason) before its --- line; older Go after.
    function flush() { if (pending != "") { n++; print "ok " n " - go: " pending " # SKIP " reason; pending = "" } }
    /^=== (RUN|CONT|PAUSE) / { flush(); last = ""; next }
    /^ *--- (PASS|FAIL|SKIP): / {
        flush()
        line = $0; sub(/^ *--- /, "", line)
        status = substr(line, 1, 4); name = line; sub(/^[A-Z]+: /, "", name); sub(/ \([0-9.]+s\)$/, "", name)
        if (status == "PASS") { n++; print "ok " n " - go: " name }
        else if (status == "FAIL") { n++; print "not ok " n " - go: " name }
        else { pending = name; reason = (last != "" ? last : "skipped") }
        last = ""
        next
    }
    /^ +[^ ]+\.go:[0-9]+: / {
        r = $0; sub(/^ +[^ ]+\.go:[0-9]+: /, "", r)
        if (pending != "") { reason = r; flush() } else { last = r }
        next
    }
    { flush() }
    END { flush() }
' "$tmp/test")
if [ -n "$tap" ]; then
    echo "$tap"
    n=$(echo "$tap" | tail -n 1 | sed 's/^\(not \)\{0,1\}ok \([0-9]*\).*/\2/')
fi
if echo "$tap" | grep -q '^not ok' || [ "$rc" -ne 0 ]; then
    failed=1
    # The whole log, as TAP comments, to see why.
    sed 's/^/# /' "$tmp/test"
fi
if [ "$rc" -ne 0 ] && ! echo "$tap" | grep -q '^not ok'; then
    not_ok "go test -race exited $rc"
fi

# The README's Go example, built and run as a user would (root: it runs a container).
if go build -o "$tmp/example" ./example > "$tmp/build" 2>&1; then
    ok "the example builds"
else
    not_ok "the example builds"
    sed 's/^/# /' "$tmp/build"
fi
if [ "$(id -u)" -ne 0 ]; then
    n=$((n + 1)); echo "ok $n - go: the example runs a container # SKIP needs root"
elif [ -x "$tmp/example" ] && "$top/tools/mkroot" "$tmp/root" > /dev/null 2>&1; then
    HCS_RUNTIME_ROOT="$tmp/run" HCS_DATA_ROOT="$tmp/data" \
        "$tmp/example" "$tmp/root" sh -c 'echo hello from go; exit 4' > "$tmp/out" 2>&1
    erc=$?
    if [ "$erc" -eq 4 ] && grep -qx 'hello from go' "$tmp/out"; then
        ok "the example runs a container, prints its output and keeps its exit code"
    else
        not_ok "the example runs a container, prints its output and keeps its exit code (exit $erc)"
        sed 's/^/# /' "$tmp/out"
    fi
else
    not_ok "the example runs a container (no example binary, or tools/mkroot failed)"
fi
echo "1..$n"
exit "$failed"
