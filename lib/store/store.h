/*
 * store.h - the runtime root: one folder per compute system, exclusive reservation of ids, the
 * owner's lock, atomic state files and enumeration.
 *
 * Layout (DESIGN.md section 4), every folder created 0700:
 *
 *   <runtime root>/systems/<id>/       one compute system (id rules: hcs_store_validate_id)
 *       lock                           flock(LOCK_EX) held by the system's owner for its lifetime
 *       state.json                     written by atomic rename (hcs_store_write_state)
 *       config.json                    the creation document (hcs_store_write_file)
 *       ctl.sock                       the monitor's control socket (lib/monitor)
 *
 * The runtime root and the data root come from the library context (hcs_ctx_runtime_root(),
 * hcs_ctx_data_root()) and are read on every call, so a change of roots applies to the next call.
 *
 * Reservation is the exclusive mkdir of systems/<id>: of any number of concurrent reservations of
 * one id, in any number of threads or processes, exactly one succeeds. The winner also holds an
 * exclusive flock on systems/<id>/lock; the lock belongs to the open file description, so it can
 * be handed to another process (the monitor) by passing lock_fd over exec or SCM_RIGHTS, and it
 * disappears when the last holder dies. hcs_store_owner_alive() tells a live system from the
 * leftovers of a crashed owner.
 *
 * Thread safety: every function may be called from any thread. One hcs_store_entry must not be
 * used by two threads at once unless both only read (read_state, read_file, owner_alive).
 * Errors: 0 on success, -1 with *err set ("context: cause" messages, see common/error.h).
 */
#ifndef HCS_STORE_STORE_H
#define HCS_STORE_STORE_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "common/error.h"

/* The longest valid id, in bytes. */
#define HCS_STORE_ID_MAX 128

/* File names inside a system's folder. */
#define HCS_STORE_LOCK_FILE "lock"
#define HCS_STORE_STATE_FILE "state.json"
#define HCS_STORE_CONFIG_FILE "config.json"
#define HCS_STORE_CONTROL_SOCKET "ctl.sock"

/* The largest state.json hcs_store_read_state and hcs_store_enumerate read. */
#define HCS_STORE_STATE_MAX ((size_t)16 << 20)

/*
 * One system's folder, from hcs_store_reserve or hcs_store_open; freed by hcs_store_release.
 * The fields are read-only for callers.
 */
typedef struct hcs_store_entry {
    char *id;    /* the system's id (valid per hcs_store_validate_id) */
    char *path;  /* absolute path of the folder when it was opened, for messages and exec args */
    int dirfd;   /* the folder (O_RDONLY | O_DIRECTORY | O_CLOEXEC), for the *at() calls */
    int lock_fd; /* the lock file with LOCK_EX held (reserve), or -1 (open: not the owner) */
} hcs_store_entry;

/*
 * Check an id: 1-128 bytes of ASCII letters, digits, '-', '_', '.', '@', '+', not starting with
 * '.' or '-' (so an id is always a plain file name, never "." or ".."). Failure: E_INVALIDARG
 * naming the id and the rule it breaks, e.g.
 *   id "a/b": character '/' at offset 1 is not allowed (ids are 1-128 characters: ...)
 * Bytes that are not printable ASCII are shown as \xNN. err may be NULL.
 */
int hcs_store_validate_id(const char *id, hcs_error **err);

/* Create <runtime root>/systems and <data root> (mode 0700) where missing. */
int hcs_store_ensure_roots(hcs_error **err);

/*
 * Reserve id: create systems/<id> (0700, creating the roots as needed), open it and take the
 * exclusive lock. *out is owned by the caller (hcs_store_release). Errors: E_INVALIDARG for an
 * invalid id; HCS_E_SYSTEM_ALREADY_EXISTS ("compute system "<id>" already exists") when the
 * folder exists, whether its owner is alive or not; kernel errors otherwise. On failure nothing
 * is left behind.
 */
int hcs_store_reserve(const char *id, hcs_store_entry **out, hcs_error **err);

/*
 * Open the folder of an existing system, without taking its lock (lock_fd is -1). *out is owned
 * by the caller (hcs_store_release). Errors: E_INVALIDARG for an invalid id;
 * HCS_E_SYSTEM_NOT_FOUND ("compute system "<id>" not found") when there is no such folder.
 * A folder that is still being created (no state.json yet) opens fine; read_state then fails.
 */
