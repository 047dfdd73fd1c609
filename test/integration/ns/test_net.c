/* test_net.c - host name, loopback and joining a network namespace. */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ns_fixture.h"

static void body_hostname(void *arg)
{
    (void)arg;
    hcs_error *e = NULL;
    NSF_CHECK(hcs_ns_set_hostname("hcs-test-host", &e) == 0, "%s", e ? e->message : "");
    struct utsname u;
    NSF_CHECK(uname(&u) == 0 && strcmp(u.nodename, "hcs-test-host") == 0, "nodename %s",
              u.nodename);
    NSF_CHECK(hcs_ns_set_hostname(NULL, &e) == 0 && hcs_ns_set_hostname("", &e) == 0,
              "NULL or \"\" failed");
    NSF_CHECK(uname(&u) == 0 && strcmp(u.nodename, "hcs-test-host") == 0,
              "NULL or \"\" changed the name to %s", u.nodename);
    char longest[65], too_long[66];
    memset(longest, 'a', 64);
    longest[64] = '\0';
    memset(too_long, 'b', 65);
    too_long[65] = '\0';
    NSF_CHECK(hcs_ns_set_hostname(longest, &e) == 0, "64 bytes refused: %s", e ? e->message : "");
    NSF_CHECK(hcs_ns_set_hostname(too_long, &e) < 0, "65 bytes accepted");
    NSF_CHECK(strstr(e->message, "65 bytes long; at most 64") != NULL, "message: %s", e->message);
    NSF_CHECK(e->hr == E_INVALIDARG, "hr %#x", (unsigned)e->hr);
    hcs_err_free(e);
    e = NULL;
    NSF_CHECK(hcs_ns_set_hostname("box", &e) == 0, "%s", e ? e->message : "");
    nsf_enter(&nsf.root);
    char *seen = nsf_read("/proc/sys/kernel/hostname");
    NSF_CHECK(seen != NULL && strcmp(seen, "box\n") == 0, "the container sees host name %s",
              seen ? seen : "?");
}

START_TEST(hostname__is_set_and_validated)
{
    char before[128];
    ck_assert_int_eq(gethostname(before, sizeof(before)), 0);
    nsf_assert_ok(body_hostname, NULL);
    char after[128];
    ck_assert_int_eq(gethostname(after, sizeof(after)), 0);
    ck_assert_str_eq(after, before);
}
END_TEST

