/*
 * run.c - the small process and memory helpers bindgen's parser uses: run a program and
 * capture its standard output, and an arena that bg_api_free() releases in one go.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bgutil.h"

static void **arena;
static size_t narena, carena;

static void oom(void)
{
    fputs("bindgen: out of memory\n", stderr);
    exit(2);
}

void *bg_xrealloc(void *old, size_t size)
{
    void *p = realloc(old, size ? size : 1);
    if (p == NULL)
        oom();
    if (old != NULL) {
        for (size_t i = narena; i-- > 0;) {
            if (arena[i] == old) {
                arena[i] = p;
                return p;
            }
        }
    }
    if (narena == carena) {
        size_t c = carena ? carena * 2 : 256;
        void **a = realloc(arena, c * sizeof(*a));
        if (a == NULL)
            oom();
        arena = a;
        carena = c;
    }
    arena[narena++] = p;
    return p;
}

void *bg_xcalloc(size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size)
        oom();
    void *p = bg_xrealloc(NULL, n * size);
    memset(p, 0, n * size);
    return p;
}

char *bg_strndup(const char *s, size_t n)
{
    char *p = bg_xrealloc(NULL, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *bg_strdup(const char *s)
{
    return bg_strndup(s, strlen(s));
}

void bg_arena_free(void)
{
    for (size_t i = 0; i < narena; i++)
        free(arena[i]);
    free(arena);
    arena = NULL;
    narena = carena = 0;
}

int bg_run(const char *const args[], char **out, size_t *outlen)
{
    /* execvp wants writable strings: give it copies. */
    size_t argc = 0;
    while (args[argc] != NULL)
        argc++;
    char **argv = bg_xcalloc(argc + 1, sizeof(*argv));
    for (size_t i = 0; i < argc; i++)
        argv[i] = bg_strdup(args[i]);
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        fprintf(stderr, "bindgen: pipe: %s\n", strerror(errno));
        return -1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "bindgen: fork: %s\n", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        if (dup2(fds[1], STDOUT_FILENO) < 0)
            _exit(127);
        execvp(argv[0], argv);
        fprintf(stderr, "bindgen: cannot run %s: %s%s\n", argv[0], strerror(errno),
                errno == ENOENT ? " (install clang, or set CLANG to the clang program)" : "");
        _exit(127);
    }
    close(fds[1]);
    size_t cap = 65536, len = 0;
    char *buf = bg_xrealloc(NULL, cap);
    for (;;) {
        if (cap - len < 4096)
            buf = bg_xrealloc(buf, cap *= 2);
        ssize_t n = read(fds[0], buf + len, cap - len - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    close(fds[0]);
    buf[len] = '\0';
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            fprintf(stderr, "bindgen: waitpid: %s\n", strerror(errno));
            return -1;
        }
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        if (WIFEXITED(status))
            fprintf(stderr, "bindgen: %s failed (exit status %d)\n", argv[0], WEXITSTATUS(status));
        else
            fprintf(stderr, "bindgen: %s killed by signal %d\n", argv[0], WTERMSIG(status));
        return -1;
    }
    *out = buf;
    if (outlen != NULL)
        *outlen = len;
    return 0;
}
