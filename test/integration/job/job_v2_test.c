/*
 * job_v2_test.c - the v2 backend on this hybrid host's cgroup2 mount (/sys/fs/cgroup/unified,
 * no controllers: freeze, kill, clone into the cgroup, and precise errors for limits).
 *
 * The backend is chosen once per process, so the scenario runs in a fresh process: the test
 * re-executes this binary with HCS_CGROUP_ROOT=/sys/fs/cgroup/unified HCS_CGROUP_BACKEND=v2 and
 * HCS_JOB_TEST_SCENARIO=v2; a constructor runs the scenario before main() and exits with 0 or
 * with the failure printed. Nothing in the library is reset for tests.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "hcs_test.h"
#include "job_fixture.h"

#define UNIFIED "/sys/fs/cgroup/unified"

TCase *job_v2_tcase(void);

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "job_v2_test.c:%d: %s: ", __LINE__, #cond);                            \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            goto fail;                                                                             \
        }                                                                                          \
    } while (0)

static bool counter_advances(volatile uint64_t *c, int ms)
{
    uint64_t start = *c;
    for (int t = 0; t < ms; t += 5) {
        jf_sleep_ms(5);
        if (*c != start)
            return true;
    }
    return false;
}

/* A child born in the cgroup with clone3(CLONE_INTO_CGROUP); it pauses until killed. */
static pid_t clone_into(int cgroup_fd)
{
    struct clone_args args;
    memset(&args, 0, sizeof(args));
    args.flags = CLONE_INTO_CGROUP;
    args.exit_signal = SIGCHLD;
    args.cgroup = (uint64_t)cgroup_fd;
    long pid = syscall(SYS_clone3, &args, sizeof(args));
    if (pid == 0) {
        for (;;)
            pause();
    }
    return (pid_t)pid;
}

static const char *err_text(const hcs_error *err)
{
    return err != NULL ? err->message : "(no error)";
}

/* Creating a job with limits whose controller is absent: the precise error, nothing left. */
static int limit_needs_controller(const char *name, const hcs_job_limits *l, const char *want)
{
    hcs_job *job = NULL;
    hcs_error *err = NULL;
    int rc = hcs_job_create(name, l, &job, &err);
    AUTOFREE char *dir = hcs_asprintf(UNIFIED "/hcs/%s", name);
    CHECK(rc == -1 && job == NULL, "create with a limit succeeded");
    CHECK(err->hr == HCS_E_SERVICE_NOT_AVAILABLE, "hr 0x%08X: %s", (unsigned)err->hr, err->message);
    CHECK(strstr(err->message, want) != NULL, "message \"%s\" lacks \"%s\"", err->message, want);
    CHECK(!jf_exists(dir), "%s left behind", dir);
    hcs_err_free(err);
    return 0;
fail:
    hcs_err_free(err);
    return -1;
}

