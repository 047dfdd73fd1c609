/*
 * bench_lifecycle.c - a container's whole life through the C API, against crun, runc and unshare
 * on the same root folder, measured interleaved in the same run. Needs root.
 *
 * The libhcs lifecycle: make a fresh writable folder, HcsCreateComputeSystem (the root folder as
 * the one layer), HcsStartComputeSystem, HcsCreateProcess /bin/true, HcsWaitForProcessExit (exit
 * code checked), HcsTerminateComputeSystem, HcsWaitForComputeSystemExit, HcsCloseComputeSystem,
 * remove the writable folder. Every call waits for its operation.
 *
 * The peers, each a fresh process per run as a user would start it:
 *   crun run   `crun --root S run -b BUNDLE ID`, run from a helper process that lives in a
 *              private mount namespace where the hybrid host's cgroup2 mount
 *              (/sys/fs/cgroup/unified) is hidden under a tmpfs: crun 1.8 refuses hybrid cgroups
 *              otherwise. The helper is made once, so the wrapper costs nothing per run.
 *   runc run   `runc --root S run -b BUNDLE ID`
 *   unshare    `unshare --fork --pid --mount --uts --ipc --net chroot ROOT /bin/true`: the same
 *              namespaces with no runtime at all, the floor.
 * The bundles are `runc spec`'s default (pid, net, ipc, uts, mount namespaces; proc, dev, sys,
 * cgroup mounts; three capabilities; a device cgroup), with process.args /bin/true, no terminal,
 * root.path the same root folder read-only (so the peers get no writable layer; libhcs does), and
 * linux.cgroupsPath /hcs-bench-<pid>/<n> (removed at the end).
 *
 * Rows (bench/run prints them as a table): median of ROUNDS rounds per tool, the tools in a
 * different order each round; 100 sequential lifecycles (total) against 100 `crun run`; 20 at
 * once (libhcs: 20 threads; crun: 20 processes) against crun, wall time; the monitor's resident
 * memory while a system runs (no peer measured; reference numbers in a note).
 *
 * Environment: HCS_BENCH_ROOT (the root folder; bench/run makes it with tools/mkroot), PATH for
 * crun, runc, unshare (a missing one is skipped with a note). Without root privileges it prints
 * one note and exits 0. Everything it makes lives in /tmp/hcs-bench-lifecycle-* and is removed.
 */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hcs.h"

#define ROUNDS 20 /* interleaved rounds for the medians */
#define WARMUP 2  /* untimed rounds first */
#define SEQUENTIAL 100
#define PARALLEL 20
#define TIMEOUT_MS 20000
#define CGROUP2_MAGIC 0x63677270

extern char **environ;

static char tmp[64];        /* /tmp/hcs-bench-lifecycle-XXXXXX */
static char root[PATH_MAX]; /* the root folder (layer) */
static char cg_parent[64];  /* hcs-bench-<pid> */
static pid_t main_pid;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(const double *v, int n)
{
    double s[ROUNDS];
    memcpy(s, v, (size_t)n * sizeof(*v));
    qsort(s, (size_t)n, sizeof(*s), cmp_double);
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

__attribute__((format(printf, 1, 2))) static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "bench_lifecycle: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(1);
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static int remove_tree(const char *path)
{
    return nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* cgroup folders: only the folders go (rmdir); their files are the kernel's. */
static int rmdir_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)ftw;
    if (flag == FTW_DP)
        rmdir(path);
    return 0;
}

/* Remove what the run made, also on failure (atexit; not in the crun helper, which _exits). */
static void cleanup(void)
{
    if (getpid() != main_pid)
        return;
    if (tmp[0] != '\0')
        remove_tree(tmp);
    if (cg_parent[0] == '\0')
        return;
    /* Each hierarchy's /hcs-bench-<pid>: /sys/fs/cgroup itself (pure v2) and every folder in it. */
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "/sys/fs/cgroup/%s", cg_parent);
    nftw(path, rmdir_entry, 16, FTW_DEPTH | FTW_PHYS);
    DIR *d = opendir("/sys/fs/cgroup");
    for (struct dirent *e; d != NULL && (e = readdir(d)) != NULL;) {
        snprintf(path, sizeof(path), "/sys/fs/cgroup/%s/%s", e->d_name, cg_parent);
        if (e->d_name[0] != '.' && access(path, F_OK) == 0)
            nftw(path, rmdir_entry, 16, FTW_DEPTH | FTW_PHYS);
    }
    if (d != NULL)
        closedir(d);
}

