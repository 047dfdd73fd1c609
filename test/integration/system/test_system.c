/*
 * test_system.c - real process-isolated compute systems through the public API (root).
 * Every system id starts with "it-" so the leak checks count only ours.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "common/util.h"
#include "hcs_test.h"
#include "system_fixture.h"

static char *props(HCS_SYSTEM sys, const char *query)
{
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    char *doc = NULL;
    ck_assert_hr(sf_wait(op, HcsGetComputeSystemProperties(sys, op, query), &doc), S_OK);
    HcsCloseOperation(op);
    return doc;
}

static HRESULT call(HRESULT (*fn)(HCS_SYSTEM, HCS_OPERATION, const char *), HCS_SYSTEM sys,
                    const char *options, char **doc)
{
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    HRESULT hr = sf_wait(op, fn(sys, op, options), doc);
    HcsCloseOperation(op);
    return hr;
}

/* --- lifecycle and isolation ------------------------------------------------------------------ */

START_TEST(lifecycle__create_start_run_terminate_close_leaves_nothing)
{
    int mounts = sf_count_mounts(), cgroups = sf_count_cgroups(), fds = sf_count_fds();
    HCS_SYSTEM sys = sf_start("it-life", NULL);
    char *out = NULL;
    ck_assert_int_eq(sf_run(sys, "[\"echo\",\"hello\"]", NULL, &out, NULL), 0);
    ck_assert_str_eq(out, "hello\n");
    free(out);
    char *p = props(sys, NULL);
    ck_assert_contains(p, "\"State\":\"Running\"");
    HcsFree(p);
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    ck_assert_hr(sf_wait(op, HcsTerminateComputeSystem(sys, op, NULL), NULL), S_OK);
    char *exit = NULL;
    ck_assert_hr(HcsWaitForComputeSystemExit(sys, 10000, &exit), S_OK);
    ck_assert_contains(exit, "\"ExitType\":\"ForcedExit\"");
    HcsFree(exit);
    /* Stopped but still readable through the handle. */
    char *after = props(sys, NULL);
    ck_assert_contains(after, "\"State\":\"Stopped\"");
    HcsFree(after);
    ck_assert_str_eq(sf_enumerate(), "it-life");
    HcsCloseComputeSystem(sys);
    HcsCloseOperation(op);
    /* After the last close the monitor removes everything. */
    char *ids = sf_enumerate_until_empty();
    ck_assert_str_eq(ids, "");
    free(ids);
    ck_assert_int_eq(sf_count_cgroups(), cgroups);
    ck_assert_int_eq(sf_count_mounts(), mounts);
    ck_assert_int_eq(sf_count_fds(), fds);
}
END_TEST

START_TEST(isolation__pid1_hostname_loopback_only_and_no_host_files)
{
    FILE *marker = fopen("/tmp/hcs-it-host-marker", "w");
    ck_assert_ptr_nonnull(marker);
    fclose(marker);
    HCS_SYSTEM sys = sf_start("it-iso", "\"GuestOs\":{\"HostName\":\"box\"}");
    char *out = NULL;
    ck_assert_int_eq(sf_run(sys, "[\"hostname\"]", NULL, &out, NULL), 0);
    ck_assert_str_eq(out, "box\n");
    free(out);
    ck_assert_int_eq(sf_run(sys, "[\"cat\",\"/proc/1/comm\"]", NULL, &out, NULL), 0);
    ck_assert_str_eq(out, "hcs-init\n");
    free(out);
    ck_assert_int_eq(sf_run(sys, "[\"sh\",\"-c\",\"echo $$\"]", NULL, &out, NULL), 0);
    ck_assert_int_lt(atoi(out), 100); /* a pid of the container's own pid namespace */
    free(out);
    ck_assert_int_eq(
        sf_run(sys, "[\"sh\",\"-c\",\"tail -n +3 /proc/net/dev | cut -d: -f1\"]", NULL, &out, NULL),
        0);
    ck_assert_str_eq(out, "    lo\n");
    free(out);
    ck_assert_int_ne(sf_run(sys, "[\"ls\",\"/tmp/hcs-it-host-marker\"]", NULL, NULL, NULL), 0);
    unlink("/tmp/hcs-it-host-marker");
    sf_destroy(sys);
}
END_TEST

START_TEST(isolation__the_init_binary_cannot_be_written_from_inside)
{
    HCS_SYSTEM sys = sf_start("it-exe", NULL);
    char *err = NULL;
    ck_assert_int_ne(sf_run(sys, "[\"sh\",\"-c\",\"echo x >> /proc/1/exe\"]", NULL, NULL, &err), 0);
    free(err);
    /* Seen from the host, the init runs from the sealed in-memory copy, not from hcsmon. */
    char *state = hcs_asprintf("%s/run/systems/it-exe/state.json", hcs_test_root());
    FILE *f = fopen(state, "r");
    ck_assert_ptr_nonnull(f);
    char buf[4096] = "";
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    free(state);
    const char *ip = strstr(buf, "\"InitPid\"");
    ck_assert_ptr_nonnull(ip);
    char exe[64], link[256] = "";
    snprintf(exe, sizeof(exe), "/proc/%d/exe", atoi(strchr(ip, ':') + 1));
    ck_assert_int_gt(readlink(exe, link, sizeof(link) - 1), 0);
    ck_assert_contains(link, "memfd:hcs-init");
    sf_destroy(sys);
}
END_TEST

