/*
 * test_serve.c - the in-container protocol (hcs_reg_serve) over an in-memory system registry,
 * and the hcsreg client against a socket this test serves.
 */
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "hcs_test.h"
#include "registry/registry.h"

static hcs_reg_system *sys;
static char *text; /* the last answer's text, NUL-terminated */
static int status; /* and its status byte */

static void setup(void)
{
    hcs_error *err = NULL;
    int r = hcs_reg_system_open(NULL, 0, NULL, &sys, &err);
    ck_assert_msg(r == 0, "open: %s", err ? err->message : "?");
}

static void teardown(void)
{
    hcs_reg_system_close(sys);
    sys = NULL;
    free(text);
    text = NULL;
}

/* Send the strings (a request as hcsreg builds it; NULL ends the list); the status. */
static int req_n(const char *const *args, size_t n)
{
    char buf[4096];
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(args[i]) + 1;
        ck_assert_uint_le(len + l, sizeof(buf));
        memcpy(buf + len, args[i], l);
        len += l;
    }
    char *ans = NULL;
    size_t alen = 0;
    ck_assert_int_eq(hcs_reg_serve(sys, buf, len, &ans, &alen), 0);
    ck_assert_uint_ge(alen, 1);
    free(text);
    text = strndup(ans + 1, alen - 1);
    ck_assert_ptr_nonnull(text);
    status = (unsigned char)ans[0];
    free(ans);
    return status;
}

#define req(...)                                                                                   \
    req_n((const char *const[]){__VA_ARGS__},                                                      \
          sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *))

/* A request that must succeed. */
#define ok(...)                                                                                    \
    do {                                                                                           \
        int st_ = req(__VA_ARGS__);                                                                \
        ck_assert_msg(st_ == 0, "status %d: %s", st_, text);                                       \
    } while (0)

static void ck_text(const char *want)
{
    ck_assert_msg(strcmp(text, want) == 0, "answer:\n%s\n--- expected:\n%s", text, want);
}

START_TEST(serve__add_then_query_each_type)
{
    ok("add", "HKLM\\SOFTWARE\\Acme", "/v", "Name", "/d", "hello world");
    ck_text("The operation completed successfully.\n");
    ok("add", "HKLM\\SOFTWARE\\Acme", "/v", "Path", "/t", "REG_EXPAND_SZ", "/d", "%SystemRoot%");
    ok("add", "HKLM\\SOFTWARE\\Acme", "/v", "List", "/t", "REG_MULTI_SZ", "/d", "a\\0bc\\0d");
    ok("add", "HKLM\\SOFTWARE\\Acme", "/v", "Count", "/t", "REG_DWORD", "/d", "0x1F");
    ok("add", "HKLM\\SOFTWARE\\Acme", "/v", "Dec", "/t", "REG_DWORD", "/d", "4294967295");
    ok("add", "HKLM\\SOFTWARE\\Acme", "/v", "Big", "/t", "REG_QWORD", "/d", "0x100000000");
    ok("add", "HKLM\\SOFTWARE\\Acme", "/v", "Blob", "/t", "REG_BINARY", "/d", "00ff1aB2");
    ok("add", "HKLM\\SOFTWARE\\Acme", "/v", "Nothing", "/t", "REG_NONE");
    ok("query", "HKLM\\SOFTWARE\\Acme");
    ck_text("\nHKEY_LOCAL_MACHINE\\SOFTWARE\\Acme\n"
            "    Big    REG_QWORD    0x100000000\n"
            "    Blob    REG_BINARY    00FF1AB2\n"
            "    Count    REG_DWORD    0x1f\n"
            "    Dec    REG_DWORD    0xffffffff\n"
            "    List    REG_MULTI_SZ    a\\0bc\\0d\n"
            "    Name    REG_SZ    hello world\n"
            "    Nothing    REG_NONE    \n"
            "    Path    REG_EXPAND_SZ    %SystemRoot%\n"
            "\n");
    /* The data is stored in the registry's encoding, not as the text. */
    hcs_reg_value v;
    ck_assert_int_eq(
        hcs_reg_view_get(hcs_reg_system_view(sys), HCS_REG_HIVE_SOFTWARE, "Acme", "List", &v), 1);
    ck_assert_uint_eq(v.len, 7);
    ck_assert_mem_eq(v.data, "a\0bc\0d\0", 7);
    ck_assert_int_eq(
        hcs_reg_view_get(hcs_reg_system_view(sys), HCS_REG_HIVE_SOFTWARE, "Acme", "Count", &v), 1);
    ck_assert_uint_eq(v.type, HCS_REG_DWORD);
    ck_assert_mem_eq(v.data, "\x1f\0\0\0", 4);
}
END_TEST

