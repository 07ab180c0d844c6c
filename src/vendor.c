/* vendor.c - `flywheel vendor DIR`: static launcher + checksum + tools/bazel shim. */
#include "flywheel/vendor.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "bazel_shim.h"
#include "flywheel/report.h"
#include "flywheel/util.h"
#include "flywheel/banned.h"

#if defined(__x86_64__)
#define VENDOR_EM EM_X86_64
#elif defined(__aarch64__)
#define VENDOR_EM EM_AARCH64
#else
#define VENDOR_EM EM_NONE
#endif

const char *vendor_shim_text(void)
{
	return bazel_shim_text;
}

void vendor_binary_name(char *buf, size_t len)
{
	struct utsname u;
	const char *m = uname(&u) == 0 ? u.machine : "unknown";
	if (!strcmp(m, "amd64"))
		m = "x86_64";
	else if (!strcmp(m, "arm64"))
		m = "aarch64";
	snprintf(buf, len, "flywheel-linux-%s", m);
}

int vendor_elf_check(const unsigned char *data, size_t len, const char *subject, bool *ret_static,
		     struct fw_error *err)
{
	const char *fix = "vendor the static launcher (meson setup -Dstatic_launcher=true builds one; "
			  "every build also makes flywheel-linux-<arch>)";
	if (len < sizeof(Elf64_Ehdr) || memcmp(data, ELFMAG, SELFMAG) != 0)
		return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_DATAERR, subject, fix, "not an ELF executable");
	Elf64_Ehdr eh;
	memcpy(&eh, data, sizeof(eh));
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_machine != VENDOR_EM)
		return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_DATAERR, subject, fix,
				    "an ELF file for another architecture (e_machine %u)", (unsigned)eh.e_machine);
	if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN)
		return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_DATAERR, subject, fix, "not an executable");
	if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phoff > len ||
	    (size_t)eh.e_phnum * sizeof(Elf64_Phdr) > len - eh.e_phoff)
		return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_DATAERR, subject, fix, "truncated program headers");
	bool is_static = true;
	for (size_t i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, data + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type == PT_INTERP)
			is_static = false;
	}
	*ret_static = is_static;
	return 0;
}

int vendor_find_binary(char *ret, size_t len, struct fw_error *err)
{
	char name[VENDOR_NAME_MAX];
	vendor_binary_name(name, sizeof(name));
	char self[PATH_MAX];
	if (!realpath("/proc/self/exe", self))
		return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_UNAVAILABLE, "/proc/self/exe",
				    "pass --binary PATH", "cannot resolve the running program: %s", strerror(errno));
	char *slash = strrchr(self, '/');
	if (slash)
		*slash = '\0';
	static const char *const rel[] = { "", "/../libexec/flywheel", "/../../libexec/flywheel" };
	for (size_t i = 0; i < FW_ARRAY_SIZE(rel); i++) {
		snprintf(ret, len, "%s%s/%s", self, rel[i], name);
		if (access(ret, R_OK) == 0)
			return 0;
	}
	return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_UNAVAILABLE, name,
			    "pass --binary PATH to a static flywheel (meson setup -Dstatic_launcher=true)",
			    "no static launcher beside %s", self);
}

static int sha256_hex(const unsigned char *data, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
		return -EIO;
	for (unsigned i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return 0;
}

static bool is_workspace_root(const char *dir)
{
	static const char *const markers[] = { "WORKSPACE", "WORKSPACE.bazel", "MODULE.bazel" };
	for (size_t i = 0; i < FW_ARRAY_SIZE(markers); i++) {
		_cleanup_free_ char *p = fw_asprintf("%s/%s", dir, markers[i]);
		if (p && access(p, F_OK) == 0)
			return true;
	}
	return false;
}

/* May tools/bazel be (re)written?  Yes when absent or when it is our shim. */
static int shim_replaceable(const char *path, bool force, struct fw_error *err)
{
	_cleanup_free_ char *old = NULL;
	size_t len = 0;
	int r = read_small_file(path, 1024 * 1024, true, &old, &len);
	if (r == -ENOENT || force)
		return 0;
	if (r < 0 || !strstr(old, VENDOR_SHIM_MARK))
		return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CANTCREAT, path,
				    "move it aside (flywheel's shim replaces it) or pass --force",
				    "exists and is not flywheel's shim");
	return 0;
}

