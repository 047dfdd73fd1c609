/* test_dev.c - the container's /dev, /sys and the masked and read-only paths of /proc. */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "ns_fixture.h"

#ifndef MQUEUE_MAGIC
#define MQUEUE_MAGIC 0x19800202
#endif

static void body_dev(void *arg)
{
    (void)arg;
    nsf_enter(&nsf.root);
    char *ls = nsf_list("/dev");
    NSF_CHECK(strcmp(ls, "fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom "
                         "zero") == 0,
              "/dev lists \"%s\"", ls);

    struct stat st;
    NSF_CHECK(stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3),
              "/dev/null is not the null device");
    int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    char buf[16];
    NSF_CHECK(fd >= 0 && write(fd, "discard", 7) == 7, "write /dev/null: %s", strerror(errno));
    NSF_CHECK(read(fd, buf, sizeof(buf)) == 0, "read /dev/null gave data");
    close(fd);
    fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
    memset(buf, 1, sizeof(buf));
    NSF_CHECK(fd >= 0 && read(fd, buf, sizeof(buf)) == (ssize_t)sizeof(buf) && buf[0] == 0 &&
                  buf[15] == 0,
              "read /dev/zero");
    close(fd);
    fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    NSF_CHECK(fd >= 0 && read(fd, buf, sizeof(buf)) == (ssize_t)sizeof(buf), "read /dev/urandom");
    close(fd);
    fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
    NSF_CHECK(fd >= 0 && write(fd, "x", 1) < 0 && errno == ENOSPC, "write /dev/full: %s",
              strerror(errno));
    close(fd);

    char link[64];
    ssize_t n = readlink("/dev/ptmx", link, sizeof(link) - 1);
    NSF_CHECK(n > 0 && (link[n] = '\0', strcmp(link, "pts/ptmx") == 0), "/dev/ptmx -> %s", link);
    n = readlink("/dev/fd", link, sizeof(link) - 1);
    NSF_CHECK(n > 0 && (link[n] = '\0', strcmp(link, "/proc/self/fd") == 0), "/dev/fd -> %s", link);
    n = readlink("/dev/stderr", link, sizeof(link) - 1);
    NSF_CHECK(n > 0 && (link[n] = '\0', strcmp(link, "/proc/self/fd/2") == 0), "/dev/stderr -> %s",
              link);
    NSF_CHECK(access("/dev/stdout", W_OK) == 0, "/dev/stdout does not resolve");

    struct statfs sfs;
    struct statvfs vfs;
    NSF_CHECK(statfs("/dev", &sfs) == 0 && sfs.f_type == TMPFS_MAGIC, "/dev is not a tmpfs");
    NSF_CHECK((unsigned long)sfs.f_blocks * (unsigned long)sfs.f_bsize == 64 * 1024,
              "/dev holds %lu bytes", (unsigned long)sfs.f_blocks * (unsigned long)sfs.f_bsize);
    NSF_CHECK(statvfs("/dev", &vfs) == 0 && (vfs.f_flag & ST_NOSUID), "/dev is not nosuid");
    NSF_CHECK(stat("/dev", &st) == 0 && (st.st_mode & 07777) == 0755, "/dev has mode %o",
              st.st_mode & 07777);
    NSF_CHECK(statfs("/dev/shm", &sfs) == 0 && sfs.f_type == TMPFS_MAGIC,
              "/dev/shm is not a tmpfs");
    NSF_CHECK(stat("/dev/shm", &st) == 0 && (st.st_mode & 07777) == 01777, "/dev/shm has mode %o",
              st.st_mode & 07777);
    NSF_CHECK(statvfs("/dev/shm", &vfs) == 0 && (vfs.f_flag & ST_NOSUID) &&
                  (vfs.f_flag & ST_NODEV) && (vfs.f_flag & ST_NOEXEC),
              "/dev/shm lacks nosuid, nodev or noexec");
    fd = open("/dev/shm/x", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    NSF_CHECK(fd >= 0, "create /dev/shm/x: %s", strerror(errno));
    close(fd);
    NSF_CHECK(statfs("/dev/mqueue", &sfs) == 0 && sfs.f_type == MQUEUE_MAGIC,
              "/dev/mqueue is not an mqueue file system");
    NSF_CHECK(statfs("/dev/pts", &sfs) == 0 && sfs.f_type == DEVPTS_SUPER_MAGIC,
              "/dev/pts is not devpts");
}

