/*
 * vlc-guest.c: guest-side helpers for virt-lifecycle-check
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>

#include "vlc-guest.h"


static char *
vlcXPathString(xmlXPathContextPtr ctxt,
               const char *expr)
{
    xmlXPathObjectPtr obj;
    char *ret = NULL;

    obj = xmlXPathEvalExpression((const xmlChar *)expr, ctxt);
    if (!obj)
        return NULL;

    if (obj->type == XPATH_STRING && obj->stringval && obj->stringval[0])
        ret = g_strdup((const char *)obj->stringval);

    xmlXPathFreeObject(obj);
    return ret;
}


int
vlcParseDomainPaths(const char *xml,
                    vlcDomainPaths *paths,
                    char **err)
{
    xmlDocPtr doc;
    xmlXPathContextPtr ctxt;

    memset(paths, 0, sizeof(*paths));

    doc = xmlReadMemory(xml, strlen(xml), "domain.xml", NULL,
                        XML_PARSE_NONET | XML_PARSE_NOERROR |
                        XML_PARSE_NOWARNING);
    if (!doc) {
        *err = g_strdup("cannot parse domain XML");
        return -1;
    }

    if (!(ctxt = xmlXPathNewContext(doc))) {
        xmlFreeDoc(doc);
        *err = g_strdup("cannot create XPath context");
        return -1;
    }

    paths->controlPath =
        vlcXPathString(ctxt,
                       "string(/domain/devices/channel[@type='unix']"
                       "[target/@type='virtio' and target/@name='"
                       VLC_CONTROL_CHANNEL_NAME "']/source/@path)");
    paths->serialPath =
        vlcXPathString(ctxt,
                       "string(/domain/devices/serial[@type='file']"
                       "/source/@path)");

    xmlXPathFreeContext(ctxt);
    xmlFreeDoc(doc);
    return 0;
}


void
vlcDomainPathsClear(vlcDomainPaths *paths)
{
    g_clear_pointer(&paths->controlPath, g_free);
    g_clear_pointer(&paths->serialPath, g_free);
}


/* ---------------------------------------------------------------------
 * Control channel
 */

int
vlcControlCommand(const char *path,
                  const char *cmd,
                  double timeout,
                  char **reply,
                  char **err)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    g_autofree char *line = g_strdup_printf("%s\n", cmd);
    g_autoptr(GString) buf = g_string_new(NULL);
    gint64 deadline = g_get_monotonic_time() + (gint64)(timeout * G_USEC_PER_SEC);
    size_t sent = 0;
    int fd;
    int ret = -1;

    *reply = NULL;
    *err = NULL;

    if (strlen(path) >= sizeof(addr.sun_path)) {
        *err = g_strdup_printf("control socket path too long: %s", path);
        return -1;
    }
    strcpy(addr.sun_path, path);

    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
        *err = g_strdup_printf("socket: %s", g_strerror(errno));
        return -1;
    }

    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        *err = g_strdup_printf("cannot connect to control channel %s: %s",
                               path, g_strerror(errno));
        goto cleanup;
    }

    while (sent < strlen(line)) {
        ssize_t n = send(fd, line + sent, strlen(line) - sent, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            *err = g_strdup_printf("cannot write to control channel: %s",
                                   g_strerror(errno));
            goto cleanup;
        }
        sent += n;
    }

    for (;;) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        gint64 left = deadline - g_get_monotonic_time();
        char chunk[256];
        char *nl;
        ssize_t n;
        int rc;

        if ((nl = memchr(buf->str, '\n', buf->len))) {
            g_string_truncate(buf, nl - buf->str);
            break;
        }
        if (left <= 0) {
            *err = g_strdup_printf("no reply to '%s' from the guest within %.1f s",
                                   cmd, timeout);
            goto cleanup;
        }

        rc = poll(&pfd, 1, (int)((left + 999) / 1000));
        if (rc < 0) {
            if (errno == EINTR)
                continue;
            *err = g_strdup_printf("poll: %s", g_strerror(errno));
            goto cleanup;
        }
        if (rc == 0)
            continue;

        n = read(fd, chunk, sizeof(chunk));
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            *err = g_strdup_printf("cannot read from control channel: %s",
                                   g_strerror(errno));
            goto cleanup;
        }
        if (n == 0) {
            if (buf->len > 0)
                break;
            *err = g_strdup_printf("control channel closed without a reply to '%s'",
                                   cmd);
            goto cleanup;
        }
        g_string_append_len(buf, chunk, n);
        if (buf->len > 4096) {
            *err = g_strdup("overlong reply from the guest");
            goto cleanup;
        }
    }

    /* Tolerate a CR from a tty-ish guest side. */
    while (buf->len > 0 && (buf->str[buf->len - 1] == '\r' ||
                            buf->str[buf->len - 1] == ' '))
        g_string_truncate(buf, buf->len - 1);

    *reply = g_strdup(buf->str);

    if (!g_str_has_prefix(buf->str, "ok ") ||
        strncmp(buf->str + 3, cmd, strlen(cmd)) != 0 ||
        (buf->str[3 + strlen(cmd)] != '\0' && buf->str[3 + strlen(cmd)] != ' ')) {
        *err = g_strdup_printf("unexpected reply to '%s': '%s'", cmd, buf->str);
        goto cleanup;
    }

    ret = 0;

 cleanup:
    close(fd);
    return ret;
}


