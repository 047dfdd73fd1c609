/*
 * registry - read and write a container's registry.
 *
 *   registry ROOTFS
 *
 * ROOTFS is a root folder: tools/mkroot makes one, and with HCSREG=build/hcsreg it also copies
 * the in-container registry client in as /bin/hcsreg. Each compute system has a registry of its
 * own (the hives of its layers, under a delta of the system's), so nothing here changes ROOTFS.
 *
 *   1. Create a container over ROOTFS (read-only) whose Container.RegistryChanges sets two String
 *      values in HKLM\SOFTWARE\Example: Greeting = "hello" and Obsolete = "remove me".
 *   2. Start it and change the registry at run time with HcsModifyComputeSystem (ResourcePath
 *      "Container/RegistryChanges", RequestType "Update"): add Level = 42 (a DWord) and delete
 *      Obsolete (DeleteValues, a libhcs extension).
 *   3. Read the key back from the host: HcsGetComputeSystemProperties with PropertyTypes
 *      ["Registry"] and the libhcs extension RegistryQuery {Hive, Name}; print its values.
 *   4. When ROOTFS has /bin/hcsreg, run `hcsreg query HKLM\SOFTWARE\Example` inside the
 *      container: it sees the same registry.
 *   5. Terminate the system and close every handle, also when a step fails.
 *
 * Run as root. The exit status is 0 when every step worked, 1 otherwise, 2 for a usage error.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hcs.h>

#define TIMEOUT_MS 30000
/* The RegistryKey HKLM\SOFTWARE\Example, as JSON. */
#define KEY "{\"Hive\":\"Software\",\"Name\":\"Example\"}"

/* Print what failed, with the ResultError of op's call, or of the last call on this thread. */
static void report(const char *what, HRESULT hr, HCS_OPERATION op)
{
    char *doc = NULL;
    if (op != NULL)
        HcsGetOperationResult(op, &doc);
    if (doc == NULL)
        HcsGetErrorInfo(&doc);
    fprintf(stderr, "registry: %s failed: 0x%08X %s\n", what, (unsigned)hr, doc ? doc : "");
    HcsFree(doc);
}

/* Wait for the tracked call that returned hr; the result document goes to *doc when asked. */
static HRESULT finish(HCS_OPERATION op, const char *what, HRESULT hr, char **doc)
{
    if (SUCCEEDED(hr))
        hr = HcsWaitForOperationResult(op, TIMEOUT_MS, doc);
    if (FAILED(hr))
        report(what, hr, op);
    return hr;
}

/* --- Just enough JSON reading for this example: a real program uses a JSON parser. --------- */

/* The first character after the JSON value that starts at p. */
static const char *skip(const char *p)
{
    if (*p == '"') {
        for (p++; *p != '\0' && *p != '"'; p++)
            if (*p == '\\' && p[1] != '\0')
                p++;
        return *p != '\0' ? p + 1 : p;
    }
    if (*p == '{' || *p == '[') {
        int depth = 0;
        while (*p != '\0') {
            if (*p == '"') {
                p = skip(p);
                continue;
            }
            depth += (*p == '{' || *p == '[') - (*p == '}' || *p == ']');
            p++;
            if (depth == 0)
                break;
        }
        return p;
    }
    return p + strcspn(p, ",}]"); /* a number, true, false or null */
}

/* The value of the member key of the object at p, or NULL (no white space: the library's). */
static const char *member(const char *p, const char *key)
{
    if (p == NULL || *p != '{')
        return NULL;
    size_t n = strlen(key);
    for (p++; *p == '"'; p++) { /* p at a member's name, then after the ',' that follows */
        int match = strncmp(p + 1, key, n) == 0 && p[n + 1] == '"';
        p = skip(p); /* the ':' after the name */
        if (*p++ != ':')
            break;
        if (match)
            return p;
        p = skip(p);
        if (*p != ',')
            break;
    }
    return NULL;
}

/* A value's text for "%.*s": a string's contents (escapes left as they are), other values whole. */
static int text(const char *v, const char **start)
{
    int quoted = v != NULL && *v == '"';
    *start = v != NULL ? v + quoted : "";
    return v != NULL ? (int)(skip(v) - v) - 2 * quoted : 0;
}

