/*
 * test_cli.c - the reg.exe command-line parsers shared by the in-container server and
 * `hcsdiag reg` (lib/registry/cli.c): KEY in every spelling, the switches, the data of an add.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/cleanup.h"
#include "hcs_test.h"
#include "registry/registry.h"

static char *msg;           /* the last parser's message (NULL when it succeeded) */
static hcs_reg_cli_key key; /* the last key parsed */

static void teardown(void)
{
    free(msg);
    msg = NULL;
    hcs_reg_cli_key_free(&key);
}

/* Parse arg as KEY; the status. */
static int parse_key(const char *arg, unsigned flags)
{
    free(msg);
    hcs_reg_cli_key_free(&key);
    int r = hcs_reg_cli_key_parse(arg, flags, &key, &msg);
    ck_assert_msg((r == HCS_REG_CLI_OK) == (msg == NULL), "%s: status %d, message %s", arg, r,
                  msg ? msg : "(none)");
    return r;
}

static void ck_key(const char *arg, unsigned flags, enum hcs_reg_hive hive, const char *k,
                   const char *full)
{
    ck_assert_msg(parse_key(arg, flags) == HCS_REG_CLI_OK, "%s: %s", arg, msg);
    ck_assert_int_eq(key.hive, hive);
    ck_assert_str_eq(key.key, k);
    ck_assert_str_eq(key.full, full);
}

START_TEST(cli__key_accepts_every_spelling_of_each_root)
{
    ck_key("HKLM\\SYSTEM", 0, HCS_REG_HIVE_SYSTEM, "", "HKEY_LOCAL_MACHINE\\SYSTEM");
    ck_key("hklm\\software\\Acme\\Tool", 0, HCS_REG_HIVE_SOFTWARE, "Acme\\Tool",
           "HKEY_LOCAL_MACHINE\\SOFTWARE\\Acme\\Tool");
    ck_key("HKEY_LOCAL_MACHINE\\Security\\Policy", 0, HCS_REG_HIVE_SECURITY, "Policy",
           "HKEY_LOCAL_MACHINE\\SECURITY\\Policy");
    ck_key("Hkey_Local_Machine\\SAM", 0, HCS_REG_HIVE_SAM, "", "HKEY_LOCAL_MACHINE\\SAM");
    ck_key("HKU\\.DEFAULT\\Console", 0, HCS_REG_HIVE_DEFAULTUSER, "Console",
           "HKEY_USERS\\.DEFAULT\\Console");
    ck_key("HKEY_USERS\\.default", 0, HCS_REG_HIVE_DEFAULTUSER, "", "HKEY_USERS\\.DEFAULT");
    /* One trailing separator, as reg.exe accepts. */
    ck_key("HKLM\\SOFTWARE\\Acme\\", 0, HCS_REG_HIVE_SOFTWARE, "Acme",
           "HKEY_LOCAL_MACHINE\\SOFTWARE\\Acme");
    ck_key("HKLM\\SOFTWARE\\", 0, HCS_REG_HIVE_SOFTWARE, "", "HKEY_LOCAL_MACHINE\\SOFTWARE");
    /* The schema's hive names, when the caller asks for them. */
    ck_key("Software\\Acme", HCS_REG_CLI_HIVE_NAMES, HCS_REG_HIVE_SOFTWARE, "Acme",
           "HKEY_LOCAL_MACHINE\\SOFTWARE\\Acme");
    ck_key("defaultuser", HCS_REG_CLI_HIVE_NAMES, HCS_REG_HIVE_DEFAULTUSER, "",
           "HKEY_USERS\\.DEFAULT");
    ck_key("HKLM\\SAM\\X", HCS_REG_CLI_HIVE_NAMES, HCS_REG_HIVE_SAM, "X",
           "HKEY_LOCAL_MACHINE\\SAM\\X");
}
END_TEST

