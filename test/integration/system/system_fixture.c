/* system_fixture.c - a busybox root and small helpers for driving real compute systems. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "common/util.h"
#include "hcs_test.h"
#include "system_fixture.h"

static char layer[300];
static int writable_n;

const char *sf_layer(void)
{
    return layer;
}

void sf_setup(void)
{
    hcs_test_roots_setup();
    snprintf(layer, sizeof(layer), "%s/layer", hcs_test_root());
    char *cmd = hcs_asprintf(
        "set -e; L=%s; mkdir -p $L/bin $L/etc $L/proc $L/dev $L/sys $L/tmp $L/root; "
        "cp /bin/busybox $L/bin/busybox; "
        "for a in $(/bin/busybox --list); do [ -e $L/bin/$a ] || ln -s busybox $L/bin/$a; done; "
        "printf 'root:x:0:0:root:/root:/bin/sh\\nnobody:x:65534:65534:nobody:/:/bin/sh\\n' "
        "> $L/etc/passwd; printf 'root:x:0:\\nnogroup:x:65534:\\n' > $L/etc/group",
        layer);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
}

void sf_teardown(void)
{
    hcs_test_roots_teardown();
}

char *sf_config(const char *extra, const char *top)
{
    char *w = hcs_asprintf("%s/w%d", hcs_test_root(), ++writable_n);
    ck_assert_int_eq(mkdir(w, 0700), 0);
    char *cfg = hcs_asprintf("{\"SchemaVersion\":{\"Major\":2,\"Minor\":1},\"Owner\":\"test\","
                             "%s%s\"Container\":{\"Storage\":{\"Layers\":[{\"Path\":\"%s\"}],"
                             "\"Path\":\"%s\"}%s%s}}",
                             top ? top : "", top ? "," : "", layer, w, extra ? "," : "",
                             extra ? extra : "");
    free(w);
    return cfg;
}

HRESULT sf_wait(HCS_OPERATION op, HRESULT submitted, char **doc)
{
    if (FAILED(submitted)) {
        if (doc != NULL)
            HcsGetOperationResult(op, doc);
        return submitted;
    }
    return HcsWaitForOperationResult(op, 60000, doc);
}

char *sf_fmt(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = hcs_vasprintf(fmt, ap);
    va_end(ap);
    ck_assert_ptr_nonnull(s);
    return s;
}

void sf_sh(const char *cmd)
{
    ck_assert_msg(system(cmd) == 0, "command failed: %s", cmd);
}

HRESULT sf_try_create(const char *id, const char *cfg, HCS_SYSTEM *sys, char **doc)
{
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    *sys = NULL;
    *doc = NULL;
    HRESULT hr = sf_wait(op, HcsCreateComputeSystem(id, cfg, op, NULL, sys), doc);
    HcsCloseOperation(op);
    return hr;
}

/* Create from cfg, asserting success. */
static HCS_SYSTEM create_config(const char *id, const char *cfg)
{
    HCS_SYSTEM sys = NULL;
    char *doc = NULL;
    HRESULT hr = sf_try_create(id, cfg, &sys, &doc);
    ck_assert_msg(hr == S_OK, "create %s: 0x%08X %s", id, (unsigned)hr, doc ? doc : "");
    HcsFree(doc);
    return sys;
}

/* Start sys, asserting success. */
static void start(const char *id, HCS_SYSTEM sys)
{
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    char *doc = NULL;
    HRESULT hr = sf_wait(op, HcsStartComputeSystem(sys, op, NULL), &doc);
    ck_assert_msg(hr == S_OK, "start %s: 0x%08X %s", id, (unsigned)hr, doc ? doc : "");
    HcsFree(doc);
    HcsCloseOperation(op);
}

HCS_SYSTEM sf_start_config(const char *id, const char *cfg)
{
    HCS_SYSTEM sys = create_config(id, cfg);
    start(id, sys);
    return sys;
}

HCS_SYSTEM sf_create(const char *id, const char *extra, const char *top)
{
    char *cfg = sf_config(extra, top);
    HCS_SYSTEM sys = create_config(id, cfg);
    free(cfg);
    return sys;
}

HCS_SYSTEM sf_start(const char *id, const char *extra)
{
    HCS_SYSTEM sys = sf_create(id, extra, NULL);
    start(id, sys);
    return sys;
}

/* Read everything from two fds until both reach end of file. */
static void drain2(int a, int b, char **out, char **err)
{
    size_t cap[2] = {4096, 4096}, len[2] = {0, 0};
    char *buf[2] = {malloc(cap[0]), malloc(cap[1])};
    int fd[2] = {a, b};
    while (fd[0] >= 0 || fd[1] >= 0) {
        struct pollfd p[2] = {{fd[0], POLLIN, 0}, {fd[1], POLLIN, 0}};
        if (poll(p, 2, 30000) <= 0)
            break;
        for (int i = 0; i < 2; i++) {
            if (fd[i] < 0 || !(p[i].revents & (POLLIN | POLLHUP)))
                continue;
            if (len[i] + 1024 > cap[i])
                buf[i] = realloc(buf[i], cap[i] *= 2);
            ssize_t n = read(fd[i], buf[i] + len[i], cap[i] - len[i] - 1);
            if (n <= 0) {
                close(fd[i]);
                fd[i] = -1;
            } else {
                len[i] += (size_t)n;
            }
        }
    }
    for (int i = 0; i < 2; i++) {
        if (fd[i] >= 0)
            close(fd[i]);
        buf[i][len[i]] = '\0';
    }
    if (out)
        *out = buf[0];
    else
        free(buf[0]);
    if (err)
        *err = buf[1];
    else
        free(buf[1]);
}

