/* rpc.c - JSON messages with passed descriptors over unix SOCK_SEQPACKET sockets. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/json.h"
#include "common/util.h"
#include "rpc.h"

#define LISTEN_BACKLOG 64
#define MAX_MESSAGE ((size_t)HCS_RPC_MAX_MESSAGE)

/*
 * The kernel refuses a datagram larger than the sender's socket buffer (default 212992 bytes,
 * below HCS_RPC_MAX_MESSAGE). SO_SNDBUF caps the request at net.core.wmem_max and doubles it, so
 * even the default cap leaves room for a message of the largest size.
 */
#define SEND_BUFFER (2 * HCS_RPC_MAX_MESSAGE)

/* Room for HCS_RPC_MAX_FDS descriptors, aligned for struct cmsghdr. */
typedef union {
    struct cmsghdr align;
    char buf[CMSG_SPACE(sizeof(int) * HCS_RPC_MAX_FDS)];
} fd_control;

static void grow_send_buffer(int fd)
{
    int size = SEND_BUFFER;
    /* Best effort: without it only messages above ~200 KiB fail, with a clear error. */
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
}

static const char *errno_text(int errnum, char *buf, size_t size)
{
    return strerror_r(errnum, buf, size);
}

void hcs_rpc_close_fds(const int *fds, size_t nfds)
{
    for (size_t i = 0; fds != NULL && i < nfds; i++)
        if (fds[i] >= 0)
            close(fds[i]);
}

/* --- addresses ------------------------------------------------------------------------------- */

static int check_location(int dirfd, const char *name, hcs_error **err)
{
    if (name == NULL || name[0] == '\0')
        return hcs_err_set(err, E_INVALIDARG, "no socket name given");
    if (dirfd < 0 && dirfd != AT_FDCWD && name[0] != '/')
        return hcs_err_set(err, E_INVALIDARG, "socket \"%s\": invalid folder descriptor %d", name,
                           dirfd);
    return 0;
}

/* dirfd/name as a path for messages (caller frees); NULL when out of memory. */
static char *display_path(int dirfd, const char *name)
{
    if (name[0] == '/' || dirfd == AT_FDCWD)
        return strdup(name);
    char link[32], dir[PATH_MAX];
    snprintf(link, sizeof(link), "/proc/self/fd/%d", dirfd);
    ssize_t n = readlink(link, dir, sizeof(dir) - 1);
    if (n <= 0)
        return hcs_asprintf("%s/%s", link, name);
    dir[n] = '\0';
    return hcs_asprintf("%s/%s", strcmp(dir, "/") == 0 ? "" : dir, name);
}

/*
 * The address of dirfd/name. Going through the /proc/self/fd link keeps the address short
 * whatever the length of the folder's path (sun_path holds 108 bytes); it needs /proc mounted.
 */
static int make_address(int dirfd, const char *name, const char *path, struct sockaddr_un *sa,
                        socklen_t *len, hcs_error **err)
{
    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    int n;
    if (name[0] == '/' || dirfd == AT_FDCWD)
        n = snprintf(sa->sun_path, sizeof(sa->sun_path), "%s", name);
    else
        n = snprintf(sa->sun_path, sizeof(sa->sun_path), "/proc/self/fd/%d/%s", dirfd, name);
    if (n < 0 || (size_t)n >= sizeof(sa->sun_path)) {
        /* Explicit -1: the analyzer cannot see that hcs_err_set returns it (other file). */
        hcs_err_set(err, E_INVALIDARG,
                    "socket %s: the name \"%s\" is too long for a socket address", path, name);
        return -1;
    }
    *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + (size_t)n + 1);
    return 0;
}

/* --- connections ----------------------------------------------------------------------------- */

