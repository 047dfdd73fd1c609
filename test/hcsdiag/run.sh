#!/bin/sh
# run.sh BUILD - check the hcsdiag tool as a user would run it. One TAP line per check.
#
# Without root only the usage checks run. As root the rest runs in a private mount namespace
# (everything mounted there goes away with it): layer import/create/mount/export/remove through
# the tool, then images made by podman (docker-archive and oci-archive, from a private store
# under the temporary folder: --root/--runroot/--tmpdir, vfs driver, no events) and by umoci
# (an OCI layout with two layers, the upper one deleting a file), imported with
# `hcsdiag image import`, and corrupted copies of them. podman and umoci missing: those checks
# are skipped with the reason.
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
case "$build" in /*) ;; *) build="$top/$build" ;; esac
hcsdiag="$build/hcsdiag"

if [ "$(id -u)" -eq 0 ] && [ -z "${HCSDIAG_TEST_PRIVATE:-}" ] &&
    unshare --mount --propagation private true 2> /dev/null; then
    HCSDIAG_TEST_PRIVATE=1 exec unshare --mount --propagation private sh "$0" "$build"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hcsdiag-test.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
export HCS_RUNTIME_ROOT="$tmp/run" HCS_DATA_ROOT="$tmp/data"
n=0
out="$tmp/out" err="$tmp/err"

ok() { n=$((n + 1)); echo "ok $n - hcsdiag: $1"; }
skip() { n=$((n + 1)); echo "ok $n - hcsdiag: $1 # SKIP $2"; }
not_ok() {
    n=$((n + 1))
    echo "not ok $n - hcsdiag: $1"
    shift
    for f in "$@"; do [ -f "$f" ] && sed 's/^/# /' "$f"; done
}
# run ARGS...: hcsdiag with stdout in $out, stderr in $err; sets rc.
run() { "$hcsdiag" "$@" > "$out" 2> "$err"; rc=$?; }
# check NAME WANT_RC FILE TEXT: the last run exited WANT_RC and FILE contains TEXT.
check() {
    if [ "$rc" -eq "$2" ] && grep -qF -- "$4" "$3"; then
        ok "$1"
    else
        not_ok "$1 (exit $rc, wanted $2 and \"$4\")" "$out" "$err"
    fi
}
# check_state NAME WANT_RC COMMAND...: the last run exited WANT_RC and COMMAND succeeds.
check_state() {
    name=$1 want=$2
    shift 2
    if [ "$rc" -eq "$want" ] && "$@"; then
        ok "$name"
    else
        not_ok "$name (exit $rc, wanted $want)" "$out" "$err"
    fi
}
# test_that NAME COMMAND...: one check from any shell test.
test_that() {
    name=$1
    shift
    if "$@"; then ok "$name"; else not_ok "$name" "$out" "$err"; fi
}

# --- usage (no privileges) --------------------------------------------------------------------

run --help
check "--help lists the commands" 0 "$out" "image import"
run image import --help
check "image import --help shows the options" 0 "$out" "--store DIR"
run frobnicate
check "an unknown command is a usage error" 2 "$err" 'unknown command "frobnicate"'
run image import
check "image import without SOURCE is a usage error" 2 "$err" "SOURCE is missing"
run layer export --compression lz4 a b
check "layer export --compression names the choices" 2 "$err" "expected none, gzip or zstd"

if [ "$(id -u)" -ne 0 ]; then
    skip "layers and images" "needs root"
    echo "1..$n"
    exit 0
fi

"$top/tools/mkroot" "$tmp/root" || exit 1
echo hello > "$tmp/root/etc/hello"
tar -C "$tmp/root" --zstd -cf "$tmp/base.tar.zst" . || exit 1

# --- layer commands ---------------------------------------------------------------------------

L="$tmp/l/base" W="$tmp/l/w"
mkdir -p "$tmp/l"
run layer import "$L" "$tmp/base.tar.zst"
check "layer import prints the diff id" 0 "$out" "sha256:"
diff_id=$(cat "$out")
run layer import --json "$tmp/l/again" "$tmp/base.tar.zst"
check "layer import --json gives Id, Path and DiffId" 0 "$out" "\"Path\":\"$tmp/l/again\",\"DiffId\":\"$diff_id\"}"
run layer import "$L" "$tmp/base.tar.zst"
check "layer import into an existing layer fails with the library's message" 1 "$err" "already exists"
run layer create "$W" "$L"
check "layer create initializes a writable layer" 0 "$W/layer.json" '"Kind":"Writable"'
run layer mount "$W"
check "layer mount prints the view" 0 "$out" "$W/rootfs"
test_that "the view shows the parent's files" test "$(cat "$W/rootfs/etc/hello" 2> /dev/null)" = hello
echo new > "$W/rootfs/etc/new" && rm -f "$W/rootfs/etc/hostname"
run layer remove "$L"
check "layer remove refuses a parent in use" 1 "$err" "in use"
run layer unmount "$W"
check_state "layer unmount detaches the view" 0 grep -qF '"Attached":false' "$W/layer.json"
run layer export --compression zstd --deterministic "$W" "$tmp/l/changes.tar.zst"
check "layer export prints the archive" 0 "$out" "$tmp/l/changes.tar.zst"
list=$(tar --zstd -tf "$tmp/l/changes.tar.zst" 2> /dev/null | tr '\n' ' ')
case "$list" in
*etc/new*etc/.wh.hostname* | *etc/.wh.hostname*etc/new*) ok "the export holds the changes, deletions as whiteouts" ;;
*) not_ok "the export holds the changes, deletions as whiteouts (got: $list)" ;;
esac
run layer remove "$W"
check_state "layer remove removes a writable layer" 0 test ! -e "$W"
run layer remove "$L"
check_state "layer remove removes its parent once free" 0 test ! -e "$L"

# --- images -----------------------------------------------------------------------------------

guid='[0-9a-f]\{8\}-[0-9a-f]\{4\}-5[0-9a-f]\{3\}-[89ab][0-9a-f]\{3\}-[0-9a-f]\{12\}'
# chain_ok FILE N STORE: FILE is exactly {"Layers":[...]} with N layers of STORE.
chain_ok() {
    one="{\"Id\":\"$guid\",\"Path\":\"$3/sha256/[0-9a-f]\\{64\\}\"}"
    re="$one"
    i=1
    while [ "$i" -lt "$2" ]; do re="$re,$one"; i=$((i + 1)); done
    grep -qx "{\"Layers\":\[$re\]}" "$1"
}
# the layer paths of a chain, nearest first
paths() { grep -o '"Path":"[^"]*"' "$1" | sed 's/"Path":"\(.*\)"/\1/'; }
# flip FILE OFFSET: change the byte at OFFSET
flip() {
    b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
    if [ "$b" = 65 ]; then c=B; else c=A; fi
    printf '%s' "$c" | dd of="$1" bs=1 seek="$2" conv=notrunc 2> /dev/null
}

if command -v podman > /dev/null; then
    pm="$tmp/podman"
    podman() {
        command podman --root "$pm/root" --runroot "$pm/run" --tmpdir "$pm/tmp" \
            --storage-driver vfs --events-backend none --cgroup-manager cgroupfs \
            --log-level error "$@"
    }
    tar -C "$tmp/root" -cf "$tmp/root.tar" . &&
        podman import "$tmp/root.tar" localhost/hcsdiag-test:1 > /dev/null 2>&1 &&
        podman save -o "$tmp/docker.tar" localhost/hcsdiag-test:1 2> /dev/null &&
        podman save --format oci-archive -o "$tmp/oci.tar" localhost/hcsdiag-test:1 2> /dev/null
    made=$?
    podman rmi -a > /dev/null 2>&1
    rm -rf "$pm"
fi
if ! command -v podman > /dev/null; then
    skip "podman images" "podman is not installed (apt-get install podman)"
elif [ "$made" -ne 0 ] || [ ! -s "$tmp/oci.tar" ]; then
    not_ok "podman made the test images"
else
    run image import --json "$tmp/docker.tar"
    test_that "a docker-archive imports into \$HCS_DATA_ROOT/layers, chain as JSON" \
        chain_ok "$out" 1 "$tmp/data/layers"
    first=$(cat "$out")
    cp "$out" "$tmp/podman-chain.json"
    layer=$(paths "$out")
    test_that "the imported layer holds the image's files" test -x "$layer/Files/bin/busybox"
    run image import --json "$tmp/docker.tar"
    check "importing again finds the layer already present" 0 "$err" "already present"
    test_that "importing again prints the same chain" test "$(cat "$out")" = "$first"
    run image import --json "$tmp/oci.tar"
    check "an oci-archive of the same image reuses the layer" 0 "$err" "already present"
    test_that "an oci-archive of the same image gives the same chain" test "$(cat "$out")" = "$first"
    run image import "$tmp/oci.tar"
    check "without --json the chain is a readable list" 0 "$out" "1 layer, nearest first:"

    # A corrupted copy of each: a byte of the (compressed) layer blob changed.
    mkdir -p "$tmp/bad-oci" "$tmp/bad-docker"
    tar -C "$tmp/bad-oci" -xf "$tmp/oci.tar" && tar -C "$tmp/bad-docker" -xf "$tmp/docker.tar"
    # The largest blob is the layer (names are sha256 hex digits: ls is safe here).
    # shellcheck disable=SC2012
    blob=$(cd "$tmp/bad-oci/blobs/sha256" && ls -S | head -n 1)
    flip "$tmp/bad-oci/blobs/sha256/$blob" 5000
    run image import --store "$tmp/bad-store" "$tmp/bad-oci"
    check "a corrupted OCI blob fails, naming the blob" 1 "$err" "blob blobs/sha256/$blob: digest mismatch"
    test_that "a corrupted blob leaves no layer" test -z "$(ls "$tmp/bad-store/sha256" 2> /dev/null)"
    # shellcheck disable=SC2012
    tarball=$(cd "$tmp/bad-docker" && ls -S | head -n 1)
    flip "$tmp/bad-docker/$tarball" 1000000
    run image import --store "$tmp/bad-store" "$tmp/bad-docker"
    check "a corrupted docker-archive layer fails, naming it" 1 "$err" "blob $tarball: digest mismatch"
    # The same corrupted layer under a name that states no digest: the diff id catches it.
    mkdir "$tmp/bad-docker/x" && mv "$tmp/bad-docker/$tarball" "$tmp/bad-docker/x/layer.tar"
    sed -i "s|$tarball|x/layer.tar|" "$tmp/bad-docker/manifest.json"
    run image import --store "$tmp/bad-store" "$tmp/bad-docker"
    check "a layer whose diff id differs from the config fails" 1 "$err" "diff id mismatch"
    test_that "the layer with the wrong diff id is removed" \
        test -z "$(ls "$tmp/bad-store/sha256" 2> /dev/null)"
    # An archive with an entry outside its folder.
    tar -C "$tmp/bad-oci" -cf "$tmp/evil.tar" --transform 's|^oci-layout$|../oci-layout|' \
        oci-layout index.json 2> /dev/null
    run image import --store "$tmp/bad-store" "$tmp/evil.tar"
    check "an image archive entry with .. is refused" 1 "$err" 'entry "../oci-layout"'
fi

if ! command -v umoci > /dev/null; then
    skip "umoci images" "umoci is not installed (apt-get install umoci)"
else
    # Two layers: the busybox root, then one adding etc/added and deleting etc/hostname.
    lay="$tmp/layout" b="$tmp/bundle"
    if ! { umoci init --layout "$lay" && umoci new --image "$lay:t" &&
        umoci unpack --image "$lay:t" "$b" && cp -a "$tmp/root/." "$b/rootfs/" &&
        umoci repack --image "$lay:t" "$b" && rm -rf "$b" &&
        umoci unpack --image "$lay:t" "$b" && echo added > "$b/rootfs/etc/added" &&
        rm "$b/rootfs/etc/hostname" && umoci repack --image "$lay:t" "$b" && rm -rf "$b"; } \
        > "$tmp/umoci.log" 2>&1; then
        not_ok "umoci made the test image" "$tmp/umoci.log"
    else
        run image import --json --store "$tmp/store" "$lay"
        test_that "an OCI layout with two layers gives a chain of two" chain_ok "$out" 2 "$tmp/store"
        cp "$out" "$tmp/chain.json"
        top_layer=$(paths "$tmp/chain.json" | head -n 1)
        test_that "the chain is nearest first" test -e "$top_layer/Files/etc/added"
        # The chain's union, and busybox run from it.
        # shellcheck disable=SC2046 # one argument per path
        run layer create "$tmp/w2" $(paths "$tmp/chain.json")
        run layer mount "$tmp/w2"
        check "the chain mounts" 0 "$out" "$tmp/w2/rootfs"
        test_that "the upper layer's file is in the union" \
            test "$(chroot "$tmp/w2/rootfs" /bin/cat /etc/added 2> /dev/null)" = added
        test_that "the upper layer's whiteout hides the base's file" \
            test ! -e "$tmp/w2/rootfs/etc/hostname" -a -e "$tmp/w2/rootfs/etc/passwd"
        "$hcsdiag" layer unmount "$tmp/w2" && "$hcsdiag" layer remove "$tmp/w2"

        # A second, different image in the layout: --tag picks.
        umoci new --image "$lay:other" > /dev/null 2>&1
        run image import --store "$tmp/store" "$lay"
        check "two images for the platform need --tag" 1 "$err" "pick one with --tag"
        run image import --json --tag t --store "$tmp/store" "$lay"
        test_that "--tag picks the image" test "$(cat "$out")" = "$(cat "$tmp/chain.json")"
    fi
fi

# Containers from the imported chains, through the library (examples/run-image: the chain
# JSON is Container.Storage.Layers; a fresh writable layer; removed afterwards).
runner="$build/examples/run-image"
if [ "$(id -u)" -ne 0 ]; then
    skip "containers from imported chains" "needs root"
elif [ ! -x "$runner" ]; then
    not_ok "containers from imported chains: $runner is not built (make examples)"
else
    if [ -f "$tmp/podman-chain.json" ]; then
        "$runner" "$tmp/podman-chain.json" /bin/sh -c 'cat /etc/hostname; exit 4' \
            > "$out" 2> "$err"
        rc=$?
        check "a container runs from the podman image's chain, exit code kept" 4 "$out" localhost
    fi
    if [ -f "$tmp/chain.json" ]; then
        "$runner" "$tmp/chain.json" /bin/sh -c 'cat /etc/added && test ! -e /etc/hostname' \
            > "$out" 2> "$err"
        rc=$?
        check "a container from the umoci chain sees the upper layer and its whiteout" 0 \
            "$out" added
    fi
    test_that "the containers left no system and no scratch layer" \
        test -z "$(ls "$HCS_RUNTIME_ROOT/systems" 2> /dev/null)$(ls -d /tmp/run-image-* 2> /dev/null)"
fi

echo "1..$n"