/* --- peers: processes ------------------------------------------------------------------------- */

/* The full path of an executable found in PATH, or NULL. */
static char *which(const char *name)
{
    const char *path = getenv("PATH");
    char buf[PATH_MAX];
    for (const char *p = path ? path : "/usr/sbin:/usr/bin:/sbin:/bin"; *p != '\0';) {
        size_t n = strcspn(p, ":");
        snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, p, name);
        if (n > 0 && access(buf, X_OK) == 0)
            return strdup(buf);
        p += n + (p[n] == ':');
    }
    return NULL;
}

/* Start argv with stdout on /dev/null (stderr stays, so a failing peer says why). */
static pid_t spawn(char *const argv[])
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    int e = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    return e == 0 ? pid : -1;
}

/* Wait for pid; 0 when it exited with status 0. */
static int reap(pid_t pid)
{
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

enum tool { LIBHCS, CRUN, RUNC, UNSHARE, N_TOOLS };
static const char *const tool_names[N_TOOLS] = {"libhcs", "crun run", "runc run", "unshare"};
static char *tool_path[N_TOOLS];

/*
 * Run count copies of the peer at once (count 1: one run) and wait for all; seconds of wall
 * time, or -1 when one failed. seq numbers the container ids; copy k uses bundle k.
 */
static double run_peer(enum tool t, int count, int seq)
{
    char ids[PARALLEL][64], bundles[PARALLEL][PATH_MAX], state[PATH_MAX];
    char *argv[PARALLEL][12];
    snprintf(state, sizeof(state), "%s/state-%s", tmp, t == CRUN ? "crun" : "runc");
    for (int k = 0; k < count; k++) {
        snprintf(ids[k], sizeof(ids[k]), "b%d-%d-%d", (int)main_pid, seq, k);
        snprintf(bundles[k], sizeof(bundles[k]), "%s/bundle-%d", tmp, k);
        char **a = argv[k];
        if (t == UNSHARE) {
            char *v[] = {tool_path[t], "--fork", "--pid", "--mount",   "--uts", "--ipc",
                         "--net",      "chroot", root,    "/bin/true", NULL};
            memcpy(a, v, sizeof(v));
        } else {
            char *v[] = {tool_path[t], "--root", state, "run", "-b", bundles[k], ids[k], NULL};
            memcpy(a, v, sizeof(v));
        }
    }
    pid_t pids[PARALLEL];
    int failed = 0;
    double t0 = now();
    for (int k = 0; k < count; k++)
        failed |= (pids[k] = spawn(argv[k])) < 0;
    for (int k = 0; k < count; k++)
        if (pids[k] > 0)
            failed |= reap(pids[k]) != 0;
    double dt = now() - t0;
    return failed ? -1 : dt;
}

/*
 * crun runs in a helper process in its own mount namespace (see the top). The helper reads
 * requests {count, seq} from a pipe and answers with the seconds run_peer measured.
 */
static int helper_in = -1, helper_out = -1;
static pid_t helper_pid = -1;

struct request {
    int count, seq;
};

static int start_crun_helper(void)
{
    int to[2], from[2];
    if (pipe2(to, O_CLOEXEC) < 0 || pipe2(from, O_CLOEXEC) < 0)
        return -1;
    helper_pid = fork();
    if (helper_pid < 0)
        return -1;
    if (helper_pid == 0) {
        close(to[1]), close(from[0]);
        struct statfs fs;
        int hybrid = statfs("/sys/fs/cgroup/unified", &fs) == 0 && fs.f_type == CGROUP2_MAGIC;
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
            (hybrid &&
             mount("mask", "/sys/fs/cgroup/unified", "tmpfs", 0, "size=1m,mode=755") < 0)) {
            perror("bench_lifecycle: crun helper: mount namespace");
            _exit(1);
        }
        struct request rq;
        while (read(to[0], &rq, sizeof(rq)) == (ssize_t)sizeof(rq)) {
            double dt = run_peer(CRUN, rq.count, rq.seq);
            if (write(from[1], &dt, sizeof(dt)) != (ssize_t)sizeof(dt))
                break;
        }
        _exit(0);
    }
    close(to[0]), close(from[1]);
    helper_in = to[1], helper_out = from[0];
    return 0;
}

static double run_crun(int count, int seq)
{
    struct request rq = {count, seq};
    double dt;
    if (write(helper_in, &rq, sizeof(rq)) != (ssize_t)sizeof(rq) ||
        read(helper_out, &dt, sizeof(dt)) != (ssize_t)sizeof(dt))
        return -1;
    return dt;
}