/* --- processes -----------------------------------------------------------------------------------
 */

START_TEST(process__exit_codes_stdio_and_command_line_are_exact)
{
    HCS_SYSTEM sys = sf_start("it-proc", NULL);
    char *out = NULL, *err = NULL;
    ck_assert_int_eq(
        sf_run(sys, "[\"sh\",\"-c\",\"cat; echo oops >&2; exit 42\"]", "in put\n", &out, &err), 42);
    ck_assert_str_eq(out, "in put\n");
    ck_assert_str_eq(err, "oops\n");
    free(out);
    free(err);
    /* CommandLine is split by shell word rules without expansion. */
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    HCS_PROCESS p = NULL;
    HCS_PROCESS_INFORMATION pi;
    ck_assert_hr(HcsCreateProcess(sys,
                                  "{\"CommandLine\":\"echo 'a  b' \\\"$HOME\\\" c\\\\ d\","
                                  "\"CreateStdOutPipe\":true}",
                                  op, NULL, &p),
                 S_OK);
    ck_assert_hr(HcsWaitForOperationResultAndProcessInfo(op, 10000, &pi, NULL), S_OK);
    ck_assert_int_eq(pi.StdInput, -1);
    ck_assert_int_eq(pi.StdError, -1);
    char buf[256] = "";
    ssize_t n = read(pi.StdOutput, buf, sizeof(buf) - 1);
    ck_assert_int_gt(n, 0);
    buf[n] = '\0';
    ck_assert_str_eq(buf, "a  b $HOME c d\n");
    close(pi.StdOutput);
    ck_assert_hr(HcsWaitForProcessExit(p, 10000, NULL), S_OK);
    HcsCloseProcess(p);
    /* Environment, user and working directory. */
    ck_assert_hr(HcsCreateProcess(sys,
                                  "{\"CommandArgs\":[\"sh\",\"-c\",\"echo $X $(id -u) $(pwd)\"],"
                                  "\"Environment\":{\"X\":\"y\"},\"User\":\"nobody\","
                                  "\"WorkingDirectory\":\"/tmp\",\"CreateStdOutPipe\":true}",
                                  op, NULL, &p),
                 S_OK);
    ck_assert_hr(HcsWaitForOperationResultAndProcessInfo(op, 10000, &pi, NULL), S_OK);
    n = read(pi.StdOutput, buf, sizeof(buf) - 1);
    buf[n > 0 ? n : 0] = '\0';
    ck_assert_str_eq(buf, "y 65534 /tmp\n");
    close(pi.StdOutput);
    HcsCloseProcess(p);
    HcsCloseOperation(op);
    sf_destroy(sys);
}
END_TEST

START_TEST(process__signals_and_terminate_are_reported_exactly)
{
    HCS_SYSTEM sys = sf_start("it-sig", NULL);
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    HCS_PROCESS p = NULL;
    ck_assert_hr(
        sf_wait(op, HcsCreateProcess(sys, "{\"CommandArgs\":[\"sleep\",\"100\"]}", op, NULL, &p),
                NULL),
        S_OK);
    ck_assert_hr(sf_wait(op, HcsSignalProcess(p, op, "{\"Signal\":15}"), NULL), S_OK);
    char *st = NULL;
    ck_assert_hr(HcsWaitForProcessExit(p, 10000, &st), S_OK);
    ck_assert_contains(st, "\"ExitCode\":143");
    ck_assert_contains(st, "\"Signal\":15");
    HcsFree(st);
    /* Signalling an exited process is refused. */
    ck_assert_hr(sf_wait(op, HcsSignalProcess(p, op, "{\"Signal\":15}"), NULL),
                 HCS_E_PROCESS_ALREADY_STOPPED);
    HcsCloseProcess(p);
    ck_assert_hr(
        sf_wait(op, HcsCreateProcess(sys, "{\"CommandArgs\":[\"sleep\",\"100\"]}", op, NULL, &p),
                NULL),
        S_OK);
    ck_assert_hr(sf_wait(op, HcsTerminateProcess(p, op, NULL), NULL), S_OK);
    ck_assert_hr(HcsWaitForProcessExit(p, 10000, &st), S_OK);
    ck_assert_contains(st, "\"ExitCode\":137");
    HcsFree(st);
    /* Properties of a process, and its info through the operation. */
    ck_assert_hr(sf_wait(op, HcsGetProcessProperties(p, op, NULL), &st), S_OK);
    ck_assert_contains(st, "\"Exited\":true");
    HcsFree(st);
    HcsCloseProcess(p);
    HcsCloseOperation(op);
    sf_destroy(sys);
}
END_TEST

START_TEST(process__missing_executable_is_named)
{
    HCS_SYSTEM sys = sf_start("it-miss", NULL);
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    HCS_PROCESS p = NULL;
    char *doc = NULL;
    ck_assert_hr(
        sf_wait(op, HcsCreateProcess(sys, "{\"CommandArgs\":[\"nosuchtool\",\"x\"]}", op, NULL, &p),
                &doc),
        HCS_E_FILE_NOT_FOUND);
    ck_assert_contains(doc, "executable \\\"nosuchtool\\\" not found in the container");
    HcsFree(doc);
    doc = NULL;
    HcsCloseProcess(p);
    ck_assert_hr(sf_wait(op,
                         HcsCreateProcess(sys, "{\"CommandArgs\":[\"ls\"],\"User\":\"ghost\"}", op,
                                          NULL, &p),
                         &doc),
                 E_INVALIDARG);
    ck_assert_contains(doc, "no user \\\"ghost\\\"");
    HcsFree(doc);
    HcsCloseProcess(p);
    HcsCloseOperation(op);
    sf_destroy(sys);
}
END_TEST

