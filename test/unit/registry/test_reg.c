/* test_reg.c - .reg files: hcs_reg_parse (every form, every error with its line) and
 * hcs_reg_export (the text, literally; export -> parse -> apply -> export round trips). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "hcs_test.h"
#include "registry/registry.h"

#define H5 "Windows Registry Editor Version 5.00\n\n"

typedef struct {
    hcs_reg_change *v;
    size_t n;
} parsed;

static void parsed_free(parsed *p)
{
    hcs_reg_changes_free(p->v, p->n);
}
#define AUTOPARSED __attribute__((cleanup(parsed_free)))

/* Parse text (len bytes) as "t.reg", which must succeed. */
static parsed parse_len(const char *text, size_t len)
{
    parsed p = {0};
    hcs_error *err = NULL;
    int rc = hcs_reg_parse(text, len, "t.reg", &p.v, &p.n, &err);
    ck_assert_msg(rc == 0, "%s: %s", text, err ? err->message : "(no error)");
    ck_assert_ptr_null(err);
    return p;
}

static parsed parse_ok(const char *text)
{
    return parse_len(text, strlen(text));
}

/* Parse text, which must fail with E_INVALIDARG and exactly the message want. */
static void parse_fails(const char *text, const char *want)
{
    static hcs_reg_change sentinel;
    hcs_reg_change *v = &sentinel; /* proves that *changes is overwritten */
    size_t n = 99;
    hcs_error *err = NULL;
    ck_assert_int_eq(hcs_reg_parse(text, strlen(text), "t.reg", &v, &n, &err), -1);
    ck_assert_ptr_null(v);
    ck_assert_uint_eq(n, 0);
    ck_assert_ptr_nonnull(err);
    ck_assert_hr(err->hr, E_INVALIDARG);
    ck_assert_msg(strcmp(err->message, want) == 0, "for:\n%s\ngot:  %s\nwant: %s", text,
                  err->message, want);
    hcs_err_free(err);
}

static void assert_key(const hcs_reg_change *c, enum hcs_reg_op op, enum hcs_reg_hive h,
                       const char *key)
{
    ck_assert_int_eq(c->op, op);
    ck_assert_int_eq(c->hive, h);
    ck_assert_str_eq(c->key, key);
}

static void assert_value(const hcs_reg_change *c, enum hcs_reg_hive h, const char *key,
                         const char *name, uint32_t type, const void *data, size_t len)
{
    ck_assert_int_eq(c->op, HCS_REG_SET_VALUE);
    ck_assert_int_eq(c->hive, h);
    ck_assert_str_eq(c->key, key);
    ck_assert_str_eq(c->name, name);
    ck_assert_uint_eq(c->type, type);
    ck_assert_uint_eq(c->len, len);
    ck_assert_ptr_nonnull(c->data);
    ck_assert_mem_eq(c->data, data, len);
}

/* --- parse: good files ----------------------------------------------------------------------- */