START_TEST(dev__has_exactly_the_standard_nodes)
{
    nsf_assert_ok(body_dev, NULL);
}
END_TEST

static void body_pts(void *arg)
{
    (void)arg;
    nsf_enter(&nsf.root);
    int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    NSF_CHECK(master >= 0, "posix_openpt: %s", strerror(errno));
    NSF_CHECK(grantpt(master) == 0, "grantpt: %s", strerror(errno));
    NSF_CHECK(unlockpt(master) == 0, "unlockpt: %s", strerror(errno));
    const char *name = ptsname(master);
    NSF_CHECK(name != NULL && strcmp(name, "/dev/pts/0") == 0,
              "ptsname = %s (expected the first pty of a new devpts instance)",
              name ? name : "(null)");
    int slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    NSF_CHECK(slave >= 0, "open %s: %s", name, strerror(errno));
    struct stat st;
    NSF_CHECK(fstat(slave, &st) == 0 && st.st_gid == 5, "%s has gid %d (the image has group 5)",
              name, (int)st.st_gid);
    NSF_CHECK(write(master, "hi\n", 3) == 3, "write to the pty master");
    char buf[8] = "";
    NSF_CHECK(read(slave, buf, sizeof(buf) - 1) == 3 && strcmp(buf, "hi\n") == 0,
              "read from the pty slave: %s", buf);
    NSF_CHECK(stat("/dev/pts/ptmx", &st) == 0 && (st.st_mode & 0777) == 0666,
              "/dev/pts/ptmx has mode %o", st.st_mode & 0777);
}

START_TEST(dev__pts_allocates_terminals)
{
    nsf_assert_ok(body_pts, NULL);
}
END_TEST

static void body_sys(void *arg)
{
    (void)arg;
    nsf_enter(&nsf.root);
    struct statfs sfs;
    NSF_CHECK(statfs("/sys", &sfs) == 0 && sfs.f_type == SYSFS_MAGIC, "/sys is not sysfs");
    struct statvfs vfs;
    NSF_CHECK(statvfs("/sys", &vfs) == 0 && (vfs.f_flag & ST_RDONLY) && (vfs.f_flag & ST_NOSUID) &&
                  (vfs.f_flag & ST_NODEV) && (vfs.f_flag & ST_NOEXEC),
              "/sys is not ro,nosuid,nodev,noexec (flags %#lx)", (unsigned long)vfs.f_flag);
    NSF_CHECK_EROFS("/sys/kernel/x", -1);
    if (nsf_exists("/sys/kernel/uevent_helper"))
        NSF_CHECK_EROFS("/sys/kernel/uevent_helper", O_WRONLY);
    char *net = nsf_list("/sys/class/net");
    NSF_CHECK(strcmp(net, "lo") == 0, "/sys/class/net lists \"%s\" (not this netns' view)", net);
}

START_TEST(sys__is_read_only_and_shows_this_network_namespace)
{
    nsf_assert_ok(body_sys, NULL);
}
END_TEST

/* Bytes read from path (up to 64); -1 when it cannot be opened. */
static ssize_t read_some(const char *path)
{
    char buf[64];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof(buf));
    close(fd);
    return n;
}

