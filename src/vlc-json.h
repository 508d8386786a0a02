/*
 * vlc-json.h: minimal JSON writing helpers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <stdbool.h>

#include <glib.h>

/* Append @s as a JSON string ("null" for NULL).  Invalid UTF-8 bytes
 * become U+FFFD, so the output is always valid JSON. */
void vlcJSONString(GString *out, const char *s);
/* Append "key": preceded by a comma unless @first. */
void vlcJSONKey(GString *out, const char *key, bool first);
/* Append a number with millisecond precision. */
void vlcJSONDouble(GString *out, double d);