START_TEST(process__console_gets_a_terminal_of_the_asked_size)
{
    HCS_SYSTEM sys = sf_start("it-tty", NULL);
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    HCS_PROCESS p = NULL;
    HCS_PROCESS_INFORMATION pi;
    ck_assert_hr(HcsCreateProcess(sys,
                                  "{\"CommandArgs\":[\"sh\",\"-c\",\"tty; stty size\"],"
                                  "\"EmulateConsole\":true,\"ConsoleSize\":[30,100]}",
                                  op, NULL, &p),
                 S_OK);
    ck_assert_hr(HcsWaitForOperationResultAndProcessInfo(op, 10000, &pi, NULL), S_OK);
    ck_assert_int_ge(pi.StdInput, 0);
    ck_assert_int_ge(pi.StdOutput, 0);
    char buf[512] = "";
    size_t len = 0;
    sf_read_until(pi.StdOutput, buf, sizeof(buf), &len, "100");
    ck_assert_contains(buf, "/dev/pts/");
    ck_assert_contains(buf, "30 100");
    ck_assert_hr(HcsWaitForProcessExit(p, 10000, NULL), S_OK);
    close(pi.StdInput);
    close(pi.StdOutput);
    HcsCloseProcess(p);
    HcsCloseOperation(op);
    sf_destroy(sys);
}
END_TEST

START_TEST(process__console_resize_and_end_of_input)
{
    HCS_SYSTEM sys = sf_start("it-tty2", NULL);
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    HCS_PROCESS p = NULL;
    HCS_PROCESS_INFORMATION pi;
    ck_assert_hr(HcsCreateProcess(sys,
                                  "{\"CommandArgs\":[\"sh\",\"-c\",\"echo waiting; read x; "
                                  "stty size; echo end\"],\"EmulateConsole\":true}",
                                  op, NULL, &p),
                 S_OK);
    ck_assert_hr(HcsWaitForOperationResultAndProcessInfo(op, 10000, &pi, NULL), S_OK);
    char buf[512] = "";
    size_t len = 0;
    sf_read_until(pi.StdOutput, buf, sizeof(buf), &len, "waiting");
    ck_assert_contains(buf, "waiting");
    ck_assert_hr(sf_wait(op,
                         HcsModifyProcess(p, op,
                                          "{\"Operation\":\"ConsoleSize\",\"ConsoleSize\":{"
                                          "\"Height\":40,\"Width\":120}}"),
                         NULL),
                 S_OK);
    ck_assert_hr(sf_wait(op,
                         HcsModifyProcess(p, op,
                                          "{\"Operation\":\"CloseHandle\",\"CloseHandle\":{"
                                          "\"Handle\":\"StdIn\"}}"),
                         NULL),
                 S_OK);
    sf_read_until(pi.StdOutput, buf, sizeof(buf), &len, "end");
    ck_assert_contains(buf, "40 120");
    ck_assert_hr(HcsWaitForProcessExit(p, 10000, NULL), S_OK);
    close(pi.StdInput);
    close(pi.StdOutput);
    HcsCloseProcess(p);
    /* A pipe's end of input is the caller's own descriptor: the call says so. */
    char *doc = NULL;
    ck_assert_hr(sf_wait(op,
                         HcsCreateProcess(sys,
                                          "{\"CommandArgs\":[\"sleep\",\"100\"],"
                                          "\"CreateStdInPipe\":true}",
                                          op, NULL, &p),
                         NULL),
                 S_OK);
    ck_assert_hr(sf_wait(op,
                         HcsModifyProcess(p, op,
                                          "{\"Operation\":\"CloseHandle\",\"CloseHandle\":{"
                                          "\"Handle\":\"StdIn\"}}"),
                         &doc),
                 HCS_E_INVALID_STATE);
    ck_assert_contains(doc, "StdInput descriptor");
    HcsFree(doc);
    HcsCloseProcess(p);
    HcsCloseOperation(op);
    sf_destroy(sys);
}
END_TEST

static void on_process_event(HCS_EVENT *ev, void *ctx)
{
    char **data = ctx;
    if (ev->Type == HcsEventProcessExited && ev->EventData != NULL)
        __atomic_store_n(data, strdup(ev->EventData), __ATOMIC_SEQ_CST);
}

