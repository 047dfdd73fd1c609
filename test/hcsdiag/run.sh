#!/bin/sh
# run.sh BUILD - check the hcsdiag tool as a user would run it. One TAP line per check.
#
# Without root only the usage checks run (and the compute-system commands against an empty
# private runtime root: unknown ids). As root the rest runs in a private mount namespace
# (everything mounted there goes away with it): layer import/create/mount/export/remove through
# the tool, then images made by podman (docker-archive and oci-archive, from a private store
# under the temporary folder: --root/--runroot/--tmpdir, vfs driver, no events) and by umoci
# (an OCI layout with two layers, the upper one deleting a file), imported with
# `hcsdiag image import`, and corrupted copies of them. podman and umoci missing: those checks
# are skipped with the reason. Last, compute systems over the mkroot folder: list, create,
# start, exec, console (under script(1), and through a pty driven by python3), props,
# pause/resume, reg, wait, shutdown, kill. JSON output is parsed by python3 when it is there.
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
export HCS_RUNTIME_ROOT="$tmp/run" HCS_DATA_ROOT="$tmp/data"
# Whatever happens: background commands stopped, every compute system of the private runtime
# root terminated (its monitor then removes it), the folder removed.
bg_pids=""
cleanup() {
    for p in $bg_pids; do kill "$p" 2> /dev/null; done
    if [ -d "$HCS_RUNTIME_ROOT/systems" ]; then
        for s in "$HCS_RUNTIME_ROOT"/systems/*; do
            [ -d "$s" ] && "$hcsdiag" kill "$(basename "$s")" > /dev/null 2>&1
        done
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
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

# Compute-system commands: usage errors exit 2 before anything is opened.
run help
check "help lists the compute-system commands" 0 "$out" "exec            run a process"
check "help states the exit codes" 0 "$out" "125 when it could not run"
run start
check "start without ID is a usage error" 2 "$err" "ID is missing"
run exec some-id
check "exec without COMMAND is a usage error" 2 "$err" "COMMAND is missing"
run wait --timeout soon some-id
check "wait --timeout needs a number" 2 "$err" "--timeout soon: expected a whole number of seconds"
run shutdown --timeout 100000 some-id
check "shutdown --timeout is bounded" 2 "$err" "0 to 86400"
run kill --frob some-id
check "an unknown option is a usage error" 2 "$err" "unknown option --frob"
run list a b
check "list takes one QUERY" 2 "$err" "too many arguments"
run reg some-id frob 'HKLM\SOFTWARE'
check "reg with an unknown operation is a usage error" 2 "$err" 'unknown operation "frob"'
run reg some-id query 'HKCU\Software'
check "reg names the roots a key may start with" 2 "$err" 'invalid key name "HKCU\Software"'
run reg some-id add 'HKLM\SOFTWARE\Acme' /t REG_FOO /v x
check "reg add names the types" 2 "$err" 'unknown type "REG_FOO"'
run exec --cwd tmp some-id true
check "exec --cwd must be absolute" 2 "$err" "must be an absolute path"

# An empty private runtime root: nothing to list, unknown ids named (no root needed).
run list
test_that "list on an empty root prints only the header" \
    test "$rc" -eq 0 -a "$(cat "$out")" = "ID  STATE  OWNER  TYPE"
run list --json
test_that "list --json on an empty root prints []" test "$rc" -eq 0 -a "$(cat "$out")" = "[]"
run list '{"Owners":[1]}'
check "list names the bad field of a QUERY" 1 "$err" "Owners[0]: expected a string, got 1"
run start nope
check "start of an unknown id fails, naming it" 1 "$err" \
    'hcsdiag: start nope: HCS_E_SYSTEM_NOT_FOUND 0x8037010E: no compute system with id "nope"'
for c in shutdown kill pause resume wait props; do
    run "$c" nope
    check "$c of an unknown id fails, naming it" 1 "$err" 'no compute system with id "nope"'
done
run exec nope true
check "exec of an unknown id exits 125, naming it" 125 "$err" 'no compute system with id "nope"'
run reg nope query 'HKLM\SOFTWARE'
check "reg of an unknown id fails, naming it" 1 "$err" 'no compute system with id "nope"'

if [ "$(id -u)" -ne 0 ]; then
    skip "layers, images and compute systems" "needs root"
    echo "1..$n"
    exit 0
fi

# The registry client too (statically linked): a container can then read its own registry.
if [ -f "$build/hcsreg" ]; then
    HCSREG="$build/hcsreg" "$top/tools/mkroot" "$tmp/root" || exit 1
else
    "$top/tools/mkroot" "$tmp/root" || exit 1
fi
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


# --- compute systems --------------------------------------------------------------------------
#
# Containers over the mkroot folder, each with its own writable layer under $tmp/sys. The trap
# terminates whatever is left when a check fails.

# doc ID: a Container document for system ID.
doc() {
    printf '{"Owner":"hcsdiag-test","Container":{"Storage":{"Layers":[{"Path":"%s"}],"Path":"%s"}}}\n' \
        "$tmp/root" "$tmp/sys/$1"
}
# json_ok FILE: FILE parses as JSON (python3), or the caller skips.
have_python=false
command -v python3 > /dev/null 2>&1 && python3 -c 'import json' 2> /dev/null && have_python=true
json_ok() { python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$1" 2> /dev/null; }
# list_has ID STATE: `hcsdiag list` shows ID in STATE, owned by hcsdiag-test.
list_has() {
    "$hcsdiag" list 2> /dev/null | grep -qE "^$1 +$2 +hcsdiag-test +Container\$"
}
mkdir -p "$tmp/sys"

doc t1 > "$tmp/t1.json"
run create --id t1 "$tmp/t1.json"
check "create from a file prints the id" 0 "$out" "t1"
test_that "list shows the created system: id, state, owner, type" list_has t1 Created
run list --json
if ! $have_python; then
    skip "list --json parses as JSON" "python3 is not installed"
elif json_ok "$out" && grep -qF '"Id":"t1"' "$out"; then
    ok "list --json parses as JSON and holds the system"
else
    not_ok "list --json parses as JSON and holds the system" "$out" "$err"
fi
run list '{"Owners":["someone-else"]}'
test_that "list QUERY filters (no system of another owner)" \
    test "$rc" -eq 0 -a "$(cat "$out")" = "ID  STATE  OWNER  TYPE"
doc t2 | "$hcsdiag" create --id t2 - > "$out" 2> "$err"
rc=$?
check "create from standard input" 0 "$out" "t2"
doc t1 | "$hcsdiag" create --id t1 - > "$out" 2> "$err"
rc=$?
check "create with an id in use fails" 1 "$err" "HCS_E_SYSTEM_ALREADY_EXISTS 0x8037010F"
printf '{"Container":{"Memroy":{"SizeInMB":64},"Storage":{"Layers":[{"Path":"%s"}]}}}' \
    "$tmp/root" | "$hcsdiag" create --id bad - > "$out" 2> "$err"
rc=$?
check "create names the bad field of the document" 1 "$err" \
    'create bad: HCS_E_INVALID_JSON 0x8037010D: Container.Memroy: unknown field in Container; did you mean "Memory"?'
test_that "a rejected document leaves no system" test ! -e "$HCS_RUNTIME_ROOT/systems/bad"
run create --id bad "$tmp/missing.json"
check "create from a missing file says so" 1 "$err" "cannot open $tmp/missing.json"

run start t1
check_state "start runs the system" 0 list_has t1 Running
run start t1
check "start of a running system fails with the state" 1 "$err" \
    'HCS_E_INVALID_STATE 0x80370105: start: compute system "t1" is Running'
run pause t2
check "pause of a created system fails with the state" 1 "$err" 'compute system "t2" is Created'

# exec: output, exit code, stdin, options.
run exec t1 sh -c 'echo to-out; echo to-err >&2; exit 3'
check "exec passes the exit code through" 3 "$out" "to-out"
check "exec passes stderr through" 3 "$err" "to-err"
printf 'one\ntwo\nthree\n' | "$hcsdiag" exec -i t1 sh -c 'cat > /tmp/got; wc -l < /tmp/got' \
    > "$out" 2> "$err"
rc=$?
test_that "exec -i copies stdin to the process, to its end" \
    test "$rc" -eq 0 -a "$(tr -d ' ' < "$out")" = 3
run exec t1 cat /tmp/got
check "exec -i delivered every byte" 0 "$out" "three"
run exec --env FOO=bar --cwd /tmp --user nobody t1 sh -c 'echo "$FOO $(pwd) $(id -u)"'
test_that "exec --env, --cwd and --user reach the process" \
    test "$rc" -eq 0 -a "$(cat "$out")" = "bar /tmp 65534"
run exec t1 sh -c 'kill -TERM $$'
test_that "exec: a process ended by SIGTERM exits 143" test "$rc" -eq 143
run exec t1 no-such-program
check "exec of a missing program exits 125, naming it" 125 "$err" 'executable "no-such-program" not found'
run exec t1 sh -c 'exit 0'
test_that "exec: exit code 0 is 0" test "$rc" -eq 0

# console: under script(1), which gives hcsdiag a terminal.
if ! command -v script > /dev/null 2>&1 || ! script --help 2>&1 | grep -q -- '--return'; then
    skip "console under script" "util-linux script (with --return) is not installed"
else
    printf 'echo hello-$((6*7))\nexit 5\n' > "$tmp/console.in"
    script -q -e -c "'$hcsdiag' console t1" /dev/null < "$tmp/console.in" > "$out" 2> "$err"
    rc=$?
    check "console runs a shell on a terminal; its exit code is kept" 5 "$out" "hello-42"
    script -q -e -c "stty rows 33 cols 101; '$hcsdiag' console t1 sh -c 'stty size; tty'" \
        /dev/null < /dev/null > "$out" 2> "$err"
    rc=$?
    check "console sizes the console as the local terminal" 0 "$out" "33 101"
    check "console gives the process a terminal" 0 "$out" "/dev/pts/"
fi
# Raw mode, SIGWINCH and the terminal given back, driven through a pty by python3.
if ! $have_python; then
    skip "console raw mode, resize and restore" "python3 is not installed"
else
    python3 - "$hcsdiag" t1 > "$out" 2> "$err" << 'EOF'
import fcntl, os, pty, select, signal, struct, sys, termios, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], [sys.argv[1], "console", sys.argv[2]])
def size(rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
def read(until, limit=5):
    data, end = b"", time.time() + limit
    while until.encode() not in data and time.time() < end:
        if select.select([fd], [], [], 0.2)[0]:
            try:
                data += os.read(fd, 4096)
            except OSError:
                break
    return data.decode(errors="replace")
size(20, 70)
read("# ")
print("raw" if not termios.tcgetattr(fd)[3] & termios.ICANON else "cooked")
os.write(fd, b"stty size\n")
print(read("20 70").strip().splitlines()[-1])
size(40, 132)
os.kill(pid, signal.SIGWINCH)
time.sleep(0.2)
os.write(fd, b"stty size\n")
print(read("40 132").strip().splitlines()[-1])
os.kill(pid, signal.SIGHUP)  # passed on: the shell ends; hcsdiag exits 128+1
read("\0", 3)
_, status = os.waitpid(pid, 0)
print("exit", os.waitstatus_to_exitcode(status))
print("restored" if termios.tcgetattr(fd)[3] & termios.ICANON else "still raw")
EOF
    check "console puts the local terminal in raw mode" 0 "$out" "raw"
    check "console takes the initial size" 0 "$out" "20 70"
    check "console passes SIGWINCH on as a console resize" 0 "$out" "40 132"
    check "console passes SIGHUP on and exits with the shell's status" 0 "$out" "exit 129"
    check "console gives the terminal back" 0 "$out" "restored"
fi

# props, pause, resume.
run props t1
check "props shows a readable summary" 0 "$out" "State:        Running"
check "props lists the processes" 0 "$out" "hcs-init"
run props --json t1
if ! $have_python; then
    skip "props --json parses as JSON" "python3 is not installed"
elif json_ok "$out" && grep -qF '"Statistics":{' "$out"; then
    ok "props --json is the Properties document with Statistics"
else
    not_ok "props --json is the Properties document with Statistics" "$out" "$err"
fi
run props t1 Memory
check "props takes property type names" 0 "$out" "Memory:"
run props t1 Nonsense
check "props names an unknown property type" 1 "$err" "PropertyTypes[0]"
run pause t1
check_state "pause freezes the system" 0 list_has t1 Paused
run props t1
check "props reports Paused" 0 "$out" "State:        Paused"
run resume t1
check_state "resume thaws it" 0 list_has t1 Running

# reg: add, query (as hcsdiag and as hcsreg inside), delete.
run reg t1 add 'HKLM\SOFTWARE\Acme' /v Level /t REG_DWORD /d 0x10
check "reg add sets a DWORD" 0 "$out" "The operation completed successfully."
run reg t1 add 'HKLM\SOFTWARE\Acme\Sub' /v Words /t REG_MULTI_SZ /d 'a\0b'
check "reg add sets a MULTI_SZ in a new subkey" 0 "$out" "The operation completed successfully."
run reg t1 add 'Software\Acme' /v Bytes /t REG_BINARY /d 00ff10
check "reg add takes a hive name first and sets a BINARY" 0 "$out" "completed successfully"
run reg t1 query 'HKLM\SOFTWARE\Acme'
check "reg query shows a DWORD as hcsreg does" 0 "$out" "    Level    REG_DWORD    0x10"
check "reg query shows binary data in hex" 0 "$out" "    Bytes    REG_BINARY    00FF10"
check "reg query lists the subkeys" 0 "$out" 'HKEY_LOCAL_MACHINE\SOFTWARE\Acme\Sub'
run reg t1 query 'HKLM\SOFTWARE\Acme' /s
check "reg query /s shows the values below" 0 "$out" "    Words    REG_MULTI_SZ    a\\0b"
run reg t1 query 'HKLM\SOFTWARE\Acme' /v level --json
if ! $have_python; then
    skip "reg query --json parses as JSON" "python3 is not installed"
elif json_ok "$out" && grep -qF '"Name":"Level","DWordValue":16,"Type":"DWord"' "$out"; then
    ok "reg query /v --json gives the one RegistryValue"
else
    not_ok "reg query /v --json gives the one RegistryValue" "$out" "$err"
fi
if [ -x "$tmp/root/bin/hcsreg" ]; then
    run exec t1 hcsreg query 'HKLM\SOFTWARE\Acme' /v Level
    check "the container's own hcsreg sees what reg add set" 0 "$out" "Level    REG_DWORD    0x10"
else
    skip "the container's own hcsreg sees what reg add set" "$build/hcsreg is not built"
fi
run reg t1 query 'HKLM\SOFTWARE\Acme' /v Missing
check "reg query of a missing value fails, naming it" 1 "$err" 'no value Missing in HKEY_LOCAL_MACHINE\SOFTWARE\Acme'
run reg t1 delete 'HKLM\SOFTWARE\Acme' /v Bytes
check "reg delete /v succeeds" 0 "$out" "completed successfully"
run reg t1 query 'HKLM\SOFTWARE\Acme'
test_that "reg delete /v removes one value" eval \
    'grep -qF Level "$out" && ! grep -qF Bytes "$out"'
run reg t1 delete 'HKLM\SOFTWARE\Acme'
check "reg delete removes a key" 0 "$out" "completed successfully"
run reg t1 query 'HKLM\SOFTWARE\Acme\Sub'
check "a deleted key's subkeys are gone" 1 "$err" 'registry key Software\Acme\Sub does not exist'
run reg t1 delete 'HKLM\SOFTWARE'
check "reg delete refuses a hive's root" 1 "$err" "cannot be deleted"

# wait, shutdown, kill. A system that stops while no handle is open is removed at once: the
# wait starts first.
run wait --timeout 0 t1
check "wait --timeout on a running system times out" 1 "$err" "HCS_E_OPERATION_TIMEOUT"
"$hcsdiag" wait --timeout 30 t1 > "$tmp/wait.out" 2>&1 &
wait_pid=$!
bg_pids="$bg_pids $wait_pid"
# Until the wait has its connection to the system's monitor (a socket among its descriptors).
i=0
while ! ls -l "/proc/$wait_pid/fd" 2> /dev/null | grep -q 'socket:' && [ "$i" -lt 50 ]; do
    sleep 0.1
    i=$((i + 1))
done
sleep 0.2
run shutdown t1
check "shutdown stops the system and reports a graceful exit" 0 "$out" "t1: stopped (GracefulExit)"
wait "$wait_pid"
wait_rc=$?
test_that "wait returns when the system stops, printing how" \
    test "$wait_rc" -eq 0 -a "$(cat "$tmp/wait.out")" = "t1: stopped (GracefulExit)"
test_that "the stopped system is gone from the list" eval '! "$hcsdiag" list | grep -q "^t1 "'

run start t2
"$hcsdiag" exec t2 sh -c 'trap "" TERM; echo ready; while :; do sleep 1; done' > "$tmp/exec.out" 2>&1 &
exec_pid=$!
bg_pids="$bg_pids $exec_pid"
i=0
while ! grep -q ready "$tmp/exec.out" && [ "$i" -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
run shutdown --timeout 1 --json t2
check "shutdown --timeout kills what ignores SIGTERM: ForcedExit" 0 "$out" \
    '{"Status":0,"ExitType":"ForcedExit"}'
wait "$exec_pid"
exec_rc=$?
test_that "exec of a process killed with its system exits 137" test "$exec_rc" -eq 137

doc t3 | "$hcsdiag" create --start - > "$out" 2> "$err"
rc=$?
t3=$(cat "$out")
test_that "create --start without --id makes a GUID and starts the system" eval \
    'test "$rc" -eq 0 && echo "$t3" | grep -qx "[0-9a-f]\{8\}-[0-9a-f]\{4\}-4[0-9a-f]\{3\}-[89ab][0-9a-f]\{3\}-[0-9a-f]\{12\}" && list_has "$t3" Running'
run kill "$t3"
check "kill terminates the system at once" 0 "$out" "$t3: stopped (ForcedExit)"
run terminate "$t3"
check "kill of a removed system fails, naming it" 1 "$err" "no compute system with id \"$t3\""
test_that "no system is left" test -z "$(ls "$HCS_RUNTIME_ROOT/systems" 2> /dev/null)"

echo "1..$n"
