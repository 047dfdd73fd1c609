/*
 * demo - what `make demo` runs: a container through the HCS API, over an imported layer.
 *
 *   demo BASE      (or HCS_DEMO_ROOT=BASE demo)
 *
 * BASE is a layer archive (tar, tar+gzip or tar+zstd) or a root folder: make demo builds a
 * busybox root with tools/mkroot and packs it as build/demo-base.tar.zst.
 *
 * First the precise error a malformed document gets. Then, as root: BASE imported as a
 * read-only layer (HcsImportLayer) into a temporary folder, a writable layer over it
 * (HcsInitializeWritableLayer), a compute system over the two, started, a few commands run
 * inside it to show what it is isolated from, its statistics, and a forced stop; finally both
 * layers are removed (HcsDestroyLayer). Everything it creates is removed again, also when a
 * step fails.
 */
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <hcs.h>

#define TIMEOUT_MS 30000

static HCS_OPERATION op;

/* Wait for the tracked call that returned hr; print the error document when it failed. */
static HRESULT finish(const char *what, HRESULT hr)
{
    char *doc = NULL;
    if (SUCCEEDED(hr))
        hr = HcsWaitForOperationResult(op, TIMEOUT_MS, &doc);
    else
        HcsGetOperationResult(op, &doc);
    if (FAILED(hr))
        fprintf(stderr, "demo: %s failed: 0x%08X %s\n", what, (unsigned)hr, doc ? doc : "");
    HcsFree(doc);
    return hr;
}

/* The integer after "key": in a result document (enough for a demo; use a JSON parser). */
static long long number(const char *doc, const char *key)
{
    char pattern[64];
    snprintf(pattern, sizeof(pattern), "\"%s\":", key);
    const char *p = doc ? strstr(doc, pattern) : NULL;
    return p ? strtoll(p + strlen(pattern), NULL, 10) : -1;
}

/*
 * The string value of "key": in a small JSON file (enough for a demo; use a JSON parser). The
 * caller frees; NULL when absent.
 */