START_TEST(process__open_by_pid_info_callback_and_default_capabilities)
{
    HCS_SYSTEM sys = sf_start("it-popen", NULL);
    /* Docker's default bounding set, and nothing more. */
    char *out = NULL;
    ck_assert_int_eq(sf_run(sys, "[\"grep\",\"CapBnd\",\"/proc/self/status\"]", NULL, &out, NULL),
                     0);
    ck_assert_str_eq(out, "CapBnd:\t00000000a80425fb\n");
    free(out);
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    HCS_PROCESS p = NULL;
    HCS_PROCESS_INFORMATION pi;
    ck_assert_hr(HcsCreateProcess(sys, "{\"CommandArgs\":[\"sleep\",\"100\"]}", op, NULL, &p),
                 S_OK);
    ck_assert_hr(HcsWaitForOperationResultAndProcessInfo(op, 10000, &pi, NULL), S_OK);
    /* GetProcessInfo gives the pid again (the descriptors were handed over once). */
    HCS_PROCESS_INFORMATION again;
    ck_assert_hr(HcsGetProcessInfo(p, op), S_OK);
    ck_assert_hr(HcsWaitForOperationResultAndProcessInfo(op, 10000, &again, NULL), S_OK);
    ck_assert_uint_eq(again.ProcessId, pi.ProcessId);
    ck_assert_int_eq(again.StdOutput, -1);
    /* Another handle opens the process by pid and gets its exit through a callback. */
    HCS_SYSTEM other = NULL;
    ck_assert_hr(HcsOpenComputeSystem("it-popen", 0, &other), S_OK);
    HCS_PROCESS q = NULL;
    ck_assert_hr(HcsOpenProcess(other, pi.ProcessId, HCS_GENERIC_ALL, &q), S_OK);
    char *event = NULL;
    ck_assert_hr(HcsSetProcessCallback(q, HcsEventOptionNone, &event, on_process_event), S_OK);
    HCS_PROCESS none = NULL;
    ck_assert_hr(HcsOpenProcess(other, 99999, 0, &none), E_INVALIDARG);
    ck_assert_ptr_null(none);
    ck_assert_hr(sf_wait(op, HcsSignalProcess(p, op, "{\"Signal\":9}"), NULL), S_OK);
    for (int i = 0; i < 500 && __atomic_load_n(&event, __ATOMIC_SEQ_CST) == NULL; i++)
        usleep(10000);
    ck_assert_ptr_nonnull(event);
    ck_assert_contains(event, "\"ExitCode\":137");
    free(event);
    HcsCloseProcess(q);
    HcsCloseComputeSystem(other);
    HcsCloseProcess(p);
    HcsCloseOperation(op);
    sf_destroy(sys);
}
END_TEST

/* --- limits
 * --------------------------------------------------------------------------------------- */

START_TEST(limits__memory_hog_is_oom_killed_and_pids_limit_stops_a_fork_bomb)
{
    HCS_SYSTEM sys = sf_start("it-lim", "\"Memory\":{\"SizeInMB\":32},"
                                        "\"Linux\":{\"resources\":{\"pids\":{\"limit\":8}}}");
    /* dd allocates and fills a 200 MiB buffer: far above 32 MiB. */
    int code = sf_run(sys, "[\"dd\",\"if=/dev/zero\",\"of=/dev/null\",\"bs=200M\",\"count=1\"]",
                      NULL, NULL, NULL);
    ck_assert_int_eq(code, 137);
    char *out = NULL, *err = NULL;
    sf_run(sys,
           "[\"sh\",\"-c\",\"for i in 1 2 3 4 5 6 7 8 9 10 11 12; do sleep 30 & done; "
           "ps | grep -c 'sleep 30'\"]",
           NULL, &out, &err);
    ck_assert_int_lt(atoi(out), 8);
    ck_assert_contains(err, "fork");
    free(out);
    free(err);
    sf_destroy(sys);
}
END_TEST

START_TEST(modify__limits_and_mapped_directories_of_a_running_system)
{
    HCS_SYSTEM sys = sf_start("it-mod", "\"Memory\":{\"SizeInMB\":64}");
    char *host = hcs_asprintf("%s/shared", hcs_test_root());
    ck_assert_int_eq(mkdir(host, 0755), 0);
    char *file = hcs_asprintf("%s/hello", host);
    FILE *f = fopen(file, "w");
    ck_assert_ptr_nonnull(f);
    fputs("from the host\n", f);
    fclose(f);
    char *req = hcs_asprintf("{\"ResourcePath\":\"Container/MappedDirectories\","
                             "\"RequestType\":\"Add\",\"Settings\":{\"HostPath\":\"%s\","
                             "\"ContainerPath\":\"/mnt/shared\",\"ReadOnly\":true}}",
                             host);
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    char *doc = NULL;
    ck_assert_hr(sf_wait(op, HcsModifyComputeSystem(sys, op, req, NULL), &doc), S_OK);
    char *out = NULL, *err = NULL;
    ck_assert_int_eq(sf_run(sys, "[\"cat\",\"/mnt/shared/hello\"]", NULL, &out, NULL), 0);
    ck_assert_str_eq(out, "from the host\n");
    free(out);
    /* Read-only is honoured. */
    ck_assert_int_ne(sf_run(sys, "[\"touch\",\"/mnt/shared/x\"]", NULL, NULL, &err), 0);
    ck_assert_contains(err, "Read-only");
    free(err);
    /* A second add of the same path is refused; remove makes it go away. */
    ck_assert_hr(sf_wait(op, HcsModifyComputeSystem(sys, op, req, NULL), &doc), E_INVALIDARG);
    ck_assert_contains(doc, "already mapped");
    HcsFree(doc);
    doc = NULL;
    char *rm = hcs_asprintf("{\"ResourcePath\":\"Container/MappedDirectories\","
                            "\"RequestType\":\"Remove\",\"Settings\":{\"HostPath\":\"%s\","
                            "\"ContainerPath\":\"/mnt/shared\"}}",
                            host);
    HRESULT rmhr = sf_wait(op, HcsModifyComputeSystem(sys, op, rm, NULL), &doc);
    ck_assert_msg(rmhr == S_OK, "remove: %s", doc ? doc : "");
    HcsFree(doc);
    doc = NULL;
    ck_assert_int_ne(sf_run(sys, "[\"cat\",\"/mnt/shared/hello\"]", NULL, NULL, NULL), 0);
    ck_assert_hr(sf_wait(op, HcsModifyComputeSystem(sys, op, rm, NULL), &doc), E_INVALIDARG);
    ck_assert_contains(doc, "is not a mapped directory");
    HcsFree(doc);
    /* The memory limit can be changed while running. */
    ck_assert_hr(sf_wait(op,
                         HcsModifyComputeSystem(sys, op,
                                                "{\"ResourcePath\":\"Container/Memory/"
                                                "SizeInMB\",\"RequestType\":\"Update\","
                                                "\"Settings\":128}",
                                                NULL),
                         NULL),
                 S_OK);
    ck_assert_int_eq(sf_run(sys, "[\"cat\",\"/proc/self/cgroup\"]", NULL, NULL, NULL), 0);
    free(req);
    free(rm);
    free(file);
    free(host);
    HcsCloseOperation(op);
    sf_destroy(sys);
}
END_TEST

