#!/bin/sh
# run-tests.sh [BUILD] - build the C# binding with mcs into BUILD/csharp (Hcs.dll, the test
# runner hcs-tests.exe, the example RunContainer.exe) and run the tests against BUILD/libhcs.so.
# Prints TAP and a closing "N passed, N failed"; exit status 1 on any failure.
#
# DllImport("hcs") finds libhcs.so next to the executable: BUILD/csharp/libhcs.so is a symlink
# to BUILD/libhcs.so (libhcs then finds hcsmon next to its real path). As root the tests run real
# containers over a busybox root folder (tools/mkroot) with private HCS_RUNTIME_ROOT and
# HCS_DATA_ROOT under a temporary folder, removed at the end.
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${1:-build}
case "$build" in /*) ;; *) build="$top/$build" ;; esac
out="$build/csharp"

for tool in mcs mono; do
    if ! command -v "$tool" > /dev/null 2>&1; then
        echo "ok 1 - csharp: binding tests # SKIP $tool is not installed (apt-get install mono-mcs mono-runtime)"
        echo "1 passed, 0 failed"
        exit 0
    fi
done
if [ ! -e "$build/libhcs.so" ]; then
    echo "not ok 1 - csharp: $build/libhcs.so is missing (run make first)"
    exit 1
fi

mkdir -p "$out" || exit 1
ln -sf "$build/libhcs.so" "$out/libhcs.so"
MCS="mcs -langversion:7.2 -warnaserror -nologo -debug"
log="$out/mcs.log"
# compile NAME ARGS...: one TAP line only when it fails (then nothing else runs).
compile() {
    name=$1
    shift
    if ! $MCS "$@" > "$log" 2>&1; then
        echo "not ok 1 - csharp: $name compiles"
        sed 's/^/# /' "$log"
        echo "0 passed, 1 failed"
        exit 1
    fi
}
compile "Hcs.dll" -target:library -unsafe -r:System.Core.dll -out:"$out/Hcs.dll" \
    "$here/Native.g.cs" "$here"/Hcs/*.cs
compile "the test runner" -target:exe -r:System.Core.dll -r:"$out/Hcs.dll" \
    -out:"$out/hcs-tests.exe" "$here"/tests/*.cs
compile "the example RunContainer" -target:exe -r:System.Core.dll -r:"$out/Hcs.dll" \
    -out:"$out/RunContainer.exe" "$here/example/RunContainer.cs"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hcs-csharp.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
export HCS_RUNTIME_ROOT="$tmp/run" HCS_DATA_ROOT="$tmp/data" HCS_CSHARP_TMP="$tmp"
export HCS_CSHARP_EXAMPLE="$out/RunContainer.exe"
if [ "$(id -u)" -eq 0 ]; then
    if "$top/tools/mkroot" "$tmp/rootfs"; then
        export HCS_CSHARP_ROOTFS="$tmp/rootfs"
    else
        echo "# tools/mkroot failed: the container tests are skipped"
    fi
fi
# The example is started from the runner, with `mono` and the same environment.
MONO_ENV_OPTIONS=--debug mono "$out/hcs-tests.exe"