int hcs_rpc_listen(int dirfd, const char *name, int *out, hcs_error **err)
{
    *out = -1;
    if (check_location(dirfd, name, err) < 0)
        return -1;
    AUTOFREE char *path = display_path(dirfd, name);
    if (path == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "listen on %s: out of memory", name);
    struct sockaddr_un sa;
    socklen_t salen;
    if (make_address(dirfd, name, path, &sa, &salen, err) < 0)
        return hcs_err_wrap(err, "listen");

    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        if (!S_ISSOCK(st.st_mode))
            return hcs_err_set(err, hcs_hresult_from_errno(EEXIST),
                               "listen on %s: a file that is not a socket has that name; it is "
                               "left in place",
                               path);
        /*
         * A socket left behind by a process that died. The runtime folders are 0700 and the
         * store's lock makes one monitor per system, so nobody else swaps the file between the
         * check and the unlink.
         */
        if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
            return hcs_err_errno(err, errno, "listen on %s: remove the stale socket", path);
    } else if (errno != ENOENT) {
        return hcs_err_errno(err, errno, "listen on %s", path);
    }

    AUTOCLOSE int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return hcs_err_errno(err, errno, "listen on %s: create a socket", path);
    /* bind gives the file the socket inode's mode less the umask: never wider than 0600. */
    (void)fchmod(fd, 0600);
    if (bind(fd, (const struct sockaddr *)&sa, salen) < 0)
        return hcs_err_errno(err, errno, "listen on %s: bind", path);
    /* The umask may have taken bits of 0600 away; set the mode exactly. */
    if (fchmodat(dirfd, name, 0600, 0) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
        int e = errno;
        (void)unlinkat(dirfd, name, 0);
        return hcs_err_errno(err, e, "listen on %s", path);
    }
    *out = steal_fd(&fd);
    return 0;
}

int hcs_rpc_accept(int listen_fd, int *out, int *peer_pid, hcs_error **err)
{
    *out = -1;
    if (peer_pid != NULL)
        *peer_pid = 0;
    AUTOCLOSE int fd = -1;
    do
        fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
    while (fd < 0 && (errno == EINTR || errno == ECONNABORTED));
    if (fd < 0)
        return hcs_err_errno(err, errno, "accept a connection");

    struct ucred cred;
    socklen_t len = sizeof(cred);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
        return hcs_err_errno(err, errno, "accept a connection: read the peer's credentials");
    uid_t self = geteuid();
    if (cred.uid != 0 && cred.uid != self)
        return hcs_err_set(err, E_ACCESSDENIED,
                           "connection from uid %u refused (pid %d; only root and uid %u may "
                           "connect)",
                           (unsigned)cred.uid, (int)cred.pid, (unsigned)self);
    grow_send_buffer(fd);
    if (peer_pid != NULL)
        *peer_pid = (int)cred.pid;
    *out = steal_fd(&fd);
    return 0;
}

int hcs_rpc_connect(int dirfd, const char *name, int *out, hcs_error **err)
{
    *out = -1;
    if (check_location(dirfd, name, err) < 0)
        return -1;
    AUTOFREE char *path = display_path(dirfd, name);
    if (path == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "connect to %s: out of memory", name);
    struct sockaddr_un sa;
    socklen_t salen;
    if (make_address(dirfd, name, path, &sa, &salen, err) < 0)
        return hcs_err_wrap(err, "connect");
    for (;;) {
        AUTOCLOSE int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (fd < 0)
            return hcs_err_errno(err, errno, "connect to %s: create a socket", path);
        if (connect(fd, (const struct sockaddr *)&sa, salen) == 0) {
            grow_send_buffer(fd);
            *out = steal_fd(&fd);
            return 0;
        }
        int e = errno;
        if (e == EINTR)
            continue; /* the state of an interrupted connect is unclear: start over */
        if (e == ENOENT || e == ECONNREFUSED) {
            char buf[128];
            return hcs_err_set(err, HCS_E_CONNECT_FAILED, "connect to %s: %s", path,
                               errno_text(e, buf, sizeof(buf)));
        }
        return hcs_err_errno(err, e, "connect to %s", path);
    }
}

int hcs_rpc_pair(int fds[2], hcs_error **err)
{
    fds[0] = fds[1] = -1;
    int p[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, p) < 0)
        return hcs_err_errno(err, errno, "create a socket pair");
    grow_send_buffer(p[0]);
    grow_send_buffer(p[1]);
    fds[0] = p[0];
    fds[1] = p[1];
    return 0;
}

/* --- messages -------------------------------------------------------------------------------- */