/* ---------------------------------------------------------------------
 * Serial log watcher
 */

#define VLC_HEAD_LEN 64

struct _vlcSerialWatch {
    char *path;
    vlcClockFunc clock;

    GMutex lock;
    GThread *thread;
    bool quit;

    /* state of the file as last seen */
    bool exists;
    dev_t dev;
    ino_t ino;
    off_t offset;
    char head[VLC_HEAD_LEN];
    size_t headLen;

    /* per marker kind: tail of the data already scanned, and the times
     * (double, seconds) at which the marker was seen */
    GString *carry[VLC_MARK_LAST];
    GArray *times[VLC_MARK_LAST];
    int resets;
};


static const char *vlcMarkerText[VLC_MARK_LAST] = {
    [VLC_MARK_BOOT] = VLC_BOOT_MARKER,
    [VLC_MARK_ACPI_READY] = VLC_ACPI_READY_MARKER,
    [VLC_MARK_ACPI_PRESS] = VLC_ACPI_PRESS_MARKER,
    [VLC_MARK_GUEST_DOWN] = VLC_GUEST_DOWN_MARKER,
};


/* Remember the file's first bytes to notice it being rewritten. */
static void
vlcSerialReadHead(vlcSerialWatch *w,
                  int fd)
{
    ssize_t n = pread(fd, w->head, sizeof(w->head), 0);

    w->headLen = n > 0 ? n : 0;
}


static void
vlcSerialScanOne(vlcSerialWatch *w,
                 vlcSerialMark kind,
                 const char *data,
                 size_t len)
{
    const char *marker = vlcMarkerText[kind];
    const size_t mlen = strlen(marker);
    GString *carry = w->carry[kind];
    const char *p;
    const char *end;

    g_string_append_len(carry, data, len);
    p = carry->str;
    end = carry->str + carry->len;

    /* memmem, not strstr: a console log may well contain NUL bytes */
    while ((p = memmem(p, end - p, marker, mlen))) {
        double t = w->clock();

        g_array_append_val(w->times[kind], t);
        p += mlen;
    }

    /* Keep just enough to match a marker split across two reads, but
     * never a complete marker (it was counted already). */
    if (carry->len >= mlen)
        g_string_erase(carry, 0, carry->len - (mlen - 1));
}


static void
vlcSerialScan(vlcSerialWatch *w,
              const char *data,
              size_t len)
{
    size_t k;

    for (k = 0; k < VLC_MARK_LAST; k++)
        vlcSerialScanOne(w, k, data, len);
}


static void
vlcSerialClearCarry(vlcSerialWatch *w)
{
    size_t k;

    for (k = 0; k < VLC_MARK_LAST; k++)
        g_string_truncate(w->carry[k], 0);
}


