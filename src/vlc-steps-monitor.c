/*
 * vlc-steps-monitor.c: the steps of virt-lifecycle-check that watch the
 * domain without acting on it (wait=, settle, expect-request) and the
 * final wait
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdlib.h>

#include <glib.h>

#include <libvirt/libvirt.h>
#include <libvirt/libvirt-qemu.h>
#include <libvirt/virterror.h>

#include "vlc-check.h"
#include "vlc-names.h"


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


/* Sleep for @seconds, keeping an eye on the connection. */
int
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


/* Wait for the domain to be quiet, then until the agent answers or the
 * domain is off.  Returns -1 only on a lost connection. */
int
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
int
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


/* After the last step: wait until no events came for --quiet seconds
 * and the domain is in a stable state (not "shutdown"; when running,
 * the guest agent answers), or until --timeout.  Returns -1 only on a
 * lost connection. */
int
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
