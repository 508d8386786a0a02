/*
 * vlc-names.c: printable names for libvirt's public enums
 *
 * Only numbers from the public headers are used here, as plain integers,
 * so that the tables also build against older libvirt headers.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdio.h>

#include <libvirt/libvirt.h>

#include "vlc-names.h"

#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))


/* virErrorNumber, from include/libvirt/virterror.h (libvirt 11.3.0) */
static const char *const errorNames[] = {
    [0] = "VIR_ERR_OK",
    [1] = "VIR_ERR_INTERNAL_ERROR",
    [2] = "VIR_ERR_NO_MEMORY",
    [3] = "VIR_ERR_NO_SUPPORT",
    [4] = "VIR_ERR_UNKNOWN_HOST",
    [5] = "VIR_ERR_NO_CONNECT",
    [6] = "VIR_ERR_INVALID_CONN",
    [7] = "VIR_ERR_INVALID_DOMAIN",
    [8] = "VIR_ERR_INVALID_ARG",
    [9] = "VIR_ERR_OPERATION_FAILED",
    [10] = "VIR_ERR_GET_FAILED",
    [11] = "VIR_ERR_POST_FAILED",
    [12] = "VIR_ERR_HTTP_ERROR",
    [13] = "VIR_ERR_SEXPR_SERIAL",
    [14] = "VIR_ERR_NO_XEN",
    [15] = "VIR_ERR_XEN_CALL",
    [16] = "VIR_ERR_OS_TYPE",
    [17] = "VIR_ERR_NO_KERNEL",
    [18] = "VIR_ERR_NO_ROOT",
    [19] = "VIR_ERR_NO_SOURCE",
    [20] = "VIR_ERR_NO_TARGET",
    [21] = "VIR_ERR_NO_NAME",
    [22] = "VIR_ERR_NO_OS",
    [23] = "VIR_ERR_NO_DEVICE",
    [24] = "VIR_ERR_NO_XENSTORE",
    [25] = "VIR_ERR_DRIVER_FULL",
    [26] = "VIR_ERR_CALL_FAILED",
    [27] = "VIR_ERR_XML_ERROR",
    [28] = "VIR_ERR_DOM_EXIST",
    [29] = "VIR_ERR_OPERATION_DENIED",
    [30] = "VIR_ERR_OPEN_FAILED",
    [31] = "VIR_ERR_READ_FAILED",
    [32] = "VIR_ERR_PARSE_FAILED",
    [33] = "VIR_ERR_CONF_SYNTAX",
    [34] = "VIR_ERR_WRITE_FAILED",
    [35] = "VIR_ERR_XML_DETAIL",
    [36] = "VIR_ERR_INVALID_NETWORK",
    [37] = "VIR_ERR_NETWORK_EXIST",
    [38] = "VIR_ERR_SYSTEM_ERROR",
    [39] = "VIR_ERR_RPC",
    [40] = "VIR_ERR_GNUTLS_ERROR",
    [41] = "VIR_WAR_NO_NETWORK",
    [42] = "VIR_ERR_NO_DOMAIN",
    [43] = "VIR_ERR_NO_NETWORK",
    [44] = "VIR_ERR_INVALID_MAC",
    [45] = "VIR_ERR_AUTH_FAILED",
    [46] = "VIR_ERR_INVALID_STORAGE_POOL",
    [47] = "VIR_ERR_INVALID_STORAGE_VOL",
    [48] = "VIR_WAR_NO_STORAGE",
    [49] = "VIR_ERR_NO_STORAGE_POOL",
    [50] = "VIR_ERR_NO_STORAGE_VOL",
    [51] = "VIR_WAR_NO_NODE",
    [52] = "VIR_ERR_INVALID_NODE_DEVICE",
    [53] = "VIR_ERR_NO_NODE_DEVICE",
    [54] = "VIR_ERR_NO_SECURITY_MODEL",
    [55] = "VIR_ERR_OPERATION_INVALID",
    [56] = "VIR_WAR_NO_INTERFACE",
    [57] = "VIR_ERR_NO_INTERFACE",
    [58] = "VIR_ERR_INVALID_INTERFACE",
    [59] = "VIR_ERR_MULTIPLE_INTERFACES",
    [60] = "VIR_WAR_NO_NWFILTER",
    [61] = "VIR_ERR_INVALID_NWFILTER",
    [62] = "VIR_ERR_NO_NWFILTER",
    [63] = "VIR_ERR_BUILD_FIREWALL",
    [64] = "VIR_WAR_NO_SECRET",
    [65] = "VIR_ERR_INVALID_SECRET",
    [66] = "VIR_ERR_NO_SECRET",
    [67] = "VIR_ERR_CONFIG_UNSUPPORTED",
    [68] = "VIR_ERR_OPERATION_TIMEOUT",
    [69] = "VIR_ERR_MIGRATE_PERSIST_FAILED",
    [70] = "VIR_ERR_HOOK_SCRIPT_FAILED",
    [71] = "VIR_ERR_INVALID_DOMAIN_SNAPSHOT",
    [72] = "VIR_ERR_NO_DOMAIN_SNAPSHOT",
    [73] = "VIR_ERR_INVALID_STREAM",
    [74] = "VIR_ERR_ARGUMENT_UNSUPPORTED",
    [75] = "VIR_ERR_STORAGE_PROBE_FAILED",
    [76] = "VIR_ERR_STORAGE_POOL_BUILT",
    [77] = "VIR_ERR_SNAPSHOT_REVERT_RISKY",
    [78] = "VIR_ERR_OPERATION_ABORTED",
    [79] = "VIR_ERR_AUTH_CANCELLED",
    [80] = "VIR_ERR_NO_DOMAIN_METADATA",
    [81] = "VIR_ERR_MIGRATE_UNSAFE",
    [82] = "VIR_ERR_OVERFLOW",
    [83] = "VIR_ERR_BLOCK_COPY_ACTIVE",
    [84] = "VIR_ERR_OPERATION_UNSUPPORTED",
    [85] = "VIR_ERR_SSH",
    [86] = "VIR_ERR_AGENT_UNRESPONSIVE",
    [87] = "VIR_ERR_RESOURCE_BUSY",
    [88] = "VIR_ERR_ACCESS_DENIED",
    [89] = "VIR_ERR_DBUS_SERVICE",
    [90] = "VIR_ERR_STORAGE_VOL_EXIST",
    [91] = "VIR_ERR_CPU_INCOMPATIBLE",
    [92] = "VIR_ERR_XML_INVALID_SCHEMA",
    [93] = "VIR_ERR_MIGRATE_FINISH_OK",
    [94] = "VIR_ERR_AUTH_UNAVAILABLE",
    [95] = "VIR_ERR_NO_SERVER",
    [96] = "VIR_ERR_NO_CLIENT",
    [97] = "VIR_ERR_AGENT_UNSYNCED",
    [98] = "VIR_ERR_LIBSSH",
    [99] = "VIR_ERR_DEVICE_MISSING",
    [100] = "VIR_ERR_INVALID_NWFILTER_BINDING",
    [101] = "VIR_ERR_NO_NWFILTER_BINDING",
    [102] = "VIR_ERR_INVALID_DOMAIN_CHECKPOINT",
    [103] = "VIR_ERR_NO_DOMAIN_CHECKPOINT",
    [104] = "VIR_ERR_NO_DOMAIN_BACKUP",
    [105] = "VIR_ERR_INVALID_NETWORK_PORT",
    [106] = "VIR_ERR_NETWORK_PORT_EXIST",
    [107] = "VIR_ERR_NO_NETWORK_PORT",
    [108] = "VIR_ERR_NO_HOSTNAME",
    [109] = "VIR_ERR_CHECKPOINT_INCONSISTENT",
    [110] = "VIR_ERR_MULTIPLE_DOMAINS",
    [111] = "VIR_ERR_NO_NETWORK_METADATA",
    [112] = "VIR_ERR_AGENT_COMMAND_TIMEOUT",
    [113] = "VIR_ERR_AGENT_COMMAND_FAILED",
};


