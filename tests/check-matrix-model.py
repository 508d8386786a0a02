#!/usr/bin/python3
# Tests of the contract model in tools/matrix (no guest, no daemon):
# contract_outcome() on the rows of tests/lifecycle-matrix.txt is checked
# by tools/matrix itself; this covers how observed guest behaviour (a
# guest acting before the next step, a power button press lost while the
# guest boots) changes what the contract requires, and that such evidence
# never excuses a request libvirt failed to deliver to a listening guest.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import importlib.machinery
import os
import sys
import tempfile

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
matrix = importlib.machinery.SourceFileLoader(
    "matrix", os.path.join(TOP, "tools", "matrix")).load_module()

failures = 0


def check(what, got, want):
    global failures
    if got != want:
        failures += 1
        print("FAIL %s: got %r, want %r" % (what, got, want))
    else:
        print("ok   %s" % what)


def outcome(steps, report):
    rsteps = report["steps"]
    ok = [s.get("ok", True) for s in rsteps]
    acted = matrix.guest_acted_before(steps, rsteps, ok, report["events"])
    lost = matrix.guest_missed_press(steps, rsteps, ok, report)
    return matrix.contract_outcome(steps, ok, acted, lost), lost


# reboot(agent), 0.5 s, shutdown(acpi), as seen in CI: the agent call came
# back after the guest had reset (REBOOT at 1.41 and 1.47), the button was
# pressed at 1.9 while the guest was booting and never seen by it.
steps = ["reboot=agent", "wait=0.5", "shutdown=acpi"]
ci = {
    "steps": [{"t": 0.02, "duration": 1.38}, {"t": 1.40, "duration": 0.5},
              {"t": 1.90, "duration": 0.01}],
    "events": [{"t": 1.41, "event": "reboot"}, {"t": 1.47, "event": "reboot"}],
    "boot_times": [3.2], "acpi_ready_times": [4.1], "acpi_press_times": [],
}
got, lost = outcome(steps, ci)
check("press lost while booting: the guest keeps running, rebooted", got, "rebooted")
check("press lost while booting: flagged", lost, [None, None, {"reset_after": False}])

# the same, but the guest reset once more (SeaBIOS) after the request was
# recorded: a reset with a pending shutdown stops the domain (C4)
ci2 = dict(ci, events=ci["events"] + [{"t": 2.3, "event": "reboot"}],
           boot_times=[3.9], acpi_ready_times=[4.8])
got, lost = outcome(steps, ci2)
check("lost press, then the guest resets: shut off", got, "shutoff")

# the same, but the second reset's event reached the client 4 ms after the
# request step started (CI, 2026-11-30: events at 1.16 and 1.19, step at
# 1.186): the daemon may have handled it before recording the request, so
# it is flagged ambiguous and run_row accepts either outcome
ci5 = dict(ci, steps=[{"t": 0.002, "duration": 1.033}, {"t": 1.035, "duration": 0.151},
                      {"t": 1.186, "duration": 0.005}],
           events=[{"t": 1.16, "event": "reboot"}, {"t": 1.19, "event": "reboot"}],
           boot_times=[2.9], acpi_ready_times=[2.96])
got, lost = outcome(steps, ci5)
check("lost press, reset within 50 ms of the request: ambiguous", lost,
      [None, None, {"reset_after": True, "ambiguous": True}])

# the same, but that reset shows as the domain stopping (QEMU powers off
# instead of resetting while a shutdown is pending, C4): shut off
ci3 = dict(ci, events=ci["events"] + [{"t": 2.3, "event": "lifecycle",
                                       "type": "stopped", "detail": "shutdown"}],
           boot_times=[], acpi_ready_times=[])
got, lost = outcome(steps, ci3)
check("lost press, then the guest resets into a stop: shut off", got, "shutoff")

# the guest saw the press: normal rules (shut off)
ci3 = dict(ci, acpi_press_times=[4.5])
got, lost = outcome(steps, ci3)
check("press seen after boot: shut off", got, "shutoff")
check("press seen: not flagged", lost, [None, None, None])

# the guest was listening again before the press: never excused
ci4 = dict(ci, acpi_ready_times=[1.8])
got, lost = outcome(steps, ci4)
check("listening guest, no press seen: contract still shut off", got, "shutoff")