static void write_bundle(int k)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s/bundle-%d", tmp, k);
    if (mkdir(path, 0700) < 0)
        die("mkdir %s: %s", path, strerror(errno));
    strcat(path, "/config.json");
    FILE *f = fopen(path, "w");
    if (f == NULL)
        die("%s: %s", path, strerror(errno));
    const char *caps = "[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"]";
    fprintf(
        f,
        "{\"ociVersion\":\"1.0.2-dev\","
        "\"process\":{\"terminal\":false,\"user\":{\"uid\":0,\"gid\":0},"
        "\"args\":[\"/bin/true\"],"
        "\"env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"],"
        "\"cwd\":\"/\",\"capabilities\":{\"bounding\":%s,\"effective\":%s,\"permitted\":%s,"
        "\"ambient\":%s},\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":1024,\"soft\":1024}],"
        "\"noNewPrivileges\":true},"
        "\"root\":{\"path\":\"%s\",\"readonly\":true},\"hostname\":\"bench\","
        "\"mounts\":["
        "{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
        "{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\","
        "\"options\":[\"nosuid\",\"strictatime\",\"mode=755\",\"size=65536k\"]},"
        "{\"destination\":\"/dev/pts\",\"type\":\"devpts\",\"source\":\"devpts\","
        "\"options\":[\"nosuid\",\"noexec\",\"newinstance\",\"ptmxmode=0666\",\"mode=0620\"]},"
        "{\"destination\":\"/dev/shm\",\"type\":\"tmpfs\",\"source\":\"shm\","
        "\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"mode=1777\",\"size=65536k\"]},"
        "{\"destination\":\"/dev/mqueue\",\"type\":\"mqueue\",\"source\":\"mqueue\","
        "\"options\":[\"nosuid\",\"noexec\",\"nodev\"]},"
        "{\"destination\":\"/sys\",\"type\":\"sysfs\",\"source\":\"sysfs\","
        "\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"ro\"]},"
        "{\"destination\":\"/sys/fs/cgroup\",\"type\":\"cgroup\",\"source\":\"cgroup\","
        "\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"relatime\",\"ro\"]}],"
        "\"linux\":{\"cgroupsPath\":\"/%s/%d\","
        "\"resources\":{\"devices\":[{\"allow\":false,\"access\":\"rwm\"}]},"
        "\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\"},{\"type\":\"ipc\"},"
        "{\"type\":\"uts\"},{\"type\":\"mount\"}],"
        "\"maskedPaths\":[\"/proc/acpi\",\"/proc/asound\",\"/proc/kcore\",\"/proc/keys\","
        "\"/proc/latency_stats\",\"/proc/timer_list\",\"/proc/timer_stats\","
        "\"/proc/sched_debug\",\"/sys/firmware\",\"/proc/scsi\"],"
        "\"readonlyPaths\":[\"/proc/bus\",\"/proc/fs\",\"/proc/irq\",\"/proc/sys\","
        "\"/proc/sysrq-trigger\"]}}\n",
        caps, caps, caps, caps, root, cg_parent, k);
    if (fclose(f) != 0)
        die("%s: write failed", path);
}

/* --- libhcs ----------------------------------------------------------------------------------- */

enum phase { P_FOLDER, P_CREATE, P_START, P_PROCESS, P_TERMINATE, P_CLOSE, N_PHASES };
static const char *const phase_names[N_PHASES] = {
    "writable folder mkdir+rm", "create", "start", "run /bin/true + wait",
    "terminate + wait exit",    "close"};

/* Wait for the tracked call that returned hr; die with the error document when it failed. */
static void finish(HCS_OPERATION op, const char *what, const char *id, HRESULT hr)
{
    char *doc = NULL;
    if (SUCCEEDED(hr))
        hr = HcsWaitForOperationResult(op, TIMEOUT_MS, &doc);
    else
        HcsGetOperationResult(op, &doc);
    if (FAILED(hr))
        die("%s %s: 0x%08X %s", what, id, (unsigned)hr, doc ? doc : "");
    HcsFree(doc);
}

static void system_config(char *buf, size_t size, const char *writable)
{
    snprintf(buf, size,
             "{\"SchemaVersion\":{\"Major\":2,\"Minor\":1},\"Owner\":\"bench\","
             "\"ShouldTerminateOnLastHandleClosed\":true,"
             "\"Container\":{\"GuestOs\":{\"HostName\":\"bench\"},"
             "\"Storage\":{\"Layers\":[{\"Path\":\"%s\"}],\"Path\":\"%s\"}}}",
             root, writable);
}