static void body_loopback(void *arg)
{
    (void)arg;
    nsf_enter(&nsf.root);
    hcs_error *e = NULL;
    NSF_CHECK(hcs_ns_loopback_up(&e) == 0, "%s", e ? e->message : "");
    NSF_CHECK(hcs_ns_loopback_up(&e) == 0, "a second call failed: %s", e ? e->message : "");
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    NSF_CHECK(s >= 0, "socket: %s", strerror(errno));
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    strcpy(ifr.ifr_name, "lo");
    NSF_CHECK(ioctl(s, SIOCGIFFLAGS, &ifr) == 0, "SIOCGIFFLAGS: %s", strerror(errno));
    NSF_CHECK(ifr.ifr_flags & IFF_UP, "lo is down (flags %#x)", (unsigned)ifr.ifr_flags);
    close(s);
    char *dev = nsf_read("/proc/net/dev");
    NSF_CHECK(dev != NULL, "read /proc/net/dev");
    int line_no = 0;
    for (char *line = strtok(dev, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        if (++line_no <= 2)
            continue; /* headers */
        char name[32] = "";
        NSF_CHECK(sscanf(line, " %31[^:]:", name) == 1 && strcmp(name, "lo") == 0,
                  "/proc/net/dev lists an interface other than lo: %s", line);
    }
    NSF_CHECK(line_no == 3, "/proc/net/dev has %d lines", line_no);
}

START_TEST(loopback__is_up_and_the_only_interface)
{
    nsf_assert_ok(body_loopback, NULL);
}
END_TEST

static void body_join(void *arg)
{
    const char *path = arg;
    struct stat want, got;
    NSF_CHECK(stat(path, &want) == 0, "stat %s: %s", path, strerror(errno));
    hcs_error *e = NULL;
    NSF_CHECK(hcs_ns_join_net(path, &e) == 0, "%s", e ? e->message : "");
    NSF_CHECK(stat("/proc/self/ns/net", &got) == 0, "stat /proc/self/ns/net");
    NSF_CHECK(got.st_ino == want.st_ino && got.st_dev == want.st_dev,
              "joined namespace %lu, expected %lu", (unsigned long)got.st_ino,
              (unsigned long)want.st_ino);
    nsf_enter(&nsf.root);
    char *net = nsf_list("/sys/class/net");
    NSF_CHECK(strcmp(net, "lo") == 0, "/sys/class/net lists %s", net);
}

static const char *find_ip(void)
{
    static const char *const candidates[] = {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"};
    for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++)
        if (access(candidates[i], X_OK) == 0)
            return candidates[i];
    return NULL;
}

static bool is_mount_point(const char *path)
{
    char *info = nsf_read("/proc/self/mountinfo");
    ck_assert_ptr_nonnull(info);
    char *needle = nsf_fmt(" %s ", path);
    bool found = strstr(info, needle) != NULL;
    free(needle);
    free(info);
    return found;
}

/* A network namespace file bound at path: a helper unshares one, its ns/net is bound there. */
static void bind_new_netns(const char *path)
{
    int p[2];
    ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
    pid_t helper = fork();
    ck_assert_int_ge(helper, 0);
    if (helper == 0) {
        char ok = unshare(CLONE_NEWNET) == 0 ? 'y' : 'n';
        if (write(p[1], &ok, 1) != 1)
            _exit(1);
        pause();
        _exit(0);
    }
    close(p[1]);
    char ok = 'n';
    ck_assert_int_eq(read(p[0], &ok, 1), 1);
    close(p[0]);
    char *src = nsf_fmt("/proc/%d/ns/net", (int)helper);
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    ck_assert_int_ge(fd, 0);
    close(fd);
    int rc = ok == 'y' ? mount(src, path, NULL, MS_BIND, NULL) : -1;
    kill(helper, SIGKILL);
    waitpid(helper, NULL, 0);
    ck_assert_msg(rc == 0, "bind %s at %s: %s", src, path, strerror(errno));
    free(src);
}

START_TEST(join_net__joins_a_namespace_bound_to_a_file)
{
    char *path = nsf_fmt("%s/netns", nsf.base);
    bind_new_netns(path);
    nsf_result r;
    nsf_run(body_join, path, &r);
    int rc = umount2(path, MNT_DETACH);
    ck_assert_msg(r.status == 0, "%s", r.msg);
    ck_assert_int_eq(rc, 0);
    free(path);
}
END_TEST

START_TEST(join_net__joins_an_ip_netns)
{
    const char *ip = find_ip();
    if (ip == NULL) {
        /* No iproute2: a namespace bound to a file is what `ip netns add` makes. */
        char *path = nsf_fmt("%s/netns-ip", nsf.base);
        bind_new_netns(path);
        nsf_result r;
        nsf_run(body_join, path, &r);
        umount2(path, MNT_DETACH);
        ck_assert_msg(r.status == 0, "%s", r.msg);
        free(path);
        return;
    }
    bool run_netns_mounted = is_mount_point("/run/netns");
    char *name = nsf_fmt("hcs-ns-test-%d", (int)getpid());
    char *add = nsf_fmt("%s netns add %s", ip, name);
    char *del = nsf_fmt("%s netns del %s", ip, name);
    char *path = nsf_fmt("/run/netns/%s", name);
    ck_assert_int_eq(system(add), 0);
    nsf_result r;
    nsf_run(body_join, path, &r);
    int rc = system(del);
    /*
     * `ip netns add` bind-mounts /run/netns onto itself when it is not a mount point yet; undo
     * that when nothing else is mounted under it (EBUSY otherwise: another user's namespaces).
     */
    if (!run_netns_mounted)
        umount2("/run/netns", 0);
    ck_assert_msg(r.status == 0, "%s", r.msg);
    ck_assert_int_eq(rc, 0);
    free(name);
    free(add);
    free(del);
    free(path);
}
END_TEST

static void body_join_errors(void *arg)
{
    (void)arg;
    hcs_error *e = NULL;
    NSF_CHECK(hcs_ns_join_net(nsf.host_marker, &e) < 0, "a regular file was joined");
    NSF_CHECK(strstr(e->message, "is not a namespace file") != NULL, "message: %s", e->message);
    hcs_err_free(e);
    e = NULL;
    NSF_CHECK(hcs_ns_join_net("/proc/self/ns/uts", &e) < 0, "a uts namespace was joined");
    NSF_CHECK(strstr(e->message, "is a uts namespace, not a network namespace") != NULL,
              "message: %s", e->message);
    hcs_err_free(e);
    e = NULL;
    NSF_CHECK(hcs_ns_join_net("/nonexistent/netns", &e) < 0, "a missing file was joined");
    NSF_CHECK(strcmp(e->message,
                     "Networking.Namespace: /nonexistent/netns: No such file or directory") == 0,
              "message: %s", e->message);
    NSF_CHECK(e->hr == HCS_E_FILE_NOT_FOUND, "hr %#x", (unsigned)e->hr);
}

START_TEST(join_net__explains_what_is_not_a_network_namespace)
{
    nsf_assert_ok(body_join_errors, NULL);
}
END_TEST

HCS_TEST_SUITE(ns_net_suite)
{
    Suite *s = suite_create("ns_net");
    TCase *tc = tcase_create("net");
    tcase_add_checked_fixture(tc, nsf_setup, nsf_teardown);
    tcase_set_timeout(tc, 60);
    HCS_ADD_ROOT_TEST(tc, hostname__is_set_and_validated);
    HCS_ADD_ROOT_TEST(tc, loopback__is_up_and_the_only_interface);
    HCS_ADD_ROOT_TEST(tc, join_net__joins_a_namespace_bound_to_a_file);
    HCS_ADD_ROOT_TEST(tc, join_net__joins_an_ip_netns);
    HCS_ADD_ROOT_TEST(tc, join_net__explains_what_is_not_a_network_namespace);
    suite_add_tcase(s, tc);
    return s;
}
