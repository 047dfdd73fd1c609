#!/bin/sh
# run.sh CC CXX - compile the public header as strict C11 and as C++ with every warning an
# error, with each compiler present (gcc, g++, clang, clang++). One TAP line per build.
cc=${1:-cc}; cxx=${2:-c++}
here=$(dirname "$0"); top=$here/../..
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
n=0
try() { # name compiler flags...
    name=$1; shift
    n=$((n + 1))
    if ! command -v "$1" >/dev/null 2>&1; then
        echo "ok $n - header: $name # SKIP $1 not installed"; return
    fi
    if out=$("$@" -I"$top/include" -c -o "$tmp/o.o" 2>&1); then
        echo "ok $n - header: $name"
    else
        echo "not ok $n - header: $name"; echo "$out" | sed 's/^/# /'
    fi
}
strict="-Wall -Wextra -pedantic -Werror -Wshadow -Wundef -Wconversion -Wsign-conversion"
try "C11 ($cc)" "$cc" -std=c11 $strict -Wstrict-prototypes -x c "$here/use_header.c"
try "C99 ($cc)" "$cc" -std=c99 $strict -x c "$here/use_header.c"
try "C++11 ($cxx)" "$cxx" -std=c++11 $strict -x c++ "$here/use_header.c"
try "C++17 ($cxx)" "$cxx" -std=c++17 $strict -x c++ "$here/use_header.c"
try "C11 (clang)" clang -std=c11 $strict -Weverything -Wno-padded -Wno-declaration-after-statement -x c "$here/use_header.c"
try "C++17 (clang++)" clang++ -std=c++17 $strict -Wno-padded -x c++ "$here/use_header.c"
echo "1..$n"
