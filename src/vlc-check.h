/*
 * vlc-check.h: shared types of virt-lifecycle-check
 *
 * The checker's sources, one concern each:
 *   virt-lifecycle-check.c  main(), the clock and the record of a run
 *   vlc-parse.c             usage, options and step parsing
 *   vlc-conn.c              the connection, its events, daemon-* steps
 *   vlc-steps.c             the steps that act, and vlcRunStep
 *   vlc-steps-monitor.c     the steps that watch (wait=, settle,
 *                           expect-request) and the final wait
 *   vlc-report.c            the text and JSON reports
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <glib.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "vlc-guest.h"

#define VLC_EXIT_PASS 0
#define VLC_EXIT_FAIL 1
#define VLC_EXIT_ERROR 2

#define VLC_DEFAULT_TIMEOUT 60.0
#define VLC_DEFAULT_QUIET 4.0
#define VLC_MAX_SECONDS (7 * 86400.0)
#define VLC_CONTROL_TIMEOUT 5.0
#define VLC_AGENT_TIMEOUT 2           /* seconds, for guest-ping */
#define VLC_TICK_USEC (100 * 1000)
#define VLC_RECONNECT_USEC (250 * 1000)
#define VLC_RESTART_ENV "VIRT_LIFECYCLE_RESTART"
#define VLC_KILL_ENV "VIRT_LIFECYCLE_KILL"
#define VLC_START_ENV "VIRT_LIFECYCLE_START"
/* after migrate=URI, the daemon-* steps act on the destination's daemon */
#define VLC_PEER_RESTART_ENV "VIRT_LIFECYCLE_PEER_RESTART"
#define VLC_PEER_KILL_ENV "VIRT_LIFECYCLE_PEER_KILL"
#define VLC_PEER_START_ENV "VIRT_LIFECYCLE_PEER_START"
/* migrate=URI: the migration URI (VIR_MIGRATE_PARAM_URI), optional */
#define VLC_MIGRATE_URI_ENV "VIRT_LIFECYCLE_MIGRATE_URI"
/* migrate=URI: FROM=TO[;FROM=TO...], strings replaced in the domain XML
 * the destination gets (VIR_MIGRATE_PARAM_DEST_XML), optional: two
 * daemons on one host need their own unix socket paths */
#define VLC_MIGRATE_MAP_ENV "VIRT_LIFECYCLE_MIGRATE_MAP"
#define VLC_RACE_CALLS 2

/* Error names for failures that are not libvirt errors (code -1). */
#define VLC_ERR_CONTROL "CONTROL_CHANNEL_ERROR"
#define VLC_ERR_NO_CONTROL "NO_CONTROL_CHANNEL"
#define VLC_ERR_TIMEOUT "TIMEOUT"
#define VLC_ERR_RESTART "RESTART_FAILED"
#define VLC_ERR_KILL "KILL_FAILED"
#define VLC_ERR_START "START_FAILED"
#define VLC_ERR_NO_DAEMON "NO_CONNECTION"
#define VLC_ERR_RACE "RACE_SETUP_FAILED"
#define VLC_ERR_NOT_RUN "NOT_RUN"
#define VLC_ERR_NO_DUMP_DIR "NO_DUMP_DIR"
#define VLC_ERR_REQUEST_MISMATCH "REQUEST_MISMATCH"
#define VLC_ERR_NO_STATS "NO_STATS"
#define VLC_ERR_MIGRATE_MAP "BAD_MIGRATE_MAP"

/* Domain stats keys of the pending lifecycle request (state group),
 * VIR_DOMAIN_STATS_STATE_LIFECYCLE_REQUEST_* in headers that have them;
 * spelled out so that the checker builds against any libvirt. */
#define VLC_STATS_REQUEST_TYPE "state.lifecycle_request.type"
#define VLC_STATS_REQUEST_METHOD "state.lifecycle_request.method"
#define VLC_STATS_REQUEST_ELAPSED "state.lifecycle_request.time_elapsed"

typedef enum {
    VLC_STEP_SHUTDOWN,
    VLC_STEP_REBOOT,
    VLC_STEP_GUEST,
    VLC_STEP_DESTROY,
    VLC_STEP_RESET,
    VLC_STEP_START,
    VLC_STEP_WAIT,
    VLC_STEP_SETTLE,
    VLC_STEP_DAEMON_RESTART,
    VLC_STEP_DAEMON_KILL,
    VLC_STEP_DAEMON_START,
    VLC_STEP_RACE,
    VLC_STEP_SUSPEND,
    VLC_STEP_RESUME,
    VLC_STEP_LIFECYCLE_ACTION,
    VLC_STEP_DUMP_RESET,
    VLC_STEP_MANAGED_SAVE,
    VLC_STEP_SAVE,
    VLC_STEP_RESTORE,
    VLC_STEP_MIGRATE,
    VLC_STEP_MIGRATE_BANDWIDTH,
    VLC_STEP_EXPECT_REQUEST,
} vlcStepKind;

/* The pending lifecycle request as domain stats report it. */
typedef struct {
    bool seen;                  /* the stats call ran */
    bool haveType;              /* state.lifecycle_request.type present */
    int type;                   /* virDomainLifecycle */
    bool haveMethod;
    int method;                 /* VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN, ... */
    bool haveElapsed;
    unsigned long long elapsed; /* milliseconds */
} vlcRequestSeen;

/* One of the calls of a race=REQ+REQ step. */
typedef struct {
    char *text;                 /* e.g. "reboot:agent" */
    vlcStepKind kind;           /* VLC_STEP_SHUTDOWN or VLC_STEP_REBOOT */
    unsigned int flags;

    /* outcome */
    double t;
    double duration;
    bool ok;
    int code;
    char *error;
    char *message;
} vlcRaceCall;

