// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <string.h>
#include <curl/curl.h>
#include "lib/http.h"

static size_t write_out(char *ptr, size_t size, size_t n, void *user)
{
	return fwrite(ptr, size, n, (FILE *)user) * size;
}

int ig_http_get(const char *url, long timeout_ms, FILE *out, long *status, char *err,
		size_t errlen)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	CURLcode rc;
	CURL *e;
	int ret = 0;

	*status = 0;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) || !(e = curl_easy_init())) {
		snprintf(err, errlen, "cannot initialise libcurl");
		return -ENOMEM;
	}
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
	/* no SIGALRM for name lookups: callers may have their own handlers */
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_out);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, out);
	rc = curl_easy_perform(e);
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
		ret = rc == CURLE_COULDNT_CONNECT ? -ECONNREFUSED
		      : rc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -EIO;
	} else if (curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, status) != CURLE_OK) {
		*status = 0;
	}
	curl_easy_cleanup(e);
	curl_global_cleanup();
	return ret;
}
