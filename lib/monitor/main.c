/*
 * main.c - hcsmon's entry point. As "hcs-init" (argv[0], exec'd from the sealed copy) it is a
 * silo's pid 1; otherwise it is the monitor of one compute system:
 *
 *   hcsmon --id ID --runtime-root DIR [--data-root DIR]     (fd 3: the id's lock, fd 4: status)
 */
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/context.h"
#include "monitor.h"
#include "silo/silo.h"

int main(int argc, char **argv)
{
    if (argc > 0 && strcmp(argv[0], "hcs-init") == 0)
        hcs_init_main(3);
    const char *id = NULL, *run = NULL, *data = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--id") == 0)
            id = argv[i + 1];
        else if (strcmp(argv[i], "--runtime-root") == 0)
            run = argv[i + 1];
        else if (strcmp(argv[i], "--data-root") == 0)
            data = argv[i + 1];
    }
    if (id == NULL || run == NULL || fcntl(3, F_GETFD) < 0 || fcntl(4, F_GETFD) < 0) {
        fprintf(stderr, "hcsmon is started by libhcs: hcsmon --id ID --runtime-root DIR "
                        "(fd 3: lock, fd 4: status)\n");
        return 2;
    }
    /* Nothing of the caller's but our fds 0-4 may live on in the monitor. */
    syscall(SYS_close_range, 5, ~0U, 0);
    /* Detach: the library reaps this short-lived parent; the monitor lives on in the child. */
    pid_t pid = fork();
    if (pid < 0)
        return 1;
    if (pid > 0)
        _exit(0);
    setsid();
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    prctl(PR_SET_NAME, "hcsmon", 0, 0, 0);
    signal(SIGPIPE, SIG_IGN);
    if (hcs_ctx_set_roots(run, data, NULL) < 0)
        return 1;
    return hcs_monitor_run(id, 3, 4);
}