const char *
vlcErrorName(int code)
{
    if (code >= 0 && (size_t)code < N_ELEMENTS(errorNames) && errorNames[code])
        return errorNames[code];
    return NULL;
}


/* virDomainState */
static const char *const stateNames[] = {
    "nostate", "running", "blocked", "paused",
    "shutdown", "shutoff", "crashed", "pmsuspended",
};

static const char *const nostateReasons[] = { "unknown" };
static const char *const runningReasons[] = {
    "unknown", "booted", "migrated", "restored", "from-snapshot",
    "unpaused", "migration-canceled", "save-canceled", "wakeup",
    "crashed", "postcopy", "postcopy-failed",
};
static const char *const blockedReasons[] = { "unknown" };
static const char *const pausedReasons[] = {
    "unknown", "user", "migration", "save", "dump", "ioerror",
    "watchdog", "from-snapshot", "shutting-down", "snapshot", "crashed",
    "starting-up", "postcopy", "postcopy-failed", "api-error",
};
static const char *const shutdownReasons[] = { "unknown", "user" };
static const char *const shutoffReasons[] = {
    "unknown", "shutdown", "destroyed", "crashed", "migrated", "saved",
    "failed", "from-snapshot", "daemon",
};
static const char *const crashedReasons[] = { "unknown", "panicked" };
static const char *const pmsuspendedReasons[] = { "unknown" };

