#!/usr/bin/env bash
# test_install.sh BUILD_DIR SOURCE_DIR - plandag as a user installs it: `cmake --install`
# into a temporary prefix, an outside program (examples/embed) built against it with
# pkg-config (shared and static) and with find_package, `cpack -G DEB` with its contents
# and Depends, the man page against --help, and the bash completion.  No network; the
# temporary directory is removed on exit.  Prints "FAIL: ..." for each failed check and
# exits with their number.
set -uo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/plandag-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
plan=$src/examples/moe-10b-ep16.xml
pfx=$tmp/prefix

cmake --install "$build" --prefix "$pfx" >"$tmp/install.log" 2>&1 || fail "cmake --install"
libdir=$(dirname "$(find "$pfx" -name plandag.pc | head -1)")/..
for f in bin/plandag include/plandag/plandag.h include/plandag/pipeline.h \
  share/man/man1/plandag.1 share/bash-completion/completions/plandag \
  share/plandag/plan.xsd share/plandag/graphml.xsd share/doc/plandag/plan-format.md \
  share/doc/plandag/rules.md share/doc/plandag/executors.md share/doc/plandag/pools.md \
  share/plandag/chakra_et.proto; do
  [ -f "$pfx/$f" ] && ok "installed $f" || fail "not installed: $f"
done
for f in libplandag.a libplandag.so pkgconfig/plandag.pc cmake/plandag/plandagConfig.cmake \
  cmake/plandag/plandagConfigVersion.cmake; do
  [ -e "$libdir/$f" ] && ok "installed lib/$f" || fail "not installed: lib/$f"
done
soname=$(objdump -p "$libdir/libplandag.so" 2>/dev/null | awk '/SONAME/ {print $2}')
[[ $soname == libplandag.so.0 ]] && ok "soname $soname" || fail "soname is '$soname'"
[ -e "$libdir/libplandag.so.0.1.0" ] && ok "versioned .so" || fail "no libplandag.so.0.1.0"
exported=$(nm -D --defined-only "$libdir/libplandag.so" | awk '{print $3}')
grep -qx pd_compile_file <<<"$exported" && ok "the shared library exports the public API" ||
  fail "pd_compile_file is not exported"
internal=$(grep -c '^pd_i_' <<<"$exported" || true)
[ "$internal" = 0 ] && ok "no pd_i_ internals exported" || fail "$internal pd_i_ symbols exported"

# The installed binary runs from the prefix alone (schemas are embedded).
(cd "$tmp" && "$pfx/bin/plandag" check -q "$plan") && ok "installed plandag checks a plan" ||
  fail "installed plandag check"

# An outside program, three ways.
run_embed() { # NAME PROGRAM [env...]
  local name=$1 prog=$2
  shift 2
  local out
  if out=$(env "$@" "$prog" "$plan" 2>&1) && [[ $out == *"is valid"* && $out == *"DAG: "* ]]; then
    ok "$name runs: ${out//$'\n'/ | }"
  else
    fail "$name: $out"
  fi
}
export PKG_CONFIG_PATH=$libdir/pkgconfig
cc -Wall -Werror "$src/examples/embed/embed.c" $(pkg-config --cflags --libs plandag) \
  -o "$tmp/embed-pc" && run_embed "pkg-config (shared) build" "$tmp/embed-pc" \
  LD_LIBRARY_PATH="$libdir" || fail "cc with pkg-config --libs plandag"
cc -Wall -Werror "$src/examples/embed/embed.c" -o "$tmp/embed-pc-static" \
  $(pkg-config --cflags plandag) "$libdir/libplandag.a" \
  $(pkg-config --libs-only-other --libs-only-l --static plandag | sed 's/-lplandag//') &&
  run_embed "pkg-config --static build" "$tmp/embed-pc-static" ||
  fail "cc with pkg-config --static plandag"
