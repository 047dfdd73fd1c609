/*
 * init.c - the silo's pid 1: builds the root, then spawns, signals and reaps processes on the
 * monitor's request and reports every exit. Runs from a sealed in-memory copy of hcsmon.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/json.h"
#include "common/util.h"
#include "ns/ns.h"
#include "rpc/rpc.h"
#include "schema/documents.h"
#include "silo.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define MAX_PROCS 4096

struct proc {
    pid_t pid;
    int master; /* console master kept for resize and end-of-file, or -1 */
};

static struct {
    int sock;
    struct proc procs[MAX_PROCS];
    size_t n_procs;
    bool shutting_down;
} init;

static struct proc *find_proc(pid_t pid)
{
    for (size_t i = 0; i < init.n_procs; i++)
        if (init.procs[i].pid == pid)
            return &init.procs[i];
    return NULL;
}

static void reply(uint64_t id, hcs_error *err, cJSON *extra, const int *fds, size_t nfds)
{
    cJSON *r = hcs_rpc_reply(id, err ? err->hr : S_OK, err ? err->message : NULL);
    if (r != NULL && extra != NULL)
        for (cJSON *c = extra->child; c != NULL; c = c->next)
            cJSON_AddItemToObject(r, c->string, cJSON_Duplicate(c, 1));
    if (r != NULL)
        hcs_rpc_send(init.sock, r, fds, nfds, NULL);
    cJSON_Delete(r);
    hcs_err_free(err);
}

/* --- setup -------------------------------------------------------------------------------------
 */

/*
 * msg.Root, as the monitor resolved it (hcs_layer_root_resolve): "Lowers" (the layers' files
 * folders) with "Upper" and "Work" (overlay backend) or neither (read-only root), or "Bind" alone
 * (copy backend: the writable layer's merged tree); "Mountpoint"; "Mounts" (MappedDirectories);
 * "RegistrySocket" (bound at /dev/hcs-registry).
 */
static int setup(const cJSON *msg, hcs_error **err)
{
    const cJSON *root = cJSON_GetObjectItemCaseSensitive(msg, "Root");
    const cJSON *layers = cJSON_GetObjectItemCaseSensitive(root, "Lowers");
    const cJSON *mounts = cJSON_GetObjectItemCaseSensitive(root, "Mounts");
    size_t n_layers = (size_t)cJSON_GetArraySize(layers);
    size_t n_mounts = (size_t)cJSON_GetArraySize(mounts);
    const char **lv = calloc(n_layers + 1, sizeof(char *));
    hcs_ns_mount *mv = calloc(n_mounts + 1, sizeof(hcs_ns_mount));
    if (lv == NULL || mv == NULL) {
        free(lv);
        free(mv);
        return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    }
    size_t i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, layers) lv[i++] = cJSON_GetStringValue(it);
    i = 0;
    cJSON_ArrayForEach(it, mounts)
    {
        mv[i].host_path = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "HostPath"));
        mv[i].container_path =
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "ContainerPath"));
        mv[i].read_only = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(it, "ReadOnly"));
        i++;
    }
    hcs_ns_root r = {
        .layers = lv,
        .n_layers = n_layers,
        .upper = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, "Upper")),
        .work = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, "Work")),
        .bind = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, "Bind")),
        .mountpoint = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, "Mountpoint")),
        .mounts = mv,
        .n_mounts = n_mounts,
        .registry_socket =
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, "RegistrySocket")),
    };
    const char *netns = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(msg, "NetNs"));
    const char *host = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(msg, "HostName"));
    int rc = 0;
    if (netns != NULL)
        rc = hcs_ns_join_net(netns, err);
    else
        rc = hcs_ns_loopback_up(err);
    if (rc == 0)
        rc = hcs_ns_set_hostname(host, err);
    if (rc == 0)
        rc = hcs_ns_enter_root(&r, err);
    free(lv);
    free(mv);
    return rc;
}

/* --- spawn -------------------------------------------------------------------------------------
 */

