/*
 * job_fake_test.c - the job backends against a fake cgroup tree (no root needed): how limits
 * become file contents (including the v2 controllers this hybrid host cannot offer), how
 * statistics are read, mount discovery and precise errors.
 *
 * HCS_CGROUP_ROOT points the module at a folder of plain files. The backend is chosen once per
 * process, so each scenario runs in a fresh process: the test re-executes this binary with
 * HCS_JOB_UNIT_SCENARIO set, a constructor runs the scenario before main() and prints what it
 * saw ("key=value" lines); the test then reads the files the scenario wrote.
 */
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "hcs_test.h"
#include "job/job.h"

#define NAME "unit-job"
#define MiB (1024ULL * 1024ULL)

/* ---- the scenarios (in the re-executed process) ------------------------------------------ */

static void print_error(const hcs_error *err)
{
    printf("hr=0x%08X\nerror=%s\n", (unsigned)err->hr, err->message);
}

static void print_job(hcs_job *job)
{
    static const char *const ctl[] = {"memory", "cpu", "cpuacct", "pids", "freezer"};
    printf("backend=%s\n", hcs_job_backend());
    for (size_t i = 0; i < HCS_ARRAY_SIZE(ctl); i++) {
        const char *p = hcs_job_cgroup_path(job, ctl[i]);
        printf("%s=%s\n", ctl[i], p ? p : "(none)");
    }
    printf("fd=%s\n", hcs_job_cgroup_fd(job) >= 0 ? "yes" : "no");
}

static int scenario(const char *which)
{
    hcs_job_limits all = {.memory_bytes = 16 * MiB,
                          .cpu_count = 1,
                          .cpu_maximum = 5000,
                          .cpu_weight = 200,
                          .pids_max = 5};
    hcs_job_limits memory = {.memory_bytes = 16 * MiB};
    const hcs_job_limits *l = strcmp(which, "limits") == 0   ? &all
                              : strcmp(which, "memory") == 0 ? &memory
                                                             : NULL;
    hcs_job *job = NULL;
    hcs_error *err = NULL;
    if (hcs_job_create(NAME, l, &job, &err) < 0) {
        print_error(err);
        hcs_err_free(err);
        return 0;
    }
    print_job(job);
    if (strcmp(which, "stats") == 0) {
        hcs_job_stats s;
        if (hcs_job_stats_read(job, &s, &err) < 0) {
            print_error(err);
            return 0;
        }
        printf("cpu_total_ns=%llu\ncpu_user_ns=%llu\ncpu_kernel_ns=%llu\n",
               (unsigned long long)s.cpu_total_ns, (unsigned long long)s.cpu_user_ns,
               (unsigned long long)s.cpu_kernel_ns);
        printf("memory_usage_bytes=%llu\nmemory_peak_bytes=%llu\npids_current=%llu\n",
               (unsigned long long)s.memory_usage_bytes, (unsigned long long)s.memory_peak_bytes,
               (unsigned long long)s.pids_current);
    }
    /* No destroy: a fake cgroup's files cannot be removed by rmdir. */
    return 0;
}

__attribute__((constructor)) static void scenario_dispatch(void)
{
    const char *which = getenv("HCS_JOB_UNIT_SCENARIO");
    if (which == NULL)
        return;
    int rc = scenario(which);
    fflush(stdout);
    _exit(rc);
}

/* ---- the fake tree and the test side ------------------------------------------------------ */

static char tree[256];