int vendor_install(const struct vendor_opts *o, struct vendor_result *ret, struct fw_error *err)
{
	struct stat st;
	if (!o->dir || stat(o->dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return fw_error_set(err, FW_CLASS_USAGE, FW_EX_USAGE, o->dir ? o->dir : "DIR",
				    "name the spoke repository's workspace root", "not a directory");
	if (!is_workspace_root(o->dir) && !o->force)
		return fw_error_set(err, FW_CLASS_USAGE, FW_EX_USAGE, o->dir,
				    "name the workspace root (the directory holding WORKSPACE or MODULE.bazel), or pass --force",
				    "not a Bazel workspace root");
	memset(ret, 0, sizeof(*ret));
	if (o->binary)
		snprintf(ret->binary_src, sizeof(ret->binary_src), "%s", o->binary);
	else if (vendor_find_binary(ret->binary_src, sizeof(ret->binary_src), err) < 0)
		return -1;

	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	int r = read_small_file(ret->binary_src, VENDOR_BINARY_MAX, false, &data, &len);
	if (r == -EFBIG)
		return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_DATAERR, ret->binary_src,
				    "vendor the stripped static launcher", "larger than %u MiB", VENDOR_BINARY_MAX >> 20);
	if (r < 0)
		return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_UNAVAILABLE, ret->binary_src,
				    "pass --binary PATH to a static flywheel", "cannot read: %s", strerror(-r));
	if (vendor_elf_check((const unsigned char *)data, len, ret->binary_src, &ret->is_static, err) < 0)
		return -1;
	if (!ret->is_static && !o->allow_dynamic)
		return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_DATAERR, ret->binary_src,
				    "vendor a static launcher (meson setup -Dstatic_launcher=true), or pass --allow-dynamic",
				    "is dynamically linked: a spoke checkout on another machine may lack its libraries");
	if (sha256_hex((const unsigned char *)data, len, ret->sha256) < 0)
		return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, "sha256", NULL, "OpenSSL digest failed");
	ret->size = len;

	char name[VENDOR_NAME_MAX];
	vendor_binary_name(name, sizeof(name));
	_cleanup_free_ char *tools = fw_asprintf("%s/tools/flywheel", o->dir);
	_cleanup_free_ char *sumfile = fw_asprintf("%s/tools/flywheel/%s.sha256", o->dir, name);
	_cleanup_free_ char *sum = fw_asprintf("%s  %s\n", ret->sha256, name);
	if (!tools || !sumfile || !sum)
		return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, "vendor", NULL, "out of memory");
	snprintf(ret->binary, sizeof(ret->binary), "%s/%s", tools, name);
	snprintf(ret->shim, sizeof(ret->shim), "%s/tools/bazel", o->dir);

	if (shim_replaceable(ret->shim, o->force, err) < 0)
		return -1;
	if ((r = mkdir_p(tools, 0755)) < 0)
		return fw_error_set(err, FW_CLASS_DISK, FW_EX_CANTCREAT, tools, "check permissions and free space",
				    "cannot create: %s", strerror(-r));
	/* binary first, then its checksum, then the shim: an interrupted run leaves
	 * a shim that refuses (mismatch), never one that runs an unchecked binary */
	if ((r = write_file_atomic(ret->binary, data, len, 0755)) < 0 ||
	    (r = write_file_atomic(sumfile, sum, strlen(sum), 0644)) < 0) {
		return fw_error_set(err, FW_CLASS_DISK, FW_EX_CANTCREAT, tools, "check permissions and free space",
				    "cannot write: %s", strerror(-r));
	}
	const char *shim = vendor_shim_text();
	if ((r = write_file_atomic(ret->shim, shim, strlen(shim), 0755)) < 0)
		return fw_error_set(err, FW_CLASS_DISK, FW_EX_CANTCREAT, ret->shim, "check permissions and free space",
				    "cannot write: %s", strerror(-r));
	return 0;
}

static const char vendor_help[] =
	"usage: flywheel vendor [--binary PATH] [--allow-dynamic] [--force] DIR\n"
	"\n"
	"Install flywheel into the spoke repository whose workspace root is DIR:\n"
	"  tools/flywheel/flywheel-linux-<arch>         the static launcher\n"
	"  tools/flywheel/flywheel-linux-<arch>.sha256  its SHA-256\n"
	"  tools/bazel                                  a POSIX shim that checks the SHA-256,\n"
	"                                               then runs flywheel as bazel\n"
	"\n"
	"  --binary PATH     the launcher to vendor (default: flywheel-linux-<arch> beside flywheel)\n"
	"  --allow-dynamic   accept a dynamically linked launcher\n"
	"  --force           replace a tools/bazel that is not flywheel's shim; DIR need not hold WORKSPACE\n"
	"\n"
	"Exit: 0 installed, 64 usage, 65 the binary is not a static executable for this machine,\n"
	"69 no binary found, 73 cannot write.\n";

static int usage(const char *arg, const char *what)
{
	struct fw_error err = { 0 };
	fw_error_set(&err, FW_CLASS_USAGE, FW_EX_USAGE, arg, "see 'flywheel vendor --help'", "%s", what);
	report_error(&err);
	return FW_EX_USAGE;
}

int cmd_vendor(int argc, char **argv)
{
	struct vendor_opts o = { 0 };
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v;
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(vendor_help, stdout);
			return 0;
		} else if (!strcmp(a, "--allow-dynamic")) {
			o.allow_dynamic = true;
		} else if (!strcmp(a, "--force")) {
			o.force = true;
		} else if ((v = str_after(a, "--binary="))) {
			o.binary = v;
		} else if (!strcmp(a, "--binary")) {
			if (++i == argc)
				return usage(a, "needs a path");
			o.binary = argv[i];
		} else if (a[0] == '-' && a[1]) {
			return usage(a, "unknown option");
		} else if (o.dir) {
			return usage(a, "only one DIR");
		} else {
			o.dir = a;
		}
	}
	if (!o.dir)
		return usage("vendor", "needs the spoke repository's workspace root DIR");
	struct vendor_result r;
	struct fw_error err = { 0 };
	if (vendor_install(&o, &r, &err) < 0) {
		report_error(&err);
		return err.exit_code ? err.exit_code : FW_EX_SOFTWARE;
	}
	printf("installed %s (%zu bytes, %s, sha256 %s)\n", r.binary, r.size, r.is_static ? "static" : "dynamic",
	       r.sha256);
	printf("installed %s.sha256\n", r.binary);
	printf("installed %s\n", r.shim);
	report_msg(REPORT_INFO, "commit tools/bazel and tools/flywheel/; `bazel` in %s now runs through flywheel",
		   o.dir);
	return 0;
}