/* The executable a process runs: argv[0] or ApplicationName, searched in PATH when bare. */
static int find_executable(const char *name, const char *path_env, char **out, hcs_error **err)
{
    if (strchr(name, '/') != NULL) {
        struct stat st;
        if (stat(name, &st) < 0)
            return hcs_err_set(err, HCS_E_FILE_NOT_FOUND,
                               "executable \"%s\" not found in the container", name);
        if (S_ISDIR(st.st_mode) || access(name, X_OK) < 0)
            return hcs_err_set(err, E_ACCESSDENIED,
                               "\"%s\" in the container is not an executable file", name);
        return (*out = strdup(name)) ? 0 : hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    }
    AUTOFREE char *dirs = strdup(path_env ? path_env : DEFAULT_PATH);
    if (dirs == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    char *p = dirs;
    for (char *d = strsep(&p, ":"); d != NULL; d = strsep(&p, ":")) {
        AUTOFREE char *cand = hcs_asprintf("%s/%s", d[0] ? d : ".", name);
        struct stat st;
        if (cand != NULL && stat(cand, &st) == 0 && S_ISREG(st.st_mode) &&
            access(cand, X_OK) == 0) {
            *out = steal_ptr(&cand);
            return 0;
        }
    }
    return hcs_err_set(err, HCS_E_FILE_NOT_FOUND,
                       "executable \"%s\" not found in the container (PATH=%s)", name,
                       path_env ? path_env : DEFAULT_PATH);
}

/* "K=V" strings from Environment, with PATH, HOME and TERM defaults. */
static char **build_env(const hcs_doc_process_parameters *p, const hcs_user *u, bool console,
                        const char **path_env)
{
    size_t n = p->environment.n;
    char **env = calloc(n + 4, sizeof(char *));
    if (env == NULL)
        return NULL;
    bool has_path = false, has_home = false, has_term = false;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *key = p->environment.keys[i];
        const char *val = ((char **)p->environment.values)[i];
        has_path |= strcmp(key, "PATH") == 0;
        has_home |= strcmp(key, "HOME") == 0;
        has_term |= strcmp(key, "TERM") == 0;
        if (strcmp(key, "PATH") == 0)
            *path_env = val;
        env[k++] = hcs_asprintf("%s=%s", key, val);
    }
    if (!has_path)
        env[k++] = strdup("PATH=" DEFAULT_PATH);
    if (!has_home)
        env[k++] = hcs_asprintf("HOME=%s", u->home);
    if (console && !has_term)
        env[k++] = strdup("TERM=xterm");
    for (size_t i = 0; i < k; i++)
        if (env[i] == NULL) {
            hcs_strv_free(env);
            return NULL;
        }
    return env;
}

/* In the forked child: become the process. Reports a failure as "step\0errno" on errfd. */
__attribute__((noreturn)) static void exec_child(const char *exe, char **argv, char **envp,
                                                 const hcs_user *u, const char *cwd,
                                                 const int stdio[3], const char *pts, int errfd)
{
    const char *step = "setsid";
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (int s = 1; s < NSIG; s++)
        signal(s, SIG_DFL);
    if (setsid() < 0)
        goto fail;
    if (pts != NULL) {
        step = "open the console";
        int t = open(pts, O_RDWR);
        if (t < 0 || ioctl(t, TIOCSCTTY, 0) < 0)
            goto fail;
        for (int i = 0; i < 3; i++)
            if (dup2(t, i) < 0)
                goto fail;
        if (t > 2)
            close(t);
    } else {
        step = "set up stdio";
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        for (int i = 0; i < 3; i++) {
            int src = stdio[i] >= 0 ? stdio[i] : null;
            if (src < 0 || dup2(src, i) < 0)
                goto fail;
        }
    }
    step = "drop capabilities";
    hcs_error *cerr = NULL;
    if (hcs_caps_apply_default(&cerr) < 0) {
        hcs_err_free(cerr);
        goto fail;
    }
    step = "set the user";
    if (setgroups(u->n_groups, u->groups) < 0 || setgid(u->gid) < 0 || setuid(u->uid) < 0)
        goto fail;
    step = "change to the working directory";
    if (chdir(cwd) < 0)
        goto fail;
    step = "exec";
    execve(exe, argv, envp);
fail:;
    int e = errno;
    char buf[128];
    int n = snprintf(buf, sizeof(buf), "%s", step);
    if (write(errfd, buf, (size_t)n + 1) < 0 || write(errfd, &e, sizeof(e)) < 0)
        _exit(127);
    _exit(127);
}