/* --- state changes
 * ---------------------------------------------------------------------------------- */

START_TEST(state__pause_resume_and_wrong_state_errors)
{
    HCS_SYSTEM sys = sf_create("it-state", NULL, NULL);
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    HCS_PROCESS p = NULL;
    char *doc = NULL;
    ck_assert_hr(
        sf_wait(op, HcsCreateProcess(sys, "{\"CommandArgs\":[\"true\"]}", op, NULL, &p), &doc),
        HCS_E_INVALID_STATE);
    ck_assert_contains(doc, "is Created");
    HcsFree(doc);
    HcsCloseProcess(p);
    ck_assert_hr(call(HcsPauseComputeSystem, sys, NULL, NULL), HCS_E_INVALID_STATE);
    ck_assert_hr(call(HcsStartComputeSystem, sys, NULL, NULL), S_OK);
    ck_assert_hr(call(HcsStartComputeSystem, sys, NULL, NULL), HCS_E_INVALID_STATE);
    ck_assert_hr(call(HcsPauseComputeSystem, sys, NULL, NULL), S_OK);
    char *pr = props(sys, NULL);
    ck_assert_contains(pr, "\"State\":\"Paused\"");
    HcsFree(pr);
    ck_assert_hr(
        sf_wait(op, HcsCreateProcess(sys, "{\"CommandArgs\":[\"true\"]}", op, NULL, &p), NULL),
        HCS_E_INVALID_STATE);
    HcsCloseProcess(p);
    ck_assert_hr(call(HcsResumeComputeSystem, sys, NULL, NULL), S_OK);
    ck_assert_int_eq(sf_run(sys, "[\"true\"]", NULL, NULL, NULL), 0);
    ck_assert_hr(call(HcsSaveComputeSystem, sys, NULL, NULL), E_NOTIMPL);
    ck_assert_hr(call(HcsTerminateComputeSystem, sys, NULL, NULL), S_OK);
    ck_assert_hr(call(HcsTerminateComputeSystem, sys, NULL, NULL), HCS_E_SYSTEM_ALREADY_STOPPED);
    ck_assert_hr(call(HcsShutDownComputeSystem, sys, NULL, NULL), HCS_E_SYSTEM_ALREADY_STOPPED);
    HcsCloseOperation(op);
    HcsCloseComputeSystem(sys);
}
END_TEST

START_TEST(state__shutdown_is_graceful_unless_the_grace_period_runs_out)
{
    HCS_SYSTEM sys = sf_start("it-shut1", NULL);
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    HCS_PROCESS p = NULL;
    ck_assert_hr(
        sf_wait(op, HcsCreateProcess(sys, "{\"CommandArgs\":[\"sleep\",\"100\"]}", op, NULL, &p),
                NULL),
        S_OK);
    ck_assert_hr(call(HcsShutDownComputeSystem, sys, NULL, NULL), S_OK);
    char *exit = NULL;
    ck_assert_hr(HcsWaitForComputeSystemExit(sys, 10000, &exit), S_OK);
    ck_assert_contains(exit, "\"ExitType\":\"GracefulExit\"");
    HcsFree(exit);
    char *st = NULL;
    ck_assert_hr(HcsWaitForProcessExit(p, 10000, &st), S_OK);
    ck_assert_contains(st, "\"Signal\":15");
    HcsFree(st);
    HcsCloseProcess(p);
    HcsCloseComputeSystem(sys);
    /* A process that ignores SIGTERM is killed after the grace period. */
    sys = sf_start("it-shut2", NULL);
    HCS_PROCESS_INFORMATION pi;
    ck_assert_hr(HcsCreateProcess(sys,
                                  "{\"CommandArgs\":[\"sh\",\"-c\",\"trap '' TERM; echo ready; "
                                  "sleep 100\"],\"CreateStdOutPipe\":true}",
                                  op, NULL, &p),
                 S_OK);
    ck_assert_hr(HcsWaitForOperationResultAndProcessInfo(op, 10000, &pi, NULL), S_OK);
    char ready[16] = "";
    ck_assert_int_gt(read(pi.StdOutput, ready, sizeof(ready) - 1), 0); /* the trap is set */
    close(pi.StdOutput);
    ck_assert_hr(call(HcsShutDownComputeSystem, sys, "{\"GracePeriodSeconds\":1}", NULL), S_OK);
    ck_assert_hr(HcsWaitForComputeSystemExit(sys, 10000, &exit), S_OK);
    ck_assert_contains(exit, "\"ExitType\":\"ForcedExit\"");
    HcsFree(exit);
    HcsCloseProcess(p);
    HcsCloseComputeSystem(sys);
    HcsCloseOperation(op);
}
END_TEST