START_TEST(parse__every_value_type)
{
    AUTOPARSED parsed p = parse_ok(H5 "[HKEY_LOCAL_MACHINE\\SYSTEM\\Svc\\Tcpip]\n"
                                      "\"Sz\"=\"hello world\"\n"
                                      "\"Dword\"=dword:0000001f\n"
                                      "\"Short\"=dword:A\n"
                                      "\"Bin\"=hex:00,ff,7F\n"
                                      "\"Empty\"=hex:\n"
                                      "\"None\"=hex(0):01\n"
                                      "\"Expand\"=hex(2):25,00,53,00,00,00\n"
                                      "\"Multi\"=hex(7):61,00,00,00,62,00,63,00,00,00,00,00\n"
                                      "\"Qword\"=hex(b):01,02,03,04,05,06,07,08\n"
                                      "\"Custom\"=hex(1234abcd):de,ad\n"
                                      "\"Dw4\"=hex(4):01,00,00,00\n");
    ck_assert_uint_eq(p.n, 12);
    enum hcs_reg_hive S = HCS_REG_HIVE_SYSTEM;
    const char *k = "Svc\\Tcpip";
    assert_key(&p.v[0], HCS_REG_CREATE_KEY, S, k);
    assert_value(&p.v[1], S, k, "Sz", HCS_REG_SZ, "hello world", 11);
    assert_value(&p.v[2], S, k, "Dword", HCS_REG_DWORD, "\x1f\0\0\0", 4);
    assert_value(&p.v[3], S, k, "Short", HCS_REG_DWORD, "\x0a\0\0\0", 4);
    assert_value(&p.v[4], S, k, "Bin", HCS_REG_BINARY, "\x00\xff\x7f", 3);
    assert_value(&p.v[5], S, k, "Empty", HCS_REG_BINARY, "", 0);
    assert_value(&p.v[6], S, k, "None", HCS_REG_NONE, "\x01", 1);
    assert_value(&p.v[7], S, k, "Expand", HCS_REG_EXPAND_SZ, "%S", 2);
    assert_value(&p.v[8], S, k, "Multi", HCS_REG_MULTI_SZ, "a\0bc\0", 5);
    assert_value(&p.v[9], S, k, "Qword", HCS_REG_QWORD, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
    assert_value(&p.v[10], S, k, "Custom", 0x1234abcdu, "\xde\xad", 2);
    assert_value(&p.v[11], S, k, "Dw4", HCS_REG_DWORD, "\x01\0\0\0", 4);
}
END_TEST

START_TEST(parse__utf16_as_regedit_writes_it)
{
    /* "%SystemRoot%\x" with a non-ASCII letter (e-acute, U+00E9), a character outside the BMP
     * (U+1F600, a surrogate pair) and an empty MULTI_SZ (regedit writes one NUL). */
    AUTOPARSED parsed p = parse_ok(
        H5 "[HKLM\\SOFTWARE\\K]\n"
           "\"E\"=hex(2):25,00,53,00,79,00,73,00,74,00,65,00,6d,00,52,00,6f,00,6f,00,74,00,25,\\\n"
           "  00,5c,00,e9,00,00,00\n"
           "\"Smile\"=hex(2):3d,d8,00,de,00,00\n"
           "\"NoMulti\"=hex(7):00,00\n"
           "\"OneEmpty\"=hex(7):00,00,00,00\n"
           "\"NoNul\"=hex(2):41,00\n");
    ck_assert_uint_eq(p.n, 6);
    enum hcs_reg_hive S = HCS_REG_HIVE_SOFTWARE;
    assert_value(&p.v[1], S, "K", "E", HCS_REG_EXPAND_SZ, "%SystemRoot%\\\xc3\xa9", 15);
    assert_value(&p.v[2], S, "K", "Smile", HCS_REG_EXPAND_SZ, "\xf0\x9f\x98\x80", 4);
    assert_value(&p.v[3], S, "K", "NoMulti", HCS_REG_MULTI_SZ, "", 0);
    assert_value(&p.v[4], S, "K", "OneEmpty", HCS_REG_MULTI_SZ, "\0", 1);
    assert_value(&p.v[5], S, "K", "NoNul", HCS_REG_EXPAND_SZ, "A", 1);
}
END_TEST

START_TEST(parse__escapes_and_default_value)
{
    AUTOPARSED parsed p = parse_ok(H5 "[HKLM\\SYSTEM\\K]\n"
                                      "@=\"default\"\n"
                                      "\"a \\\"quoted\\\" \\\\name\"=\"C:\\\\Windows\\\\\"\n"
                                      "\"semi;colon\" = \"[not a key]\"\n"
                                      "\"utf8\"=\"\xc3\xa9t\xc3\xa9\"\n"
                                      "@=\"\"\n");
    ck_assert_uint_eq(p.n, 6);
    enum hcs_reg_hive S = HCS_REG_HIVE_SYSTEM;
    assert_value(&p.v[1], S, "K", "", HCS_REG_SZ, "default", 7);
    assert_value(&p.v[2], S, "K", "a \"quoted\" \\name", HCS_REG_SZ, "C:\\Windows\\", 11);
    assert_value(&p.v[3], S, "K", "semi;colon", HCS_REG_SZ, "[not a key]", 11);
    assert_value(&p.v[4], S, "K", "utf8", HCS_REG_SZ, "\xc3\xa9t\xc3\xa9", 5);
    assert_value(&p.v[5], S, "K", "", HCS_REG_SZ, "", 0);
}
END_TEST

START_TEST(parse__roots_and_deletions)
{
    AUTOPARSED parsed p = parse_ok(H5 "[-HKEY_LOCAL_MACHINE\\SOFTWARE\\Old\\Tree]\n"
                                      "[hklm\\security]\n"
                                      "\"gone\"=-\n"
                                      "@=-\n"
                                      "[HKLM\\Sam\\Domains]\n"
                                      "[HKEY_USERS\\.DEFAULT\\Control Panel\\Desktop]\n"
                                      "[hku\\.default]\n"
                                      "[HKEY_LOCAL_MACHINE\\SYSTEM]\n");
    ck_assert_uint_eq(p.n, 8);
    assert_key(&p.v[0], HCS_REG_DELETE_KEY, HCS_REG_HIVE_SOFTWARE, "Old\\Tree");
    assert_key(&p.v[1], HCS_REG_CREATE_KEY, HCS_REG_HIVE_SECURITY, "");
    assert_key(&p.v[2], HCS_REG_DELETE_VALUE, HCS_REG_HIVE_SECURITY, "");
    ck_assert_str_eq(p.v[2].name, "gone");
    ck_assert_ptr_null(p.v[2].data);
    assert_key(&p.v[3], HCS_REG_DELETE_VALUE, HCS_REG_HIVE_SECURITY, "");
    ck_assert_str_eq(p.v[3].name, "");
    assert_key(&p.v[4], HCS_REG_CREATE_KEY, HCS_REG_HIVE_SAM, "Domains");
    assert_key(&p.v[5], HCS_REG_CREATE_KEY, HCS_REG_HIVE_DEFAULTUSER, "Control Panel\\Desktop");
    assert_key(&p.v[6], HCS_REG_CREATE_KEY, HCS_REG_HIVE_DEFAULTUSER, "");
    assert_key(&p.v[7], HCS_REG_CREATE_KEY, HCS_REG_HIVE_SYSTEM, "");
}
END_TEST

START_TEST(parse__continuation_lines)
{
    AUTOPARSED parsed p = parse_ok(H5 "[HKLM\\SYSTEM\\K]\n"
                                      "\"B\"=hex:01,02,\\\n"
                                      "  03,04,\\\n"
                                      "\t\\\n"
                                      "  05\n"
                                      "\"After\"=dword:00000001\n");
    ck_assert_uint_eq(p.n, 3);
    assert_value(&p.v[1], HCS_REG_HIVE_SYSTEM, "K", "B", HCS_REG_BINARY, "\1\2\3\4\5", 5);
    assert_value(&p.v[2], HCS_REG_HIVE_SYSTEM, "K", "After", HCS_REG_DWORD, "\1\0\0\0", 4);
}
END_TEST

START_TEST(parse__bom_crlf_comments_and_regedit4)
{
    AUTOPARSED parsed a = parse_ok("\xef\xbb\xbfWindows Registry Editor Version 5.00\r\n"
                                   "\r\n"
                                   "; a comment\r\n"
                                   "  ;another\r\n"
                                   "[HKLM\\SYSTEM\\K]  \r\n"
                                   "\"V\"=hex:01,\\\r\n"
                                   "  02\r\n"
                                   "\"S\"=\"x\"\r\n");
    ck_assert_uint_eq(a.n, 3);
    assert_value(&a.v[1], HCS_REG_HIVE_SYSTEM, "K", "V", HCS_REG_BINARY, "\1\2", 2);
    assert_value(&a.v[2], HCS_REG_HIVE_SYSTEM, "K", "S", HCS_REG_SZ, "x", 1);

    /* REGEDIT4 after blank lines; no line end at the end of the text. */
    AUTOPARSED parsed b = parse_ok("\n\nREGEDIT4\n[HKLM\\SYSTEM\\K]\n\"S\"=\"y\"");
    ck_assert_uint_eq(b.n, 2);
    assert_value(&b.v[1], HCS_REG_HIVE_SYSTEM, "K", "S", HCS_REG_SZ, "y", 1);

    /* A header alone is an empty change list. */
    AUTOPARSED parsed c = parse_ok("Windows Registry Editor Version 5.00");
    ck_assert_uint_eq(c.n, 0);
}
END_TEST

START_TEST(parse__reads_only_len_bytes)
{
    const char *text = H5 "[HKLM\\SYSTEM\\K]\n\"S\"=\"abc\"\n[HKLM\\HARDWARE]\n";
    size_t len = strstr(text, "[HKLM\\HARDWARE]") - text;
    char *copy = malloc(len); /* not NUL-terminated: ASan catches a read past len */
    ck_assert_ptr_nonnull(copy);
    memcpy(copy, text, len);
    AUTOPARSED parsed p = parse_len(copy, len);
    ck_assert_uint_eq(p.n, 2);
    /* Cut inside the string: unterminated. */
    hcs_reg_change *v = NULL;
    size_t n = 0;
    hcs_error *err = NULL;
    ck_assert_int_eq(hcs_reg_parse(copy, len - 3, "t.reg", &v, &n, &err), -1);
    ck_assert_str_eq(err->message, "t.reg:4: the string has no closing '\"'");
    hcs_err_free(err);
    free(copy);
}
END_TEST

/* --- parse: bad files ------------------------------------------------------------------------ */

START_TEST(parse__bad_header)
{
    parse_fails("", "t.reg:1: expected \"Windows Registry Editor Version 5.00\" or \"REGEDIT4\" "
                    "on the first line, got an empty file");
    parse_fails("[HKLM\\SYSTEM\\K]\n",
                "t.reg:1: expected \"Windows Registry Editor Version 5.00\" "
                "or \"REGEDIT4\" on the first line, got \"[HKLM\\SYSTEM\\K]\"");
    parse_fails("\nWindows Registry Editor Version 4.00\n",
                "t.reg:2: expected \"Windows Registry Editor Version 5.00\" or \"REGEDIT4\" on "
                "the first line, got \"Windows Registry Editor Version 4.00\"");
}
END_TEST

START_TEST(parse__bad_roots_and_keys)
{
    parse_fails(H5 "[HKLM\\SYSTEM\\K]\n[HKEY_CURRENT_USER\\Software\\X]\n",
                "t.reg:4: unknown root \"HKEY_CURRENT_USER\\Software\" in "
                "[HKEY_CURRENT_USER\\Software\\X]; accepted: HKEY_LOCAL_MACHINE\\SYSTEM, "
                "HKEY_LOCAL_MACHINE\\SOFTWARE, HKEY_LOCAL_MACHINE\\SECURITY, "
                "HKEY_LOCAL_MACHINE\\SAM, HKEY_USERS\\.DEFAULT (or HKLM\\... and HKU\\.DEFAULT)");
    parse_fails(H5 "[HKLM\\HARDWARE\\DESCRIPTION]\n",
                "t.reg:3: unknown root \"HKLM\\HARDWARE\" in [HKLM\\HARDWARE\\DESCRIPTION]; "
                "accepted: HKEY_LOCAL_MACHINE\\SYSTEM, HKEY_LOCAL_MACHINE\\SOFTWARE, "
                "HKEY_LOCAL_MACHINE\\SECURITY, HKEY_LOCAL_MACHINE\\SAM, HKEY_USERS\\.DEFAULT (or "
                "HKLM\\... and HKU\\.DEFAULT)");
    parse_fails(H5 "[HKU\\S-1-5-18]\n", "t.reg:3: unknown root \"HKU\\S-1-5-18\" in "
                                        "[HKU\\S-1-5-18]; accepted: HKEY_LOCAL_MACHINE\\SYSTEM, "
                                        "HKEY_LOCAL_MACHINE\\SOFTWARE, "
                                        "HKEY_LOCAL_MACHINE\\SECURITY, HKEY_LOCAL_MACHINE\\SAM, "
                                        "HKEY_USERS\\.DEFAULT (or HKLM\\... and HKU\\.DEFAULT)");
    parse_fails(H5 "[HKLM\\SYSTEM\\K\n",
                "t.reg:3: a key line is \"[ROOT\\Key]\" ending in ']', got \"[HKLM\\SYSTEM\\K\"");
    parse_fails(H5 "[HKLM\\SYSTEM\\A\\\\B]\n",
                "t.reg:3: HKEY_LOCAL_MACHINE\\SYSTEM: key \"A\\\\B\" has an empty component (a "
                "leading, trailing or doubled '\\')");
    parse_fails(H5 "[HKLM\\SYSTEM\\]\n", "t.reg:3: a key ends with '\\' in [HKLM\\SYSTEM\\]");
    parse_fails(H5 "[-HKLM\\SOFTWARE]\n",
                "t.reg:3: a hive's root cannot be deleted: [-HKEY_LOCAL_MACHINE\\SOFTWARE]");
}
END_TEST

START_TEST(parse__bad_values)
{
    parse_fails(H5 "\"V\"=\"x\"\n", "t.reg:3: a value line before any [KEY] line");
    parse_fails(H5 "[-HKLM\\SYSTEM\\K]\n\"V\"=\"x\"\n",
                "t.reg:4: a value line under a deleted key [-...]: values need a [KEY] line");
    parse_fails(H5 "[HKLM\\SYSTEM\\K]\n\n\"V\"=dword:12345678Z\n",
                "t.reg:5: \"dword:\" takes 1 to 8 hex digits, got \"12345678Z\"");
    parse_fails(H5 "[HKLM\\SYSTEM\\K]\n\"V\"=dword:123456789\n",
                "t.reg:4: \"dword:\" takes 1 to 8 hex digits, got \"123456789\"");
    parse_fails(H5 "[HKLM\\SYSTEM\\K]\n\"V\"=dword:\n",
                "t.reg:4: \"dword:\" takes 1 to 8 hex digits, got \"\"");
    parse_fails(H5 "[HKLM\\SYSTEM\\K]\n\"V\"=hex:01,2,03\n",
                "t.reg:4: hex: takes bytes of two hex digits separated by ',', got \"2\"");
    parse_fails(H5 "[HKLM\\SYSTEM\\K]\n\"V\"=hex:01,023\n",
                "t.reg:4: hex: takes bytes of two hex digits separated by ',', got \"023\"");
    parse_fails(H5 "[HKLM\\SYSTEM\\K]\n\"V\"=hex(7):0g\n",
                "t.reg:4: hex(7): takes bytes of two hex digits separated by ',', got \"0g\"");
    parse_fails(H5 "[HKLM\\SYSTEM\\K]\n\"V\"=hex:01 02\n",
                "t.reg:4: hex: expects ',' between bytes, got \"02\"");
    parse_fails(H5 "[HKLM\\SYSTEM\\K]\n\"V\"=hex:01,\n",
                "t.reg:4: hex: ends with ',': expected a byte after it");
    parse_fails(H5 "[HKLM\\SYSTEM\\K]\n\"V\"=hex:01,\\\n  02,\\\n",
                "t.reg:5: hex: continues ('\\') past the end of the file");
    parse_fails(H5 "[HKLM\\SYSTEM\\K]\n\"V\"=hex(12345678Z):00\n",
                "t.reg:4: \"hex(N):\" takes a type of 1 to 8 hex digits, got "
                "\"hex(12345678Z):00\"");
    parse_fails(H5 "[HKLM\\SYSTEM\\K]\n\"V\"=hex 00\n",
                "t.reg:4: expected ':' after \"hex\" or \"hex(N)\", got \"hex 00\"");
    parse_fails(H5 "[HKLM\\SYSTEM\\K]\n\"V\"=\"a\\tb\"\n",
                "t.reg:4: bad escape \"\\t\" in the string: only \\\\ and \\\" are allowed");
    parse_fails(H5 "[HKLM\\SYSTEM\\K]\n\"V\\n\"=\"\"\n",
                "t.reg:4: bad escape \"\\n\" in the value name: only \\\\ and \\\" are allowed");
    parse_fails(H5 "[HKLM\\SYSTEM\\K]\n\"V\"=\"abc\n\"\n",
                "t.reg:4: the string has no closing '\"'");
    parse_fails(H5 "[HKLM\\SYSTEM\\K]\n\"V\rW\"=\"\"\n",
                "t.reg:4: a value name cannot hold a carriage return (CR)");
    parse_fails(H5 "[HKLM\\SYSTEM\\K]\n\"V=\"abc\"\n",
                "t.reg:4: expected '=' after the value name, got \"abc\"\"");
    parse_fails(H5 "[HKLM\\SYSTEM\\K]\n\"V\"=\"abc\" junk\n",
                "t.reg:4: expected the end of the line after the string, got \"junk\"");
    parse_fails(H5 "[HKLM\\SYSTEM\\K]\n\"V\"=\n",
                "t.reg:4: expected the data of value \"V\" after '='");
    parse_fails(
        H5 "[HKLM\\SYSTEM\\K]\n\"V\"=str:abc\n",
        "t.reg:4: expected \"string\", dword:, hex:, hex(N): or - after '=', got \"str:abc\"");
    parse_fails(H5 "[HKLM\\SYSTEM\\K]\nV=1\n",
                "t.reg:4: expected a [KEY] line, a value line (\"name\"=... or @=...) or a comment "
                "(;), got \"V=1\"");
    parse_fails(H5 "[HKLM\\SYSTEM\\K]\n\"V\"=hex(b):01,02\n",
                "t.reg:4: HKEY_LOCAL_MACHINE\\SYSTEM\\K: QWORD value \"V\" is 2 bytes, not 8");
    parse_fails(H5 "[HKLM\\SYSTEM\\K]\n\"V\"=hex(7):61,00\n",
                "t.reg:4: HKEY_LOCAL_MACHINE\\SYSTEM\\K: MULTI_SZ value \"V\" does not end with "
                "a NUL");
}
END_TEST

START_TEST(parse__bad_utf16)
{
    parse_fails(H5 "[HKLM\\SYSTEM\\K]\n\"V\"=hex(2):25,00,53\n",
                "t.reg:4: hex(2): data is UTF-16LE (as regedit writes it): 3 bytes is odd");
    /* A low surrogate alone, then a high one not followed by a low one (across a line). */
    parse_fails(H5 "[HKLM\\SYSTEM\\K]\n\"V\"=hex(7):41,00,00,dc,00,00\n",
                "t.reg:4: hex(7): data is not valid UTF-16LE: an unpaired surrogate at byte 2");
    parse_fails(H5 "[HKLM\\SYSTEM\\K]\n\"V\"=hex(2):3d,d8,\\\n  41,00\n",
                "t.reg:5: hex(2): data is not valid UTF-16LE: an unpaired surrogate at byte 0");
    /* A NUL inside an EXPAND_SZ is not a string. */
    parse_fails(H5 "[HKLM\\SYSTEM\\K]\n\"V\"=hex(2):41,00,00,00,42,00\n",
                "t.reg:4: HKEY_LOCAL_MACHINE\\SYSTEM\\K: string value \"V\" is not UTF-8 without "
                "NUL");
}
END_TEST

/* A .reg text with one value of n bytes of hex data, regedit-wrapped. */
static char *big_hex_file(size_t n)
{
    size_t cap = 64 + n * 3 + n / 20 * 6;
    char *t = malloc(cap);
    ck_assert_ptr_nonnull(t);
    size_t len = (size_t)snprintf(t, cap, H5 "[HKLM\\SYSTEM\\K]\n\"Big\"=hex:");
    for (size_t i = 0; i < n; i++) {
        len += (size_t)snprintf(t + len, cap - len, "%02x%s", (unsigned)(i & 0xff),
                                i + 1 == n ? "\n" : (i % 20 == 19 ? ",\\\n  " : ","));
    }
    return t;
}

START_TEST(parse__limits)
{
    /* The largest value parses; one byte more is refused, on the value's first line. */
    AUTOFREE char *ok = big_hex_file(HCS_REG_MAX_DATA);
    AUTOPARSED parsed p = parse_ok(ok);
    ck_assert_uint_eq(p.n, 2);
    ck_assert_uint_eq(p.v[1].len, HCS_REG_MAX_DATA);
    ck_assert_uint_eq(p.v[1].data[HCS_REG_MAX_DATA - 1], (HCS_REG_MAX_DATA - 1) & 0xff);

    AUTOFREE char *big = big_hex_file(HCS_REG_MAX_DATA + 1);
    char want[512];
    snprintf(want, sizeof(want), "t.reg:%u: hex: holds more than %u bytes",
             4 + HCS_REG_MAX_DATA / 20, HCS_REG_MAX_DATA);
    parse_fails(big, want);

    /* A long string: the value check's limit, with the line of the value. */
    size_t n = HCS_REG_MAX_DATA + 1;
    AUTOFREE char *s = malloc(n + 64);
    ck_assert_ptr_nonnull(s);
    int h = snprintf(s, 64, H5 "[HKLM\\SYSTEM\\K]\n\"S\"=\"");
    memset(s + h, 'x', n);
    memcpy(s + h + n, "\"\n", 3);
    snprintf(want, sizeof(want),
             "t.reg:4: HKEY_LOCAL_MACHINE\\SYSTEM\\K: value \"S\" is %zu bytes (at most %u)", n,
             HCS_REG_MAX_DATA);
    parse_fails(s, want);

    /* A key component too long, and a NUL byte in the text. */
    char key[400];
    snprintf(key, sizeof(key), H5 "[HKLM\\SYSTEM\\%0256d]\n", 0);
    snprintf(want, sizeof(want),
             "t.reg:3: HKEY_LOCAL_MACHINE\\SYSTEM: key \"%0256d\": component 1 "
             "is 256 bytes (at most 255)",
             0);
    parse_fails(key, want);
    hcs_reg_change *v = NULL;
    size_t nv = 0;
    hcs_error *err = NULL;
    const char nul[] = H5 "[HKLM\\SYSTEM\\K]\n\"A\0B\"=\"\"\n";
    ck_assert_int_eq(hcs_reg_parse(nul, sizeof(nul) - 1, "t.reg", &v, &nv, &err), -1);
    ck_assert_str_eq(err->message, "t.reg:4: a NUL byte in the text");
    hcs_err_free(err);
}
END_TEST

/* --- export ---------------------------------------------------------------------------------- */

/* A memory delta and a view of it alone. */
typedef struct {
    hcs_reg_delta *d;
    hcs_reg_view *v;
} one_level;

static void one_level_free(one_level *o)
{
    hcs_reg_view_free(o->v);
    hcs_reg_delta_close(o->d);
}
#define AUTOLEVEL __attribute__((cleanup(one_level_free)))

static one_level level_of(const hcs_reg_change *c, size_t n)
{
    one_level o = {0};
    hcs_error *err = NULL;
    ck_assert_int_eq(hcs_reg_delta_new_memory(&o.d, &err), 0);
    int rc = hcs_reg_delta_apply(o.d, c, n, &err);
    ck_assert_msg(rc == 0, "apply: %s", err ? err->message : "");
    hcs_reg_level l = hcs_reg_delta_level(o.d);
    ck_assert_int_eq(hcs_reg_view_new(&l, 1, &o.v, &err), 0);
    return o;
}

static char *export_ok(const hcs_reg_view *v, enum hcs_reg_hive h, const char *key)
{
    char *out = NULL;
    size_t len = 0;
    hcs_error *err = NULL;
    int rc = hcs_reg_export(v, h, key, &out, &len, &err);
    ck_assert_msg(rc == 0, "export: %s", err ? err->message : "");
    ck_assert_ptr_nonnull(out);
    ck_assert_uint_eq(len, strlen(out));
    return out;
}

#define SET(k, n, t, d, l)                                                                         \
    {                                                                                              \
        .op = HCS_REG_SET_VALUE, .hive = HCS_REG_HIVE_SYSTEM, .key = (k), .name = (n),             \
        .type = (t), .data = (const uint8_t *)(d), .len = (l)                                      \
    }

static const uint8_t bin30[30] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14,
                                  15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29};

