/*
 * silo.h - a silo is a job plus namespaces plus a tiny pid-1 init (the Windows server silo).
 *
 * Monitor side (silo.c): hcs_silo_start() clones the init into new pid, mount, uts, ipc, net
 * and cgroup namespaces inside the job, from a sealed in-memory copy of the monitor binary (so
 * nothing in the container can reach a writable host binary through /proc/<pid>/exe);
 * hcs_silo_setup() sends it its setup and waits until its root is built. Requests to the init
 * then go over the silo's socket, events come back on it (ProcessExited).
 *
 * Init side (init.c): hcs_init_main() builds the root (lib/ns), then spawns, signals and reaps
 * processes on request and reports every exit.
 *
 * Init protocol (rpc messages on the silo socket):
 *   Setup  {Root:{Layers:[], Writable, Mountpoint, Mounts:[{HostPath,ContainerPath,ReadOnly}]},
 *           HostName, NetNs}                                   -> reply
 *   Spawn  {Parameters: ProcessParameters, Stdio: ["StdIn"|"StdOut"|"StdErr"...]} + their fds
 *                                  -> reply {Pid} (+ the console master fd for EmulateConsole)
 *   Signal {Pid, Signal}  (Pid 0: every process, for shutdown)  -> reply
 *   Resize {Pid, Height, Width}                                -> reply
 *   CloseStdin {Pid}  (consoles: end-of-file on the terminal)  -> reply
 *   event ProcessExited {Pid, ExitCode, Signal}
 */
#ifndef HCS_SILO_SILO_H
#define HCS_SILO_SILO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "common/error.h"
#include "job/job.h"

typedef struct hcs_silo {
    pid_t init_pid; /* host pid of the init */
    int pidfd;      /* pidfd of the init: readable when it exits */
    int sock;       /* rpc connection to the init */
} hcs_silo;

/*
 * Start a silo's init in new pid, mount, uts, ipc, net and cgroup namespaces, inside job from
 * before its exec (its cgroup namespace is rooted at the job's cgroup). Returns once the init
 * has exec'd; it then waits for its setup. On failure nothing is left running. *out is owned
 * by the caller (hcs_silo_destroy, or hcs_silo_free once the init has been reaped).
 */
int hcs_silo_start(const hcs_job *job, hcs_silo **out, hcs_error **err);

/*
 * Send the init setup (the Setup message without Op/Id) and wait for its reply: it builds the
 * root (lib/ns). On failure the init is left as it is: the caller ends it (hcs_silo_destroy).
 */
int hcs_silo_setup(hcs_silo *silo, const cJSON *setup, hcs_error **err);

/* Kill the init (SIGKILL through its pidfd), reap it and free the silo; NULL is ignored. */
void hcs_silo_destroy(hcs_silo *silo);

/* Release the silo's fds (the init is not signalled); NULL is ignored. */
void hcs_silo_free(hcs_silo *silo);

/*
 * Kill the whole silo at once: SIGKILL to its init through the pidfd. The init is pid 1 of the
 * silo's pid namespace, so the kernel then refuses every new process there and kills every
 * process of the namespace (nested ones included) before the init's exit is reported: no
 * freezing needed, nothing can fork away. Processes that joined the job from outside the
 * namespace (only the host can do that) are not reached: sweep the job after the init's exit.
 * 0, or -1 with errno (ESRCH: the init has already exited).
 */
int hcs_silo_kill(const hcs_silo *silo);

/*
 * The init's entry point: called from main() of the monitor binary when it runs as the init
 * (argv[0] "hcs-init"), with the silo socket at fd 3. Never returns.
 */
__attribute__((noreturn)) void hcs_init_main(int sock);

/* --- helpers shared with tests ------------------------------------------------------------------
 */

/*
 * Split a CommandLine by POSIX shell word rules without any expansion: blanks separate words,
 * '...' is literal, "..." allows \" \\ \$ \` escapes, a backslash outside quotes escapes the next
 * character. An unterminated quote is E_INVALIDARG naming the offset. *argv is NULL-terminated;
 * free with hcs_strv_free.
 */
int hcs_split_command_line(const char *line, char ***argv, size_t *argc, hcs_error **err);
void hcs_strv_free(char **v);

typedef struct hcs_user {
    uid_t uid;
    gid_t gid;
    gid_t *groups; /* supplementary groups (from the group file), malloc'ed */
    size_t n_groups;
    char *home; /* from the passwd file, or "/" */
} hcs_user;

/*
 * Resolve a User: "name", "uid", "name:group", "uid:gid" (NULL or "": root) against the passwd
 * and group files (the container's, in the init). Unknown names are E_INVALIDARG naming them.
 */
int hcs_user_resolve(const char *spec, const char *passwd_path, const char *group_path,
                     hcs_user *out, hcs_error **err);
void hcs_user_free(hcs_user *u);

/* Limit the calling process to Docker's default capability set (bounding, inheritable, ...). */
int hcs_caps_apply_default(hcs_error **err);

#endif