typedef struct {
    const char *text;           /* as given on the command line */
    vlcStepKind kind;
    unsigned int flags;         /* virDomainShutdownFlags/RebootFlags */
    const char *guestCmd;       /* control channel command */
    char *guestCmdBuf;          /* ... when built from the step (slow=) */
    double seconds;             /* wait=SECONDS, slow=SECONDS */
    const char *path;           /* save=PATH, restore=PATH (in @text) */
    const char *destURI;        /* migrate=URI (in @text) */
    unsigned long long bandwidth;   /* migrate-bandwidth=MIB */
    unsigned int lcType;        /* lifecycle-action=: virDomainLifecycle */
    unsigned int lcAction;      /* ... virDomainLifecycleAction */
    const char *env;            /* daemon-*: the command's variable */
    vlcRaceCall race[VLC_RACE_CALLS];   /* race=... */
    int reqType;                /* expect-request=: virDomainLifecycle, -1: none */
    int reqMethod;              /* ... VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN etc. */

    /* outcome */
    bool ran;
    double t;
    double duration;
    bool ok;
    int code;                   /* libvirt error code; -1 for our own */
    char *error;                /* error name */
    char *message;
    char *info;                 /* guest reply, settle result, ... */
    vlcRequestSeen request;     /* expect-request= */
} vlcStep;

typedef enum {
    VLC_EVENT_LIFECYCLE,
    VLC_EVENT_REBOOT,
} vlcEventKind;

typedef struct {
    double t;
    vlcEventKind kind;
    int type;
    int detail;
} vlcEvent;

typedef struct {
    double t;
    char *text;
} vlcNote;

typedef struct {
    /* options */
    const char *uri;            /* as given, may be NULL */
    const char *domname;
    const char *controlPath;
    const char *serialPath;
    const char *dumpDir;
    const char *expect;
    double timeout;
    double quiet;
    bool json;
    bool verbose;

    vlcStep *steps;
    size_t nsteps;

    /* The connection.  @conn is also read by the close callback, so it
     * changes under @lock; everything else here is main-thread only. */
    char *connURI;              /* canonical URI, used to reconnect */
    virConnectPtr conn;
    virDomainPtr dom;
    unsigned char uuid[VIR_UUID_BUFLEN];
    bool haveUUID;
    int lifecycleCb;
    int rebootCb;
    bool closeCb;
    double lastActivity;        /* end of the last step or reconnect */
    bool daemonDown;            /* daemon-kill ran, no daemon-start yet */
    unsigned long long migrateBandwidth;    /* MiB/s for migrate=, 0: libvirt's */
    char *controlPathCached;    /* from the domain XML, for daemon-kill */

    /* Shared with the event thread, under @lock. */
    GMutex lock;
    GArray *events;             /* vlcEvent */
    GPtrArray *notes;           /* vlcNote * */
    double lastEvent;
    bool connLost;
    GArray *goneTimes;          /* double: when a connection closed (the
                                 * daemon died: daemon-kill) */

    /* results */
    char *serialPathUsed;
    vlcSerialWatch *serial;
    bool haveFinal;
    int finalState;
    int finalReason;
    bool finalGone;
    int finalManagedSave;       /* virDomainHasManagedSaveImage, -1: unknown */
    bool timedOut;
    char *finalAgent;           /* last agent ping of the final wait */
    char *fatal;
    double elapsed;
} vlcCtx;


/* virt-lifecycle-check.c: the clock and the record of a run */
double vlcNow(void);
void vlcAddNote(vlcCtx *ctx, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
void vlcRecordEvent(vlcCtx *ctx, vlcEventKind kind, int type, int detail);
double vlcLastActivity(vlcCtx *ctx);
void vlcStepFail(vlcStep *step, int code, const char *error, const char *message);
void vlcStepFailLibvirt(vlcStep *step);

/* vlc-parse.c: the command line (exits on usage errors) */
void vlcParseArgs(vlcCtx *ctx, int argc, char **argv);
/* names of the pending lifecycle request (expect-request=, domain
 * stats): "unknown-N" in @buf for others; -2 from a name not known */
const char *vlcRequestTypeName(int type, char *buf, size_t buflen);
const char *vlcRequestMethodName(int method, char *buf, size_t buflen);
int vlcRequestTypeFromName(const char *name);
int vlcRequestMethodFromName(const char *name);

/* vlc-conn.c: the connection and its events */
gpointer vlcEventThread(gpointer opaque);
void vlcErrorFunc(void *opaque, virErrorPtr err);
int vlcOpen(vlcCtx *ctx, char **err);
void vlcDeregister(vlcCtx *ctx);
int vlcCheckConnection(vlcCtx *ctx);
int vlcStepDaemon(vlcCtx *ctx, vlcStep *step);
int vlcFollow(vlcCtx *ctx, const char *uri, const char *why);

/* vlc-steps.c: the steps that act on the domain or the guest */
char *vlcControlPath(vlcCtx *ctx, vlcStep *step);
int vlcRunStep(vlcCtx *ctx, vlcStep *step);

/* vlc-steps-monitor.c: the steps that watch, and the final wait */
int vlcSleep(vlcCtx *ctx, double seconds);
int vlcStepSettle(vlcCtx *ctx, vlcStep *step);
int vlcStepExpectRequest(vlcCtx *ctx, vlcStep *step);
int vlcFinalWait(vlcCtx *ctx);

/* vlc-report.c: the reports */
int vlcPass(vlcCtx *ctx);
void vlcReportJSON(vlcCtx *ctx, int boots, GArray *bootTimes);
void vlcReportText(vlcCtx *ctx, int boots, GArray *bootTimes);