static void setup(void)
{
    snprintf(tree, sizeof(tree), "/tmp/hcs-job-unit.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tree));
}

static void teardown(void)
{
    hcs_remove_tree_at(AT_FDCWD, tree, NULL);
}

/* Write tree/rel (making its folders). */
static void put(const char *rel, const char *content)
{
    AUTOFREE char *path = hcs_asprintf("%s/%s", tree, rel);
    AUTOFREE char *dir = strdup(path);
    *strrchr(dir, '/') = '\0';
    ck_assert_int_eq(hcs_mkdir_p(dir, 0755, NULL), 0);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(content, f);
    fclose(f);
}

/* tree/rel's content (caller frees). */
static char *get(const char *rel)
{
    AUTOFREE char *path = hcs_asprintf("%s/%s", tree, rel);
    char *text = NULL;
    ck_assert_msg(hcs_read_file_at(AT_FDCWD, path, 1 << 16, &text, NULL, NULL) == 0,
                  "%s is missing", path);
    return text;
}

static bool exists(const char *rel)
{
    AUTOFREE char *path = hcs_asprintf("%s/%s", tree, rel);
    struct stat st;
    return stat(path, &st) == 0;
}

/* Run a scenario in a fresh process with the fake tree; its output (static). */
static const char *run(const char *backend, const char *which)
{
    static char out[8192];
    int p[2];
    ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        dup2(p[1], 1);
        dup2(p[1], 2);
        setenv("HCS_CGROUP_ROOT", tree, 1);
        if (backend != NULL)
            setenv("HCS_CGROUP_BACKEND", backend, 1);
        else
            unsetenv("HCS_CGROUP_BACKEND");
        setenv("HCS_JOB_UNIT_SCENARIO", which, 1);
        execl("/proc/self/exe", "job-unit-scenario", (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    size_t n = 0;
    ssize_t r;
    while (n + 1 < sizeof(out) && (r = read(p[0], out + n, sizeof(out) - 1 - n)) != 0) {
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            break;
        n += (size_t)r;
    }
    out[n] = '\0';
    close(p[0]);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "scenario %s: 0x%x: %s", which,
                  (unsigned)status, out);
    return out;
}

/* The value of "key=" in a scenario's output (static), or NULL. */
static const char *value(const char *out, const char *key)
{
    static char v[1024];
    size_t klen = strlen(key);
    for (const char *line = out; line != NULL && *line != '\0';) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        if (len > klen && strncmp(line, key, klen) == 0 && line[klen] == '=') {
            snprintf(v, sizeof(v), "%.*s", (int)(len - klen - 1), line + klen + 1);
            return v;
        }
        line = nl ? nl + 1 : NULL;
    }
    return NULL;
}

#define ck_assert_value(out, key, want)                                                            \
    do {                                                                                           \
        const char *v_ = value(out, key);                                                          \
        ck_assert_msg(v_ != NULL && strcmp(v_, want) == 0, "%s = %s, expected %s; output:\n%s",    \
                      key, v_ ? v_ : "(absent)", want, out);                                       \
    } while (0)

static long long expected_maximum_quota(long long maximum)
{
    return maximum * sysconf(_SC_NPROCESSORS_ONLN) * 100000 / 10000;
}

/* A v2 tree offering memory, cpu and pids, and a leftover job cgroup of NAME. */
static void fake_v2(bool with_memory)
{
    put("cgroup.controllers", "cpuset cpu io memory hugetlb pids\n");
    put("cgroup.subtree_control", "");
    put("hcs/cgroup.controllers", with_memory ? "cpu memory pids\n" : "cpu pids\n");
    put("hcs/cgroup.subtree_control", "");
    const char *files[][2] = {
        {"cgroup.procs", ""},
        {"cgroup.events", "populated 0\nfrozen 0\n"},
        {"cgroup.kill", ""},
        {"cgroup.freeze", "0\n"},
        {"cpu.max", "max 100000\n"},
        {"cpu.weight", "100\n"},
        {"cpu.stat", "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 0\n"},
        {"pids.max", "max\n"},
        {"pids.current", "3\n"},
        {"memory.max", "max\n"},
        {"memory.swap.max", "max\n"},
        {"memory.current", "4096\n"},
        {"memory.peak", "8192\n"},
    };
    for (size_t i = 0; i < HCS_ARRAY_SIZE(files); i++) {
        if (!with_memory && strncmp(files[i][0], "memory.", 7) == 0)
            continue;
        AUTOFREE char *rel = hcs_asprintf("hcs/" NAME "/%s", files[i][0]);
        put(rel, files[i][1]);
    }
}

START_TEST(v2__limits_become_memory_swap_cpu_and_pids_files)
{
    fake_v2(true);
    const char *out = run("v2", "limits");
    AUTOFREE char *dir = hcs_asprintf("%s/hcs/" NAME, tree);
    ck_assert_value(out, "backend", "v2");
    ck_assert_value(out, "memory", dir);
    ck_assert_value(out, "fd", "yes");
    /* Controllers enabled for the children of the root and of hcs, as offered. */
    AUTOFREE char *root_sc = get("cgroup.subtree_control");
    ck_assert_str_eq(root_sc, "+memory +cpu +pids");
    AUTOFREE char *hcs_sc = get("hcs/cgroup.subtree_control");
    ck_assert_str_eq(hcs_sc, "+memory +cpu +pids");
    /* The leftover was killed before reuse. */
    AUTOFREE char *killed = get("hcs/" NAME "/cgroup.kill");
    ck_assert_str_eq(killed, "1");
    AUTOFREE char *mem = get("hcs/" NAME "/memory.max");
    ck_assert_str_eq(mem, "16777216");
    AUTOFREE char *swap = get("hcs/" NAME "/memory.swap.max");
    ck_assert_str_eq(swap, "0");
    long long quota = expected_maximum_quota(5000) < 100000 ? expected_maximum_quota(5000) : 100000;
    AUTOFREE char *want_cpu = hcs_asprintf("%lld 100000", quota);
    AUTOFREE char *cpu = get("hcs/" NAME "/cpu.max");
    ck_assert_str_eq(cpu, want_cpu);
    AUTOFREE char *weight = get("hcs/" NAME "/cpu.weight");
    ck_assert_str_eq(weight, "200");
    AUTOFREE char *pids = get("hcs/" NAME "/pids.max");
    ck_assert_str_eq(pids, "5");
}
END_TEST

START_TEST(v2__reused_cgroup_without_limits_is_reset_to_defaults)
{
    fake_v2(true);
    put("hcs/" NAME "/memory.max", "1234\n");
    put("hcs/" NAME "/memory.swap.max", "0\n");
    put("hcs/" NAME "/cpu.max", "5000 100000\n");
    put("hcs/" NAME "/cpu.weight", "7\n");
    put("hcs/" NAME "/pids.max", "9\n");
    run("v2", "plain");
    static const char *const want[][2] = {
        {"memory.max", "max"}, {"memory.swap.max", "max"}, {"cpu.max", "max 100000"},
        {"cpu.weight", "100"}, {"pids.max", "max"},
    };
    for (size_t i = 0; i < HCS_ARRAY_SIZE(want); i++) {
        AUTOFREE char *rel = hcs_asprintf("hcs/" NAME "/%s", want[i][0]);
        AUTOFREE char *v = get(rel);
        ck_assert_msg(strcmp(v, want[i][1]) == 0, "%s = %s, expected %s", want[i][0], v,
                      want[i][1]);
    }
}
END_TEST

START_TEST(v2__stats_come_from_cpu_stat_memory_and_pids)
{
    fake_v2(true);
    const char *out = run("v2", "stats");
    ck_assert_value(out, "cpu_total_ns", "1500000");
    ck_assert_value(out, "cpu_user_ns", "1000000");
    ck_assert_value(out, "cpu_kernel_ns", "500000");
    ck_assert_value(out, "memory_usage_bytes", "4096");
    ck_assert_value(out, "memory_peak_bytes", "8192");
    ck_assert_value(out, "pids_current", "3");
}
END_TEST

START_TEST(v2__memory_limit_without_memory_controller_names_it)
{
    fake_v2(false);
    const char *out = run("v2", "memory");
    ck_assert_value(out, "hr", "0x80370114"); /* HCS_E_SERVICE_NOT_AVAILABLE */
    AUTOFREE char *want = hcs_asprintf("memory controller not available for Memory.SizeInMB "
                                       "(job " NAME ", backend v2, cgroup root %s)",
                                       tree);
    ck_assert_value(out, "error", want);
    /* Without limits the same tree is fine. */
    out = run("v2", "plain");
    ck_assert_value(out, "memory", "(none)");
    AUTOFREE char *dir = hcs_asprintf("%s/hcs/" NAME, tree);
    ck_assert_value(out, "pids", dir);
    ck_assert_value(out, "cpu", dir);
}
END_TEST

START_TEST(v2__without_cgroup_kill_freezes_and_kills_each_process)
{
    /* Before Linux 5.14: no cgroup.kill. A sleeping child of this test stands in for the
     * leftover's process; the fake cgroup.procs keeps listing it after it died. */
    fake_v2(true);
    AUTOFREE char *kill_file = hcs_asprintf("%s/hcs/" NAME "/cgroup.kill", tree);
    ck_assert_int_eq(unlink(kill_file), 0);
    put("hcs/" NAME "/cgroup.events", "populated 1\nfrozen 1\n");
    pid_t sleeper = fork();
    ck_assert_int_ge(sleeper, 0);
    if (sleeper == 0) {
        for (;;)
            pause();
    }
    AUTOFREE char *procs = hcs_asprintf("%d\n", (int)sleeper);
    put("hcs/" NAME "/cgroup.procs", procs);
    const char *out = run("v2", "plain");
    int status;
    ck_assert_int_eq(waitpid(sleeper, &status, 0), sleeper);
    ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "status 0x%x",
                  (unsigned)status);
    /* Frozen first (nothing forks while the pids are killed), thawed after. */
    AUTOFREE char *freeze = get("hcs/" NAME "/cgroup.freeze");
    ck_assert_str_eq(freeze, "0");
    /* The fake list never empties: the create reports what stayed. */
    AUTOFREE char *want = hcs_asprintf("reuse leftover cgroup of job " NAME ": job " NAME
                                       ": 1 process(es) still running 1000 ms after SIGKILL, "
                                       "first %d",
                                       (int)sleeper);
    ck_assert_value(out, "error", want);
}
END_TEST

