/*
 * job_fixture.h - helpers for the job integration suite: unique job names, children placed in
 * a job, and a cleanup that runs however a test ends.
 *
 * A test destroys its jobs itself; the checked teardown (jf_teardown, in the test's process)
 * kills and reaps every child and removes every name handed out. A failing Check assertion
 * ends the forked test with _exit() and skips that teardown, so an unchecked teardown
 * (jf_sweep_teardown, in the runner, after each test case whatever happened) removes every
 * cgroup of this run still there and remembers its name; the suite's last test fails if the
 * sweep found any. The test process is a child subreaper, so grandchildren are reaped here.
 */
#ifndef HCS_TEST_JOB_FIXTURE_H
#define HCS_TEST_JOB_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "job/job.h"

/* Prefix of every job name of this run: "hcs-test-job-<pid of the runner>-". */
const char *jf_prefix(void);

/* A fresh job name "hcs-test-job-<runner>-<test pid>-<n>", remembered for the cleanup. */
const char *jf_name(void);

/* Remember a name made elsewhere (the v2 scenario) for the cleanup. */
void jf_track_name(const char *name);

void jf_setup(void);
void jf_teardown(void);
void jf_cleanup(void);

/*
 * Remove this run's cgroups left in any hierarchy under /sys/fs/cgroup (killing what is in
 * them), appending their paths to list. Returns how many there were.
 */
int jf_sweep(char *list, size_t size);

/* Unchecked teardown: jf_sweep into jf_swept(). */
void jf_sweep_teardown(void);

/* What the sweeps of earlier test cases found (in the runner; "" when nothing). */
const char *jf_swept(void);

typedef void (*jf_child_fn)(void *arg);

/*
 * Fork a child that waits until it is in the job, then runs fn(arg) and exits 0 (or as fn
 * exits). Returns its pid, or -1 with *why set (static text) when it could not be placed.
 */
pid_t jf_spawn(hcs_job *job, jf_child_fn fn, void *arg, const char **why);

/* waitpid for a child (forgetting it); the raw status, or -1. */
int jf_reap(pid_t pid);

/* Reap every child left (after a kill), counting those killed by SIGKILL; within ms. */
int jf_reap_all(int ms, int *killed);

/* Child bodies. */
void jf_pause_forever(void *arg);
void jf_count_forever(void *arg); /* arg: a volatile uint64_t in MAP_SHARED memory */

/* A MAP_SHARED counter (never freed; small); read it through a volatile pointer. */
uint64_t *jf_shared_counter(void);

/* The contents of dir/file (caller frees), or NULL. */
char *jf_slurp(const char *dir, const char *file);

/* Does text hold v on a line of its own? */
bool jf_has_line(const char *text, long v);

bool jf_exists(const char *path);

void jf_sleep_ms(int ms);

/* Is pid in the job's pid list? */
bool jf_job_has_pid(hcs_job *job, pid_t pid);

#endif
