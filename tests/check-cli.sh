#!/usr/bin/env bash
# Tests for virt-lifecycle-check that need no VM: command line handling,
# and real runs against libvirt's test driver (test:///default and a
# custom test:///FILE with a fake guest control channel and serial log).
#
#   tests/check-cli.sh PATH/TO/virt-lifecycle-check
#
# Needs python3 (for JSON checks and the fake guest).  Exits non-zero if
# any check fails.
set -u

CHECKER=${1:-${CHECKER:-}}
[ -n "$CHECKER" ] && [ -x "$CHECKER" ] || { echo "usage: $0 PATH/TO/virt-lifecycle-check" >&2; exit 2; }
PY=${PYTHON:-python3}
command -v "$PY" >/dev/null || { echo "python3 is needed" >&2; exit 2; }

T=$(mktemp -d /tmp/vlc-test.XXXXXX)
BGPIDS=()
cleanup() {
    local p
    for p in "${BGPIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    [ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT

FAILS=0 NTEST=0
ok()   { NTEST=$((NTEST + 1)); echo "ok $NTEST - $*"; }
fail() { NTEST=$((NTEST + 1)); FAILS=$((FAILS + 1)); echo "not ok $NTEST - $*"; }

# run NAME [ARGS...]: run the checker, keep stdout/stderr/exit status
run() {
    local name=$1; shift
    timeout 120 "$CHECKER" "$@" >"$T/$name.out" 2>"$T/$name.err"
    echo $? >"$T/$name.rc"
}

rc_is() {
    local name=$1 want=$2 got
    got=$(cat "$T/$name.rc")
    if [ "$got" = "$want" ]; then
        ok "$name: exit $want"
    else
        fail "$name: exit $got, wanted $want"
        sed 's/^/#   stdout: /' "$T/$name.out" | head -40
        sed 's/^/#   stderr: /' "$T/$name.err" | head -20
    fi
}

# grep_in NAME out|err REGEX
grep_in() {
    if grep -qE -- "$3" "$T/$1.$2"; then
        ok "$1: $2 matches /$3/"
    else
        fail "$1: $2 does not match /$3/"
        sed "s/^/#   $2: /" "$T/$1.$2" | head -20
    fi
}

empty() {
    if [ ! -s "$T/$1.$2" ]; then ok "$1: $2 empty"; else fail "$1: $2 not empty"; sed "s/^/#   /" "$T/$1.$2" | head; fi
}

# js NAME PYTHON-EXPR: the stdout of NAME is one JSON object d, EXPR holds
js() {
    local name=$1 expr=$2 msg
    if msg=$("$PY" - "$T/$name.out" "$expr" 2>&1 <<'EOF'
import json, sys
text = open(sys.argv[1]).read()
try:
    d = json.loads(text)
except ValueError as e:
    print("stdout is not one JSON object: %s" % e)
    sys.exit(1)
if not isinstance(d, dict):
    print("stdout is not a JSON object")
    sys.exit(1)
def steps(): return [s["step"] for s in d["steps"]]
def ev(): return [e["event"] if e["event"] == "reboot" else "%s/%s" % (e["type"], e["detail"]) for e in d["events"]]
def step(i): return d["steps"][i]
try:
    res = eval(sys.argv[2])
except Exception as e:
    print("%s: %r" % (type(e).__name__, e))
    sys.exit(1)
if not res:
    sys.exit(1)
EOF
    ); then
        ok "$name: $expr"
    else
        fail "$name: $expr ${msg:+($msg)}"
        sed 's/^/#   stdout: /' "$T/$name.out" | head -20
    fi
}

TD=test:///default
FAST=(--quiet 0.3 --timeout 10)


# ---------------------------------------------------------------------
# Usage errors: exit 2, message on stderr, nothing on stdout.

run help --help
rc_is help 0
grep_in help out '^Usage: virt-lifecycle-check'

# --build-info: the checkout the binary was built from (meson's test
# environment gives SOURCE_DIR) and the libvirt it runs with
run buildinfo --build-info
rc_is buildinfo 0
grep_in buildinfo out '^version: [0-9]'
grep_in buildinfo out '^source: /'
grep_in buildinfo out '^libvirt-compiled: [0-9]+\.[0-9]+\.[0-9]+$'
grep_in buildinfo out '^libvirt-runtime: [0-9]+\.[0-9]+\.[0-9]+$'
if [ -n "${SOURCE_DIR:-}" ]; then
    if grep -qxF "source: $SOURCE_DIR" "$T/buildinfo.out"; then
        ok "buildinfo: built from $SOURCE_DIR"
    else
        fail "buildinfo: not built from $SOURCE_DIR"
        sed 's/^/#   stdout: /' "$T/buildinfo.out"
    fi
fi

run noargs
rc_is noargs 2
grep_in noargs err 'missing DOMAIN'
empty noargs out

run nostep -c $TD test
rc_is nostep 2
grep_in nostep err 'missing STEP'

run unknown -c $TD test reboot frobnicate
rc_is unknown 2
grep_in unknown err "unknown step 'frobnicate'"
empty unknown out

run badmode -c $TD test shutdown=gently
rc_is badmode 2
grep_in badmode err "invalid step 'shutdown=gently'"

run badtimeout -c $TD --timeout abc test reboot
rc_is badtimeout 2
grep_in badtimeout err "invalid --timeout 'abc'"

run zerotimeout -c $TD --timeout 0 test reboot
rc_is zerotimeout 2

run negtimeout -c $TD --timeout=-3 test reboot
rc_is negtimeout 2

run inftimeout -c $TD --timeout inf test reboot
rc_is inftimeout 2

run badquiet -c $TD --quiet 1s test reboot
rc_is badquiet 2

run waitabc -c $TD test wait=abc
rc_is waitabc 2
grep_in waitabc err "invalid step 'wait=abc'"

run waitempty -c $TD test wait=
rc_is waitempty 2

run waitneg -c $TD test wait=-1
rc_is waitneg 2

for bad in lifecycle-action=reboot lifecycle-action=reboot: lifecycle-action=halt:destroy \
           lifecycle-action=reboot:explode slow=abc slow=-1 slow=; do
    run badstep -c $TD test "$bad"
    rc_is badstep 2
    empty badstep out
done
grep_in badstep err "invalid step 'slow='"
run badlc -c $TD test lifecycle-action=poweroff:sideways
grep_in badlc err 'lifecycle-action=EVENT:ACTION'

for bad in expect-request= expect-request=reboot expect-request=reboot: expect-request=:acpi \
           expect-request=halt:acpi expect-request=poweroff:acpi expect-request=reboot:signal \
           expect-request=reboot:acpi,agent expect-request=None expect-request=none:acpi \
           expect-request=reboot:acpi:x expect-request; do
    run badreq -c $TD test "$bad"
    rc_is badreq 2
    empty badreq out
    grep_in badreq err "(invalid|unknown) step '$bad'"
done
grep_in badreq err "unknown step 'expect-request'"
run badreq2 -c $TD test expect-request=reboot:paravirt
grep_in badreq2 err 'expect-request=TYPE:METHOD with TYPE shutdown or reboot and METHOD acpi or agent, or expect-request=none'

run badexpect -c $TD --expect sideways test reboot
rc_is badexpect 2
grep_in badexpect err "invalid --expect 'sideways'"

run badopt -c $TD --frobnicate test reboot
rc_is badopt 2

run noarg -c $TD test reboot --timeout
rc_is noarg 2

# daemon-restart without the command: refused before anything runs
(unset VIRT_LIFECYCLE_RESTART; run norestart -c $TD test daemon-restart)
rc_is norestart 2
grep_in norestart err 'VIRT_LIFECYCLE_RESTART'

# all steps are validated before any runs
VIRT_LIFECYCLE_RESTART="touch $T/restart-ran" run validatefirst -c $TD test daemon-restart bogus
rc_is validatefirst 2
if [ -e "$T/restart-ran" ]; then fail "validatefirst: a step ran before validation"; else ok "validatefirst: nothing ran"; fi


# ---------------------------------------------------------------------
# Test driver, test:///default, domain "test" (running at start).

run cycle -c $TD "${FAST[@]}" --json --expect running test destroy start reboot
rc_is cycle 0
js cycle 'steps() == ["destroy", "start", "reboot"]'
js cycle 'all(s["ok"] for s in d["steps"])'
js cycle 'ev() == ["stopped/destroyed", "started/booted"]'
js cycle 'd["final"]["state"] == "running" and d["final"]["reason"] == "booted" and d["final"]["timed_out"] is False'
js cycle 'd["final"]["agent"] is not None and "not supported" in d["final"]["agent"]'
js cycle 'd["pass"] is True and d["expect"] == "running" and d["domain"] == "test"'
js cycle 'd["boots"] is None and d["fatal"] is None'
js cycle 'd["uri"] == "test:///default"'
js cycle 'step(0)["t"] <= step(1)["t"] <= step(2)["t"] <= d["events"][-1]["t"] + 1 <= d["elapsed"] + 1'
js cycle 'd["elapsed"] >= 0.3'

run destroyed -c $TD "${FAST[@]}" --json --expect running test destroy
rc_is destroyed 1
js destroyed 'd["final"]["state"] == "shutoff" and d["final"]["reason"] == "destroyed"'
js destroyed 'd["pass"] is False'
js destroyed 'ev() == ["stopped/destroyed"]'

run shutdown -c $TD "${FAST[@]}" --json --expect shutoff test shutdown
rc_is shutdown 0
js shutdown 'ev() == ["stopped/shutdown"]'
js shutdown 'd["final"]["state"] == "shutoff" and d["final"]["reason"] == "shutdown"'

# The test driver reboots in place: no event, still running/booted.
run reboot -c $TD "${FAST[@]}" --json --expect running test reboot
rc_is reboot 0
js reboot 'ev() == [] and step(0)["ok"]'
js reboot 'd["final"]["state"] == "running"'

# Errors are recorded with libvirt's code and name; later steps still run.
run errors -c $TD "${FAST[@]}" --json test destroy shutdown reboot start
rc_is errors 0
js errors 'step(0)["ok"] and step(3)["ok"]'
js errors 'step(1)["ok"] is False and step(1)["code"] == 1 and step(1)["error"] == "VIR_ERR_INTERNAL_ERROR" and "not running" in step(1)["message"]'
js errors 'step(2)["ok"] is False and step(2)["code"] == 55 and step(2)["error"] == "VIR_ERR_OPERATION_INVALID"'
js errors 'd["final"]["state"] == "running" and d["pass"] is None'

# The test driver accepts no shutdown flags.
run acpi -c $TD "${FAST[@]}" --json --expect running test shutdown=acpi shutdown=agent reboot=acpi,agent
rc_is acpi 0
js acpi 'step(0)["code"] == 8 and step(0)["error"] == "VIR_ERR_INVALID_ARG"'
js acpi 'step(1)["code"] == 8'
js acpi 'step(2)["ok"]'

# suspend/resume; settle takes a paused domain as settled (its guest
# cannot act); the final state may be paused
run pause -c $TD "${FAST[@]}" --json --expect running test suspend settle resume
rc_is pause 0
js pause 'all(s["ok"] for s in d["steps"]) and step(1)["info"] == "paused/user"'
js pause 'ev() == ["suspended/paused", "resumed/unpaused"]'
run paused -c $TD "${FAST[@]}" --json --expect paused test suspend
rc_is paused 0
js paused 'd["final"]["state"] == "paused" and d["final"]["reason"] == "user" and d["final"]["managed_save"] is False'
run resumefail -c $TD "${FAST[@]}" --json test resume
js resumefail 'step(0)["ok"] is False and step(0)["error"].startswith("VIR_ERR_")'

# managedsave: shut off with a managed save image; start restores it
run msave -c $TD "${FAST[@]}" --json --expect shutoff test managedsave
rc_is msave 0
js msave 'd["final"]["reason"] == "saved" and d["final"]["managed_save"] is True'
js msave 'ev() == ["stopped/saved"]'
run mrestore -c $TD "${FAST[@]}" --json --expect running test managedsave start
rc_is mrestore 0
# (the test driver's image holds no guest memory: it reports started/booted)
js mrestore 'ev()[0] == "stopped/saved" and ev()[1].startswith("started/") and d["final"]["managed_save"] is False'
run mtext -c $TD "${FAST[@]}" test managedsave
grep_in mtext out '^final: +shutoff/saved \(managed save image\)'

# save=PATH: shut off, the memory in PATH (the test driver writes its
# XML there); restore=PATH starts it from the file and looks it up again:
# later steps and the final state use the new handle
mkdir -p "$T/saves"
run save -c $TD "${FAST[@]}" --json --expect shutoff test "save=$T/saves/test.img"
rc_is save 0
js save 'step(0)["ok"] and ev() == ["stopped/saved"]'
js save 'd["final"]["reason"] == "saved" and d["final"]["managed_save"] is False'
if [ -s "$T/saves/test.img" ]; then ok "save: image written"; else fail "save: no image $T/saves/test.img"; fi
run restore -c $TD "${FAST[@]}" --json --expect running test "save=$T/saves/r.img" "restore=$T/saves/r.img"
rc_is restore 0
js restore 'all(s["ok"] for s in d["steps"]) and ev() == ["stopped/saved", "started/restored"]'
js restore 'step(1)["info"].startswith("domain looked up again: id ")'
js restore 'd["final"]["state"] == "running" and d["final"]["reason"] == "restored" and d["final"]["managed_save"] is False'
run restoreafter -c $TD "${FAST[@]}" --json --expect shutoff test "save=$T/saves/a.img" "restore=$T/saves/a.img" suspend resume destroy
rc_is restoreafter 0
js restoreafter 'all(s["ok"] for s in d["steps"])'
js restoreafter 'ev() == ["stopped/saved", "started/restored", "suspended/paused", "resumed/unpaused", "stopped/destroyed"]'
js restoreafter 'd["final"]["reason"] == "destroyed"'
# failures are libvirt's errors; later steps still run
run restoremissing -c $TD "${FAST[@]}" --json --expect running test destroy "restore=$T/saves/no-such.img" start
rc_is restoremissing 0
js restoremissing 'step(1)["ok"] is False and step(1)["error"] == "VIR_ERR_SYSTEM_ERROR" and step(1)["code"] == 38'
js restoremissing '"no-such.img" in step(1)["message"] and "info" not in step(1)'
js restoremissing 'step(2)["ok"] and ev() == ["stopped/destroyed", "started/booted"]'
run restorerunning -c $TD "${FAST[@]}" --json --expect running test "save=$T/saves/b.img" "restore=$T/saves/b.img" "restore=$T/saves/b.img"
rc_is restorerunning 0
js restorerunning 'step(1)["ok"] and step(2)["ok"] is False and step(2)["error"] == "VIR_ERR_OPERATION_INVALID"'
run savefail -c $TD "${FAST[@]}" --json --expect running test "save=$T/no-such-dir/test.img"
rc_is savefail 0
js savefail 'step(0)["ok"] is False and step(0)["error"] == "VIR_ERR_SYSTEM_ERROR" and "no-such-dir" in step(0)["message"]'
run saveoff -c $TD "${FAST[@]}" --json test destroy "save=$T/saves/off.img"
js saveoff 'step(1)["ok"] is False and step(1)["error"] == "VIR_ERR_OPERATION_INVALID"'
run savetext -c $TD "${FAST[@]}" test "save=$T/saves/t.img" "restore=$T/saves/t.img" "restore=$T/saves/none.img"
rc_is savetext 0
grep_in savetext out 'step +save=.*/t\.img: ok'
grep_in savetext out 'step +restore=.*/t\.img: ok \(domain looked up again: id [0-9]+\)'
grep_in savetext out 'step +restore=.*/none\.img: FAILED VIR_ERR_SYSTEM_ERROR \(38\): .*none\.img'
grep_in savetext out '^final: +running/restored$'
for bad in save= restore=; do
    run badsave -c $TD test "$bad"
    rc_is badsave 2
    empty badsave out
    grep_in badsave err "invalid step '$bad': expected ${bad}PATH"
done
run badsave2 -c $TD test save
grep_in badsave2 err "unknown step 'save'"

# migrate=URI: the test driver cannot migrate; the step fails with
# libvirt's error, changes nothing, and later steps still run on the
# source. Usage: an empty URI; daemon-* after a migrate= step need the
# peer's commands.
run migratefail -c $TD "${FAST[@]}" --json --expect running test migrate=test:///default suspend resume
rc_is migratefail 0
js migratefail 'step(0)["ok"] is False and step(0)["error"].startswith("VIR_ERR_") and step(0)["code"] > 0'
js migratefail 'step(1)["ok"] and step(2)["ok"] and ev() == ["suspended/paused", "resumed/unpaused"]'
run badmigrate -c $TD test migrate=
rc_is badmigrate 2
grep_in badmigrate err "invalid step 'migrate=': expected migrate=URI"
# migrate-bandwidth=MIB: a step of its own that works (the bandwidth goes
# with the migrate= steps after it); a bandwidth that is not a whole number
# of MiB/s > 0 is a usage error
run migratebw -c $TD "${FAST[@]}" --json --expect running test migrate-bandwidth=8 migrate=test:///default
rc_is migratebw 0
js migratebw 'step(0)["ok"] and step(1)["ok"] is False and step(1)["error"].startswith("VIR_ERR_")'
for bad in migrate-bandwidth= migrate-bandwidth=0 migrate-bandwidth=-1 migrate-bandwidth=1.5 migrate-bandwidth=8x migrate-bandwidth=99999999999999999999999; do
    run badmigratebw -c $TD test "$bad"
    rc_is badmigratebw 2
    empty badmigratebw out
    grep_in badmigratebw err "invalid step '$bad': expected migrate-bandwidth=MIB"
done
VIRT_LIFECYCLE_RESTART=true run migratepeer -c $TD test daemon-restart migrate=test:///default daemon-restart
rc_is migratepeer 2
grep_in migratepeer err "step 'daemon-restart' needs its command in \\\$VIRT_LIFECYCLE_PEER_RESTART"

# lifecycle-action=EVENT:ACTION (live); the test driver accepts any pair
run lcaction -c $TD "${FAST[@]}" --json test lifecycle-action=reboot:destroy lifecycle-action=poweroff:restart lifecycle-action=crash:preserve lifecycle-action=reboot:restart
rc_is lcaction 0
js lcaction 'all(s["ok"] for s in d["steps"])'
run lcshutoff -c $TD "${FAST[@]}" --json test destroy lifecycle-action=reboot:destroy
js lcshutoff 'step(1)["ok"] is False and step(1)["error"] == "VIR_ERR_OPERATION_INVALID"'

# dump-reset: needs a directory (default: the serial log's); the test
# driver refuses VIR_DUMP_RESET|VIR_DUMP_MEMORY_ONLY, and no file is left
run dumpnodir -c $TD "${FAST[@]}" --json test dump-reset
js dumpnodir 'step(0)["ok"] is False and step(0)["error"] == "NO_DUMP_DIR" and step(0)["code"] == -1'
mkdir -p "$T/dumps"
run dumpdir -c $TD "${FAST[@]}" --json --dump-dir "$T/dumps" test dump-reset
js dumpdir 'step(0)["ok"] is False and step(0)["error"] == "VIR_ERR_INVALID_ARG"'
if [ -z "$(ls -A "$T/dumps")" ]; then ok "dumpdir: no dump file left"; else fail "dumpdir: dump file left: $(ls "$T/dumps")"; fi
run dumpbaddir -c $TD "${FAST[@]}" --json --dump-dir "$T/no-such-dir" test dump-reset
js dumpbaddir 'step(0)["error"] == "NO_DUMP_DIR" and "no-such-dir" in step(0)["message"]'

# without a daemon these need one
VIRT_LIFECYCLE_KILL=true VIRT_LIFECYCLE_START=true \
    run killnew -c $TD "${FAST[@]}" --json test daemon-kill suspend resume managedsave dump-reset lifecycle-action=reboot:destroy expect-request=none daemon-start
js killnew 'all(step(i)["error"] == "NO_CONNECTION" for i in range(1, 7))'
js killnew '"request" not in step(6)'
VIRT_LIFECYCLE_KILL=true VIRT_LIFECYCLE_START=true \
    run killsave -c $TD "${FAST[@]}" --json test daemon-kill "save=$T/saves/k.img" "restore=$T/saves/k.img" daemon-start
js killsave 'step(1)["error"] == "NO_CONNECTION" and step(2)["error"] == "NO_CONNECTION" and step(3)["ok"]'

# expect-request=: the pending request in the state group of the domain
# stats.  The test driver never reports state.lifecycle_request.*: none
# holds (running and shut off), any request is a REQUEST_MISMATCH (code
# -1), recorded with what was seen; later steps still run.
run request -c $TD "${FAST[@]}" --json --expect shutoff test expect-request=none expect-request=reboot:acpi expect-request=shutdown:agent destroy expect-request=none expect-request=shutdown:acpi
rc_is request 0
js request 'step(0)["ok"] and step(0)["info"] == "none" and step(0)["request"] is None'
js request 'step(1)["ok"] is False and step(1)["error"] == "REQUEST_MISMATCH" and step(1)["code"] == -1'
js request 'step(1)["message"] == "expected pending request reboot:acpi, domain stats show none"'
js request 'step(1)["request"] is None and step(1)["info"] == "none"'
js request 'step(2)["error"] == "REQUEST_MISMATCH" and "shutdown:agent" in step(2)["message"]'
js request 'step(3)["ok"] and step(4)["ok"] and step(4)["request"] is None'
js request 'step(5)["error"] == "REQUEST_MISMATCH" and "shutdown:acpi" in step(5)["message"]'
js request 'ev() == ["stopped/destroyed"] and d["final"]["state"] == "shutoff"'
js request '"request" not in step(3)'
run requesttext -c $TD "${FAST[@]}" test expect-request=none expect-request=reboot:agent
rc_is requesttext 0
grep_in requesttext out 'step +expect-request=none: ok \(none\)'
grep_in requesttext out 'step +expect-request=reboot:agent: FAILED REQUEST_MISMATCH \(-1\): expected pending request reboot:agent, domain stats show none \[seen: none\]'

run reset -c $TD "${FAST[@]}" --json --expect running test reset
rc_is reset 0
js reset 'step(0)["ok"] and ev() == []'

# Guest steps without a control channel: step errors, not a crash.
run noctl -c $TD "${FAST[@]}" --json --expect running test guest-poweroff guest-reboot guest-ignore-acpi guest-honor-acpi guest-ping
rc_is noctl 0
js noctl 'all(not s["ok"] and s["error"] == "NO_CONTROL_CHANNEL" and s["code"] == -1 for s in d["steps"])'

run ctlmissing -c $TD "${FAST[@]}" --json --control "$T/nonexistent.sock" test guest-reboot
rc_is ctlmissing 0
js ctlmissing 'step(0)["error"] == "CONTROL_CHANNEL_ERROR" and "nonexistent.sock" in step(0)["message"]'

# wait=SECONDS really waits, fractions allowed
run wait -c $TD "${FAST[@]}" --json test wait=0.15 destroy
rc_is wait 0
js wait 'step(0)["ok"] and step(0)["duration"] >= 0.15 and step(1)["t"] >= 0.15'

# settle: no agent on the test driver, or shut off
run settle -c $TD --quiet 0.2 --timeout 10 --json test settle destroy settle
rc_is settle 0
js settle 'step(0)["ok"] and "agent not available" in step(0)["info"]'
js settle 'step(2)["ok"] and step(2)["info"] == "shutoff/destroyed"'
js settle 'step(0)["duration"] >= 0.2'

# daemon-restart: command output goes to stderr, events are re-registered
VIRT_LIFECYCLE_RESTART='echo restart-command-output' \
    run restart -c $TD "${FAST[@]}" --json --expect shutoff test daemon-restart destroy
rc_is restart 0
grep_in restart err 'restart-command-output'
js restart 'step(0)["ok"] and step(1)["ok"]'
js restart 'ev() == ["stopped/destroyed"]'
js restart 'any("reconnected" in n["text"] for n in d["notes"])'

VIRT_LIFECYCLE_RESTART='exit 3' run restartfail -c $TD "${FAST[@]}" --json test daemon-restart
rc_is restartfail 0
js restartfail 'step(0)["ok"] is False and step(0)["error"] == "RESTART_FAILED" and "status 3" in step(0)["message"]'

# daemon-kill / daemon-start need their commands; checked before anything runs
(unset VIRT_LIFECYCLE_KILL; run nokill -c $TD test daemon-kill)
rc_is nokill 2
grep_in nokill err 'VIRT_LIFECYCLE_KILL'
(unset VIRT_LIFECYCLE_START; VIRT_LIFECYCLE_KILL=true run nostart -c $TD test daemon-kill daemon-start)
rc_is nostart 2
grep_in nostart err 'VIRT_LIFECYCLE_START'

# daemon-kill: no connection until daemon-start; libvirt steps fail with
# NO_CONNECTION, wait= and guest-* steps still run; daemon-start reconnects
# and re-registers events (test:///default: the kill command does nothing,
# the checker drops its connection)
VIRT_LIFECYCLE_KILL='echo kill-command-output' VIRT_LIFECYCLE_START='echo start-command-output' \
    run killstart -c $TD "${FAST[@]}" --json --expect shutoff test daemon-kill reboot settle wait=0.1 daemon-start destroy
rc_is killstart 0
grep_in killstart err 'kill-command-output'
grep_in killstart err 'start-command-output'
js killstart 'step(0)["ok"] and step(3)["ok"] and step(4)["ok"] and step(5)["ok"]'
js killstart 'step(1)["error"] == "NO_CONNECTION" and step(2)["error"] == "NO_CONNECTION" and step(1)["code"] == -1'
js killstart 'ev() == ["stopped/destroyed"]'
js killstart 'any("daemon killed" in n["text"] for n in d["notes"]) and any("reconnected" in n["text"] for n in d["notes"])'

VIRT_LIFECYCLE_KILL='exit 4' run killfail -c $TD "${FAST[@]}" --json test daemon-kill reboot
rc_is killfail 0
js killfail 'step(0)["error"] == "KILL_FAILED" and "status 4" in step(0)["message"] and step(1)["error"] == "NO_CONNECTION"'

# left down at the end: no final state (exit 1 with --expect)
VIRT_LIFECYCLE_KILL=true run leftdown -c $TD "${FAST[@]}" --json --expect running test daemon-kill
rc_is leftdown 1
js leftdown 'd["final"] is None and any("left down" in n["text"] for n in d["notes"])'

VIRT_LIFECYCLE_KILL=true VIRT_LIFECYCLE_START='exit 5' run startfail -c $TD --quiet 0.3 --timeout 2 --json test daemon-kill daemon-start
js startfail 'step(1)["error"] == "START_FAILED"'

# race=REQ+REQ: both calls from two threads on two connections
for bad in 'race=reboot' 'race=reboot+' 'race=reboot:bogus+shutdown' 'race=halt+reboot' 'race=reboot+shutdown+reboot' 'race=reboot:+shutdown'; do
    run racebad -c $TD test "$bad"
    rc_is racebad 2
done
grep_in racebad err 'race=REQ\+REQ'
run race -c $TD "${FAST[@]}" --json test race=reboot:acpi+shutdown
rc_is race 0
js race 'len(step(0)["race"]) == 2 and [c["call"] for c in step(0)["race"]] == ["reboot:acpi", "shutdown"]'
js race 'all(c["t"] >= step(0)["t"] and c["duration"] >= 0 for c in step(0)["race"])'
js race 'step(0)["ok"] == all(c["ok"] for c in step(0)["race"])'
js race '"reboot:acpi" in step(0)["info"] and "shutdown" in step(0)["info"]'
run racetext -c $TD "${FAST[@]}" test race=shutdown:agent+reboot
rc_is racetext 0
grep_in racetext out 'step +race=shutdown:agent\+reboot: '

# no connection at all: exit 2, still one JSON object
run noconn -c "test://$T/no-such-file.xml" "${FAST[@]}" --json test reboot
rc_is noconn 2
js noconn 'd["fatal"] and d["final"] is None and not step(0)["ok"] and step(0)["error"] == "NOT_RUN"'

run noremote -c "qemu+unix:///system?socket=$T/no-such.sock" "${FAST[@]}" --json test reboot
rc_is noremote 2
js noremote '"cannot connect" in d["fatal"]'

run nodomain -c $TD "${FAST[@]}" --json --expect running no-such-domain reboot
rc_is nodomain 2
js nodomain '"no-such-domain" in d["fatal"]'

# text output
run text -c $TD "${FAST[@]}" --expect shutoff test destroy
rc_is text 0
grep_in text out '^final: +shutoff/destroyed'
grep_in text out 'step +destroy: ok'
grep_in text out 'event +lifecycle stopped/destroyed'
grep_in text out 'expect: +shutoff: PASS'


# ---------------------------------------------------------------------
# A custom test driver domain with a control channel and a serial log
# in its XML, a fake guest answering on the control socket, and boot
# markers appended to the log while the checker runs.

SOCK=$T/control.sock
LOG=$T/serial.log
NAME='we"ird\name'
cat >"$T/node.xml" <<EOF
<node>
  <domain type='test'>
    <name>we&quot;ird\\name</name>
    <uuid>6c1f3a52-1b8e-4a0e-9d57-2f3e0c6a9b11</uuid>
    <memory>65536</memory>
    <os><type>hvm</type></os>
    <devices>
      <serial type='file'>
        <source path='$LOG'/>
        <target port='0'/>
      </serial>
      <channel type='unix'>
        <source mode='bind' path='$T/other.sock'/>
        <target type='virtio' name='org.qemu.guest_agent.0'/>
      </channel>
      <channel type='unix'>
        <source mode='bind' path='$SOCK'/>
        <target type='virtio' name='org.lifecycle.control.0'/>
      </channel>
    </devices>
  </domain>
</node>
EOF
CUSTOM=test://$T/node.xml

# fake guest: "ok CMD" for known commands, "error ..." otherwise
"$PY" - "$SOCK" <<'EOF' &
import os, socket, sys
path = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(4)
while True:
    c, _ = s.accept()
    f = c.makefile("rwb")
    cmd = f.readline().decode().strip()
    if cmd in ("poweroff", "reboot", "ignore-acpi", "honor-acpi", "ping",
               "qga-stop", "qga-hang", "qga-deny", "qga-start") or \
            cmd.startswith("slow "):
        f.write(("ok %s\r\n" % cmd).encode())
    elif cmd == "silent":
        pass
    else:
        f.write(("error unknown command %s\n" % cmd).encode())
    f.flush()
    c.close()
EOF
BGPIDS+=($!)
for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done

run ctl -c "$CUSTOM" "${FAST[@]}" --json --expect running "$NAME" guest-ping guest-ignore-acpi guest-reboot slow=70 slow=0.5 slow=0
rc_is ctl 0
js ctl '[s["info"] for s in d["steps"][3:]] == ["ok slow 70", "ok slow 0.5", "ok slow 0"]'

# dump-reset: the default directory is the serial log's (the test driver
# refuses the flags; the step reaches libvirt)
run dumpserial -c "$CUSTOM" "${FAST[@]}" --json "$NAME" dump-reset
js dumpserial 'step(0)["error"] == "VIR_ERR_INVALID_ARG"' 
js ctl 'all(s["ok"] for s in d["steps"])'
js ctl 'step(2)["info"] == "ok reboot"'
js ctl 'd["domain"] == "we\"ird\\name"'
js ctl 'd["serial"].endswith("/serial.log") and d["boots"] == 0'

# the agent fault commands; and after daemon-kill the control channel
# (read from the domain XML before the kill) still works
run qga -c "$CUSTOM" "${FAST[@]}" --json "$NAME" guest-qga-stop guest-qga-hang guest-qga-deny guest-qga-start
rc_is qga 0
js qga '[s["info"] for s in d["steps"]] == ["ok qga-stop", "ok qga-hang", "ok qga-deny", "ok qga-start"]'
VIRT_LIFECYCLE_KILL=true VIRT_LIFECYCLE_START=true \
    run ctlkill -c "$CUSTOM" "${FAST[@]}" --json --expect running "$NAME" daemon-kill guest-ping guest-reboot wait=0.1 daemon-start guest-ping
rc_is ctlkill 0
js ctlkill 'all(s["ok"] for s in d["steps"]) and step(2)["info"] == "ok reboot"'

# a reply that is not "ok CMD" is a step error
"$PY" - "$T/bad.sock" <<'EOF' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(4)
while True:
    c, _ = s.accept()
    c.makefile("rb").readline()
    c.sendall(b"ok something-else\n")
    c.close()
EOF
BGPIDS+=($!)
for _ in $(seq 50); do [ -S "$T/bad.sock" ] && break; sleep 0.1; done
run ctlbad -c "$CUSTOM" "${FAST[@]}" --json --control "$T/bad.sock" "$NAME" guest-poweroff
rc_is ctlbad 0
js ctlbad 'step(0)["error"] == "CONTROL_CHANNEL_ERROR" and "unexpected reply" in step(0)["message"] and step(0)["info"] == "ok something-else"'

# Boot markers: the one already in the log is not counted; one appended,
# then the log truncated (as QEMU does on start) and one more written.
printf 'SeaBIOS\nLIFECYCLE-BOOT n=0\n' >"$LOG"
(
    sleep 0.4; printf 'login:\nLIFECYCLE-BOOT n=1\n' >>"$LOG"
    sleep 0.4; : >"$LOG"
    sleep 0.4; printf 'Se' >>"$LOG"; sleep 0.2; printf 'aBIOS\nLIFECYCLE-BO' >>"$LOG"
    sleep 0.2; printf 'OT n=2\n' >>"$LOG"
) &
BGPIDS+=($!)
run boots -c "$CUSTOM" --quiet 2.5 --timeout 10 --json "$NAME" wait=0.1
rc_is boots 0
js boots 'd["boots"] == 2 and len(d["boot_times"]) == 2'
js boots 'any("truncated" in n["text"] for n in d["notes"])'

# --serial overrides the XML
printf 'LIFECYCLE-BOOT n=7\n' >"$T/other.log"
( sleep 0.3; printf 'LIFECYCLE-BOOT n=8\nLIFECYCLE-BOOT n=9\n' >>"$T/other.log" ) &
BGPIDS+=($!)
run serialopt -c "$CUSTOM" --quiet 1 --timeout 10 --json --serial "$T/other.log" "$NAME" wait=0.05
rc_is serialopt 0
js serialopt 'd["boots"] == 2 and d["serial"].endswith("/other.log")'


echo "1..$NTEST"
if [ "$FAILS" -gt 0 ]; then
    echo "# $FAILS of $NTEST checks failed"
    exit 1
fi
echo "# all $NTEST checks passed"