/* Every value type, names to escape, a subkey sorting before another case-insensitively. */
static const hcs_reg_change sample[] = {
    {.op = HCS_REG_CREATE_KEY, .hive = HCS_REG_HIVE_SYSTEM, .key = "App\\b"},
    SET("App", "", HCS_REG_SZ, "def", 3),
    SET("App", "Say \"hi\"", HCS_REG_SZ, "C:\\x\\", 5),
    SET("App", "Count", HCS_REG_DWORD, "\x1f\0\0\0", 4),
    SET("App\\Sub", "Path", HCS_REG_EXPAND_SZ, "%S", 2),
    SET("App\\Sub", "List", HCS_REG_MULTI_SZ, "a\0bc\0", 5),
    SET("App\\Sub", "Empty", HCS_REG_MULTI_SZ, "", 0),
    SET("App\\Sub", "Q", HCS_REG_QWORD, "\1\2\3\4\5\6\7\x08", 8),
    SET("App\\Sub", "N", HCS_REG_NONE, "", 0),
    SET("App\\Sub", "C", 0x100u, "\xde\xad", 2),
    SET("App\\Sub", "Bin", HCS_REG_BINARY, bin30, 30),
    SET("App\\Sub", "Lines", HCS_REG_SZ, "a\r\nb", 4),
    SET("App\\Sub", "E\xc3\xa9", HCS_REG_SZ, "\xc3\xa9t\xc3\xa9", 5),
    SET("Other", "x", HCS_REG_SZ, "not exported", 12),
};

