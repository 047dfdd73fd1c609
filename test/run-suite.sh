#!/bin/sh
# run-suite.sh TAPDIR NAME COMMAND [ARGS...]
# Runs one test suite, shows its TAP output and keeps a copy in TAPDIR/NAME.tap. A suite that
# exits non-zero without reporting a failure gets a "not ok" line of its own, so a crash is
# never counted as success. Always exits 0: test/summary.sh decides.
tapdir=$1; name=$2; shift 2
mkdir -p "$tapdir"
out="$tapdir/$name.tap"
echo "# suite $name"
"$@" > "$out.raw" 2>&1
rc=$?
cat "$out.raw"
mv "$out.raw" "$out"
if [ "$rc" -ne 0 ] && ! grep -q '^not ok' "$out"; then
    echo "not ok - $name: suite exited with status $rc" | tee -a "$out"
fi
if ! grep -qE '^(ok|not ok)' "$out"; then
    echo "not ok - $name: suite reported no test" | tee -a "$out"
fi
exit 0