static void
vlcSerialPoll(vlcSerialWatch *w,
              bool initial)
{
    struct stat sb;
    char buf[8192];
    bool reset = false;
    int fd;

    if ((fd = open(w->path, O_RDONLY | O_CLOEXEC)) < 0) {
        /* Gone (or not yet created): anything that shows up is new. */
        if (w->exists && !initial)
            w->resets++;
        w->exists = false;
        w->offset = 0;
        w->headLen = 0;
        vlcSerialClearCarry(w);
        return;
    }

    if (fstat(fd, &sb) < 0) {
        close(fd);
        return;
    }

    if (initial) {
        w->exists = true;
        w->dev = sb.st_dev;
        w->ino = sb.st_ino;
        w->offset = sb.st_size;
        vlcSerialReadHead(w, fd);
        close(fd);
        return;
    }

    if (!w->exists) {
        w->exists = true;
        w->dev = sb.st_dev;
        w->ino = sb.st_ino;
        w->offset = 0;
    } else if (sb.st_dev != w->dev || sb.st_ino != w->ino) {
        reset = true;                 /* replaced by another file */
    } else if (sb.st_size < w->offset) {
        reset = true;                 /* truncated */
    } else if (w->headLen > 0) {
        char head[VLC_HEAD_LEN];
        ssize_t n = pread(fd, head, w->headLen, 0);

        if (n >= 0 && (n < (ssize_t)w->headLen || memcmp(head, w->head, n) != 0))
            reset = true;             /* truncated and rewritten */
    }

    if (reset) {
        w->resets++;
        w->dev = sb.st_dev;
        w->ino = sb.st_ino;
        w->offset = 0;
        w->headLen = 0;
        vlcSerialClearCarry(w);
    }

    while (w->offset < sb.st_size) {
        ssize_t n = pread(fd, buf, sizeof(buf), w->offset);

        if (n <= 0)
            break;
        vlcSerialScan(w, buf, n);
        w->offset += n;
    }

    if (w->headLen < VLC_HEAD_LEN)
        vlcSerialReadHead(w, fd);

    close(fd);
}


static gpointer
vlcSerialThread(gpointer opaque)
{
    vlcSerialWatch *w = opaque;

    for (;;) {
        bool quit;

        g_mutex_lock(&w->lock);
        vlcSerialPoll(w, false);
        quit = w->quit;
        g_mutex_unlock(&w->lock);

        if (quit)
            break;
        g_usleep(50 * 1000);
    }

    return NULL;
}


vlcSerialWatch *
vlcSerialWatchStart(const char *path,
                    vlcClockFunc clock)
{
    vlcSerialWatch *w = g_new0(vlcSerialWatch, 1);
    size_t k;

    w->path = g_strdup(path);
    w->clock = clock;
    for (k = 0; k < VLC_MARK_LAST; k++) {
        w->carry[k] = g_string_new(NULL);
        w->times[k] = g_array_new(FALSE, FALSE, sizeof(double));
    }
    g_mutex_init(&w->lock);

    vlcSerialPoll(w, true);
    w->thread = g_thread_new("serial-watch", vlcSerialThread, w);
    return w;
}


void
vlcSerialWatchStop(vlcSerialWatch *w)
{
    if (!w || !w->thread)
        return;

    g_mutex_lock(&w->lock);
    w->quit = true;
    g_mutex_unlock(&w->lock);

    g_thread_join(w->thread);
    w->thread = NULL;
}


void
vlcSerialWatchFree(vlcSerialWatch *w)
{
    size_t k;

    if (!w)
        return;
    vlcSerialWatchStop(w);
    g_free(w->path);
    for (k = 0; k < VLC_MARK_LAST; k++) {
        g_string_free(w->carry[k], TRUE);
        g_array_unref(w->times[k]);
    }
    g_mutex_clear(&w->lock);
    g_free(w);
}


int
vlcSerialWatchMarks(vlcSerialWatch *w,
                    vlcSerialMark kind,
                    GArray **times)
{
    GArray *all = w->times[kind];
    int count;

    g_mutex_lock(&w->lock);
    count = all->len;
    if (times) {
        *times = g_array_sized_new(FALSE, FALSE, sizeof(double), all->len);
        g_array_append_vals(*times, all->data, all->len);
    }
    g_mutex_unlock(&w->lock);

    return count;
}


int
vlcSerialWatchBoots(vlcSerialWatch *w,
                    GArray **times)
{
    return vlcSerialWatchMarks(w, VLC_MARK_BOOT, times);
}


int
vlcSerialWatchResets(vlcSerialWatch *w)
{
    int resets;

    g_mutex_lock(&w->lock);
    resets = w->resets;
    g_mutex_unlock(&w->lock);

    return resets;
}