static int v2_scenario(const char *base)
{
    char name[160], name_mem[170], name_pids[170], name_cpu[170];
    snprintf(name, sizeof(name), "%s-main", base);
    snprintf(name_mem, sizeof(name_mem), "%s-mem", base);
    snprintf(name_pids, sizeof(name_pids), "%s-pids", base);
    snprintf(name_cpu, sizeof(name_cpu), "%s-cpu", base);
    jf_track_name(name);
    jf_track_name(name_mem);
    jf_track_name(name_pids);
    jf_track_name(name_cpu);
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    hcs_job *job = NULL;
    hcs_error *err = NULL;
    uint64_t *shared = jf_shared_counter();
    volatile uint64_t *counter = shared;
    const char *why = "";
    AUTOFREE char *dir = hcs_asprintf(UNIFIED "/hcs/%s", name);
    AUTOFREE char *procs = NULL;

    CHECK(strcmp(hcs_job_backend(), "v2") == 0, "backend %s", hcs_job_backend());
    CHECK(strcmp(hcs_job_cgroup_root(), UNIFIED) == 0, "root %s", hcs_job_cgroup_root());
    CHECK(hcs_job_create(name, NULL, &job, &err) == 0, "create: %s", err_text(err));
    CHECK(strcmp(hcs_job_cgroup_path(job, NULL), dir) == 0, "path %s",
          hcs_job_cgroup_path(job, NULL));
    CHECK(hcs_job_cgroup_path(job, "memory") == NULL, "a memory controller on unified?");
    CHECK(hcs_job_cgroup_fd(job) >= 0, "no cgroup fd");

    /* Freeze stops a counting child; thaw resumes it. */
    pid_t counting = jf_spawn(job, jf_count_forever, shared, &why);
    CHECK(counting > 0, "spawn: %s", why);
    CHECK(counter_advances(counter, 2000), "child never counted");
    CHECK(hcs_job_freeze(job, &err) == 0, "freeze: %s", err_text(err));
    CHECK(hcs_job_frozen(job), "not frozen after freeze");
    uint64_t at = *counter;
    jf_sleep_ms(200);
    CHECK(*counter == at, "counter moved while frozen");
    CHECK(hcs_job_thaw(job, &err) == 0, "thaw: %s", err_text(err));
    CHECK(!hcs_job_frozen(job), "frozen after thaw");
    CHECK(counter_advances(counter, 2000), "counter did not resume");

    /* clone3 straight into the job through its cgroup fd. */
    pid_t cloned = clone_into(hcs_job_cgroup_fd(job));
    CHECK(cloned > 0, "clone3(CLONE_INTO_CGROUP): %s", strerror(errno));
    CHECK(jf_job_has_pid(job, cloned), "cloned child %d not in the job", (int)cloned);
    procs = jf_slurp(dir, "cgroup.procs");
    CHECK(procs != NULL && jf_has_line(procs, cloned), "cgroup.procs: %s", procs);
    pid_t third = jf_spawn(job, jf_pause_forever, NULL, &why);
    CHECK(third > 0, "spawn: %s", why);

    /* Without the pids controller pids_current counts processes; cpu.stat is always there. */
    hcs_job_stats s;
    CHECK(hcs_job_stats_read(job, &s, &err) == 0, "stats: %s", err_text(err));
    CHECK(s.pids_current == 3, "pids_current %llu", (unsigned long long)s.pids_current);
    CHECK(s.cpu_total_ns > 0, "cpu_total_ns 0 after a counting child");

    /* Kill (cgroup.kill) kills them all, frozen or not. */
    CHECK(hcs_job_freeze(job, &err) == 0, "freeze: %s", err_text(err));
    CHECK(hcs_job_kill(job, &err) == 0, "kill: %s", err_text(err));
    int killed = 0, reaped = jf_reap_all(3000, &killed);
    CHECK(reaped == 3 && killed == 3, "reaped %d, killed by SIGKILL %d", reaped, killed);
    CHECK(hcs_job_empty(job), "not empty after kill");
    CHECK(hcs_job_thaw(job, &err) == 0, "thaw: %s", err_text(err));

    /* Destroy with a live process inside. */
    pid_t last = jf_spawn(job, jf_pause_forever, NULL, &why);
    CHECK(last > 0, "spawn: %s", why);
    int rc = hcs_job_destroy(job, &err);
    job = NULL;
    CHECK(rc == 0, "destroy: %s", err_text(err));
    CHECK(!jf_exists(dir), "%s is still there", dir);
    CHECK(jf_exists(UNIFIED "/hcs"), "the hcs parent was removed");
    int status = jf_reap(last);
    CHECK(status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "status 0x%x",
          (unsigned)status);

    /* No controllers here: a limit that needs one is refused by name. */
    hcs_job_limits mem = {.memory_bytes = 16 << 20};
    CHECK(limit_needs_controller(name_mem, &mem,
                                 "memory controller not available for Memory.SizeInMB") == 0,
          "memory");
    hcs_job_limits pids = {.pids_max = 5};
    CHECK(limit_needs_controller(name_pids, &pids,
                                 "pids controller not available for pids.limit") == 0,
          "pids");
    hcs_job_limits cpu = {.cpu_maximum = 5000};
    CHECK(limit_needs_controller(name_cpu, &cpu,
                                 "cpu controller not available for Processor.Maximum") == 0,
          "cpu");
    return 0;
fail:
    hcs_err_free(err);
    hcs_job_destroy(job, NULL);
    jf_cleanup();
    return 1;
}