/* Create and start system id over a fresh writable folder (its path in writable). */
static HCS_SYSTEM create_and_start(HCS_OPERATION op, const char *id, char *writable, size_t size,
                                   double *t)
{
    snprintf(writable, size, "%s/w/%s", tmp, id);
    if (mkdir(writable, 0700) < 0)
        die("mkdir %s: %s", writable, strerror(errno));
    char config[3 * PATH_MAX];
    system_config(config, sizeof(config), writable);
    t[P_FOLDER] = now();
    HCS_SYSTEM system = NULL;
    finish(op, "HcsCreateComputeSystem", id, HcsCreateComputeSystem(id, config, op, NULL, &system));
    t[P_CREATE] = now();
    finish(op, "HcsStartComputeSystem", id, HcsStartComputeSystem(system, op, NULL));
    t[P_START] = now();
    return system;
}

static void terminate_and_close(HCS_OPERATION op, HCS_SYSTEM system, const char *id, double *t)
{
    finish(op, "HcsTerminateComputeSystem", id, HcsTerminateComputeSystem(system, op, NULL));
    HRESULT hr = HcsWaitForComputeSystemExit(system, TIMEOUT_MS, NULL);
    if (FAILED(hr))
        die("HcsWaitForComputeSystemExit %s: 0x%08X", id, (unsigned)hr);
    t[P_TERMINATE] = now();
    HcsCloseComputeSystem(system);
    t[P_CLOSE] = now();
}

/* One whole lifecycle; seconds. phases (optional) receives the seconds of each phase. */
static double lifecycle(int seq, int k, double *phases)
{
    char id[64], writable[PATH_MAX];
    double t[N_PHASES], t0 = now();
    snprintf(id, sizeof(id), "bench-%d-%d-%d", (int)main_pid, seq, k);
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    if (op == NULL)
        die("HcsCreateOperation failed");
    HCS_SYSTEM system = create_and_start(op, id, writable, sizeof(writable), t);

    HCS_PROCESS process = NULL;
    finish(op, "HcsCreateProcess", id,
           HcsCreateProcess(system, "{\"CommandArgs\":[\"/bin/true\"]}", op, NULL, &process));
    char *status = NULL;
    HRESULT hr = HcsWaitForProcessExit(process, TIMEOUT_MS, &status);
    cJSON *st = status ? cJSON_Parse(status) : NULL;
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(st, "ExitCode");
    if (FAILED(hr) || !cJSON_IsNumber(code) || code->valueint != 0)
        die("/bin/true in %s: 0x%08X %s", id, (unsigned)hr, status ? status : "");
    cJSON_Delete(st);
    HcsFree(status);
    HcsCloseProcess(process);
    t[P_PROCESS] = now();

    terminate_and_close(op, system, id, t);
    HcsCloseOperation(op);
    double before_rm = now();
    if (remove_tree(writable) != 0)
        die("removing %s: %s", writable, strerror(errno));
    double end = now();
    if (phases != NULL) {
        phases[P_FOLDER] = (t[P_FOLDER] - t0) + (end - before_rm);
        for (int p = P_CREATE; p < N_PHASES; p++)
            phases[p] = t[p] - t[p - 1];
    }
    return end - t0;
}

struct worker {
    pthread_t thread;
    int seq, k;
    pthread_barrier_t *go;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    pthread_barrier_wait(w->go);
    lifecycle(w->seq, w->k, NULL);
    return NULL;
}

/* PARALLEL lifecycles on PARALLEL threads released together; seconds of wall time. */
static double parallel_lifecycles(int seq)
{
    struct worker w[PARALLEL];
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, PARALLEL + 1);
    for (int k = 0; k < PARALLEL; k++) {
        w[k] = (struct worker){.seq = seq, .k = k, .go = &go};
        if (pthread_create(&w[k].thread, NULL, worker_main, &w[k]) != 0)
            die("pthread_create failed");
    }
    pthread_barrier_wait(&go);
    double t0 = now();
    for (int k = 0; k < PARALLEL; k++)
        pthread_join(w[k].thread, NULL);
    double dt = now() - t0;
    pthread_barrier_destroy(&go);
    return dt;
}

