/* fetch.c - the hashing and single-download pieces staging and lock share:
 * SHA-256 of a file (from a mapping when it is on disk), Bazel 7 canonical
 * ids, libcurl's defaults for every flywheel download (no https-to-http
 * redirect), and one download hashed while it streams. */
#include "flywheel/fetch.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "flywheel/stage.h"
#include "flywheel/banned.h"

#define HASH_BUF (256u * 1024u)
#define CURL_BUF (512L * 1024L)

void fetch_hex(const unsigned char *d, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hx[d[i] >> 4];
		out[2 * i + 1] = hx[d[i] & 15];
	}
	out[2 * n] = '\0';
}

/* A regular file already on disk is hashed from a read-only mapping: no copy
 * into a buffer, so hashing runs at the speed of the SHA-256 instructions
 * (the pread loop below spent about half its time copying). */
static int hash_mapped(int fd, char ret_sha256[static 65], uint64_t *ret_size)
{
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0)
		return -ENOTSUP;
	size_t len = (size_t)st.st_size;
	void *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED)
		return -ENOTSUP;
	madvise(map, len, MADV_SEQUENTIAL);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int r = -ENOMEM;
	if (md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1) {
		const unsigned char *p = map;
		for (size_t off = 0; off < len; off += HASH_BUF)
			EVP_DigestUpdate(md, p + off, len - off < HASH_BUF ? len - off : HASH_BUF);
		unsigned char dig[32];
		unsigned int dl = 0;
		EVP_DigestFinal_ex(md, dig, &dl);
		fetch_hex(dig, 32, ret_sha256);
		if (ret_size)
			*ret_size = len;
		r = 0;
	}
	EVP_MD_CTX_free(md);
	munmap(map, len);
	return r;
}

int stage_hash_fd(int fd, char ret_sha256[static 65], uint64_t *ret_size)
{
	int mr = hash_mapped(fd, ret_sha256, ret_size);
	if (mr != -ENOTSUP)
		return mr;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char *buf = malloc(HASH_BUF);
	int r = 0;
	uint64_t total = 0;
	if (!md || !buf || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		r = -ENOMEM;
		goto out;
	}
	for (;;) {
		ssize_t n = pread(fd, buf, HASH_BUF, (off_t)total);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			goto out;
		}
		if (n == 0)
			break;
		EVP_DigestUpdate(md, buf, (size_t)n);
		total += (uint64_t)n;
	}
	unsigned char dig[32];
	unsigned int dl = 0;
	EVP_DigestFinal_ex(md, dig, &dl);
	fetch_hex(dig, 32, ret_sha256);
	if (ret_size)
		*ret_size = total;
out:
	free(buf);
	EVP_MD_CTX_free(md);
	return r;
}

int stage_canonical_id(const struct strv *urls, char ret_hex[static 65])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(md);
		return -ENOMEM;
	}
	for (size_t i = 0; i < urls->n; i++) {
		if (i)
			EVP_DigestUpdate(md, " ", 1);
		EVP_DigestUpdate(md, urls->v[i], strlen(urls->v[i]));
	}
	unsigned char dig[32];
	unsigned int dl = 0;
	EVP_DigestFinal_ex(md, dig, &dl);
	EVP_MD_CTX_free(md);
	fetch_hex(dig, 32, ret_hex);
	return 0;
}

void fetch_curl_defaults(CURL *e, const char *url, const char *ca_file, char *errbuf)
{
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(e, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	/* an https URL may only redirect to https: never downgrade */
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR,
			 str_has_prefix(url, "https://") ? "https" : "http,https");
	curl_easy_setopt(e, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(e, CURLOPT_BUFFERSIZE, CURL_BUF);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 15000L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "flywheel-stage/1");
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
	if (ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, ca_file);
}

/* ---- one download, hashed while it streams (lock, lock --from-audit) ------------ */

struct fetch_ctx {
	int fd;
	EVP_MD_CTX *md;
	uint64_t got, max;
	bool too_big;
	int write_errno;
};

static size_t fetch_write(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct fetch_ctx *c = userdata;
	size_t n = size * nmemb;
	if (c->got + n > c->max) {
		c->too_big = true;
		return 0;
	}
	size_t off = c->fd < 0 ? n : 0; /* fd -1: hash only */
	while (off < n) {
		ssize_t w = write(c->fd, data + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			c->write_errno = errno;
			return 0;
		}
		off += (size_t)w;
	}
	EVP_DigestUpdate(c->md, data, n);
	c->got += n;
	return n;
}

int stage_fetch_url(const char *url, uint64_t max_bytes, int fd, const char *ca_file,
		    char ret_sha256[static 65], uint64_t *ret_size, struct fw_error *err)
{
	if (fd >= 0 && (ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) < 0))
		return fw_error_set(err, FW_CLASS_DISK, FW_EX_IOERR, url, NULL, "cannot reset the temp file");
	struct fetch_ctx c = { .fd = fd, .md = EVP_MD_CTX_new(), .max = max_bytes };
	CURL *e = curl_easy_init();
	char errbuf[CURL_ERROR_SIZE] = "";
	if (!c.md || !e || EVP_DigestInit_ex(c.md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(c.md);
		curl_easy_cleanup(e);
		return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, url, NULL, "out of memory");
	}
	fetch_curl_defaults(e, url, ca_file, errbuf);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, fetch_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &c);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1024L);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, 30L);
	CURLcode rc = curl_easy_perform(e);
	long code = 0;
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(e);
	int r = 0;
	if (c.too_big)
		r = fw_error_set(err, FW_CLASS_EXTERNAL_INPUT, FW_EX_DATAERR, url, NULL,
				 "larger than %llu bytes", (unsigned long long)max_bytes);
	else if (c.write_errno)
		r = fw_error_set(err, FW_CLASS_DISK, FW_EX_IOERR, url, NULL, "cannot write: %s",
				 strerror(c.write_errno));
	else if (rc == CURLE_UNSUPPORTED_PROTOCOL)
		r = fw_error_set(err, FW_CLASS_EXTERNAL_INPUT, FW_EX_UNAVAILABLE, url,
				 "use an https mirror that does not redirect to http",
				 "redirected to a refused protocol");
	else if (rc != CURLE_OK || code != 200)
		r = fw_error_set(err, FW_CLASS_CONNECT, FW_EX_UNAVAILABLE, url, "check the URL",
				 "download failed: %s", rc == CURLE_HTTP_RETURNED_ERROR || rc == CURLE_OK
							   ? (code ? "HTTP error" : "no response")
							   : (errbuf[0] ? errbuf : curl_easy_strerror(rc)));
	if (r == 0) {
		unsigned char dig[32];
		unsigned int dl = 0;
		EVP_DigestFinal_ex(c.md, dig, &dl);
		fetch_hex(dig, 32, ret_sha256);
		*ret_size = c.got;
	}
	EVP_MD_CTX_free(c.md);
	return r;
}
