/*
 * virt-lifecycle-check.c: drive a libvirt domain through a sequence of
 * lifecycle steps (shutdown, reboot, guest-side actions, ...) and report
 * what happened: each step's outcome, every domain event, the final state
 * and the number of guest boots.
 *
 * Uses libvirt's public API only (libvirt and libvirt-qemu).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>

#include <libvirt/libvirt.h>
#include <libvirt/libvirt-qemu.h>
#include <libvirt/virterror.h>

#include "vlc-build-info.h"
#include "vlc-guest.h"
#include "vlc-json.h"
#include "vlc-names.h"

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


static gint64 vlcStartUsec;


static double
vlcNow(void)
{
    return (double)(g_get_monotonic_time() - vlcStartUsec) / G_USEC_PER_SEC;
}


static void
vlcUsage(FILE *fp)
{
    fprintf(fp,
"Usage: virt-lifecycle-check [OPTION...] DOMAIN STEP...\n"
"\n"
"Run lifecycle STEPs against DOMAIN back to back, record each step's outcome\n"
"and every lifecycle/reboot event, wait until the domain is quiet and report\n"
"the final state and the number of guest boots.\n"
"\n"
"Options:\n"
"  -c, --connect URI     libvirt connection URI (default: libvirt's default)\n"
"      --timeout SECONDS bound for each settle step and for the final wait\n"
"                        (default %g)\n"
"      --quiet SECONDS   quiet period without events that ends waiting\n"
"                        (default %g)\n"
"      --expect STATE    expected final state: running or shutoff (or any\n"
"                        other state name); exit 1 when it does not hold\n"
"      --json            print one JSON object instead of text\n"
"      --control PATH    control channel socket (default: from domain XML,\n"
"                        <channel type='unix'> with target name\n"
"                        '" VLC_CONTROL_CHANNEL_NAME "')\n"
"      --serial PATH     guest serial log to count boots in (default: from\n"
"                        domain XML, <serial type='file'>)\n"
"      --dump-dir DIR    where dump-reset writes its (deleted) dump file\n"
"                        (default: the directory of the serial log)\n"
"  -v, --verbose         log progress on stderr\n"
"      --build-info      print the checker's version, the source directory\n"
"                        it was built from and the libvirt it was built\n"
"                        against and runs with, and exit\n"
"  -h, --help            show this help\n"
"\n"
"Steps:\n"
"  shutdown[=MODE[,MODE...]]  virDomainShutdownFlags; MODE is acpi, agent,\n"
"                             initctl, signal, paravirt or default\n"
"  reboot[=MODE[,MODE...]]    virDomainReboot, same modes\n"
"  destroy, reset, start      virDomainDestroy, virDomainReset, virDomainCreate\n"
"                             (start restores a managed save image)\n"
"  suspend, resume            virDomainSuspend, virDomainResume\n"
"  managedsave                virDomainManagedSave\n"
"  dump-reset                 virDomainCoreDumpWithFormat with\n"
"                             VIR_DUMP_RESET|VIR_DUMP_MEMORY_ONLY into\n"
"                             --dump-dir; the file is deleted afterwards\n"
"  lifecycle-action=EVENT:ACTION\n"
"                             virDomainSetLifecycleAction, AFFECT_LIVE;\n"
"                             EVENT poweroff, reboot or crash; ACTION\n"
"                             destroy, restart, rename-restart, preserve,\n"
"                             coredump-destroy or coredump-restart\n"
"  guest-poweroff, guest-reboot, guest-ignore-acpi, guest-honor-acpi,\n"
"  guest-ping, guest-qga-stop, guest-qga-hang, guest-qga-deny,\n"
"  guest-qga-start            command sent over the guest's control channel\n"
"  slow=SECONDS               the guest waits SECONDS after a power button\n"
"                             press or an agent request before it acts\n"
"                             (control command; slow=0: back to normal)\n"
"  wait=SECONDS               sleep (fractions allowed)\n"
"  settle                     wait for quiet, then until the guest agent\n"
"                             answers or the domain is shut off\n"
"  daemon-restart             run $" VLC_RESTART_ENV " with /bin/sh and\n"
"                             reconnect\n"
"  daemon-kill                run $" VLC_KILL_ENV " with /bin/sh and go on\n"
"                             without a connection (guest-* and wait= work)\n"
"  daemon-start               run $" VLC_START_ENV " with /bin/sh and\n"
"                             reconnect\n"
"  race=REQ+REQ               two requests at the same moment from two\n"
"                             threads on two connections; REQ is\n"
"                             shutdown[:MODE[,MODE...]] or reboot[:...]\n"
"  expect-request=TYPE:METHOD, expect-request=none\n"
"                             the pending lifecycle request in the domain\n"
"                             stats (state.lifecycle_request.*) must be\n"
"                             TYPE (shutdown or reboot) sent by METHOD\n"
"                             (acpi or agent), or there must be none\n"
"\n"
"Exit status: 0 when --expect holds (or none was given), 1 when it does not,\n"
"2 on usage errors and on a connection that cannot be (re-)established.\n",
            VLC_DEFAULT_TIMEOUT, VLC_DEFAULT_QUIET);
}


/* What this binary is: which checkout it was built from (a second clone
 * of the project must run its own checker, not a build of another one)
 * and which libvirt it was compiled against and runs with. */
static void
vlcBuildInfo(void)
{
    unsigned long libVer = 0;

    printf("version: %s\n", VLC_VERSION);
    printf("source: %s\n", VLC_SOURCE_DIR);
    printf("libvirt-compiled: %u.%u.%u\n",
           LIBVIR_VERSION_NUMBER / 1000000, (LIBVIR_VERSION_NUMBER / 1000) % 1000,
           LIBVIR_VERSION_NUMBER % 1000);
    if (virGetVersion(&libVer, NULL, NULL) == 0)
        printf("libvirt-runtime: %lu.%lu.%lu\n",
               libVer / 1000000, (libVer / 1000) % 1000, libVer % 1000);
}


static void G_GNUC_PRINTF(1, 2)
vlcUsageError(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "virt-lifecycle-check: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'virt-lifecycle-check --help' for more information.\n");
    exit(VLC_EXIT_ERROR);
}


/* Parse a non-negative, finite number of seconds. */
static bool
vlcParseSeconds(const char *s,
                bool allowZero,
                double *out)
{
    char *end = NULL;
    double d;

    if (!s || !*s || g_ascii_isspace(*s))
        return false;

    errno = 0;
    d = g_ascii_strtod(s, &end);
    if (errno != 0 || !end || *end != '\0' || !isfinite(d) ||
        d < 0 || d > VLC_MAX_SECONDS || (!allowZero && d == 0))
        return false;

    *out = d;
    return true;
}


/* Shutdown and reboot flags share their bit values. */
static const struct {
    const char *name;
    unsigned int shutdown;
    unsigned int reboot;
} vlcModes[] = {
    { "default", VIR_DOMAIN_SHUTDOWN_DEFAULT, VIR_DOMAIN_REBOOT_DEFAULT },
    { "acpi", VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN, VIR_DOMAIN_REBOOT_ACPI_POWER_BTN },
    { "agent", VIR_DOMAIN_SHUTDOWN_GUEST_AGENT, VIR_DOMAIN_REBOOT_GUEST_AGENT },
    { "initctl", VIR_DOMAIN_SHUTDOWN_INITCTL, VIR_DOMAIN_REBOOT_INITCTL },
    { "signal", VIR_DOMAIN_SHUTDOWN_SIGNAL, VIR_DOMAIN_REBOOT_SIGNAL },
    { "paravirt", VIR_DOMAIN_SHUTDOWN_PARAVIRT, VIR_DOMAIN_REBOOT_PARAVIRT },
};


static bool
vlcParseModes(const char *list,
              bool reboot,
              unsigned int *flags)
{
    g_auto(GStrv) modes = g_strsplit(list, ",", -1);
    size_t i;
    size_t j;

    *flags = 0;
    if (!modes[0])
        return false;

    for (i = 0; modes[i]; i++) {
        for (j = 0; j < G_N_ELEMENTS(vlcModes); j++) {
            if (strcmp(modes[i], vlcModes[j].name) == 0)
                break;
        }
        if (j == G_N_ELEMENTS(vlcModes))
            return false;
        *flags |= reboot ? vlcModes[j].reboot : vlcModes[j].shutdown;
    }

    return true;
}


static const struct {
    const char *name;
    vlcStepKind kind;
    const char *guestCmd;
    const char *env;            /* command the step runs */
} vlcSimpleSteps[] = {
    { "destroy", VLC_STEP_DESTROY, NULL, NULL },
    { "reset", VLC_STEP_RESET, NULL, NULL },
    { "start", VLC_STEP_START, NULL, NULL },
    { "suspend", VLC_STEP_SUSPEND, NULL, NULL },
    { "resume", VLC_STEP_RESUME, NULL, NULL },
    { "managedsave", VLC_STEP_MANAGED_SAVE, NULL, NULL },
    { "dump-reset", VLC_STEP_DUMP_RESET, NULL, NULL },
    { "settle", VLC_STEP_SETTLE, NULL, NULL },
    { "daemon-restart", VLC_STEP_DAEMON_RESTART, NULL, VLC_RESTART_ENV },
    { "daemon-kill", VLC_STEP_DAEMON_KILL, NULL, VLC_KILL_ENV },
    { "daemon-start", VLC_STEP_DAEMON_START, NULL, VLC_START_ENV },
    { "guest-poweroff", VLC_STEP_GUEST, "poweroff", NULL },
    { "guest-reboot", VLC_STEP_GUEST, "reboot", NULL },
    { "guest-ignore-acpi", VLC_STEP_GUEST, "ignore-acpi", NULL },
    { "guest-honor-acpi", VLC_STEP_GUEST, "honor-acpi", NULL },
    { "guest-ping", VLC_STEP_GUEST, "ping", NULL },
    { "guest-qga-stop", VLC_STEP_GUEST, "qga-stop", NULL },
    { "guest-qga-hang", VLC_STEP_GUEST, "qga-hang", NULL },
    { "guest-qga-deny", VLC_STEP_GUEST, "qga-deny", NULL },
    { "guest-qga-start", VLC_STEP_GUEST, "qga-start", NULL },
};


static const char *const vlcLifecycleEvents[] = {
    [VIR_DOMAIN_LIFECYCLE_POWEROFF] = "poweroff",
    [VIR_DOMAIN_LIFECYCLE_REBOOT] = "reboot",
    [VIR_DOMAIN_LIFECYCLE_CRASH] = "crash",
};

