/*
 * exec.c - `hcsdiag exec` and `hcsdiag console`: a process in a running compute system
 * (HcsCreateProcess) with its standard streams joined to hcsdiag's own.
 *
 * Without -t the process gets pipes: its stdout and stderr are copied to hcsdiag's, and with -i
 * hcsdiag's stdin is copied to it (its end closed at end of file). With -t it gets a console (a
 * pseudo-terminal, EmulateConsole): the local terminal, when stdin is one and -i is given, is put
 * in raw mode (so ^C, ^Z and line editing reach the process's terminal) and restored at the end;
 * SIGWINCH resizes the console (HcsModifyProcess ConsoleSize).
 *
 * One thread: a poll loop over the streams and a self-pipe that receives the signals hcsdiag
 * forwards to the process (SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2) and the
 * process's exit (its event callback runs on a library thread). After the exit, what is still in
 * the streams is copied until they end or stay idle for a moment (a process left running in the
 * background may hold them open), for at most DRAIN_MAX_MS. hcsdiag exits with the process's exit
 * code (128 + N when signal N ended it), or HCSDIAG_EXEC_FAIL when the process did not run.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "hcsdiag.h"

#define EVENT_PROCESS_EXITED 0xFE
#define EVENT_SYSTEM_EXITED 0xFD
#define DRAIN_IDLE_MS 100
#define DRAIN_MAX_MS 2000
#define BUF_SIZE 65536

static int self_pipe[2] = {-1, -1};

static void notify(unsigned char what)
{
    int saved = errno;
    ssize_t n = write(self_pipe[1], &what, 1); /* full pipe: a wake-up is already pending */
    (void)n;
    errno = saved;
}

static void on_signal(int sig)
{
    notify((unsigned char)sig);
}

static void on_process_event(HCS_EVENT *event, void *context)
{
    (void)context;
    if (event->Type == HcsEventProcessExited)
        notify(EVENT_PROCESS_EXITED);
}

static void on_system_event(HCS_EVENT *event, void *context)
{
    (void)context;
    if (event->Type == HcsEventSystemExited || event->Type == HcsEventServiceDisconnect)
        notify(EVENT_SYSTEM_EXITED);
}

static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

/* --- the local terminal --------------------------------------------------------------------- */

static struct termios saved_tio;
static bool raw_on;

static void terminal_restore(void)
{
    if (raw_on) {
        tcsetattr(0, TCSADRAIN, &saved_tio);
        raw_on = false;
    }
}

static int terminal_raw(void)
{
    if (tcgetattr(0, &saved_tio) < 0)
        return -1;
    struct termios raw = saved_tio;
    cfmakeraw(&raw);
    if (tcsetattr(0, TCSADRAIN, &raw) < 0)
        return -1;
    raw_on = true;
    return 0;
}

/* The size of the local terminal (stdout's, else stdin's); false when neither is one. */
static bool terminal_size(unsigned *rows, unsigned *cols)
{
    struct winsize ws;
    for (int fd = 1; fd >= 0; fd--)
        if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0) {
            *rows = ws.ws_row;
            *cols = ws.ws_col;
            return true;
        }
    return false;
}

/* --- options -------------------------------------------------------------------------------- */

typedef struct {
    bool interactive, tty;
    cJSON *env; /* Environment, or NULL */
    const char *cwd, *user;
    const char *id;
    char **args; /* the command, NULL-terminated */
    int nargs;
} exec_opts;

/* --env K=V (or K: the value hcsdiag has, left out when it has none); the last one wins. */
static int add_env(const hcsdiag_command *cmd, exec_opts *o, const char *arg)
{
    const char *eq = strchr(arg, '=');
    AUTOFREE char *name = eq ? strndup(arg, (size_t)(eq - arg)) : strdup(arg);
    if (name == NULL)
        return hd_fail("out of memory");
    if (name[0] == '\0')
        return hd_usage(cmd, "--env %s: the variable has no name", arg);
    const char *value = eq ? eq + 1 : getenv(name);
    if (value == NULL)
        return HCSDIAG_OK;
    if (o->env == NULL && (o->env = cJSON_CreateObject()) == NULL)
        return hd_fail("out of memory");
    cJSON_DeleteItemFromObjectCaseSensitive(o->env, name);
    if (cJSON_AddStringToObject(o->env, name, value) == NULL)
        return hd_fail("out of memory");
    return HCSDIAG_OK;
}

/*
 * Options, ID and COMMAND; console: no -i/-t (both implied) and COMMAND optional. 0 to go on,
 * or -1 when the command ends now with *rc (--help, a usage error).
 */
