/*
 * bench_documents.c - document parsing: hcs_schema_parse() (JSON parse with exact integers,
 * validation against the schema table, the C struct built and freed) against plain
 * cJSON_Parse() + cJSON_Delete() of the same text, measured alternately in the same run.
 *
 * Prints one row per document: name, documents/second, the cJSON baseline in documents/second,
 * and value / baseline (0.40 means libhcs parses and validates at 40% of cJSON's parse rate).
 * Run by bench/run (make bench).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "common/error.h"
#include "schema/documents.h"

#define ROUNDS 11          /* median of this many timed rounds per side */
#define ROUND_SECONDS 0.05 /* target length of one round */

/* A Container as containerd would send it: two layers, mounts, limits, registry, OCI pids. */
static const char container_doc[] =
    "{\n"
    "    \"Owner\": \"containerd\",\n"
    "    \"SchemaVersion\": {\"Major\": 2, \"Minor\": 1},\n"
    "    \"ShouldTerminateOnLastHandleClosed\": true,\n"
    "    \"Container\": {\n"
    "        \"GuestOs\": {\"HostName\": \"web-01.example\"},\n"
    "        \"Storage\": {\n"
    "            \"Layers\": [\n"
    "                {\"Id\": \"8b3a1f2e-3c4d-4e5f-9a6b-7c8d9e0f1a2b\", \"Path\": "
    "\"/var/lib/hcs/layers/app\", \"PathType\": \"AbsolutePath\"},\n"
    "                {\"Id\": \"0d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6\", \"Path\": "
    "\"/var/lib/hcs/layers/base\"}\n"
    "            ],\n"
    "            \"Path\": \"/var/lib/hcs/sandbox/web-01\"\n"
    "        },\n"
    "        \"MappedDirectories\": [\n"
    "            {\"HostPath\": \"/srv/www\", \"ContainerPath\": \"/usr/share/nginx/html\", "
    "\"ReadOnly\": true},\n"
    "            {\"HostPath\": \"/var/log/web-01\", \"HostPathType\": \"AbsolutePath\", "
    "\"ContainerPath\": \"/var/log/nginx\", \"ReadOnly\": false}\n"
    "        ],\n"
    "        \"Memory\": {\"SizeInMB\": 512},\n"
    "        \"Processor\": {\"Count\": 2, \"Weight\": 100, \"Maximum\": 5000},\n"
    "        \"Networking\": {\"Namespace\": \"/run/netns/web-01\"},\n"
    "        \"RegistryChanges\": {\n"
    "            \"AddValues\": [\n"
    "                {\"Key\": {\"Hive\": \"System\", \"Name\": "
    "\"ControlSet001\\\\Services\\\\web\"}, \"Name\": \"Start\", \"Type\": \"DWord\", "
    "\"DWordValue\": 2},\n"
    "                {\"Key\": {\"Hive\": \"Software\", \"Name\": \"Example\\\\Web\"}, "
    "\"Name\": \"Banner\", \"Type\": \"String\", \"StringValue\": \"hello\"}\n"
    "            ]\n"
    "        },\n"
    "        \"Linux\": {\"resources\": {\"pids\": {\"limit\": 1024}}}\n"
    "    }\n"
    "}\n";

/* A process with a console, arguments and a typical environment. */
static const char process_doc[] =
    "{\n"
    "    \"CommandArgs\": [\"/bin/sh\", \"-c\", \"echo $GREETING; exec top -b\"],\n"
    "    \"User\": \"1000:1000\",\n"
    "    \"WorkingDirectory\": \"/home/app\",\n"
    "    \"Environment\": {\n"
    "        \"PATH\": \"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\n"
    "        \"HOME\": \"/home/app\",\n"
    "        \"GREETING\": \"hello\",\n"
    "        \"TERM\": \"xterm-256color\",\n"
    "        \"LANG\": \"C.UTF-8\"\n"
    "    },\n"
    "    \"EmulateConsole\": true,\n"
    "    \"CreateStdInPipe\": true,\n"
    "    \"CreateStdOutPipe\": true,\n"
    "    \"ConsoleSize\": [24, 80]\n"
    "}\n";

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "bench_documents: %s: %s\n", what, detail ? detail : "failed");
    exit(1);
}

static void run_libhcs(const hcs_type *t, const char *name, const char *text, long n)
{
    for (long i = 0; i < n; i++) {
        void *out = NULL;
        hcs_error *err = NULL;
        if (hcs_schema_parse(t, text, name, true, &out, &err) < 0)
            die(name, err ? err->message : NULL);
        hcs_schema_free(t, out);
    }
}

static void run_cjson(const char *name, const char *text, long n)
{
    for (long i = 0; i < n; i++) {
        cJSON *j = cJSON_Parse(text);
        if (j == NULL)
            die(name, "cJSON_Parse failed");
        cJSON_Delete(j);
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Documents/second of each side: median over rounds that alternate the two sides. */
static void bench(const char *label, const hcs_type *t, const char *name, const char *text)
{
    /* Calibrate on the slower side (libhcs) so one round lasts about ROUND_SECONDS. */
    long n = 16;
    for (;;) {
        double t0 = now();
        run_libhcs(t, name, text, n);
        double dt = now() - t0;
        if (dt >= ROUND_SECONDS / 4) {
            n = (long)((double)n * ROUND_SECONDS / dt) + 1;
            break;
        }
        n *= 4;
    }
    run_cjson(name, text, n); /* warm both */

    double hcs[ROUNDS], base[ROUNDS];
    for (int r = 0; r < ROUNDS; r++) {
        double t0 = now();
        run_libhcs(t, name, text, n);
        double t1 = now();
        run_cjson(name, text, n);
        double t2 = now();
        hcs[r] = (double)n / (t1 - t0);
        base[r] = (double)n / (t2 - t1);
    }
    double v = median(hcs, ROUNDS), b = median(base, ROUNDS);
    printf("%s (%zu bytes) [docs/s]\t%.0f\t%.0f\t%.2f\n", label, strlen(text), v, b, v / b);
}

int main(void)
{
    bench("parse+validate Container ComputeSystem", &hcs_type_compute_system, "ComputeSystem",
          container_doc);
    bench("parse+validate ProcessParameters", &hcs_type_process_parameters, "ProcessParameters",
          process_doc);
    printf("# [docs/s] rows: baseline = cJSON_Parse + cJSON_Delete of the same text; ratio = "
           "value / baseline (share of cJSON's parse rate)\n");
    return 0;
}