# no reset before the press (guest up since the row started): never excused
steps5 = ["reboot=agent", "wait=0.5", "shutdown=acpi"]
ci5 = {
    "steps": [{"t": 0.02, "duration": 0.3}, {"t": 0.32, "duration": 0.5},
              {"t": 0.82, "duration": 0.01}],
    "events": [{"t": 1.41, "event": "reboot"}],
    "boot_times": [], "acpi_ready_times": [], "acpi_press_times": [],
}
got, lost = outcome(steps5, ci5)
check("guest up, no press seen: contract still shut off", got, "shutoff")
check("guest up: not flagged", lost, [None, None, None])

# an agent request is never 'lost' this way
steps6 = ["reboot=acpi", "wait=0.5", "shutdown=agent"]
got, lost = outcome(steps6, dict(ci))
check("agent requests are not judged by the power button", lost, [None, None, None])

# reboot (agent), then at once guest-poweroff: the control command waited
# until the guest, rebooting for the agent request (REBOOT at 1.38), ran
# its control program again, and powered it off only then (seen in CI):
# the reboot was carried out first, then the guest powered off: shut off
steps7 = ["reboot=agent", "guest-poweroff"]
ci7 = {
    "steps": [{"t": 0.005, "duration": 1.09}, {"t": 1.095, "duration": 4.539}],
    "events": [{"t": 1.38, "event": "reboot"}, {"t": 1.44, "event": "reboot"},
               {"t": 5.94, "event": "lifecycle", "type": "shutdown"},
               {"t": 7.57, "event": "lifecycle", "type": "stopped"}],
    "boot_times": [5.437], "acpi_ready_times": [5.637], "acpi_press_times": [],
}
got, lost = outcome(steps7, ci7)
check("guest command carried out after the guest rebooted: shut off", got, "shutoff")
# the same command answered at once (before the guest acted): the pending
# reboot turns the power-off into a reboot
ci8 = dict(ci7, steps=[{"t": 0.005, "duration": 0.3}, {"t": 0.305, "duration": 0.4}],
           events=[{"t": 0.9, "event": "lifecycle", "type": "shutdown"},
                   {"t": 1.3, "event": "reboot"}])
got, lost = outcome(steps7, ci8)
check("guest command answered before the guest acted: rebooted", got, "rebooted")

# daemon-kill takes effect when the daemon dies, not when the kill command
# starts (it runs 1-3 s). reboot(agent).shutdown(acpi).kill with the
# times of a CI run: the guest resets for the agent request (first wins;
# serial log at DOWN), the ACPI shutdown is pending and young.
steps9 = ["reboot=agent", "shutdown=acpi", "daemon-kill", "daemon-start"]
times9 = [(0.014, 1.168), (1.182, 0.762), (1.943, 3.247), (5.19, 0.72)]
for down, gone, want, why in (
        (2.5, [4.9], "shutoff", "reset while the kill command ran, daemon alive: V5 stops it"),
        (5.0, [2.1], "rebooted", "reset after the daemon died: nobody stops it (V10)"),
        (2.5, [], "rebooted", "no close seen: the kill counts from the step's start")):
    got = matrix.contract_outcome(steps9, [True] * 4, times=times9,
                                  down_times=[down], gone_times=gone)
    check("kill: " + why, got, want)

# a failed step changes nothing
got = matrix.contract_outcome(["reboot=acpi", "shutdown=agent"], [True, False])
check("failed agent request keeps the reboot", got, "rebooted")


# ---------------------------------------------------------------------------
# Contract v2 (W = 60 s): time, V2..V10, on_poweroff/on_reboot in force when
# the guest acts.
co = matrix.contract_outcome
T, F = True, False
TIMEOUT = "VIR_ERR_AGENT_COMMAND_TIMEOUT"

# V2: an agent request sent and not answered in time is pending all the same
s = ["slow=70", "reboot=acpi", "shutdown=agent"]
check("V2 slow guest: the timed-out agent shutdown replaced the reboot: shut off",
      co(s, [T, T, F], errors=[None, None, TIMEOUT]), "shutoff")
check("V2 refused (denied) agent shutdown: the reboot stands",
      co(s, [T, T, F], errors=[None, None, "VIR_ERR_AGENT_COMMAND_FAILED"]), "rebooted")
