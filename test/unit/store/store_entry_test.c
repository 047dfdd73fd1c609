/* store_entry_test.c - reservation, opening, release and the owner's lock. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "hcs_test.h"
#include "store/store.h"
#include "store_fixture.h"

START_TEST(reserve__creates_folder_0700_with_held_lock)
{
    hcs_store_entry *e = fx_reserve("box1");
    AUTOFREE char *dir = fx_run_path("systems/box1");
    AUTOFREE char *systems = fx_run_path("systems");
    AUTOFREE char *run = fx_run_path("");
    AUTOFREE char *lock = fx_run_path("systems/box1/lock");
    ck_assert_str_eq(e->id, "box1");
    ck_assert_str_eq(e->path, dir);
    ck_assert_int_ge(e->dirfd, 0);
    ck_assert_int_ge(e->lock_fd, 0);
    ck_assert_uint_eq(fx_mode(run), 0700);
    ck_assert_uint_eq(fx_mode(systems), 0700);
    ck_assert_uint_eq(fx_mode(dir), 0700);
    ck_assert_uint_eq(fx_mode(lock), 0600);
    ck_assert_int_eq(hcs_store_owner_alive(e, NULL), 1);
    ck_assert_int_eq(hcs_store_release(e, 1, NULL), 0);
}
END_TEST

START_TEST(reserve__rejects_duplicate_id)
{
    hcs_store_entry *first = fx_reserve("dup");
    hcs_store_entry *second = (hcs_store_entry *)&second; /* must be reset to NULL */
    AUTOERR hcs_error *err = NULL;
    ck_assert_int_eq(hcs_store_reserve("dup", &second, &err), -1);
    ck_assert_ptr_null(second);
    ck_assert_hr(err->hr, HCS_E_SYSTEM_ALREADY_EXISTS);
    ck_assert_str_eq(err->message, "compute system \"dup\" already exists");
    /* The failed attempt did not disturb the winner's folder. */
    ck_assert_int_eq(hcs_store_owner_alive(first, NULL), 1);
    AUTOFREE char *lock = fx_run_path("systems/dup/lock");
    ck_assert_int_eq(access(lock, F_OK), 0);
    ck_assert_int_eq(hcs_store_release(first, 1, NULL), 0);
}
END_TEST

START_TEST(reserve__rejects_invalid_id_and_creates_nothing)
{
    hcs_store_entry *e = NULL;
    AUTOERR hcs_error *err = NULL;
    ck_assert_int_eq(hcs_store_reserve("../escape", &e, &err), -1);
    ck_assert_ptr_null(e);
    ck_assert_hr(err->hr, E_INVALIDARG);
    ck_assert_contains(err->message, "id \"../escape\": must not start with '.'");
    AUTOFREE char *run = fx_run_path("");
    ck_assert_int_eq(access(run, F_OK), -1);
    ck_assert_int_eq(fx_count_entries(hcs_test_root(), ""), 0);
}
END_TEST

START_TEST(release__with_remove_deletes_folder_and_frees_id)
{
    hcs_store_entry *e = fx_reserve("gone");
    ck_assert_int_eq(hcs_store_write_file(e, "config.json", "{}", 2, NULL), 0);
    ck_assert_int_eq(hcs_store_release(e, 1, NULL), 0);
    AUTOFREE char *dir = fx_run_path("systems/gone");
    ck_assert_int_eq(access(dir, F_OK), -1);
    ck_assert_int_eq(errno, ENOENT);
    /* The id can be reserved again. */
    e = fx_reserve("gone");
    ck_assert_int_eq(hcs_store_release(e, 1, NULL), 0);
}
END_TEST

START_TEST(release__without_remove_keeps_folder_and_id_taken)
{
    ck_assert_int_eq(hcs_store_release(fx_reserve("kept"), 0, NULL), 0);
    AUTOFREE char *dir = fx_run_path("systems/kept");
    ck_assert_int_eq(access(dir, F_OK), 0);
    hcs_store_entry *e = NULL;
    AUTOERR hcs_error *err = NULL;
    ck_assert_int_eq(hcs_store_reserve("kept", &e, &err), -1);
    ck_assert_hr(err->hr, HCS_E_SYSTEM_ALREADY_EXISTS);
    ck_assert_int_eq(hcs_store_open("kept", &e, NULL), 0);
    ck_assert_int_eq(hcs_store_release(e, 0, NULL), 0);
}
END_TEST

START_TEST(release__accepts_null)
{
    ck_assert_int_eq(hcs_store_release(NULL, 1, NULL), 0);
}
END_TEST