START_TEST(state__duplicate_id_is_refused)
{
    HCS_SYSTEM sys = sf_create("it-dup", NULL, NULL);
    char *cfg = sf_config(NULL, NULL);
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    HCS_SYSTEM again = NULL;
    ck_assert_hr(sf_wait(op, HcsCreateComputeSystem("it-dup", cfg, op, NULL, &again), NULL),
                 HCS_E_SYSTEM_ALREADY_EXISTS);
    free(cfg);
    HcsCloseOperation(op);
    sf_destroy(sys);
}
END_TEST

START_TEST(create__cancelled_at_once_leaves_a_handle_that_closes)
{
    char *cfg = sf_config(NULL, NULL);
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    HCS_SYSTEM sys = NULL;
    ck_assert_hr(HcsCreateComputeSystem("it-cancel", cfg, op, NULL, &sys), S_OK);
    HcsCancelOperation(op);
    HRESULT hr = HcsWaitForOperationResult(op, 30000, NULL);
    ck_assert(hr == S_OK || hr == HCS_E_CANCELLED);
    if (hr == S_OK)
        sf_destroy(sys); /* the work had started: creation is not cancellable past that */
    else
        HcsCloseComputeSystem(sys); /* must return: no connection will ever come */
    HcsCloseOperation(op);
    free(cfg);
}
END_TEST

START_TEST(create__a_long_id_gives_a_host_name_cut_to_64_bytes)
{
    char id[101];
    memset(id, 'a', 100);
    memcpy(id, "it-", 3);
    id[100] = '\0';
    HCS_SYSTEM sys = sf_start(id, NULL);
    char *out = NULL;
    ck_assert_int_eq(sf_run(sys, "[\"hostname\"]", NULL, &out, NULL), 0);
    ck_assert_int_eq((int)strlen(out), 65); /* 64 and the newline */
    ck_assert_int_eq(strncmp(out, id, 64), 0);
    free(out);
    sf_destroy(sys);
}
END_TEST

/* --- handles and processes of other callers ------------------------------------------------------
 */

static void on_event(HCS_EVENT *ev, void *ctx)
{
    int *seen = ctx;
    if (ev->Type == HcsEventSystemExited && ev->EventData != NULL &&
        strstr(ev->EventData, "ForcedExit") != NULL)
        __atomic_store_n(seen, 1, __ATOMIC_SEQ_CST);
}

START_TEST(handles__open_from_a_second_process_and_survive_the_creator)
{
    /* A child creates and starts a system, then exits without closing anything. */
    pid_t child = fork();
    if (child == 0) {
        HCS_SYSTEM s = sf_start("it-orphan", NULL);
        (void)s;
        _exit(0);
    }
    int status;
    ck_assert_int_eq(waitpid(child, &status, 0), child);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ck_assert_str_eq(sf_enumerate(), "it-orphan");
    HCS_SYSTEM sys = NULL;
    ck_assert_hr(HcsOpenComputeSystem("it-orphan", HCS_GENERIC_ALL, &sys), S_OK);
    char *p = props(sys, NULL);
    ck_assert_contains(p, "\"State\":\"Running\"");
    HcsFree(p);
    ck_assert_int_eq(sf_run(sys, "[\"true\"]", NULL, NULL, NULL), 0);
    /* A second handle in this process sees the same system and its exit event. */
    HCS_SYSTEM other = NULL;
    int seen = 0;
    ck_assert_hr(HcsOpenComputeSystem("it-orphan", 0, &other), S_OK);
    ck_assert_hr(HcsSetComputeSystemCallback(other, HcsEventOptionNone, &seen, on_event), S_OK);
    ck_assert_hr(HcsSetComputeSystemCallback(other, HcsEventOptionNone, &seen, on_event),
                 HCS_E_OPERATION_SYSTEM_CALLBACK_ALREADY_SET);
    sf_destroy(sys);
    ck_assert_hr(HcsWaitForComputeSystemExit(other, 10000, NULL), S_OK);
    for (int i = 0; i < 500 && !__atomic_load_n(&seen, __ATOMIC_SEQ_CST); i++)
        usleep(10000);
    ck_assert_int_eq(seen, 1);
    HcsCloseComputeSystem(other);
}
END_TEST

START_TEST(handles__terminate_on_last_handle_closed)
{
    char *cfg = sf_config(NULL, "\"ShouldTerminateOnLastHandleClosed\":true");
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    HCS_SYSTEM sys = NULL;
    ck_assert_hr(sf_wait(op, HcsCreateComputeSystem("it-tolhc", cfg, op, NULL, &sys), NULL), S_OK);
    ck_assert_hr(sf_wait(op, HcsStartComputeSystem(sys, op, NULL), NULL), S_OK);
    free(cfg);
    HcsCloseOperation(op);
    ck_assert_str_eq(sf_enumerate(), "it-tolhc");
    HcsCloseComputeSystem(sys);
    char *ids = sf_enumerate_until_empty();
    ck_assert_str_eq(ids, "");
    free(ids);
}
END_TEST

