/* fetch.h - hashing and single downloads shared by staging and lock (net). */
#ifndef FLYWHEEL_FETCH_H
#define FLYWHEEL_FETCH_H

#include <curl/curl.h>
#include <stddef.h>

/* Lower-case hex of n bytes into out (2n + 1 bytes). */
void fetch_hex(const unsigned char *d, size_t n, char *out);

/* The options every flywheel download gets: http(s) only, redirects followed
 * at most 5 times and never from https to http, a connect timeout, errors as
 * failures, errbuf (CURL_ERROR_SIZE) for libcurl's message, ca_file or the
 * system CAs. */
void fetch_curl_defaults(CURL *e, const char *url, const char *ca_file, char *errbuf);

#endif
