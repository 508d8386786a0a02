#!/usr/bin/env bash
# A second clone of the project on a machine where another clone already
# built the checker (issue 17). tools/build-checker's build directories
# live in $WORK, shared by every clone; one that meson configured from
# another checkout must be configured again from this one, whether that
# checkout still exists (else this clone silently runs the other one's
# checker) or was deleted (else meson's regeneration fails: "Neither
# directory contains a build file meson.build").
#
#   tests/check-second-clone.sh      (meson test second-clone, suite clones;
#                                     tools/build-checker --test runs it)
#
# Two clones of this checkout's HEAD ($SECOND_CLONE_REV: another commit)
# go to $WORK/second-clone-test/clone{1,2}, with a private LIFECYCLE_WORK
# ($WORK/second-clone-test/work, its patched/ a link to $WORK/patched: the
# libvirt build the checker links against), so $WORK/build-checker of the
# clone running the tests is never touched. Clone 2's checker source gets a
# visible change (a mark in its --help). Then, in the same build directory:
#   1. clone 1 builds: its checker;
#   2. clone 2 builds while clone 1 exists: clone 2's checker (mark shown);
#   3. clone 1 again: clone 1's checker (no mark);
#   4. clone 1 deleted, clone 2 builds: works, clone 2's checker, and the
#      build directory's commands (meson introspect/test, ninja) work and
#      point into clone 2; the checker runs against libvirt's test driver;
#   5. this checkout builds: its own checker.
# Each step's time is printed (ccache keeps the objects of each checkout).
# Needs the patched libvirt build (tools/build); exits 77 (skipped) without.
. "$(dirname "$0")/../tools/lib.sh"

lv_build=$PATCHED_BUILD
if [ ! -e "$lv_build/src/libvirt.so.0" ] || [ ! -f "$PATCHED_SRC/include/libvirt/libvirt.h" ]; then
    echo "SKIP: no patched libvirt build in $lv_build (run tools/build first)"
    exit 77
fi

if ! git -C "$TOP" rev-parse -q --verify "${SECOND_CLONE_REV:-HEAD}^{commit}" >/dev/null 2>&1; then
    echo "SKIP: $TOP is not a git checkout with ${SECOND_CLONE_REV:-HEAD} (nothing to clone)"
    exit 77
fi

T=$WORK/second-clone-test
PW=$T/work
MARK="(second clone)"     # fixed: warm runs hit ccache
rev=${SECOND_CLONE_REV:-HEAD}

FAILS=0 NTEST=0
ok()   { NTEST=$((NTEST + 1)); echo "ok $NTEST - $*"; }
fail() { NTEST=$((NTEST + 1)); FAILS=$((FAILS + 1)); echo "not ok $NTEST - $*"; }

rm -rf "$T"
mkdir -p "$PW"
trap '[ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
ln -s "$WORK/patched" "$PW/patched"
export LIFECYCLE_WORK=$PW
bld=$PW/build-checker

