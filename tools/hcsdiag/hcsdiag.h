/*
 * hcsdiag.h - the command-line tool's shared declarations: the command table and the helpers
 * every command uses (messages, exit codes, paths, layer identifiers, compute-system calls).
 *
 * A command is an entry of the table in main.c named by one or more words ("image import",
 * "layer mount", "list", "exec"). main() picks the entry whose words start argv and calls its
 * run function with argc/argv starting at the command's last word, so getopt_long works as in a
 * program of its own. Exit codes: HCSDIAG_OK, HCSDIAG_FAIL (message on stderr), HCSDIAG_USAGE;
 * exec and console exit with their process's code, or HCSDIAG_EXEC_FAIL.
 */
#ifndef HCSDIAG_H
#define HCSDIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hcs.h>

#include "common/error.h"
#include "common/json.h"

/* HCSDIAG_EXEC_FAIL: exec/console failed before the process ran (or lost it), as docker's 125. */
enum { HCSDIAG_OK = 0, HCSDIAG_FAIL = 1, HCSDIAG_USAGE = 2, HCSDIAG_EXEC_FAIL = 125 };

typedef struct hcsdiag_command {
    const char *name;    /* the words that select it: "image import" */
    const char *args;    /* the synopsis after the name: "[--json] SOURCE" */
    const char *summary; /* one line for `hcsdiag help` */
    const char *help;    /* what `hcsdiag NAME --help` prints after the synopsis */
    int (*run)(const struct hcsdiag_command *cmd, int argc, char **argv);
} hcsdiag_command;

/* The image and layer commands (image.c, layer.c). */
int hcsdiag_image_import(const hcsdiag_command *cmd, int argc, char **argv);
int hcsdiag_layer_import(const hcsdiag_command *cmd, int argc, char **argv);
int hcsdiag_layer_export(const hcsdiag_command *cmd, int argc, char **argv);
int hcsdiag_layer_create(const hcsdiag_command *cmd, int argc, char **argv);
int hcsdiag_layer_mount(const hcsdiag_command *cmd, int argc, char **argv);
int hcsdiag_layer_unmount(const hcsdiag_command *cmd, int argc, char **argv);
int hcsdiag_layer_remove(const hcsdiag_command *cmd, int argc, char **argv);

/* The compute-system commands (system.c, props.c, exec.c, reg.c). */
int hcsdiag_list(const hcsdiag_command *cmd, int argc, char **argv);
int hcsdiag_create(const hcsdiag_command *cmd, int argc, char **argv);
int hcsdiag_start(const hcsdiag_command *cmd, int argc, char **argv);
int hcsdiag_shutdown(const hcsdiag_command *cmd, int argc, char **argv);
int hcsdiag_kill(const hcsdiag_command *cmd, int argc, char **argv);
int hcsdiag_pause(const hcsdiag_command *cmd, int argc, char **argv);
int hcsdiag_resume(const hcsdiag_command *cmd, int argc, char **argv);
int hcsdiag_wait(const hcsdiag_command *cmd, int argc, char **argv);
int hcsdiag_props(const hcsdiag_command *cmd, int argc, char **argv);
int hcsdiag_exec(const hcsdiag_command *cmd, int argc, char **argv);
int hcsdiag_console(const hcsdiag_command *cmd, int argc, char **argv);
int hcsdiag_reg(const hcsdiag_command *cmd, int argc, char **argv);

/* --- util.c ------------------------------------------------------------------------------ */