START_TEST(serve__query_one_value_and_the_default_one)
{
    ok("add", "HKLM\\SYSTEM\\K", "/v", "A", "/d", "1");
    ok("add", "HKLM\\SYSTEM\\K", "/ve", "/d", "dflt");
    ok("query", "HKLM\\SYSTEM\\K", "/v", "a");
    ck_text("\nHKEY_LOCAL_MACHINE\\SYSTEM\\K\n    A    REG_SZ    1\n\n");
    ok("query", "HKLM\\SYSTEM\\K", "/ve");
    ck_text("\nHKEY_LOCAL_MACHINE\\SYSTEM\\K\n    (Default)    REG_SZ    dflt\n\n");
    ok("query", "HKLM\\SYSTEM\\K");
    ck_text("\nHKEY_LOCAL_MACHINE\\SYSTEM\\K\n    (Default)    REG_SZ    dflt\n"
            "    A    REG_SZ    1\n\n");
}
END_TEST

START_TEST(serve__query_lists_subkeys_and_recurses_with_s)
{
    ok("add", "HKLM\\SOFTWARE\\T\\B");
    ok("add", "HKLM\\SOFTWARE\\T\\A\\Deep", "/v", "x", "/t", "REG_DWORD", "/d", "7");
    ok("add", "HKLM\\SOFTWARE\\T", "/v", "top", "/d", "v");
    ok("query", "HKLM\\SOFTWARE\\T");
    ck_text("\nHKEY_LOCAL_MACHINE\\SOFTWARE\\T\n    top    REG_SZ    v\n\n"
            "HKEY_LOCAL_MACHINE\\SOFTWARE\\T\\A\nHKEY_LOCAL_MACHINE\\SOFTWARE\\T\\B\n");
    ok("query", "HKLM\\SOFTWARE\\T", "/s");
    ck_text("\nHKEY_LOCAL_MACHINE\\SOFTWARE\\T\n    top    REG_SZ    v\n\n"
            "HKEY_LOCAL_MACHINE\\SOFTWARE\\T\\A\n\n"
            "HKEY_LOCAL_MACHINE\\SOFTWARE\\T\\A\\Deep\n    x    REG_DWORD    0x7\n\n"
            "HKEY_LOCAL_MACHINE\\SOFTWARE\\T\\B\n\n");
    ok("query", "HKLM\\SOFTWARE\\T", "/v", "X", "/s");
    ck_text("\nHKEY_LOCAL_MACHINE\\SOFTWARE\\T\\A\\Deep\n    x    REG_DWORD    0x7\n\n"
            "End of search: 1 match(es) found.\n");
}
END_TEST