/* A v1 tree: memory, cpu+cpuacct co-mounted, pids, freezer; a leftover cgroup of NAME. */
static void fake_v1(bool with_freezer)
{
    const char *files[][2] = {
        {"memory/hcs/" NAME "/cgroup.procs", ""},
        {"memory/hcs/" NAME "/memory.limit_in_bytes", "9223372036854771712\n"},
        {"memory/hcs/" NAME "/memory.memsw.limit_in_bytes", "9223372036854771712\n"},
        {"memory/hcs/" NAME "/memory.usage_in_bytes", "65536\n"},
        {"memory/hcs/" NAME "/memory.max_usage_in_bytes", "131072\n"},
        {"cpu,cpuacct/hcs/" NAME "/cgroup.procs", ""},
        {"cpu,cpuacct/hcs/" NAME "/cpu.cfs_period_us", "100000\n"},
        {"cpu,cpuacct/hcs/" NAME "/cpu.cfs_quota_us", "-1\n"},
        {"cpu,cpuacct/hcs/" NAME "/cpu.shares", "1024\n"},
        {"cpu,cpuacct/hcs/" NAME "/cpuacct.usage", "123456789\n"},
        {"cpu,cpuacct/hcs/" NAME "/cpuacct.stat", "user 10\nsystem 2\n"},
        {"pids/hcs/" NAME "/cgroup.procs", ""},
        {"pids/hcs/" NAME "/pids.max", "max\n"},
        {"pids/hcs/" NAME "/pids.current", "2\n"},
        {"freezer/hcs/" NAME "/cgroup.procs", ""},
        {"freezer/hcs/" NAME "/freezer.state", "THAWED\n"},
    };
    for (size_t i = 0; i < HCS_ARRAY_SIZE(files); i++)
        if (with_freezer || strncmp(files[i][0], "freezer/", 8) != 0)
            put(files[i][0], files[i][1]);
}

