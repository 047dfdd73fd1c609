/* system_fixture.h - helpers for the compute-system integration tests (root). */
#ifndef HCS_TEST_SYSTEM_FIXTURE_H
#define HCS_TEST_SYSTEM_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "hcs.h"

/* Fresh roots (hcs_test_roots_setup) plus a busybox base layer at sf_layer(). */
void sf_setup(void);
void sf_teardown(void);
const char *sf_layer(void);

/*
 * A Container document over the busybox layer with a fresh writable folder; extra is spliced
 * into "Container" (e.g. "\"Memory\":{\"SizeInMB\":32}") and top is spliced at the top level.
 * Caller frees.
 */
char *sf_config(const char *extra, const char *top);

/* hcs_asprintf that aborts the test when out of memory. */
char *sf_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Run a shell command, asserting success. */
void sf_sh(const char *cmd);

/* Create from the document cfg (and wait): the HRESULT, *sys on success, *doc the result. */
HRESULT sf_try_create(const char *id, const char *cfg, HCS_SYSTEM *sys, char **doc);

/* Create from the document cfg and start, asserting success. */
HCS_SYSTEM sf_start_config(const char *id, const char *cfg);

/* Create (and wait), asserting success. */
HCS_SYSTEM sf_create(const char *id, const char *extra, const char *top);
/* Create and start. */
HCS_SYSTEM sf_start(const char *id, const char *extra);

/* Run a tracked call's result: wait on op and return its HRESULT (document in *doc if asked). */
HRESULT sf_wait(HCS_OPERATION op, HRESULT submitted, char **doc);

/*
 * Run a process to its end: argv given as a JSON array text, stdin text (or NULL), capturing
 * stdout and stderr (caller frees). Returns the exit code; *status gets ProcessStatus.
 */
int sf_run(HCS_SYSTEM sys, const char *args_json, const char *input, char **out, char **err);

/* Read fd into buf (NUL-terminated, *len bytes so far) until needle appears or end of file. */
void sf_read_until(int fd, char *buf, size_t cap, size_t *len, const char *needle);

/* Terminate (ignoring errors), wait for exit, close. */
void sf_destroy(HCS_SYSTEM sys);

/* Ids listed by HcsEnumerateComputeSystems, joined with ',' (caller frees). */
char *sf_enumerate(void);

/* Wait (up to 3 s) until no system is listed; returns the last listing (caller frees). */
char *sf_enumerate_until_empty(void);

/* Counts of what a system could leak: mounts in our namespace, cgroups of ids "it-*", fds. */
int sf_count_mounts(void);
int sf_count_cgroups(void);
int sf_count_fds(void);

#endif