START_TEST(export__writes_regedit_text)
{
    AUTOLEVEL one_level o = level_of(sample, HCS_ARRAY_SIZE(sample));
    AUTOFREE char *t = export_ok(o.v, HCS_REG_HIVE_SYSTEM, "App");
    ck_assert_str_eq(
        t, "Windows Registry Editor Version 5.00\r\n"
           "\r\n"
           "[HKEY_LOCAL_MACHINE\\SYSTEM\\App]\r\n"
           "@=\"def\"\r\n"
           "\"Count\"=dword:0000001f\r\n"
           "\"Say \\\"hi\\\"\"=\"C:\\\\x\\\\\"\r\n"
           "\r\n"
           "[HKEY_LOCAL_MACHINE\\SYSTEM\\App\\b]\r\n"
           "\r\n"
           "[HKEY_LOCAL_MACHINE\\SYSTEM\\App\\Sub]\r\n"
           "\"Bin\"=hex:00,01,02,03,04,05,06,07,08,09,0a,0b,0c,0d,0e,0f,10,11,12,13,14,15,16,\\\r\n"
           "  17,18,19,1a,1b,1c,1d\r\n"
           "\"C\"=hex(100):de,ad\r\n"
           "\"Empty\"=hex(7):00,00\r\n"
           "\"E\xc3\xa9\"=\"\xc3\xa9t\xc3\xa9\"\r\n"
           "\"Lines\"=hex(1):61,0d,0a,62\r\n"
           "\"List\"=hex(7):61,00,00,00,62,00,63,00,00,00,00,00\r\n"
           "\"N\"=hex(0):\r\n"
           "\"Path\"=hex(2):25,00,53,00,00,00\r\n"
           "\"Q\"=hex(b):01,02,03,04,05,06,07,08\r\n"
           "\r\n");

    /* A hive's root: "[ROOT]" alone, then every key below. */
    AUTOFREE char *r = export_ok(o.v, HCS_REG_HIVE_SYSTEM, "");
    ck_assert_contains(r, "Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SYSTEM]\r\n\r\n"
                          "[HKEY_LOCAL_MACHINE\\SYSTEM\\App]\r\n");
    ck_assert_contains(r,
                       "\r\n\r\n[HKEY_LOCAL_MACHINE\\SYSTEM\\Other]\r\n\"x\"=\"not exported\"\r\n"
                       "\r\n");

    /* Another hive's root spelling; an empty hive is its root alone. */
    AUTOFREE char *u = export_ok(o.v, HCS_REG_HIVE_DEFAULTUSER, "");
    ck_assert_str_eq(u,
                     "Windows Registry Editor Version 5.00\r\n\r\n[HKEY_USERS\\.DEFAULT]\r\n\r\n");
}
END_TEST