int hcs_store_open(const char *id, hcs_store_entry **out, hcs_error **err);

/*
 * Close e (its folder fd and, for a reservation, the lock) and free it. With remove != 0 the
 * folder and everything in it is removed first (only if systems/<id> is still the folder e
 * opened). e may be NULL. e is freed even when removal fails; the error is then returned.
 * Removing is for the owner, or for the leftovers of a dead owner (hcs_store_owner_alive() == 0):
 * the store does not stop a reader from removing a live system's folder.
 */
int hcs_store_release(hcs_store_entry *e, int remove, hcs_error **err);

/*
 * 1 if some process (this one included) holds the lock of e's system, 0 if nobody does (the
 * owner released it or died, or the reservation is not finished), -1 on error.
 */
int hcs_store_owner_alive(const hcs_store_entry *e, hcs_error **err);

/*
 * Replace state.json atomically (readers see the old or the new document, never a mix) with
 * state, which must be a JSON object. Integers keep all their digits: both numbers added with
 * hcs_json_add_u64/i64 and numbers read by hcs_json_parse (e.g. a state from read_state) are
 * written exactly, so a read-modify-write cycle never rounds a 64-bit value. Not fsynced: the
 * runtime root describes running systems, which a reboot ends anyway (hcs_write_file_atomic).
 */
int hcs_store_write_state(const hcs_store_entry *e, const cJSON *state, hcs_error **err);

/*
 * Read and parse state.json (hcs_json_parse: integers readable exactly with hcs_json_u64/i64).
 * *out is owned by the caller (cJSON_Delete). Errors: HCS_E_FILE_NOT_FOUND when there is no
 * state yet, HCS_E_INVALID_JSON when it is not a JSON object.
 */
int hcs_store_read_state(const hcs_store_entry *e, cJSON **out, hcs_error **err);

/*
 * Replace the file name inside e's folder atomically with len bytes of data (mode 0600). name is
 * a plain file name: not empty, no '/', not starting with '.' (temporary files start with '.'),
 * not HCS_STORE_LOCK_FILE; otherwise E_INVALIDARG. Not fsynced, as write_state.
 */
int hcs_store_write_file(const hcs_store_entry *e, const char *name, const char *data, size_t len,
                         hcs_error **err);

/*
 * Read the file name inside e's folder (at most about max bytes) into a NUL-terminated buffer
 * *out (caller frees with free()); *len (if not NULL) gets its length. Same name rules as
 * hcs_store_write_file. Errors: HCS_E_FILE_NOT_FOUND when absent.
 */
int hcs_store_read_file(const hcs_store_entry *e, const char *name, size_t max, char **out,
                        size_t *len, hcs_error **err);

/*
 * What hcs_store_enumerate returns. Each list with n_* == 0 does not filter; a non-empty list
 * keeps the systems whose value equals one of its strings (byte for byte: "container" does not
 * match "Container"); the lists combine with AND. Ids are compared with the folder name, the
 * others with the string fields Name, SystemType and Owner of state.json (a system without the
 * field, or with a non-string value, does not match a non-empty list). NULL strings in a list
 * match nothing. The struct and strings are borrowed for the call only.
 */
typedef struct hcs_store_filter {
    const char *const *ids;
    size_t n_ids;
    const char *const *names;
    size_t n_names;
    const char *const *types;
    size_t n_types;
    const char *const *owners;
    size_t n_owners;
} hcs_store_filter;

/*
 * The systems matching f (NULL: all), as a JSON array sorted by Id (strcmp order). Each item is
 *   {"Id": <folder name>, "Name", "SystemType", "State", "Owner" (each copied from state.json
 *    when present there), "RuntimeOsType": "Linux", then every other top-level field of
 *    state.json in its order}
 * Integers are exact when the array is printed: every integer copied from state.json is a cJSON
 * raw node holding its digits (as hcs_json_add_u64 makes), not a cJSON number. Skipped without
 * error (logged at Debug level): folders whose name is not a valid id, entries that are not folders
 * (symlinks included), systems whose state.json is missing, unreadable or not a JSON object (a
 * system being created, a crashed writer). A missing runtime root or systems folder gives an empty
 * array. *out_array is owned by the caller (cJSON_Delete). Errors: E_INVALIDARG when a list is
 * NULL with a non-zero count; out of memory; a systems folder that cannot be listed.
 */
int hcs_store_enumerate(const hcs_store_filter *f, cJSON **out_array, hcs_error **err);

#endif
