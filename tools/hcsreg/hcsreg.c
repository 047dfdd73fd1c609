/*
 * hcsreg - the registry client run inside libhcs containers (reg.exe-like).
 *
 * It only forwards: its arguments go as NUL-terminated strings over SOCK_SEQPACKET to the
 * compute system's monitor (the socket at $HCSREG_SOCKET or /dev/hcs-registry), in parts of at
 * most 64 KiB, each message a flag byte ('M' more follows, 'L' last) and the part. It answers
 * with one message: a status byte (0 success, 1 failure, 2 usage) and the text to print.
 * Plain libc and linked statically, so that it runs in any container root. Two commands touch
 * files here, as reg.exe does: `import FILE` sends the file's content ("-": standard input) and
 * `export KEY FILE` writes the exported text to FILE.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

/* The same limits as lib/registry/registry.h. */
#define HCS_REG_SERVE_MAX (8u << 20)
#define HCS_REG_PART_MAX (64u << 10)
#define DEFAULT_SOCKET "/dev/hcs-registry"

static const char usage_text[] =
    "usage: hcsreg COMMAND ARGS...\n"
    "  hcsreg query KEY [/v NAME | /ve] [/s]\n"
    "  hcsreg add KEY [/v NAME | /ve] [/t TYPE] [/s SEPARATOR] [/d DATA] [/f]\n"
    "  hcsreg delete KEY [/v NAME | /ve | /va] [/f]\n"
    "  hcsreg export KEY [FILE] [/y]\n"
    "  hcsreg import FILE\n"
    "KEY: HKLM\\SYSTEM, HKLM\\SOFTWARE, HKLM\\SECURITY, HKLM\\SAM or HKU\\.DEFAULT, then "
    "\\subkey...\n"
    "TYPE: REG_SZ, REG_EXPAND_SZ, REG_MULTI_SZ, REG_DWORD, REG_QWORD, REG_BINARY, REG_NONE\n"
    "See hcsreg(1).\n";

typedef struct {
    char *p;
    size_t len;
} bytes;

static int add(bytes *b, const void *d, size_t n)
{
    if (n > HCS_REG_SERVE_MAX - b->len)
        return -1;
    char *p = realloc(b->p, b->len + n);
    if (p == NULL && b->len + n > 0)
        return -1;
    b->p = p;
    if (n > 0)
        memcpy(b->p + b->len, d, n);
    b->len += n;
    return 0;
}

static int add_str(bytes *b, const char *s)
{
    return add(b, s, strlen(s) + 1);
}

/* The whole of path ("-": standard input) appended to b. */
static int add_file(bytes *b, const char *path)
{
    int fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "hcsreg: cannot open %s: %s\n", path, strerror(errno));
        return -1;
    }
    char buf[65536];
    int rc = 0;
    for (;;) {
        ssize_t r = read(fd, buf, sizeof(buf));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            fprintf(stderr, "hcsreg: cannot read %s: %s\n", path, strerror(errno));
            rc = -1;
            break;
        }
        if (r == 0)
            break;
        if (add(b, buf, (size_t)r) < 0) {
            fprintf(stderr, "hcsreg: %s is over the %u MiB a request can carry\n", path,
                    HCS_REG_SERVE_MAX >> 20);
            rc = -1;
            break;
        }
    }
    if (fd != 0)
        close(fd);
    return rc;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static bool is_help(const char *a)
{
    return strcmp(a, "/?") == 0 || strcmp(a, "-?") == 0 || strcmp(a, "-h") == 0 ||
           strcmp(a, "--help") == 0;
}

/* Send the request in parts of at most HCS_REG_PART_MAX bytes, each behind its flag byte. */
static int send_request(int fd, char *p, size_t len)
{
    do {
        size_t part = len < HCS_REG_PART_MAX ? len : HCS_REG_PART_MAX;
        char flag = part == len ? 'L' : 'M';
        struct iovec iov[2] = {{&flag, 1}, {p, part}};
        struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 2};
        ssize_t w;
        do
            w = sendmsg(fd, &msg, MSG_NOSIGNAL);
        while (w < 0 && errno == EINTR);
        if (w < 0)
            return -1;
        p += part;
        len -= part;
    } while (len > 0);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2 || is_help(argv[1])) {
        fputs(usage_text, stderr);
        return 2;
    }
    bytes req = {0};
    const char *out_file = NULL;
    int rc = 0;
    if (strcasecmp(argv[1], "import") == 0) {
        if (argc != 3 || is_help(argv[2])) {
            fputs("hcsreg: import takes one FILE (- for standard input)\n", stderr);
            fputs(usage_text, stderr);
            return 2;
        }
        rc = add_str(&req, argv[1]);
        if (rc == 0 && add_file(&req, argv[2]) < 0)
            return 1;
    } else if (strcasecmp(argv[1], "export") == 0) {
        /* export KEY [FILE] [/y]: FILE stays here; the rest goes. */
        for (int i = 1; i < argc && rc == 0; i++) {
            if (i == 3 && argv[i][0] != '/' && argv[i][0] != '-')
                out_file = argv[i];
            else
                rc = add_str(&req, argv[i]);
        }
    } else {
        for (int i = 1; i < argc && rc == 0; i++)
            rc = add_str(&req, argv[i]);
    }
    if (rc < 0) {
        fprintf(stderr, "hcsreg: the arguments are over the %u MiB a request can carry\n",
                HCS_REG_SERVE_MAX >> 20);
        return 1;
    }

    const char *path = getenv("HCSREG_SOCKET");
    if (path == NULL || path[0] == '\0')
        path = DEFAULT_SOCKET;
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(addr.sun_path)) {
        fprintf(stderr, "hcsreg: the socket path %s is too long\n", path);
        return 1;
    }
    strcpy(addr.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (const struct sockaddr *)&addr, sizeof(addr)) < 0) {
        fprintf(stderr,
                "hcsreg: cannot reach the registry at %s: %s (run it inside a libhcs container)\n",
                path, strerror(errno));
        return 1;
    }
    if (send_request(fd, req.p, req.len) < 0) {
        fprintf(stderr, "hcsreg: cannot send the request to %s: %s\n", path, strerror(errno));
        return 1;
    }
    free(req.p);

    char *ans = malloc(HCS_REG_SERVE_MAX);
    if (ans == NULL) {
        fputs("hcsreg: out of memory\n", stderr);
        return 1;
    }
    ssize_t n;
    do
        n = recv(fd, ans, HCS_REG_SERVE_MAX, 0);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        fprintf(stderr, "hcsreg: cannot read the answer from %s: %s\n", path, strerror(errno));
        return 1;
    }
    if (n == 0) {
        fprintf(stderr, "hcsreg: %s closed the connection without an answer\n", path);
        return 1;
    }
    close(fd);
    int status = (unsigned char)ans[0];
    if (status > 2) {
        fprintf(stderr, "hcsreg: %s answered with an unknown status %d\n", path, status);
        return 1;
    }
    const char *text = ans + 1;
    size_t len = (size_t)n - 1;
    if (status == 0 && out_file != NULL) {
        int ofd = open(out_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (ofd < 0 || write_all(ofd, text, len) < 0 || close(ofd) < 0) {
            fprintf(stderr, "hcsreg: cannot write %s: %s\n", out_file, strerror(errno));
            return 1;
        }
        fputs("The operation completed successfully.\n", stdout);
    } else if (write_all(status == 0 ? 1 : 2, text, len) < 0) {
        fprintf(stderr, "hcsreg: cannot write the answer: %s\n", strerror(errno));
        return 1;
    }
    free(ans);
    return status;
}