START_TEST(cli__key_refuses_unknown_roots_naming_the_ones_it_takes)
{
    static const char *const bad[] = {
        "HKCU\\Software",  "HKLM", "HKLM\\HARDWARE\\X", "HKU\\S-1-5-18", "SOFTWARE\\X",
        "HKLMX\\SOFTWARE", "",     "\\HKLM\\SYSTEM"};
    for (size_t i = 0; i < HCS_ARRAY_SIZE(bad); i++) {
        ck_assert_int_eq(parse_key(bad[i], 0), HCS_REG_CLI_INVALID);
        char want[256];
        snprintf(want, sizeof(want), "invalid key name \"%s\": it starts with one of ", bad[i]);
        ck_assert_contains(msg, want);
        ck_assert_contains(msg, "HKLM\\SYSTEM, HKLM\\SOFTWARE, HKLM\\SECURITY, HKLM\\SAM, "
                                "HKU\\.DEFAULT (or HKEY_LOCAL_MACHINE\\..., HKEY_USERS\\.DEFAULT)");
        ck_assert_ptr_null(strstr(msg, "hive name"));
    }
    /* Hive names are only taken when asked for, and then the message lists them. */
    ck_assert_int_eq(parse_key("System\\Setup", 0), HCS_REG_CLI_INVALID);
    ck_assert_int_eq(parse_key("HKCU\\X", HCS_REG_CLI_HIVE_NAMES), HCS_REG_CLI_INVALID);
    ck_assert_contains(msg, "HKEY_USERS\\.DEFAULT, or a hive name: System, Software, Security, "
                            "Sam, DefaultUser)");
}
END_TEST

START_TEST(cli__key_refuses_a_malformed_path_below_the_root)
{
    ck_assert_int_eq(parse_key("HKLM\\SOFTWARE\\A\\\\B", 0), HCS_REG_CLI_INVALID);
    ck_assert_contains(msg, "HKLM\\SOFTWARE\\A\\\\B: key \"A\\\\B\" has an empty component");
    ck_assert_int_eq(parse_key("HKLM\\SOFTWARE\\A\\\\", 0), HCS_REG_CLI_INVALID);
    ck_assert_contains(msg, "empty component");
    ck_assert_int_eq(parse_key("HKLM\\SOFTWARE\\A\tB", 0), HCS_REG_CLI_INVALID);
    ck_assert_contains(msg, "control character (0x09)");
    char long_key[300] = "HKLM\\SOFTWARE\\";
    memset(long_key + strlen(long_key), 'k', 256);
    ck_assert_int_eq(parse_key(long_key, 0), HCS_REG_CLI_INVALID);
    ck_assert_contains(msg, "component 1 is 256 bytes (at most 255)");
}
END_TEST

/* --- switches --------------------------------------------------------------------------------- */

static hcs_reg_cli_switches sw;

static int parse_sw_n(const char *verb, const char *allowed, const char *const *extra,
                      const char *const *argv, size_t argc)
{
    free(msg);
    int r = hcs_reg_cli_switches_parse(verb, argv, argc, allowed, extra, &sw, &msg);
    ck_assert_msg((r == HCS_REG_CLI_OK) == (msg == NULL), "status %d, message %s", r,
                  msg ? msg : "(none)");
    return r;
}

#define parse_sw(verb, allowed, extra, ...)                                                        \
    parse_sw_n(verb, allowed, extra, (const char *const[]){__VA_ARGS__},                           \
               sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *))

/* A usage error whose message is want. */
#define ck_usage(want, verb, allowed, ...)                                                         \
    do {                                                                                           \
        ck_assert_int_eq(parse_sw(verb, allowed, NULL, __VA_ARGS__), HCS_REG_CLI_USAGE);           \
        ck_assert_str_eq(msg, want);                                                               \
    } while (0)