/* "request \"Start\"", "event \"SystemExited\"", "reply" or "message", for error contexts. */
static void describe_message(const cJSON *msg, char *buf, size_t size)
{
    const cJSON *op = cJSON_GetObjectItemCaseSensitive(msg, "Op");
    const cJSON *ev = cJSON_GetObjectItemCaseSensitive(msg, "Event");
    if (cJSON_IsString(op))
        snprintf(buf, size, "request \"%.64s\"", op->valuestring);
    else if (cJSON_IsString(ev))
        snprintf(buf, size, "event \"%.64s\"", ev->valuestring);
    else if (cJSON_GetObjectItemCaseSensitive(msg, "Reply") != NULL)
        snprintf(buf, size, "reply");
    else
        snprintf(buf, size, "message");
}

int hcs_rpc_send(int fd, const cJSON *msg, const int *fds, size_t nfds, hcs_error **err)
{
    if (!cJSON_IsObject(msg))
        return hcs_err_set(err, E_INVALIDARG, "send a message: it is not a JSON object");
    char what[96];
    describe_message(msg, what, sizeof(what));
    if (nfds > HCS_RPC_MAX_FDS || (nfds > 0 && fds == NULL))
        return hcs_err_set(err, E_INVALIDARG, "send %s: %zu descriptors, at most %d may go along",
                           what, nfds, HCS_RPC_MAX_FDS);
    AUTOFREE char *text = hcs_json_print(msg);
    if (text == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "send %s: out of memory", what);
    size_t len = strlen(text);
    if (len > MAX_MESSAGE)
        return hcs_err_set(err, E_INVALIDARG, "send %s: %zu bytes, more than the limit of %d", what,
                           len, HCS_RPC_MAX_MESSAGE);

    struct iovec iov = {.iov_base = text, .iov_len = len};
    fd_control control;
    memset(&control, 0, sizeof(control));
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    if (nfds > 0) {
        mh.msg_control = control.buf;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
    }
    bool grown = false;
    for (;;) {
        ssize_t n = sendmsg(fd, &mh, MSG_NOSIGNAL);
        if (n >= 0) {
            if ((size_t)n != len) /* a seqpacket send is whole or fails; never expected */
                return hcs_err_set(err, HCS_E_PROTOCOL_ERROR,
                                   "send %s: only %zd of %zu bytes went out", what, n, len);
            return 0;
        }
        int e = errno;
        if (e == EINTR)
            continue;
        if (e == EMSGSIZE && !grown) {
            /* A socket this module did not make (or inherited with a small buffer). */
            grow_send_buffer(fd);
            grown = true;
            continue;
        }
        if (e == EPIPE || e == ECONNRESET || e == ECONNREFUSED || e == ENOTCONN)
            return hcs_err_set(err, HCS_E_CONNECTION_CLOSED,
                               "send %s: the peer closed the connection", what);
        if (e == EMSGSIZE)
            return hcs_err_errno(err, e,
                                 "send %s of %zu bytes: larger than the socket's send buffer "
                                 "(see net.core.wmem_max)",
                                 what, len);
        return hcs_err_errno(err, e, "send %s", what);
    }
}