static const char *const vlcLifecycleActions[] = {
    [VIR_DOMAIN_LIFECYCLE_ACTION_DESTROY] = "destroy",
    [VIR_DOMAIN_LIFECYCLE_ACTION_RESTART] = "restart",
    [VIR_DOMAIN_LIFECYCLE_ACTION_RESTART_RENAME] = "rename-restart",
    [VIR_DOMAIN_LIFECYCLE_ACTION_PRESERVE] = "preserve",
    [VIR_DOMAIN_LIFECYCLE_ACTION_COREDUMP_DESTROY] = "coredump-destroy",
    [VIR_DOMAIN_LIFECYCLE_ACTION_COREDUMP_RESTART] = "coredump-restart",
};


/* EVENT:ACTION of lifecycle-action= (names as in the domain XML's
 * <on_poweroff> etc.).  Whether libvirt accepts the pair is libvirt's
 * business: the step then fails with libvirt's error. */
/* The index of the @len characters at @text in @names, or -1 */
static int
vlcNameIndex(const char *text,
             size_t len,
             const char *const *names,
             size_t nnames)
{
    size_t i;

    for (i = 0; i < nnames; i++) {
        if (names[i] && strlen(names[i]) == len && strncmp(text, names[i], len) == 0)
            return i;
    }
    return -1;
}


static bool
vlcParseLifecycleAction(const char *text,
                        unsigned int *type,
                        unsigned int *action)
{
    const char *colon = strchr(text, ':');
    int i;

    if (!colon)
        return false;

    if ((i = vlcNameIndex(text, colon - text, vlcLifecycleEvents,
                          G_N_ELEMENTS(vlcLifecycleEvents))) < 0)
        return false;
    *type = i;

    if ((i = vlcNameIndex(colon + 1, strlen(colon + 1), vlcLifecycleActions,
                          G_N_ELEMENTS(vlcLifecycleActions))) < 0)
        return false;
    *action = i;
    return true;
}


/* One request of race=REQ+REQ: shutdown[:MODES] or reboot[:MODES]. */
static bool
vlcParseRaceCall(const char *text,
                 vlcRaceCall *call)
{
    const char *modes = NULL;

    if (g_str_has_prefix(text, "shutdown")) {
        call->kind = VLC_STEP_SHUTDOWN;
        modes = text + 8;
    } else if (g_str_has_prefix(text, "reboot")) {
        call->kind = VLC_STEP_REBOOT;
        modes = text + 6;
    } else {
        return false;
    }

    call->flags = 0;
    if (*modes == ':') {
        if (!vlcParseModes(modes + 1, call->kind == VLC_STEP_REBOOT,
                           &call->flags))
            return false;
    } else if (*modes != '\0') {
        return false;
    }

    call->text = g_strdup(text);
    return true;
}


/* expect-request=: "shutdown" is VIR_DOMAIN_LIFECYCLE_POWEROFF, as in
 * the request steps; methods as their modes. */
static const char *const vlcRequestTypes[] = {
    [VIR_DOMAIN_LIFECYCLE_POWEROFF] = "shutdown",
    [VIR_DOMAIN_LIFECYCLE_REBOOT] = "reboot",
};

static const struct {
    const char *name;
    int method;
} vlcRequestMethods[] = {
    { "acpi", VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN },
    { "agent", VIR_DOMAIN_SHUTDOWN_GUEST_AGENT },
};


static const char *
vlcRequestTypeName(int type,
                   char *buf,
                   size_t buflen)
{
    if (type >= 0 && type < (int)G_N_ELEMENTS(vlcRequestTypes) &&
        vlcRequestTypes[type])
        return vlcRequestTypes[type];
    g_snprintf(buf, buflen, "unknown-%d", type);
    return buf;
}


static const char *
vlcRequestMethodName(int method,
                     char *buf,
                     size_t buflen)
{
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(vlcRequestMethods); i++) {
        if (vlcRequestMethods[i].method == method)
            return vlcRequestMethods[i].name;
    }
    g_snprintf(buf, buflen, "unknown-%d", method);
    return buf;
}


/* The daemon reports the request's type and method as strings
 * ("shutdown"/"reboot", "acpi"/"agent"); -2 for a name not known here. */
static int
vlcRequestTypeFromName(const char *name)
{
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(vlcRequestTypes); i++) {
        if (vlcRequestTypes[i] && g_str_equal(vlcRequestTypes[i], name))
            return i;
    }
    return -2;
}


static int
vlcRequestMethodFromName(const char *name)
{
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(vlcRequestMethods); i++) {
        if (g_str_equal(vlcRequestMethods[i].name, name))
            return vlcRequestMethods[i].method;
    }
    return -2;
}


/* TYPE:METHOD or none of expect-request=; @type -1 for none. */
static bool
vlcParseExpectRequest(const char *text,
                      int *type,
                      int *method)
{
    const char *colon;
    size_t i;

    if (strcmp(text, "none") == 0) {
        *type = -1;
        *method = -1;
        return true;
    }

    if (!(colon = strchr(text, ':')) ||
        (*type = vlcNameIndex(text, colon - text, vlcRequestTypes,
                              G_N_ELEMENTS(vlcRequestTypes))) < 0)
        return false;

    for (i = 0; i < G_N_ELEMENTS(vlcRequestMethods); i++) {
        if (strcmp(colon + 1, vlcRequestMethods[i].name) == 0)
            break;
    }
    if (i == G_N_ELEMENTS(vlcRequestMethods))
        return false;
    *method = vlcRequestMethods[i].method;
    return true;
}


/* Returns false with a message in @err for an invalid step. */
static bool
vlcParseStep(const char *text,
             vlcStep *step,
             char **err)
{
    const char *arg;
    size_t i;

    memset(step, 0, sizeof(*step));
    step->text = text;

    for (i = 0; i < G_N_ELEMENTS(vlcSimpleSteps); i++) {
        if (strcmp(text, vlcSimpleSteps[i].name) == 0) {
            step->kind = vlcSimpleSteps[i].kind;
            step->guestCmd = vlcSimpleSteps[i].guestCmd;
            step->env = vlcSimpleSteps[i].env;
            if (step->env && !g_getenv(step->env)) {
                *err = g_strdup_printf("step '%s' needs its command in $%s",
                                       text, step->env);
                return false;
            }
            return true;
        }
    }

    if (strcmp(text, "shutdown") == 0 || strcmp(text, "reboot") == 0) {
        step->kind = text[0] == 's' ? VLC_STEP_SHUTDOWN : VLC_STEP_REBOOT;
        return true;
    }

    if ((arg = g_str_has_prefix(text, "shutdown=") ? text + 9 : NULL) ||
        (arg = g_str_has_prefix(text, "reboot=") ? text + 7 : NULL)) {
        step->kind = text[0] == 's' ? VLC_STEP_SHUTDOWN : VLC_STEP_REBOOT;
        if (!vlcParseModes(arg, step->kind == VLC_STEP_REBOOT, &step->flags)) {
            *err = g_strdup_printf("invalid step '%s': mode must be a comma-separated list of default, acpi, agent, initctl, signal, paravirt",
                                   text);
            return false;
        }
        return true;
    }

    if (g_str_has_prefix(text, "race=")) {
        g_auto(GStrv) calls = g_strsplit(text + 5, "+", -1);

        step->kind = VLC_STEP_RACE;
        if (g_strv_length(calls) != VLC_RACE_CALLS ||
            !vlcParseRaceCall(calls[0], &step->race[0]) ||
            !vlcParseRaceCall(calls[1], &step->race[1])) {
            *err = g_strdup_printf("invalid step '%s': expected race=REQ+REQ with REQ shutdown[:MODE[,MODE...]] or reboot[:MODE[,MODE...]]",
                                   text);
            return false;
        }
        return true;
    }

    if (g_str_has_prefix(text, "lifecycle-action=")) {
        step->kind = VLC_STEP_LIFECYCLE_ACTION;
        if (!vlcParseLifecycleAction(text + 17, &step->lcType, &step->lcAction)) {
            *err = g_strdup_printf("invalid step '%s': expected lifecycle-action=EVENT:ACTION with EVENT poweroff, reboot or crash and ACTION destroy, restart, rename-restart, preserve, coredump-destroy or coredump-restart",
                                   text);
            return false;
        }
        return true;
    }

    if (g_str_has_prefix(text, "expect-request=")) {
        step->kind = VLC_STEP_EXPECT_REQUEST;
        if (!vlcParseExpectRequest(text + 15, &step->reqType, &step->reqMethod)) {
            *err = g_strdup_printf("invalid step '%s': expected expect-request=TYPE:METHOD with TYPE shutdown or reboot and METHOD acpi or agent, or expect-request=none",
                                   text);
            return false;
        }
        return true;
    }

    if (g_str_has_prefix(text, "slow=")) {
        g_autofree char *secs = NULL;

        step->kind = VLC_STEP_GUEST;
        if (!vlcParseSeconds(text + 5, true, &step->seconds)) {
            *err = g_strdup_printf("invalid step '%s': expected slow=SECONDS with a number of seconds >= 0",
                                   text);
            return false;
        }
        /* the guest's sleep(1) takes the number as written */
        step->guestCmd = step->guestCmdBuf = g_strdup_printf("slow %s", text + 5);
        return true;
    }

    if (g_str_has_prefix(text, "wait=")) {
        step->kind = VLC_STEP_WAIT;
        if (!vlcParseSeconds(text + 5, true, &step->seconds)) {
            *err = g_strdup_printf("invalid step '%s': expected wait=SECONDS with a number of seconds >= 0",
                                   text);
            return false;
        }
        return true;
    }

    *err = g_strdup_printf("unknown step '%s'", text);
    return false;
}