START_TEST(v1__limits_become_memsw_cfs_shares_and_pids_files)
{
    fake_v1(true);
    const char *out = run("v1", "limits");
    ck_assert_value(out, "backend", "v1");
    AUTOFREE char *cpu_dir = hcs_asprintf("%s/cpu,cpuacct/hcs/" NAME, tree);
    ck_assert_value(out, "cpu", cpu_dir);
    ck_assert_value(out, "cpuacct", cpu_dir); /* co-mounted: one directory */
    ck_assert_value(out, "fd", "no");
    static const char *const want_fixed[][2] = {
        {"memory/hcs/" NAME "/memory.limit_in_bytes", "16777216"},
        {"memory/hcs/" NAME "/memory.memsw.limit_in_bytes", "16777216"},
        {"cpu,cpuacct/hcs/" NAME "/cpu.cfs_period_us", "100000"},
        {"cpu,cpuacct/hcs/" NAME "/cpu.shares", "3661"}, /* 1024 + 100 x 261120 / 9900 */
        {"pids/hcs/" NAME "/pids.max", "5"},
        {"freezer/hcs/" NAME "/freezer.state", "THAWED"}, /* frozen to kill leftovers, thawed */
    };
    for (size_t i = 0; i < HCS_ARRAY_SIZE(want_fixed); i++) {
        AUTOFREE char *v = get(want_fixed[i][0]);
        ck_assert_msg(strcmp(v, want_fixed[i][1]) == 0, "%s = %s, expected %s", want_fixed[i][0], v,
                      want_fixed[i][1]);
    }
    long long quota = expected_maximum_quota(5000) < 100000 ? expected_maximum_quota(5000) : 100000;
    AUTOFREE char *q = get("cpu,cpuacct/hcs/" NAME "/cpu.cfs_quota_us");
    ck_assert_int_eq(strtoll(q, NULL, 10), quota);
}
END_TEST

START_TEST(v1__stats_convert_ticks_to_nanoseconds)
{
    fake_v1(true);
    const char *out = run("v1", "stats");
    long hz = sysconf(_SC_CLK_TCK);
    AUTOFREE char *user = hcs_asprintf("%llu", 10ULL * (1000000000ULL / (unsigned long long)hz));
    AUTOFREE char *sys = hcs_asprintf("%llu", 2ULL * (1000000000ULL / (unsigned long long)hz));
    ck_assert_value(out, "cpu_total_ns", "123456789");
    ck_assert_value(out, "cpu_user_ns", user);
    ck_assert_value(out, "cpu_kernel_ns", sys);
    ck_assert_value(out, "memory_usage_bytes", "65536");
    ck_assert_value(out, "memory_peak_bytes", "131072");
    ck_assert_value(out, "pids_current", "2");
}
END_TEST

