/* rpc_message_test.c - messages over a connected pair: content, boundaries, limits, closes. */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/json.h"
#include "hcs_test.h"
#include "rpc_fixture.h"

static cJSON *parse(const char *text)
{
    cJSON *j = NULL;
    hcs_error *err = NULL;
    int rc = hcs_json_parse(text, strlen(text), "test", &j, &err);
    ck_assert_msg(rc == 0, "%s", err ? err->message : "?");
    return j;
}

START_TEST(message__round_trip_keeps_nested_objects_and_64_bit_integers)
{
    AUTOCLOSE int a = -1, b = -1;
    int p[2];
    rpc_pair(p);
    a = p[0];
    b = p[1];
    static const char text[] =
        "{\"Op\":\"Nested\",\"Id\":18446744073709551615,\"Min\":-9223372036854775808,"
        "\"Deep\":{\"A\":[1,{\"B\":18446744073709551614}],\"S\":\"\xc3\xa9\\n\\\"q\\\"\"},"
        "\"F\":1.5,\"T\":true,\"N\":null}";
    AUTOJSON cJSON *sent = parse(text);
    rpc_send_ok(a, sent, NULL, 0);
    AUTOJSON cJSON *got = rpc_recv_ok(b, NULL, NULL);

    AUTOFREE char *printed = hcs_json_print(got);
    ck_assert_str_eq(printed, text);
    uint64_t id = 0;
    ck_assert_int_eq(hcs_rpc_get_u64(got, "Id", &id, NULL), 0);
    ck_assert_uint_eq(id, UINT64_MAX);
    int64_t min = 0;
    ck_assert_int_eq(hcs_rpc_get_i64(got, "Min", &min, NULL), 0);
    ck_assert(min == INT64_MIN);
    const cJSON *deep = cJSON_GetObjectItemCaseSensitive(got, "Deep");
    const cJSON *inner = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(deep, "A"), 1);
    ck_assert_int_eq(hcs_rpc_get_u64(inner, "B", &id, NULL), 0);
    ck_assert_uint_eq(id, UINT64_MAX - 1);
    const char *s = NULL;
    ck_assert_int_eq(hcs_rpc_get_string(deep, "S", &s, NULL), 0);
    ck_assert_str_eq(s, "\xc3\xa9\n\"q\"");

    /* A request built here (its Id a raw node) arrives with every digit as well. */
    AUTOJSON cJSON *req = hcs_rpc_request("Start", UINT64_MAX);
    rpc_send_ok(a, req, NULL, 0);
    AUTOJSON cJSON *req_got = rpc_recv_ok(b, NULL, NULL);
    AUTOFREE char *req_text = hcs_json_print(req_got);
    ck_assert_str_eq(req_text, "{\"Op\":\"Start\",\"Id\":18446744073709551615}");
}
END_TEST

enum { BOUNDARY_COUNT = 100, PAD_STEP = 20 };

/* Sends the 100 messages from a thread: they need not all fit in the socket buffer at once. */
static void *send_hundred(void *arg)
{
    int fd = *(const int *)arg;
    for (uint64_t i = 0; i < BOUNDARY_COUNT; i++) {
        AUTOJSON cJSON *m = hcs_rpc_request("Msg", i);
        AUTOFREE char *pad = malloc(i * PAD_STEP + 1);
        if (m == NULL || pad == NULL)
            return (void *)"out of memory";
        memset(pad, 'a' + (int)(i % 26), i * PAD_STEP);
        pad[i * PAD_STEP] = '\0';
        if (cJSON_AddStringToObject(m, "Pad", pad) == NULL ||
            hcs_rpc_send(fd, m, NULL, 0, NULL) < 0)
            return (void *)"send failed";
    }
    return NULL;
}

START_TEST(message__boundaries_and_order_are_kept_for_100_messages)
{
    AUTOCLOSE int a = -1, b = -1;
    int p[2];
    rpc_pair(p);
    a = p[0];
    b = p[1];
    pthread_t sender;
    ck_assert_int_eq(pthread_create(&sender, NULL, send_hundred, &a), 0);
    for (uint64_t i = 0; i < BOUNDARY_COUNT; i++) {
        AUTOJSON cJSON *m = rpc_recv_ok(b, NULL, NULL);
        uint64_t id = UINT64_MAX;
        ck_assert_int_eq(hcs_rpc_get_u64(m, "Id", &id, NULL), 0);
        ck_assert_uint_eq(id, i);
        const char *pad = NULL;
        ck_assert_int_eq(hcs_rpc_get_string(m, "Pad", &pad, NULL), 0);
        ck_assert_uint_eq(strlen(pad), i * PAD_STEP);
        ck_assert(strspn(pad, (char[]){(char)('a' + (int)(i % 26)), '\0'}) == i * PAD_STEP);
    }
    void *failure = NULL;
    ck_assert_int_eq(pthread_join(sender, &failure), 0);
    ck_assert_msg(failure == NULL, "sender: %s", (const char *)failure);
}
END_TEST