clone() {   # clone DIR: a clone of $rev of this checkout
    git clone -q --no-checkout "$TOP" "$1"
    git -C "$1" checkout -q --detach "$(git -C "$TOP" rev-parse "$rev")"
}
clone "$T/clone1"
clone "$T/clone2"
# the visible change in clone 2's checker: a mark in its usage text, in
# whichever source holds it (src/vlc-parse.c; src/virt-lifecycle-check.c in
# checkouts from before the checker was split)
usage_src=$(grep -lF '"Usage: virt-lifecycle-check [' "$T/clone2"/src/*.c | head -n 1) || true
[ -n "$usage_src" ] || { echo "no usage text in clone 2's checker sources"; exit 1; }
sed -i "s|\"Usage: virt-lifecycle-check \\[|\"Usage: virt-lifecycle-check $MARK [|" "$usage_src"
grep -qF "$MARK" "$usage_src" || { echo "cannot mark clone 2's checker"; exit 1; }

# build N DIR: DIR's tools/build-checker; sets BIN, prints the time
build() {
    local n=$1 dir=$2 t0 ms rc=0
    t0=$(date +%s%N)
    BIN=$("$dir/tools/build-checker" 2>"$T/build$n.err") || rc=$?
    ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    BIN=$(tail -n 1 <<<"$BIN")
    printf '# step %s: %s/tools/build-checker: exit %s, %d.%d s\n' "$n" "$dir" "$rc" $((ms / 1000)) $((ms % 1000 / 100))
    sed 's/^/#   /' "$T/build$n.err"
    if [ "$rc" = 0 ] && [ "$BIN" = "$bld/virt-lifecycle-check" ] && [ -x "$BIN" ]; then
        ok "step $n: build-checker from $dir built $BIN"
    else
        fail "step $n: build-checker from $dir: exit $rc, binary '$BIN'"
        BIN=
    fi
}

# from N DIR MARKED: the binary is built from DIR (--build-info, when the
# checkout has it) and shows the mark in --help iff MARKED=1
from() {
    local n=$1 dir=$2 marked=$3 info help
    if [ -z "$BIN" ]; then fail "step $n: no binary"; return; fi
    if help=$("$BIN" --help 2>&1); then
        ok "step $n: the binary runs --help"
    else
        fail "step $n: $BIN --help failed: $help"
    fi
    if grep -qF "$MARK" <<<"$help"; then
        [ "$marked" = 1 ] && ok "step $n: --help shows clone 2's change" \
                          || fail "step $n: --help shows clone 2's change, the binary is not from $dir"
    else
        [ "$marked" = 1 ] && fail "step $n: --help lacks clone 2's change: the binary is not built from $dir" \
                          || ok "step $n: --help without clone 2's change"
    fi
    if grep -rq -- '--build-info' "$dir/src"; then
        info=$("$BIN" --build-info 2>&1 || true)
        if grep -qxF "source: $(realpath -m "$dir")" <<<"$info"; then
            ok "step $n: --build-info: source $dir"
        else
            fail "step $n: --build-info does not name $dir: $(tr '\n' ' ' <<<"$info")"
        fi
    fi
}

build 1 "$T/clone1"; from 1 "$T/clone1" 0
build 2 "$T/clone2"; from 2 "$T/clone2" 1
build 3 "$T/clone1"; from 3 "$T/clone1" 0
rm -rf "$T/clone1"
echo "# clone 1 deleted"
build 4 "$T/clone2"; from 4 "$T/clone2" 1

# The build directory's own commands, as tools/check runs them (meson test
# -C $WORK/build-checker --suite realguest ...): they regenerate nothing
# from the deleted clone and the real-guest tests are clone 2's scripts.
if out=$(ninja -C "$bld" 2>&1); then
    ok "step 4: ninja in the build directory: $(tail -n 1 <<<"$out")"
else
    fail "step 4: ninja in the build directory: $(tail -n 3 <<<"$out")"
fi
if tests=$(meson introspect --tests "$bld" 2>&1) &&
   /usr/bin/python3 - "$T/clone2" "$tests" <<'PY'
import json, os, sys
clone, tests = sys.argv[1], json.loads(sys.argv[2])
real = [t for t in tests if "realguest" in t["suite"] or t["name"] == "cli"]
assert real, "no real-guest tests"
for t in real:
    prog = t["cmd"][0]
    assert prog.startswith(clone + "/"), "%s runs %s" % (t["name"], prog)
    assert os.path.exists(prog), "%s: %s missing" % (t["name"], prog)
PY
then
    ok "step 4: meson's real-guest tests run clone 2's scripts"
else
    fail "step 4: meson's real-guest tests do not run clone 2's scripts: ${tests:0:300}"
fi
if out=$(meson test -C "$bld" --list --suite realguest 2>&1) && grep -q lifecycle-matrix <<<"$out"; then
    ok "step 4: meson test --list --suite realguest works"
else
    fail "step 4: meson test --list --suite realguest: $(tail -n 3 <<<"$out")"
fi
# a checker run through libvirt (the test driver, no daemon needed)
if [ -n "$BIN" ] && out=$("$BIN" -c test:///default --quiet 0.3 --timeout 10 --json \
                              --expect shutoff test shutdown 2>&1); then
    ok "step 4: clone 2's checker: test:///default shutdown ends shut off"
else
    fail "step 4: clone 2's checker on test:///default: ${out:0:300}"
fi

build 5 "$TOP"; from 5 "$TOP" 0

echo "1..$NTEST"
echo "# $((NTEST - FAILS)) passed, $FAILS failed"
[ "$FAILS" -eq 0 ]
