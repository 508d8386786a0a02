/*
 * vlc-report.c: the text and JSON reports of virt-lifecycle-check
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdio.h>
#include <string.h>

#include <glib.h>

#include <libvirt/libvirt.h>

#include "vlc-check.h"
#include "vlc-guest.h"
#include "vlc-json.h"
#include "vlc-names.h"


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


int
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


void
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


void
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