struct child {
    const char *exe, *cwd, *pts;
    char **argv, **envp;
    const hcs_user *u;
    const int *stdio;
    int errfd;
};

static int child_main(void *arg)
{
    const struct child *c = arg;
    exec_child(c->exe, c->argv, c->envp, c->u, c->cwd, c->stdio, c->pts, c->errfd);
}

/*
 * Start the process: a child that shares our memory until its exec (CLONE_VM|CLONE_VFORK, as
 * posix_spawn does) while we wait, so no copy of the init's address space is made and torn
 * down again (a millisecond where page tables are expensive). Safe here: the init is single
 * threaded and has no signal handlers, so nothing of ours runs while the child borrows our
 * memory; the child's stack is a buffer on ours, idle meanwhile.
 */
static pid_t start_child(const struct child *c)
{
    char stack[65536] __attribute__((aligned(16)));
    union {
        const struct child *in;
        void *out;
    } arg = {.in = c};
    return clone(child_main, stack + sizeof(stack), CLONE_VM | CLONE_VFORK | SIGCHLD, arg.out);
}

static int open_console(const hcs_doc_process_parameters *p, int *master, char *pts, size_t len,
                        hcs_error **err)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (m < 0)
        return hcs_err_errno(err, errno, "open /dev/ptmx in the container");
    if (grantpt(m) < 0 || unlockpt(m) < 0 || ptsname_r(m, pts, len) != 0) {
        int e = errno;
        close(m);
        return hcs_err_errno(err, e, "set up the console");
    }
    if (p->console_size.n == 2) {
        const hcs_opt_u64 *sz = p->console_size.items;
        struct winsize ws = {.ws_row = (unsigned short)sz[0].value,
                             .ws_col = (unsigned short)sz[1].value};
        ioctl(m, TIOCSWINSZ, &ws);
    }
    *master = m;
    return 0;
}

static int spawn(const cJSON *msg, const int *fds, size_t nfds, pid_t *pid_out, int *master_out,
                 hcs_error **err)
{
    *master_out = -1;
    hcs_doc_process_parameters *p = NULL;
    if (hcs_schema_parse_json(&hcs_type_process_parameters,
                              cJSON_GetObjectItemCaseSensitive(msg, "Parameters"),
                              "ProcessParameters", NULL, (void **)&p, err) < 0)
        return -1;
    int stdio[3] = {-1, -1, -1};
    const cJSON *names = cJSON_GetObjectItemCaseSensitive(msg, "Stdio");
    size_t k = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, names)
    {
        const char *s = cJSON_GetStringValue(it);
        int which = s && strcmp(s, "StdIn") == 0    ? 0
                    : s && strcmp(s, "StdOut") == 0 ? 1
                    : s && strcmp(s, "StdErr") == 0 ? 2
                                                    : -1;
        if (which >= 0 && k < nfds)
            stdio[which] = fds[k];
        k++;
    }
    char **argv = NULL;
    int rc = 0;
    if (p->command_args.n > 0) {
        argv = calloc(p->command_args.n + 1, sizeof(char *));
        for (size_t i = 0; argv && i < p->command_args.n; i++)
            argv[i] = strdup(((char **)p->command_args.items)[i]);
    } else if (p->command_line != NULL) {
        rc = hcs_split_command_line(p->command_line, &argv, NULL, err);
    } else {
        argv = calloc(2, sizeof(char *));
        if (argv)
            argv[0] = strdup(p->application_name);
    }
    hcs_user u = {0};
    char **envp = NULL;
    char *exe = NULL;
    const char *path_env = NULL;
    bool console = p->emulate_console.value;
    char pts[128] = "";
    int master = -1, errpipe[2] = {-1, -1};
    if (rc == 0 && (argv == NULL || argv[0] == NULL)) {
        hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
        rc = -1;
    }
    if (rc == 0)
        rc = hcs_user_resolve(p->user, "/etc/passwd", "/etc/group", &u, err);
    if (rc == 0 && (envp = build_env(p, &u, console, &path_env)) == NULL)
        rc = hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    if (rc == 0 && argv != NULL && argv[0] != NULL)
        rc = find_executable(p->application_name ? p->application_name : argv[0], path_env, &exe,
                             err);
    if (rc == 0 && console)
        rc = open_console(p, &master, pts, sizeof(pts), err);
    if (rc == 0 && pipe2(errpipe, O_CLOEXEC) < 0)
        rc = hcs_err_errno(err, errno, "create a pipe");
    const char *cwd = p->working_directory ? p->working_directory : "/";
    pid_t pid = -1;
    if (rc == 0) {
        struct child c = {exe, cwd, console ? pts : NULL, argv, envp, &u, stdio, errpipe[1]};
        pid = start_child(&c);
        if (pid < 0)
            rc = hcs_err_errno(err, errno, "start the process");
    }
    if (errpipe[1] >= 0)
        close(errpipe[1]);
    if (rc == 0) {
        char buf[256];
        ssize_t n;
        do
            n = read(errpipe[0], buf, sizeof(buf));
        while (n < 0 && errno == EINTR);
        if (n > 0) {
            int e = 0;
            size_t sl = strnlen(buf, (size_t)n);
            if ((size_t)n >= sl + 1 + sizeof(int))
                memcpy(&e, buf + sl + 1, sizeof(int));
            waitpid(pid, NULL, 0);
            if (strcmp(buf, "exec") == 0)
                rc = hcs_err_errno(err, e, "exec %s", exe);
            else if (strcmp(buf, "change to the working directory") == 0)
                rc = hcs_err_errno(err, e, "WorkingDirectory \"%s\"", cwd);
            else
                rc = hcs_err_errno(err, e, "start %s: %s", exe, buf);
        }
    }
    if (errpipe[0] >= 0)
        close(errpipe[0]);
    if (rc == 0) {
        *pid_out = pid;
        *master_out = master;
    } else if (master >= 0) {
        close(master);
    }
    free(exe);
    hcs_strv_free(envp);
    hcs_strv_free(argv);
    hcs_user_free(&u);
    hcs_schema_free(&hcs_type_process_parameters, p);
    return rc;
}

