/*
 * run-image - run one command in a new container over an image's layers, or over a root
 * folder, streaming its output.
 *
 *   hcsdiag image import --json IMAGE > chain.json
 *   run-image chain.json COMMAND [ARG...]
 *   run-image ROOTFS COMMAND [ARG...]          (tools/mkroot ROOTFS makes a busybox root)
 *
 * chain.json is what `hcsdiag image import --json` prints: {"Layers":[{"Id":..,"Path":..},..]},
 * nearest layer first, which is exactly Container.Storage.Layers; a folder is used as the only
 * layer. The container gets a fresh writable layer (an empty folder, which the create
 * initializes), runs COMMAND with its standard output and error streamed as they come, and is
 * removed with its writable layer afterwards. The exit status is COMMAND's. Run as root.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hcs.h>

#define TIMEOUT_MS 60000

/* Print what failed, with the ResultError of the call or of op. */
static void report(const char *what, HRESULT hr, HCS_OPERATION op)
{
    char *doc = NULL;
    if (op != NULL)
        HcsGetOperationResult(op, &doc);
    if (doc == NULL)
        HcsGetErrorInfo(&doc);
    fprintf(stderr, "run-image: %s: 0x%08X %s\n", what, (unsigned)hr, doc ? doc : "");
    HcsFree(doc);
}

/* Wait for a tracked call that returned hr. */
static HRESULT finish(HCS_OPERATION op, const char *what, HRESULT hr)
{
    if (SUCCEEDED(hr))
        hr = HcsWaitForOperationResult(op, TIMEOUT_MS, NULL);
    if (FAILED(hr))
        report(what, hr, op);
    return hr;
}

/* Read a whole file into a NUL-terminated buffer (caller frees); NULL on error. */
static char *slurp(const char *path)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (f == NULL)
        return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while (buf != NULL && (n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len - 1 == 0) {
            char *bigger = realloc(buf, cap *= 2);
            if (bigger == NULL) {
                free(buf);
                buf = NULL;
            }
            buf = bigger;
        }
    }
    if (f != stdin)
        fclose(f);
    if (buf != NULL)
        buf[len] = '\0';
    return buf;
}

/* Append s as a JSON string literal to out (capacity cap). */
static void json_string(char *out, size_t cap, const char *s)
{
    size_t n = strlen(out);
    if (n + 2 >= cap)
        return;
    out[n++] = '"';
    for (; *s != '\0' && n + 8 < cap; s++) {
        if (*s == '"' || *s == '\\') {
            out[n++] = '\\';
            out[n++] = *s;
        } else if ((unsigned char)*s < 0x20) {
            n += (size_t)snprintf(out + n, cap - n, "\\u%04x", (unsigned char)*s);
        } else {
            out[n++] = *s;
        }
    }
    out[n++] = '"';
    out[n] = '\0';
}