START_TEST(v1__missing_freezer_is_service_not_available)
{
    fake_v1(false);
    const char *out = run("v1", "plain");
    ck_assert_value(out, "hr", "0x80370114");
    AUTOFREE char *want = hcs_asprintf(
        "create job " NAME ": the cgroup v1 freezer controller is not mounted under %s", tree);
    ck_assert_value(out, "error", want);
    ck_assert(!exists("memory/hcs/" NAME "/freezer.state"));
}
END_TEST

START_TEST(v1__fresh_cgroups_are_made_and_a_failed_create_removes_them)
{
    put("memory/.keep", "");
    put("cpu,cpuacct/.keep", "");
    put("pids/.keep", "");
    put("freezer/.keep", "");
    /* No limits: nothing to write, the folders are made. */
    const char *out = run("v1", "plain");
    ck_assert_value(out, "backend", "v1");
    struct stat st;
    AUTOFREE char *dir = hcs_asprintf("%s/memory/hcs/" NAME, tree);
    ck_assert_int_eq(stat(dir, &st), 0);
    ck_assert_int_eq(st.st_mode & 07777, 0755);
    AUTOFREE char *parent = hcs_asprintf("%s/pids/hcs", tree);
    ck_assert_int_eq(stat(parent, &st), 0);
    ck_assert_int_eq(st.st_mode & 07777, 0755);
    const char *dirs[] = {"memory", "cpu,cpuacct", "pids", "freezer"};
    for (size_t i = 0; i < HCS_ARRAY_SIZE(dirs); i++) {
        AUTOFREE char *rel = hcs_asprintf("%s/hcs/" NAME, dirs[i]);
        AUTOFREE char *path = hcs_asprintf("%s/%s", tree, rel);
        ck_assert_msg(exists(rel), "%s missing", rel);
        ck_assert_int_eq(rmdir(path), 0);
    }
    /* A limit the "kernel" refuses (no such file): a precise error, the folders removed. */
    out = run("v1", "memory");
    AUTOFREE char *want = hcs_asprintf("set memory.limit_in_bytes of job " NAME
                                       " to 16777216: No such file or directory");
    ck_assert_value(out, "error", want);
    for (size_t i = 0; i < HCS_ARRAY_SIZE(dirs); i++) {
        AUTOFREE char *rel = hcs_asprintf("%s/hcs/" NAME, dirs[i]);
        ck_assert_msg(!exists(rel), "%s left behind", rel);
        AUTOFREE char *hcs = hcs_asprintf("%s/hcs", dirs[i]);
        ck_assert_msg(exists(hcs), "%s removed", hcs); /* never the parent */
    }
}
END_TEST

START_TEST(choice__non_cgroup2_root_is_v1_and_the_environment_forces)
{
    fake_v1(true);
    const char *out = run(NULL, "plain"); /* a tmpfs/ext4 folder: not cgroup2 */
    ck_assert_value(out, "backend", "v1");
    out = run("v9", "plain"); /* unknown: probed */
    ck_assert_value(out, "backend", "v1");
    fake_v2(true);
    out = run("v2", "plain");
    ck_assert_value(out, "backend", "v2");
}
END_TEST

HCS_TEST_SUITE(job_fake_suite)
{
    Suite *s = suite_create("job-fake-tree");
    TCase *tc = tcase_create("fake");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, v2__limits_become_memory_swap_cpu_and_pids_files);
    tcase_add_test(tc, v2__reused_cgroup_without_limits_is_reset_to_defaults);
    tcase_add_test(tc, v2__stats_come_from_cpu_stat_memory_and_pids);
    tcase_add_test(tc, v2__memory_limit_without_memory_controller_names_it);
    tcase_add_test(tc, v2__without_cgroup_kill_freezes_and_kills_each_process);
    tcase_add_test(tc, v1__limits_become_memsw_cfs_shares_and_pids_files);
    tcase_add_test(tc, v1__stats_convert_ticks_to_nanoseconds);
    tcase_add_test(tc, v1__missing_freezer_is_service_not_available);
    tcase_add_test(tc, v1__fresh_cgroups_are_made_and_a_failed_create_removes_them);
    tcase_add_test(tc, choice__non_cgroup2_root_is_v1_and_the_environment_forces);
    suite_add_tcase(s, tc);
    return s;
}
