/* vendor.h - install flywheel into a spoke repository (net module: OpenSSL SHA-256).
 *
 * `flywheel vendor DIR` writes, under the workspace root DIR:
 *   tools/flywheel/flywheel-linux-<arch>          the static launcher (0755)
 *   tools/flywheel/flywheel-linux-<arch>.sha256   "<hex>  flywheel-linux-<arch>\n" (sha256sum -c format)
 *   tools/bazel                                   the POSIX shim (tools/bazel-shim.sh, 0755)
 * Every file is written atomically.  The shim checks the SHA-256 before each
 * run and execs `flywheel-linux-<arch> bazel "$@"`.
 *
 * The binary is --binary PATH, else `flywheel-linux-<arch>` beside the running
 * program (the build tree, or libexec/flywheel where it is installed).  It must
 * be a static ELF for this machine's architecture unless allow_dynamic.
 */
#ifndef FLYWHEEL_VENDOR_H
#define FLYWHEEL_VENDOR_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "flywheel/error.h"

#define VENDOR_BINARY_MAX (64u * 1024u * 1024u)  /* bytes of the vendored binary */
#define VENDOR_SHIM_MARK "flywheel-vendor-shim"   /* line in the shim: it is ours to replace */
#define VENDOR_NAME_MAX 64

struct vendor_opts {
	const char *dir;         /* workspace root of the spoke repository */
	const char *binary;      /* NULL: located beside the running program */
	bool allow_dynamic;      /* accept a dynamically linked binary (tests, development) */
	bool force;              /* replace a tools/bazel that is not flywheel's shim */
};

struct vendor_result {
	char binary_src[PATH_MAX];   /* what was copied */
	char binary[PATH_MAX];       /* DIR/tools/flywheel/flywheel-linux-<arch> */
	char shim[PATH_MAX];         /* DIR/tools/bazel */
	char sha256[65];
	size_t size;
	bool is_static;
};

/* "flywheel-linux-x86_64" (or -aarch64 ...) for this machine. */
void vendor_binary_name(char *buf, size_t len);

/* Whether the ELF file image data[0..len) is for this machine's architecture
 * and statically linked (no PT_INTERP).  -1 with err (class config, exit 65)
 * when it is not an ELF executable for this machine. */
int vendor_elf_check(const unsigned char *data, size_t len, const char *subject, bool *ret_static,
		     struct fw_error *err);

/* Locate the binary to vendor beside the running program; ret gets the path.
 * Returns 0 or -1 with err (exit 69). */
int vendor_find_binary(char *ret, size_t len, struct fw_error *err);

/* Install into o->dir.  Returns 0 (ret filled) or -1 with err; nothing under
 * a final name is half-written. */
int vendor_install(const struct vendor_opts *o, struct vendor_result *ret, struct fw_error *err);

/* The shim's text (tools/bazel-shim.sh, embedded at build time). */
const char *vendor_shim_text(void);

/* `flywheel-net vendor [--binary PATH] [--allow-dynamic] [--force] DIR`. */
int cmd_vendor(int argc, char **argv);

#endif