check("V2 guest-sync timed out (never sent): the reboot stands",
      co(s, [T, T, F], errors=[None, None, "VIR_ERR_AGENT_UNRESPONSIVE"]), "rebooted")
# the timed-out agent reboot of a hung agent is pending, and young if the
# call came back early (made-up times), expired after 60 s
s = ["guest-qga-hang", "reboot=agent", "guest-qga-start", "guest-poweroff"]
e = [None, TIMEOUT, None, None]
check("V2+V9 hung agent: timed-out agent reboot 10 s old: the power-off reboots",
      co(s, [T, F, T, T], errors=e, times=[(0, 1), (1, 10), (11, 1), (12, 0.2)]),
      "rebooted")
check("V2+V9 hung agent: timed-out agent reboot 61 s old counts as none: shut off",
      co(s, [T, F, T, T], errors=e, times=[(0, 1), (1, 60), (61, 1), (62, 0.2)]),
      "shutoff")
check("V2 a hung agent never carries the request out",
      co(["guest-qga-hang", "shutdown=agent", "guest-qga-start"], [T, F, T],
         errors=[None, TIMEOUT, None]), "running")

# V3: the last recorded request wins
check("V3 reboot(acpi), shutdown(acpi): shut off",
      co(["reboot=acpi", "shutdown=acpi"], [T, T]), "shutoff")

# V4 and on_poweroff/on_reboot applied when the guest acts, with the values then
s = ["lifecycle-action=reboot:destroy", "guest-ignore-acpi", "reboot=acpi",
     "lifecycle-action=reboot:restart", "guest-honor-acpi", "guest-poweroff"]
check("V4 on_reboot destroy at the call, restart when the guest powers off: rebooted",
      co(s, [T] * 6), "rebooted")
s = ["guest-ignore-acpi", "reboot=acpi", "lifecycle-action=reboot:destroy",
     "guest-honor-acpi", "guest-poweroff"]
check("V4 on_reboot restart at the call, destroy when the guest powers off: shut off",
      co(s, [T] * 5), "shutoff")
check("V4 on_poweroff=restart, no request, guest powers off: rebooted",
      co(["lifecycle-action=poweroff:restart", "guest-poweroff"], [T, T]), "rebooted")
check("refused lifecycle action (on_poweroff restart + on_reboot destroy) changes nothing",
      co(["lifecycle-action=reboot:destroy", "lifecycle-action=poweroff:restart",
          "guest-poweroff"], [T, T, T]), "shutoff")
check("lifecycle_action_ok: preserve refused for on_reboot",
      matrix.lifecycle_action_ok("destroy", "restart", "reboot", "preserve"), False)

# V5: the guest resets itself
s = ["guest-ignore-acpi", "shutdown=acpi", "wait=5", "guest-reboot"]
check("V5 shutdown 5 s old, guest resets: on_poweroff destroy: shut off",
      co(s, [T] * 4), "shutoff")
check("V5 shutdown 5 s old, guest resets, on_poweroff=restart: rebooted",
      co(["lifecycle-action=poweroff:restart"] + s, [T] * 5), "rebooted")
check("V5 shutdown 65 s old, guest resets: it just reboots",
      co(["guest-ignore-acpi", "shutdown=acpi", "wait=65", "guest-reboot"], [T] * 4),
      "rebooted")
check("V5 request used up by the reset: a later power-off shuts off",
      co(["guest-ignore-acpi", "reboot=acpi", "guest-reboot", "guest-poweroff"],
         [T] * 4), "shutoff")

# V7/V8: libvirt's own resets, managed save, destroy use the request up
for r in ("reset", "dump-reset"):
    check("V7 %s uses a pending shutdown up: the guest's reset later reboots" % r,
          co(["guest-ignore-acpi", "shutdown=acpi", r, "settle", "guest-reboot"],
             [T] * 5), "rebooted")
check("V12 managed save + start carries an ACPI reboot",
      co(["guest-ignore-acpi", "reboot=acpi", "managedsave", "start",
          "guest-poweroff"], [T] * 5), "rebooted")
check("V12 save + restore carries an ACPI reboot",
      co(["guest-ignore-acpi", "reboot=acpi", "save=IMAGE", "restore=IMAGE",
          "guest-poweroff"], [T] * 5), "rebooted")