/* {"S":"xxx..."} printed in exactly len bytes. */
static cJSON *message_of_size(size_t len)
{
    size_t n = len - strlen("{\"S\":\"\"}");
    AUTOFREE char *s = malloc(n + 1);
    memset(s, 'x', n);
    s[n] = '\0';
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "S", s);
    return m;
}

START_TEST(send__refuses_a_message_over_the_limit_and_takes_one_at_it)
{
    AUTOCLOSE int a = -1, b = -1;
    int p[2];
    rpc_pair(p);
    a = p[0];
    b = p[1];
    AUTOJSON cJSON *at_limit = message_of_size(HCS_RPC_MAX_MESSAGE);
    rpc_send_ok(a, at_limit, NULL, 0);
    AUTOJSON cJSON *got = rpc_recv_ok(b, NULL, NULL);
    const char *s = NULL;
    ck_assert_int_eq(hcs_rpc_get_string(got, "S", &s, NULL), 0);
    ck_assert_uint_eq(strlen(s), HCS_RPC_MAX_MESSAGE - 8);

    AUTOJSON cJSON *over = message_of_size(HCS_RPC_MAX_MESSAGE + 1);
    hcs_error *err = NULL;
    ck_assert_int_eq(hcs_rpc_send(a, over, NULL, 0, &err), -1);
    AUTOFREE char *msg = rpc_take_error(err, E_INVALIDARG);
    ck_assert_str_eq(msg, "send message: 262145 bytes, more than the limit of 262144");
}
END_TEST

START_TEST(recv__a_datagram_over_the_limit_is_a_protocol_error)
{
    AUTOCLOSE int a = -1, b = -1;
    int p[2];
    rpc_pair(p);
    a = p[0];
    b = p[1];
    /* A peer that does not use hcs_rpc_send: one byte over, and far over (truncated). */
    size_t sizes[] = {HCS_RPC_MAX_MESSAGE + 1, HCS_RPC_MAX_MESSAGE + 4096};
    for (size_t i = 0; i < HCS_ARRAY_SIZE(sizes); i++) {
        AUTOFREE char *raw = malloc(sizes[i]);
        memset(raw, ' ', sizes[i]);
        raw[0] = '{';
        raw[sizes[i] - 1] = '}';
        rpc_send_raw(a, raw, sizes[i], NULL, 0);
        cJSON *m = (cJSON *)(uintptr_t)1;
        hcs_error *err = NULL;
        ck_assert_int_eq(hcs_rpc_recv(b, &m, NULL, NULL, &err), -1);
        ck_assert_ptr_null(m);
        AUTOFREE char *msg = rpc_take_error(err, HCS_E_PROTOCOL_ERROR);
        ck_assert_str_eq(msg, "receive a message: the message is too large (at most 262144 bytes "
                              "and 8 descriptors)");
    }
    /* The connection is still usable. */
    AUTOJSON cJSON *ev = hcs_rpc_event("Ping");
    rpc_send_ok(a, ev, NULL, 0);
    AUTOJSON cJSON *got = rpc_recv_ok(b, NULL, NULL);
    ck_assert_ptr_nonnull(cJSON_GetObjectItemCaseSensitive(got, "Event"));
}
END_TEST

