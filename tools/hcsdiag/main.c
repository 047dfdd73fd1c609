/*
 * main.c - hcsdiag: the command table, `hcsdiag help`, and dispatch.
 *
 * New commands are one entry in the table below and one function (see hcsdiag.h).
 */
#include <stdio.h>
#include <string.h>

#include "hcsdiag.h"

static const hcsdiag_command commands[] = {
    {"image import", "[--store DIR] [--platform OS/ARCH] [--tag NAME] [--json] SOURCE",
     "import an OCI image or docker-archive tar into the layer store",
     "SOURCE is an OCI image layout folder, an OCI archive (podman save --format oci-archive)\n"
     "or a docker-archive tar (docker save, podman save). Every blob is checked against its\n"
     "sha256 digest and every layer's diff id against the image config. Layers are imported\n"
     "into STORE/sha256/<diff id hex>; those already there are kept. Prints the layer chain,\n"
     "nearest first, as a ComputeSystem's Container.Storage.Layers needs it.\n"
     "\n"
     "  --store DIR          the layer store (default $HCS_DATA_ROOT/layers)\n"
     "  --platform OS/ARCH   the manifest to pick from an index (default linux/<host arch>)\n"
     "  --tag NAME           the image to pick by its ref name or repository tag\n"
     "  --json               print {\"Layers\":[{\"Id\":...,\"Path\":...},...]}\n",
     hcsdiag_image_import},
    {"layer import", "[--json] LAYER_PATH SOURCE",
     "import a layer archive or folder (HcsImportLayer)",
     "SOURCE is a tar, tar+gzip or tar+zstd layer archive, or an unpacked layer folder.\n"
     "LAYER_PATH must not exist (or be an empty folder). Prints the layer's diff id.\n"
     "\n"
     "  --json   print {\"Id\":...,\"Path\":...,\"DiffId\":...}\n",
     hcsdiag_layer_import},
    {"layer export", "[--compression none|gzip|zstd] [--level N] [--deterministic] LAYER_PATH OUT",
     "write a layer as an OCI layer archive (HcsExportLayer)",
     "OUT is the archive file to write, or an existing folder (it gets layer.tar, layer.tar.gz\n"
     "or layer.tar.zst). A writable layer exports its changes. Prints the archive's path.\n"
     "\n"
     "  --compression C   none (default), gzip or zstd\n"
     "  --level N         the compression level (1-22)\n"
     "  --deterministic   the same tree always gives the same bytes\n",
     hcsdiag_layer_export},
    {"layer create", "WRITABLE_PATH PARENT...",
     "initialize a writable layer over parent layers (HcsInitializeWritableLayer)",
     "PARENT... are read-only layers or plain folders, nearest first.\n", hcsdiag_layer_create},
    {"layer mount", "WRITABLE_PATH [PARENT...]",
     "attach a writable layer's union view (HcsAttachLayerStorageFilter)",
     "Mounts the view at WRITABLE_PATH/rootfs in the caller's mount namespace and prints that\n"
     "path. PARENT..., when given, must be the chain the layer was created over.\n",
     hcsdiag_layer_mount},
    {"layer unmount", "PATH", "detach a writable layer's view (HcsDetachLayerStorageFilter)", "",
     hcsdiag_layer_unmount},
    {"layer remove", "PATH", "remove a layer (HcsDestroyLayer)",
     "Refused while the layer is in use (attached, or the parent of an attached layer).\n",
     hcsdiag_layer_remove},
};

static void list_commands(FILE *f)
{
    fprintf(f, "usage: hcsdiag COMMAND [OPTIONS] [ARGS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(f, "  %-15s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "  %-15s %s\n", "help [COMMAND]", "this list, or a command's options");
    fprintf(f, "\nhcsdiag COMMAND --help shows a command's options. See hcsdiag(1).\n");
}

/* How many words of argv (from 0) name cmd, or 0 when it does not match. */
static int match(const hcsdiag_command *cmd, int argc, char **argv)
{
    const char *p = cmd->name;
    int i = 0;
    while (*p != '\0') {
        size_t len = strcspn(p, " ");
        if (i >= argc || strlen(argv[i]) != len || strncmp(argv[i], p, len) != 0)
            return 0;
        i++;
        p += len;
        p += *p == ' ';
    }
    return i;
}

static const hcsdiag_command *find(int argc, char **argv, int *words)
{
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        int n = match(&commands[i], argc, argv);
        if (n > 0) {
            *words = n;
            return &commands[i];
        }
    }
    return NULL;
}

/*
 * "hcsdiag image" alone, "hcsdiag image frob": list what the group has (a usage error);
 * "hcsdiag image --help", "hcsdiag help image": the same list as help.
 */
static int unknown(int argc, char **argv, bool help)
{
    size_t prefix = strlen(argv[0]);
    bool group = false;
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        group |= strncmp(commands[i].name, argv[0], prefix) == 0 && commands[i].name[prefix] == ' ';
    if (!group) {
        fprintf(stderr, "hcsdiag: unknown command \"%s\"\n", argv[0]);
        list_commands(stderr);
        return HCSDIAG_USAGE;
    }
    help = (help && argc == 1) ||
           (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0));
    FILE *f = help ? stdout : stderr;
    if (argc > 1 && !help)
        fprintf(stderr, "hcsdiag: unknown command \"%s %s\"\n", argv[0], argv[1]);
    else if (!help)
        fprintf(stderr, "hcsdiag: \"%s\" needs a command\n", argv[0]);
    fprintf(f, "%s commands:\n", argv[0]);
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strncmp(commands[i].name, argv[0], prefix) == 0 && commands[i].name[prefix] == ' ')
            fprintf(f, "  hcsdiag %s %s\n", commands[i].name, commands[i].args);
    return help ? HCSDIAG_OK : HCSDIAG_USAGE;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        list_commands(stderr);
        return HCSDIAG_USAGE;
    }
    if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0) {
        int words = 0;
        const hcsdiag_command *cmd = argc > 2 ? find(argc - 2, argv + 2, &words) : NULL;
        if (argc > 2 && cmd == NULL)
            return unknown(argc - 2, argv + 2, true);
        if (cmd != NULL)
            return hd_help(cmd);
        list_commands(stdout);
        return HCSDIAG_OK;
    }
    int words = 0;
    const hcsdiag_command *cmd = find(argc - 1, argv + 1, &words);
    if (cmd == NULL)
        return unknown(argc - 1, argv + 1, false);
    /* argv of the command: its last word, then its arguments. */
    return cmd->run(cmd, argc - words, argv + words);
}