/* "Key:   123 kB" from a /proc file, in KiB; -1 when absent. */
static long proc_kib(const char *file, const char *key)
{
    FILE *f = fopen(file, "r");
    char line[256];
    long v = -1;
    size_t n = strlen(key);
    while (f != NULL && fgets(line, sizeof(line), f) != NULL)
        if (strncmp(line, key, n) == 0 && line[n] == ':')
            v = strtol(line + n + 1, NULL, 10);
    if (f != NULL)
        fclose(f);
    return v;
}

/* The monitor of a started system: its pid from the runtime root's state.json, then its memory. */
static void monitor_memory(long *rss, long *pss)
{
    char id[64], writable[PATH_MAX], path[PATH_MAX + 96];
    double t[N_PHASES];
    snprintf(id, sizeof(id), "bench-%d-rss", (int)main_pid);
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    HCS_SYSTEM system = create_and_start(op, id, writable, sizeof(writable), t);
    snprintf(path, sizeof(path), "%s/run/systems/%s/state.json", tmp, id);
    FILE *f = fopen(path, "r");
    char buf[16384];
    size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
    if (f != NULL)
        fclose(f);
    buf[n] = '\0';
    cJSON *state = cJSON_Parse(buf);
    const cJSON *pid = cJSON_GetObjectItemCaseSensitive(state, "MonitorPid");
    if (!cJSON_IsNumber(pid))
        die("no MonitorPid in %s: %s", path, buf);
    snprintf(path, sizeof(path), "/proc/%d/status", pid->valueint);
    *rss = proc_kib(path, "VmRSS");
    snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", pid->valueint);
    *pss = proc_kib(path, "Pss");
    cJSON_Delete(state);
    terminate_and_close(op, system, id, t);
    HcsCloseOperation(op);
    remove_tree(writable);
}

/* --- main ------------------------------------------------------------------------------------- */

/* One table row; decimals for value and baseline; a baseline <= 0 prints as "-". */
static void row(const char *name, double value, double baseline, int decimals)
{
    char v[32], b[32], r[32];
    snprintf(v, sizeof(v), "%.*f", decimals, value);
    snprintf(b, sizeof(b), "%.*f", decimals, baseline);
    snprintf(r, sizeof(r), "%.2f", value / baseline);
    printf("%s\t%s\t%s\t%s\n", name, v, baseline > 0 ? b : "-", baseline > 0 ? r : "-");
}