/* Print the values of the Registry object in a Properties document, one a line. */
static int print_registry(const char *doc)
{
    const char *values = member(member(doc, "Registry"), "Values");
    if (values == NULL || *values != '[') {
        fprintf(stderr, "registry: no Registry.Values in the answer: %s\n", doc ? doc : "");
        return -1;
    }
    for (const char *v = values + 1; *v == '{'; v = skip(v), v += *v == ',') {
        const char *data = member(v, "StringValue"), *name, *type;
        if (data == NULL)
            data = member(v, "DWordValue"); /* this example sets no other types */
        int n = text(member(v, "Name"), &name), t = text(member(v, "Type"), &type);
        int d = text(data, &data);
        printf("    %.*s (%.*s) = %.*s\n", n, name, t, type, d, data);
    }
    return 0;
}

/* s as a JSON string literal in out (size bytes: 2 * strlen(s) + 3 always suffice). */
static void json_string(char *out, size_t size, const char *s)
{
    size_t n = 0;
    for (out[n++] = '"'; *s != '\0' && n + 3 < size; s++) {
        if (*s == '"' || *s == '\\')
            out[n++] = '\\';
        out[n++] = *s;
    }
    out[n++] = '"';
    out[n] = '\0';
}

/* Copy everything from fd to out, then close fd. */
static void copy(int fd, FILE *out)
{
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0)
        fwrite(buf, 1, (size_t)n, out);
    close(fd);
}