START_TEST(serve__verbs_switches_and_roots_ignore_case)
{
    ok("ADD", "hkey_local_machine\\software\\Mixed", "-V", "n", "-T", "reg_dword", "-D", "5", "/F");
    ok("Query", "HKLM\\SOFTWARE\\MIXED", "/V", "N");
    ck_text("\nHKEY_LOCAL_MACHINE\\SOFTWARE\\MIXED\n    n    REG_DWORD    0x5\n\n");
    ok("add", "hku\\.default\\Env", "/v", "Home", "/d", "/root");
    ok("query", "HKEY_USERS\\.DEFAULT\\Env\\");
    ck_text("\nHKEY_USERS\\.DEFAULT\\Env\n    Home    REG_SZ    /root\n\n");
    ok("add", "HKLM\\SAM\\S");
    ok("add", "HKLM\\SECURITY\\P");
    ok("query", "HKLM\\SECURITY");
    ck_text("\nHKEY_LOCAL_MACHINE\\SECURITY\n\nHKEY_LOCAL_MACHINE\\SECURITY\\P\n");
    /* Each root is its own hive. */
    ck_assert_int_eq(req("query", "HKLM\\SYSTEM\\Env"), 1);
}
END_TEST

START_TEST(serve__delete_values_and_keys)
{
    ok("add", "HKLM\\SOFTWARE\\D\\Sub", "/v", "keep", "/d", "1");
    ok("add", "HKLM\\SOFTWARE\\D", "/v", "a", "/d", "1");
    ok("add", "HKLM\\SOFTWARE\\D", "/v", "b", "/d", "2");
    ok("add", "HKLM\\SOFTWARE\\D", "/ve", "/d", "3");
    ok("delete", "HKLM\\SOFTWARE\\D", "/v", "A", "/f");
    ck_text("The operation completed successfully.\n");
    ok("query", "HKLM\\SOFTWARE\\D");
    ck_text("\nHKEY_LOCAL_MACHINE\\SOFTWARE\\D\n    (Default)    REG_SZ    3\n"
            "    b    REG_SZ    2\n\nHKEY_LOCAL_MACHINE\\SOFTWARE\\D\\Sub\n");
    ok("delete", "HKLM\\SOFTWARE\\D", "/ve");
    ok("query", "HKLM\\SOFTWARE\\D");
    ck_text("\nHKEY_LOCAL_MACHINE\\SOFTWARE\\D\n    b    REG_SZ    2\n\n"
            "HKEY_LOCAL_MACHINE\\SOFTWARE\\D\\Sub\n");
    ok("add", "HKLM\\SOFTWARE\\D", "/v", "c", "/d", "4");
    ok("delete", "HKLM\\SOFTWARE\\D", "/va");
    ok("query", "HKLM\\SOFTWARE\\D", "/s");
    ck_text("\nHKEY_LOCAL_MACHINE\\SOFTWARE\\D\n\n"
            "HKEY_LOCAL_MACHINE\\SOFTWARE\\D\\Sub\n    keep    REG_SZ    1\n\n");
    ok("delete", "HKLM\\SOFTWARE\\D", "/f");
    ck_assert_int_eq(req("query", "HKLM\\SOFTWARE\\D\\Sub"), 1);
    ck_assert(!hcs_reg_view_key_exists(hcs_reg_system_view(sys), HCS_REG_HIVE_SOFTWARE, "D"));
}
END_TEST

START_TEST(serve__export_writes_reg_text_that_imports_back)
{
    ok("add", "HKLM\\SOFTWARE\\E", "/v", "s", "/d", "x");
    ok("add", "HKLM\\SOFTWARE\\E\\C", "/v", "n", "/t", "REG_DWORD", "/d", "16");
    ok("export", "HKLM\\SOFTWARE\\E");
    ck_text("Windows Registry Editor Version 5.00\r\n\r\n"
            "[HKEY_LOCAL_MACHINE\\SOFTWARE\\E]\r\n\"s\"=\"x\"\r\n\r\n"
            "[HKEY_LOCAL_MACHINE\\SOFTWARE\\E\\C]\r\n\"n\"=dword:00000010\r\n\r\n");
    AUTOFREE char *exported = strdup(text);
    ck_assert_ptr_nonnull(exported);
    ok("delete", "HKLM\\SOFTWARE\\E");
    ok("import", exported);
    ck_text("The operation completed successfully.\n");
    ok("query", "HKLM\\SOFTWARE\\E", "/s");
    ck_text("\nHKEY_LOCAL_MACHINE\\SOFTWARE\\E\n    s    REG_SZ    x\n\n"
            "HKEY_LOCAL_MACHINE\\SOFTWARE\\E\\C\n    n    REG_DWORD    0x10\n\n");
}
END_TEST

