/*
 * libFuzzer target: the two parsers of the follow-up (issue 16) that read a
 * carried shutdown or reboot request, <lifecycleRequest type= method= age=
 * fakeReboot=/>, from input another host or an old file wrote:
 *
 *   - the migration cookie (qemuMigrationCookieParse(), the destination's
 *     parse of what the source sent): the fuzzer input is spliced into
 *     libvirt's own test cookie
 *     tests/qemumigrationcookiexmldata/lifecycle-request-xml2xml-in.xml in
 *     place of its <lifecycleRequest/> line, and parsed exactly as
 *     tests/qemumigrationcookiexmltest.c parses it (the status XML
 *     qemustatusxml2xmldata/modern-in.xml as the domain, every cookie flag
 *     asked for, the same mocks preloaded);
 *   - the save image's cookie (virQEMUDriverDomainSaveCookie's parse, what
 *     restore and a managed-save start read): the same input inside
 *     <cookie>...</cookie>, parsed with virSaveCookieParseString().
 *
 * When a cookie parses, it is formatted, parsed again and formatted again;
 * the target aborts if
 *   - the formatted cookie does not parse any more,
 *   - the second formatting differs from the first (not a fixed point),
 *   - the carried request (or, in the save cookie, the fake reboot in
 *     progress mark <pausedShutdown/>) read back differs from the one read
 *     first, or a
 *     request read is not one the carrying code can produce (a fake-reboot
 *     bit on anything but an ACPI reboot, an age below -1, a method or
 *     type out of range),
 *   - carrying the request into a domain (qemuDomainLifecycleRequestCarryIn,
 *     as restore and the migration's Finish do) gives a pending request in
 *     the future or of another kind,
 * and ASan/UBSan/LSan report memory errors, undefined behaviour (an age
 * overflowing the conversion, say) and leaks.  A cookie that does not
 * parse is fine: what matters is that it does not crash the daemon, and the
 * unit tests (lifecycle-request-bad) show that a bad <lifecycleRequest/>
 * alone is ignored rather than failing the migration.
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

#include "testutils.h"
#include "testutilsqemu.h"
#include "internal.h"
#include "virerror.h"
#include "virlog.h"
#include "virfile.h"
#include "virsavecookie.h"
#include "viruuid.h"
#include "qemu/qemu_domain.h"
#include "qemu/qemu_migration_cookie.h"
#include "fuzz-common.h"

#define VIR_FROM_THIS VIR_FROM_NONE

/* the mocks tests/qemumigrationcookiexmltest.c runs with */
#define FUZZ_MOCKS \
    abs_builddir "/libvirpcimock.so:" \
    abs_builddir "/libvirrandommock.so:" \
    abs_builddir "/libdomaincapsmock.so:" \
    abs_builddir "/libvirhostidmock.so"

#define FUZZ_COOKIE abs_srcdir "/qemumigrationcookiexmldata/lifecycle-request-xml2xml-in.xml"
#define FUZZ_STATUS abs_srcdir "/qemustatusxml2xmldata/modern-in.xml"
#define FUZZ_MAX_INPUT 65536
/* a monotonic clock value, fixed: the target reads no clock */
#define FUZZ_NOW (1000LL * 1000 * 1000 * 1000)

static virQEMUDriver driver;
static virDomainObj *vm;
static char *cookieHead;   /* template up to where <lifecycleRequest/> was */
static char *cookieTail;   /* the rest */


static void
fuzzCleanup(void)
{
    virDomainObjEndAPI(&vm);
    qemuTestDriverFree(&driver);
    fuzzRemoveFakeRoot();
}


int LLVMFuzzerInitialize(int *argc, char ***argv);

int
LLVMFuzzerInitialize(int *argc G_GNUC_UNUSED,
                     char ***argv)
{
    virConnectPtr conn;

    fuzzSetupProcess(argv, FUZZ_MOCKS, "qemumigrationcookiexmltest");

    /* the cookie around its <lifecycleRequest/> line */
    if (fuzzSplitTemplate(FUZZ_COOKIE, "<lifecycleRequest", NULL,
                          &cookieHead, &cookieTail) < 0)
        abort();

    if (qemuTestDriverInit(&driver) < 0) {
        fprintf(stderr, "qemuTestDriverInit failed\n");
        abort();
    }
    atexit(fuzzCleanup);

    /* as qemumigrationcookiexmltest's mymain() */
    if (!(conn = virGetConnect()))
        abort();
    virSetConnectInterface(conn);
    virSetConnectNetwork(conn);
    virSetConnectNWFilter(conn);
    virSetConnectNodeDev(conn);
    virSetConnectSecret(conn);
    virSetConnectStorage(conn);

    if (!(vm = virDomainObjParseFile(FUZZ_STATUS, driver.xmlopt,
                                     VIR_DOMAIN_DEF_PARSE_STATUS |
                                     VIR_DOMAIN_DEF_PARSE_ACTUAL_NET |
                                     VIR_DOMAIN_DEF_PARSE_PCI_ORIG_STATES |
                                     VIR_DOMAIN_DEF_PARSE_SKIP_VALIDATE |
                                     VIR_DOMAIN_DEF_PARSE_ALLOW_POST_PARSE_FAIL))) {
        fprintf(stderr, "cannot parse %s: %s\n", FUZZ_STATUS, virGetLastErrorMessage());
        abort();
    }

    return 0;
}