START_TEST(cli__switches_take_values_and_flags_in_any_case)
{
    ck_assert_int_eq(parse_sw("query", "v ve s", NULL, "/v", "Level", "/S"), HCS_REG_CLI_OK);
    ck_assert_str_eq(sw.v, "Level");
    ck_assert(sw.s && !sw.ve && !sw.va && sw.sep == NULL);
    ck_assert_int_eq(parse_sw("query", "v ve s", NULL, "-VE"), HCS_REG_CLI_OK);
    ck_assert(sw.ve && sw.v == NULL && !sw.s);
    /* In add, /s takes the REG_MULTI_SZ separator. */
    ck_assert_int_eq(parse_sw("add", "v ve t s d f", NULL, "/v", "W", "/t", "REG_MULTI_SZ", "/s",
                              "#", "/d", "a#b", "/F"),
                     HCS_REG_CLI_OK);
    ck_assert_str_eq(sw.v, "W");
    ck_assert_str_eq(sw.t, "REG_MULTI_SZ");
    ck_assert_str_eq(sw.sep, "#");
    ck_assert_str_eq(sw.d, "a#b");
    ck_assert(sw.f && !sw.s);
    /* A value may look like a switch: it is the value. */
    ck_assert_int_eq(parse_sw("add", "v ve t s d f", NULL, "/v", "/ve", "/d", "/f"),
                     HCS_REG_CLI_OK);
    ck_assert_str_eq(sw.v, "/ve");
    ck_assert_str_eq(sw.d, "/f");
    ck_assert(!sw.ve && !sw.f);
    ck_assert_int_eq(parse_sw("delete", "v ve va f", NULL, "/va", "/f"), HCS_REG_CLI_OK);
    ck_assert(sw.va && sw.f);
    ck_assert_int_eq(parse_sw("export", "y", NULL, "/Y"), HCS_REG_CLI_OK);
    ck_assert(sw.y);
    /* Nothing at all. */
    ck_assert_int_eq(parse_sw_n("query", "v ve s", NULL, NULL, 0), HCS_REG_CLI_OK);
    ck_assert(sw.v == NULL && !sw.ve && !sw.s);
}
END_TEST

START_TEST(cli__switches_refuse_repeats_conflicts_and_strangers)
{
    ck_usage("add: /v is given twice", "add", "v ve t s d f", "/v", "a", "/v", "b");
    ck_usage("add: /D is given twice", "add", "v ve t s d f", "/d", "1", "/D", "2");
    ck_usage("add: /s is given twice", "add", "v ve t s d f", "/s", "#", "/s", "#");
    ck_usage("query: -s is given twice", "query", "v ve s", "/s", "-s");
    ck_usage("delete: /F is given twice", "delete", "v ve va f", "/f", "/F");
    ck_usage("query: /ve is given twice", "query", "v ve s", "/ve", "/ve");
    ck_usage("query: /v, /ve and /va exclude each other", "query", "v ve s", "/v", "a", "/ve");
    ck_usage("delete: /v, /ve and /va exclude each other", "delete", "v ve va f", "/ve", "/va");
    ck_usage("delete: /v, /ve and /va exclude each other", "delete", "v ve va f", "/va", "/v", "x");
    ck_usage("add: /v needs a value", "add", "v ve t s d f", "/v");
    ck_usage("add: /t needs a value", "add", "v ve t s d f", "/v", "x", "/t");
    ck_usage("query: unexpected argument \"/x\"", "query", "v ve s", "/x");
    ck_usage("query: unexpected argument \"/va\"", "query", "v ve s", "/va");
    ck_usage("query: unexpected argument \"/t\"", "query", "v ve s", "/t", "REG_SZ");
    ck_usage("export: unexpected argument \"/f\"", "export", "y", "/f");
    ck_usage("query: unexpected argument \"Level\"", "query", "v ve s", "Level");
    ck_usage("query: unexpected argument \"/\"", "query", "v ve s", "/");
    ck_usage("query: unexpected argument \"--json\"", "query", "v ve s", "--json");
}
END_TEST

START_TEST(cli__switches_take_the_callers_extra_flags)
{
    static const char *const extra[] = {"--json", "--raw", NULL};
    ck_assert_int_eq(parse_sw("query", "v ve s", extra, "--json", "/s"), HCS_REG_CLI_OK);
    ck_assert_uint_eq(sw.extra, 1);
    ck_assert(sw.s);
    ck_assert_int_eq(parse_sw("query", "v ve s", extra, "--raw", "/v", "--json", "--json"),
                     HCS_REG_CLI_OK);
    ck_assert_uint_eq(sw.extra, 3);
    ck_assert_str_eq(sw.v, "--json"); /* the value of /v, not the flag */
    ck_assert_int_eq(parse_sw("query", "v ve s", extra, "--JSON"), HCS_REG_CLI_USAGE);
    ck_assert_str_eq(msg, "query: unexpected argument \"--JSON\"");
}
END_TEST

