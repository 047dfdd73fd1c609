/* rpc_fixture.c - helpers shared by the rpc unit tests. */
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "hcs_test.h"
#include "rpc_fixture.h"

static int fds_at_start;

int rpc_count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    ck_assert_ptr_nonnull(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* the directory's own descriptor */
}

void rpc_setup(void)
{
    hcs_test_roots_setup();
    fds_at_start = rpc_count_fds();
}

void rpc_teardown(void)
{
    int now = rpc_count_fds();
    hcs_test_roots_teardown();
    ck_assert_msg(now == fds_at_start, "%d descriptors open at the end, %d at the start", now,
                  fds_at_start);
}

int rpc_run_dir(void)
{
    AUTOFREE char *path = hcs_asprintf("%s/run", hcs_test_root());
    ck_assert_int_eq(hcs_mkdir_p(path, 0700, NULL), 0);
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ck_assert_int_ge(fd, 0);
    return fd;
}

void rpc_pair(int fds[2])
{
    hcs_error *err = NULL;
    int rc = hcs_rpc_pair(fds, &err);
    ck_assert_msg(rc == 0, "pair: %s", err ? err->message : "?");
}

void rpc_send_ok(int fd, const cJSON *msg, const int *fds, size_t nfds)
{
    hcs_error *err = NULL;
    int rc = hcs_rpc_send(fd, msg, fds, nfds, &err);
    ck_assert_msg(rc == 0, "send: %s", err ? err->message : "?");
    ck_assert_ptr_null(err);
}

cJSON *rpc_recv_ok(int fd, int *fds, size_t *nfds)
{
    hcs_error *err = NULL;
    cJSON *msg = NULL;
    int rc = hcs_rpc_recv(fd, &msg, fds, nfds, &err);
    ck_assert_msg(rc == 0, "recv: %s", err ? err->message : "?");
    ck_assert_ptr_null(err);
    ck_assert_ptr_nonnull(msg);
    return msg;
}

char *rpc_take_error(hcs_error *err, HRESULT want)
{
    ck_assert_ptr_nonnull(err);
    ck_assert_hr(err->hr, want);
    char *msg = strdup(err->message);
    hcs_err_free(err);
    return msg;
}

void rpc_send_raw(int fd, const void *data, size_t len, const int *desc, size_t ndesc)
{
    struct iovec iov = {.iov_base = (void *)(uintptr_t)data, .iov_len = len};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    AUTOFREE char *control = NULL;
    if (ndesc > 0) {
        control = calloc(1, CMSG_SPACE(sizeof(int) * ndesc));
        ck_assert_ptr_nonnull(control);
        mh.msg_control = control;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * ndesc);
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * ndesc);
        memcpy(CMSG_DATA(c), desc, sizeof(int) * ndesc);
    }
    ssize_t n = sendmsg(fd, &mh, MSG_NOSIGNAL);
    ck_assert_msg(n == (ssize_t)len, "raw send of %zu bytes: %zd", len, n);
}

int rpc_pipe_writers_gone(int read_end)
{
    struct pollfd p = {.fd = read_end, .events = POLLIN};
    ck_assert_int_ge(poll(&p, 1, 0), 0);
    return (p.revents & POLLHUP) != 0;
}