START_TEST(recv__a_datagram_that_is_not_a_json_object_is_a_protocol_error)
{
    AUTOCLOSE int a = -1, b = -1;
    int p[2];
    rpc_pair(p);
    a = p[0];
    b = p[1];
    static const char garbage[] = "not json";
    ck_assert_int_eq(send(a, garbage, strlen(garbage), 0), (ssize_t)strlen(garbage));
    cJSON *m = NULL;
    int fds[HCS_RPC_MAX_FDS];
    size_t nfds = 99;
    hcs_error *err = NULL;
    ck_assert_int_eq(hcs_rpc_recv(b, &m, fds, &nfds, &err), -1);
    ck_assert_ptr_null(m);
    ck_assert_uint_eq(nfds, 0);
    AUTOFREE char *msg = rpc_take_error(err, HCS_E_PROTOCOL_ERROR);
    ck_assert_str_eq(msg,
                     "received message: not valid JSON at line 1, column 1 (near \"not json\")");

    /* Valid JSON that is not an object, with a descriptor along: refused, the descriptor closed. */
    int pipe_fds[2];
    ck_assert_int_eq(pipe2(pipe_fds, O_CLOEXEC), 0);
    AUTOCLOSE int rd = pipe_fds[0];
    rpc_send_raw(a, "[1,2]", 5, &pipe_fds[1], 1);
    close(pipe_fds[1]);
    err = NULL;
    ck_assert_int_eq(hcs_rpc_recv(b, &m, fds, &nfds, &err), -1);
    ck_assert_ptr_null(m);
    ck_assert_uint_eq(nfds, 0);
    AUTOFREE char *msg2 = rpc_take_error(err, HCS_E_PROTOCOL_ERROR);
    ck_assert_str_eq(msg2, "received message: expected a JSON object, got an array");
    ck_assert(rpc_pipe_writers_gone(rd));
}
END_TEST

START_TEST(recv__an_orderly_close_gives_a_null_message)
{
    AUTOCLOSE int b = -1;
    int p[2];
    rpc_pair(p);
    b = p[1];
    close(p[0]);
    cJSON *m = (cJSON *)(uintptr_t)1;
    size_t nfds = 99;
    int fds[HCS_RPC_MAX_FDS];
    hcs_error *err = NULL;
    ck_assert_int_eq(hcs_rpc_recv(b, &m, fds, &nfds, &err), 0);
    ck_assert_ptr_null(m);
    ck_assert_ptr_null(err);
    ck_assert_uint_eq(nfds, 0);
    /* And again: a closed connection stays closed. */
    ck_assert_int_eq(hcs_rpc_recv(b, &m, NULL, NULL, &err), 0);
    ck_assert_ptr_null(m);
}
END_TEST

START_TEST(recv__a_reset_with_unread_data_reads_as_a_close)
{
    AUTOCLOSE int a = -1, b = -1;
    int p[2];
    rpc_pair(p);
    a = p[0];
    b = p[1];
    /*
     * b sends its last event and closes with a's message unread (a monitor that exits): a still
     * reads that event, then the end of the connection.
     */
    AUTOJSON cJSON *ev = hcs_rpc_event("Unread");
    rpc_send_ok(b, ev, NULL, 0);
    AUTOJSON cJSON *ev2 = hcs_rpc_event("Unread2");
    rpc_send_ok(a, ev2, NULL, 0);
    close(steal_fd(&b));
    AUTOJSON cJSON *last = rpc_recv_ok(a, NULL, NULL);
    const char *name = NULL;
    ck_assert_int_eq(hcs_rpc_get_string(last, "Event", &name, NULL), 0);
    ck_assert_str_eq(name, "Unread");
    cJSON *m = (cJSON *)(uintptr_t)1;
    hcs_error *err = NULL;
    ck_assert_int_eq(hcs_rpc_recv(a, &m, NULL, NULL, &err), 0);
    ck_assert_ptr_null(m);
    ck_assert_ptr_null(err);
}
END_TEST

START_TEST(send__to_a_closed_peer_is_connection_closed_without_sigpipe)
{
    /*
     * With the default action a SIGPIPE would end this test. (Linux raises it for stream sockets
     * and not, as of 6.x, for seqpacket ones; MSG_NOSIGNAL makes sure either way.)
     */
    ck_assert(signal(SIGPIPE, SIG_DFL) != SIG_ERR);
    AUTOCLOSE int a = -1;
    int p[2];
    rpc_pair(p);
    a = p[0];
    close(p[1]);
    AUTOJSON cJSON *req = hcs_rpc_request("Start", 1);
    hcs_error *err = NULL;
    ck_assert_int_eq(hcs_rpc_send(a, req, NULL, 0, &err), -1);
    AUTOFREE char *msg = rpc_take_error(err, HCS_E_CONNECTION_CLOSED);
    ck_assert_str_eq(msg, "send request \"Start\": the peer closed the connection");
}
END_TEST