static void G_GNUC_NORETURN
fuzzFail(const char *kind,
         const char *what,
         const char *doc,
         const char *first,
         const char *second)
{
    fprintf(stderr, "\n*** %s cookie: %s\n", kind, what);
    fprintf(stderr, "--- input cookie:\n%s\n", doc);
    if (first)
        fprintf(stderr, "--- formatted:\n%s\n", first);
    if (second)
        fprintf(stderr, "--- formatted again:\n%s\n", second);
    fprintf(stderr, "--- last libvirt error: %s\n", virGetLastErrorMessage());
    abort();
}


/* As qemumigrationcookiexmltest's populate step: a formatted cookie names
 * this host as its source, which the parser refuses ("migrate guest to
 * the same host"); name the template's source host instead so that the
 * formatted cookie parses again. */
static void
fuzzDoctorHost(qemuMigrationCookie *mig)
{
    g_free(mig->localHostname);
    mig->localHostname = g_strdup("hostname2");
    /* uuidgen --sha1 --namespace @dns --name "hostname2" */
    if (virUUIDParse("8b3f4dc4-6a8e-5f9b-94a5-4c35babd8d95", mig->localHostuuid) < 0)
        abort();
}


/* A request the carrying code can produce (qemuDomainLifecycleRequestCarryOut
 * then CarriedFormat), whatever the input said. */
static const char *
fuzzCheckCarried(const qemuDomainLifecycleRequest *req)
{
    if (req->type == QEMU_DOMAIN_LIFECYCLE_REQUEST_NONE) {
        if (req->method != 0 || req->time != 0 || req->fakeReboot)
            return "no request, but fields set";
        return NULL;
    }
    if (req->type >= QEMU_DOMAIN_LIFECYCLE_REQUEST_LAST ||
        req->method <= 0 || req->method >= QEMU_DOMAIN_LIFECYCLE_METHOD_LAST)
        return "type or method out of range";
    if (req->time < -1)
        return "an age below -1 (unknown)";
    if (req->fakeReboot &&
        (req->type != QEMU_DOMAIN_LIFECYCLE_REQUEST_REBOOT ||
         req->method != QEMU_DOMAIN_LIFECYCLE_METHOD_ACPI))
        return "a fake reboot bit on something else than an ACPI reboot";
    return NULL;
}


static bool
fuzzSameRequest(const qemuDomainLifecycleRequest *a,
                const qemuDomainLifecycleRequest *b)
{
    return a->type == b->type && a->method == b->method &&
           a->time == b->time && a->fakeReboot == b->fakeReboot;
}


/* Carry @req into the domain as restore and Finish do; the domain's own
 * request is put back afterwards. */
static void
fuzzCarryIn(const char *kind,
            const qemuDomainLifecycleRequest *req,
            const char *doc)
{
    qemuDomainObjPrivate *priv = vm->privateData;
    qemuDomainLifecycleRequest saved = priv->lifecycleRequest;
    const qemuDomainLifecycleRequest *got = &priv->lifecycleRequest;

    priv->lifecycleRequest = (qemuDomainLifecycleRequest) { 0 };
    qemuDomainLifecycleRequestCarryIn(vm, req, FUZZ_NOW);

    if (got->type != QEMU_DOMAIN_LIFECYCLE_REQUEST_NONE) {
        if (got->type != req->type || got->method != req->method ||
            got->fakeReboot != req->fakeReboot)
            fuzzFail(kind, "carried in as another request", doc, NULL, NULL);
        if (got->time < 0 || got->time > FUZZ_NOW)
            fuzzFail(kind, "carried in with a time in the future or negative",
                     doc, NULL, NULL);
    }

    priv->lifecycleRequest = saved;
}


