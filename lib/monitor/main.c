/*
 * main.c - hcsmon's entry point. As "hcs-init" (argv[0], exec'd from the sealed copy) it is a
 * silo's pid 1; otherwise it is the monitor of one compute system:
 *
 *   hcsmon --id ID --runtime-root DIR [--data-root DIR]     (fd 3: the id's lock, fd 4: status)
 *   hcsmon --cleanup ID --runtime-root DIR                  remove what a dead monitor left
 */
#include <fcntl.h>
#include <sched.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/context.h"
#include "job/job.h"
#include "store/store.h"
#include "monitor.h"
#include "silo/silo.h"

/*
 * The monitor of id died (its lock is free): kill what is left of its job, remove its cgroups
 * and its folder. Exits 0 when there was nothing to do or all is gone.
 */
static int cleanup(const char *id)
{
    hcs_store_entry *e = NULL;
    hcs_error *err = NULL;
    if (hcs_store_open(id, &e, &err) < 0) {
        hcs_err_free(err);
        return 0; /* already gone */
    }
    AUTOCLOSE int lock = openat(e->dirfd, HCS_STORE_LOCK_FILE, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
    if (lock >= 0 && flock(lock, LOCK_EX | LOCK_NB) < 0) {
        hcs_store_release(e, 0, NULL); /* a live monitor owns it */
        return 0;
    }
    int rc = 0;
    if (hcs_job_remove(id, &err) < 0) {
        fprintf(stderr, "hcsmon: clean up \"%s\": %s\n", id, err->message);
        hcs_err_free(err);
        err = NULL;
        rc = 1;
    }
    if (hcs_store_release(e, 1, &err) < 0) {
        fprintf(stderr, "hcsmon: clean up \"%s\": %s\n", id, err->message);
        hcs_err_free(err);
        rc = 1;
    }
    return rc;
}

struct monitor_args {
    const char *id, *run, *data;
};

/* The monitor's life, in the detached process. */
static int monitor_main(void *arg)
{
    const struct monitor_args *a = arg;
    setsid();
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    prctl(PR_SET_NAME, "hcsmon", 0, 0, 0);
    signal(SIGPIPE, SIG_IGN);
    if (hcs_ctx_set_roots(a->run, a->data, NULL) < 0)
        exit(1);
    exit(hcs_monitor_run(a->id, 3, 4));
}

#define MONITOR_STACK ((size_t)8 << 20)

/*
 * Detach: the library reaps this short-lived process; the monitor lives on in a new one, which
 * shares our memory (CLONE_VM) while we exit at once, so it simply inherits the address space.
 * A fork would copy the page tables, tear the copy down again in the exiting parent and take a
 * copy-on-write fault on every page the monitor then writes while it creates the system: a few
 * milliseconds where page faults are expensive (virtual machines with shadow paging). The new
 * process runs on a stack of its own (8 MiB reserved, touched as it grows, a guard page below);
 * the C library's per-thread data (errno, the thread descriptor) is the one we leave behind,
 * which is sound because nothing of ours runs after the clone but the exit, and the exit must
 * not clear the thread id the descriptor holds (set_tid_address(NULL)).
 */
static int detach(struct monitor_args *a)
{
    long page = sysconf(_SC_PAGESIZE);
    char *stack = mmap(NULL, MONITOR_STACK, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED || mprotect(stack, (size_t)(page > 0 ? page : 4096), PROT_NONE) < 0)
        return 1;
    syscall(SYS_set_tid_address, NULL);
    if (clone(monitor_main, stack + MONITOR_STACK, CLONE_VM | SIGCHLD, a) < 0)
        return 1;
    _exit(0);
}

int main(int argc, char **argv)
{
    if (argc > 0 && strcmp(argv[0], "hcs-init") == 0)
        hcs_init_main(3);
    const char *id = NULL, *run = NULL, *data = NULL, *dead = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--cleanup") == 0)
            dead = argv[i + 1];
        else if (strcmp(argv[i], "--id") == 0)
            id = argv[i + 1];
        else if (strcmp(argv[i], "--runtime-root") == 0)
            run = argv[i + 1];
        else if (strcmp(argv[i], "--data-root") == 0)
            data = argv[i + 1];
    }
    if (dead != NULL && run != NULL) {
        if (hcs_ctx_set_roots(run, data, NULL) < 0)
            return 1;
        return cleanup(dead);
    }
    if (id == NULL || run == NULL || fcntl(3, F_GETFD) < 0 || fcntl(4, F_GETFD) < 0) {
        fprintf(stderr, "hcsmon is started by libhcs: hcsmon --id ID --runtime-root DIR "
                        "(fd 3: lock, fd 4: status)\n");
        return 2;
    }
    /* Nothing of the caller's but our fds 0-4 may live on in the monitor. */
    syscall(SYS_close_range, 5, ~0U, 0);
    struct monitor_args a = {id, run, data};
    return detach(&a);
}
