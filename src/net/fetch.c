/*
 * fetch.c - see fetch.h.
 *
 * The body goes to path.tmp and is renamed over path only once the whole
 * of it has arrived with a 200, so a failed or cut transfer never replaces
 * a good copy with a partial one.
 */
#include "net/fetch.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define ETAG_MAX     256
#define REDIRECT_MAX 5
#define PATH_EXTRA   16 /* room for ".tmp" or ".etag" */

struct transfer {
	FILE *out;
	uint64_t bytes, max_bytes;
	char etag[ETAG_MAX];
	const atomic_bool *cancel;
};

int fetch_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct transfer *t = arg;
	size_t len = size * n;

	if (t->bytes + len > t->max_bytes)
		return 0; /* curl fails the transfer: CURLE_WRITE_ERROR */
	t->bytes += len;
	return fwrite(data, 1, len, t->out);
}

/* Keeps the ETag of the final response (RFC 9110 §8.8.3). */
static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
	struct transfer *t = arg;
	size_t len = size * n;

	if (len > 5 && strncasecmp(data, "HTTP/", 5) == 0)
		t->etag[0] = '\0'; /* a new response: forget a redirect's */
	if (len > 5 && strncasecmp(data, "etag:", 5) == 0) {
		const char *v = data + 5;
		size_t vn = len - 5;
		while (vn > 0 && (*v == ' ' || *v == '\t'))
			v++, vn--;
		while (vn > 0 && (v[vn - 1] == '\r' || v[vn - 1] == '\n' ||
				  v[vn - 1] == ' '))
			vn--;
		if (vn < sizeof(t->etag)) {
			memcpy(t->etag, v, vn);
			t->etag[vn] = '\0';
		}
	}
	return len;
}

static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow,
		       curl_off_t ultotal, curl_off_t ulnow)
{
	struct transfer *t = arg;

	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	return t->cancel != NULL && atomic_load(t->cancel);
}

/* curl_slist_append, keeping the list when it fails (the field is then
 * not sent: the fetch is merely unconditional) */
static struct curl_slist *add_field(struct curl_slist *list, const char *f)
{
	struct curl_slist *n = curl_slist_append(list, f);

	return n != NULL ? n : list;
}

/* The saved ETag of path, into etag[ETAG_MAX] ("" when none). */
static void read_etag(const char *etag_path, char *etag)
{
	FILE *f = fopen(etag_path, "re");
	size_t n = 0;

	etag[0] = '\0';
	if (f == NULL)
		return;
	n = fread(etag, 1, ETAG_MAX - 1, f);
	fclose(f);
	etag[n] = '\0';
	etag[strcspn(etag, "\r\n")] = '\0';
}

static void write_etag(const char *etag_path, const char *etag)
{
	FILE *f;

	if (etag[0] == '\0') {
		unlink(etag_path);
		return;
	}
	f = fopen(etag_path, "we");
	if (f == NULL)
		return; /* the next fetch is then unconditional: no harm */
	fprintf(f, "%s\n", etag);
	fclose(f);
}

enum fetch_result fetch_to_file(const char *url, const char *path,
				const struct fetch_limits *limits, char *err,
				size_t cap)
{
	char tmp[4096 + PATH_EXTRA], etag_path[4096 + PATH_EXTRA];
	char inm[ETAG_MAX + 32], ims[64], cerr[CURL_ERROR_SIZE] = "";
	struct transfer t = {.max_bytes = limits->max_bytes,
			     .cancel = limits->cancel};
	struct curl_slist *headers = NULL;
	enum fetch_result result = FETCH_FAILED;
	struct stat st;
	long status = 0, filetime = -1;
	CURL *curl;
	CURLcode rc;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp) ||
	    snprintf(etag_path, sizeof(etag_path), "%s.etag", path) >=
		    (int)sizeof(etag_path)) {
		snprintf(err, cap, "cache path too long");
		return FETCH_FAILED;
	}
	curl = curl_easy_init();
	t.out = fopen(tmp, "we");
	if (curl == NULL || t.out == NULL) {
		snprintf(err, cap, "cannot write %s: %s", tmp,
			 curl == NULL ? "no memory" : strerror(errno));
		goto out;
	}
	if (stat(path, &st) == 0) {
		char etag[ETAG_MAX];
		struct tm tm;
		read_etag(etag_path, etag);
		if (etag[0] != '\0') {
			snprintf(inm, sizeof(inm), "If-None-Match: %s", etag);
			headers = add_field(headers, inm);
		}
		/* a plain field, not CURLOPT_TIMECONDITION: libcurl would
		 * drop a 200 whose Last-Modified is not newer, while the
		 * server, given If-None-Match, rightly ignores the date
		 * (RFC 9110 §13.2.2) and sends a new body */
		if (gmtime_r(&st.st_mtime, &tm) != NULL &&
		    strftime(ims, sizeof(ims),
			     "If-Modified-Since: %a, %d %b %Y %H:%M:%S GMT",
			     &tm) > 0)
			headers = add_field(headers, ims);
	}
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(curl, CURLOPT_MAXREDIRS, (long)REDIRECT_MAX);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "sluice (list fetcher)");
	curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_FILETIME, 1L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)limits->timeout_ms);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)limits->connect_timeout_ms);
	curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE,
			 (curl_off_t)limits->max_bytes);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
	curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &t);
	curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, cerr);

	rc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	if (fclose(t.out) != 0 && rc == CURLE_OK)
		rc = CURLE_WRITE_ERROR;
	t.out = NULL;
	if (rc != CURLE_OK) {
		snprintf(err, cap, "%s",
			 t.bytes >= limits->max_bytes ? "list too large"
			 : cerr[0] != '\0'	      ? cerr
						      : curl_easy_strerror(rc));
		goto out;
	}
	if (status == 304) {
		result = FETCH_NOT_MODIFIED;
		goto out;
	}
	if (status != 200) {
		snprintf(err, cap, "HTTP status %ld", status);
		goto out;
	}
	if (rename(tmp, path) < 0) {
		snprintf(err, cap, "cannot rename %s: %s", tmp,
			 strerror(errno));
		goto out;
	}
	write_etag(etag_path, t.etag);
	if (curl_easy_getinfo(curl, CURLINFO_FILETIME, &filetime) == CURLE_OK &&
	    filetime > 0) {
		struct timeval tv[2] = {{.tv_sec = filetime},
					{.tv_sec = filetime}};
		utimes(path, tv);
	}
	result = FETCH_NEW;
out:
	if (t.out != NULL)
		fclose(t.out);
	if (result != FETCH_NEW)
		unlink(tmp);
	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);
	return result;
}