START_TEST(serve__import_applies_all_or_nothing_and_names_the_line)
{
    ok("import", "Windows Registry Editor Version 5.00\n\n[HKLM\\SYSTEM\\I]\n\"v\"=dword:2a\n"
                 "[-HKLM\\SYSTEM\\Gone]\n");
    ok("query", "HKLM\\SYSTEM\\I", "/v", "v");
    ck_text("\nHKEY_LOCAL_MACHINE\\SYSTEM\\I\n    v    REG_DWORD    0x2a\n\n");
    ck_assert_int_eq(req("import", "Windows Registry Editor Version 5.00\n[HKLM\\SYSTEM\\J]\n"
                                   "\"ok\"=\"1\"\n\"bad\"=dword:xyz\n"),
                     1);
    ck_assert_contains(text, "ERROR: import:4:");
    ck_assert_int_eq(req("query", "HKLM\\SYSTEM\\J"), 1);
}
END_TEST

START_TEST(serve__import_reads_utf16_reg_files)
{
    const char *ascii = "Windows Registry Editor Version 5.00\r\n[HKLM\\SYSTEM\\U]\r\n"
                        "\"w\"=\"\xc3\xa9t\xc3\xa9\"\r\n";
    /* As regedit writes it: a BOM, then UTF-16LE (é is U+00E9). */
    char buf[512] = "import";
    size_t len = strlen("import") + 1;
    buf[len++] = (char)0xff;
    buf[len++] = (char)0xfe;
    for (const unsigned char *p = (const unsigned char *)ascii; *p; p++) {
        unsigned c = *p;
        if (c == 0xc3) {
            c = 0xc0 | (p[1] & 0x3f);
            p++;
        }
        buf[len++] = (char)c;
        buf[len++] = 0;
    }
    char *ans = NULL;
    size_t alen = 0;
    ck_assert_int_eq(hcs_reg_serve(sys, buf, len, &ans, &alen), 0);
    ck_assert_msg(ans[0] == 0, "%.*s", (int)alen - 1, ans + 1);
    free(ans);
    ok("query", "HKLM\\SYSTEM\\U", "/v", "w");
    ck_text("\nHKEY_LOCAL_MACHINE\\SYSTEM\\U\n    w    REG_SZ    \xc3\xa9t\xc3\xa9\n\n");
}
END_TEST

