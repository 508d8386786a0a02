/*
 * libFuzzer target: the QEMU driver's status XML parser, where the series
 * reads <lifecycleRequest/>, <fakereboot/> and <pausedShutdown/>.
 *
 * The fuzzer input is the text of the lifecycle element(s): it is spliced
 * into a real status XML document (libvirt's own test file
 * tests/qemustatusxml2xmldata/lifecycle-request-reboot-in.xml, with its
 * <lifecycleRequest/> and <fakereboot/> lines taken out) where that element
 * was, so every input reaches qemuDomainObjPrivateXMLParse() and its
 * lifecycle part at once.  The document is parsed exactly as
 * tests/qemuxmlactivetest.c parses status XML (virDomainObjParseFile() with
 * driver.xmlopt of qemuTestDriverInit(), the same parse and format flags,
 * the same mocks preloaded).  When it parses, it is formatted, parsed again and formatted
 * again; the target aborts if
 *   - the formatted document does not parse any more (a daemon restart
 *     would lose the domain),
 *   - the second formatting differs from the first (not a fixed point),
 *   - the pending lifecycle request read back is not what a daemon restart
 *     must keep of the one read first (contract V10 as series v3 has it:
 *     the formatter reads no clock, so a request of known time is kept as
 *     it was, whatever its age, with its fake-reboot bit; one of unknown
 *     time only as <fakereboot/>, an ACPI reboot of unknown age), or the
 *     fake-reboot-in-progress mark changes,
 * and ASan/UBSan/LSan report memory errors, undefined behaviour and leaks.
 *
 * Built and run by tools/fuzz (docs/robustness.md).  It is not part of
 * libvirt's tree: it is compiled against the patched tree's build.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/mman.h>

#include "testutils.h"
#include "testutilsqemu.h"
#include "internal.h"
#include "virerror.h"
#include "virlog.h"
#include "virfile.h"
#include "qemu/qemu_domain.h"
#include "fuzz-common.h"

#define VIR_FROM_THIS VIR_FROM_NONE

/* the mocks tests/qemuxmlactivetest.c runs with */
#define FUZZ_MOCKS \
    abs_builddir "/libvirpcimock.so:" \
    abs_builddir "/libvirrandommock.so:" \
    abs_builddir "/libdomaincapsmock.so"

#define FUZZ_TEMPLATE abs_srcdir "/qemustatusxml2xmldata/lifecycle-request-reboot-in.xml"
#define FUZZ_MAX_INPUT 65536

static virQEMUDriver driver;
static char *docHead;   /* template up to where <lifecycleRequest/> was */
static char *docTail;   /* the rest */
static int docFd = -1;     /* memfd holding the document being parsed */
static char *docPath;    /* /proc/self/fd/N */

static const unsigned int parseFlags =
    VIR_DOMAIN_DEF_PARSE_STATUS |
    VIR_DOMAIN_DEF_PARSE_ACTUAL_NET |
    VIR_DOMAIN_DEF_PARSE_PCI_ORIG_STATES |
    VIR_DOMAIN_DEF_PARSE_SKIP_VALIDATE |
    VIR_DOMAIN_DEF_PARSE_ALLOW_POST_PARSE_FAIL |
    VIR_DOMAIN_DEF_PARSE_VOLUME_TRANSLATED;

static const unsigned int formatFlags =
    VIR_DOMAIN_DEF_FORMAT_SECURE |
    VIR_DOMAIN_DEF_FORMAT_STATUS |
    VIR_DOMAIN_DEF_FORMAT_ACTUAL_NET |
    VIR_DOMAIN_DEF_FORMAT_PCI_ORIG_STATES |
    VIR_DOMAIN_DEF_FORMAT_CLOCK_ADJUST |
    VIR_DOMAIN_DEF_FORMAT_VOLUME_TRANSLATED;


static void
fuzzCleanup(void)
{
    qemuTestDriverFree(&driver);
    fuzzRemoveFakeRoot();
}


int LLVMFuzzerInitialize(int *argc, char ***argv);

int
LLVMFuzzerInitialize(int *argc G_GNUC_UNUSED,
                     char ***argv)
{
    const char *template = getenv("FUZZ_STATUS_TEMPLATE");

    fuzzSetupProcess(argv, FUZZ_MOCKS, "qemuxmlactivetest");

    /* the document around its <lifecycleRequest/> line, without its
     * <fakereboot/> line */
    if (fuzzSplitTemplate(template ? template : FUZZ_TEMPLATE,
                          "<lifecycleRequest", "<fakereboot/>",
                          &docHead, &docTail) < 0)
        abort();

    if ((docFd = memfd_create("status-xml-fuzz", MFD_CLOEXEC)) < 0) {
        perror("memfd_create");
        abort();
    }
    docPath = g_strdup_printf("/proc/self/fd/%d", docFd);

    if (qemuTestDriverInit(&driver) < 0) {
        fprintf(stderr, "qemuTestDriverInit failed\n");
        abort();
    }
    atexit(fuzzCleanup);

    return 0;
}