int hcs_rpc_recv(int fd, cJSON **msg, int *fds, size_t *nfds, hcs_error **err)
{
    *msg = NULL;
    if (nfds != NULL)
        *nfds = 0;
    /* One byte more than the limit, so that a message over it is seen even without MSG_TRUNC. */
    AUTOFREE char *buf = malloc(MAX_MESSAGE + 1);
    if (buf == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "receive a message: out of memory");
    struct iovec iov = {.iov_base = buf, .iov_len = MAX_MESSAGE + 1};
    fd_control control;
    struct msghdr mh;
    ssize_t n;
    int resets = 0;
    for (;;) {
        memset(&mh, 0, sizeof(mh));
        mh.msg_iov = &iov;
        mh.msg_iovlen = 1;
        mh.msg_control = control.buf;
        mh.msg_controllen = sizeof(control.buf);
        n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
        if (n >= 0)
            break;
        if (errno == EINTR)
            continue;
        /*
         * The peer closed with our messages unread. The kernel reports that once, before the
         * messages the peer sent last (its final event, say): read on, and a close follows.
         */
        if (errno == ECONNRESET && resets++ == 0)
            continue;
        if (errno == ECONNRESET)
            return 0;
        return hcs_err_errno(err, errno, "receive a message");
    }

    int got[HCS_RPC_MAX_FDS];
    size_t ngot = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        const unsigned char *data = CMSG_DATA(c);
        for (size_t i = 0; i < count; i++) {
            int rfd;
            memcpy(&rfd, data + i * sizeof(int), sizeof(int));
            if (ngot < HCS_RPC_MAX_FDS)
                got[ngot++] = rfd;
            else
                close(rfd); /* cannot happen with a control buffer of this size */
        }
    }

    if (n == 0) {
        /* End of the connection (a zero-length datagram cannot be told apart; we never send one).
         */
        hcs_rpc_close_fds(got, ngot);
        return 0;
    }
    if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0 || (size_t)n > MAX_MESSAGE) {
        hcs_rpc_close_fds(got, ngot);
        return hcs_err_set(err, HCS_E_PROTOCOL_ERROR,
                           "receive a message: %s (at most %d bytes and %d descriptors)",
                           (mh.msg_flags & MSG_CTRUNC) != 0 ? "too many descriptors came along"
                                                            : "the message is too large",
                           HCS_RPC_MAX_MESSAGE, HCS_RPC_MAX_FDS);
    }

    AUTOERR hcs_error *perr = NULL;
    AUTOJSON cJSON *root = NULL;
    if (hcs_json_parse(buf, (size_t)n, "received message", &root, &perr) < 0) {
        hcs_rpc_close_fds(got, ngot);
        return hcs_err_set(err, HCS_E_PROTOCOL_ERROR, "%s",
                           perr != NULL ? perr->message : "received message: not valid JSON");
    }
    if (!cJSON_IsObject(root)) {
        hcs_rpc_close_fds(got, ngot);
        AUTOFREE char *what = hcs_json_describe(root);
        return hcs_err_set(err, HCS_E_PROTOCOL_ERROR,
                           "received message: expected a JSON object, got %s",
                           what != NULL ? what : "something else");
    }
    if (fds != NULL && nfds != NULL) {
        memcpy(fds, got, ngot * sizeof(int));
        *nfds = ngot;
    } else {
        hcs_rpc_close_fds(got, ngot);
    }
    *msg = steal_ptr(&root);
    return 0;
}

/* --- building messages ----------------------------------------------------------------------- */

cJSON *hcs_rpc_request(const char *op, uint64_t id)
{
    if (op == NULL)
        return NULL;
    AUTOJSON cJSON *m = cJSON_CreateObject();
    if (m == NULL || cJSON_AddStringToObject(m, "Op", op) == NULL ||
        hcs_json_add_u64(m, "Id", id) == NULL)
        return NULL;
    return steal_ptr(&m);
}

cJSON *hcs_rpc_reply(uint64_t id, HRESULT result, const char *error)
{
    AUTOJSON cJSON *m = cJSON_CreateObject();
    if (m == NULL || hcs_json_add_u64(m, "Reply", id) == NULL ||
        hcs_json_add_i64(m, "Result", result) == NULL)
        return NULL;
    if (error != NULL && cJSON_AddStringToObject(m, "Error", error) == NULL)
        return NULL;
    return steal_ptr(&m);
}

cJSON *hcs_rpc_event(const char *event)
{
    if (event == NULL)
        return NULL;
    AUTOJSON cJSON *m = cJSON_CreateObject();
    if (m == NULL || cJSON_AddStringToObject(m, "Event", event) == NULL)
        return NULL;
    return steal_ptr(&m);
}

/* --- reading fields -------------------------------------------------------------------------- */

/* An integer written as text: optional '-' (when allowed), then digits only. */
static int text_integer(const char *t, bool is_signed, uint64_t *u, int64_t *i)
{
    if (t == NULL)
        return -1;
    const char *d = t[0] == '-' ? t + 1 : t;
    if (d[0] == '\0' || strspn(d, "0123456789") != strlen(d))
        return -1;
    errno = 0;
    char *end = NULL;
    if (is_signed) {
        long long v = strtoll(t, &end, 10);
        if (errno != 0 || *end != '\0')
            return -1;
        *i = v;
    } else {
        if (t[0] == '-')
            return -1;
        unsigned long long v = strtoull(t, &end, 10);
        if (errno != 0 || *end != '\0')
            return -1;
        *u = v;
    }
    return 0;
}