START_TEST(serve__errors_name_what_is_wrong)
{
    ck_assert_int_eq(req("query", "HKLM\\SOFTWARE\\Missing"), 1);
    ck_text("ERROR: The system was unable to find the specified registry key or value: "
            "HKEY_LOCAL_MACHINE\\SOFTWARE\\Missing\n");
    ok("add", "HKLM\\SOFTWARE\\Here");
    ck_assert_int_eq(req("query", "HKLM\\SOFTWARE\\Here", "/v", "nope"), 1);
    ck_assert_contains(text, "unable to find the specified registry key or value: nope in "
                             "HKEY_LOCAL_MACHINE\\SOFTWARE\\Here");
    ck_assert_int_eq(req("query", "HKLM\\SOFTWARE\\Here", "/ve"), 1);
    ck_assert_contains(text, "(Default) in HKEY_LOCAL_MACHINE\\SOFTWARE\\Here");
    ck_assert_int_eq(req("delete", "HKLM\\SOFTWARE\\Here", "/v", "nope"), 1);
    ck_assert_contains(text, "nope in HKEY_LOCAL_MACHINE\\SOFTWARE\\Here");
    ck_assert_int_eq(req("delete", "HKLM\\SOFTWARE\\Nowhere"), 1);
    ck_assert_contains(text, "HKEY_LOCAL_MACHINE\\SOFTWARE\\Nowhere");
    ck_assert_int_eq(req("delete", "HKLM\\SOFTWARE"), 1);
    ck_assert_contains(text, "root of a hive");
    ck_assert_int_eq(req("export", "HKLM\\SOFTWARE\\Nowhere"), 1);
    ck_assert_contains(text, "HKEY_LOCAL_MACHINE\\SOFTWARE\\Nowhere");

    ck_assert_int_eq(req("add", "HKLM\\SOFTWARE\\X", "/v", "n", "/t", "REG_DWORD", "/d", "12a"), 1);
    ck_assert_contains(text, "invalid REG_DWORD data \"12a\" for n in HKEY_LOCAL_MACHINE");
    ck_assert_int_eq(
        req("add", "HKLM\\SOFTWARE\\X", "/v", "n", "/t", "REG_DWORD", "/d", "4294967296"), 1);
    ck_assert_contains(text, "32-bit");
    ck_assert_int_eq(req("add", "HKLM\\SOFTWARE\\X", "/v", "n", "/t", "REG_BINARY", "/d", "0g"), 1);
    ck_assert_contains(text, "\"0g\" at offset 0 is not hexadecimal");
    ck_assert_int_eq(req("add", "HKCU\\Software\\X"), 1);
    ck_assert_contains(text, "ERROR: invalid key name \"HKCU\\Software\\X\"");
    ck_assert_int_eq(req("add", "HKLM\\HARDWARE\\X"), 1);
    ck_assert_contains(text, "HKLM\\SYSTEM");
    ck_assert_int_eq(req("add", "HKLM\\SOFTWARE\\A\\\\B"), 1);
    ck_assert_contains(text, "ERROR: ");
    /* Nothing of the failed adds was stored. */
    ck_assert_int_eq(req("query", "HKLM\\SOFTWARE\\X"), 1);
}
END_TEST

START_TEST(serve__bad_usage_is_status_2_with_the_usage)
{
    ck_assert_int_eq(req("frobnicate", "HKLM\\SOFTWARE"), 2);
    ck_assert_contains(text, "ERROR: unknown command \"frobnicate\"");
    ck_assert_contains(text, "usage: hcsreg COMMAND");
    ck_assert_int_eq(req("query"), 2);
    ck_assert_int_eq(req("query", "HKLM\\SOFTWARE", "/x"), 2);
    ck_assert_contains(text, "unexpected argument \"/x\"");
    ck_assert_int_eq(req("add", "HKLM\\SOFTWARE\\K", "/v"), 2);
    ck_assert_contains(text, "/v needs a value");
    ck_assert_int_eq(req("delete", "HKLM\\SOFTWARE\\K", "/v", "a", "/va"), 2);
    ck_assert_int_eq(req("add", "HKLM\\SOFTWARE\\K", "/d", "1", "/d", "2"), 2);
    ck_assert_contains(text, "given twice");
    /* An unknown /t TYPE is a syntax error, as in reg.exe. */
    ck_assert_int_eq(req("add", "HKLM\\SOFTWARE\\X", "/v", "n", "/t", "REG_FLOAT", "/d", "1"), 2);
    ck_assert_contains(text, "ERROR: add: unknown type \"REG_FLOAT\" for /t");
    ck_assert_int_eq(req("add", "HKLM\\SOFTWARE\\X", "/v", "n", "/t", "REG_SZ", "/s", "#"), 2);
    ck_assert_contains(text, "/s SEPARATOR is for REG_MULTI_SZ only");
    ck_assert_int_eq(req("import"), 2);
    ck_assert_int_eq(req("/?"), 2);
    ck_assert_int_eq(req_n(NULL, 0), 2);
    /* A request whose last string lacks its NUL still reads as the strings. */
    char *ans = NULL;
    size_t alen = 0;
    ck_assert_int_eq(hcs_reg_serve(sys, "query\0HKLM\\SYSTEM", 17, &ans, &alen), 0);
    ck_assert_int_eq(ans[0], 0);
    free(ans);
}
END_TEST