/* Stream the process's stdout and stderr to ours as they come, until both reach end of file. */
static void stream(int out_fd, int err_fd)
{
    struct pollfd p[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
    int to[2] = {STDOUT_FILENO, STDERR_FILENO};
    char buf[4096];
    while (p[0].fd >= 0 || p[1].fd >= 0) {
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        for (int i = 0; i < 2; i++) {
            if (p[i].fd < 0 || p[i].revents == 0)
                continue;
            ssize_t n = read(p[i].fd, buf, sizeof(buf));
            if (n > 0 && write(to[i], buf, (size_t)n) == n)
                continue;
            if (n < 0 && errno == EINTR)
                continue;
            p[i].fd = -1; /* end of file (or an error): poll ignores negative fds */
        }
    }
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: run-image CHAIN.json|ROOTFS COMMAND [ARG...]\n"
                        "  CHAIN.json: what `hcsdiag image import --json IMAGE` prints (- for "
                        "standard input)\n"
                        "  ROOTFS: a root folder, the container's only layer\n");
        return 2;
    }
    struct stat st;
    char *chain = NULL;
    if (stat(argv[1], &st) == 0 && S_ISDIR(st.st_mode)) {
        /* A root folder: the chain {"Layers":[{"Path":ROOTFS}]}. */
        chain = calloc(1, strlen(argv[1]) * 6 + 64);
        if (chain != NULL) {
            strcpy(chain, "{\"Layers\":[{\"Path\":");
            json_string(chain, strlen(argv[1]) * 6 + 64, argv[1]);
            strcat(chain, "}]}");
        }
    } else {
        chain = slurp(argv[1]);
    }
    const char *layers = chain ? strstr(chain, "\"Layers\"") : NULL;
    if (layers == NULL) {
        fprintf(stderr, "run-image: %s: no \"Layers\" in it (use hcsdiag image import --json)\n",
                argv[1]);
        free(chain);
        return 2;
    }
    char scratch[] = "/tmp/run-image-XXXXXX";
    if (mkdtemp(scratch) == NULL) {
        perror("run-image: mkdtemp");
        free(chain);
        return 1;
    }

    /* {"Owner":"run-image","Container":{"Storage":{<the chain's "Layers":[...]>,"Path":W}}} */
    size_t cap = strlen(chain) + 4096;
    char *config = malloc(cap);
    char params[8192] = "{\"CommandArgs\":[";
    for (int i = 2; i < argc; i++) {
        if (i > 2)
            strcat(params, ",");
        json_string(params, sizeof(params) - 64, argv[i]);
    }
    strcat(params, "],\"CreateStdOutPipe\":true,\"CreateStdErrPipe\":true}");
    const char *end = strrchr(layers, '}'); /* the chain object's closing brace */
    int rc = 1;
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    HCS_SYSTEM system = NULL;
    HCS_PROCESS process = NULL;
    if (config == NULL || end == NULL || op == NULL)
        goto out;
    snprintf(config, cap,
             "{\"Owner\":\"run-image\",\"Container\":{\"Storage\":{%.*s,\"Path\":\"%s\"}}}",
             (int)(end - layers), layers, scratch);

    char id[64];
    snprintf(id, sizeof(id), "run-image-%d", (int)getpid());
    if (FAILED(finish(op, "create", HcsCreateComputeSystem(id, config, op, NULL, &system))) ||
        FAILED(finish(op, "start", HcsStartComputeSystem(system, op, NULL))))
        goto out;
    HCS_PROCESS_INFORMATION info;
    HRESULT hr = HcsCreateProcess(system, params, op, NULL, &process);
    if (SUCCEEDED(hr))
        hr = HcsWaitForOperationResultAndProcessInfo(op, TIMEOUT_MS, &info, NULL);
    if (FAILED(hr)) {
        report(argv[2], hr, op);
        goto out;
    }
    stream(info.StdOutput, info.StdError);
    close(info.StdOutput);
    close(info.StdError);
    char *status = NULL;
    hr = HcsWaitForProcessExit(process, TIMEOUT_MS, &status);
    const char *code = status ? strstr(status, "\"ExitCode\":") : NULL;
    if (SUCCEEDED(hr) && code != NULL)
        rc = atoi(code + strlen("\"ExitCode\":"));
    else
        report("wait for the process", hr, NULL);
    HcsFree(status);

out:
    if (process != NULL)
        HcsCloseProcess(process);
    if (system != NULL) {
        HcsTerminateComputeSystem(system, op, NULL);
        HcsWaitForComputeSystemExit(system, TIMEOUT_MS, NULL);
        HcsCloseComputeSystem(system);
    }
    HcsCloseOperation(op);
    /* The writable layer the create made of the empty folder: once the system stopped, free. */
    HRESULT dhr = HcsDestroyLayer(scratch);
    if (FAILED(dhr)) {
        report("remove the writable layer", dhr, NULL);
        rmdir(scratch); /* still the empty folder when the create failed early */
    }
    free(config);
    free(chain);
    return rc;
}