/* Run hcsreg query inside the system and copy its output; 0 when it exited with 0. */
static int hcsreg_query(HCS_SYSTEM system, HCS_OPERATION op)
{
    /* CommandArgs ["/bin/hcsreg", "query", "HKLM\SOFTWARE\Example"], as JSON in C. */
    const char *params = "{\"CommandArgs\":[\"/bin/hcsreg\",\"query\","
                         "\"HKLM\\\\SOFTWARE\\\\Example\"],"
                         "\"CreateStdOutPipe\":true,\"CreateStdErrPipe\":true}";
    HCS_PROCESS process = NULL;
    HCS_PROCESS_INFORMATION info;
    HRESULT hr = HcsCreateProcess(system, params, op, NULL, &process);
    if (SUCCEEDED(hr))
        hr = HcsWaitForOperationResultAndProcessInfo(op, TIMEOUT_MS, &info, NULL);
    if (FAILED(hr)) {
        report("HcsCreateProcess /bin/hcsreg", hr, op);
        HcsCloseProcess(process);
        return -1;
    }
    copy(info.StdOutput, stdout); /* enough for a short output: stderr after stdout */
    copy(info.StdError, stderr);

    char *status = NULL;
    hr = HcsWaitForProcessExit(process, TIMEOUT_MS, &status);
    const char *code = member(status, "ExitCode");
    int rc = SUCCEEDED(hr) && code != NULL && strtol(code, NULL, 10) == 0 ? 0 : -1;
    if (FAILED(hr))
        report("HcsWaitForProcessExit", hr, NULL);
    else if (rc != 0)
        fprintf(stderr, "registry: hcsreg failed: %s\n", status ? status : "");
    HcsFree(status);
    HcsCloseProcess(process);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: registry ROOTFS\n"
                        "  ROOTFS: a root folder, e.g. made by HCSREG=build/hcsreg tools/mkroot\n");
        return 2;
    }
    if (geteuid() != 0) {
        fprintf(stderr, "registry: creating a container needs root; run it as root\n");
        return 1;
    }
    char root[PATH_MAX];
    if (realpath(argv[1], root) == NULL) {
        fprintf(stderr, "registry: %s: %s\n", argv[1], strerror(errno));
        return 1;
    }

    /* Step 1: the Container document, with the registry changes applied at create. */
    char path[2 * PATH_MAX + 3], config[2 * PATH_MAX + 1024];
    json_string(path, sizeof(path), root);
    snprintf(config, sizeof(config),
             "{\"SchemaVersion\":{\"Major\":2,\"Minor\":1},\"Owner\":\"registry-example\","
             "\"ShouldTerminateOnLastHandleClosed\":true,"
             "\"Container\":{\"Storage\":{\"Layers\":[{\"Path\":%s}]},"
             "\"RegistryChanges\":{\"AddValues\":["
             "{\"Key\":" KEY ",\"Name\":\"Greeting\","
             "\"Type\":\"String\",\"StringValue\":\"hello\"},"
             "{\"Key\":" KEY ",\"Name\":\"Obsolete\","
             "\"Type\":\"String\",\"StringValue\":\"remove me\"}]}}}",
             path);
    /* Step 2: the run-time change. DeleteValues runs before AddValues. */
    const char *change =
        "{\"ResourcePath\":\"Container/RegistryChanges\",\"RequestType\":\"Update\","
        "\"Settings\":{\"DeleteValues\":[{\"Key\":" KEY ",\"Name\":\"Obsolete\"}],"
        "\"AddValues\":[{\"Key\":" KEY ",\"Name\":\"Level\","
        "\"Type\":\"DWord\",\"DWordValue\":42}]}}";
    /* Step 3: the query. */
    const char *query = "{\"PropertyTypes\":[\"Registry\"],\"RegistryQuery\":" KEY "}";

    int rc = 1, created = 0;
    char id[64], *doc = NULL;
    snprintf(id, sizeof(id), "registry-%ld", (long)getpid());
    HCS_SYSTEM system = NULL;
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    if (op == NULL) {
        fprintf(stderr, "registry: HcsCreateOperation: out of memory\n");
        return 1;
    }
    if (FAILED(finish(op, "HcsCreateComputeSystem",
                      HcsCreateComputeSystem(id, config, op, NULL, &system), NULL)))
        goto out;
    created = 1;
    printf("created %s over %s with HKLM\\SOFTWARE\\Example: Greeting=\"hello\", "
           "Obsolete=\"remove me\"\n",
           id, root);
    if (FAILED(
            finish(op, "HcsStartComputeSystem", HcsStartComputeSystem(system, op, NULL), NULL)) ||
        FAILED(finish(op, "HcsModifyComputeSystem Container/RegistryChanges",
                      HcsModifyComputeSystem(system, op, change, NULL), NULL)))
        goto out;
    printf("changed at run time: added Level=42 (DWord), deleted Obsolete\n");
    if (FAILED(finish(op, "HcsGetComputeSystemProperties Registry",
                      HcsGetComputeSystemProperties(system, op, query), &doc)))
        goto out;
    printf("\nHKLM\\SOFTWARE\\Example read from the host (HcsGetComputeSystemProperties):\n");
    if (print_registry(doc) != 0)
        goto out;

    /* Step 4: the same key from inside, when the root has the client. */
    char hcsreg[PATH_MAX + 16];
    snprintf(hcsreg, sizeof(hcsreg), "%s/bin/hcsreg", root);
    if (access(hcsreg, X_OK) == 0) {
        printf("\nhcsreg query HKLM\\SOFTWARE\\Example run inside the container:\n");
        if (hcsreg_query(system, op) != 0)
            goto out;
    } else {
        printf("\n%s has no /bin/hcsreg, so the in-container query is skipped (make the root "
               "with HCSREG=build/hcsreg tools/mkroot ROOTFS)\n",
               root);
    }
    rc = 0;

out:
    /* Step 5: whatever was reached. A failed create's handle only needs closing. */
    HcsFree(doc);
    if (created) {
        HRESULT hr = HcsTerminateComputeSystem(system, op, NULL);
        if (SUCCEEDED(hr))
            hr = HcsWaitForOperationResult(op, TIMEOUT_MS, NULL);
        if (SUCCEEDED(hr))
            hr = HcsWaitForComputeSystemExit(system, TIMEOUT_MS, NULL);
        if (FAILED(hr) && hr != HCS_E_SYSTEM_ALREADY_STOPPED) {
            report("HcsTerminateComputeSystem", hr, op);
            rc = 1;
        }
    }
    HcsCloseComputeSystem(system);
    HcsCloseOperation(op);
    return rc;
}