START_TEST(serve__add_without_value_creates_the_key_and_d_sets_the_default)
{
    ok("add", "HKLM\\SOFTWARE\\New\\Key");
    ck_assert(hcs_reg_view_key_exists(hcs_reg_system_view(sys), HCS_REG_HIVE_SOFTWARE, "New\\Key"));
    ok("add", "HKLM\\SOFTWARE\\New", "/d", "dv");
    ok("query", "HKLM\\SOFTWARE\\New", "/ve");
    ck_text("\nHKEY_LOCAL_MACHINE\\SOFTWARE\\New\n    (Default)    REG_SZ    dv\n\n");
    ok("add", "HKLM\\SOFTWARE\\New", "/v", "m", "/t", "REG_MULTI_SZ", "/s", ",", "/d", "x,y");
    ok("query", "HKLM\\SOFTWARE\\New", "/v", "m");
    ck_text("\nHKEY_LOCAL_MACHINE\\SOFTWARE\\New\n    m    REG_MULTI_SZ    x\\0y\n\n");
    /* /f overwrites; a later add wins. */
    ok("add", "HKLM\\SOFTWARE\\New", "/v", "m", "/d", "plain", "/f");
    ok("query", "HKLM\\SOFTWARE\\New", "/v", "m");
    ck_text("\nHKEY_LOCAL_MACHINE\\SOFTWARE\\New\n    m    REG_SZ    plain\n\n");
}
END_TEST

/* --- the hcsreg client, against a socket served here -------------------------------------- */

static char hcsreg_path[PATH_MAX];

/* build/hcsreg, next to the folder of this test binary (build/test/unit-registry). */
static const char *hcsreg_missing(void)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0)
        return "cannot read /proc/self/exe";
    exe[n] = '\0';
    for (int i = 0; i < 2; i++) {
        char *slash = strrchr(exe, '/');
        if (slash == NULL)
            return "no build folder";
        *slash = '\0';
    }
    if (strlen(exe) + sizeof("/hcsreg") > sizeof(hcsreg_path))
        return "the build folder's path is too long";
    strcpy(hcsreg_path, exe);
    strcat(hcsreg_path, "/hcsreg");
    return access(hcsreg_path, X_OK) == 0 ? NULL : "build/hcsreg is not built (make build/hcsreg)";
}

typedef struct {
    int lfd;
    int served;
} server;

static void *serve_one(void *arg)
{
    server *sv = arg;
    int fd = accept4(sv->lfd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0)
        return NULL;
    /* The request's parts: a flag byte each (HCS_REG_PART_MORE or _LAST), as the monitor reads. */
    char *buf = malloc(HCS_REG_SERVE_MAX + 1);
    ssize_t n = 0, got;
    char flag = HCS_REG_PART_MORE;
    while (buf != NULL && flag == HCS_REG_PART_MORE &&
           (got = recv(fd, buf + n, HCS_REG_SERVE_MAX + 1 - (size_t)n, 0)) > 0) {
        flag = buf[n];
        memmove(buf + n, buf + n + 1, (size_t)got - 1);
        n += got - 1;
    }
    char *ans = NULL;
    size_t alen = 0;
    if (flag == HCS_REG_PART_LAST && hcs_reg_serve(sys, buf, (size_t)n, &ans, &alen) == 0) {
        if (send(fd, ans, alen, MSG_NOSIGNAL) == (ssize_t)alen)
            sv->served = 1;
    }
    free(ans);
    free(buf);
    close(fd);
    return NULL;
}

/* Run hcsreg with a shell command line's arguments against the socket; its exit status, its
 * stdout in out (truncated to size). */