if cmake -S "$src/examples/embed" -B "$tmp/embed-cmake" -DCMAKE_PREFIX_PATH="$pfx" \
  >"$tmp/cmake.log" 2>&1 && cmake --build "$tmp/embed-cmake" >>"$tmp/cmake.log" 2>&1; then
  run_embed "find_package plandag::plandag" "$tmp/embed-cmake/embed"
  run_embed "find_package plandag::plandag_static" "$tmp/embed-cmake/embed_static"
else
  fail "find_package(plandag) build: $(tail -20 "$tmp/cmake.log")"
fi

# The man page documents every command and option that --help lists.
man_src=$(sed 's/\\-/-/g' "$pfx/share/man/man1/plandag.1")
help=$("$pfx/bin/plandag" --help)
cmds=$(awk '/^commands:/ {on=1; next} /^$/ {on=0} on {print $1}' <<<"$help")
opts=$(for c in $cmds; do "$pfx/bin/plandag" "$c" --help; done | grep -oE -- '--[a-z][a-z-]+' | sort -u)
[ -n "$cmds" ] && [ -n "$opts" ] || fail "cannot read the commands and options of --help"
for w in $cmds; do
  grep -q "^\.SS $w " <<<"$man_src" && ok "man page documents command $w" ||
    fail "man page lacks command $w"
done
for w in $opts; do
  grep -qF -- "$w" <<<"$man_src" && ok "man page documents $w" || fail "man page lacks $w"
done
if command -v man >/dev/null; then
  rendered=$(MANWIDTH=100 man -l "$pfx/share/man/man1/plandag.1" 2>"$tmp/man.err")
  [[ $rendered == *"EXIT STATUS"* && ! -s $tmp/man.err ]] && ok "man -l renders the page" ||
    fail "man -l: $(cat "$tmp/man.err")"
fi

# The bash completion completes commands, option values and options.
complete_words() { # WORDS...  -> COMPREPLY of the last word
  bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _plandag;
           printf "%s\n" "${COMPREPLY[@]}"' _ "$pfx/share/bash-completion/completions/plandag" "$@"
}
[[ $(complete_words plandag ch) == check ]] && ok "completion: plandag ch -> check" ||
  fail "completion of 'ch': $(complete_words plandag ch)"
[[ $(complete_words plandag compile --emit gr) == graphml ]] && ok "completion: --emit gr" ||
  fail "completion of --emit gr: $(complete_words plandag compile --emit gr)"
[[ $(complete_words plandag report --fo) == --format ]] && ok "completion: report --fo" ||
  fail "completion of report --fo: $(complete_words plandag report --fo)"

# cpack -G DEB: the package holds the files and depends on the libraries it links.
if command -v dpkg-deb >/dev/null && command -v dpkg-shlibdeps >/dev/null; then
  if (cd "$build" && cpack -G DEB -B "$tmp/pkg" >"$tmp/cpack.log" 2>&1); then
    deb=$(ls "$tmp"/pkg/plandag_*.deb | head -1)
    contents=$(dpkg-deb -c "$deb")
    for f in ./usr/bin/plandag ./usr/lib/libplandag.so.0.1.0 ./usr/lib/libplandag.a \
      ./usr/include/plandag/plandag.h ./usr/lib/pkgconfig/plandag.pc \
      ./usr/lib/cmake/plandag/plandagConfig.cmake ./usr/share/man/man1/plandag.1 \
      ./usr/share/bash-completion/completions/plandag ./usr/share/plandag/plan.xsd; do
      grep -qF " $f" <<<"$contents" && ok "package holds $f" || fail "package lacks $f"
    done
    depends=$(dpkg-deb -f "$deb" Depends)
    for d in libc6 libgvc6 libcgraph6 libxml2 libcjson1 libprotobuf-c1 libcairo2; do
      grep -qE "(^|, )$d( |,|$)" <<<"$depends" && ok "Depends names $d" ||
        fail "Depends lacks $d: $depends"
    done
  else
    fail "cpack -G DEB: $(tail -20 "$tmp/cpack.log")"
  fi
else
  fail "dpkg-deb or dpkg-shlibdeps missing (bash .ci/deps installs dpkg-dev)"
fi
echo "$fails failure(s)"
exit "$fails"