#define TABLE(t) { t, N_ELEMENTS(t) }

struct vlcTable {
    const char *const *names;
    size_t n;
};

static const struct vlcTable reasonTables[] = {
    TABLE(nostateReasons),
    TABLE(runningReasons),
    TABLE(blockedReasons),
    TABLE(pausedReasons),
    TABLE(shutdownReasons),
    TABLE(shutoffReasons),
    TABLE(crashedReasons),
    TABLE(pmsuspendedReasons),
};


static const char *
vlcLookup(const char *const *names,
          size_t n,
          int value,
          char *buf,
          size_t buflen)
{
    if (value >= 0 && (size_t)value < n && names[value])
        return names[value];
    snprintf(buf, buflen, "unknown-%d", value);
    return buf;
}


const char *
vlcStateName(int state,
             char *buf,
             size_t buflen)
{
    return vlcLookup(stateNames, N_ELEMENTS(stateNames), state, buf, buflen);
}


const char *
vlcReasonName(int state,
              int reason,
              char *buf,
              size_t buflen)
{
    if (state < 0 || (size_t)state >= N_ELEMENTS(reasonTables)) {
        snprintf(buf, buflen, "unknown-%d", reason);
        return buf;
    }
    return vlcLookup(reasonTables[state].names, reasonTables[state].n,
                     reason, buf, buflen);
}


/* virDomainEventType and the per-type detail enums */
static const char *const eventTypeNames[] = {
    "defined", "undefined", "started", "suspended", "resumed",
    "stopped", "shutdown", "pmsuspended", "crashed",
};

static const char *const definedDetails[] = {
    "added", "updated", "renamed", "from-snapshot",
};
static const char *const undefinedDetails[] = { "removed", "renamed" };
static const char *const startedDetails[] = {
    "booted", "migrated", "restored", "from-snapshot", "wakeup",
};
static const char *const suspendedDetails[] = {
    "paused", "migrated", "ioerror", "watchdog", "restored",
    "from-snapshot", "api-error", "postcopy", "postcopy-failed",
};
static const char *const resumedDetails[] = {
    "unpaused", "migrated", "from-snapshot", "postcopy", "postcopy-failed",
};
static const char *const stoppedDetails[] = {
    "shutdown", "destroyed", "crashed", "migrated", "saved", "failed",
    "from-snapshot",
};
static const char *const shutdownDetails[] = { "finished", "guest", "host" };
static const char *const pmsuspendedDetails[] = { "memory", "disk" };
static const char *const crashedDetails[] = { "panicked", "crashloaded" };

static const struct vlcTable detailTables[] = {
    TABLE(definedDetails),
    TABLE(undefinedDetails),
    TABLE(startedDetails),
    TABLE(suspendedDetails),
    TABLE(resumedDetails),
    TABLE(stoppedDetails),
    TABLE(shutdownDetails),
    TABLE(pmsuspendedDetails),
    TABLE(crashedDetails),
};


const char *
vlcEventTypeName(int type,
                 char *buf,
                 size_t buflen)
{
    return vlcLookup(eventTypeNames, N_ELEMENTS(eventTypeNames),
                     type, buf, buflen);
}


const char *
vlcEventDetailName(int type,
                   int detail,
                   char *buf,
                   size_t buflen)
{
    if (type < 0 || (size_t)type >= N_ELEMENTS(detailTables)) {
        snprintf(buf, buflen, "unknown-%d", detail);
        return buf;
    }
    return vlcLookup(detailTables[type].names, detailTables[type].n,
                     detail, buf, buflen);
}
