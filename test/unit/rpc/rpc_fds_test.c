/* rpc_fds_test.c - descriptors passed along with messages. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "hcs_test.h"
#include "rpc_fixture.h"

/* Three pipes: read ends in rd[], write ends in wr[]. */
static void three_pipes(int rd[3], int wr[3])
{
    for (int i = 0; i < 3; i++) {
        int p[2];
        ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
        rd[i] = p[0];
        wr[i] = p[1];
    }
}

START_TEST(fds__three_pipes_arrive_and_work_on_the_other_side)
{
    AUTOCLOSE int a = -1, b = -1;
    int p[2];
    rpc_pair(p);
    a = p[0];
    b = p[1];
    int rd[3], wr[3];
    three_pipes(rd, wr);
    AUTOJSON cJSON *req = hcs_rpc_request("CreateProcess", 3);
    rpc_send_ok(a, req, wr, 3);
    /* The sender keeps its copies; closing them leaves the passed ones open. */
    hcs_rpc_close_fds(wr, 3);

    int got[HCS_RPC_MAX_FDS];
    size_t n = 0;
    AUTOJSON cJSON *m = rpc_recv_ok(b, got, &n);
    ck_assert_uint_eq(n, 3);
    for (int i = 0; i < 3; i++) {
        char c = (char)('0' + i);
        ck_assert_int_eq(write(got[i], &c, 1), 1);
    }
    hcs_rpc_close_fds(got, n);
    for (int i = 0; i < 3; i++) {
        char c = 0;
        ck_assert_int_eq(read(rd[i], &c, 1), 1);
        ck_assert_int_eq(c, '0' + i); /* in the order sent */
        ck_assert_int_eq(read(rd[i], &c, 1), 0);
    }
    hcs_rpc_close_fds(rd, 3);
}
END_TEST

START_TEST(fds__the_receiver_does_not_take_are_closed)
{
    AUTOCLOSE int a = -1, b = -1;
    int p[2];
    rpc_pair(p);
    a = p[0];
    b = p[1];
    int rd[3], wr[3];
    three_pipes(rd, wr);
    AUTOJSON cJSON *ev = hcs_rpc_event("WithFds");
    rpc_send_ok(a, ev, wr, 3);
    hcs_rpc_close_fds(wr, 3);
    int before = rpc_count_fds();
    /* No room given: all three are closed, so no write end of any pipe is left anywhere. */
    AUTOJSON cJSON *m = rpc_recv_ok(b, NULL, NULL);
    ck_assert_int_eq(rpc_count_fds(), before);
    for (int i = 0; i < 3; i++)
        ck_assert_msg(rpc_pipe_writers_gone(rd[i]), "pipe %d still has a writer", i);
    hcs_rpc_close_fds(rd, 3);
}
END_TEST

START_TEST(fds__more_than_the_limit_from_a_raw_peer_are_all_closed)
{
    AUTOCLOSE int a = -1, b = -1;
    int p[2];
    rpc_pair(p);
    a = p[0];
    b = p[1];
    int pp[2];
    ck_assert_int_eq(pipe2(pp, O_CLOEXEC), 0);
    AUTOCLOSE int rd = pp[0];
    int many[HCS_RPC_MAX_FDS + 2];
    for (size_t i = 0; i < HCS_ARRAY_SIZE(many); i++)
        many[i] = pp[1];
    rpc_send_raw(a, "{}", 2, many, HCS_ARRAY_SIZE(many));
    close(pp[1]);
    int before = rpc_count_fds();
    int got[HCS_RPC_MAX_FDS];
    size_t n = 99;
    cJSON *m = NULL;
    hcs_error *err = NULL;
    ck_assert_int_eq(hcs_rpc_recv(b, &m, got, &n, &err), -1);
    ck_assert_ptr_null(m);
    ck_assert_uint_eq(n, 0);
    AUTOFREE char *msg = rpc_take_error(err, HCS_E_PROTOCOL_ERROR);
    ck_assert_str_eq(msg, "receive a message: too many descriptors came along (at most 262144 "
                          "bytes and 8 descriptors)");
    ck_assert_int_eq(rpc_count_fds(), before);
    ck_assert(rpc_pipe_writers_gone(rd));
}
END_TEST

START_TEST(fds__received_are_close_on_exec)
{
    AUTOCLOSE int a = -1, b = -1;
    int p[2];
    rpc_pair(p);
    a = p[0];
    b = p[1];
    /* Sent without FD_CLOEXEC: the flag is the receiver's, set on arrival. */
    int pp[2];
    ck_assert_int_eq(pipe(pp), 0);
    ck_assert_int_eq(fcntl(pp[0], F_GETFD) & FD_CLOEXEC, 0);
    AUTOJSON cJSON *ev = hcs_rpc_event("Fds");
    rpc_send_ok(a, ev, pp, 2);
    hcs_rpc_close_fds(pp, 2);
    int got[HCS_RPC_MAX_FDS];
    size_t n = 0;
    AUTOJSON cJSON *m = rpc_recv_ok(b, got, &n);
    ck_assert_uint_eq(n, 2);
    for (size_t i = 0; i < n; i++) {
        int flags = fcntl(got[i], F_GETFD);
        ck_assert_int_ge(flags, 0);
        ck_assert_msg(flags & FD_CLOEXEC, "received descriptor %d is not close-on-exec", got[i]);
    }
    hcs_rpc_close_fds(got, n);
}
END_TEST

HCS_TEST_SUITE(rpc_fds_suite)
{
    Suite *s = suite_create("rpc_fds");
    TCase *tc = tcase_create("fds");
    tcase_add_checked_fixture(tc, rpc_setup, rpc_teardown);
    tcase_add_test(tc, fds__three_pipes_arrive_and_work_on_the_other_side);
    tcase_add_test(tc, fds__the_receiver_does_not_take_are_closed);
    tcase_add_test(tc, fds__more_than_the_limit_from_a_raw_peer_are_all_closed);
    tcase_add_test(tc, fds__received_are_close_on_exec);
    suite_add_tcase(s, tc);
    return s;
}