/* 2^53: above it a double no longer holds every integer. */
#define EXACT_DOUBLE_LIMIT 9007199254740992.0

/*
 * Read an integer node exactly: a number parsed by hcs_json_parse (its source text), a raw node
 * made by hcs_json_add_u64/i64 (a message built here and not sent), or a number made by
 * cJSON_CreateNumber when the double holds the integer exactly.
 */
static int node_integer(const cJSON *n, bool is_signed, uint64_t *u, int64_t *i)
{
    if (cJSON_IsRaw(n))
        return text_integer(n->valuestring, is_signed, u, i);
    if (!cJSON_IsNumber(n))
        return -1;
    if (hcs_json_number_text(n) != NULL)
        return is_signed ? hcs_json_i64(n, i) : hcs_json_u64(n, u);
    double d = n->valuedouble;
    if (!(d >= (is_signed ? -EXACT_DOUBLE_LIMIT : 0) && d <= EXACT_DOUBLE_LIMIT))
        return -1; /* NaN fails too */
    int64_t v = (int64_t)d;
    if ((double)v != d)
        return -1;
    if (is_signed)
        *i = v;
    else
        *u = (uint64_t)v;
    return 0;
}

static const cJSON *get_field(const cJSON *msg, const char *field, const char *expected,
                              hcs_error **err)
{
    const cJSON *f = cJSON_IsObject(msg) ? cJSON_GetObjectItemCaseSensitive(msg, field) : NULL;
    if (f == NULL)
        hcs_err_set(err, HCS_E_PROTOCOL_ERROR, "message field \"%s\" is missing (expected %s)",
                    field, expected);
    return f;
}

static int wrong_field(const cJSON *f, const char *field, const char *expected, hcs_error **err)
{
    AUTOFREE char *got = cJSON_IsRaw(f) ? strdup(f->valuestring) : hcs_json_describe(f);
    hcs_err_set(err, HCS_E_PROTOCOL_ERROR, "message field \"%s\": expected %s, got %s", field,
                expected, got != NULL ? got : "something else");
    return -1; /* explicit for the analyzer, as in make_address */
}

int hcs_rpc_get_u64(const cJSON *msg, const char *field, uint64_t *out, hcs_error **err)
{
    static const char expected[] = "an unsigned 64-bit integer";
    const cJSON *f = get_field(msg, field, expected, err);
    if (f == NULL)
        return -1;
    int64_t unused;
    if (node_integer(f, false, out, &unused) < 0)
        return wrong_field(f, field, expected, err);
    return 0;
}

int hcs_rpc_get_i64(const cJSON *msg, const char *field, int64_t *out, hcs_error **err)
{
    static const char expected[] = "a signed 64-bit integer";
    const cJSON *f = get_field(msg, field, expected, err);
    if (f == NULL)
        return -1;
    uint64_t unused;
    if (node_integer(f, true, &unused, out) < 0)
        return wrong_field(f, field, expected, err);
    return 0;
}

int hcs_rpc_get_string(const cJSON *msg, const char *field, const char **out, hcs_error **err)
{
    static const char expected[] = "a string";
    const cJSON *f = get_field(msg, field, expected, err);
    if (f == NULL)
        return -1;
    if (!cJSON_IsString(f))
        return wrong_field(f, field, expected, err);
    *out = f->valuestring;
    return 0;
}

int hcs_rpc_get_reply(const cJSON *msg, uint64_t *id, HRESULT *result, const char **error,
                      hcs_error **err)
{
    uint64_t reply_id = 0;
    int64_t r = 0;
    const char *text = NULL;
    if (hcs_rpc_get_u64(msg, "Reply", &reply_id, err) < 0 ||
        hcs_rpc_get_i64(msg, "Result", &r, err) < 0)
        return -1;
    if (r < INT32_MIN || r > INT32_MAX)
        return hcs_err_set(err, HCS_E_PROTOCOL_ERROR,
                           "message field \"Result\": expected an HRESULT (32-bit), got %" PRId64,
                           r);
    if (cJSON_GetObjectItemCaseSensitive(msg, "Error") != NULL &&
        hcs_rpc_get_string(msg, "Error", &text, err) < 0)
        return -1;
    *id = reply_id;
    *result = (HRESULT)r;
    if (error != NULL)
        *error = text;
    return 0;
}