static int parse(const hcsdiag_command *cmd, int argc, char **argv, bool console, exec_opts *o,
                 int *rc)
{
    static const struct option longopts[] = {
        {"interactive", no_argument, NULL, 'i'},
        {"tty", no_argument, NULL, 't'},
        {"env", required_argument, NULL, 'e'},
        {"cwd", required_argument, NULL, 'w'},
        {"user", required_argument, NULL, 'u'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    static const struct option console_longopts[] = {
        {"env", required_argument, NULL, 'e'},
        {"cwd", required_argument, NULL, 'w'},
        {"user", required_argument, NULL, 'u'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    int c;
    while ((c = hd_getopt(cmd, argc, argv, console ? "+e:w:u:" : "+ite:w:u:",
                          console ? console_longopts : longopts, rc)) != -1) {
        if (c == -2)
            return -1;
        if (c == 'i')
            o->interactive = true;
        else if (c == 't')
            o->tty = true;
        else if (c == 'e' && (*rc = add_env(cmd, o, optarg)) != HCSDIAG_OK)
            return -1;
        else if (c == 'w')
            o->cwd = optarg;
        else if (c == 'u')
            o->user = optarg;
    }
    if (console)
        o->interactive = o->tty = true;
    *rc = HCSDIAG_USAGE;
    if (argc - optind < 1)
        return hd_usage(cmd, "ID is missing"), -1;
    o->id = argv[optind++];
    o->args = argv + optind;
    o->nargs = argc - optind;
    if (o->nargs == 0 && !console)
        return hd_usage(cmd, "COMMAND is missing"), -1;
    if (o->cwd != NULL && o->cwd[0] != '/')
        return hd_usage(cmd, "--cwd %s: the folder must be an absolute path", o->cwd), -1;
    *rc = HCSDIAG_OK;
    return 0;
}

/* The ProcessParameters document; NULL when out of memory. */
static char *parameters(exec_opts *o)
{
    static char *const default_shell[] = {"/bin/sh", NULL};
    char *const *args = o->nargs > 0 ? o->args : default_shell;
    AUTOJSON cJSON *p = cJSON_CreateObject();
    cJSON *a = cJSON_AddArrayToObject(p, "CommandArgs");
    for (size_t i = 0; args[i] != NULL; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(args[i]));
    if (o->env != NULL)
        cJSON_AddItemToObject(p, "Environment", steal_ptr(&o->env));
    if (o->cwd != NULL)
        cJSON_AddStringToObject(p, "WorkingDirectory", o->cwd);
    if (o->user != NULL)
        cJSON_AddStringToObject(p, "User", o->user);
    unsigned rows, cols;
    if (o->tty) {
        cJSON_AddBoolToObject(p, "EmulateConsole", true);
        if (terminal_size(&rows, &cols)) {
            cJSON *size = cJSON_AddArrayToObject(p, "ConsoleSize");
            cJSON_AddItemToArray(size, cJSON_CreateNumber(rows));
            cJSON_AddItemToArray(size, cJSON_CreateNumber(cols));
        }
    } else {
        if (o->interactive)
            cJSON_AddBoolToObject(p, "CreateStdInPipe", true);
        cJSON_AddBoolToObject(p, "CreateStdOutPipe", true);
        cJSON_AddBoolToObject(p, "CreateStdErrPipe", true);
    }
    return cJSON_PrintUnformatted(p);
}

/* --- copying the streams -------------------------------------------------------------------- */

typedef struct {
    int from, to;   /* -1 once closed / not used */
    bool to_broken; /* writing failed (a closed pipe): what is read is dropped */
    char *buf;
    size_t len, off;
} stream;

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Copy what is readable on s->from to s->to (hcsdiag's own stdout or stderr, blocking). */
static void pump_out(stream *s)
{
    char buf[BUF_SIZE];
    ssize_t n = read(s->from, buf, sizeof(buf));
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n <= 0) { /* end of file, or EIO: the console's last writer has gone */
        close(s->from);
        s->from = -1;
        return;
    }
    if (!s->to_broken && write_all(s->to, buf, (size_t)n) < 0)
        s->to_broken = true;
}

typedef struct {
    const char *id;
    HCS_SYSTEM sys;
    HCS_PROCESS proc;
    HCS_OPERATION op;
    bool tty;
} session;

/* End the process's input: close its pipe, or for a console HcsModifyProcess CloseHandle. */
static void end_input(session *x, stream *in)
{
    if (x->tty) {
        if (SUCCEEDED(HcsModifyProcess(x->proc, x->op,
                                       "{\"Operation\":\"CloseHandle\","
                                       "\"CloseHandle\":{\"Handle\":\"StdIn\"}}")))
            HcsWaitForOperationResult(x->op, HCS_INFINITE, NULL);
    } else {
        close(in->to);
    }
    in->to = -1;
}

static void resize(session *x)
{
    unsigned rows, cols;
    if (!terminal_size(&rows, &cols))
        return;
    char doc[128];
    snprintf(doc, sizeof(doc),
             "{\"Operation\":\"ConsoleSize\",\"ConsoleSize\":{\"Height\":%u,\"Width\":%u}}", rows,
             cols);
    if (SUCCEEDED(HcsModifyProcess(x->proc, x->op, doc)))
        HcsWaitForOperationResult(x->op, HCS_INFINITE, NULL);
}

static void forward_signal(session *x, int sig)
{
    if (sig == SIGWINCH) {
        if (x->tty)
            resize(x);
        return;
    }
    if (sig == SIGTERM || sig == SIGHUP)
        terminal_restore(); /* someone wants hcsdiag gone: give the terminal back now */
    char doc[32];
    snprintf(doc, sizeof(doc), "{\"Signal\":%d}", sig);
    /* An error (the process has just exited) changes nothing: its exit is on its way. */
    if (SUCCEEDED(HcsSignalProcess(x->proc, x->op, doc)))
        HcsWaitForOperationResult(x->op, HCS_INFINITE, NULL);
}

/*
 * Copy the streams until the process has exited and its output has ended (or stayed idle for
 * DRAIN_IDLE_MS). Returns whether the process's exit was seen (else the system stopped).
 */
static bool copy_streams(session *x, stream *in, stream *out, stream *err)
{
    bool exited = false, system_gone = false;
    unsigned long long drain_end = 0;
    for (;;) {
        if (exited && out->from < 0 && err->from < 0)
            return true;
        /* A process left in the background may keep writing: the copy ends all the same. */
        if ((exited || system_gone) && drain_end == 0)
            drain_end = hcs_now_ms() + DRAIN_MAX_MS;
        if (drain_end != 0 && hcs_now_ms() >= drain_end)
            return exited;
        struct pollfd p[5];
        int n = 0, i_sig = -1, i_stdin = -1, i_procin = -1, i_out = -1, i_err = -1;
        p[i_sig = n++] = (struct pollfd){self_pipe[0], POLLIN, 0};
        if (in->from >= 0 && in->len == 0)
            p[i_stdin = n++] = (struct pollfd){in->from, POLLIN, 0};
        if (in->to >= 0 && in->len > 0)
            p[i_procin = n++] = (struct pollfd){in->to, POLLOUT, 0};
        if (out->from >= 0)
            p[i_out = n++] = (struct pollfd){out->from, POLLIN, 0};
        if (err->from >= 0)
            p[i_err = n++] = (struct pollfd){err->from, POLLIN, 0};
        int r = poll(p, (nfds_t)n, exited || system_gone ? DRAIN_IDLE_MS : -1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return exited; /* idle after the exit (or poll failed): done */
        if (p[i_sig].revents & POLLIN) {
            unsigned char ev[64];
            ssize_t k = read(self_pipe[0], ev, sizeof(ev));
            for (ssize_t j = 0; j < k; j++) {
                if (ev[j] == EVENT_PROCESS_EXITED)
                    exited = true;
                else if (ev[j] == EVENT_SYSTEM_EXITED)
                    system_gone = true;
                else if (!exited)
                    forward_signal(x, ev[j]);
            }
        }
        if (i_out >= 0 && p[i_out].revents != 0)
            pump_out(out);
        if (i_err >= 0 && p[i_err].revents != 0)
            pump_out(err);
        if (i_stdin >= 0 && p[i_stdin].revents != 0) {
            ssize_t k = read(in->from, in->buf, BUF_SIZE);
            if (k > 0) {
                in->len = (size_t)k;
                in->off = 0;
            } else if (k == 0 || (errno != EINTR && errno != EAGAIN)) {
                in->from = -1; /* hcsdiag's stdin stays open: it is not ours */
                if (in->to >= 0)
                    end_input(x, in);
            }
        }
        if (i_procin >= 0 && p[i_procin].revents != 0) {
            ssize_t w = write(in->to, in->buf + in->off, in->len - in->off);
            if (w > 0) {
                in->off += (size_t)w;
                if (in->off == in->len)
                    in->len = in->off = 0;
            } else if (w < 0 && errno != EINTR && errno != EAGAIN) {
                /* The process closed its stdin: stop copying to it. */
                in->len = 0;
                in->from = -1;
                if (!x->tty)
                    close(in->to);
                in->to = -1;
            }
        }
        if (in->from < 0 && in->len == 0 && in->to >= 0)
            end_input(x, in);
    }
}

/* --- the command ---------------------------------------------------------------------------- */

static int fail_exec(const char *what, const char *id, HRESULT hr, const char *doc)
{
    hd_fail_system(what, id, hr, doc);
    return HCSDIAG_EXEC_FAIL;
}

static int run(const hcsdiag_command *cmd, exec_opts *o)
{
    const char *what = cmd->name;
    AUTOFREE char *params = parameters(o);
    if (params == NULL)
        return hd_fail("out of memory"), HCSDIAG_EXEC_FAIL;
    if (pipe2(self_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
        return hd_fail("%s: cannot make a pipe: %s", what, strerror(errno)), HCSDIAG_EXEC_FAIL;
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    for (size_t i = 0; i < HCS_ARRAY_SIZE(forwarded); i++)
        sigaction(forwarded[i], &sa, NULL);
    if (o->tty)
        sigaction(SIGWINCH, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    session x = {.id = o->id, .tty = o->tty};
    if (hd_open_system(what, o->id, &x.sys) != HCSDIAG_OK)
        return HCSDIAG_EXEC_FAIL;
    int rc = HCSDIAG_EXEC_FAIL;
    char *doc = NULL;
    AUTOJSON cJSON *st = NULL;
    HCS_PROCESS_INFORMATION pi = {0, 0, -1, -1, -1};
    x.op = HcsCreateOperation(NULL, NULL);
    if (x.op == NULL) {
        hd_fail("out of memory");
        goto out;
    }
    /* The system's stop ends the copy even if the process's exit never arrives. */
    HcsSetComputeSystemCallback(x.sys, HcsEventOptionNone, NULL, on_system_event);
    HRESULT hr = HcsCreateProcess(x.sys, params, x.op, NULL, &x.proc);
    if (SUCCEEDED(hr))
        hr = HcsWaitForOperationResultAndProcessInfo(x.op, HCS_INFINITE, &pi, &doc);
    else
        HcsGetOperationResult(x.op, &doc);
    if (FAILED(hr)) {
        fail_exec(what, o->id, hr, doc);
        goto out;
    }
    HcsSetProcessCallback(x.proc, HcsEventOptionNone, NULL, on_process_event);

    char inbuf[BUF_SIZE];
    stream in = {.from = o->interactive ? 0 : -1, .to = pi.StdInput, .buf = inbuf};
    stream out = {.from = pi.StdOutput, .to = 1};
    stream err = {.from = pi.StdError, .to = 2};
    pi.StdInput = pi.StdOutput = pi.StdError = -1; /* the streams own them now */
    if (in.to >= 0)
        fcntl(in.to, F_SETFL, fcntl(in.to, F_GETFL) | O_NONBLOCK);
    if (!o->interactive && in.to >= 0) {
        close(in.to); /* a console's input side: nothing will be written to it */
        in.to = -1;
    }
    if (o->tty && o->interactive && isatty(0) && terminal_raw() < 0)
        hd_fail("%s %s: cannot put the terminal in raw mode: %s", what, o->id, strerror(errno));

    bool exited = copy_streams(&x, &in, &out, &err);
    terminal_restore();
    /* What is still open of the process's ends (hcsdiag's own 0, 1 and 2 are left alone). */
    if (in.to >= 0)
        close(in.to);
    if (out.from >= 0)
        close(out.from);
    if (err.from >= 0)
        close(err.from);

    char *status = NULL;
    hr = HcsWaitForProcessExit(x.proc, exited ? HCS_INFINITE : 5000, &status);
    st = SUCCEEDED(hr) ? hd_json_parse(status) : NULL;
    int64_t code = -1;
    if (FAILED(hr))
        fail_exec(what, o->id, hr, status);
    else if (hcs_json_i64(cJSON_GetObjectItemCaseSensitive(st, "ExitCode"), &code) < 0 ||
             code < 0 || code > 255)
        hd_fail("%s %s: the process's exit status has no usable ExitCode: %s", what, o->id,
                status ? status : "(none)");
    else
        rc = (int)code;
    HcsFree(status);

out:
    terminal_restore();
    for (size_t i = 0; i < 3; i++) {
        int fd = i == 0 ? pi.StdInput : i == 1 ? pi.StdOutput : pi.StdError;
        if (fd >= 0)
            close(fd);
    }
    HcsFree(doc);
    HcsCloseProcess(x.proc);
    HcsCloseOperation(x.op);
    HcsCloseComputeSystem(x.sys);
    return rc;
}

int hcsdiag_exec(const hcsdiag_command *cmd, int argc, char **argv)
{
    exec_opts o = {0};
    int rc = HCSDIAG_OK;
    if (parse(cmd, argc, argv, false, &o, &rc) == 0)
        rc = run(cmd, &o);
    cJSON_Delete(o.env);
    return rc;
}

int hcsdiag_console(const hcsdiag_command *cmd, int argc, char **argv)
{
    exec_opts o = {0};
    int rc = HCSDIAG_OK;
    if (parse(cmd, argc, argv, true, &o, &rc) == 0)
        rc = run(cmd, &o);
    cJSON_Delete(o.env);
    return rc;
}
