/*
 * hcs_test.h - shared helpers for the Check-based unit suites.
 *
 * Each test file registers its suite with HCS_TEST_SUITE; test/lib/main.c runs every suite
 * linked into the binary and prints TAP. A test that cannot run here (no root, no KVM) is not
 * added; hcs_test_skip() prints it as "ok - name # SKIP reason" instead.
 */
#ifndef HCS_TEST_H
#define HCS_TEST_H

#include <check.h>
#include <stdint.h>

#include "hcs.h"

typedef Suite *(*hcs_suite_fn)(void);
void hcs_test_register(hcs_suite_fn fn);

#define HCS_TEST_SUITE(fn)                                                                         \
    static Suite *fn(void);                                                                        \
    __attribute__((constructor)) static void fn##_register(void)                                   \
    {                                                                                              \
        hcs_test_register(fn);                                                                     \
    }                                                                                              \
    static Suite *fn(void)

/* Report a test that is not run here, with the reason. */
void hcs_test_skip(const char *name, const char *reason);

/*
 * Why root tests cannot run here (not root), or NULL when they can. Integration suites add
 * their tests with HCS_ADD_ROOT_TEST, which reports each as skipped with this reason instead.
 */
const char *hcs_test_root_missing(void);
#define HCS_ADD_ROOT_TEST(tc, test)                                                                \
    do {                                                                                           \
        if (hcs_test_root_missing() == NULL)                                                       \
            tcase_add_test(tc, test);                                                              \
        else                                                                                       \
            hcs_test_skip(#test, hcs_test_root_missing());                                         \
    } while (0)

/*
 * Fixture for tests that touch the runtime or data root: a fresh temporary folder holding both
 * (set through the library context), removed with everything under it afterwards.
 */
void hcs_test_roots_setup(void);
void hcs_test_roots_teardown(void);
const char *hcs_test_root(void); /* the temporary folder */

/* Assert an HRESULT with both values in hex in the message. */
#define ck_assert_hr(got, want)                                                                    \
    do {                                                                                           \
        HRESULT got_ = (got), want_ = (want);                                                      \
        ck_assert_msg(got_ == want_, "%s = 0x%08X, expected 0x%08X (%s)", #got, (uint32_t)got_,    \
                      (uint32_t)want_, #want);                                                     \
    } while (0)

/* Assert that a NUL-terminated string contains a substring. */
#define ck_assert_contains(haystack, needle)                                                       \
    do {                                                                                           \
        const char *h_ = (haystack), *n_ = (needle);                                               \
        ck_assert_msg(h_ != NULL && strstr(h_, n_) != NULL, "%s = \"%s\" does not contain \"%s\"", \
                      #haystack, h_ ? h_ : "(null)", n_);                                          \
    } while (0)

#endif
