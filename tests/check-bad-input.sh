#!/usr/bin/env bash
# Bad input for shutdown and reboot requests, through virsh, against the
# patched daemon with a real guest (tools/vm-harness): each must give a clear
# libvirt error, never crash the daemon, and change nothing (the domain keeps
# running and no lifecycle request is recorded in its status XML).
#
#   tests/check-bad-input.sh [--name INSTANCE]     (default: bad1)
#
# SPDX-License-Identifier: LGPL-2.1-or-later
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
NAME=bad1
[ "${1:-}" = --name ] && NAME=$2
H="$TOP/tools/vm-harness"
fail=0 n=0

cleanup() { "$H" down --name "$NAME" >/dev/null 2>&1; }
trap cleanup EXIT

info=$("$H" up --name "$NAME") || { echo "FAIL cannot start $NAME"; exit 1; }
DOMAIN=$(sed -n 's/^DOMAIN=//p' <<<"$info")
INST=$(dirname "$(sed -n 's/^SERIAL=//p' <<<"$info")")
STATUS=$INST/run/qemu/$DOMAIN.xml
"$H" wait-agent --name "$NAME" >/dev/null || { echo "FAIL guest agent of $NAME"; exit 1; }
daemon_pid=$(cat "$INST/virtqemud.pid")

# expect_error WHAT PATTERN VIRSH-ARGS...: virsh fails, its message matches
# PATTERN, the daemon lives, the domain runs, nothing is recorded.
expect_error() {
    local what=$1 pattern=$2 out rc; shift 2
    n=$((n + 1))
    out=$("$H" virsh --name "$NAME" "$@" 2>&1); rc=$?
    local problems=()
    [ $rc -ne 0 ] || problems+=("virsh succeeded")
    grep -Eq "$pattern" <<<"$out" || problems+=("message does not match /$pattern/")
    kill -0 "$daemon_pid" 2>/dev/null || problems+=("virtqemud is gone")
    local st
    st=$("$H" virsh --name "$NAME" domstate "$DOMAIN" 2>&1 | head -1)
    [ "$st" = running ] || problems+=("domain is '$st'")
    if grep -Eq '<lifecycleRequest|<fakereboot' "$STATUS" 2>/dev/null; then
        problems+=("a request was recorded: $(grep -E '<lifecycleRequest|<fakereboot' "$STATUS" | tr -s ' ')")
    fi
    if [ ${#problems[@]} -eq 0 ]; then
        echo "ok   $what: $(tr '\n' ' ' <<<"$out" | sed 's/  */ /g' | cut -c1-150)"
    else
        fail=$((fail + 1))
        echo "FAIL $what: ${problems[*]}"
        echo "     virsh said: $out"
    fi
}

expect_error "shutdown, unknown mode" "[Uu]nknown mode" shutdown "$DOMAIN" --mode bogus
expect_error "reboot, unknown mode in a list" "[Uu]nknown mode" reboot "$DOMAIN" --mode acpi,bogus
expect_error "shutdown, initctl (no such method in QEMU)" "not supported|unsupported" shutdown "$DOMAIN" --mode initctl
expect_error "reboot, signal (no such method in QEMU)" "not supported|unsupported" reboot "$DOMAIN" --mode signal
expect_error "shutdown, paravirt (no such method in QEMU)" "not supported|unsupported" shutdown "$DOMAIN" --mode paravirt
expect_error "reboot, initctl and signal" "not supported|unsupported" reboot "$DOMAIN" --mode initctl,signal
expect_error "shutdown, domain that does not exist" "[Dd]omain not found|failed to get domain" shutdown no-such-domain
expect_error "reboot, domain that does not exist" "[Dd]omain not found|failed to get domain" reboot no-such-domain
expect_error "shutdown, empty mode" "[Uu]nknown mode|mode" shutdown "$DOMAIN" --mode ""

echo "$((n - fail)) passed, $fail failed"
[ "$fail" -eq 0 ]