static void
vlcParseArgs(vlcCtx *ctx,
             int argc,
             char **argv)
{
    enum {
        OPT_TIMEOUT = 256,
        OPT_QUIET,
        OPT_EXPECT,
        OPT_JSON,
        OPT_CONTROL,
        OPT_SERIAL,
        OPT_DUMP_DIR,
        OPT_BUILD_INFO,
    };
    static const struct option longopts[] = {
        { "connect", required_argument, NULL, 'c' },
        { "timeout", required_argument, NULL, OPT_TIMEOUT },
        { "quiet", required_argument, NULL, OPT_QUIET },
        { "expect", required_argument, NULL, OPT_EXPECT },
        { "json", no_argument, NULL, OPT_JSON },
        { "control", required_argument, NULL, OPT_CONTROL },
        { "serial", required_argument, NULL, OPT_SERIAL },
        { "dump-dir", required_argument, NULL, OPT_DUMP_DIR },
        { "verbose", no_argument, NULL, 'v' },
        { "build-info", no_argument, NULL, OPT_BUILD_INFO },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    char buf[32];
    int opt;
    int i;

    ctx->timeout = VLC_DEFAULT_TIMEOUT;
    ctx->quiet = VLC_DEFAULT_QUIET;

    while ((opt = getopt_long(argc, argv, "c:vh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            ctx->uri = optarg;
            break;
        case OPT_TIMEOUT:
            if (!vlcParseSeconds(optarg, false, &ctx->timeout))
                vlcUsageError("invalid --timeout '%s': expected a number of seconds > 0",
                              optarg);
            break;
        case OPT_QUIET:
            if (!vlcParseSeconds(optarg, true, &ctx->quiet))
                vlcUsageError("invalid --quiet '%s': expected a number of seconds >= 0",
                              optarg);
            break;
        case OPT_EXPECT:
            for (i = 0; i < VIR_DOMAIN_PMSUSPENDED + 1; i++) {
                if (strcmp(optarg, vlcStateName(i, buf, sizeof(buf))) == 0)
                    break;
            }
            if (i == VIR_DOMAIN_PMSUSPENDED + 1)
                vlcUsageError("invalid --expect '%s': expected running or shutoff",
                              optarg);
            ctx->expect = optarg;
            break;
        case OPT_JSON:
            ctx->json = true;
            break;
        case OPT_CONTROL:
            if (!*optarg)
                vlcUsageError("--control needs a path");
            ctx->controlPath = optarg;
            break;
        case OPT_SERIAL:
            if (!*optarg)
                vlcUsageError("--serial needs a path");
            ctx->serialPath = optarg;
            break;
        case OPT_DUMP_DIR:
            if (!*optarg)
                vlcUsageError("--dump-dir needs a directory");
            ctx->dumpDir = optarg;
            break;
        case 'v':
            ctx->verbose = true;
            break;
        case 'h':
            vlcUsage(stdout);
            exit(VLC_EXIT_PASS);
        case OPT_BUILD_INFO:
            vlcBuildInfo();
            exit(VLC_EXIT_PASS);
        default:
            /* getopt_long has printed what is wrong */
            vlcUsageError("invalid option");
        }
    }

    if (optind >= argc)
        vlcUsageError("missing DOMAIN");
    ctx->domname = argv[optind++];
    if (!*ctx->domname)
        vlcUsageError("empty DOMAIN");

    if (optind >= argc)
        vlcUsageError("missing STEP: give at least one step");

    ctx->nsteps = argc - optind;
    ctx->steps = g_new0(vlcStep, ctx->nsteps);
    for (i = 0; optind < argc; i++, optind++) {
        g_autofree char *err = NULL;

        if (!vlcParseStep(argv[optind], &ctx->steps[i], &err))
            vlcUsageError("%s", err);
    }
}


/* ---------------------------------------------------------------------
 * Recording
 */

static void G_GNUC_PRINTF(2, 3)
vlcAddNote(vlcCtx *ctx,
           const char *fmt,
        ...)
{
    vlcNote *note = g_new0(vlcNote, 1);
    va_list ap;

    note->t = vlcNow();
    va_start(ap, fmt);
    note->text = g_strdup_vprintf(fmt, ap);
    va_end(ap);

    if (ctx->verbose)
        fprintf(stderr, "%8.3f  note   %s\n", note->t, note->text);

    g_mutex_lock(&ctx->lock);
    g_ptr_array_add(ctx->notes, note);
    g_mutex_unlock(&ctx->lock);
}


static void
vlcNoteFree(gpointer opaque)
{
    vlcNote *note = opaque;

    g_free(note->text);
    g_free(note);
}


static void
vlcRecordEvent(vlcCtx *ctx,
               vlcEventKind kind,
               int type,
               int detail)
{
    vlcEvent ev = { .t = vlcNow(), .kind = kind, .type = type, .detail = detail };

    if (ctx->verbose) {
        char b1[32];
        char b2[32];

        if (kind == VLC_EVENT_REBOOT)
            fprintf(stderr, "%8.3f  event  reboot\n", ev.t);
        else
            fprintf(stderr, "%8.3f  event  lifecycle %s/%s\n", ev.t,
                    vlcEventTypeName(type, b1, sizeof(b1)),
                    vlcEventDetailName(type, detail, b2, sizeof(b2)));
    }

    g_mutex_lock(&ctx->lock);
    g_array_append_val(ctx->events, ev);
    ctx->lastEvent = ev.t;
    g_mutex_unlock(&ctx->lock);
}


static double
vlcLastActivity(vlcCtx *ctx)
{
    double t;

    g_mutex_lock(&ctx->lock);
    t = MAX(ctx->lastEvent, ctx->lastActivity);
    g_mutex_unlock(&ctx->lock);

    return t;
}


static void
vlcStepFail(vlcStep *step,
            int code,
            const char *error,
            const char *message)
{
    step->ok = false;
    step->code = code;
    g_free(step->error);
    step->error = g_strdup(error);
    g_free(step->message);
    step->message = g_strdup(message);
}


static void
vlcStepFailLibvirt(vlcStep *step)
{
    virErrorPtr err = virGetLastError();
    int code = err ? err->code : VIR_ERR_INTERNAL_ERROR;
    const char *name = vlcErrorName(code);
    g_autofree char *fallback = NULL;

    if (!name)
        name = fallback = g_strdup_printf("VIR_ERR_%d", code);

    vlcStepFail(step, code, name,
                err && err->message ? err->message : "unknown libvirt error");
}


/* ---------------------------------------------------------------------
 * Events and the connection
 */

static void
vlcLifecycleCb(virConnectPtr conn G_GNUC_UNUSED,
               virDomainPtr dom G_GNUC_UNUSED,
               int event,
               int detail,
               void *opaque)
{
    vlcRecordEvent(opaque, VLC_EVENT_LIFECYCLE, event, detail);
}


static void
vlcRebootCb(virConnectPtr conn G_GNUC_UNUSED,
            virDomainPtr dom G_GNUC_UNUSED,
            void *opaque)
{
    vlcRecordEvent(opaque, VLC_EVENT_REBOOT, 0, 0);
}


static const char *
vlcCloseReasonName(int reason)
{
    switch (reason) {
    case VIR_CONNECT_CLOSE_REASON_ERROR:
        return "error";
    case VIR_CONNECT_CLOSE_REASON_EOF:
        return "eof";
    case VIR_CONNECT_CLOSE_REASON_KEEPALIVE:
        return "keepalive";
    case VIR_CONNECT_CLOSE_REASON_CLIENT:
        return "client";
    }
    return "unknown";
}


static void
vlcCloseCb(virConnectPtr conn,
           int reason,
           void *opaque)
{
    vlcCtx *ctx = opaque;
    bool current;
    double now = vlcNow();

    g_mutex_lock(&ctx->lock);
    current = conn == ctx->conn;
    if (current) {
        ctx->connLost = true;
        g_array_append_val(ctx->goneTimes, now);
    }
    g_mutex_unlock(&ctx->lock);

    if (current)
        vlcAddNote(ctx, "connection closed (%s)", vlcCloseReasonName(reason));
}


static gpointer
vlcEventThread(gpointer opaque G_GNUC_UNUSED)
{
    for (;;) {
        if (virEventRunDefaultImpl() < 0)
            g_usleep(VLC_TICK_USEC);
    }
    return NULL;
}


static void
vlcErrorFunc(void *opaque G_GNUC_UNUSED,
             virErrorPtr err G_GNUC_UNUSED)
{
    /* Errors are recorded where they happen; keep stderr clean. */
}


static void
vlcDeregister(vlcCtx *ctx)
{
    if (!ctx->conn)
        return;

    if (ctx->lifecycleCb >= 0)
        virConnectDomainEventDeregisterAny(ctx->conn, ctx->lifecycleCb);
    if (ctx->rebootCb >= 0)
        virConnectDomainEventDeregisterAny(ctx->conn, ctx->rebootCb);
    if (ctx->closeCb)
        virConnectUnregisterCloseCallback(ctx->conn, vlcCloseCb);

    ctx->lifecycleCb = -1;
    ctx->rebootCb = -1;
    ctx->closeCb = false;
    virResetLastError();
}


/* Open a connection and look the domain up; on success both are
 * installed in @ctx with events registered.  Returns -1 and sets @err. */
static int
vlcOpen(vlcCtx *ctx,
        char **err)
{
    const char *uri = ctx->connURI ? ctx->connURI : ctx->uri;
    virConnectPtr conn;
    virDomainPtr dom;
    int lifecycleCb;
    int rebootCb;

    if (!(conn = virConnectOpenAuth(uri, virConnectAuthPtrDefault, 0))) {
        *err = g_strdup_printf("cannot connect to '%s': %s",
                               uri ? uri : "(default)", virGetLastErrorMessage());
        return -1;
    }

    if (ctx->haveUUID)
        dom = virDomainLookupByUUID(conn, ctx->uuid);
    else
        dom = virDomainLookupByName(conn, ctx->domname);
    if (!dom) {
        *err = g_strdup_printf("cannot find domain '%s': %s",
                               ctx->domname, virGetLastErrorMessage());
        virConnectClose(conn);
        return -1;
    }

    lifecycleCb = virConnectDomainEventRegisterAny(conn, dom,
                                                   VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                                   VIR_DOMAIN_EVENT_CALLBACK(vlcLifecycleCb),
                                                   ctx, NULL);
    rebootCb = virConnectDomainEventRegisterAny(conn, dom,
                                                VIR_DOMAIN_EVENT_ID_REBOOT,
                                                VIR_DOMAIN_EVENT_CALLBACK(vlcRebootCb),
                                                ctx, NULL);
    if (lifecycleCb < 0 || rebootCb < 0) {
        *err = g_strdup_printf("cannot register domain events: %s",
                               virGetLastErrorMessage());
        if (lifecycleCb >= 0)
            virConnectDomainEventDeregisterAny(conn, lifecycleCb);
        if (rebootCb >= 0)
            virConnectDomainEventDeregisterAny(conn, rebootCb);
        virDomainFree(dom);
        virConnectClose(conn);
        return -1;
    }

    if (!ctx->haveUUID && virDomainGetUUID(dom, ctx->uuid) == 0)
        ctx->haveUUID = true;
    if (!ctx->connURI)
        ctx->connURI = virConnectGetURI(conn);

    g_mutex_lock(&ctx->lock);
    ctx->conn = conn;
    ctx->connLost = false;
    g_mutex_unlock(&ctx->lock);

    ctx->dom = dom;
    ctx->lifecycleCb = lifecycleCb;
    ctx->rebootCb = rebootCb;
    ctx->closeCb = virConnectRegisterCloseCallback(conn, vlcCloseCb, ctx, NULL) == 0;

    /* Notice a dead daemon even when nothing is being sent. */
    virConnectSetKeepAlive(conn, 5, 3);
    virResetLastError();

    return 0;
}


/* Replace the connection by a new one, retrying for up to @budget
 * seconds.  The old connection is closed only once the new one is
 * open (this keeps the test driver's in-process state alive). */
static int
vlcReconnect(vlcCtx *ctx,
             double budget,
             const char *why)
{
    virConnectPtr oldConn = ctx->conn;
    virDomainPtr oldDom = ctx->dom;
    double start = vlcNow();
    g_autofree char *err = NULL;
    int attempts = 0;

    vlcAddNote(ctx, "reconnecting (%s)", why);

    vlcDeregister(ctx);
    ctx->dom = NULL;

    for (;;) {
        g_clear_pointer(&err, g_free);
        attempts++;
        if (vlcOpen(ctx, &err) == 0)
            break;
        if (vlcNow() - start >= budget) {
            g_mutex_lock(&ctx->lock);
            ctx->conn = NULL;
            g_mutex_unlock(&ctx->lock);
            if (oldDom)
                virDomainFree(oldDom);
            if (oldConn)
                virConnectClose(oldConn);
            ctx->fatal = g_strdup_printf("connection lost and not re-established within %.1f s (%d attempts): %s",
                                         budget, attempts, err);
            vlcAddNote(ctx, "%s", ctx->fatal);
            return -1;
        }
        g_usleep(VLC_RECONNECT_USEC);
    }

    if (oldDom)
        virDomainFree(oldDom);
    if (oldConn)
        virConnectClose(oldConn);
    virResetLastError();

    ctx->daemonDown = false;
    ctx->lastActivity = vlcNow();
    vlcAddNote(ctx, "reconnected after %.3f s (%d attempt%s)",
            vlcNow() - start, attempts, attempts == 1 ? "" : "s");
    return 0;
}


/* Reconnect if the connection died.  Returns -1 when it is gone for good. */
static int
vlcCheckConnection(vlcCtx *ctx)
{
    bool lost;

    /* After daemon-kill there is nothing to reconnect to until
     * daemon-start. */
    if (ctx->daemonDown)
        return 0;

    g_mutex_lock(&ctx->lock);
    lost = ctx->connLost || !ctx->conn;
    g_mutex_unlock(&ctx->lock);

    if (!lost && virConnectIsAlive(ctx->conn) == 0)
        lost = true;
    virResetLastError();

    if (!lost)
        return 0;

    return vlcReconnect(ctx, ctx->timeout, "connection lost");
}


typedef enum {
    VLC_AGENT_OK,
    VLC_AGENT_NOT_READY,
    VLC_AGENT_UNAVAILABLE,      /* not configured / not supported */
} vlcAgentStatus;


static vlcAgentStatus
vlcAgentPing(vlcCtx *ctx,
             char **msg)
{
    char *res;
    int code;

    res = virDomainQemuAgentCommand(ctx->dom, "{\"execute\":\"guest-ping\"}",
                                    VLC_AGENT_TIMEOUT, 0);
    if (res) {
        free(res);
        return VLC_AGENT_OK;
    }

    code = virGetLastErrorCode();
    if (msg) {
        g_free(*msg);
        *msg = g_strdup(virGetLastErrorMessage());
    }
    virResetLastError();

    if (code == VIR_ERR_NO_SUPPORT || code == VIR_ERR_ARGUMENT_UNSUPPORTED)
        return VLC_AGENT_UNAVAILABLE;
    return VLC_AGENT_NOT_READY;
}


/* Current state; returns -1 with @gone set when the domain vanished
 * (a transient domain that stopped), -1 otherwise on other errors. */
static int
vlcGetState(vlcCtx *ctx,
            int *state,
            int *reason,
            bool *gone)
{
    *gone = false;
    if (virDomainGetState(ctx->dom, state, reason, 0) == 0)
        return 0;

    if (virGetLastErrorCode() == VIR_ERR_NO_DOMAIN)
        *gone = true;
    return -1;
}


/* ---------------------------------------------------------------------
 * Steps
 */

/* Sleep for @seconds, keeping an eye on the connection. */
static int
vlcSleep(vlcCtx *ctx,
         double seconds)
{
    double end = vlcNow() + seconds;

    for (;;) {
        double left = end - vlcNow();

        if (vlcCheckConnection(ctx) < 0)
            return -1;
        if (left <= 0)
            return 0;
        g_usleep(MIN((gulong)(left * G_USEC_PER_SEC) + 1, VLC_TICK_USEC));
    }
}


static char *
vlcControlPath(vlcCtx *ctx,
               vlcStep *step)
{
    g_autofree char *xml = NULL;
    g_autofree char *err = NULL;
    vlcDomainPaths paths;
    char *ret;

    if (ctx->controlPath)
        return g_strdup(ctx->controlPath);
    if (ctx->controlPathCached)
        return g_strdup(ctx->controlPathCached);
    if (ctx->daemonDown) {
        vlcStepFail(step, -1, VLC_ERR_NO_CONTROL,
                    "no daemon to read the domain XML from and the control channel was not known before daemon-kill (use --control PATH)");
        return NULL;
    }

    if (!(xml = virDomainGetXMLDesc(ctx->dom, 0))) {
        vlcStepFailLibvirt(step);
        return NULL;
    }

    if (vlcParseDomainPaths(xml, &paths, &err) < 0) {
        vlcStepFail(step, -1, VLC_ERR_NO_CONTROL, err);
        return NULL;
    }

    if (!(ret = g_steal_pointer(&paths.controlPath)))
        vlcStepFail(step, -1, VLC_ERR_NO_CONTROL,
                    "domain XML has no <channel type='unix'> with <target type='virtio' name='"
                    VLC_CONTROL_CHANNEL_NAME "'/> (use --control PATH)");
    else
        ctx->controlPathCached = g_strdup(ret);
    vlcDomainPathsClear(&paths);
    return ret;
}


static void
vlcStepGuest(vlcCtx *ctx,
             vlcStep *step)
{
    g_autofree char *path = NULL;
    g_autofree char *reply = NULL;
    g_autofree char *err = NULL;

    if (!(path = vlcControlPath(ctx, step)))
        return;

    if (vlcControlCommand(path, step->guestCmd, VLC_CONTROL_TIMEOUT,
                          &reply, &err) < 0) {
        vlcStepFail(step, -1, VLC_ERR_CONTROL, err);
        step->info = g_steal_pointer(&reply);
        return;
    }

    step->ok = true;
    step->info = g_steal_pointer(&reply);
}


/* Wait for the domain to be quiet, then until the agent answers or the
 * domain is off.  Returns -1 only on a lost connection. */
static int
vlcStepSettle(vlcCtx *ctx,
              vlcStep *step)
{
    double deadline = vlcNow() + ctx->timeout;
    g_autofree char *agentMsg = NULL;
    char b1[32];
    char b2[32];
    int state = -1;
    int reason = 0;
    bool gone;

    for (;;) {
        double now;

        if (vlcCheckConnection(ctx) < 0)
            return -1;

        now = vlcNow();
        if (now - vlcLastActivity(ctx) >= ctx->quiet) {
            if (vlcGetState(ctx, &state, &reason, &gone) < 0) {
                if (gone) {
                    step->ok = true;
                    step->info = g_strdup("domain is gone");
                    return 0;
                }
                state = -1;
            } else if (state == VIR_DOMAIN_SHUTOFF || state == VIR_DOMAIN_CRASHED ||
                       state == VIR_DOMAIN_PAUSED) {
                /* paused: the guest cannot act until it is resumed */
                step->ok = true;
                step->info = g_strdup_printf("%s/%s",
                                             vlcStateName(state, b1, sizeof(b1)),
                                             vlcReasonName(state, reason, b2, sizeof(b2)));
                return 0;
            } else if (state == VIR_DOMAIN_RUNNING) {
                double pinged = vlcNow();

                switch (vlcAgentPing(ctx, &agentMsg)) {
                case VLC_AGENT_OK:
                    if (vlcLastActivity(ctx) <= pinged) {
                        step->ok = true;
                        step->info = g_strdup("agent answered");
                        return 0;
                    }
                    break;
                case VLC_AGENT_UNAVAILABLE:
                    step->ok = true;
                    step->info = g_strdup_printf("running; agent not available: %s",
                                                 agentMsg);
                    return 0;
                case VLC_AGENT_NOT_READY:
                    break;
                }
            }
            virResetLastError();
        }

        if (vlcNow() >= deadline) {
            g_autofree char *msg = NULL;

            msg = g_strdup_printf("not settled within %.1f s (state %s, agent: %s)",
                                  ctx->timeout,
                                  state < 0 ? "unknown" : vlcStateName(state, b1, sizeof(b1)),
                                  agentMsg ? agentMsg : "not asked");
            vlcStepFail(step, -1, VLC_ERR_TIMEOUT, msg);
            return 0;
        }

        g_usleep(VLC_TICK_USEC);
    }
}


static int
vlcRunCommand(const char *cmd,
              const char *what,
              char **err)
{
    pid_t pid;
    int status;

    fflush(stdout);
    fflush(stderr);

    if ((pid = fork()) < 0) {
        *err = g_strdup_printf("fork: %s", g_strerror(errno));
        return -1;
    }

    if (pid == 0) {
        /* Keep stdout for our report: the command talks on stderr. */
        dup2(STDERR_FILENO, STDOUT_FILENO);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }

    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            *err = g_strdup_printf("waitpid: %s", g_strerror(errno));
            return -1;
        }
    }

    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;

    if (WIFEXITED(status))
        *err = g_strdup_printf("%s command exited with status %d",
                               what, WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        *err = g_strdup_printf("%s command killed by signal %d",
                               what, WTERMSIG(status));
    else
        *err = g_strdup_printf("%s command failed", what);
    return -1;
}


/* Drop the connection for good (the daemon was killed on purpose):
 * steps that need libvirt fail with NO_CONNECTION until daemon-start. */
static void
vlcDisconnect(vlcCtx *ctx)
{
    virConnectPtr conn = ctx->conn;

    vlcDeregister(ctx);
    g_mutex_lock(&ctx->lock);
    ctx->conn = NULL;
    ctx->daemonDown = true;
    g_mutex_unlock(&ctx->lock);

    if (ctx->dom)
        virDomainFree(ctx->dom);
    ctx->dom = NULL;
    if (conn)
        virConnectClose(conn);
    virResetLastError();
}


/* daemon-restart, daemon-kill, daemon-start: run the step's command,
 * then reconnect (restart, start) or go on without a connection
 * (kill).  Returns -1 when the connection cannot be re-established. */
static int
vlcStepDaemon(vlcCtx *ctx,
              vlcStep *step)
{
    const char *cmd = g_getenv(step->env);
    bool isKill = step->kind == VLC_STEP_DAEMON_KILL;
    const char *what = "restart";
    const char *errname = VLC_ERR_RESTART;
    g_autofree char *err = NULL;
    g_autofree char *path = NULL;
    double t0;

    if (step->kind == VLC_STEP_DAEMON_KILL) {
        what = "kill";
        errname = VLC_ERR_KILL;
    } else if (step->kind == VLC_STEP_DAEMON_START) {
        what = "start";
        errname = VLC_ERR_START;
    }

    /* guest-* steps must still find the control channel afterwards */
    if (isKill && !ctx->daemonDown && !ctx->controlPath &&
        !ctx->controlPathCached) {
        vlcStep probe = { 0 };

        if (!(path = vlcControlPath(ctx, &probe)))
            vlcAddNote(ctx, "control channel unknown before daemon-kill: %s",
                       probe.message ? probe.message : "?");
        g_free(probe.error);
        g_free(probe.message);
        virResetLastError();
    }

    if (vlcRunCommand(cmd, what, &err) < 0)
        vlcStepFail(step, -1, errname, err);
    else
        step->ok = true;

    if (isKill) {
        /* let the event thread see the connection close, so that the
         * report says when the daemon died (daemon_gone_times) */
        double until = vlcNow() + 1.0;
        bool lost = false;

        while (step->ok && !lost && vlcNow() < until) {
            g_mutex_lock(&ctx->lock);
            lost = ctx->connLost;
            g_mutex_unlock(&ctx->lock);
            if (!lost)
                g_usleep(10 * 1000);
        }
        vlcDisconnect(ctx);
        vlcAddNote(ctx, "daemon killed; no connection until daemon-start");
        return 0;
    }

    t0 = vlcNow();
    if (vlcReconnect(ctx, ctx->timeout, step->text) < 0) {
        vlcStepFail(step, -1, errname, ctx->fatal);
        return -1;
    }

    if (step->ok)
        step->info = g_strdup_printf("reconnected after %.3f s", vlcNow() - t0);
    return 0;
}


/* race=REQ+REQ: both calls start at the same moment, each from its own
 * thread on its own connection (opened beforehand). */
typedef struct {
    GMutex lock;
    GCond cond;
    int waiting;                /* threads at the barrier */
    bool go;
} vlcBarrier;

typedef struct {
    vlcBarrier *barrier;
    virDomainPtr dom;
    vlcRaceCall *call;
} vlcRaceThread;


static gpointer
vlcRaceWorker(gpointer opaque)
{
    vlcRaceThread *th = opaque;
    vlcRaceCall *call = th->call;
    vlcBarrier *b = th->barrier;
    int rc;

    g_mutex_lock(&b->lock);
    b->waiting++;
    g_cond_broadcast(&b->cond);
    while (!b->go)
        g_cond_wait(&b->cond, &b->lock);
    g_mutex_unlock(&b->lock);

    call->t = vlcNow();
    if (call->kind == VLC_STEP_SHUTDOWN)
        rc = virDomainShutdownFlags(th->dom, call->flags);
    else
        rc = virDomainReboot(th->dom, call->flags);
    call->duration = vlcNow() - call->t;

    if (rc < 0) {
        /* libvirt's last error is per thread */
        virErrorPtr err = virGetLastError();
        int code = err ? err->code : VIR_ERR_INTERNAL_ERROR;
        const char *name = vlcErrorName(code);

        call->ok = false;
        call->code = code;
        call->error = name ? g_strdup(name) : g_strdup_printf("VIR_ERR_%d", code);
        call->message = g_strdup(err && err->message ? err->message :
                                 "unknown libvirt error");
        virResetLastError();
    } else {
        call->ok = true;
    }

    return NULL;
}


static void
vlcStepRace(vlcCtx *ctx,
            vlcStep *step)
{
    vlcBarrier barrier = { .waiting = 0, .go = false };
    vlcRaceThread th[VLC_RACE_CALLS] = { 0 };
    virConnectPtr conns[VLC_RACE_CALLS] = { 0 };
    GThread *threads[VLC_RACE_CALLS] = { 0 };
    g_autoptr(GString) info = g_string_new(NULL);
    size_t i;

    g_mutex_init(&barrier.lock);
    g_cond_init(&barrier.cond);

    for (i = 0; i < VLC_RACE_CALLS; i++) {
        if (!(conns[i] = virConnectOpenAuth(ctx->connURI, virConnectAuthPtrDefault, 0)) ||
            !(th[i].dom = virDomainLookupByUUID(conns[i], ctx->uuid))) {
            g_autofree char *msg = g_strdup_printf("cannot open connection %zu for the race: %s",
                                                   i + 1, virGetLastErrorMessage());

            vlcStepFail(step, -1, VLC_ERR_RACE, msg);
            goto cleanup;
        }
        th[i].barrier = &barrier;
        th[i].call = &step->race[i];
    }

    for (i = 0; i < VLC_RACE_CALLS; i++)
        threads[i] = g_thread_new("race", vlcRaceWorker, &th[i]);

    g_mutex_lock(&barrier.lock);
    while (barrier.waiting < VLC_RACE_CALLS)
        g_cond_wait(&barrier.cond, &barrier.lock);
    barrier.go = true;
    g_cond_broadcast(&barrier.cond);
    g_mutex_unlock(&barrier.lock);

    for (i = 0; i < VLC_RACE_CALLS; i++)
        g_thread_join(threads[i]);

    step->ok = true;
    for (i = 0; i < VLC_RACE_CALLS; i++) {
        vlcRaceCall *call = &step->race[i];

        if (i > 0)
            g_string_append(info, "; ");
        if (call->ok) {
            g_string_append_printf(info, "%s ok [%.3f s]", call->text,
                                   call->duration);
        } else {
            g_string_append_printf(info, "%s %s [%.3f s]", call->text,
                                   call->error, call->duration);
            if (step->ok)
                vlcStepFail(step, call->code, call->error, call->message);
        }
    }
    step->info = g_strdup(info->str);

 cleanup:
    for (i = 0; i < VLC_RACE_CALLS; i++) {
        if (th[i].dom)
            virDomainFree(th[i].dom);
        if (conns[i])
            virConnectClose(conns[i]);
    }
    g_mutex_clear(&barrier.lock);
    g_cond_clear(&barrier.cond);
    virResetLastError();
}


/* dump-reset: a memory-only dump followed by a reset done by libvirt
 * (virsh dump --memory-only --reset), written to --dump-dir (default:
 * the serial log's directory, i.e. the VM instance's own directory, which
 * the daemon sees at the same path) and deleted afterwards. */
static int
vlcStepDumpReset(vlcCtx *ctx,
                 vlcStep *step)
{
    g_autofree char *dir = NULL;
    g_autofree char *path = NULL;
    struct stat sb;
    int rc;

    if (ctx->dumpDir)
        dir = g_strdup(ctx->dumpDir);
    else if (ctx->serialPathUsed)
        dir = g_path_get_dirname(ctx->serialPathUsed);

    if (!dir || stat(dir, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
        g_autofree char *msg = g_strdup_printf("no directory for the dump (%s): give --dump-dir DIR",
                                               dir ? dir : "no serial log in the domain XML");

        vlcStepFail(step, -1, VLC_ERR_NO_DUMP_DIR, msg);
        return 1;
    }

    path = g_strdup_printf("%s/vlc-dump-%ld.core", dir, (long)getpid());
    rc = virDomainCoreDumpWithFormat(ctx->dom, path,
                                     VIR_DOMAIN_CORE_DUMP_FORMAT_RAW,
                                     VIR_DUMP_RESET | VIR_DUMP_MEMORY_ONLY);
    if (rc < 0) {
        vlcStepFailLibvirt(step);
        virResetLastError();
    } else {
        step->ok = true;
    }

    if (unlink(path) == 0)
        step->info = g_strdup_printf("dump written to %s and deleted", path);
    else if (errno != ENOENT)
        vlcAddNote(ctx, "cannot delete the dump %s: %s", path, g_strerror(errno));

    return rc < 0 ? -1 : 0;
}


/* "shutdown:acpi (1234 ms)", "none", ... for info and messages */
static char *
vlcRequestSeenText(const vlcRequestSeen *seen)
{
    char b1[32];
    char b2[32];
    GString *out;

    if (!seen->haveType)
        return g_strdup(seen->haveMethod ? "none (method without type)" : "none");

    out = g_string_new(vlcRequestTypeName(seen->type, b1, sizeof(b1)));
    g_string_append_printf(out, ":%s",
                           seen->haveMethod ?
                           vlcRequestMethodName(seen->method, b2, sizeof(b2)) :
                           "no-method");
    if (seen->haveElapsed)
        g_string_append_printf(out, " (%llu ms)", seen->elapsed);
    return g_string_free(out, FALSE);
}


/* One key of the request: false with a message in @err when it is there
 * with another type than @want. */
static bool
vlcRequestParam(virTypedParameterPtr params,
                int nparams,
                const char *name,
                int want,
                virTypedParameterPtr *param,
                char **err)
{
    *param = virTypedParamsGet(params, nparams, name);
    if (*param && (int)(*param)->type != want) {
        *err = g_strdup_printf("domain stats key %s has typed parameter type %d, expected %d",
                               name, (int)(*param)->type, want);
        *param = NULL;
        return false;
    }
    return true;
}


/* expect-request=TYPE:METHOD|none: the state group of the domain's stats
 * must report exactly that pending lifecycle request (none: the type key
 * is absent).  Records what was seen.  Returns -1 on a libvirt error. */
static int
vlcStepExpectRequest(vlcCtx *ctx,
                     vlcStep *step)
{
    virDomainPtr doms[] = { ctx->dom, NULL };
    virDomainStatsRecordPtr *records = NULL;
    vlcRequestSeen *seen = &step->request;
    virTypedParameterPtr param;
    g_autofree char *err = NULL;
    g_autofree char *got = NULL;
    char b1[32];
    char b2[32];
    int n;

    if ((n = virDomainListGetStats(doms, VIR_DOMAIN_STATS_STATE, &records, 0)) < 0)
        return -1;

    if (n == 0 || !records[0]) {
        vlcStepFail(step, -1, VLC_ERR_NO_STATS,
                    "virDomainListGetStats returned no record for the domain");
        virDomainStatsRecordListFree(records);
        return 0;
    }

    seen->seen = true;
    if (vlcRequestParam(records[0]->params, records[0]->nparams,
                        VLC_STATS_REQUEST_TYPE, VIR_TYPED_PARAM_STRING, &param, &err) &&
        param) {
        seen->haveType = true;
        seen->type = vlcRequestTypeFromName(param->value.s);
    }
    if (!err &&
        vlcRequestParam(records[0]->params, records[0]->nparams,
                        VLC_STATS_REQUEST_METHOD, VIR_TYPED_PARAM_STRING, &param, &err) &&
        param) {
        seen->haveMethod = true;
        seen->method = vlcRequestMethodFromName(param->value.s);
    }
    if (!err &&
        vlcRequestParam(records[0]->params, records[0]->nparams,
                        VLC_STATS_REQUEST_ELAPSED, VIR_TYPED_PARAM_ULLONG, &param, &err) &&
        param) {
        seen->haveElapsed = true;
        seen->elapsed = param->value.ul;
    }
    virDomainStatsRecordListFree(records);

    got = vlcRequestSeenText(seen);
    step->info = g_strdup(got);

    if (err) {
        vlcStepFail(step, -1, VLC_ERR_REQUEST_MISMATCH, err);
    } else if (step->reqType < 0) {
        if (!seen->haveType) {
            step->ok = true;
        } else {
            g_autofree char *msg = g_strdup_printf("expected no pending request, domain stats show %s",
                                                   got);

            vlcStepFail(step, -1, VLC_ERR_REQUEST_MISMATCH, msg);
        }
    } else if (seen->haveType && seen->type == step->reqType &&
               seen->haveMethod && seen->method == step->reqMethod) {
        step->ok = true;
    } else {
        g_autofree char *msg = g_strdup_printf("expected pending request %s:%s, domain stats show %s",
                                               vlcRequestTypeName(step->reqType, b1, sizeof(b1)),
                                               vlcRequestMethodName(step->reqMethod, b2, sizeof(b2)),
                                               got);

        vlcStepFail(step, -1, VLC_ERR_REQUEST_MISMATCH, msg);
    }
    return 0;
}


/* Run one step.  Returns -1 when the connection is lost for good. */
static int
vlcRunStep(vlcCtx *ctx,
           vlcStep *step)
{
    int rc = 0;
    int ret = 0;

    if (vlcCheckConnection(ctx) < 0)
        return -1;

    step->ran = true;
    step->t = vlcNow();
    step->ok = false;
    virResetLastError();

    if (ctx->verbose)
        fprintf(stderr, "%8.3f  step   %s ...\n", step->t, step->text);

    if (ctx->daemonDown) {
        switch (step->kind) {
        case VLC_STEP_SHUTDOWN:
        case VLC_STEP_REBOOT:
        case VLC_STEP_DESTROY:
        case VLC_STEP_RESET:
        case VLC_STEP_START:
        case VLC_STEP_SETTLE:
        case VLC_STEP_RACE:
        case VLC_STEP_SUSPEND:
        case VLC_STEP_RESUME:
        case VLC_STEP_LIFECYCLE_ACTION:
        case VLC_STEP_DUMP_RESET:
        case VLC_STEP_MANAGED_SAVE:
        case VLC_STEP_EXPECT_REQUEST:
            vlcStepFail(step, -1, VLC_ERR_NO_DAEMON,
                        "no connection: the daemon was killed (daemon-kill) and not started again");
            step->duration = vlcNow() - step->t;
            ctx->lastActivity = vlcNow();
            return 0;
        case VLC_STEP_GUEST:
        case VLC_STEP_WAIT:
        case VLC_STEP_DAEMON_RESTART:
        case VLC_STEP_DAEMON_KILL:
        case VLC_STEP_DAEMON_START:
            break;
        }
    }

    switch (step->kind) {
    case VLC_STEP_SHUTDOWN:
        rc = virDomainShutdownFlags(ctx->dom, step->flags);
        break;
    case VLC_STEP_REBOOT:
        rc = virDomainReboot(ctx->dom, step->flags);
        break;
    case VLC_STEP_DESTROY:
        rc = virDomainDestroy(ctx->dom);
        break;
    case VLC_STEP_RESET:
        rc = virDomainReset(ctx->dom, 0);
        break;
    case VLC_STEP_START:
        rc = virDomainCreate(ctx->dom);
        break;
    case VLC_STEP_SUSPEND:
        rc = virDomainSuspend(ctx->dom);
        break;
    case VLC_STEP_RESUME:
        rc = virDomainResume(ctx->dom);
        break;
    case VLC_STEP_MANAGED_SAVE:
        rc = virDomainManagedSave(ctx->dom, 0);
        break;
    case VLC_STEP_LIFECYCLE_ACTION:
        rc = virDomainSetLifecycleAction(ctx->dom, step->lcType, step->lcAction,
                                         VIR_DOMAIN_AFFECT_LIVE);
        break;
    case VLC_STEP_DUMP_RESET:
        /* 1: failed before calling libvirt (already recorded) */
        if ((rc = vlcStepDumpReset(ctx, step)) > 0)
            rc = 0;
        break;
    case VLC_STEP_EXPECT_REQUEST:
        rc = vlcStepExpectRequest(ctx, step);
        break;
    case VLC_STEP_GUEST:
        vlcStepGuest(ctx, step);
        break;
    case VLC_STEP_WAIT:
        ret = vlcSleep(ctx, step->seconds);
        step->ok = ret == 0;
        break;
    case VLC_STEP_SETTLE:
        ret = vlcStepSettle(ctx, step);
        break;
    case VLC_STEP_DAEMON_RESTART:
    case VLC_STEP_DAEMON_KILL:
    case VLC_STEP_DAEMON_START:
        ret = vlcStepDaemon(ctx, step);
        break;
    case VLC_STEP_RACE:
        vlcStepRace(ctx, step);
        break;
    }

    switch (step->kind) {
    case VLC_STEP_SHUTDOWN:
    case VLC_STEP_REBOOT:
    case VLC_STEP_DESTROY:
    case VLC_STEP_RESET:
    case VLC_STEP_START:
    case VLC_STEP_SUSPEND:
    case VLC_STEP_RESUME:
    case VLC_STEP_MANAGED_SAVE:
    case VLC_STEP_LIFECYCLE_ACTION:
        if (rc < 0) {
            vlcStepFailLibvirt(step);
            virResetLastError();
            /* The call may have failed because the daemon went away. */
            if (vlcCheckConnection(ctx) < 0)
                ret = -1;
        } else {
            step->ok = true;
        }
        break;
    case VLC_STEP_GUEST:
    case VLC_STEP_WAIT:
    case VLC_STEP_SETTLE:
    case VLC_STEP_DAEMON_RESTART:
    case VLC_STEP_DAEMON_KILL:
    case VLC_STEP_DAEMON_START:
    case VLC_STEP_RACE:
        break;
    case VLC_STEP_DUMP_RESET:
        /* recorded by vlcStepDumpReset */
        if (rc < 0 && vlcCheckConnection(ctx) < 0)
            ret = -1;
        break;
    case VLC_STEP_EXPECT_REQUEST:
        /* a mismatch is recorded by vlcStepExpectRequest */
        if (rc < 0) {
            vlcStepFailLibvirt(step);
            virResetLastError();
            if (vlcCheckConnection(ctx) < 0)
                ret = -1;
        }
        break;
    }

    step->duration = vlcNow() - step->t;
    ctx->lastActivity = vlcNow();

    if (ctx->verbose) {
        if (step->ok)
            fprintf(stderr, "%8.3f  step   %s: ok%s%s\n", vlcNow(), step->text,
                    step->info ? ": " : "", step->info ? step->info : "");
        else
            fprintf(stderr, "%8.3f  step   %s: %s: %s\n", vlcNow(), step->text,
                    step->error ? step->error : "failed",
                    step->message ? step->message : "");
    }

    return ret;
}


/* After the last step: wait until no events came for --quiet seconds
 * and the domain is in a stable state (not "shutdown"; when running,
 * the guest agent answers), or until --timeout.  Returns -1 only on a
 * lost connection. */
static int
vlcFinalWait(vlcCtx *ctx)
{
    double deadline = vlcNow() + ctx->timeout;
    int state;
    int reason;
    bool gone;

    for (;;) {
        double now;
        bool done = false;

        if (vlcCheckConnection(ctx) < 0)
            return -1;

        now = vlcNow();
        if (now - vlcLastActivity(ctx) >= ctx->quiet) {
            if (vlcGetState(ctx, &state, &reason, &gone) < 0) {
                done = gone;
            } else if (state == VIR_DOMAIN_SHUTDOWN) {
                done = false;
            } else if (state == VIR_DOMAIN_RUNNING) {
                double pinged = vlcNow();
                g_autofree char *agentMsg = NULL;

                switch (vlcAgentPing(ctx, &agentMsg)) {
                case VLC_AGENT_OK:
                    done = vlcLastActivity(ctx) <= pinged;
                    g_free(ctx->finalAgent);
                    ctx->finalAgent = g_strdup("ok");
                    break;
                case VLC_AGENT_UNAVAILABLE:
                    done = true;
                    G_GNUC_FALLTHROUGH;
                case VLC_AGENT_NOT_READY:
                    g_free(ctx->finalAgent);
                    ctx->finalAgent = g_steal_pointer(&agentMsg);
                    break;
                }
            } else {
                done = true;
                g_clear_pointer(&ctx->finalAgent, g_free);
            }
            virResetLastError();
        }

        if (done)
            break;

        if (vlcNow() >= deadline) {
            ctx->timedOut = true;
            vlcAddNote(ctx, "final wait timed out after %.1f s", ctx->timeout);
            break;
        }

        g_usleep(VLC_TICK_USEC);
    }

    ctx->finalManagedSave = -1;
    if (vlcGetState(ctx, &state, &reason, &gone) == 0) {
        ctx->haveFinal = true;
        ctx->finalState = state;
        ctx->finalReason = reason;
        if ((ctx->finalManagedSave = virDomainHasManagedSaveImage(ctx->dom, 0)) < 0)
            ctx->finalManagedSave = -1;
    } else if (gone) {
        ctx->haveFinal = true;
        ctx->finalGone = true;
        ctx->finalState = VIR_DOMAIN_SHUTOFF;
        ctx->finalReason = -1;
        vlcAddNote(ctx, "domain no longer exists (transient domain stopped?)");
    } else {
        vlcAddNote(ctx, "cannot get the final state: %s", virGetLastErrorMessage());
    }
    virResetLastError();

    return 0;
}


/* ---------------------------------------------------------------------
 * Report
 */

static void
vlcFinalNames(vlcCtx *ctx,
              const char **state,
              const char **reason,
              char *b1,
              char *b2,
              size_t len)
{
    *state = vlcStateName(ctx->finalState, b1, len);
    if (ctx->finalGone)
        *reason = "gone";
    else
        *reason = vlcReasonName(ctx->finalState, ctx->finalReason, b2, len);
}


static int
vlcPass(vlcCtx *ctx)
{
    const char *state;
    const char *reason;
    char b1[32];
    char b2[32];

    if (!ctx->expect || !ctx->haveFinal)
        return -1;
    vlcFinalNames(ctx, &state, &reason, b1, b2, sizeof(b1));
    return strcmp(state, ctx->expect) == 0;
}


/* "ok": and, for a failure, "code", "error" and "message" (a NULL error
 * or message: the call did not run) */
static void
vlcJSONResult(GString *out,
              bool ok,
              int code,
              const char *error,
              const char *message)
{
    vlcJSONKey(out, "ok", false);
    g_string_append(out, ok ? "true" : "false");
    if (ok)
        return;
    vlcJSONKey(out, "code", false);
    g_string_append_printf(out, "%d", code);
    vlcJSONKey(out, "error", false);
    vlcJSONString(out, error ? error : VLC_ERR_NOT_RUN);
    vlcJSONKey(out, "message", false);
    vlcJSONString(out, message ? message : "not run");
}


/* "key": [t, ...] of the serial log markers of @kind (empty without a log) */
static void
vlcJSONMarkTimes(GString *out,
                 vlcCtx *ctx,
                 const char *key,
                 vlcSerialMark kind)
{
    g_autoptr(GArray) times = NULL;
    size_t i;

    if (ctx->serial)
        vlcSerialWatchMarks(ctx->serial, kind, &times);

    vlcJSONKey(out, key, false);
    g_string_append_c(out, '[');
    for (i = 0; times && i < times->len; i++) {
        if (i > 0)
            g_string_append_c(out, ',');
        vlcJSONDouble(out, g_array_index(times, double, i));
    }
    g_string_append_c(out, ']');
}


static void
vlcReportJSON(vlcCtx *ctx,
              int boots,
              GArray *bootTimes)
{
    g_autoptr(GString) out = g_string_new("{");
    char b1[32];
    char b2[32];
    size_t i;
    int pass = vlcPass(ctx);

    vlcJSONKey(out, "domain", true);
    vlcJSONString(out, ctx->domname);
    vlcJSONKey(out, "uri", false);
    vlcJSONString(out, ctx->connURI ? ctx->connURI : ctx->uri);

    vlcJSONKey(out, "steps", false);
    g_string_append_c(out, '[');
    for (i = 0; i < ctx->nsteps; i++) {
        vlcStep *step = &ctx->steps[i];

        if (i > 0)
            g_string_append_c(out, ',');
        g_string_append_c(out, '{');
        vlcJSONKey(out, "step", true);
        vlcJSONString(out, step->text);
        vlcJSONKey(out, "t", false);
        if (step->ran)
            vlcJSONDouble(out, step->t);
        else
            g_string_append(out, "null");
        if (step->ran) {
            vlcJSONKey(out, "duration", false);
            vlcJSONDouble(out, step->duration);
        }
        vlcJSONResult(out, step->ok, step->ran ? step->code : -1,
                      step->ran ? step->error : NULL,
                      step->ran ? step->message : NULL);
        if (step->info) {
            vlcJSONKey(out, "info", false);
            vlcJSONString(out, step->info);
        }
        if (step->kind == VLC_STEP_EXPECT_REQUEST && step->ran &&
            step->request.seen) {
            const vlcRequestSeen *seen = &step->request;

            /* what the domain stats showed: null for no request */
            vlcJSONKey(out, "request", false);
            if (!seen->haveType && !seen->haveMethod && !seen->haveElapsed) {
                g_string_append(out, "null");
            } else {
                g_string_append_c(out, '{');
                vlcJSONKey(out, "type", true);
                if (seen->haveType)
                    vlcJSONString(out, vlcRequestTypeName(seen->type, b1, sizeof(b1)));
                else
                    g_string_append(out, "null");
                vlcJSONKey(out, "method", false);
                if (seen->haveMethod)
                    vlcJSONString(out, vlcRequestMethodName(seen->method, b2, sizeof(b2)));
                else
                    g_string_append(out, "null");
                vlcJSONKey(out, "time_elapsed", false);
                if (seen->haveElapsed)
                    g_string_append_printf(out, "%llu", seen->elapsed);
                else
                    g_string_append(out, "null");
                g_string_append_c(out, '}');
            }
        }
        if (step->kind == VLC_STEP_RACE && step->ran) {
            size_t j;

            vlcJSONKey(out, "race", false);
            g_string_append_c(out, '[');
            for (j = 0; j < VLC_RACE_CALLS; j++) {
                vlcRaceCall *call = &step->race[j];

                if (j > 0)
                    g_string_append_c(out, ',');
                g_string_append_c(out, '{');
                vlcJSONKey(out, "call", true);
                vlcJSONString(out, call->text);
                vlcJSONKey(out, "t", false);
                vlcJSONDouble(out, call->t);
                vlcJSONKey(out, "duration", false);
                vlcJSONDouble(out, call->duration);
                vlcJSONResult(out, call->ok, call->code, call->error,
                              call->message);
                g_string_append_c(out, '}');
            }
            g_string_append_c(out, ']');
        }
        g_string_append_c(out, '}');
    }
    g_string_append_c(out, ']');

    vlcJSONKey(out, "events", false);
    g_string_append_c(out, '[');
    g_mutex_lock(&ctx->lock);
    for (i = 0; i < ctx->events->len; i++) {
        vlcEvent *ev = &g_array_index(ctx->events, vlcEvent, i);

        if (i > 0)
            g_string_append_c(out, ',');
        g_string_append_c(out, '{');
        vlcJSONKey(out, "t", true);
        vlcJSONDouble(out, ev->t);
        vlcJSONKey(out, "event", false);
        if (ev->kind == VLC_EVENT_REBOOT) {
            vlcJSONString(out, "reboot");
        } else {
            vlcJSONString(out, "lifecycle");
            vlcJSONKey(out, "type", false);
            vlcJSONString(out, vlcEventTypeName(ev->type, b1, sizeof(b1)));
            vlcJSONKey(out, "detail", false);
            vlcJSONString(out, vlcEventDetailName(ev->type, ev->detail, b2, sizeof(b2)));
        }
        g_string_append_c(out, '}');
    }
    g_string_append_c(out, ']');

    vlcJSONKey(out, "notes", false);
    g_string_append_c(out, '[');
    for (i = 0; i < ctx->notes->len; i++) {
        vlcNote *note = g_ptr_array_index(ctx->notes, i);

        if (i > 0)
            g_string_append_c(out, ',');
        g_string_append_c(out, '{');
        vlcJSONKey(out, "t", true);
        vlcJSONDouble(out, note->t);
        vlcJSONKey(out, "text", false);
        vlcJSONString(out, note->text);
        g_string_append_c(out, '}');
    }
    g_string_append_c(out, ']');
    g_mutex_unlock(&ctx->lock);

    vlcJSONKey(out, "final", false);
    if (ctx->haveFinal) {
        const char *state;
        const char *reason;

        vlcFinalNames(ctx, &state, &reason, b1, b2, sizeof(b1));
        g_string_append_c(out, '{');
        vlcJSONKey(out, "state", true);
        vlcJSONString(out, state);
        vlcJSONKey(out, "reason", false);
        vlcJSONString(out, reason);
        vlcJSONKey(out, "timed_out", false);
        g_string_append(out, ctx->timedOut ? "true" : "false");
        vlcJSONKey(out, "agent", false);
        vlcJSONString(out, ctx->finalAgent);
        vlcJSONKey(out, "managed_save", false);
        g_string_append(out, ctx->finalManagedSave < 0 ? "null" :
                        ctx->finalManagedSave ? "true" : "false");
        g_string_append_c(out, '}');
    } else {
        g_string_append(out, "null");
    }

    vlcJSONKey(out, "boots", false);
    if (ctx->serial)
        g_string_append_printf(out, "%d", boots);
    else
        g_string_append(out, "null");
    vlcJSONKey(out, "boot_times", false);
    g_string_append_c(out, '[');
    for (i = 0; bootTimes && i < bootTimes->len; i++) {
        if (i > 0)
            g_string_append_c(out, ',');
        vlcJSONDouble(out, g_array_index(bootTimes, double, i));
    }
    g_string_append_c(out, ']');
    vlcJSONMarkTimes(out, ctx, "acpi_ready_times", VLC_MARK_ACPI_READY);
    vlcJSONMarkTimes(out, ctx, "acpi_press_times", VLC_MARK_ACPI_PRESS);
    vlcJSONMarkTimes(out, ctx, "guest_down_times", VLC_MARK_GUEST_DOWN);
    vlcJSONKey(out, "daemon_gone_times", false);
    g_string_append_c(out, '[');
    g_mutex_lock(&ctx->lock);
    for (i = 0; i < ctx->goneTimes->len; i++) {
        if (i > 0)
            g_string_append_c(out, ',');
        vlcJSONDouble(out, g_array_index(ctx->goneTimes, double, i));
    }
    g_mutex_unlock(&ctx->lock);
    g_string_append_c(out, ']');
    vlcJSONKey(out, "serial", false);
    vlcJSONString(out, ctx->serialPathUsed);

    vlcJSONKey(out, "expect", false);
    vlcJSONString(out, ctx->expect);
    vlcJSONKey(out, "pass", false);
    g_string_append(out, pass < 0 ? "null" : pass ? "true" : "false");
    vlcJSONKey(out, "fatal", false);
    vlcJSONString(out, ctx->fatal);
    vlcJSONKey(out, "elapsed", false);
    vlcJSONDouble(out, ctx->elapsed);
    g_string_append(out, "}\n");

    fputs(out->str, stdout);
}


typedef struct {
    double t;
    int order;
    char *text;
} vlcLine;


static gint
vlcLineCompare(gconstpointer a,
               gconstpointer b)
{
    const vlcLine *la = *(vlcLine *const *)a;
    const vlcLine *lb = *(vlcLine *const *)b;

    if (la->t < lb->t)
        return -1;
    if (la->t > lb->t)
        return 1;
    return la->order - lb->order;
}


static void
vlcLineFree(gpointer opaque)
{
    vlcLine *line = opaque;

    g_free(line->text);
    g_free(line);
}


static void
vlcAddLine(GPtrArray *lines,
           double t,
           char *text)
{
    vlcLine *line = g_new0(vlcLine, 1);

    line->t = t;
    line->order = lines->len;
    line->text = text;
    g_ptr_array_add(lines, line);
}


static void
vlcReportText(vlcCtx *ctx,
              int boots,
              GArray *bootTimes)
{
    g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(vlcLineFree);
    char b1[32];
    char b2[32];
    size_t i;
    int pass = vlcPass(ctx);

    for (i = 0; i < ctx->nsteps; i++) {
        vlcStep *step = &ctx->steps[i];

        if (!step->ran)
            continue;
        g_autofree char *took = NULL;

        if (step->duration >= 0.05)
            took = g_strdup_printf(" [%.3f s]", step->duration);

        if (step->ok && step->info)
            vlcAddLine(lines, step->t,
                       g_strdup_printf("step   %s: ok (%s)%s", step->text, step->info,
                                       took ? took : ""));
        else if (step->ok)
            vlcAddLine(lines, step->t,
                       g_strdup_printf("step   %s: ok%s", step->text, took ? took : ""));
        else
            vlcAddLine(lines, step->t,
                       g_strdup_printf("step   %s: FAILED %s (%d): %s%s%s%s%s",
                                       step->text, step->error, step->code,
                                       step->message,
                                       !step->info ? "" :
                                       step->kind == VLC_STEP_EXPECT_REQUEST ?
                                       " [seen: " : " [reply: ",
                                       step->info ? step->info : "",
                                       step->info ? "]" : "",
                                       took ? took : ""));
    }

    g_mutex_lock(&ctx->lock);
    for (i = 0; i < ctx->events->len; i++) {
        vlcEvent *ev = &g_array_index(ctx->events, vlcEvent, i);

        if (ev->kind == VLC_EVENT_REBOOT)
            vlcAddLine(lines, ev->t, g_strdup("event  reboot"));
        else
            vlcAddLine(lines, ev->t,
                       g_strdup_printf("event  lifecycle %s/%s",
                                       vlcEventTypeName(ev->type, b1, sizeof(b1)),
                                       vlcEventDetailName(ev->type, ev->detail,
                                                          b2, sizeof(b2))));
    }
    for (i = 0; i < ctx->notes->len; i++) {
        vlcNote *note = g_ptr_array_index(ctx->notes, i);

        vlcAddLine(lines, note->t, g_strdup_printf("note   %s", note->text));
    }
    g_mutex_unlock(&ctx->lock);

    for (i = 0; bootTimes && i < bootTimes->len; i++)
        vlcAddLine(lines, g_array_index(bootTimes, double, i),
                   g_strdup_printf("boot   marker #%zu in the serial log", i + 1));
    if (ctx->serial) {
        g_autoptr(GArray) ready = NULL;
        g_autoptr(GArray) press = NULL;

        vlcSerialWatchMarks(ctx->serial, VLC_MARK_ACPI_READY, &ready);
        vlcSerialWatchMarks(ctx->serial, VLC_MARK_ACPI_PRESS, &press);
        for (i = 0; i < ready->len; i++)
            vlcAddLine(lines, g_array_index(ready, double, i),
                       g_strdup("guest  listens for the power button"));
        for (i = 0; i < press->len; i++)
            vlcAddLine(lines, g_array_index(press, double, i),
                       g_strdup("guest  got a power button press"));
    }

    g_ptr_array_sort(lines, vlcLineCompare);

    printf("domain:  %s (%s)\n", ctx->domname,
           ctx->connURI ? ctx->connURI : ctx->uri ? ctx->uri : "default URI");
    printf("timeline (seconds since start):\n");
    for (i = 0; i < lines->len; i++) {
        vlcLine *line = g_ptr_array_index(lines, i);

        printf("  %8.3f  %s\n", line->t, line->text);
    }
    for (i = 0; i < ctx->nsteps; i++) {
        if (!ctx->steps[i].ran)
            printf("      -     step   %s: not run\n", ctx->steps[i].text);
    }

    if (ctx->haveFinal) {
        const char *state;
        const char *reason;

        vlcFinalNames(ctx, &state, &reason, b1, b2, sizeof(b1));
        printf("final:   %s/%s%s%s\n", state, reason,
               ctx->finalManagedSave > 0 ? " (managed save image)" : "",
               ctx->timedOut ? " (timed out waiting for quiet)" : "");
        if (ctx->finalAgent)
            printf("agent:   %s\n", ctx->finalAgent);
    } else {
        printf("final:   unknown\n");
    }

    if (ctx->serial)
        printf("boots:   %d (serial log %s)\n", boots, ctx->serialPathUsed);
    else
        printf("boots:   -1 (no serial log)\n");

    if (ctx->expect)
        printf("expect:  %s: %s\n", ctx->expect,
               pass < 0 ? "UNKNOWN" : pass ? "PASS" : "FAIL");
    if (ctx->fatal)
        printf("fatal:   %s\n", ctx->fatal);
    printf("elapsed: %.3f s\n", ctx->elapsed);
}


/* ---------------------------------------------------------------------
 * Main
 */

static void
vlcStartSerialWatch(vlcCtx *ctx)
{
    g_autofree char *xml = NULL;
    g_autofree char *err = NULL;
    vlcDomainPaths paths = { 0 };

    if (ctx->serialPath) {
        ctx->serialPathUsed = g_strdup(ctx->serialPath);
    } else if (!(xml = virDomainGetXMLDesc(ctx->dom, 0))) {
        vlcAddNote(ctx, "cannot get the domain XML: %s", virGetLastErrorMessage());
        virResetLastError();
    } else if (vlcParseDomainPaths(xml, &paths, &err) < 0) {
        vlcAddNote(ctx, "%s", err);
    } else {
        ctx->serialPathUsed = g_steal_pointer(&paths.serialPath);
        vlcDomainPathsClear(&paths);
    }

    if (ctx->serialPathUsed)
        ctx->serial = vlcSerialWatchStart(ctx->serialPathUsed, vlcNow);
}


int
main(int argc,
     char **argv)
{
    /* static: the event thread may still look at it while we exit */
    static vlcCtx ctx = { .lifecycleCb = -1, .rebootCb = -1 };
    g_autoptr(GArray) bootTimes = NULL;
    g_autofree char *err = NULL;
    int boots = -1;
    int ret = VLC_EXIT_ERROR;
    size_t i;

    vlcStartUsec = g_get_monotonic_time();
    signal(SIGPIPE, SIG_IGN);

    vlcParseArgs(&ctx, argc, argv);

    g_mutex_init(&ctx.lock);
    ctx.events = g_array_new(FALSE, FALSE, sizeof(vlcEvent));
    ctx.notes = g_ptr_array_new_with_free_func(vlcNoteFree);
    ctx.goneTimes = g_array_new(FALSE, FALSE, sizeof(double));

    if (virInitialize() < 0) {
        fprintf(stderr, "virt-lifecycle-check: cannot initialize libvirt\n");
        return VLC_EXIT_ERROR;
    }
    virSetErrorFunc(NULL, vlcErrorFunc);

    if (virEventRegisterDefaultImpl() < 0) {
        fprintf(stderr, "virt-lifecycle-check: cannot set up the event loop: %s\n",
                virGetLastErrorMessage());
        return VLC_EXIT_ERROR;
    }
    g_thread_unref(g_thread_new("events", vlcEventThread, NULL));

    if (vlcOpen(&ctx, &err) < 0) {
        ctx.fatal = g_steal_pointer(&err);
        fprintf(stderr, "virt-lifecycle-check: %s\n", ctx.fatal);
        goto report;
    }

    vlcStartSerialWatch(&ctx);
    ctx.lastActivity = vlcNow();

    for (i = 0; i < ctx.nsteps; i++) {
        if (vlcRunStep(&ctx, &ctx.steps[i]) < 0)
            break;
    }

    if (ctx.daemonDown)
        vlcAddNote(&ctx, "daemon left down after daemon-kill: no final state");
    else if (!ctx.fatal)
        vlcFinalWait(&ctx);

    if (ctx.fatal)
        fprintf(stderr, "virt-lifecycle-check: %s\n", ctx.fatal);

 report:
    if (ctx.serial) {
        vlcSerialWatchStop(ctx.serial);
        boots = vlcSerialWatchBoots(ctx.serial, &bootTimes);
        if (vlcSerialWatchResets(ctx.serial) > 0)
            vlcAddNote(&ctx, "serial log was truncated or replaced %d time(s)",
                    vlcSerialWatchResets(ctx.serial));
    }

    ctx.elapsed = vlcNow();

    if (ctx.json)
        vlcReportJSON(&ctx, boots, bootTimes);
    else
        vlcReportText(&ctx, boots, bootTimes);
    fflush(stdout);

    if (ctx.fatal)
        ret = VLC_EXIT_ERROR;
    else if (ctx.expect && vlcPass(&ctx) != 1)
        ret = VLC_EXIT_FAIL;
    else
        ret = VLC_EXIT_PASS;

    /* The event thread never returns; leave without tearing it down. */
    vlcDeregister(&ctx);
    if (ctx.dom)
        virDomainFree(ctx.dom);
    if (ctx.conn)
        virConnectClose(ctx.conn);
    vlcSerialWatchFree(ctx.serial);

    return ret;
}