check("V12 the time on disk does not count: a shutdown 50 s old, 100 s "
      "saved, the guest resets 5 s after the restore: stopped",
      co(["guest-ignore-acpi", "shutdown=acpi", "wait=50", "managedsave",
          "wait=100", "start", "wait=5", "guest-reboot"], [T] * 8), "shutoff")
check("V12 ... and 15 s after the restore (65 s of run time): boots again",
      co(["guest-ignore-acpi", "shutdown=acpi", "wait=50", "managedsave",
          "wait=100", "start", "wait=15", "guest-reboot"], [T] * 8), "rebooted")
check("V12 a shutdown older than W is not carried",
      co(["guest-ignore-acpi", "shutdown=acpi", "wait=65", "managedsave",
          "start", "guest-reboot"], [T] * 6), "rebooted")
check("V8 a saved file restored, then destroyed and started: nothing pending",
      co(["guest-ignore-acpi", "reboot=acpi", "save=IMAGE", "start",
          "guest-poweroff"], [T] * 5), "shutoff")
check("V8 a failed managed save carries nothing and changes nothing",
      co(["guest-ignore-acpi", "reboot=acpi", "managedsave", "start",
          "guest-poweroff"], [T, T, F, T, T]), "rebooted")
check("V12 migrate carries an ignored ACPI reboot",
      co(["guest-ignore-acpi", "reboot=acpi", "migrate=PEER", "guest-poweroff"],
         [T] * 4), "rebooted")
check("V12 migrate carries an ignored ACPI shutdown: a reset within W stops",
      co(["guest-ignore-acpi", "shutdown=acpi", "migrate=PEER", "guest-reboot"],
         [T] * 4), "shutoff")
check("V12 nothing pending, migrate, guest powers off: shut off",
      co(["migrate=PEER", "guest-poweroff"], [T] * 2), "shutoff")
check("V8 managed save: outcome saved",
      co(["guest-ignore-acpi", "reboot=acpi", "managedsave"], [T] * 3), "saved")
check("V8 restore keeps the guest's memory: it still ignores the button",
      co(["guest-ignore-acpi", "managedsave", "start", "shutdown=acpi"], [T] * 4),
      "running")

# V9: after W only a pending ACPI reboot keeps an effect
check("V9 ACPI reboot 65 s old, guest powers off: rebooted",
      co(["guest-ignore-acpi", "reboot=acpi", "wait=65", "guest-poweroff"], [T] * 4),
      "rebooted")

# V10: daemon restart
check("V10 user-paused domain stays paused across a restart",
      co(["guest-ignore-acpi", "reboot=acpi", "suspend", "daemon-restart"], [T] * 4),
      "paused")
check("V10 ... with its request kept",
      co(["guest-ignore-acpi", "reboot=acpi", "suspend", "daemon-restart", "resume",
          "guest-honor-acpi", "guest-poweroff"], [T] * 7), "rebooted")
check("a paused guest does not act",
      co(["reboot=acpi", "suspend"], [T, T]), "paused")
check("... until resumed",
      co(["reboot=acpi", "suspend", "wait=3", "resume"], [T] * 4), "rebooted")
check("V10 shutdown older than W does not survive a restart",
      co(["guest-ignore-acpi", "shutdown=acpi", "wait=65", "daemon-restart",
          "guest-reboot"], [T] * 5), "rebooted")
check("V10 young shutdown survives a restart",
      co(["guest-ignore-acpi", "shutdown=acpi", "daemon-restart", "guest-reboot"],
         [T] * 4), "shutoff")
check("V10 ACPI reboot survives a restart at any age",
      co(["guest-ignore-acpi", "reboot=acpi", "wait=65", "daemon-restart",
          "guest-poweroff"], [T] * 5), "rebooted")
check("V10 agent reboot of a running domain dropped on reconnect",
      co(["guest-qga-hang", "reboot=agent", "guest-qga-start", "daemon-restart",
          "guest-poweroff"], [T, F, T, T, T], errors=[None, TIMEOUT, None, None, None],
         times=[(0, 1), (1, 5), (6, 1), (7, 2), (9, 0.2)]), "shutoff")