int main(void)
{
    if (geteuid() != 0) {
        printf("# bench_lifecycle: skipped: containers need root (run make bench as root)\n");
        return 0;
    }
    const char *root_env = getenv("HCS_BENCH_ROOT");
    if (root_env == NULL || realpath(root_env, root) == NULL)
        die("HCS_BENCH_ROOT must name a root folder (bench/run makes one with tools/mkroot)");
    main_pid = getpid();
    snprintf(cg_parent, sizeof(cg_parent), "hcs-bench-%d", (int)main_pid);
    snprintf(tmp, sizeof(tmp), "/tmp/hcs-bench-lifecycle-XXXXXX");
    if (mkdtemp(tmp) == NULL)
        die("mkdtemp: %s", strerror(errno));
    atexit(cleanup);
    signal(SIGPIPE, SIG_IGN);

    char path[PATH_MAX + 32], settings[PATH_MAX + 96];
    snprintf(path, sizeof(path), "%s/w", tmp);
    mkdir(path, 0700);
    snprintf(settings, sizeof(settings),
             "{\"PropertyType\":\"Roots\",\"Settings\":{\"RuntimeRoot\":\"%s/run\"}}", tmp);
    char *err = NULL;
    HRESULT hr = HcsModifyServiceSettings(settings, &err);
    if (FAILED(hr))
        die("HcsModifyServiceSettings: 0x%08X %s", (unsigned)hr, err ? err : "");

    for (int k = 0; k < PARALLEL; k++)
        write_bundle(k);
    const char *binaries[N_TOOLS] = {NULL, "crun", "runc", "unshare"};
    for (int t = CRUN; t < N_TOOLS; t++)
        if ((tool_path[t] = which(binaries[t])) == NULL)
            printf("# %s: not installed, its rows are skipped (as root: apt-get install %s)\n",
                   binaries[t], t == UNSHARE ? "util-linux" : binaries[t]);
    if (tool_path[CRUN] != NULL && start_crun_helper() < 0)
        die("crun helper: %s", strerror(errno));

    /* Interleaved rounds; a peer that fails once is dropped (with what it printed on stderr). */
    double ms[N_TOOLS][ROUNDS], phases[N_PHASES][ROUNDS];
    int seq = 0;
    for (int r = -WARMUP; r < ROUNDS; r++) {
        for (int i = 0; i < N_TOOLS; i++) {
            enum tool t = (enum tool)((i + (r < 0 ? 0 : r)) % N_TOOLS);
            double ph[N_PHASES], dt;
            if (t == LIBHCS)
                dt = lifecycle(seq++, 0, ph);
            else if (tool_path[t] == NULL)
                continue;
            else
                dt = t == CRUN ? run_crun(1, seq++) : run_peer(t, 1, seq++);
            if (dt < 0) {
                printf("# %s: failed (see stderr); its rows are skipped\n", tool_names[t]);
                free(tool_path[t]);
                tool_path[t] = NULL;
                continue;
            }
            if (r < 0)
                continue;
            ms[t][r] = dt * 1e3;
            if (t == LIBHCS)
                for (int p = 0; p < N_PHASES; p++)
                    phases[p][r] = ph[p] * 1e3;
        }
    }
    double med[N_TOOLS];
    for (int t = 0; t < N_TOOLS; t++)
        med[t] = tool_path[t] != NULL || t == LIBHCS ? median(ms[t], ROUNDS) : -1;
    char name[160];
    for (int t = CRUN; t < N_TOOLS; t++) {
        snprintf(name, sizeof(name), "lifecycle /bin/true, libhcs vs %s, median of %d [ms]",
                 t == UNSHARE ? "unshare+chroot" : tool_names[t], ROUNDS);
        row(name, med[LIBHCS], med[t], 1);
    }

    /* 100 in a row, then 20 at once: libhcs against crun. */
    double seq_hcs = now();
    for (int i = 0; i < SEQUENTIAL; i++)
        lifecycle(seq++, 0, NULL);
    seq_hcs = now() - seq_hcs;
    double seq_crun = -1, par_crun = -1;
    if (tool_path[CRUN] != NULL) {
        seq_crun = now();
        for (int i = 0; i < SEQUENTIAL && seq_crun >= 0; i++)
            if (run_crun(1, seq++) < 0)
                seq_crun = -1;
        if (seq_crun >= 0)
            seq_crun = now() - seq_crun;
    }
    double par_hcs = parallel_lifecycles(seq++);
    if (tool_path[CRUN] != NULL)
        par_crun = run_crun(PARALLEL, seq++);
    snprintf(name, sizeof(name), "%d sequential lifecycles, libhcs vs crun run [s]", SEQUENTIAL);
    row(name, seq_hcs, seq_crun, 2);
    snprintf(name, sizeof(name), "%d parallel lifecycles, libhcs vs crun run, wall [ms]", PARALLEL);
    row(name, par_hcs * 1e3, par_crun * 1e3, 0);

    long rss = -1, pss = -1;
    monitor_memory(&rss, &pss);
    row("monitor VmRSS of a running system [KiB]", (double)rss, -1, 0);
    row("monitor Pss of a running system [KiB]", (double)pss, -1, 0);

    /* What the rows mean. */
    printf("# lifecycle medians [ms] over %d interleaved rounds:", ROUNDS);
    for (int t = 0; t < N_TOOLS; t++)
        if (med[t] >= 0)
            printf(" %s %.1f%s", tool_names[t], med[t], t + 1 < N_TOOLS ? "," : "");
    printf("\n# libhcs lifecycle phases [ms, medians]:");
    for (int p = 0; p < N_PHASES; p++)
        printf(" %s %.1f%s", phase_names[p], median(phases[p], ROUNDS),
               p + 1 < N_PHASES ? "," : "");
    printf("\n# lifecycle = create, start, run /bin/true, wait, terminate, close (libhcs: through "
           "the C API with a fresh writable folder; crun/runc: `run` of a bundle over the same "
           "root, read-only; unshare: the same namespaces + chroot, no runtime)\n");
    printf("# monitor memory: reference only, not measured here (environment.md): podman's conmon "
           "~2.0 MB, containerd's shim ~13 MB, crun detached none; DESIGN.md target < 1 MiB\n");

    if (helper_in >= 0) {
        close(helper_in);
        reap(helper_pid);
    }
    snprintf(path, sizeof(path), "%s/run/systems", tmp);
    DIR *d = opendir(path);
    for (struct dirent *e; d != NULL && (e = readdir(d)) != NULL;)
        if (e->d_name[0] != '.')
            printf("# warning: %s left behind in the runtime root\n", e->d_name);
    if (d != NULL)
        closedir(d);
    return 0;
}