/* --- types and data ------------------------------------------------------------------------- */

START_TEST(cli__type_names_parse_and_print)
{
    static const struct {
        const char *name;
        uint32_t type;
    } t[] = {{"REG_SZ", HCS_REG_SZ},
             {"reg_expand_sz", HCS_REG_EXPAND_SZ},
             {"Reg_Multi_Sz", HCS_REG_MULTI_SZ},
             {"REG_DWORD", HCS_REG_DWORD},
             {"REG_QWORD", HCS_REG_QWORD},
             {"REG_BINARY", HCS_REG_BINARY},
             {"REG_NONE", HCS_REG_NONE}};
    for (size_t i = 0; i < HCS_ARRAY_SIZE(t); i++) {
        uint32_t type = 99;
        ck_assert_int_eq(hcs_reg_cli_type_parse(t[i].name, &type), 0);
        ck_assert_uint_eq(type, t[i].type);
        ck_assert_int_eq(strcasecmp(hcs_reg_cli_type_name(type), t[i].name), 0);
    }
    uint32_t type = 99;
    ck_assert_int_eq(hcs_reg_cli_type_parse("REG_FLOAT", &type), -1);
    ck_assert_int_eq(hcs_reg_cli_type_parse("REG_LINK", &type), -1); /* printed, not set */
    ck_assert_int_eq(hcs_reg_cli_type_parse("", &type), -1);
    ck_assert_uint_eq(type, 99);
    ck_assert_str_eq(hcs_reg_cli_type_name(5), "REG_DWORD_BIG_ENDIAN");
    ck_assert_str_eq(hcs_reg_cli_type_name(6), "REG_LINK");
    ck_assert_str_eq(hcs_reg_cli_type_name(10), "REG_RESOURCE_REQUIREMENTS_LIST");
    ck_assert_ptr_null(hcs_reg_cli_type_name(12));
    ck_assert_ptr_null(hcs_reg_cli_type_name(0xffffffffu));
}
END_TEST

static uint32_t vtype;
static uint8_t *vdata;
static size_t vlen;

/* The value of an add with /t t (NULL: none), /d d (NULL: none), /s sep (NULL: none). */
static int value(const char *t, const char *d, const char *sep)
{
    free(msg);
    free(vdata);
    vdata = NULL;
    hcs_reg_cli_switches s = {.v = "n", .t = t, .d = d, .sep = sep};
    int r = hcs_reg_cli_value_parse(&s, "n in HKEY_LOCAL_MACHINE\\SOFTWARE\\K", &vtype, &vdata,
                                    &vlen, &msg);
    ck_assert_msg((r == HCS_REG_CLI_OK) == (msg == NULL), "status %d, message %s", r,
                  msg ? msg : "(none)");
    ck_assert_msg((r == HCS_REG_CLI_OK) == (vdata != NULL), "data iff success");
    return r;
}

static void value_teardown(void)
{
    teardown();
    free(vdata);
    vdata = NULL;
}

static void ck_value(const char *t, const char *d, const char *sep, uint32_t type, const void *want,
                     size_t want_len)
{
    ck_assert_msg(value(t, d, sep) == HCS_REG_CLI_OK, "/t %s /d %s: %s", t ? t : "-", d ? d : "-",
                  msg);
    ck_assert_uint_eq(vtype, type);
    ck_assert_uint_eq(vlen, want_len);
    ck_assert_mem_eq(vdata, want, want_len);
    ck_assert_uint_eq(vdata[vlen], 0); /* the NUL after the data */
}

#define V(lit) lit, sizeof(lit) - 1