START_TEST(send__refuses_what_is_not_an_object_and_too_many_descriptors)
{
    AUTOCLOSE int a = -1, b = -1;
    int p[2];
    rpc_pair(p);
    a = p[0];
    b = p[1];
    AUTOJSON cJSON *arr = cJSON_CreateArray();
    hcs_error *err = NULL;
    ck_assert_int_eq(hcs_rpc_send(a, arr, NULL, 0, &err), -1);
    AUTOFREE char *m1 = rpc_take_error(err, E_INVALIDARG);
    ck_assert_str_eq(m1, "send a message: it is not a JSON object");

    int fds[HCS_RPC_MAX_FDS + 1];
    for (size_t i = 0; i < HCS_ARRAY_SIZE(fds); i++)
        fds[i] = a;
    AUTOJSON cJSON *ev = hcs_rpc_event("Many");
    err = NULL;
    ck_assert_int_eq(hcs_rpc_send(a, ev, fds, HCS_ARRAY_SIZE(fds), &err), -1);
    AUTOFREE char *m2 = rpc_take_error(err, E_INVALIDARG);
    ck_assert_str_eq(m2, "send event \"Many\": 9 descriptors, at most 8 may go along");
    err = NULL;
    ck_assert_int_eq(hcs_rpc_send(a, ev, NULL, 1, &err), -1);
    free(rpc_take_error(err, E_INVALIDARG));
}
END_TEST

START_TEST(build__request_reply_and_event_have_the_documented_shape)
{
    AUTOJSON cJSON *req = hcs_rpc_request("Pause", 7);
    AUTOJSON cJSON *ok = hcs_rpc_reply(7, S_OK, NULL);
    AUTOJSON cJSON *failed = hcs_rpc_reply(UINT64_MAX, HCS_E_CONNECT_FAILED, "no \"monitor\"");
    AUTOJSON cJSON *ev = hcs_rpc_event("SystemExited");
    AUTOFREE char *t1 = hcs_json_print(req);
    AUTOFREE char *t2 = hcs_json_print(ok);
    AUTOFREE char *t3 = hcs_json_print(failed);
    AUTOFREE char *t4 = hcs_json_print(ev);
    ck_assert_str_eq(t1, "{\"Op\":\"Pause\",\"Id\":7}");
    ck_assert_str_eq(t2, "{\"Reply\":7,\"Result\":0}");
    ck_assert_str_eq(t3, "{\"Reply\":18446744073709551615,\"Result\":-2143878904,"
                         "\"Error\":\"no \\\"monitor\\\"\"}");
    ck_assert_str_eq(t4, "{\"Event\":\"SystemExited\"}");
    ck_assert_ptr_null(hcs_rpc_request(NULL, 1));
    ck_assert_ptr_null(hcs_rpc_event(NULL));

    /* Replies read back, built here or received. */
    uint64_t id = 0;
    HRESULT hr = 0;
    const char *error = "unset";
    ck_assert_int_eq(hcs_rpc_get_reply(failed, &id, &hr, &error, NULL), 0);
    ck_assert_uint_eq(id, UINT64_MAX);
    ck_assert_hr(hr, HCS_E_CONNECT_FAILED);
    ck_assert_str_eq(error, "no \"monitor\"");
    AUTOCLOSE int a = -1, b = -1;
    int p[2];
    rpc_pair(p);
    a = p[0];
    b = p[1];
    rpc_send_ok(a, ok, NULL, 0);
    AUTOJSON cJSON *got = rpc_recv_ok(b, NULL, NULL);
    ck_assert_int_eq(hcs_rpc_get_reply(got, &id, &hr, &error, NULL), 0);
    ck_assert_uint_eq(id, 7);
    ck_assert_hr(hr, S_OK);
    ck_assert_ptr_null(error);
}
END_TEST

/* The message of reading field from the JSON text, which must fail with a protocol error. */
static char *field_error(const char *text, const char *field, char kind)
{
    AUTOJSON cJSON *m = parse(text);
    hcs_error *err = NULL;
    uint64_t u = 42;
    int64_t i = 42;
    const char *s = "unset";
    HRESULT hr = 42;
    int rc = kind == 'u'   ? hcs_rpc_get_u64(m, field, &u, &err)
             : kind == 'i' ? hcs_rpc_get_i64(m, field, &i, &err)
             : kind == 's' ? hcs_rpc_get_string(m, field, &s, &err)
                           : hcs_rpc_get_reply(m, &u, &hr, &s, &err);
    ck_assert_int_eq(rc, -1);
    /* Outputs untouched on failure. */
    ck_assert_uint_eq(u, 42);
    ck_assert_int_eq(i, 42);
    ck_assert_str_eq(s, "unset");
    ck_assert_int_eq(hr, 42);
    return rpc_take_error(err, HCS_E_PROTOCOL_ERROR);
}