START_TEST(handles__unknown_system_is_not_found)
{
    HCS_SYSTEM sys = NULL;
    ck_assert_hr(HcsOpenComputeSystem("it-nobody", 0, &sys), HCS_E_SYSTEM_NOT_FOUND);
}
END_TEST

START_TEST(handles__a_killed_monitor_is_reported_and_cleaned_up)
{
    int cgroups = sf_count_cgroups();
    HCS_SYSTEM sys = sf_start("it-kill", NULL);
    /* The monitor's pid, as recorded in its state file. */
    char *state = hcs_asprintf("%s/run/systems/it-kill/state.json", hcs_test_root());
    FILE *f = fopen(state, "r");
    ck_assert_ptr_nonnull(f);
    char buf[4096] = "";
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    free(state);
    const char *mp = strstr(buf, "\"MonitorPid\"");
    ck_assert_ptr_nonnull(mp);
    pid_t monitor = (pid_t)atoi(strchr(mp, ':') + 1);
    ck_assert_int_gt(monitor, 1);
    ck_assert_int_eq(kill(monitor, SIGKILL), 0);
    char *exit = NULL;
    ck_assert_hr(HcsWaitForComputeSystemExit(sys, 10000, &exit), S_OK);
    ck_assert_contains(exit, "\"ExitType\":\"UnexpectedExit\"");
    HcsFree(exit);
    /* Enumerate reports it stopped; close removes what it left. */
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    char *list = NULL;
    ck_assert_hr(sf_wait(op, HcsEnumerateComputeSystems(NULL, op), &list), S_OK);
    ck_assert_contains(list, "\"ExitType\":\"UnexpectedExit\"");
    HcsFree(list);
    HcsCloseOperation(op);
    HcsCloseComputeSystem(sys);
    ck_assert_str_eq(sf_enumerate(), "");
    ck_assert_int_eq(sf_count_cgroups(), cgroups);
}
END_TEST

struct op_event {
    HCS_OPERATION op;
    HRESULT hr;
};

static void on_operation_event(HCS_EVENT *ev, void *ctx)
{
    struct op_event *seen = ctx;
    if (ev->Type == HcsEventOperationCallback && ev->Operation != NULL) {
        seen->hr = HcsGetOperationResult(ev->Operation, NULL);
        __atomic_store_n(&seen->op, ev->Operation, __ATOMIC_SEQ_CST);
    }
}

static void unused_completion(HCS_OPERATION op, void *ctx)
{
    (void)op;
    (void)ctx;
}

START_TEST(handles__operation_completions_through_the_event_callback)
{
    HCS_SYSTEM sys = sf_start("it-opcb", NULL);
    struct op_event seen = {NULL, E_FAIL};
    ck_assert_hr(HcsSetComputeSystemCallback(sys, HcsEventOptionEnableOperationCallbacks, &seen,
                                             on_operation_event),
                 S_OK);
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    ck_assert_hr(HcsGetComputeSystemProperties(sys, op, NULL), S_OK);
    for (int i = 0; i < 500 && __atomic_load_n(&seen.op, __ATOMIC_SEQ_CST) == NULL; i++)
        usleep(10000);
    ck_assert_ptr_eq(seen.op, op);
    ck_assert_hr(seen.hr, S_OK);
    /* An operation with its own completion callback conflicts with that choice. */
    HCS_OPERATION own = HcsCreateOperation(NULL, unused_completion);
    ck_assert_hr(HcsGetComputeSystemProperties(sys, own, NULL),
                 HCS_E_OPERATION_SYSTEM_CALLBACK_ALREADY_SET);
    HcsCloseOperation(own);
    HcsCloseOperation(op);
    sf_destroy(sys);
}
END_TEST

/* --- networking
 * ----------------------------------------------------------------------------------- */

/* "net:[inode]" of the container's network namespace, as a process inside sees it. */
static char *container_netns(HCS_SYSTEM sys)
{
    char *out = NULL;
    ck_assert_int_eq(sf_run(sys, "[\"readlink\",\"/proc/self/ns/net\"]", NULL, &out, NULL), 0);
    out[strcspn(out, "\n")] = '\0';
    return out;
}

START_TEST(network__joins_a_namespace_by_path_or_shares_another_system_s)
{
    /* A network namespace of our own, as `ip netns add` makes it. */
    char ns[64];
    snprintf(ns, sizeof(ns), "hcs-it-%d", (int)getpid());
    char *cmd = hcs_asprintf("ip netns add %s", ns);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
    char *path = hcs_asprintf("/run/netns/%s", ns);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    char want[64];
    snprintf(want, sizeof(want), "net:[%lu]", (unsigned long)st.st_ino);
    char *extra = hcs_asprintf("\"Networking\":{\"Namespace\":\"%s\"}", path);
    HCS_SYSTEM joined = sf_start("it-netns", extra);
    free(extra);
    char *got = container_netns(joined);
    ck_assert_str_eq(got, want);
    free(got);
    /* A second system shares the first one's network. */
    HCS_SYSTEM a = sf_start("it-neta", NULL);
    HCS_SYSTEM b =
        sf_start("it-netb", "\"Networking\":{\"NetworkSharedContainerName\":\"it-neta\"}");
    char *na = container_netns(a), *nb = container_netns(b);
    ck_assert_str_eq(na, nb);
    ck_assert_str_ne(na, want);
    free(na);
    free(nb);
    sf_destroy(b);
    sf_destroy(a);
    sf_destroy(joined);
    cmd = hcs_asprintf("ip netns delete %s", ns);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
    free(path);
}
END_TEST

