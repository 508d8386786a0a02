/*
 * vlc-steps.c: the steps of virt-lifecycle-check that act on the domain
 * or the guest, and vlcRunStep, which runs any step
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "vlc-check.h"
#include "vlc-guest.h"
#include "vlc-names.h"


/* ---------------------------------------------------------------------
 * Steps
 */

char *
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


/* restore=PATH: virDomainRestore, then look the domain up again.  The
 * restored domain may be a new domain object (a transient domain was
 * removed by save=) with a new id; the handle from before still names
 * the UUID, but later steps and the final wait use a fresh one.  Events
 * need nothing: their filter is the UUID.  Returns -1 on a libvirt
 * error of the restore. */
static int
vlcStepRestore(vlcCtx *ctx,
               vlcStep *step)
{
    virDomainPtr dom;
    unsigned int id;

    if (virDomainRestore(ctx->conn, step->path) < 0)
        return -1;

    if (ctx->haveUUID)
        dom = virDomainLookupByUUID(ctx->conn, ctx->uuid);
    else
        dom = virDomainLookupByName(ctx->conn, ctx->domname);
    if (!dom) {
        /* the image held another domain, or ours went away again */
        vlcAddNote(ctx, "cannot look the domain up again after %s: %s",
                   step->text, virGetLastErrorMessage());
        virResetLastError();
        return 0;
    }

    if (!ctx->haveUUID && virDomainGetUUID(dom, ctx->uuid) == 0)
        ctx->haveUUID = true;
    if (ctx->dom)
        virDomainFree(ctx->dom);
    ctx->dom = dom;

    if ((id = virDomainGetID(dom)) == (unsigned int)-1)
        step->info = g_strdup("domain looked up again: not running");
    else
        step->info = g_strdup_printf("domain looked up again: id %u", id);
    virResetLastError();
    return 0;
}


/* The domain XML for the destination, with the replacements of
 * $VIRT_LIFECYCLE_MIGRATE_MAP made; NULL with @step failed. */
static char *
vlcMigrateXML(vlcCtx *ctx,
              vlcStep *step,
              const char *map)
{
    g_autofree char *xml = NULL;
    g_auto(GStrv) pairs = g_strsplit(map, ";", 0);
    size_t i;

    if (!(xml = virDomainGetXMLDesc(ctx->dom, VIR_DOMAIN_XML_MIGRATABLE |
                                    VIR_DOMAIN_XML_SECURE))) {
        vlcStepFailLibvirt(step);
        return NULL;
    }

    for (i = 0; pairs[i]; i++) {
        g_auto(GStrv) kv = NULL;
        g_auto(GStrv) parts = NULL;

        if (!*pairs[i])
            continue;
        kv = g_strsplit(pairs[i], "=", 2);
        if (!kv[1] || !*kv[0]) {
            vlcStepFail(step, -1, VLC_ERR_MIGRATE_MAP,
                        "$" VLC_MIGRATE_MAP_ENV ": expected FROM=TO[;FROM=TO...]");
            return NULL;
        }
        parts = g_strsplit(xml, kv[0], -1);
        g_free(xml);
        xml = g_strjoinv(kv[1], parts);
    }
    return g_steal_pointer(&xml);
}


/* migrate=URI: live migration, client-driven (the checker holds a
 * connection to each daemon, as virsh migrate does without --p2p),
 * persistent on the destination; then the checker follows the domain
 * there.  Events of the migration itself (suspended, stopped, resumed:
 * migrated) are recorded like any other.  Returns -1 when the
 * destination cannot be reached after the migration. */
static int
vlcStepMigrate(vlcCtx *ctx,
               vlcStep *step)
{
    const char *dataURI = g_getenv(VLC_MIGRATE_URI_ENV);
    const char *map = g_getenv(VLC_MIGRATE_MAP_ENV);
    g_autofree char *destXML = NULL;
    unsigned int flags = VIR_MIGRATE_LIVE | VIR_MIGRATE_PERSIST_DEST;
    virTypedParameterPtr params = NULL;
    int nparams = 0;
    int maxparams = 0;
    virConnectPtr dconn;
    virDomainPtr ddom = NULL;
    int ret = 0;

    if (!(dconn = virConnectOpenAuth(step->destURI, virConnectAuthPtrDefault, 0))) {
        vlcStepFailLibvirt(step);
        return 0;
    }

    if (dataURI && *dataURI &&
        virTypedParamsAddString(&params, &nparams, &maxparams,
                                VIR_MIGRATE_PARAM_URI, dataURI) < 0) {
        vlcStepFailLibvirt(step);
        goto cleanup;
    }

    if (ctx->migrateBandwidth &&
        virTypedParamsAddULLong(&params, &nparams, &maxparams,
                                VIR_MIGRATE_PARAM_BANDWIDTH,
                                ctx->migrateBandwidth) < 0) {
        vlcStepFailLibvirt(step);
        goto cleanup;
    }

    if (map && *map) {
        if (!(destXML = vlcMigrateXML(ctx, step, map)))
            goto cleanup;
        if (virTypedParamsAddString(&params, &nparams, &maxparams,
                                    VIR_MIGRATE_PARAM_DEST_XML, destXML) < 0) {
            vlcStepFailLibvirt(step);
            goto cleanup;
        }
    }

    if (!(ddom = virDomainMigrate3(ctx->dom, dconn, params, nparams, flags))) {
        vlcStepFailLibvirt(step);
        goto cleanup;
    }
    step->ok = true;

    if (vlcFollow(ctx, step->destURI, step->text) < 0) {
        vlcStepFail(step, -1, VLC_ERR_NO_DAEMON, ctx->fatal);
        ret = -1;
        goto cleanup;
    }
    step->info = g_strdup_printf("following the domain on %s", step->destURI);

 cleanup:
    virTypedParamsFree(params, nparams);
    if (ddom)
        virDomainFree(ddom);
    virConnectClose(dconn);
    virResetLastError();
    return ret;
}


/* Run one step.  Returns -1 when the connection is lost for good. */
int
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
        case VLC_STEP_SAVE:
        case VLC_STEP_RESTORE:
        case VLC_STEP_MIGRATE:
        case VLC_STEP_EXPECT_REQUEST:
            vlcStepFail(step, -1, VLC_ERR_NO_DAEMON,
                        "no connection: the daemon was killed (daemon-kill) and not started again");
            step->duration = vlcNow() - step->t;
            ctx->lastActivity = vlcNow();
            return 0;
        case VLC_STEP_GUEST:
        case VLC_STEP_WAIT:
        case VLC_STEP_MIGRATE_BANDWIDTH:
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
    case VLC_STEP_SAVE:
        rc = virDomainSave(ctx->dom, step->path);
        break;
    case VLC_STEP_RESTORE:
        rc = vlcStepRestore(ctx, step);
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
    case VLC_STEP_MIGRATE:
        ret = vlcStepMigrate(ctx, step);
        break;
    case VLC_STEP_GUEST:
        vlcStepGuest(ctx, step);
        break;
    case VLC_STEP_WAIT:
        ret = vlcSleep(ctx, step->seconds);
        step->ok = ret == 0;
        break;
    case VLC_STEP_MIGRATE_BANDWIDTH:
        ctx->migrateBandwidth = step->bandwidth;
        step->ok = true;
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
    case VLC_STEP_SAVE:
    case VLC_STEP_RESTORE:
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
    case VLC_STEP_MIGRATE:
    case VLC_STEP_MIGRATE_BANDWIDTH:
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
