#!/bin/sh
# run.sh BUILD - ABI checks of the built library, one TAP line each:
# only Hcs* symbols exported, every HCS_API function of the header exported, the SONAME,
# and `make install` (DESTDIR/PREFIX) giving a header, libraries and hcs.pc that a program
# builds and runs against (shared, and static through pkg-config --static).
build=${1:-build}
here=$(dirname "$0"); top=$(cd "$here/../.." && pwd)
so="$build/libhcs.so.0"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
n=0
ok() { n=$((n + 1)); echo "ok $n - abi: $1"; }
fail() { n=$((n + 1)); echo "not ok $n - abi: $1"; [ -n "${2:-}" ] && echo "$2" | sed 's/^/# /'; }

exported=$(nm -D --defined-only "$so" | awk '{print $3}' | sort)
others=$(echo "$exported" | grep -v '^Hcs' || true)
if [ -z "$others" ]; then ok "nm -D --defined-only exports only Hcs* ($(echo "$exported" | wc -l) symbols)"
else fail "symbols other than Hcs* are exported" "$others"; fi

declared=$(sed -n 's/^HCS_API [^(]*[ *]\(Hcs[A-Za-z]*\)(.*/\1/p' "$top/include/hcs.h" | sort -u)
missing=$(echo "$declared" | while read -r f; do echo "$exported" | grep -qx "$f" || echo "$f"; done)
extra=$(echo "$exported" | while read -r f; do echo "$declared" | grep -qx "$f" || echo "$f"; done)
if [ -z "$missing" ]; then ok "every HCS_API function of hcs.h is exported ($(echo "$declared" | wc -l))"
else fail "declared but not exported" "$missing"; fi
if [ -z "$extra" ]; then ok "nothing is exported that hcs.h does not declare"
else fail "exported but not declared in hcs.h" "$extra"; fi

soname=$(readelf -d "$so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
if [ "$soname" = "libhcs.so.0" ]; then ok "SONAME is libhcs.so.0"; else fail "SONAME is '$soname'"; fi

dest="$tmp/dest"
if out=$(make -C "$top" --no-print-directory BUILD="$build" install DESTDIR="$dest" PREFIX=/opt/hcs 2>&1); then
    ok "make install DESTDIR=... PREFIX=/opt/hcs"
else
    fail "make install" "$out"
fi
for f in include/hcs.h lib/libhcs.so.0 lib/libhcs.so lib/libhcs.a lib/pkgconfig/hcs.pc share/man/man7/hcs.7; do
    if [ -e "$dest/opt/hcs/$f" ]; then ok "installed $f"; else fail "missing after install: $f"; fi
done

cat > "$tmp/prog.c" <<'C'
#include <hcs.h>
#include <stdio.h>
int main(void)
{
    char *doc = NULL;
    HRESULT hr = HcsGetServiceProperties("{\"PropertyTypes\":[\"Basic\"]}", &doc);
    printf("%s\n", doc ? doc : "(null)");
    HcsFree(doc);
    return hr == S_OK ? 0 : 1;
}
C
export PKG_CONFIG_PATH="$dest/opt/hcs/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$dest"
if flags=$(pkg-config --cflags --libs hcs 2>&1) &&
    out=$(cc -o "$tmp/prog" "$tmp/prog.c" $flags -Wl,-rpath,"$dest/opt/hcs/lib" 2>&1) &&
    out=$("$tmp/prog" 2>&1) && echo "$out" | grep -q SupportedSchemaVersions; then
    ok "a program builds with pkg-config hcs and runs against the installed libhcs.so.0"
else
    fail "build and run against the installed shared library" "$flags $out"
fi
if flags=$(pkg-config --static --cflags --libs hcs 2>&1) &&
    out=$(cc -o "$tmp/prog-static" "$tmp/prog.c" "$dest/opt/hcs/lib/libhcs.a" $flags 2>&1) &&
    out=$("$tmp/prog-static" 2>&1) && echo "$out" | grep -q SupportedSchemaVersions; then
    ok "a program links libhcs.a with pkg-config --static hcs and runs"
else
    fail "build and run against the installed static library" "$flags $out"
fi
echo "1..$n"
