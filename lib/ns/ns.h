/*
 * ns.h - namespace virtualization: the mount tree, host name and loopback of a silo.
 *
 * These run inside the silo's init, already in new mount, uts, ipc, net and pid namespaces, as
 * root, before anything of the container runs.
 */
#ifndef HCS_NS_NS_H
#define HCS_NS_NS_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

typedef struct hcs_ns_mount {
    const char *host_path;      /* absolute host path (file or folder) */
    const char *container_path; /* absolute path inside the container; created if missing */
    bool read_only;
} hcs_ns_mount;

typedef struct hcs_ns_root {
    /* Read-only layers, nearest parent first (overlayfs lowerdir order). At least one. */
    const char *const *layers;
    size_t n_layers;
    /*
     * The writable layer folder (Container.Storage.Path), or NULL for a read-only root. Its
     * upper/ and work/ subfolders are created if missing (same filesystem, as overlayfs needs).
     */
    const char *writable;
    /* An empty folder where the root is assembled (under the system's runtime folder). */
    const char *mountpoint;
    const hcs_ns_mount *mounts; /* MappedDirectories */
    size_t n_mounts;
} hcs_ns_root;

/*
 * Build the container's root and switch to it: make every mount private, mount the union of
 * the layers (overlayfs; a bind mount for a single read-only layer), mount /proc, a minimal /dev
 * (null, zero, full, random, urandom, tty bind-mounted from the host; devpts with ptmx; shm;
 * mqueue), /sys read-only, the mapped directories (read-only honoured), mask /proc/kcore-style
 * paths and make /proc/sys and friends read-only as Docker does, then pivot_root and detach the
 * old root. Afterwards no host mount is visible. Errors name the path and step that failed.
 */
int hcs_ns_enter_root(const hcs_ns_root *root, hcs_error **err);

/* Set the host name (uts namespace). NULL or "" leaves it unchanged. */
int hcs_ns_set_hostname(const char *hostname, hcs_error **err);

/* Bring up "lo" in the current network namespace. */
int hcs_ns_loopback_up(hcs_error **err);

/* Join the network namespace at path (Networking.Namespace; a /run/netns/NAME file). */
int hcs_ns_join_net(const char *path, hcs_error **err);

#endif
