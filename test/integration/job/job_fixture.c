/* job_fixture.c - see job_fixture.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "job_fixture.h"

#define MAX_NAMES 64
#define MAX_KIDS 128

static pid_t runner_pid;
static char prefix[64];
static char names[MAX_NAMES][128];
static int n_names, name_counter;
static pid_t kids[MAX_KIDS];
static int n_kids;

/* In the runner, before Check forks the tests: every test's names share the runner's pid. */
__attribute__((constructor)) static void jf_init(void)
{
    runner_pid = getpid();
    snprintf(prefix, sizeof(prefix), "hcs-test-job-%d-", (int)runner_pid);
}

const char *jf_prefix(void)
{
    return prefix;
}

void jf_track_name(const char *name)
{
    if (n_names < MAX_NAMES)
        snprintf(names[n_names++], sizeof(names[0]), "%s", name);
}

const char *jf_name(void)
{
    char name[128];
    snprintf(name, sizeof(name), "%s%d-%d", prefix, (int)getpid(), name_counter++);
    jf_track_name(name);
    return names[n_names - 1];
}

void jf_cleanup(void)
{
    for (int i = 0; i < n_kids; i++)
        kill(kids[i], SIGKILL);
    for (int i = 0; i < n_names; i++) {
        hcs_error *err = NULL;
        if (hcs_job_remove(names[i], &err) < 0)
            fprintf(stderr, "cleanup of job %s: %s\n", names[i], err->message);
        hcs_err_free(err);
    }
    n_names = 0;
    int killed;
    jf_reap_all(2000, &killed);
    n_kids = 0;
}

void jf_setup(void)
{
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
}

void jf_teardown(void)
{
    jf_cleanup();
}

pid_t jf_spawn(hcs_job *job, jf_child_fn fn, void *arg, const char **why)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) {
        *why = "pipe2 failed";
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        *why = "fork failed";
        return -1;
    }
    if (pid == 0) {
        close(p[1]);
        char c = 0;
        ssize_t r;
        do
            r = read(p[0], &c, 1);
        while (r < 0 && errno == EINTR);
        if (r != 1 || c != 'g')
            _exit(99);
        fn(arg);
        _exit(0);
    }
    close(p[0]);
    if (n_kids < MAX_KIDS)
        kids[n_kids++] = pid;
    hcs_error *err = NULL;
    int rc = hcs_job_add_pid(job, pid, &err);
    if (rc < 0) {
        static char msg[512];
        snprintf(msg, sizeof(msg), "hcs_job_add_pid: %s", err->message);
        hcs_err_free(err);
        close(p[1]); /* the child exits 99 */
        *why = msg;
        return -1;
    }
    ssize_t w = write(p[1], "g", 1);
    close(p[1]);
    if (w != 1) {
        *why = "could not release the child";
        return -1;
    }
    return pid;
}

static void forget(pid_t pid)
{
    for (int i = 0; i < n_kids; i++)
        if (kids[i] == pid)
            kids[i] = kids[--n_kids];
}

int jf_reap(pid_t pid)
{
    int status;
    pid_t r;
    do
        r = waitpid(pid, &status, 0);
    while (r < 0 && errno == EINTR);
    forget(pid);
    return r == pid ? status : -1;
}

int jf_reap_all(int ms, int *killed)
{
    int n = 0;
    *killed = 0;
    unsigned long long end = hcs_now_ms() + (unsigned long long)ms;
    for (;;) {
        int status;
        pid_t r = waitpid(-1, &status, WNOHANG);
        if (r > 0) {
            forget(r);
            n++;
            if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
                (*killed)++;
            continue;
        }
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 || hcs_now_ms() >= end) /* ECHILD: nothing left */
            return n;
        jf_sleep_ms(2);
    }
}

void jf_pause_forever(void *arg)
{
    (void)arg;
    for (;;)
        pause();
}

void jf_count_forever(void *arg)
{
    volatile uint64_t *c = arg;
    for (;;)
        (*c)++;
}

uint64_t *jf_shared_counter(void)
{
    void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

char *jf_slurp(const char *dir, const char *file)
{
    AUTOFREE char *path = hcs_asprintf("%s/%s", dir, file);
    char *text = NULL;
    if (path == NULL || hcs_read_file_at(AT_FDCWD, path, 1 << 20, &text, NULL, NULL) < 0)
        return NULL;
    return text;
}

bool jf_has_line(const char *text, long v)
{
    for (const char *s = text; s != NULL && *s != '\0';) {
        char *end;
        long x = strtol(s, &end, 10);
        if (end != s && x == v && (*end == '\n' || *end == '\0'))
            return true;
        s = strchr(s, '\n');
        if (s != NULL)
            s++;
    }
    return false;
}

bool jf_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

void jf_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

bool jf_job_has_pid(hcs_job *job, pid_t pid)
{
    pid_t *pids = NULL;
    size_t n = 0;
    bool found = false;
    if (hcs_job_pids(job, &pids, &n, NULL) == 0)
        for (size_t i = 0; i < n; i++)
            found = found || pids[i] == pid;
    free(pids);
    return found;
}

/* Kill what is in a cgroup2 directory and remove it (the runner's backend may be v1). */
static void remove_v2_dir(const char *dir)
{
    AUTOFREE char *kill_file = hcs_asprintf("%s/cgroup.kill", dir);
    int fd = kill_file ? open(kill_file, O_WRONLY | O_CLOEXEC) : -1;
    if (fd >= 0) {
        ssize_t w = write(fd, "1", 1);
        (void)w;
        close(fd);
    }
    for (int t = 0; t < 200 && rmdir(dir) < 0 && errno == EBUSY; t++)
        jf_sleep_ms(5);
}

int jf_sweep(char *list, size_t size)
{
    int found = 0;
    DIR *d = opendir("/sys/fs/cgroup");
    if (d == NULL)
        return 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        AUTOFREE char *parent = hcs_asprintf("/sys/fs/cgroup/%s/hcs", de->d_name);
        DIR *h = parent ? opendir(parent) : NULL;
        if (h == NULL)
            continue;
        struct statfs st;
        bool v2 = statfs(parent, &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC;
        struct dirent *e;
        while ((e = readdir(h)) != NULL) {
            if (strncmp(e->d_name, prefix, strlen(prefix)) != 0)
                continue;
            AUTOFREE char *p = hcs_asprintf("%s/%s", parent, e->d_name);
            if (p == NULL || !jf_exists(p)) /* removed with an earlier hierarchy */
                continue;
            found++;
            size_t len = strlen(list);
            snprintf(list + len, size - len, "%s ", p);
            if (v2)
                remove_v2_dir(p);
            else
                hcs_job_remove(e->d_name, NULL);
        }
        closedir(h);
    }
    closedir(d);
    return found;
}

static char swept[4096];

void jf_sweep_teardown(void)
{
    jf_sweep(swept, sizeof(swept));
}

const char *jf_swept(void)
{
    return swept;
}