/* "hcsdiag: <message>" on stderr; returns HCSDIAG_FAIL. */
int hd_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A usage error: "hcsdiag: <message>", the command's synopsis; returns HCSDIAG_USAGE. */
int hd_usage(const hcsdiag_command *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Print the synopsis and help text of cmd on stdout; returns HCSDIAG_OK. */
int hd_help(const hcsdiag_command *cmd);

/* A library error: "hcsdiag: <what>: <message> (0x<HRESULT>)"; frees err; HCSDIAG_FAIL. */
int hd_fail_err(hcs_error *err);

/*
 * A failed public API call: "hcsdiag: <what>: <ErrorMessage> (0x<HRESULT>)", the message taken
 * from HcsGetErrorInfo's ResultError document. Returns HCSDIAG_FAIL.
 */
int hd_fail_api(const char *what, HRESULT hr);

/*
 * Parse the options of a command with getopt_long. Handles --help (prints the help, *done =
 * true) and unknown options (usage error). Returns the option character, -1 at the end of the
 * options, or -2 with *rc set when the command must return *rc now. shortopts starting with '+'
 * stop at the first argument that is not an option (exec ID COMMAND -x: -x is COMMAND's).
 */
struct option;
int hd_getopt(const hcsdiag_command *cmd, int argc, char **argv, const char *shortopts,
              const struct option *longopts, int *rc);

/* The options of a command whose only one is --json (sets *json). -1 to go on; otherwise the
 * exit status to return (--help shown, or a usage error). */
int hd_getopt_json(const hcsdiag_command *cmd, int argc, char **argv, bool *json);

/* path made absolute against the current folder (not resolved: it may not exist). Caller frees. */
char *hd_abspath(const char *path);

/*
 * The layer GUID of a diff id ("sha256:<hex>"): the first 16 bytes of
 * sha256("hcs-layer:" + diff_id), with the RFC 4122 version bits set to 5 and the variant bits
 * to 10, formatted as 8-4-4-4-12 lowercase hex digits. out holds 37 bytes.
 */
void hd_layer_guid(const char *diff_id, char out[37]);

/*
 * A LayerData document for the layer paths given (nearest first, absolute), each with its Id
 * (the diff id's GUID) when the path holds an imported layer. NULL when n is 0. Caller frees.
 */
char *hd_layer_data(char *const *paths, size_t n);

/* A size as "12.3 MiB" into buf. */
const char *hd_size(uint64_t bytes, char *buf, size_t size);

/* --- util.c: compute systems --------------------------------------------------------------- */

/*
 * An HRESULT as "NAME 0xXXXXXXXX" into buf: the hcs.h name (HCS_E_SYSTEM_NOT_FOUND), or
 * HRESULT_FROM_ERRNO(ENOSPC) for a kernel error, or the hexadecimal value alone.
 */
const char *hd_hresult_text(HRESULT hr, char *buf, size_t size);

/*
 * A failed call on a compute system: "hcsdiag: <what> <id>: <NAME 0x...>: <message>" on stderr,
 * the message from the ResultError document doc (NULL: HcsGetErrorInfo's). HCSDIAG_FAIL.
 */
int hd_fail_system(const char *what, const char *id, HRESULT hr, const char *doc);

/*
 * HcsOpenComputeSystem(id) into *sys. On failure prints the error (an unknown id as "no compute
 * system with id "X"") with what and returns HCSDIAG_FAIL.
 */
int hd_open_system(const char *what, const char *id, HCS_SYSTEM *sys);

/*
 * Finish the tracked call that returned hr on op: wait for it (forever) and give its result
 * document in *result (optional; the caller HcsFree's it). A failure is printed as by
 * hd_fail_system. HCSDIAG_OK or HCSDIAG_FAIL.
 */
int hd_finish(const char *what, const char *id, HCS_OPERATION op, HRESULT hr, char **result);

/* The whole of path ("-": standard input), NUL-terminated; NULL with the reason printed. */
char *hd_read_input(const char *path, size_t max);

/* Parse a whole JSON document with exact integers; NULL when it is not JSON. */
cJSON *hd_json_parse(const char *text);

/* Print a JSON value compactly (integers exactly) and a newline on stdout. */
void hd_print_json(const cJSON *json);

/* A whole number of seconds 0..max from text into *out; -1 when it is not one. */
int hd_seconds(const char *text, uint32_t max, uint32_t *out);

/* --- digest.c ---------------------------------------------------------------------------- */

#define HD_DIGEST_LEN 72 /* "sha256:" + 64 hex + NUL */

/* sha256 of len bytes: "sha256:<hex>". */
void hd_sha256_text(const void *data, size_t len, char out[HD_DIGEST_LEN]);

/* Whether s is "sha256:" followed by exactly 64 lowercase hex digits. */
bool hd_digest_valid(const char *s);

typedef void (*hd_hash_progress_fn)(uint64_t done, uint64_t total, void *ctx);

/*
 * sha256 of everything read from fd (from its current offset to its end), into out; *len gets
 * the byte count. progress (may be NULL) is called about every 4 MiB with total (a hint, may be
 * 0). name is used in messages.
 */
int hd_sha256_fd(int fd, const char *name, uint64_t total, hd_hash_progress_fn progress, void *ctx,
                 char out[HD_DIGEST_LEN], uint64_t *len, hcs_error **err);

#endif