int sf_run(HCS_SYSTEM sys, const char *args_json, const char *input, char **out, char **err)
{
    char *params = hcs_asprintf("{\"CommandArgs\":%s,\"CreateStdInPipe\":%s,"
                                "\"CreateStdOutPipe\":true,\"CreateStdErrPipe\":true}",
                                args_json, input ? "true" : "false");
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    HCS_PROCESS p = NULL;
    HCS_PROCESS_INFORMATION pi;
    char *doc = NULL;
    HRESULT hr = HcsCreateProcess(sys, params, op, NULL, &p);
    if (SUCCEEDED(hr))
        hr = HcsWaitForOperationResultAndProcessInfo(op, 30000, &pi, &doc);
    ck_assert_msg(hr == S_OK, "run %s: 0x%08X %s", args_json, (unsigned)hr, doc ? doc : "");
    HcsFree(doc);
    free(params);
    if (input != NULL) {
        ck_assert_int_eq(write(pi.StdInput, input, strlen(input)), (ssize_t)strlen(input));
        close(pi.StdInput);
    }
    drain2(pi.StdOutput, pi.StdError, out, err);
    char *status = NULL;
    ck_assert_hr(HcsWaitForProcessExit(p, 30000, &status), S_OK);
    cJSON *j = cJSON_Parse(status);
    int code = cJSON_GetObjectItemCaseSensitive(j, "ExitCode")->valueint;
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "Exited")));
    cJSON_Delete(j);
    HcsFree(status);
    HcsCloseProcess(p);
    HcsCloseOperation(op);
    return code;
}

void sf_read_until(int fd, char *buf, size_t cap, size_t *len, const char *needle)
{
    while (strstr(buf, needle) == NULL && *len < cap - 1) {
        ssize_t n = read(fd, buf + *len, cap - 1 - *len);
        if (n <= 0)
            break;
        *len += (size_t)n;
        buf[*len] = '\0';
    }
}

void sf_destroy(HCS_SYSTEM sys)
{
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    if (HcsTerminateComputeSystem(sys, op, NULL) == S_OK)
        HcsWaitForOperationResult(op, 30000, NULL);
    HcsWaitForComputeSystemExit(sys, 30000, NULL);
    HcsCloseComputeSystem(sys);
    HcsCloseOperation(op);
}

char *sf_enumerate(void)
{
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    char *doc = NULL;
    ck_assert_hr(sf_wait(op, HcsEnumerateComputeSystems(NULL, op), &doc), S_OK);
    HcsCloseOperation(op);
    cJSON *a = cJSON_Parse(doc);
    HcsFree(doc);
    char *ids = calloc(1, 4096);
    const cJSON *it;
    cJSON_ArrayForEach(it, a)
    {
        if (ids[0])
            strcat(ids, ",");
        strcat(ids, cJSON_GetObjectItemCaseSensitive(it, "Id")->valuestring);
    }
    cJSON_Delete(a);
    return ids;
}

char *sf_enumerate_until_empty(void)
{
    char *ids = NULL;
    for (int i = 0; i < 300; i++) {
        free(ids);
        ids = sf_enumerate();
        if (ids[0] == '\0')
            break;
        usleep(10000);
    }
    return ids;
}

static int count_lines(const char *path, const char *needle)
{
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return 0;
    char line[4096];
    int n = 0;
    while (fgets(line, sizeof(line), f))
        n += needle == NULL || strstr(line, needle) != NULL;
    fclose(f);
    return n;
}

int sf_count_mounts(void)
{
    return count_lines("/proc/self/mountinfo", NULL);
}

int sf_count_cgroups(void)
{
    static const char *const dirs[] = {"/sys/fs/cgroup/memory/hcs",  "/sys/fs/cgroup/pids/hcs",
                                       "/sys/fs/cgroup/freezer/hcs", "/sys/fs/cgroup/cpu/hcs",
                                       "/sys/fs/cgroup/cpuacct/hcs", "/sys/fs/cgroup/hcs"};
    int n = 0;
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        DIR *d = opendir(dirs[i]);
        struct dirent *de;
        while (d != NULL && (de = readdir(d)) != NULL)
            n += de->d_type == DT_DIR && strncmp(de->d_name, "it-", 3) == 0;
        if (d != NULL)
            closedir(d);
    }
    return n;
}

int sf_count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    struct dirent *de;
    while (d != NULL && (de = readdir(d)) != NULL)
        n += de->d_name[0] != '.';
    if (d != NULL)
        closedir(d);
    return n - 1; /* the directory's own fd */
}