START_TEST(export__wraps_long_hex_like_regedit)
{
    static uint8_t big[200];
    memset(big, 0xab, sizeof(big));
    const hcs_reg_change c[] = {SET("K", "V", HCS_REG_BINARY, big, sizeof(big))};
    AUTOLEVEL one_level o = level_of(c, 1);
    AUTOFREE char *t = export_ok(o.v, HCS_REG_HIVE_SYSTEM, "K");
    /* No line is wider than 80 columns; continuation lines hold 25 bytes, as regedit's do. */
    size_t lines = 0;
    for (const char *p = t; *p != '\0';) {
        const char *e = strstr(p, "\r\n");
        ck_assert_ptr_nonnull(e);
        ck_assert_int_le(e - p, 80);
        if (strncmp(p, "  ab", 4) == 0 && e[-1] == '\\')
            ck_assert_int_eq(e - p, 2 + 25 * 3 + 1);
        lines++;
        p = e + 2;
    }
    /* The header, a blank line, the key, 9 lines of bytes (200 = 23 + 7 * 25 + 2), a blank line. */
    ck_assert_uint_eq(lines, 3 + 9 + 1);
}
END_TEST

START_TEST(export__missing_key_is_not_found)
{
    AUTOLEVEL one_level o = level_of(sample, HCS_ARRAY_SIZE(sample));
    char *out = (char *)"unchanged";
    size_t len = 7;
    hcs_error *err = NULL;
    ck_assert_int_eq(hcs_reg_export(o.v, HCS_REG_HIVE_SOFTWARE, "App", &out, &len, &err), -1);
    ck_assert_ptr_null(out);
    ck_assert_uint_eq(len, 0);
    ck_assert_hr(err->hr, HCS_E_FILE_NOT_FOUND);
    ck_assert_str_eq(err->message, "key \"HKEY_LOCAL_MACHINE\\SOFTWARE\\App\" does not exist");
    hcs_err_free(err);
    err = NULL;
    ck_assert_int_eq(hcs_reg_export(o.v, HCS_REG_HIVE_SYSTEM, "App\\\\x", &out, &len, &err), -1);
    ck_assert_hr(err->hr, E_INVALIDARG);
    hcs_err_free(err);
}
END_TEST