/* --- requests and exits -------------------------------------------------------------------------
 */

static int get_int(const cJSON *msg, const char *name, int64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(msg, name);
    return v != NULL ? hcs_json_i64(v, out) : -1;
}

static void handle(const cJSON *msg, int *fds, size_t nfds)
{
    const char *op = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(msg, "Op"));
    uint64_t id = 0;
    hcs_json_u64(cJSON_GetObjectItemCaseSensitive(msg, "Id"), &id);
    hcs_error *err = NULL;
    int64_t pid = 0, v1 = 0, v2 = 0;
    if (op != NULL && strcmp(op, "Spawn") == 0) {
        pid_t child;
        int master;
        if (init.n_procs >= MAX_PROCS) {
            hcs_err_set(&err, HCS_E_SYSTEM_NOT_CONFIGURED_FOR_OPERATION, "too many processes");
        } else if (spawn(msg, fds, nfds, &child, &master, &err) == 0) {
            init.procs[init.n_procs++] = (struct proc){child, master};
            cJSON *extra = cJSON_CreateObject();
            hcs_json_add_i64(extra, "Pid", child);
            int give = master >= 0 ? dup(master) : -1;
            reply(id, NULL, extra, give >= 0 ? &give : NULL, give >= 0 ? 1 : 0);
            if (give >= 0)
                close(give);
            cJSON_Delete(extra);
            return;
        }
    } else if (op != NULL && strcmp(op, "Signal") == 0 && get_int(msg, "Pid", &pid) == 0 &&
               get_int(msg, "Signal", &v1) == 0) {
        if (kill(pid == 0 ? -1 : (pid_t)pid, (int)v1) < 0 && !(pid == 0 && errno == ESRCH))
            hcs_err_errno(&err, errno, "signal %d to process %lld", (int)v1, (long long)pid);
        if (pid == 0 && v1 == SIGTERM)
            init.shutting_down = true;
    } else if (op != NULL && strcmp(op, "Resize") == 0 && get_int(msg, "Pid", &pid) == 0 &&
               get_int(msg, "Height", &v1) == 0 && get_int(msg, "Width", &v2) == 0) {
        struct proc *p = find_proc((pid_t)pid);
        struct winsize ws = {.ws_row = (unsigned short)v1, .ws_col = (unsigned short)v2};
        if (p == NULL || p->master < 0)
            hcs_err_set(&err, HCS_E_INVALID_STATE, "process %lld has no console", (long long)pid);
        else if (ioctl(p->master, TIOCSWINSZ, &ws) < 0)
            hcs_err_errno(&err, errno, "resize the console of process %lld", (long long)pid);
    } else if (op != NULL && strcmp(op, "CloseStdin") == 0 && get_int(msg, "Pid", &pid) == 0) {
        struct proc *p = find_proc((pid_t)pid);
        struct termios t;
        if (p == NULL || p->master < 0)
            hcs_err_set(&err, HCS_E_INVALID_STATE,
                        "process %lld has no console; its stdin pipe is closed by closing the "
                        "StdInput descriptor",
                        (long long)pid);
        else if (tcgetattr(p->master, &t) < 0 || write(p->master, &t.c_cc[VEOF], 1) != 1)
            hcs_err_errno(&err, errno, "end the console input of process %lld", (long long)pid);
    } else {
        hcs_err_set(&err, HCS_E_UNKNOWN_MESSAGE, "unknown request \"%s\"", op ? op : "?");
    }
    reply(id, err, NULL, NULL, 0);
}

