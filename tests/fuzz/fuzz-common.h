/*
 * What the libFuzzer targets of tools/fuzz share: the process set-up of a
 * libvirt test (VIR_TEST_MAIN_PRELOAD's re-exec with the mocks, the
 * environment virTestMain() sets, the fake root), quiet error reporting,
 * and splitting a libvirt test data file around the line the fuzzer input
 * replaces.  Included by each target (tools/fuzz compiles one source per
 * target with the command line of a libvirt test): static functions only.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "testutils.h"
#include "internal.h"
#include "virerror.h"
#include "virlog.h"
#include "virfile.h"

static char *fuzzFakeRootDir;


static void
fuzzNoError(void *opaque G_GNUC_UNUSED,
            virErrorPtr err G_GNUC_UNUSED)
{
}


/* The process as @progname's test main runs it: re-exec'd with @mocks
 * (colon-separated) preloaded, the environment of virTestMain(), a fake
 * root for virpcimock, libvirt's error reporting set up and, unless
 * FUZZ_VERBOSE is set, silenced (parse errors are the common case). */
static void
fuzzSetupProcess(char ***argv,
                 const char *mocks,
                 const char *progname)
{
    const char *preload = getenv("LD_PRELOAD");
    char *argv0 = (*argv)[0];

    if (!preload || !strstr(preload, mocks)) {
        g_autofree char *newenv = preload ? g_strdup_printf("%s:%s", mocks, preload)
                                          : g_strdup(mocks);
        g_setenv("LD_PRELOAD", newenv, TRUE);
        execv(argv0, *argv);
        perror("execv");
        abort();
    }

    g_setenv("HOME", "/bad-test-used-env-home", TRUE);
    g_setenv("XDG_RUNTIME_DIR", "/bad-test-used-env-xdg-runtime-dir", TRUE);
    g_setenv("XDG_DATA_HOME", "/bad-test-used-env-xdg-data-home", TRUE);
    g_setenv("XDG_CACHE_HOME", "/bad-test-used-env-xdg-cache-home", TRUE);
    g_setenv("XDG_CONFIG_HOME", "/bad-test-used-env-xdg-config-home", TRUE);
    g_setenv("VIR_TEST_MOCK_PROGNAME", progname, TRUE);

    fuzzFakeRootDir = g_strdup(abs_builddir "/fakerootdir-fuzz-XXXXXX");
    if (!g_mkdtemp(fuzzFakeRootDir)) {
        perror("g_mkdtemp");
        abort();
    }
    g_setenv("LIBVIRT_FAKE_ROOT_DIR", fuzzFakeRootDir, TRUE);

    virFileActivateDirOverrideForProg(argv0);
    if (virErrorInitialize() < 0)
        abort();

    if (!getenv("FUZZ_VERBOSE")) {
        virSetErrorFunc(NULL, fuzzNoError);
        if (virLogSetOutputs("4:file:/dev/null") < 0)
            abort();
    }
}


static void
fuzzRemoveFakeRoot(void)
{
    if (fuzzFakeRootDir)
        virFileDeleteTree(fuzzFakeRootDir);
}


/* Splits the file at @path around its first line containing @splitAt
 * (that line is dropped) into *head and *tail; lines containing @drop
 * (if not NULL) are dropped too. */
static int
fuzzSplitTemplate(const char *path,
                  const char *splitAt,
                  const char *drop,
                  char **head,
                  char **tail)
{
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    g_autoptr(GString) h = g_string_new(NULL);
    g_autoptr(GString) t = g_string_new(NULL);
    GString *cur = h;
    size_t i;
    bool found = false;

    if (!g_file_get_contents(path, &text, NULL, NULL)) {
        fprintf(stderr, "cannot read %s\n", path);
        return -1;
    }

    lines = g_strsplit(text, "\n", -1);
    for (i = 0; lines[i]; i++) {
        if (drop && strstr(lines[i], drop))
            continue;
        if (!found && strstr(lines[i], splitAt)) {
            found = true;
            cur = t;
            continue;
        }
        g_string_append(cur, lines[i]);
        if (lines[i + 1])
            g_string_append_c(cur, '\n');
    }

    if (!found) {
        fprintf(stderr, "no %s line in %s\n", splitAt, path);
        return -1;
    }

    *head = g_string_free(g_steal_pointer(&h), FALSE);
    *tail = g_string_free(g_steal_pointer(&t), FALSE);
    return 0;
}