static int run_hcsreg(const char *args, char *out, size_t size)
{
    char dir[] = "/tmp/hcsreg-test-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char sock[sizeof(dir) + 8];
    snprintf(sock, sizeof(sock), "%s/sock", dir);
    server sv = {.lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)};
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", sock);
    int ok_ = sv.lfd >= 0 && bind(sv.lfd, (struct sockaddr *)&addr, sizeof(addr)) == 0 &&
              listen(sv.lfd, 1) == 0;
    pthread_t t;
    int started = ok_ && pthread_create(&t, NULL, serve_one, &sv) == 0;
    AUTOFREE char *cmd = hcs_asprintf("HCSREG_SOCKET=%s %s %s 2>%s/err; echo \"rc=$?\"", sock,
                                      hcsreg_path, args, dir);
    FILE *p = started && cmd ? popen(cmd, "r") : NULL;
    size_t got = p ? fread(out, 1, size - 1, p) : 0;
    out[got] = '\0';
    if (p)
        pclose(p);
    if (started) {
        /* When hcsreg never connected, a connection of ours ends the accept(). */
        int wake = sv.served ? -1 : socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (wake >= 0) {
            if (connect(wake, (struct sockaddr *)&addr, sizeof(addr)) < 0)
                (void)0; /* the thread already went past accept() */
            close(wake);
        }
        pthread_join(t, NULL);
    }
    if (sv.lfd >= 0)
        close(sv.lfd);
    unlink(sock);
    char errf[sizeof(dir) + 8];
    snprintf(errf, sizeof(errf), "%s/err", dir);
    unlink(errf);
    rmdir(dir);
    ck_assert_msg(started && p, "could not run %s", hcsreg_path);
    char *rc = strstr(out, "rc=");
    ck_assert_ptr_nonnull(rc);
    int status_ = atoi(rc + 3);
    *rc = '\0';
    return status_;
}

START_TEST(hcsreg__sends_its_arguments_and_prints_the_answer)
{
    char out[4096];
    ck_assert_int_eq(
        run_hcsreg("add 'HKLM\\SOFTWARE\\Cli' /v n /t REG_DWORD /d 9", out, sizeof(out)), 0);
    ck_assert_str_eq(out, "The operation completed successfully.\n");
    ck_assert_int_eq(run_hcsreg("query 'HKLM\\SOFTWARE\\Cli'", out, sizeof(out)), 0);
    ck_assert_str_eq(out, "\nHKEY_LOCAL_MACHINE\\SOFTWARE\\Cli\n    n    REG_DWORD    0x9\n\n");
    /* Errors go to stderr with the status as exit code. */
    ck_assert_int_eq(run_hcsreg("query 'HKLM\\SOFTWARE\\None'", out, sizeof(out)), 1);
    ck_assert_str_eq(out, "");
    ck_assert_int_eq(run_hcsreg("bogus", out, sizeof(out)), 2);
}
END_TEST

START_TEST(hcsreg__import_reads_a_file_and_standard_input)
{
    char file[] = "/tmp/hcsreg-test-XXXXXX.reg";
    int fd = mkstemps(file, 4);
    ck_assert_int_ge(fd, 0);
    const char *reg =
        "Windows Registry Editor Version 5.00\r\n[HKLM\\SYSTEM\\Imp]\r\n\"a\"=\"b\"\r\n";
    ssize_t w = write(fd, reg, strlen(reg));
    close(fd);
    char out[4096];
    char args[sizeof(file) + 32];
    snprintf(args, sizeof(args), "import %s", file);
    int from_file = w == (ssize_t)strlen(reg) ? run_hcsreg(args, out, sizeof(out)) : -1;
    int deleted = run_hcsreg("delete 'HKLM\\SYSTEM\\Imp'", out, sizeof(out));
    snprintf(args, sizeof(args), "import - < %s", file);
    int from_stdin = run_hcsreg(args, out, sizeof(out));
    unlink(file); /* before any assertion, so that a failure leaves nothing behind */
    ck_assert_int_eq(deleted, from_file == 0 ? 0 : 1);
    ck_assert_int_eq(from_file, 0);
    ck_assert_int_eq(from_stdin, 0);
    ck_assert_str_eq(out, "The operation completed successfully.\n");
    ck_assert_int_eq(run_hcsreg("query 'HKLM\\SYSTEM\\Imp' /v a", out, sizeof(out)), 0);
    ck_assert_str_eq(out, "\nHKEY_LOCAL_MACHINE\\SYSTEM\\Imp\n    a    REG_SZ    b\n\n");
    ck_assert_int_eq(run_hcsreg("import /nonexistent/file.reg", out, sizeof(out)), 1);
}
END_TEST