check("V10 guest resets while no daemon runs: boots again with a shutdown pending",
      co(["guest-ignore-acpi", "shutdown=acpi", "daemon-kill", "guest-reboot",
          "wait=2", "daemon-start"], [T, T, T, T, T, T]), "rebooted")
check("V10 guest powers off while no daemon runs: the restarted daemon decides",
      co(["guest-ignore-acpi", "reboot=acpi", "daemon-kill", "guest-poweroff",
          "wait=2", "daemon-start"], [T] * 6), "rebooted")
check("clock: the guest carries an agent reboot out during wait=2",
      co(["reboot=agent", "wait=2", "guest-poweroff"], [T] * 3), "shutoff")

# V11: expect-request= only looks; it changes nothing, held or not, and
# what it must see is what the model has pending (and effective) then
s = ["guest-ignore-acpi", "reboot=acpi", "expect-request=reboot:acpi", "wait=65",
     "expect-request=reboot:acpi", "guest-honor-acpi", "guest-poweroff"]
seen = {}
check("V11 observation: ACPI reboot, 65 s, guest powers off: rebooted",
      co(s, [T] * 7, seen=seen), "rebooted")
check("V11 an ACPI reboot stays visible past W", seen,
      {2: "reboot:acpi", 4: "reboot:acpi"})
check("V11 a failed observation changes nothing either",
      co(s, [T, T, F, T, F, T, T], errors=[None, None, "REQUEST_MISMATCH", None,
                                           "REQUEST_MISMATCH", None, None]),
      "rebooted")
s = ["guest-ignore-acpi", "shutdown=acpi", "expect-request=shutdown:acpi", "wait=65",
     "expect-request=none"]
seen = {}
check("V11 observation: ignored shutdown, 65 s: running",
      co(s, [T] * 5, seen=seen), "running")
check("V11 a shutdown is no longer visible after W", seen,
      {2: "shutdown:acpi", 4: "none"})
seen = {}
co(["guest-qga-hang", "reboot=agent", "expect-request=reboot:agent", "wait=65",
    "expect-request=none"], [T, F, T, T, T], errors=[None, TIMEOUT, None, None, None],
   times=[(0, 1), (1, 5), (6, 0), (6, 65), (71, 0)], seen=seen)
check("V11 a timed-out agent reboot is visible, then not after W", seen,
      {2: "reboot:agent", 4: "none"})
seen = {}
co(["expect-request=none", "reboot=acpi", "expect-request=reboot:acpi", "wait=3",
    "expect-request=none", "guest-ignore-acpi", "shutdown=acpi", "destroy",
    "expect-request=none"], [T] * 9, seen=seen)
check("V11 a request used up by the guest, or by destroy, is no longer visible",
      seen, {0: "none", 2: "reboot:acpi", 4: "none", 8: "none"})
seen = {}
co(["guest-ignore-acpi", "shutdown=acpi", "daemon-kill", "expect-request=none",
    "daemon-start", "expect-request=shutdown:acpi"], [T, T, T, F, T, T],
   errors=[None, None, None, "NO_CONNECTION", None, None], seen=seen)
check("V11 no daemon: nothing to look at; the request survives the restart",
      seen, {3: None, 5: "shutdown:acpi"})


def problems(steps, rsteps, flavour, fails=None):
    row = {"steps": steps, "fails": fails or [None] * len(steps)}
    seen = {}
    co(steps, [r.get("ok", False) for r in rsteps],
       errors=[r.get("error") for r in rsteps], seen=seen)
    return matrix.observation_problems(row, rsteps, flavour, seen)


OK = {"t": 1.0, "ok": True, "info": "none"}
MISS = {"t": 1.0, "ok": False, "error": "REQUEST_MISMATCH", "info": "none"}
# (the second observation is wrong by the contract: on the patched daemon
# it must fail, with REQUEST_MISMATCH)
s = ["guest-ignore-acpi", "reboot=acpi", "expect-request=reboot:acpi", "expect-request=none"]
check("V11 run: patched daemon shows the request: no problem",
      problems(s, [OK, OK, OK, MISS], "patched"), [])
check("V11 run: patched daemon shows no request: both observations are problems",
      len(problems(s, [OK, OK, MISS, OK], "patched")), 2)