/* Export the view's hive h root, parse the text, apply it to a fresh delta: the same export. */
static void assert_round_trip(const hcs_reg_view *v, enum hcs_reg_hive h)
{
    AUTOFREE char *first = export_ok(v, h, "");
    AUTOPARSED parsed p = parse_ok(first);
    AUTOLEVEL one_level o = level_of(p.v, p.n);
    AUTOFREE char *second = export_ok(o.v, h, "");
    ck_assert_str_eq(second, first);
}

START_TEST(export__round_trips_through_parse)
{
    AUTOLEVEL one_level a = level_of(sample, HCS_ARRAY_SIZE(sample));
    assert_round_trip(a.v, HCS_REG_HIVE_SYSTEM);

    /* A file as regedit writes it, over every hive, after deletions. */
    AUTOPARSED parsed p = parse_ok(
        H5
        "[HKLM\\SOFTWARE\\A\\B\\C]\n\"S\"=\"x\"\n[-HKLM\\SOFTWARE\\A\\B]\n[HKLM\\SOFTWARE\\A\\B]\n"
        "\"V\"=hex(2):25,00,53,00,00,00\n\"W\"=-\n\"D\"=dword:ffffffff\n"
        "[HKU\\.DEFAULT\\Control Panel]\n@=hex(7):61,00,00,00,00,00\n"
        "[HKLM\\SAM\\Z]\n[HKLM\\SECURITY\\Policy]\n\"Big\"=hex(b):ff,ff,ff,ff,ff,ff,ff,7f\n");
    AUTOLEVEL one_level b = level_of(p.v, p.n);
    AUTOFREE char *sw = export_ok(b.v, HCS_REG_HIVE_SOFTWARE, "A");
    ck_assert_str_eq(sw, "Windows Registry Editor Version 5.00\r\n\r\n"
                         "[HKEY_LOCAL_MACHINE\\SOFTWARE\\A]\r\n\r\n"
                         "[HKEY_LOCAL_MACHINE\\SOFTWARE\\A\\B]\r\n"
                         "\"D\"=dword:ffffffff\r\n"
                         "\"V\"=hex(2):25,00,53,00,00,00\r\n\r\n");
    for (int h = 0; h < HCS_REG_N_HIVES; h++)
        assert_round_trip(b.v, (enum hcs_reg_hive)h);
}
END_TEST

