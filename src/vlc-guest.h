/*
 * vlc-guest.h: guest-side helpers for virt-lifecycle-check
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include <glib.h>

#define VLC_CONTROL_CHANNEL_NAME "org.lifecycle.control.0"
#define VLC_BOOT_MARKER "LIFECYCLE-BOOT n="
/* printed by the guest once its acpid listens for the power button */
#define VLC_ACPI_READY_MARKER "LIFECYCLE-ACPI-READY"
/* printed by the guest's power button handler (obeyed or ignored) */
#define VLC_ACPI_PRESS_MARKER "LIFECYCLE-ACPI power button"
/* printed by the guest kernel as it powers off or resets
 * ("reboot: Power down", "reboot: Restarting system") */
#define VLC_GUEST_DOWN_MARKER "reboot: "

typedef enum {
    VLC_MARK_BOOT,
    VLC_MARK_ACPI_READY,
    VLC_MARK_ACPI_PRESS,
    VLC_MARK_GUEST_DOWN,

    VLC_MARK_LAST
} vlcSerialMark;

/* Paths found in a domain XML document; NULL when absent. */
typedef struct {
    char *controlPath;  /* <channel type='unix'> with the control target */
    char *serialPath;   /* first <serial type='file'> source path */
} vlcDomainPaths;

int vlcParseDomainPaths(const char *xml, vlcDomainPaths *paths, char **err);
void vlcDomainPathsClear(vlcDomainPaths *paths);

/* Send @cmd over the control channel socket at @path and wait up to
 * @timeout seconds for a reply line "ok CMD...".  Returns 0 and the reply
 * in @reply, or -1 with a message in @err (and whatever reply came). */
int vlcControlCommand(const char *path, const char *cmd, double timeout,
                      char **reply, char **err);


/* Watches the guest's serial log for boot markers written after it was
 * started.  Runs its own thread polling the file. */
typedef struct _vlcSerialWatch vlcSerialWatch;

typedef double (*vlcClockFunc)(void);

vlcSerialWatch *vlcSerialWatchStart(const char *path, vlcClockFunc clock);
/* Stops the thread after a last poll.  Safe with NULL. */
void vlcSerialWatchStop(vlcSerialWatch *w);
void vlcSerialWatchFree(vlcSerialWatch *w);
/* Number of markers seen so far; times (seconds from program start)
 * are copied into @times if non-NULL (caller frees with g_array_unref). */
int vlcSerialWatchBoots(vlcSerialWatch *w, GArray **times);
/* The same for any marker kind. */
int vlcSerialWatchMarks(vlcSerialWatch *w, vlcSerialMark kind, GArray **times);
/* Number of times the log was found truncated or replaced. */
int vlcSerialWatchResets(vlcSerialWatch *w);
