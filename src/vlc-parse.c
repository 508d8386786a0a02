/*
 * vlc-parse.c: usage, options and step parsing for virt-lifecycle-check
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include <libvirt/libvirt.h>

#include "vlc-build-info.h"
#include "vlc-check.h"
#include "vlc-guest.h"
#include "vlc-names.h"


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
"  save=PATH                  virDomainSave: the domain ends shut off, its\n"
"                             memory in the file PATH\n"
"  restore=PATH               virDomainRestore from PATH, then the domain is\n"
"                             looked up again\n"
"  migrate=URI                live migration (virDomainMigrate3, LIVE and\n"
"                             PERSIST_DEST) to the daemon at URI, the data\n"
"                             over $" VLC_MIGRATE_URI_ENV " if set, the\n"
"                             destination's XML with the replacements\n"
"                             FROM=TO[;FROM=TO...] of $" VLC_MIGRATE_MAP_ENV "\n"
"                             made if set; the\n"
"                             following steps talk to that daemon, and\n"
"                             daemon-* run $" VLC_PEER_RESTART_ENV ",\n"
"                             $" VLC_PEER_KILL_ENV ", $" VLC_PEER_START_ENV "\n"
"  migrate-bandwidth=MIB      the migrate= steps after it limit the\n"
"                             migration to MIB MiB/s\n"
"                             (VIR_MIGRATE_PARAM_BANDWIDTH, for that\n"
"                             migration only)\n"
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


const char *
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


const char *
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
int
vlcRequestTypeFromName(const char *name)
{
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(vlcRequestTypes); i++) {
        if (vlcRequestTypes[i] && g_str_equal(vlcRequestTypes[i], name))
            return i;
    }
    return -2;
}


int
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


/* The command of a daemon-* step once the domain lives on the
 * destination of a migrate=URI step. */
static const char *
vlcPeerEnv(const char *env)
{
    if (strcmp(env, VLC_RESTART_ENV) == 0)
        return VLC_PEER_RESTART_ENV;
    if (strcmp(env, VLC_KILL_ENV) == 0)
        return VLC_PEER_KILL_ENV;
    return VLC_PEER_START_ENV;
}


/* Returns false with a message in @err for an invalid step.
 * @migrated: a migrate=URI step comes before this one */
static bool
vlcParseStep(const char *text,
             vlcStep *step,
             bool migrated,
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
            if (step->env && migrated)
                step->env = vlcPeerEnv(step->env);
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

    if ((arg = g_str_has_prefix(text, "save=") ? text + 5 : NULL) ||
        (arg = g_str_has_prefix(text, "restore=") ? text + 8 : NULL)) {
        step->kind = text[0] == 's' ? VLC_STEP_SAVE : VLC_STEP_RESTORE;
        if (!*arg) {
            *err = g_strdup_printf("invalid step '%s': expected %.*sPATH with the path of the save image",
                                   text, (int)(arg - text), text);
            return false;
        }
        step->path = arg;
        return true;
    }

    if (g_str_has_prefix(text, "migrate-bandwidth=")) {
        const char *num = text + strlen("migrate-bandwidth=");
        char *end = NULL;

        step->kind = VLC_STEP_MIGRATE_BANDWIDTH;
        errno = 0;
        step->bandwidth = g_ascii_strtoull(num, &end, 10);
        if (!g_ascii_isdigit(*num) || *end || errno || step->bandwidth == 0) {
            *err = g_strdup_printf("invalid step '%s': expected migrate-bandwidth=MIB with a whole number of MiB/s > 0",
                                   text);
            return false;
        }
        return true;
    }

    if (g_str_has_prefix(text, "migrate=")) {
        step->kind = VLC_STEP_MIGRATE;
        step->destURI = text + 8;
        if (!*step->destURI) {
            *err = g_strdup_printf("invalid step '%s': expected migrate=URI with the URI of the destination's daemon",
                                   text);
            return false;
        }
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


void
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
    bool migrated = false;
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

        if (!vlcParseStep(argv[optind], &ctx->steps[i], migrated, &err))
            vlcUsageError("%s", err);
        if (ctx->steps[i].kind == VLC_STEP_MIGRATE)
            migrated = true;
    }
}