START_TEST(release__does_not_remove_a_folder_that_replaced_the_reserved_one)
{
    hcs_store_entry *e = fx_reserve("moved");
    AUTOFREE char *dir = fx_run_path("systems/moved");
    AUTOFREE char *aside = fx_run_path("systems/moved-aside");
    ck_assert_int_eq(rename(dir, aside), 0);
    ck_assert_int_eq(mkdir(dir, 0700), 0);
    AUTOERR hcs_error *err = NULL;
    ck_assert_int_eq(hcs_store_release(e, 1, &err), -1);
    ck_assert_contains(err->message, "remove compute system \"moved\": ");
    ck_assert_contains(err->message, "is no longer the folder that was reserved");
    ck_assert_int_eq(access(dir, F_OK), 0);
    ck_assert_int_eq(access(aside, F_OK), 0);
}
END_TEST

START_TEST(open__reports_missing_system_as_not_found)
{
    hcs_store_entry *e = NULL;
    /* No runtime root at all yet. */
    AUTOERR hcs_error *err = NULL;
    ck_assert_int_eq(hcs_store_open("nope", &e, &err), -1);
    ck_assert_ptr_null(e);
    ck_assert_hr(err->hr, HCS_E_SYSTEM_NOT_FOUND);
    ck_assert_str_eq(err->message, "compute system \"nope\" not found");
    /* A root with other systems in it. */
    ck_assert_int_eq(hcs_store_release(fx_reserve("other"), 0, NULL), 0);
    AUTOERR hcs_error *err2 = NULL;
    ck_assert_int_eq(hcs_store_open("nope", &e, &err2), -1);
    ck_assert_hr(err2->hr, HCS_E_SYSTEM_NOT_FOUND);
    /* A plain file or a symlink in systems/ is not a system. */
    AUTOFREE char *file = fx_run_path("systems/afile");
    AUTOFREE char *link = fx_run_path("systems/alink");
    FILE *f = fopen(file, "we");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    ck_assert_int_eq(symlink("other", link), 0);
    AUTOERR hcs_error *err3 = NULL, *err4 = NULL;
    ck_assert_int_eq(hcs_store_open("afile", &e, &err3), -1);
    ck_assert_hr(err3->hr, HCS_E_SYSTEM_NOT_FOUND);
    ck_assert_int_eq(hcs_store_open("alink", &e, &err4), -1);
    ck_assert_hr(err4->hr, HCS_E_SYSTEM_NOT_FOUND);
}
END_TEST

START_TEST(open__rejects_invalid_id)
{
    hcs_store_entry *e = NULL;
    AUTOERR hcs_error *err = NULL;
    ck_assert_int_eq(hcs_store_open("a/b", &e, &err), -1);
    ck_assert_ptr_null(e);
    ck_assert_hr(err->hr, E_INVALIDARG);
    ck_assert_contains(err->message, "character '/' at offset 1");
}
END_TEST

START_TEST(open__finds_reserved_system_without_taking_its_lock)
{
    hcs_store_entry *owner = fx_reserve("shared");
    AUTOJSON cJSON *st = cJSON_CreateObject();
    cJSON_AddStringToObject(st, "State", "Created");
    ck_assert_int_eq(hcs_store_write_state(owner, st, NULL), 0);

    hcs_store_entry *reader = NULL;
    ck_assert_int_eq(hcs_store_open("shared", &reader, NULL), 0);
    ck_assert_str_eq(reader->id, "shared");
    ck_assert_int_eq(reader->lock_fd, -1);
    ck_assert_int_ge(reader->dirfd, 0);
    AUTOJSON cJSON *got = NULL;
    ck_assert_int_eq(hcs_store_read_state(reader, &got, NULL), 0);
    ck_assert_str_eq(cJSON_GetObjectItem(got, "State")->valuestring, "Created");
    /* Closing a reader leaves the owner's lock alone. */
    ck_assert_int_eq(hcs_store_release(reader, 0, NULL), 0);
    ck_assert_int_eq(hcs_store_owner_alive(owner, NULL), 1);
    ck_assert_int_eq(hcs_store_release(owner, 1, NULL), 0);
}
END_TEST

#define RACERS 8
#define ROUNDS 25

struct race {
    pthread_barrier_t *start;
    char id[32];
    int rc;
    HRESULT hr;
    hcs_store_entry *entry;
};

static void *race_reserve(void *arg)
{
    struct race *r = arg;
    hcs_error *err = NULL;
    pthread_barrier_wait(r->start);
    r->rc = hcs_store_reserve(r->id, &r->entry, &err);
    r->hr = err ? err->hr : S_OK;
    hcs_err_free(err);
    return NULL;
}

START_TEST(reserve__only_one_of_eight_concurrent_threads_wins)
{
    for (int round = 0; round < ROUNDS; round++) {
        pthread_barrier_t start;
        ck_assert_int_eq(pthread_barrier_init(&start, NULL, RACERS), 0);
        struct race r[RACERS];
        pthread_t t[RACERS];
        for (int i = 0; i < RACERS; i++) {
            r[i] = (struct race){.start = &start};
            snprintf(r[i].id, sizeof(r[i].id), "race-%d", round);
            ck_assert_int_eq(pthread_create(&t[i], NULL, race_reserve, &r[i]), 0);
        }
        int winners = 0;
        hcs_store_entry *winner = NULL;
        for (int i = 0; i < RACERS; i++) {
            ck_assert_int_eq(pthread_join(t[i], NULL), 0);
            if (r[i].rc == 0) {
                winners++;
                winner = r[i].entry;
            } else {
                ck_assert_hr(r[i].hr, HCS_E_SYSTEM_ALREADY_EXISTS);
                ck_assert_ptr_null(r[i].entry);
            }
        }
        pthread_barrier_destroy(&start);
        ck_assert_int_eq(winners, 1);
        ck_assert_int_eq(hcs_store_owner_alive(winner, NULL), 1);
        ck_assert_int_eq(hcs_store_release(winner, round % 2, NULL), 0);
    }
}
END_TEST

