/*
 * props.c - `hcsdiag props`: HcsGetComputeSystemProperties, as a readable summary or (--json)
 * the Properties document as the library returns it.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "hcsdiag.h"

#define DEFAULT_QUERY "{\"PropertyTypes\":[\"Statistics\",\"ProcessList\",\"Memory\"]}"

/* QUERY: a PropertyQuery document, or property type names ("Statistics Memory"). */
static char *make_query(int argc, char **argv, int from)
{
    if (from >= argc)
        return strdup(DEFAULT_QUERY);
    if (argv[from][strspn(argv[from], " \t\n")] == '{' && from + 1 == argc)
        return strdup(argv[from]);
    AUTOJSON cJSON *q = cJSON_CreateObject();
    cJSON *types = cJSON_AddArrayToObject(q, "PropertyTypes");
    for (int i = from; i < argc; i++)
        cJSON_AddItemToArray(types, cJSON_CreateString(argv[i]));
    return cJSON_PrintUnformatted(q);
}

static uint64_t u64(const cJSON *obj, const char *name)
{
    uint64_t v = 0;
    hcs_json_u64(cJSON_GetObjectItemCaseSensitive(obj, name), &v);
    return v;
}

/* 100 ns units as "1.23 s", "4m 05s", "2h 03m". */
static const char *duration(uint64_t t100ns, char *buf, size_t size)
{
    uint64_t s = t100ns / 10000000u;
    if (s < 60)
        snprintf(buf, size, "%.2f s", (double)t100ns / 1e7);
    else if (s < 3600)
        snprintf(buf, size, "%" PRIu64 "m %02" PRIu64 "s", s / 60, s % 60);
    else
        snprintf(buf, size, "%" PRIu64 "h %02" PRIu64 "m", s / 3600, s / 60 % 60);
    return buf;
}

static void print_statistics(const cJSON *st)
{
    char a[32], b[32], c[32];
    printf("%-14s%s\n", "Uptime:", duration(u64(st, "Uptime100ns"), a, sizeof(a)));
    const cJSON *cpu = cJSON_GetObjectItemCaseSensitive(st, "Processor");
    printf("%-14s%s (user %s, kernel %s)\n",
           "CPU time:", duration(u64(cpu, "TotalRuntime100ns"), a, sizeof(a)),
           duration(u64(cpu, "RuntimeUser100ns"), b, sizeof(b)),
           duration(u64(cpu, "RuntimeKernel100ns"), c, sizeof(c)));
    const cJSON *mem = cJSON_GetObjectItemCaseSensitive(st, "Memory");
    printf("%-14s%s (peak %s)\n",
           "Memory used:", hd_size(u64(mem, "MemoryUsageCommitBytes"), a, sizeof(a)),
           hd_size(u64(mem, "MemoryUsageCommitPeakBytes"), b, sizeof(b)));
    if (cJSON_GetObjectItemCaseSensitive(st, "ProcessCount") != NULL)
        printf("%-14s%" PRIu64 "\n", "Processes:", u64(st, "ProcessCount"));
}

static void print_memory(const cJSON *mem)
{
    char a[32], b[32], c[32] = "none";
    if (cJSON_GetObjectItemCaseSensitive(mem, "SizeInMB") != NULL)
        hd_size(u64(mem, "SizeInMB") << 20, c, sizeof(c));
    printf("%-14s%s (peak %s, limit %s)\n",
           "Memory:", hd_size(u64(mem, "UsageBytes"), a, sizeof(a)),
           hd_size(u64(mem, "PeakUsageBytes"), b, sizeof(b)), c);
}

static void print_process_list(const cJSON *list)
{
    printf("%-14s%d\n", "Process list:", cJSON_GetArraySize(list));
    if (cJSON_GetArraySize(list) == 0)
        return;
    printf("  %7s  %-16s %10s %10s\n", "PID", "NAME", "MEMORY", "CPU");
    const cJSON *p;
    cJSON_ArrayForEach(p, list)
    {
        char a[32], b[32];
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "ImageName"));
        printf("  %7" PRIu64 "  %-16s %10s %10s\n", u64(p, "ProcessId"), name ? name : "?",
               hd_size(u64(p, "MemoryWorkingSetPrivateBytes"), a, sizeof(a)),
               duration(u64(p, "UserTime100ns") + u64(p, "KernelTime100ns"), b, sizeof(b)));
    }
}

static void print_summary(const cJSON *props)
{
    static const struct {
        const char *member, *label;
    } plain[] = {{"Id", "Id:"},       {"SystemType", "Type:"},
                 {"Owner", "Owner:"}, {"RuntimeOsType", "OS:"},
                 {"State", "State:"}, {"ExitType", "Exit type:"}};
    for (size_t i = 0; i < HCS_ARRAY_SIZE(plain); i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(props, plain[i].member);
        if (cJSON_IsString(v))
            printf("%-14s%s\n", plain[i].label, v->valuestring[0] ? v->valuestring : "-");
    }
    const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(props, "Id"));
    const cJSON *m;
    cJSON_ArrayForEach(m, props)
    {
        /* Name is the id here; Stopped says what State says. */
        const char *s = cJSON_GetStringValue(m);
        bool shown =
            strcmp(m->string, "Stopped") == 0 ||
            (strcmp(m->string, "Name") == 0 && s != NULL && id != NULL && strcmp(s, id) == 0);
        for (size_t i = 0; i < HCS_ARRAY_SIZE(plain) && !shown; i++)
            shown = strcmp(m->string, plain[i].member) == 0;
        if (shown)
            continue;
        if (strcmp(m->string, "Statistics") == 0) {
            print_statistics(m);
        } else if (strcmp(m->string, "Memory") == 0) {
            print_memory(m);
        } else if (strcmp(m->string, "ProcessList") == 0) {
            print_process_list(m);
        } else {
            AUTOFREE char *text = hcs_json_print(m);
            AUTOFREE char *label = hcs_asprintf("%s:", m->string);
            printf("%-14s%s\n", label ? label : m->string, text ? text : "?");
        }
    }
}

int hcsdiag_props(const hcsdiag_command *cmd, int argc, char **argv)
{
    bool json = false;
    int rc = hd_getopt_json(cmd, argc, argv, &json);
    if (rc >= 0)
        return rc;
    if (argc - optind < 1)
        return hd_usage(cmd, "ID is missing");
    const char *id = argv[optind];
    AUTOFREE char *query = make_query(argc, argv, optind + 1);
    if (query == NULL)
        return hd_fail("out of memory");
    HCS_SYSTEM sys = NULL;
    if ((rc = hd_open_system("props", id, &sys)) != HCSDIAG_OK)
        return rc;
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    char *doc = NULL;
    rc = op == NULL
             ? hd_fail("out of memory")
             : hd_finish("props", id, op, HcsGetComputeSystemProperties(sys, op, query), &doc);
    HcsCloseOperation(op);
    HcsCloseComputeSystem(sys);
    if (rc != HCSDIAG_OK)
        return rc;
    if (json) {
        printf("%s\n", doc != NULL ? doc : "{}");
    } else {
        AUTOJSON cJSON *props = hd_json_parse(doc);
        if (!cJSON_IsObject(props))
            rc = hd_fail("props %s: the Properties document is not a JSON object", id);
        else
            print_summary(props);
    }
    HcsFree(doc);
    return rc;
}