check("V11 run: pristine daemon shows no request, as expected: no problem",
      problems(s, [OK, OK, MISS, OK], "pristine"), [])
check("V11 run: pristine daemon must fail with REQUEST_MISMATCH",
      len(problems(s, [OK, OK, dict(MISS, error="VIR_ERR_NO_SUPPORT"), OK], "pristine")), 1)
check("V11 run: a step marked STEP!ERROR is judged by check_fails only",
      problems(s, [OK, OK, MISS, OK], "patched",
               fails=[None, None, ["REQUEST_MISMATCH"], ["REQUEST_MISMATCH"]]), [])


# tests/lifecycle-*.txt: read_matrix checks each row's outcome and its
# expect-request= steps against the model

def read_rows(text):
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as f:
        f.write(text)
        f.flush()
        try:
            return matrix.read_matrix(f.name)
        except SystemExit as e:
            return str(e)


for name in ("lifecycle-matrix.txt", "lifecycle-faults.txt"):
    try:
        rows = matrix.read_matrix(os.path.join(TOP, "tests", name))
        check("tests/%s agrees with the model" % name, bool(rows), True)
    except SystemExit as e:
        check("tests/%s agrees with the model" % name, str(e), "")
got = read_rows("r running guest-ignore-acpi shutdown=acpi wait=65 expect-request=shutdown:acpi\n")
check("read_matrix: an expect-request= the contract contradicts is refused",
      "the contract says the request visible then is none" in got, True)
got = read_rows("r running guest-ignore-acpi shutdown=acpi wait=65 "
                "expect-request=shutdown:acpi!REQUEST_MISMATCH\n")
check("read_matrix: ... unless it is marked to fail", isinstance(got, list), True)
got = read_rows("r running expect-request=poweroff:acpi\n")
check("read_matrix: a bad expect-request= argument is refused",
      "want expect-request=TYPE:METHOD" in got, True)

# CI, 2026-12-06: reboot(agent), shutdown(acpi), daemon-kill. The guest's
# kernel printed its reset line at 1.171, 4 ms before shutdown(acpi)
# started; the daemon recorded the request, then handled the RESET with a
# shutdown pending (V5: stopped, SHUTDOWN/host). Seen from the client the
# guest acted before the request and the press was lost (rebooted); the
# daemon may have seen the other order: both outcomes hold.
steps = ["reboot=agent", "shutdown=acpi", "daemon-kill", "daemon-start"]
rsteps = [{"t": 0.016, "duration": 1.159}, {"t": 1.175, "duration": 0.168},
          {"t": 1.343, "duration": 2.229}, {"t": 3.572, "duration": 0.7}]
ok = [True] * 4
kill = {"steps": rsteps,
        "events": [{"t": 1.33, "event": "lifecycle", "type": "shutdown",
                    "detail": "host"},
                   {"t": 1.38, "event": "lifecycle", "type": "stopped",
                    "detail": "shutdown"}],
        "boot_times": [], "acpi_ready_times": [], "acpi_press_times": []}
times = [(s["t"], s["duration"]) for s in rsteps]


def late(down):
    near = set()
    acted = matrix.guest_acted_before(steps, rsteps, ok, kill["events"],
                                      down, near)
    lost = matrix.guest_missed_press(steps, rsteps, ok, kill, down)
    first = matrix.contract_outcome(steps, ok, acted, lost, None, times, {},
                                    down, [1.565])
    alt = matrix.acted_late_outcome(steps, ok, acted, lost, near, None, times,
                                    down, [1.565]) if near else None
    return first, sorted(near), alt


check("reset line 4 ms before the request: acted first, press lost",
      late([1.171])[:2], ("rebooted", [1]))
check("... or the request was recorded first: V5, shut off",
      late([1.171])[2], "shutoff")
check("reset line 300 ms before the request: no other order",
      late([0.875]), ("rebooted", [], None))

# observed outcomes
check("observed: paused", matrix.observed_outcome(
    {"final": {"state": "paused", "reason": "user"}, "boots": 0}), "paused")
check("observed: managed save", matrix.observed_outcome(
    {"final": {"state": "shutoff", "reason": "saved", "managed_save": True}}), "saved")

print("%d failed" % failures)
sys.exit(1 if failures else 0)
