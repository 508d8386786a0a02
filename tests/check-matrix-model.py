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

# a failed step changes nothing
got = matrix.contract_outcome(["reboot=acpi", "shutdown=agent"], [True, False])
check("failed agent request keeps the reboot", got, "rebooted")

print("%d failed" % failures)
sys.exit(1 if failures else 0)
