/* rpc_socket_test.c - listening, connecting and accepting through a runtime folder. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "hcs_test.h"
#include "rpc_fixture.h"

static int listen_ok(int dirfd, const char *name)
{
    int fd = -1;
    hcs_error *err = NULL;
    int rc = hcs_rpc_listen(dirfd, name, &fd, &err);
    ck_assert_msg(rc == 0, "listen: %s", err ? err->message : "?");
    ck_assert_int_ge(fd, 0);
    return fd;
}

static int connect_ok(int dirfd, const char *name)
{
    int fd = -1;
    hcs_error *err = NULL;
    int rc = hcs_rpc_connect(dirfd, name, &fd, &err);
    ck_assert_msg(rc == 0, "connect: %s", err ? err->message : "?");
    return fd;
}

static int accept_ok(int lfd, int *pid)
{
    int fd = -1;
    hcs_error *err = NULL;
    int rc = hcs_rpc_accept(lfd, &fd, pid, &err);
    ck_assert_msg(rc == 0, "accept: %s", err ? err->message : "?");
    return fd;
}

/* Connect, accept, and send a request each way. */
static void round_trip(int dirfd, const char *name, int lfd)
{
    AUTOCLOSE int c = connect_ok(dirfd, name);
    int pid = 0;
    AUTOCLOSE int s = accept_ok(lfd, &pid);
    ck_assert_int_eq(pid, getpid());
    AUTOJSON cJSON *req = hcs_rpc_request("Ping", 1);
    rpc_send_ok(c, req, NULL, 0);
    AUTOJSON cJSON *got = rpc_recv_ok(s, NULL, NULL);
    AUTOJSON cJSON *rep = hcs_rpc_reply(1, S_OK, NULL);
    rpc_send_ok(s, rep, NULL, 0);
    AUTOJSON cJSON *got_rep = rpc_recv_ok(c, NULL, NULL);
    uint64_t id = 0;
    HRESULT hr = -1;
    ck_assert_int_eq(hcs_rpc_get_reply(got_rep, &id, &hr, NULL, NULL), 0);
    ck_assert_uint_eq(id, 1);
    ck_assert_hr(hr, S_OK);
}

static mode_t file_mode(int dirfd, const char *name)
{
    struct stat st;
    ck_assert_int_eq(fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW), 0);
    return st.st_mode;
}

START_TEST(listen__connect_and_accept_give_a_working_connection_and_the_peer_pid)
{
    AUTOCLOSE int dir = rpc_run_dir();
    AUTOCLOSE int lfd = listen_ok(dir, "ctl.sock");
    round_trip(dir, "ctl.sock", lfd);
    ck_assert_int_ne(fcntl(lfd, F_GETFD) & FD_CLOEXEC, 0);
}
END_TEST

START_TEST(listen__works_in_a_folder_whose_path_is_longer_than_108_bytes)
{
    AUTOFREE char *path = hcs_asprintf(
        "%s/run/%s/%s/%s", hcs_test_root(), "a-rather-long-folder-name-0123456789",
        "another-rather-long-folder-name-0123456789", "and-a-third-long-folder-name-0123456789");
    ck_assert_uint_gt(strlen(path) + strlen("/ctl.sock"), 108);
    ck_assert_int_eq(hcs_mkdir_p(path, 0700, NULL), 0);
    AUTOCLOSE int dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ck_assert_int_ge(dir, 0);
    AUTOCLOSE int lfd = listen_ok(dir, "ctl.sock");
    ck_assert(S_ISSOCK(file_mode(dir, "ctl.sock")));
    round_trip(dir, "ctl.sock", lfd);
}
END_TEST