static char *file_string(const char *path, const char *key)
{
    char buf[4096], pattern[64];
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = '\0';
    snprintf(pattern, sizeof(pattern), "\"%s\":\"", key);
    const char *p = strstr(buf, pattern);
    if (p == NULL)
        return NULL;
    p += strlen(pattern);
    return strndup(p, strcspn(p, "\""));
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* A storage call (synchronous): print its error document when it failed. */
static HRESULT storage(const char *what, HRESULT hr)
{
    if (FAILED(hr)) {
        char *doc = NULL;
        HcsGetErrorInfo(&doc);
        fprintf(stderr, "demo: %s failed: 0x%08X %s\n", what, (unsigned)hr, doc ? doc : "");
        HcsFree(doc);
    }
    return hr;
}

/*
 * HcsDestroyLayer. A compute system holds its layers until it has stopped: once
 * HcsWaitForComputeSystemExit returned, they are free.
 */
static HRESULT destroy_layer(const char *path)
{
    return storage("HcsDestroyLayer", HcsDestroyLayer(path));
}

/* Append s to the JSON text buf as a string literal (quotes and backslashes escaped). */
static void append_json_string(char *buf, size_t size, const char *s)
{
    size_t n = strlen(buf);
    for (buf[n++] = '"'; *s != '\0' && n + 3 < size; s++) {
        if (*s == '"' || *s == '\\')
            buf[n++] = '\\';
        buf[n++] = *s;
    }
    buf[n++] = '"';
    buf[n] = '\0';
}

/*
 * run(system, argv..., NULL): run a command inside the system, print a header, its standard
 * output and its exit code when it is not 0. Returns the exit code, or -1 when it could not run.
 */
static int run(HCS_SYSTEM system, ...)
{
    char params[1024] = "{\"CommandArgs\":[", header[256] = "";
    va_list ap;
    va_start(ap, system);
    for (const char *arg; (arg = va_arg(ap, const char *)) != NULL;) {
        if (header[0] != '\0')
            strcat(params, ",");
        append_json_string(params, sizeof(params) - 64, arg);
        const char *quote = strchr(arg, ' ') ? "'" : ""; /* for the header only */
        snprintf(header + strlen(header), sizeof(header) - strlen(header), " %s%s%s", quote, arg,
                 quote);
    }
    va_end(ap);
    strcat(params, "],\"CreateStdOutPipe\":true}");
    printf("\n== $%s\n", header);
    fflush(stdout);

    HCS_PROCESS process = NULL;
    HCS_PROCESS_INFORMATION info;
    char *doc = NULL;
    HRESULT hr = HcsCreateProcess(system, params, op, NULL, &process);
    if (SUCCEEDED(hr))
        hr = HcsWaitForOperationResultAndProcessInfo(op, TIMEOUT_MS, &info, &doc);
    else
        HcsGetOperationResult(op, &doc);
    if (FAILED(hr)) {
        printf("   could not start it: 0x%08X %s\n", (unsigned)hr, doc ? doc : "");
        HcsFree(doc);
        HcsCloseProcess(process);
        return -1;
    }
    HcsFree(doc);

    char buf[4096];
    ssize_t n;
    while ((n = read(info.StdOutput, buf, sizeof(buf))) > 0)
        fwrite(buf, 1, (size_t)n, stdout);
    close(info.StdOutput);

    doc = NULL;
    hr = HcsWaitForProcessExit(process, TIMEOUT_MS, &doc);
    int code = SUCCEEDED(hr) ? (int)number(doc, "ExitCode") : -1;
    if (code != 0)
        printf("   (exit code %d) %s\n", code, doc ? doc : "");
    HcsFree(doc);
    HcsCloseProcess(process);
    return code;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st, (void)type, (void)ftw;
    return remove(path) == 0 ? 0 : -1;
}

/* The malformed-document example: no privileges needed, nothing is created. */
static void show_malformed_document(void)
{
    const char *bad = "{\"SchemaVersion\":{\"Major\":2,\"Minor\":1},"
                      "\"Container\":{\"Memory\":{\"SizeInMB\":\"lots\"}}}";
    HCS_SYSTEM system = NULL;
    char *doc = NULL;
    HRESULT hr = HcsCreateComputeSystem("demo", bad, op, NULL, &system);
    HcsGetOperationResult(op, &doc);
    printf("== HcsCreateComputeSystem with a malformed document\n   %s\n   0x%08X %s\n", bad,
           (unsigned)hr, doc ? doc : "");
    HcsFree(doc);
    HcsCloseComputeSystem(system);
}

/* Import source into dir/base, a writable layer dir/writable over it; 0 when both exist. */
static int make_layers(const char *source, const char *base, const char *writable)
{
    printf("\n== HcsImportLayer %s\n   from %s\n", base, source);
    double t0 = now_ms();
    if (FAILED(storage("HcsImportLayer", HcsImportLayer(base, source, NULL))))
        return -1;
    double t1 = now_ms();
    /* The diff id is in the layer's metadata, base/layer.json (see hcs(7)). */
    char meta[PATH_MAX + 16];
    snprintf(meta, sizeof(meta), "%s/layer.json", base);
    char *diff_id = file_string(meta, "DiffId");
    printf("   diff id %s, imported in %.1f ms\n", diff_id ? diff_id : "(unknown)", t1 - t0);
    free(diff_id);

    char data[PATH_MAX + 128] =
        "{\"SchemaVersion\":{\"Major\":2,\"Minor\":1},\"Layers\":[{\"Path\":";
    append_json_string(data, sizeof(data) - 8, base);
    strcat(data, "}]}");
    printf("\n== HcsInitializeWritableLayer %s\n   %s\n", writable, data);
    return FAILED(storage("HcsInitializeWritableLayer",
                          HcsInitializeWritableLayer(writable, data, NULL)))
               ? -1
               : 0;
}

int main(int argc, char **argv)
{
    op = HcsCreateOperation(NULL, NULL);
    show_malformed_document();

    const char *base_arg = argc > 1 ? argv[1] : getenv("HCS_DEMO_ROOT");
    if (geteuid() != 0 || base_arg == NULL || base_arg[0] == '\0') {
        printf("\ndemo: %s; the container part is skipped (make demo does both).\n",
               geteuid() != 0 ? "creating a container needs root"
                              : "no root folder given (demo ROOT, or HCS_DEMO_ROOT)");
        printf("demo: done\n");
        HcsCloseOperation(op);
        return 0;
    }
    char source[PATH_MAX], dir[] = "/tmp/hcs-demo-XXXXXX", base[PATH_MAX], writable[PATH_MAX];
    char id[32];
    if (realpath(base_arg, source) == NULL || strpbrk(source, "\"\\") != NULL) {
        fprintf(stderr, "demo: %s: not a usable layer archive or folder\n", base_arg);
        HcsCloseOperation(op);
        return 1;
    }
    if (mkdtemp(dir) == NULL) {
        perror(dir);
        HcsCloseOperation(op);
        return 1;
    }
    snprintf(id, sizeof(id), "demo-%ld", (long)getpid());
    snprintf(base, sizeof(base), "%s/base", dir);
    snprintf(writable, sizeof(writable), "%s/writable", dir);

    int layers = make_layers(source, base, writable) == 0;
    char config[3 * PATH_MAX];
    snprintf(config, sizeof(config),
             "{\"SchemaVersion\":{\"Major\":2,\"Minor\":1},\"Owner\":\"demo\","
             "\"ShouldTerminateOnLastHandleClosed\":true,"
             "\"Container\":{\"GuestOs\":{\"HostName\":\"demo\"},"
             "\"Storage\":{\"Layers\":[{\"Path\":\"%s\"}],\"Path\":\"%s\"}}}",
             base, writable);
    if (layers)
        printf("\n== HcsCreateComputeSystem \"%s\"\n   %s\n", id, config);

    HCS_SYSTEM system = NULL;
    int created =
        layers && SUCCEEDED(finish("HcsCreateComputeSystem",
                                   HcsCreateComputeSystem(id, config, op, NULL, &system)));
    int ok = created &&
             SUCCEEDED(finish("HcsStartComputeSystem", HcsStartComputeSystem(system, op, NULL)));
    if (ok) {
        /* Its own host name, processes (pid 1 is hcs-init), root folder (the layer), network
         * (only lo) and users (its /etc/passwd); and exit codes come back. */
        int failed = run(system, "hostname", NULL) != 0;
        failed |= run(system, "ps", NULL) != 0;
        failed |= run(system, "ls", "-C", "/", NULL) != 0;
        failed |= run(system, "cat", "/proc/net/dev", NULL) != 0;
        failed |= run(system, "id", NULL) != 0;
        failed |= run(system, "sh", "-c", "exit 7", NULL) != 7;
        ok = !failed;

        HRESULT hr =
            HcsGetComputeSystemProperties(system, op, "{\"PropertyTypes\":[\"Statistics\"]}");
        char *doc = NULL;
        if (SUCCEEDED(hr))
            hr = HcsWaitForOperationResult(op, TIMEOUT_MS, &doc);
        if (SUCCEEDED(hr))
            printf("\n== HcsGetComputeSystemProperties Statistics\n"
                   "   uptime %.1f ms, CPU %.1f ms, memory %lld KiB, %lld process(es)\n",
                   number(doc, "Uptime100ns") / 1e4, number(doc, "TotalRuntime100ns") / 1e4,
                   number(doc, "MemoryUsageCommitBytes") / 1024, number(doc, "ProcessCount"));
        else
            fprintf(stderr, "demo: HcsGetComputeSystemProperties failed: 0x%08X %s\n", (unsigned)hr,
                    doc ? doc : "");
        HcsFree(doc);
        ok = ok && SUCCEEDED(hr);
    }

    /* Clean up whatever was reached: stop the system and release it; then the layers. */
    if (created) {
        char *status = NULL;
        HRESULT hr =
            finish("HcsTerminateComputeSystem", HcsTerminateComputeSystem(system, op, NULL));
        if (SUCCEEDED(hr) && FAILED(hr = HcsWaitForComputeSystemExit(system, TIMEOUT_MS, &status)))
            fprintf(stderr, "demo: HcsWaitForComputeSystemExit failed: 0x%08X\n", (unsigned)hr);
        if (SUCCEEDED(hr))
            printf("\n== HcsTerminateComputeSystem, HcsWaitForComputeSystemExit\n   %s\n",
                   status ? status : "");
        HcsFree(status);
        ok = ok && SUCCEEDED(hr);
    }
    HcsCloseComputeSystem(system);
    HcsCloseOperation(op);

    /* The layers: the writable one first (it holds the base while it exists). */
    if (layers) {
        int removed = SUCCEEDED(destroy_layer(writable)) && SUCCEEDED(destroy_layer(base));
        if (removed)
            printf("\n== HcsDestroyLayer %s, %s\n", writable, base);
        ok = ok && removed;
    }
    /* Whatever a failed step left (nothing after a clean run: then it is just the folder). */
    if (nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
        perror(dir);
    printf("\ndemo: %s\n", ok ? "done" : "failed");
    return ok ? 0 : 1;
}