static void
fuzzMigrationCookie(const char *input)
{
    qemuDomainObjPrivate *priv = vm->privateData;
    g_autofree char *doc = g_strdup_printf("%s%s\n%s", cookieHead, input, cookieTail);
    g_autoptr(qemuMigrationCookie) mig1 = NULL;
    g_autoptr(qemuMigrationCookie) mig2 = NULL;
    g_auto(virBuffer) buf1 = VIR_BUFFER_INITIALIZER;
    g_auto(virBuffer) buf2 = VIR_BUFFER_INITIALIZER;
    const char *first;
    const char *second;
    const char *bad;

    if (!(mig1 = qemuMigrationCookieParse(&driver, vm, vm->def, NULL,
                                          priv->qemuCaps, doc, strlen(doc) + 1,
                                          ~0))) {
        virResetLastError();
        return;
    }

    if ((bad = fuzzCheckCarried(&mig1->lifecycleRequest)))
        fuzzFail("migration", bad, doc, NULL, NULL);

    /* as the test does: format everything */
    mig1->flags = ~0;
    fuzzDoctorHost(mig1);
    if (qemuMigrationCookieXMLFormat(&driver, priv->qemuCaps, &buf1, mig1) < 0)
        fuzzFail("migration", "a parsed cookie does not format", doc, NULL, NULL);
    first = virBufferCurrentContent(&buf1);

    if (!(mig2 = qemuMigrationCookieParse(&driver, vm, vm->def, NULL,
                                          priv->qemuCaps, first, strlen(first) + 1,
                                          ~0)))
        fuzzFail("migration", "the formatted cookie does not parse", doc, first, NULL);

    mig2->flags = ~0;
    fuzzDoctorHost(mig2);
    if (qemuMigrationCookieXMLFormat(&driver, priv->qemuCaps, &buf2, mig2) < 0)
        fuzzFail("migration", "the re-parsed cookie does not format", doc, first, NULL);
    second = virBufferCurrentContent(&buf2);

    if (STRNEQ(first, second))
        fuzzFail("migration", "formatting is not stable", doc, first, second);

    if (!fuzzSameRequest(&mig1->lifecycleRequest, &mig2->lifecycleRequest))
        fuzzFail("migration", "the carried request changes in a round trip",
                 doc, first, second);

    fuzzCarryIn("migration", &mig1->lifecycleRequest, doc);
}


static void
fuzzSaveCookie(const char *input)
{
    g_autofree char *doc = g_strdup_printf("<cookie>\n%s\n</cookie>\n", input);
    g_autoptr(qemuDomainSaveCookie) c1 = NULL;
    g_autoptr(qemuDomainSaveCookie) c2 = NULL;
    g_autofree char *first = NULL;
    g_autofree char *second = NULL;
    const char *bad;

    if (virSaveCookieParseString(doc, (virObject **) &c1,
                                 &virQEMUDriverDomainSaveCookie) < 0 ||
        !c1) {
        virResetLastError();
        return;
    }

    if ((bad = fuzzCheckCarried(&c1->lifecycleRequest)))
        fuzzFail("save", bad, doc, NULL, NULL);

    if (!(first = virSaveCookieFormat((virObject *) c1, &virQEMUDriverDomainSaveCookie)))
        fuzzFail("save", "a parsed cookie does not format", doc, NULL, NULL);

    if (virSaveCookieParseString(first, (virObject **) &c2,
                                 &virQEMUDriverDomainSaveCookie) < 0 ||
        !c2)
        fuzzFail("save", "the formatted cookie does not parse", doc, first, NULL);

    if (!(second = virSaveCookieFormat((virObject *) c2, &virQEMUDriverDomainSaveCookie)))
        fuzzFail("save", "the re-parsed cookie does not format", doc, first, NULL);

    if (STRNEQ(first, second))
        fuzzFail("save", "formatting is not stable", doc, first, second);

    if (!fuzzSameRequest(&c1->lifecycleRequest, &c2->lifecycleRequest))
        fuzzFail("save", "the carried request changes in a round trip",
                 doc, first, second);

    if (c1->pausedShutdown != c2->pausedShutdown)
        fuzzFail("save", "the fake reboot mark changes in a round trip",
                 doc, first, second);

    fuzzCarryIn("save", &c1->lifecycleRequest, doc);
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data,
                       size_t size)
{
    g_autofree char *input = NULL;

    if (size > FUZZ_MAX_INPUT)
        return 0;

    /* an embedded NUL ends the text, as it would in a cookie string */
    input = g_strndup((const char *) data, size);

    fuzzMigrationCookie(input);
    fuzzSaveCookie(input);

    virResetLastError();
    return 0;
}