/* virDomainObjParseXML() is static: parse through virDomainObjParseFile(),
 * the very function the daemon reads status files with, from a memfd. */
static virDomainObj *
fuzzParse(const char *doc)
{
    size_t len = strlen(doc);

    if (ftruncate(docFd, 0) < 0 ||
        pwrite(docFd, doc, len, 0) != (ssize_t) len) {
        perror("memfd");
        abort();
    }

    return virDomainObjParseFile(docPath, driver.xmlopt, parseFlags);
}


static const qemuDomainLifecycleRequest *
fuzzRequest(virDomainObj *obj)
{
    qemuDomainObjPrivate *priv = obj->privateData;

    return &priv->lifecycleRequest;
}


/* What the status XML must keep of @req (V10); no clock is involved */
static qemuDomainLifecycleRequest
fuzzKept(const qemuDomainLifecycleRequest *req)
{
    qemuDomainLifecycleRequest kept = { 0 };

    if (req->type != QEMU_DOMAIN_LIFECYCLE_REQUEST_NONE && req->time > 0) {
        kept.type = req->type;
        kept.method = req->method;
        kept.time = req->time;
        kept.fakeReboot = req->fakeReboot;
    } else if (req->fakeReboot) {
        kept.type = QEMU_DOMAIN_LIFECYCLE_REQUEST_REBOOT;
        kept.method = QEMU_DOMAIN_LIFECYCLE_METHOD_ACPI;
        kept.fakeReboot = true;
    }

    return kept;
}


static void G_GNUC_NORETURN
fuzzFail(const char *what,
         const char *doc,
         const char *first,
         const char *second)
{
    fprintf(stderr, "\n*** status XML round trip: %s\n", what);
    fprintf(stderr, "--- input document:\n%s\n", doc);
    if (first)
        fprintf(stderr, "--- formatted:\n%s\n", first);
    if (second)
        fprintf(stderr, "--- formatted again:\n%s\n", second);
    fprintf(stderr, "--- last libvirt error: %s\n", virGetLastErrorMessage());
    abort();
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data,
                       size_t size)
{
    g_autofree char *input = NULL;
    g_autofree char *doc = NULL;
    g_autofree char *first = NULL;
    g_autofree char *second = NULL;
    virDomainObj *obj1 = NULL;
    virDomainObj *obj2 = NULL;
    qemuDomainLifecycleRequest want;
    qemuDomainLifecycleRequest got;
    bool mark1;
    bool mark2;

    if (size > FUZZ_MAX_INPUT)
        return 0;

    /* an embedded NUL ends the text, as it would in a file read as a string */
    input = g_strndup((const char *) data, size);
    doc = g_strdup_printf("%s%s\n%s", docHead, input, docTail);

    if (!(obj1 = fuzzParse(doc))) {
        virResetLastError();
        return 0;
    }

    if (!(first = virDomainObjFormat(obj1, driver.xmlopt, formatFlags)))
        fuzzFail("a parsed status does not format", doc, NULL, NULL);

    if (!(obj2 = fuzzParse(first)))
        fuzzFail("the formatted status does not parse", doc, first, NULL);

    if (!(second = virDomainObjFormat(obj2, driver.xmlopt, formatFlags)))
        fuzzFail("the re-parsed status does not format", doc, first, NULL);

    if (STRNEQ(first, second))
        fuzzFail("formatting is not stable", doc, first, second);

    want = fuzzKept(fuzzRequest(obj1));
    got = *fuzzRequest(obj2);
    if (want.type != got.type || want.method != got.method ||
        want.time != got.time || want.fakeReboot != got.fakeReboot) {
        g_autofree char *what =
            g_strdup_printf("the pending request is not kept as it must be: "
                            "want type %d method %d time %lld fakereboot %d, "
                            "got type %d method %d time %lld fakereboot %d",
                            want.type, want.method, want.time, want.fakeReboot,
                            got.type, got.method, got.time, got.fakeReboot);
        fuzzFail(what, doc, first, second);
    }

    mark1 = ((qemuDomainObjPrivate *) obj1->privateData)->pausedShutdown;
    mark2 = ((qemuDomainObjPrivate *) obj2->privateData)->pausedShutdown;
    if (mark1 != mark2)
        fuzzFail("the fake reboot in progress mark changes", doc, first, second);

    virDomainObjEndAPI(&obj1);
    virDomainObjEndAPI(&obj2);
    virResetLastError();
    return 0;
}