START_TEST(network__sharing_with_a_missing_system_is_refused_by_name)
{
    char *cfg = sf_config("\"Networking\":{\"NetworkSharedContainerName\":\"it-ghost\"}", NULL);
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    HCS_SYSTEM sys = NULL;
    char *doc = NULL;
    ck_assert_hr(sf_wait(op, HcsCreateComputeSystem("it-share", cfg, op, NULL, &sys), &doc),
                 HCS_E_SYSTEM_NOT_FOUND);
    ck_assert_contains(
        doc, "NetworkSharedContainerName: compute system \\\"it-ghost\\\" is not running");
    HcsFree(doc);
    HcsCloseComputeSystem(sys);
    HcsCloseOperation(op);
    free(cfg);
    ck_assert_str_eq(sf_enumerate(), "");
}
END_TEST

/* --- leaks
 * ---------------------------------------------------------------------------------------- */

START_TEST(leaks__repeated_lifecycles_leave_no_mount_cgroup_fd_or_state)
{
    int mounts = sf_count_mounts(), cgroups = sf_count_cgroups(), fds = sf_count_fds();
    int rounds = getenv("HCS_LEAK_ROUNDS") ? atoi(getenv("HCS_LEAK_ROUNDS")) : 200;
    for (int i = 0; i < rounds; i++) {
        char id[32];
        snprintf(id, sizeof(id), "it-leak-%d", i);
        HCS_SYSTEM sys = sf_start(id, NULL);
        ck_assert_int_eq(sf_run(sys, "[\"true\"]", NULL, NULL, NULL), 0);
        sf_destroy(sys);
    }
    char *ids = sf_enumerate_until_empty();
    ck_assert_str_eq(ids, "");
    free(ids);
    ck_assert_int_eq(sf_count_cgroups(), cgroups);
    ck_assert_int_eq(sf_count_mounts(), mounts);
    ck_assert_int_eq(sf_count_fds(), fds);
}
END_TEST

HCS_TEST_SUITE(system_suite)
{
    Suite *s = suite_create("system");
    TCase *tc = tcase_create("system");
    tcase_add_checked_fixture(tc, sf_setup, sf_teardown);
    tcase_set_timeout(tc, 120);
    HCS_ADD_ROOT_TEST(tc, lifecycle__create_start_run_terminate_close_leaves_nothing);
    HCS_ADD_ROOT_TEST(tc, isolation__pid1_hostname_loopback_only_and_no_host_files);
    HCS_ADD_ROOT_TEST(tc, isolation__the_init_binary_cannot_be_written_from_inside);
    HCS_ADD_ROOT_TEST(tc, process__exit_codes_stdio_and_command_line_are_exact);
    HCS_ADD_ROOT_TEST(tc, process__signals_and_terminate_are_reported_exactly);
    HCS_ADD_ROOT_TEST(tc, process__missing_executable_is_named);
    HCS_ADD_ROOT_TEST(tc, process__console_gets_a_terminal_of_the_asked_size);
    HCS_ADD_ROOT_TEST(tc, process__console_resize_and_end_of_input);
    HCS_ADD_ROOT_TEST(tc, process__open_by_pid_info_callback_and_default_capabilities);
    HCS_ADD_ROOT_TEST(tc, limits__memory_hog_is_oom_killed_and_pids_limit_stops_a_fork_bomb);
    HCS_ADD_ROOT_TEST(tc, modify__limits_and_mapped_directories_of_a_running_system);
    HCS_ADD_ROOT_TEST(tc, state__pause_resume_and_wrong_state_errors);
    HCS_ADD_ROOT_TEST(tc, state__shutdown_is_graceful_unless_the_grace_period_runs_out);
    HCS_ADD_ROOT_TEST(tc, state__duplicate_id_is_refused);
    HCS_ADD_ROOT_TEST(tc, create__cancelled_at_once_leaves_a_handle_that_closes);
    HCS_ADD_ROOT_TEST(tc, create__a_long_id_gives_a_host_name_cut_to_64_bytes);
    HCS_ADD_ROOT_TEST(tc, handles__open_from_a_second_process_and_survive_the_creator);
    HCS_ADD_ROOT_TEST(tc, handles__terminate_on_last_handle_closed);
    HCS_ADD_ROOT_TEST(tc, handles__unknown_system_is_not_found);
    HCS_ADD_ROOT_TEST(tc, handles__operation_completions_through_the_event_callback);
    HCS_ADD_ROOT_TEST(tc, network__joins_a_namespace_by_path_or_shares_another_system_s);
    HCS_ADD_ROOT_TEST(tc, network__sharing_with_a_missing_system_is_refused_by_name);
    HCS_ADD_ROOT_TEST(tc, handles__a_killed_monitor_is_reported_and_cleaned_up);
    HCS_ADD_ROOT_TEST(tc, leaks__repeated_lifecycles_leave_no_mount_cgroup_fd_or_state);
    suite_add_tcase(s, tc);
    return s;
}