START_TEST(get__errors_name_the_field_and_what_came)
{
    struct {
        const char *text, *field;
        char kind;
        const char *want;
    } cases[] = {
        {"{}", "Id", 'u', "message field \"Id\" is missing (expected an unsigned 64-bit integer)"},
        {"{\"Id\":\"7\"}", "Id", 'u',
         "message field \"Id\": expected an unsigned 64-bit integer, got \"7\""},
        {"{\"Id\":-1}", "Id", 'u',
         "message field \"Id\": expected an unsigned 64-bit integer, got -1"},
        {"{\"Id\":18446744073709551616}", "Id", 'u',
         "message field \"Id\": expected an unsigned 64-bit integer, got 18446744073709551616"},
        {"{\"Id\":1.5}", "Id", 'u',
         "message field \"Id\": expected an unsigned 64-bit integer, got 1.5"},
        {"{\"N\":9223372036854775808}", "N", 'i',
         "message field \"N\": expected a signed 64-bit integer, got 9223372036854775808"},
        {"{\"S\":null}", "S", 's', "message field \"S\": expected a string, got null"},
        {"{\"Reply\":1,\"Result\":2147483648}", NULL, 'r',
         "message field \"Result\": expected an HRESULT (32-bit), got 2147483648"},
        {"{\"Reply\":1,\"Result\":0,\"Error\":5}", NULL, 'r',
         "message field \"Error\": expected a string, got 5"},
        {"{\"Result\":0}", NULL, 'r',
         "message field \"Reply\" is missing (expected an unsigned 64-bit integer)"},
    };
    for (size_t k = 0; k < HCS_ARRAY_SIZE(cases); k++) {
        AUTOFREE char *msg = field_error(cases[k].text, cases[k].field, cases[k].kind);
        ck_assert_msg(strcmp(msg, cases[k].want) == 0, "%s: got \"%s\", want \"%s\"", cases[k].text,
                      msg, cases[k].want);
    }
    /* Numbers made with cJSON_CreateNumber are read while a double holds them exactly. */
    AUTOJSON cJSON *m = cJSON_CreateObject();
    cJSON_AddNumberToObject(m, "Small", 12345);
    cJSON_AddNumberToObject(m, "Neg", -3);
    cJSON_AddNumberToObject(m, "Frac", 0.5);
    uint64_t u = 0;
    int64_t i = 0;
    ck_assert_int_eq(hcs_rpc_get_u64(m, "Small", &u, NULL), 0);
    ck_assert_uint_eq(u, 12345);
    ck_assert_int_eq(hcs_rpc_get_i64(m, "Neg", &i, NULL), 0);
    ck_assert_int_eq(i, -3);
    ck_assert_int_eq(hcs_rpc_get_u64(m, "Neg", &u, NULL), -1);
    ck_assert_int_eq(hcs_rpc_get_i64(m, "Frac", &i, NULL), -1);
}
END_TEST

HCS_TEST_SUITE(rpc_message_suite)
{
    Suite *s = suite_create("rpc_message");
    TCase *tc = tcase_create("message");
    tcase_add_checked_fixture(tc, rpc_setup, rpc_teardown);
    tcase_add_test(tc, message__round_trip_keeps_nested_objects_and_64_bit_integers);
    tcase_add_test(tc, message__boundaries_and_order_are_kept_for_100_messages);
    tcase_add_test(tc, send__refuses_a_message_over_the_limit_and_takes_one_at_it);
    tcase_add_test(tc, recv__a_datagram_over_the_limit_is_a_protocol_error);
    tcase_add_test(tc, recv__a_datagram_that_is_not_a_json_object_is_a_protocol_error);
    tcase_add_test(tc, recv__an_orderly_close_gives_a_null_message);
    tcase_add_test(tc, recv__a_reset_with_unread_data_reads_as_a_close);
    tcase_add_test(tc, send__to_a_closed_peer_is_connection_closed_without_sigpipe);
    tcase_add_test(tc, send__refuses_what_is_not_an_object_and_too_many_descriptors);
    tcase_add_test(tc, build__request_reply_and_event_have_the_documented_shape);
    tcase_add_test(tc, get__errors_name_the_field_and_what_came);
    suite_add_tcase(s, tc);
    return s;
}