HCS_TEST_SUITE(registry_reg_suite)
{
    Suite *s = suite_create("registry_reg");
    TCase *tc = tcase_create("parse");
    tcase_add_test(tc, parse__every_value_type);
    tcase_add_test(tc, parse__utf16_as_regedit_writes_it);
    tcase_add_test(tc, parse__escapes_and_default_value);
    tcase_add_test(tc, parse__roots_and_deletions);
    tcase_add_test(tc, parse__continuation_lines);
    tcase_add_test(tc, parse__bom_crlf_comments_and_regedit4);
    tcase_add_test(tc, parse__reads_only_len_bytes);
    tcase_add_test(tc, parse__bad_header);
    tcase_add_test(tc, parse__bad_roots_and_keys);
    tcase_add_test(tc, parse__bad_values);
    tcase_add_test(tc, parse__bad_utf16);
    tcase_add_test(tc, parse__limits);
    suite_add_tcase(s, tc);
    tc = tcase_create("export");
    tcase_add_test(tc, export__writes_regedit_text);
    tcase_add_test(tc, export__wraps_long_hex_like_regedit);
    tcase_add_test(tc, export__missing_key_is_not_found);
    tcase_add_test(tc, export__round_trips_through_parse);
    suite_add_tcase(s, tc);
    return s;
}