START_TEST(hcsreg__without_a_socket_says_where_it_looked)
{
    char cmd[PATH_MAX + 128];
    snprintf(cmd, sizeof(cmd), "HCSREG_SOCKET=/nonexistent/sock %s query 'HKLM\\SYSTEM' 2>&1",
             hcsreg_path);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    char out[512];
    size_t got = fread(out, 1, sizeof(out) - 1, p);
    out[got] = '\0';
    int st = pclose(p);
    ck_assert_int_eq(WEXITSTATUS(st), 1);
    ck_assert_contains(out, "hcsreg: cannot reach the registry at /nonexistent/sock: No such file "
                            "or directory (run it inside a libhcs container)");
}
END_TEST

START_TEST(hcsreg__is_static)
{
    char cmd[PATH_MAX + 64];
    snprintf(cmd, sizeof(cmd), "readelf -d %s 2>&1 | grep -c NEEDED", hcsreg_path);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    char out[64] = "";
    ck_assert_ptr_nonnull(fgets(out, sizeof(out), p));
    pclose(p);
    ck_assert_str_eq(out, "0\n");
}
END_TEST

HCS_TEST_SUITE(registry_serve_suite)
{
    Suite *s = suite_create("registry_serve");
    TCase *tc = tcase_create("serve");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, serve__add_then_query_each_type);
    tcase_add_test(tc, serve__query_one_value_and_the_default_one);
    tcase_add_test(tc, serve__query_lists_subkeys_and_recurses_with_s);
    tcase_add_test(tc, serve__verbs_switches_and_roots_ignore_case);
    tcase_add_test(tc, serve__delete_values_and_keys);
    tcase_add_test(tc, serve__export_writes_reg_text_that_imports_back);
    tcase_add_test(tc, serve__import_applies_all_or_nothing_and_names_the_line);
    tcase_add_test(tc, serve__import_reads_utf16_reg_files);
    tcase_add_test(tc, serve__errors_name_what_is_wrong);
    tcase_add_test(tc, serve__bad_usage_is_status_2_with_the_usage);
    tcase_add_test(tc, serve__add_without_value_creates_the_key_and_d_sets_the_default);
    suite_add_tcase(s, tc);

    TCase *cli = tcase_create("hcsreg");
    tcase_add_checked_fixture(cli, setup, teardown);
    const char *why = hcsreg_missing();
    if (why == NULL) {
        tcase_add_test(cli, hcsreg__sends_its_arguments_and_prints_the_answer);
        tcase_add_test(cli, hcsreg__import_reads_a_file_and_standard_input);
        tcase_add_test(cli, hcsreg__without_a_socket_says_where_it_looked);
        tcase_add_test(cli, hcsreg__is_static);
    } else {
        hcs_test_skip("hcsreg__sends_its_arguments_and_prints_the_answer", why);
        hcs_test_skip("hcsreg__import_reads_a_file_and_standard_input", why);
        hcs_test_skip("hcsreg__without_a_socket_says_where_it_looked", why);
        hcs_test_skip("hcsreg__is_static", why);
    }
    suite_add_tcase(s, cli);
    return s;
}