START_TEST(cli__value_encodes_each_type)
{
    /* Strings as they are; REG_SZ without /t; "" without /d. */
    ck_value(NULL, "hello world", NULL, HCS_REG_SZ, V("hello world"));
    ck_value(NULL, NULL, NULL, HCS_REG_SZ, V(""));
    ck_value("reg_expand_sz", "%SystemRoot%\\x", NULL, HCS_REG_EXPAND_SZ, V("%SystemRoot%\\x"));
    /* Numbers: decimal or 0x hex, little-endian; no /d is 0, as reg.exe. */
    ck_value("REG_DWORD", "0x10", NULL, HCS_REG_DWORD, V("\x10\0\0\0"));
    ck_value("REG_DWORD", "0XaBcD", NULL, HCS_REG_DWORD, V("\xcd\xab\0\0"));
    ck_value("REG_DWORD", "4294967295", NULL, HCS_REG_DWORD, V("\xff\xff\xff\xff"));
    ck_value("REG_DWORD", "0", NULL, HCS_REG_DWORD, V("\0\0\0\0"));
    ck_value("REG_DWORD", NULL, NULL, HCS_REG_DWORD, V("\0\0\0\0"));
    ck_value("REG_QWORD", "18446744073709551615", NULL, HCS_REG_QWORD,
             V("\xff\xff\xff\xff\xff\xff\xff\xff"));
    ck_value("REG_QWORD", "0x100000000", NULL, HCS_REG_QWORD, V("\0\0\0\0\1\0\0\0"));
    /* Hex digits, two a byte. */
    ck_value("REG_BINARY", "00ff10", NULL, HCS_REG_BINARY, V("\x00\xff\x10"));
    ck_value("REG_BINARY", "AbCd", NULL, HCS_REG_BINARY, V("\xab\xcd"));
    ck_value("REG_BINARY", NULL, NULL, HCS_REG_BINARY, V(""));
    ck_value("REG_NONE", NULL, NULL, HCS_REG_NONE, V(""));
    ck_value("REG_NONE", "01", NULL, HCS_REG_NONE, V("\x01"));
    /* MULTI_SZ: each string with its NUL; a separator at the end ends the list. */
    ck_value("REG_MULTI_SZ", "a\\0b", NULL, HCS_REG_MULTI_SZ, V("a\0b\0"));
    ck_value("REG_MULTI_SZ", "a\\0b\\0", NULL, HCS_REG_MULTI_SZ, V("a\0b\0"));
    ck_value("REG_MULTI_SZ", "a\\0\\0b", NULL, HCS_REG_MULTI_SZ, V("a\0\0b\0"));
    ck_value("REG_MULTI_SZ", "one", NULL, HCS_REG_MULTI_SZ, V("one\0"));
    ck_value("REG_MULTI_SZ", NULL, NULL, HCS_REG_MULTI_SZ, V(""));
    ck_value("REG_MULTI_SZ", "a#b#", "#", HCS_REG_MULTI_SZ, V("a\0b\0"));
    ck_value("REG_MULTI_SZ", "a\\0b", "#", HCS_REG_MULTI_SZ, V("a\\0b\0"));
}
END_TEST

/* Data that does not fit the type: HCS_REG_CLI_INVALID with want in the message. */
static void ck_bad_data(const char *t, const char *d, const char *want)
{
    ck_assert_int_eq(value(t, d, NULL), HCS_REG_CLI_INVALID);
    ck_assert_str_eq(msg, want);
}