static void reap(void)
{
    for (;;) {
        int status;
        pid_t pid = waitpid(-1, &status, WNOHANG);
        if (pid <= 0)
            break;
        struct proc *p = find_proc(pid);
        if (p == NULL)
            continue; /* an orphan that was re-parented to us */
        cJSON *ev = hcs_rpc_event("ProcessExited");
        hcs_json_add_i64(ev, "Pid", pid);
        if (WIFSIGNALED(status)) {
            hcs_json_add_i64(ev, "ExitCode", 128 + WTERMSIG(status));
            hcs_json_add_i64(ev, "Signal", WTERMSIG(status));
        } else {
            hcs_json_add_i64(ev, "ExitCode", WEXITSTATUS(status));
        }
        hcs_rpc_send(init.sock, ev, NULL, 0, NULL);
        cJSON_Delete(ev);
        if (p->master >= 0)
            close(p->master);
        *p = init.procs[--init.n_procs];
    }
}

void hcs_init_main(int sock)
{
    init.sock = sock;
    fcntl(sock, F_SETFD, FD_CLOEXEC); /* no container process may inherit it */
    prctl(PR_SET_NAME, "hcs-init", 0, 0, 0);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    /* Exactly these: the monitor clones us with every signal blocked. */
    sigprocmask(SIG_SETMASK, &set, NULL);
    int sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);

    cJSON *msg = NULL;
    hcs_error *err = NULL;
    if (hcs_rpc_recv(sock, &msg, NULL, NULL, &err) < 0 || msg == NULL)
        _exit(1);
    uint64_t id = 0;
    hcs_json_u64(cJSON_GetObjectItemCaseSensitive(msg, "Id"), &id);
    if (setup(msg, &err) < 0) {
        reply(id, err, NULL, NULL, 0);
        _exit(1);
    }
    cJSON_Delete(msg);
    reply(id, NULL, NULL, NULL, 0);

    for (;;) {
        struct pollfd pfd[2] = {{sock, POLLIN, 0}, {sfd, POLLIN, 0}};
        if (poll(pfd, 2, -1) < 0 && errno != EINTR)
            _exit(1);
        if (pfd[1].revents & POLLIN) {
            struct signalfd_siginfo si;
            while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
                ;
            reap();
            if (init.shutting_down && init.n_procs == 0) {
                /* Every process has ended after a shutdown: the system stops with us. */
                while (waitpid(-1, NULL, WNOHANG) > 0)
                    ;
                _exit(0);
            }
        }
        if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            int fds[HCS_RPC_MAX_FDS];
            size_t nfds = 0;
            msg = NULL;
            if (hcs_rpc_recv(sock, &msg, fds, &nfds, NULL) < 0 || msg == NULL)
                _exit(1); /* the monitor is gone: so is the system */
            const char *op = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(msg, "Op"));
            if (op != NULL && strcmp(op, "Shutdown") == 0) {
                init.shutting_down = true;
                kill(-1, SIGTERM);
                reap();
                if (init.n_procs == 0)
                    _exit(0);
            } else {
                handle(msg, fds, nfds);
            }
            for (size_t i = 0; i < nfds; i++)
                close(fds[i]);
            cJSON_Delete(msg);
        }
    }
}
