/*
 * vlc-json.c: minimal JSON writing helpers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <math.h>
#include <string.h>

#include "vlc-json.h"


void
vlcJSONString(GString *out,
              const char *s)
{
    const char *p = s;

    if (!s) {
        g_string_append(out, "null");
        return;
    }

    g_string_append_c(out, '"');
    while (*p) {
        unsigned char c = *p;

        switch (c) {
        case '"':
            g_string_append(out, "\\\"");
            p++;
            continue;
        case '\\':
            g_string_append(out, "\\\\");
            p++;
            continue;
        case '\b':
            g_string_append(out, "\\b");
            p++;
            continue;
        case '\f':
            g_string_append(out, "\\f");
            p++;
            continue;
        case '\n':
            g_string_append(out, "\\n");
            p++;
            continue;
        case '\r':
            g_string_append(out, "\\r");
            p++;
            continue;
        case '\t':
            g_string_append(out, "\\t");
            p++;
            continue;
        }

        if (c < 0x20 || c == 0x7f) {
            g_string_append_printf(out, "\\u%04x", c);
            p++;
        } else if (c < 0x80) {
            g_string_append_c(out, c);
            p++;
        } else {
            gunichar uc = g_utf8_get_char_validated(p, -1);

            if (uc == (gunichar)-1 || uc == (gunichar)-2) {
                g_string_append(out, "\\ufffd");
                p++;
            } else {
                const char *next = g_utf8_next_char(p);

                g_string_append_len(out, p, next - p);
                p = next;
            }
        }
    }
    g_string_append_c(out, '"');
}


void
vlcJSONKey(GString *out,
           const char *key,
           bool first)
{
    if (!first)
        g_string_append_c(out, ',');
    vlcJSONString(out, key);
    g_string_append_c(out, ':');
}


void
vlcJSONDouble(GString *out,
              double d)
{
    char buf[G_ASCII_DTOSTR_BUF_SIZE];

    if (!isfinite(d)) {
        g_string_append(out, "null");
        return;
    }

    /* locale-independent, fixed 3 decimals */
    g_string_append(out, g_ascii_formatd(buf, sizeof(buf), "%.3f", d));
}