START_TEST(cli__value_refuses_data_that_does_not_fit_the_type)
{
    const char *num = " for n in HKEY_LOCAL_MACHINE\\SOFTWARE\\K: a 32-bit number, decimal or 0x "
                      "hexadecimal, is expected";
    static const char *const bad_dwords[] = {"12a", "4294967296", "0x",   "-1",
                                             "+1",  " 1",         "0x1g", "0x100000000"};
    for (size_t i = 0; i < HCS_ARRAY_SIZE(bad_dwords); i++) {
        char want[256];
        snprintf(want, sizeof(want), "invalid REG_DWORD data \"%s\"%s", bad_dwords[i], num);
        ck_bad_data("REG_DWORD", bad_dwords[i], want);
    }
    ck_bad_data("REG_QWORD", "18446744073709551616",
                "invalid REG_QWORD data \"18446744073709551616\" for n in "
                "HKEY_LOCAL_MACHINE\\SOFTWARE\\K: a 64-bit number, decimal or 0x hexadecimal, "
                "is expected");
    ck_bad_data("REG_BINARY", "abc",
                "invalid REG_BINARY data for n in HKEY_LOCAL_MACHINE\\SOFTWARE\\K: 3 hex digits, "
                "an even number is expected");
    ck_bad_data("reg_binary", "0g",
                "invalid REG_BINARY data for n in HKEY_LOCAL_MACHINE\\SOFTWARE\\K: \"0g\" at "
                "offset 0 is not hexadecimal");
    ck_bad_data("REG_BINARY", "00zz",
                "invalid REG_BINARY data for n in HKEY_LOCAL_MACHINE\\SOFTWARE\\K: \"zz\" at "
                "offset 2 is not hexadecimal");
    ck_bad_data("REG_NONE", "1",
                "invalid REG_NONE data for n in HKEY_LOCAL_MACHINE\\SOFTWARE\\K: 1 hex digits, an "
                "even number is expected");
}
END_TEST

START_TEST(cli__value_refuses_an_unknown_type_and_a_wrong_separator)
{
    ck_assert_int_eq(value("REG_FLOAT", "1", NULL), HCS_REG_CLI_USAGE);
    ck_assert_str_eq(msg, "add: unknown type \"REG_FLOAT\" for /t: one of REG_SZ, REG_EXPAND_SZ, "
                          "REG_MULTI_SZ, REG_DWORD, REG_QWORD, REG_BINARY, REG_NONE is expected");
    ck_assert_int_eq(value("REG_FLOAT", "1", "#"), HCS_REG_CLI_USAGE); /* the type first */
    ck_assert_contains(msg, "unknown type");
    ck_assert_int_eq(value(NULL, "a#b", "#"), HCS_REG_CLI_USAGE);
    ck_assert_str_eq(msg, "add: /s SEPARATOR is for REG_MULTI_SZ only");
    ck_assert_int_eq(value("REG_DWORD", "1", "#"), HCS_REG_CLI_USAGE);
    ck_assert_str_eq(msg, "add: /s SEPARATOR is for REG_MULTI_SZ only");
    ck_assert_int_eq(value("REG_MULTI_SZ", "a##b", "##"), HCS_REG_CLI_USAGE);
    ck_assert_str_eq(msg, "add: invalid separator \"##\" for /s: one character is expected");
    ck_assert_int_eq(value("REG_MULTI_SZ", "ab", ""), HCS_REG_CLI_USAGE);
    ck_assert_str_eq(msg, "add: invalid separator \"\" for /s: one character is expected");
}
END_TEST

HCS_TEST_SUITE(registry_cli_suite)
{
    Suite *s = suite_create("registry_cli");
    TCase *tc = tcase_create("cli");
    tcase_add_checked_fixture(tc, NULL, value_teardown);
    tcase_add_test(tc, cli__key_accepts_every_spelling_of_each_root);
    tcase_add_test(tc, cli__key_refuses_unknown_roots_naming_the_ones_it_takes);
    tcase_add_test(tc, cli__key_refuses_a_malformed_path_below_the_root);
    tcase_add_test(tc, cli__switches_take_values_and_flags_in_any_case);
    tcase_add_test(tc, cli__switches_refuse_repeats_conflicts_and_strangers);
    tcase_add_test(tc, cli__switches_take_the_callers_extra_flags);
    tcase_add_test(tc, cli__type_names_parse_and_print);
    tcase_add_test(tc, cli__value_encodes_each_type);
    tcase_add_test(tc, cli__value_refuses_data_that_does_not_fit_the_type);
    tcase_add_test(tc, cli__value_refuses_an_unknown_type_and_a_wrong_separator);
    suite_add_tcase(s, tc);
    return s;
}
