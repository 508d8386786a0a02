/*
 * virt-lifecycle-check.c: drive a libvirt domain through a sequence of
 * lifecycle steps (shutdown, reboot, guest-side actions, ...) and report
 * what happened: each step's outcome, every domain event, the final state
 * and the number of guest boots.
 *
 * Uses libvirt's public API only (libvirt and libvirt-qemu).
 *
 * This file: main(), the clock and the record of a run (notes, events,
 * step failures); the other sources are listed in vlc-check.h.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>

#include <glib.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "vlc-check.h"
#include "vlc-guest.h"
#include "vlc-names.h"


static gint64 vlcStartUsec;


double
vlcNow(void)
{
    return (double)(g_get_monotonic_time() - vlcStartUsec) / G_USEC_PER_SEC;
}


/* ---------------------------------------------------------------------
 * Recording
 */

void G_GNUC_PRINTF(2, 3)
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


void
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


double
vlcLastActivity(vlcCtx *ctx)
{
    double t;

    g_mutex_lock(&ctx->lock);
    t = MAX(ctx->lastEvent, ctx->lastActivity);
    g_mutex_unlock(&ctx->lock);

    return t;
}


void
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


void
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
