/*
 * vlc-conn.c: the connection of virt-lifecycle-check: open, events,
 * close callback, reconnect and the daemon-* steps
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "vlc-check.h"


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


gpointer
vlcEventThread(gpointer opaque G_GNUC_UNUSED)
{
    for (;;) {
        if (virEventRunDefaultImpl() < 0)
            g_usleep(VLC_TICK_USEC);
    }
    return NULL;
}


void
vlcErrorFunc(void *opaque G_GNUC_UNUSED,
             virErrorPtr err G_GNUC_UNUSED)
{
    /* Errors are recorded where they happen; keep stderr clean. */
}


void
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
int
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


/* Follow the domain to the daemon at @uri (it was migrated there): the
 * connection, its events and everything looked up from the domain XML
 * are the destination's from now on.  Returns -1 when it cannot be
 * reached. */
int
vlcFollow(vlcCtx *ctx,
          const char *uri,
          const char *why)
{
    g_free(ctx->connURI);
    ctx->connURI = g_strdup(uri);
    g_clear_pointer(&ctx->controlPathCached, g_free);
    return vlcReconnect(ctx, ctx->timeout, why);
}


/* Reconnect if the connection died.  Returns -1 when it is gone for good. */
int
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
int
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
