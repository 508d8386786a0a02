/*
 * vlc-names.h: printable names for libvirt's public enums
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <stddef.h>

/* Each returns a static name, or writes "unknown-N" into @buf and
 * returns @buf.  vlcErrorName returns NULL for unknown codes. */
const char *vlcErrorName(int code);
const char *vlcStateName(int state, char *buf, size_t buflen);
const char *vlcReasonName(int state, int reason, char *buf, size_t buflen);
const char *vlcEventTypeName(int type, char *buf, size_t buflen);
const char *vlcEventDetailName(int type, int detail, char *buf, size_t buflen);