START_TEST(listen__a_name_too_long_even_for_the_short_address_is_invalid)
{
    AUTOCLOSE int dir = rpc_run_dir();
    char name[120];
    memset(name, 'n', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    int fd = 7;
    hcs_error *err = NULL;
    ck_assert_int_eq(hcs_rpc_listen(dir, name, &fd, &err), -1);
    ck_assert_int_eq(fd, -1);
    AUTOFREE char *msg = rpc_take_error(err, E_INVALIDARG);
    ck_assert_contains(msg, "is too long for a socket address");
    ck_assert_int_eq(faccessat(dir, name, F_OK, AT_SYMLINK_NOFOLLOW), -1);
}
END_TEST

START_TEST(listen__replaces_a_stale_socket)
{
    AUTOCLOSE int dir = rpc_run_dir();
    /* A monitor that died leaves its socket file; nothing listens on it any more. */
    close(listen_ok(dir, "ctl.sock"));
    ck_assert(S_ISSOCK(file_mode(dir, "ctl.sock")));
    AUTOCLOSE int lfd = listen_ok(dir, "ctl.sock");
    round_trip(dir, "ctl.sock", lfd);
}
END_TEST

START_TEST(listen__refuses_to_replace_a_file_that_is_not_a_socket)
{
    AUTOCLOSE int dir = rpc_run_dir();
    AUTOCLOSE int f = openat(dir, "ctl.sock", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    ck_assert_int_ge(f, 0);
    ck_assert_int_eq(write(f, "keep", 4), 4);
    ck_assert_int_eq(symlinkat("ctl.sock", dir, "link.sock"), 0);
    ck_assert_int_eq(mkdirat(dir, "dir.sock", 0700), 0);
    const char *names[] = {"ctl.sock", "link.sock", "dir.sock"};
    for (size_t i = 0; i < HCS_ARRAY_SIZE(names); i++) {
        int fd = 7;
        hcs_error *err = NULL;
        ck_assert_int_eq(hcs_rpc_listen(dir, names[i], &fd, &err), -1);
        ck_assert_int_eq(fd, -1);
        AUTOFREE char *msg = rpc_take_error(err, HCS_E_ALREADY_EXISTS);
        AUTOFREE char *want =
            hcs_asprintf("listen on %s/run/%s: a file that is not a socket has that name; it is "
                         "left in place",
                         hcs_test_root(), names[i]);
        ck_assert_str_eq(msg, want);
    }
    ck_assert(S_ISREG(file_mode(dir, "ctl.sock")));
    ck_assert(S_ISLNK(file_mode(dir, "link.sock")));
    ck_assert(S_ISDIR(file_mode(dir, "dir.sock")));
    char buf[8] = {0};
    ck_assert_int_eq(pread(f, buf, sizeof(buf), 0), -1); /* write-only: check by reopening */
    AUTOCLOSE int r = openat(dir, "ctl.sock", O_RDONLY | O_CLOEXEC);
    ck_assert_int_eq(read(r, buf, sizeof(buf)), 4);
    ck_assert_str_eq(buf, "keep");
}
END_TEST

START_TEST(listen__the_socket_file_mode_is_0600_whatever_the_umask)
{
    AUTOCLOSE int dir = rpc_run_dir();
    mode_t umasks[] = {0, 022, 0277};
    for (size_t i = 0; i < HCS_ARRAY_SIZE(umasks); i++) {
        mode_t old = umask(umasks[i]);
        int lfd = listen_ok(dir, "ctl.sock");
        umask(old);
        mode_t m = file_mode(dir, "ctl.sock");
        ck_assert(S_ISSOCK(m));
        ck_assert_msg((m & 07777) == 0600, "umask %03o: mode %04o", (unsigned)umasks[i],
                      (unsigned)(m & 07777));
        close(lfd);
    }
}
END_TEST

START_TEST(connect__a_missing_or_dead_socket_is_connect_failed_naming_the_path)
{
    AUTOCLOSE int dir = rpc_run_dir();
    int fd = 7;
    hcs_error *err = NULL;
    ck_assert_int_eq(hcs_rpc_connect(dir, "missing.sock", &fd, &err), -1);
    ck_assert_int_eq(fd, -1);
    AUTOFREE char *msg = rpc_take_error(err, HCS_E_CONNECT_FAILED);
    AUTOFREE char *want =
        hcs_asprintf("connect to %s/run/missing.sock: No such file or directory", hcs_test_root());
    ck_assert_str_eq(msg, want);

    close(listen_ok(dir, "dead.sock")); /* the file stays, nobody listens */
    err = NULL;
    ck_assert_int_eq(hcs_rpc_connect(dir, "dead.sock", &fd, &err), -1);
    AUTOFREE char *msg2 = rpc_take_error(err, HCS_E_CONNECT_FAILED);
    AUTOFREE char *want2 =
        hcs_asprintf("connect to %s/run/dead.sock: Connection refused", hcs_test_root());
    ck_assert_str_eq(msg2, want2);
}
END_TEST

START_TEST(accept__refuses_a_peer_of_another_uid)
{
    AUTOCLOSE int dir = rpc_run_dir();
    AUTOCLOSE int lfd = listen_ok(dir, "ctl.sock");
    /*
     * Let uid 65534 reach the socket: the child goes through /proc/self/fd/<dir>, which skips
     * the 0700 folders above; the folder and the socket itself must let it in.
     */
    ck_assert_int_eq(fchmod(dir, 0711), 0);
    ck_assert_int_eq(fchmodat(dir, "ctl.sock", 0666, 0), 0);
    pid_t child = fork();
    ck_assert_int_ge(child, 0);
    if (child == 0) {
        /* SO_PEERCRED records the credentials at connect, so they change before it. */
        if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
            _exit(2);
        (void)prctl(PR_SET_DUMPABLE, 1);
        int c = -1;
        if (hcs_rpc_connect(dir, "ctl.sock", &c, NULL) < 0)
            _exit(3);
        cJSON *m = NULL;
        /* The server closes the connection: an orderly close. */
        if (hcs_rpc_recv(c, &m, NULL, NULL, NULL) < 0 || m != NULL)
            _exit(4);
        _exit(0);
    }
    int fd = 7, pid = 7;
    hcs_error *err = NULL;
    ck_assert_int_eq(hcs_rpc_accept(lfd, &fd, &pid, &err), -1);
    ck_assert_int_eq(fd, -1);
    ck_assert_int_eq(pid, 0);
    AUTOFREE char *msg = rpc_take_error(err, E_ACCESSDENIED);
    AUTOFREE char *want =
        hcs_asprintf("connection from uid 65534 refused (pid %d; only root and uid %u may connect)",
                     (int)child, (unsigned)geteuid());
    ck_assert_str_eq(msg, want);
    int status = 0;
    ck_assert_int_eq(waitpid(child, &status, 0), child);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
}
END_TEST

HCS_TEST_SUITE(rpc_socket_suite)
{
    Suite *s = suite_create("rpc_socket");
    TCase *tc = tcase_create("socket");
    tcase_add_checked_fixture(tc, rpc_setup, rpc_teardown);
    tcase_add_test(tc, listen__connect_and_accept_give_a_working_connection_and_the_peer_pid);
    tcase_add_test(tc, listen__works_in_a_folder_whose_path_is_longer_than_108_bytes);
    tcase_add_test(tc, listen__a_name_too_long_even_for_the_short_address_is_invalid);
    tcase_add_test(tc, listen__replaces_a_stale_socket);
    tcase_add_test(tc, listen__refuses_to_replace_a_file_that_is_not_a_socket);
    tcase_add_test(tc, listen__the_socket_file_mode_is_0600_whatever_the_umask);
    tcase_add_test(tc, connect__a_missing_or_dead_socket_is_connect_failed_naming_the_path);
    if (geteuid() == 0)
        tcase_add_test(tc, accept__refuses_a_peer_of_another_uid);
    else
        hcs_test_skip("accept__refuses_a_peer_of_another_uid",
                      "needs root to connect as another uid (65534)");
    suite_add_tcase(s, tc);
    return s;
}