static void body_masked(void *arg)
{
    (void)arg;
    nsf_enter(&nsf.root);
    struct stat st;
    /* Files are covered with /dev/null (this host's kernel has no /proc/kcore: skipped). */
    static const char *const files[] = {"/proc/kcore", "/proc/keys", "/proc/timer_list"};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        if (stat(files[i], &st) < 0 && errno == ENOENT && i == 0)
            continue;
        NSF_CHECK(stat(files[i], &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3),
                  "%s is not masked with /dev/null", files[i]);
        NSF_CHECK(read_some(files[i]) == 0, "%s gave data", files[i]);
    }
    NSF_CHECK(stat("/proc/keys", &st) == 0, "/proc/keys is missing");
    NSF_CHECK(read_some("/proc/timer_list") <= 0, "/proc/timer_list gave data");
    NSF_CHECK(read_some("/proc/sched_debug") <= 0, "/proc/sched_debug gave data");
    /* Folders are covered with an empty read-only tmpfs. */
    if (nsf_exists("/proc/acpi")) {
        char *ls = nsf_list("/proc/acpi");
        NSF_CHECK(strcmp(ls, "") == 0, "/proc/acpi lists %s", ls);
        NSF_CHECK_EROFS("/proc/acpi/x", -1);
    }
    char *fw = nsf_list("/sys/firmware");
    NSF_CHECK(strcmp(fw, "") == 0, "/sys/firmware lists %s", fw);

    /* Read-only paths stay readable. */
    char *host = nsf_read("/proc/sys/kernel/hostname");
    NSF_CHECK(host != NULL && host[0] != '\0', "/proc/sys/kernel/hostname is not readable");
    NSF_CHECK_EROFS("/proc/sys/kernel/hostname", O_WRONLY);
    NSF_CHECK_EROFS("/proc/sys/net/ipv4/ip_forward", O_WRONLY);
    /* This host's kernel has no /proc/sysrq-trigger (no CONFIG_MAGIC_SYSRQ). */
    if (nsf_exists("/proc/sysrq-trigger"))
        NSF_CHECK_EROFS("/proc/sysrq-trigger", O_WRONLY);
    static const char *const ro[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys"};
    for (size_t i = 0; i < sizeof(ro) / sizeof(ro[0]); i++) {
        struct statvfs vfs;
        NSF_CHECK(!nsf_exists(ro[i]) || (statvfs(ro[i], &vfs) == 0 && (vfs.f_flag & ST_RDONLY)),
                  "%s is not mounted read-only", ro[i]);
    }
    struct statvfs pvfs;
    NSF_CHECK(statvfs("/proc", &pvfs) == 0 && !(pvfs.f_flag & ST_RDONLY) &&
                  (pvfs.f_flag & ST_NOSUID) && (pvfs.f_flag & ST_NODEV) &&
                  (pvfs.f_flag & ST_NOEXEC),
              "/proc is not rw,nosuid,nodev,noexec (flags %#lx)", (unsigned long)pvfs.f_flag);
    /* The rest of /proc is as usual. */
    int fd = open("/proc/self/comm", O_WRONLY | O_CLOEXEC);
    NSF_CHECK(fd >= 0, "open /proc/self/comm for writing: %s", strerror(errno));
    close(fd);
}

START_TEST(proc__default_masked_and_read_only_paths)
{
    nsf_assert_ok(body_masked, NULL);
}
END_TEST

static void body_custom_lists(void *arg)
{
    (void)arg;
    static const char *const masked[] = {"/proc/cpuinfo", "/proc/does-not-exist"};
    static const char *const none[] = {NULL};
    hcs_ns_root root = nsf.root;
    root.masked_paths = masked;
    root.n_masked_paths = 2;
    root.readonly_paths = none;
    root.n_readonly_paths = 0;
    nsf_enter(&root);
    NSF_CHECK(read_some("/proc/cpuinfo") == 0, "/proc/cpuinfo is not masked");
    struct stat st;
    NSF_CHECK(stat("/proc/keys", &st) == 0 && S_ISREG(st.st_mode),
              "/proc/keys is masked though the list omits it");
    int fd = open("/proc/sys/kernel/hostname", O_WRONLY | O_CLOEXEC);
    NSF_CHECK(fd >= 0, "/proc/sys is read-only though the list is empty: %s", strerror(errno));
    close(fd);
}

START_TEST(proc__masked_and_read_only_lists_can_be_replaced)
{
    nsf_assert_ok(body_custom_lists, NULL);
}
END_TEST

HCS_TEST_SUITE(ns_dev_suite)
{
    Suite *s = suite_create("ns_dev");
    TCase *tc = tcase_create("dev");
    tcase_add_checked_fixture(tc, nsf_setup, nsf_teardown);
    tcase_set_timeout(tc, 60);
    HCS_ADD_ROOT_TEST(tc, dev__has_exactly_the_standard_nodes);
    HCS_ADD_ROOT_TEST(tc, dev__pts_allocates_terminals);
    HCS_ADD_ROOT_TEST(tc, sys__is_read_only_and_shows_this_network_namespace);
    HCS_ADD_ROOT_TEST(tc, proc__default_masked_and_read_only_paths);
    HCS_ADD_ROOT_TEST(tc, proc__masked_and_read_only_lists_can_be_replaced);
    suite_add_tcase(s, tc);
    return s;
}