START_TEST(owner_alive__is_false_once_the_owner_released)
{
    hcs_store_entry *owner = fx_reserve("life");
    hcs_store_entry *reader = NULL;
    ck_assert_int_eq(hcs_store_open("life", &reader, NULL), 0);
    ck_assert_int_eq(hcs_store_owner_alive(reader, NULL), 1);
    ck_assert_int_eq(hcs_store_release(owner, 0, NULL), 0);
    ck_assert_int_eq(hcs_store_owner_alive(reader, NULL), 0);
    ck_assert_int_eq(hcs_store_release(reader, 0, NULL), 0);
}
END_TEST

START_TEST(owner_alive__is_false_after_the_owner_process_died)
{
    int ready[2];
    ck_assert_int_eq(pipe2(ready, O_CLOEXEC), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        hcs_store_entry *e = NULL;
        char c = hcs_store_reserve("crashy", &e, NULL) == 0 ? 'y' : 'n';
        if (write(ready[1], &c, 1) != 1)
            _exit(1);
        pause(); /* killed below, the lock never released by the store */
        _exit(0);
    }
    close(ready[1]);
    char c = 0;
    ck_assert_int_eq(read(ready[0], &c, 1), 1);
    close(ready[0]);
    ck_assert_int_eq(c, 'y');

    hcs_store_entry *reader = NULL;
    ck_assert_int_eq(hcs_store_open("crashy", &reader, NULL), 0);
    ck_assert_int_eq(hcs_store_owner_alive(reader, NULL), 1);
    kill(pid, SIGKILL);
    ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
    ck_assert_int_eq(hcs_store_owner_alive(reader, NULL), 0);
    /* The leftovers still hold the id until someone removes them. */
    hcs_store_entry *again = NULL;
    AUTOERR hcs_error *err = NULL;
    ck_assert_int_eq(hcs_store_reserve("crashy", &again, &err), -1);
    ck_assert_hr(err->hr, HCS_E_SYSTEM_ALREADY_EXISTS);
    ck_assert_int_eq(hcs_store_release(reader, 1, NULL), 0);
    again = fx_reserve("crashy");
    ck_assert_int_eq(hcs_store_release(again, 1, NULL), 0);
}
END_TEST

START_TEST(ensure_roots__creates_both_roots_0700)
{
    AUTOERR hcs_error *err = NULL;
    ck_assert_msg(hcs_store_ensure_roots(&err) == 0, "%s", err ? err->message : "");
    AUTOFREE char *systems = fx_run_path("systems");
    AUTOFREE char *data = hcs_asprintf("%s/data", hcs_test_root());
    ck_assert_uint_eq(fx_mode(systems), 0700);
    ck_assert_uint_eq(fx_mode(data), 0700);
    /* Idempotent. */
    ck_assert_int_eq(hcs_store_ensure_roots(NULL), 0);
}
END_TEST

HCS_TEST_SUITE(store_entry_suite)
{
    Suite *s = suite_create("store_entry");
    TCase *tc = tcase_create("entry");
    tcase_add_checked_fixture(tc, hcs_test_roots_setup, hcs_test_roots_teardown);
    tcase_add_test(tc, reserve__creates_folder_0700_with_held_lock);
    tcase_add_test(tc, reserve__rejects_duplicate_id);
    tcase_add_test(tc, reserve__rejects_invalid_id_and_creates_nothing);
    tcase_add_test(tc, release__with_remove_deletes_folder_and_frees_id);
    tcase_add_test(tc, release__without_remove_keeps_folder_and_id_taken);
    tcase_add_test(tc, release__accepts_null);
    tcase_add_test(tc, release__does_not_remove_a_folder_that_replaced_the_reserved_one);
    tcase_add_test(tc, open__reports_missing_system_as_not_found);
    tcase_add_test(tc, open__rejects_invalid_id);
    tcase_add_test(tc, open__finds_reserved_system_without_taking_its_lock);
    tcase_add_test(tc, reserve__only_one_of_eight_concurrent_threads_wins);
    tcase_add_test(tc, owner_alive__is_false_once_the_owner_released);
    tcase_add_test(tc, owner_alive__is_false_after_the_owner_process_died);
    tcase_add_test(tc, ensure_roots__creates_both_roots_0700);
    suite_add_tcase(s, tc);
    return s;
}