__attribute__((constructor)) static void v2_scenario_dispatch(void)
{
    const char *scenario = getenv("HCS_JOB_TEST_SCENARIO");
    if (scenario == NULL || strcmp(scenario, "v2") != 0)
        return;
    const char *base = getenv("HCS_JOB_TEST_NAME");
    int rc = base != NULL ? v2_scenario(base) : 2;
    fflush(stdout);
    fflush(stderr);
    _exit(rc);
}

START_TEST(v2__unified_mount_freezes_kills_and_refuses_limits_precisely)
{
    const char *base = jf_name();
    int out[2];
    ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        dup2(out[1], 1);
        dup2(out[1], 2);
        setenv("HCS_CGROUP_ROOT", UNIFIED, 1);
        setenv("HCS_CGROUP_BACKEND", "v2", 1);
        setenv("HCS_JOB_TEST_SCENARIO", "v2", 1);
        setenv("HCS_JOB_TEST_NAME", base, 1);
        execl("/proc/self/exe", "job-v2-scenario", (char *)NULL);
        _exit(127);
    }
    close(out[1]);
    char text[8192];
    size_t n = 0;
    ssize_t r;
    while (n + 1 < sizeof(text) && (r = read(out[0], text + n, sizeof(text) - 1 - n)) != 0) {
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            break;
        n += (size_t)r;
    }
    text[n] = '\0';
    close(out[0]);
    int status = jf_reap(pid);

    /* Whatever happened, nothing of the scenario stays in the unified hierarchy. */
    const char *suffix[] = {"main", "mem", "pids", "cpu"};
    char left[1024] = "";
    for (size_t i = 0; i < HCS_ARRAY_SIZE(suffix); i++) {
        AUTOFREE char *dir = hcs_asprintf(UNIFIED "/hcs/%s-%s", base, suffix[i]);
        if (!jf_exists(dir))
            continue;
        size_t len = strlen(left);
        snprintf(left + len, sizeof(left) - len, "%s ", dir);
        AUTOFREE char *kill_file = hcs_asprintf("%s/cgroup.kill", dir);
        int fd = open(kill_file, O_WRONLY | O_CLOEXEC);
        if (fd >= 0) {
            ssize_t w = write(fd, "1", 1);
            (void)w;
            close(fd);
        }
        for (int t = 0; t < 200 && rmdir(dir) < 0 && errno == EBUSY; t++)
            jf_sleep_ms(5);
    }
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "scenario status 0x%x: %s",
                  (unsigned)status, text);
    ck_assert_msg(left[0] == '\0', "left behind: %s", left);
}
END_TEST

static const char *unified_missing(void)
{
    struct statfs st;
    if (statfs(UNIFIED, &st) < 0 || st.f_type != CGROUP2_SUPER_MAGIC)
        return "no cgroup2 mount at " UNIFIED " (not a hybrid host; on a pure v2 host the "
               "other tests exercise the v2 backend)";
    if (!jf_exists(UNIFIED "/cgroup.subtree_control"))
        return UNIFIED " is not usable";
    return NULL;
}

TCase *job_v2_tcase(void)
{
    TCase *tc = tcase_create("v2");
    tcase_add_checked_fixture(tc, jf_setup, jf_teardown);
    tcase_add_unchecked_fixture(tc, NULL, jf_sweep_teardown);
    tcase_set_timeout(tc, 60);
    if (unified_missing() != NULL)
        hcs_test_skip("v2__unified_mount_freezes_kills_and_refuses_limits_precisely",
                      unified_missing());
    else
        HCS_ADD_ROOT_TEST(tc, v2__unified_mount_freezes_kills_and_refuses_limits_precisely);
    return tc;
}
