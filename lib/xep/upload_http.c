/* XEP-0363 HTTP File Upload: the PUT to a slot through libcurl's multi
 * interface, driven by the client's own socket and timer hooks (an I/O
 * source of xmpp/sys/io.h: curl's CURLMOPT_SOCKETFUNCTION becomes
 * xmpp_client_source_watch(), CURLMOPT_TIMERFUNCTION the source's
 * deadline). The application's callbacks never run inside curl: progress
 * and completion are reported after curl_multi_socket_action() returns.
 * Without libcurl (configure --without-libcurl) the upload functions are
 * still exported and return XMPP_ERR_UNSUPPORTED (the documented optional
 * dependency); slot requests, OOB and push do not need libcurl. */
#include "core/internal.h"

#include <string.h>

#include <xmpp/client.h>
#include <xmpp/sys/io.h>
#include <xmpp/xep/upload.h>

#include "xep/upload_int.h"

#ifdef HAVE_LIBCURL

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#define PROGRESS_EVERY_MS  100
#define CONNECT_TIMEOUT_MS 30000L
#define STALL_SECONDS      60L /* abort below 1 byte/s for this long */

struct xmpp_upload {
    xmpp_ctx *ctx;
    xmpp_client *client; /* NULL once the client was freed */
    xmpp_upload_slot *slot;
    char *cafile;
    int allow_http;
    xmpp_upload_progress_fn progress;
    xmpp_upload_done_fn done;
    void *ud;
    unsigned long src; /* the client source, 0 when not added */
    CURLM *multi;
    CURL *easy;
    struct curl_slist *headers;
    FILE *fp;
    const unsigned char *data;
    size_t off;
    int started, running;
    int has_deadline;
    uint64_t deadline;
    uint64_t sent, reported;
    uint64_t last_report;
    int in_callback; /* inside done/progress: free is deferred */
    int free_pending;
    char errbuf[CURL_ERROR_SIZE];
};

static uint64_t mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;
static void curl_init_once(void) {
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void really_free(xmpp_upload *up) {
    xmpp_upload_slot_free(up->slot);
    xmpp_free(up->ctx, up->cafile);
    xmpp_free(up->ctx, up);
}

/* Releases curl and the client source; no callback. */
static void teardown(xmpp_upload *up) {
    if (up->src && up->client)
        (void)xmpp_client_remove_source(up->client, up->src);
    up->src = 0;
    if (up->multi && up->easy)
        curl_multi_remove_handle(up->multi, up->easy);
    if (up->easy)
        curl_easy_cleanup(up->easy);
    if (up->multi)
        curl_multi_cleanup(up->multi);
    curl_slist_free_all(up->headers);
    up->easy = NULL;
    up->multi = NULL;
    up->headers = NULL;
    if (up->fp)
        fclose(up->fp);
    up->fp = NULL;
    up->running = 0;
    up->has_deadline = 0;
}

/* Ends a running transfer: the completion fires exactly once. Returns 1
 * when the transfer was freed from inside the callback. */
static int finish(xmpp_upload *up, int err, long status) {
    teardown(up);
    if (err == XMPP_OK && up->progress && up->reported != up->slot->size) {
        up->in_callback++;
        up->progress(up, up->slot->size, up->slot->size, up->ud);
        up->in_callback--;
    }
    if (up->done) {
        up->in_callback++;
        up->done(up, err, status, up->ud);
        up->in_callback--;
    }
    if (up->free_pending && up->in_callback == 0) {
        really_free(up);
        return 1;
    }
    return 0;
}

static int sock_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp) {
    xmpp_upload *up = userp;
    int ev = what == CURL_POLL_IN      ? XMPP_IO_IN
             : what == CURL_POLL_OUT   ? XMPP_IO_OUT
             : what == CURL_POLL_INOUT ? XMPP_IO_IN | XMPP_IO_OUT
                                       : XMPP_IO_NONE;
    (void)easy;
    (void)socketp;
    if (up->client && up->src)
        (void)xmpp_client_source_watch(up->client, up->src, (int)fd, ev);
    return 0;
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp) {
    xmpp_upload *up = userp;
    (void)multi;
    up->has_deadline = timeout_ms >= 0;
    up->deadline = timeout_ms >= 0 ? mono_ms() + (uint64_t)timeout_ms : 0;
    if (up->client)
        (void)xmpp_client_source_changed(up->client);
    return 0;
}

static size_t read_cb(char *buf, size_t size, size_t nitems, void *userp) {
    xmpp_upload *up = userp;
    size_t want = size * nitems, left = (size_t)(up->slot->size - up->off);
    if (want > left)
        want = left;
    if (up->fp) {
        size_t got = fread(buf, 1, want, up->fp);
        if (got < want && ferror(up->fp))
            return CURL_READFUNC_ABORT;
        want = got;
    } else if (want) {
        memcpy(buf, up->data + up->off, want);
    }
    up->off += want;
    return want;
}

/* The response body is not needed (XEP-0363 §5: the status says it all):
 * dropped, never written to the process' stdout as curl would. */
static size_t write_cb(char *buf, size_t size, size_t nitems, void *userp) {
    (void)buf;
    (void)userp;
    return size * nitems;
}

static int xferinfo_cb(void *userp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow) {
    xmpp_upload *up = userp;
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    if (ulnow > 0)
        up->sent = (uint64_t)ulnow;
    return 0;
}

/* After curl ran: report progress, then a finished transfer. */
static void after_curl(xmpp_upload *up) {
    CURLMsg *m;
    int left;
    uint64_t now = mono_ms();
    if (up->progress && up->sent != up->reported && now - up->last_report >= PROGRESS_EVERY_MS) {
        up->reported = up->sent;
        up->last_report = now;
        up->in_callback++;
        up->progress(up, up->sent, up->slot->size, up->ud);
        up->in_callback--;
        if (up->free_pending || !up->running) {
            if (up->free_pending && up->running)
                (void)finish(up, XMPP_ERR_CANCELLED, 0);
            else if (up->free_pending)
                really_free(up);
            return;
        }
    }
    while (up->multi && (m = curl_multi_info_read(up->multi, &left)) != NULL) {
        long code = 0;
        CURLcode res;
        if (m->msg != CURLMSG_DONE)
            continue;
        res = m->data.result;
        curl_easy_getinfo(up->easy, CURLINFO_RESPONSE_CODE, &code);
        if (res != CURLE_OK) {
            if (up->errbuf[0] == '\0')
                snprintf(up->errbuf, sizeof(up->errbuf), "%s", curl_easy_strerror(res));
            (void)finish(up, XMPP_ERR_HTTP, code);
        } else if (code != 200 && code != 201) { /* XEP-0363 §5: 201 Created */
            snprintf(up->errbuf, sizeof(up->errbuf), "the server answered HTTP %ld", code);
            (void)finish(up, XMPP_ERR_HTTP, code);
        } else {
            (void)finish(up, XMPP_OK, code);
        }
        return;
    }
}

static void src_action(xmpp_client *c, int fd, int events, void *userp) {
    xmpp_upload *up = userp;
    int running = 0;
    (void)c;
    if (!up->running)
        return;
    if (fd >= 0) {
        int mask = ((events & XMPP_IO_IN) ? CURL_CSELECT_IN : 0) |
                   ((events & XMPP_IO_OUT) ? CURL_CSELECT_OUT : 0) |
                   ((events & XMPP_IO_ERROR) ? CURL_CSELECT_ERR : 0);
        curl_multi_socket_action(up->multi, (curl_socket_t)fd, mask, &running);
    } else if (up->has_deadline && mono_ms() >= up->deadline) {
        up->has_deadline = 0;
        curl_multi_socket_action(up->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    }
    after_curl(up); /* also a progress report that has come due */
}

static long src_timeout(xmpp_client *c, void *userp) {
    xmpp_upload *up = userp;
    uint64_t now;
    (void)c;
    if (!up->running)
        return -1;
    now = mono_ms();
    if (up->progress && up->sent != up->reported) {
        uint64_t due = up->last_report + PROGRESS_EVERY_MS;
        if (!up->has_deadline || due < up->deadline)
            return due <= now ? 0 : (long)(due - now);
    }
    if (!up->has_deadline)
        return -1;
    return up->deadline <= now ? 0 : (long)(up->deadline - now);
}

static void src_detach(xmpp_client *c, void *userp) {
    xmpp_upload *up = userp;
    (void)c;
    up->src = 0;
    up->client = NULL;
    if (up->running) {
        snprintf(up->errbuf, sizeof(up->errbuf), "the client was freed");
        (void)finish(up, XMPP_ERR_CANCELLED, 0);
    }
}

int xmpp_upload_new(xmpp_upload **out, xmpp_client *c, const xmpp_upload_slot *slot) {
    xmpp_upload *up;
    xmpp_ctx *ctx;
    if (out == NULL || c == NULL || slot == NULL)
        return XMPP_ERR_INVALID;
    *out = NULL;
    ctx = slot->ctx;
    pthread_once(&curl_once, curl_init_once);
    if (curl_init_rc != CURLE_OK)
        return XMPP_ERR_NOMEM;
    if ((up = xmpp__malloc(ctx, sizeof(*up))) == NULL)
        return XMPP_ERR_NOMEM;
    memset(up, 0, sizeof(*up));
    up->ctx = ctx;
    up->client = c;
    if ((up->slot = xmpp__upload_slot_copy(slot)) == NULL) {
        xmpp_free(ctx, up);
        return XMPP_ERR_NOMEM;
    }
    *out = up;
    return XMPP_OK;
}

int xmpp_upload_set_cafile(xmpp_upload *up, const char *path) {
    char *p = NULL;
    if (up == NULL)
        return XMPP_ERR_INVALID;
    if (up->started)
        return XMPP_ERR_STATE;
    if (path && (p = xmpp__strdup(up->ctx, path)) == NULL)
        return XMPP_ERR_NOMEM;
    xmpp_free(up->ctx, up->cafile);
    up->cafile = p;
    return XMPP_OK;
}

int xmpp_upload_allow_http(xmpp_upload *up, int allow) {
    if (up == NULL)
        return XMPP_ERR_INVALID;
    if (up->started)
        return XMPP_ERR_STATE;
    up->allow_http = allow != 0;
    return XMPP_OK;
}

int xmpp_upload_set_callbacks(xmpp_upload *up, xmpp_upload_progress_fn progress,
                              xmpp_upload_done_fn done, void *user_data) {
    if (up == NULL)
        return XMPP_ERR_INVALID;
    if (up->started)
        return XMPP_ERR_STATE;
    up->progress = progress;
    up->done = done;
    up->ud = user_data;
    return XMPP_OK;
}

static int add_header(xmpp_upload *up, const char *name, const char *value) {
    char line[UPLOAD_MAX_HEADER + 64];
    struct curl_slist *l;
    snprintf(line, sizeof(line), "%s: %s", name, value);
    if ((l = curl_slist_append(up->headers, line)) == NULL)
        return XMPP_ERR_NOMEM;
    up->headers = l;
    return XMPP_OK;
}

static int start(xmpp_upload *up, const char *content_type) {
    const xmpp_upload_slot *sl = up->slot;
    size_t i;
    int rc = XMPP_ERR_NOMEM;
    if (content_type == NULL)
        content_type = sl->content_type ? sl->content_type : "application/octet-stream";
    if ((up->multi = curl_multi_init()) == NULL || (up->easy = curl_easy_init()) == NULL)
        goto fail;
    if ((rc = add_header(up, "Content-Type", content_type)) != XMPP_OK ||
        (rc = add_header(up, "Expect", "")) != XMPP_OK)
        goto fail;
    for (i = 0; i < sl->n_headers; i++)
        if ((rc = add_header(up, sl->hname[i], sl->hvalue[i])) != XMPP_OK)
            goto fail;
    rc = XMPP_ERR_NOMEM;
    up->errbuf[0] = '\0';
    if (curl_easy_setopt(up->easy, CURLOPT_URL, sl->put_url) != CURLE_OK ||
        curl_easy_setopt(up->easy, CURLOPT_UPLOAD, 1L) != CURLE_OK ||
        curl_easy_setopt(up->easy, CURLOPT_INFILESIZE_LARGE, (curl_off_t)sl->size) != CURLE_OK ||
        curl_easy_setopt(up->easy, CURLOPT_READFUNCTION, read_cb) != CURLE_OK ||
        curl_easy_setopt(up->easy, CURLOPT_READDATA, up) != CURLE_OK ||
        curl_easy_setopt(up->easy, CURLOPT_WRITEFUNCTION, write_cb) != CURLE_OK ||
        curl_easy_setopt(up->easy, CURLOPT_HTTPHEADER, up->headers) != CURLE_OK ||
        curl_easy_setopt(up->easy, CURLOPT_ERRORBUFFER, up->errbuf) != CURLE_OK ||
        curl_easy_setopt(up->easy, CURLOPT_NOPROGRESS, 0L) != CURLE_OK ||
        curl_easy_setopt(up->easy, CURLOPT_XFERINFOFUNCTION, xferinfo_cb) != CURLE_OK ||
        curl_easy_setopt(up->easy, CURLOPT_XFERINFODATA, up) != CURLE_OK ||
        curl_easy_setopt(up->easy, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
        /* the secure defaults, spelled out: verify the peer and its name */
        curl_easy_setopt(up->easy, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK ||
        curl_easy_setopt(up->easy, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK ||
        curl_easy_setopt(up->easy, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
#if LIBCURL_VERSION_NUM >= 0x075500
        curl_easy_setopt(up->easy, CURLOPT_PROTOCOLS_STR,
                         up->allow_http ? "http,https" : "https") != CURLE_OK ||
#else
        curl_easy_setopt(up->easy, CURLOPT_PROTOCOLS,
                         up->allow_http ? (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS)
                                        : (long)CURLPROTO_HTTPS) != CURLE_OK ||
#endif
        curl_easy_setopt(up->easy, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS) != CURLE_OK ||
        curl_easy_setopt(up->easy, CURLOPT_LOW_SPEED_LIMIT, 1L) != CURLE_OK ||
        curl_easy_setopt(up->easy, CURLOPT_LOW_SPEED_TIME, STALL_SECONDS) != CURLE_OK ||
        curl_easy_setopt(up->easy, CURLOPT_USERAGENT, "libxmpp/" PACKAGE_VERSION) != CURLE_OK ||
        (up->cafile && curl_easy_setopt(up->easy, CURLOPT_CAINFO, up->cafile) != CURLE_OK))
        goto fail;
    if (curl_multi_setopt(up->multi, CURLMOPT_SOCKETFUNCTION, sock_cb) != CURLM_OK ||
        curl_multi_setopt(up->multi, CURLMOPT_SOCKETDATA, up) != CURLM_OK ||
        curl_multi_setopt(up->multi, CURLMOPT_TIMERFUNCTION, timer_cb) != CURLM_OK ||
        curl_multi_setopt(up->multi, CURLMOPT_TIMERDATA, up) != CURLM_OK)
        goto fail;
    if ((rc = xmpp_client_add_source(up->client, src_action, src_timeout, src_detach, up,
                                     &up->src)) != XMPP_OK)
        goto fail;
    up->started = up->running = 1;
    up->last_report = mono_ms();
    /* curl asks for its first timer from here: the client announces it */
    if (curl_multi_add_handle(up->multi, up->easy) != CURLM_OK) {
        rc = XMPP_ERR_NOMEM;
        up->started = 0;
        goto fail;
    }
    return XMPP_OK;
fail:
    teardown(up);
    return rc;
}

int xmpp_upload_start_file(xmpp_upload *up, const char *path, const char *content_type) {
    struct stat st;
    if (up == NULL || path == NULL)
        return XMPP_ERR_INVALID;
    if (up->started)
        return XMPP_ERR_STATE;
    if (up->client == NULL)
        return XMPP_ERR_STATE;
    if (!xmpp__upload_url_ok(up->slot->put_url, up->allow_http))
        return XMPP_ERR_INVALID;
    if ((up->fp = fopen(path, "rb")) == NULL)
        return XMPP_ERR_NOT_FOUND;
    if (fstat(fileno(up->fp), &st) != 0 || !S_ISREG(st.st_mode) ||
        (uint64_t)st.st_size != up->slot->size) {
        fclose(up->fp);
        up->fp = NULL;
        return XMPP_ERR_INVALID;
    }
    return start(up, content_type);
}

int xmpp_upload_start_data(xmpp_upload *up, const void *data, size_t len,
                           const char *content_type) {
    if (up == NULL || (data == NULL && len > 0))
        return XMPP_ERR_INVALID;
    if (up->started || up->client == NULL)
        return XMPP_ERR_STATE;
    if ((uint64_t)len != up->slot->size || !xmpp__upload_url_ok(up->slot->put_url, up->allow_http))
        return XMPP_ERR_INVALID;
    up->data = data;
    return start(up, content_type);
}

int xmpp_upload_cancel(xmpp_upload *up) {
    if (up == NULL)
        return XMPP_ERR_INVALID;
    if (up->running) {
        snprintf(up->errbuf, sizeof(up->errbuf), "cancelled");
        (void)finish(up, XMPP_ERR_CANCELLED, 0);
    }
    return XMPP_OK;
}

const char *xmpp_upload_error(const xmpp_upload *up) {
    return up && up->errbuf[0] ? up->errbuf : NULL;
}

void xmpp_upload_free(xmpp_upload *up) {
    if (up == NULL)
        return;
    if (up->in_callback) {
        up->free_pending = 1; /* freed when the callback returns */
        return;
    }
    if (up->running) {
        if (finish(up, XMPP_ERR_CANCELLED, 0))
            return;
    }
    really_free(up);
}

#else /* !HAVE_LIBCURL */

int xmpp_upload_new(xmpp_upload **out, xmpp_client *c, const xmpp_upload_slot *slot) {
    if (out)
        *out = NULL;
    (void)c;
    (void)slot;
    return XMPP_ERR_UNSUPPORTED;
}

int xmpp_upload_set_cafile(xmpp_upload *up, const char *path) {
    (void)up;
    (void)path;
    return XMPP_ERR_UNSUPPORTED;
}

int xmpp_upload_allow_http(xmpp_upload *up, int allow) {
    (void)up;
    (void)allow;
    return XMPP_ERR_UNSUPPORTED;
}

int xmpp_upload_set_callbacks(xmpp_upload *up, xmpp_upload_progress_fn progress,
                              xmpp_upload_done_fn done, void *user_data) {
    (void)up;
    (void)progress;
    (void)done;
    (void)user_data;
    return XMPP_ERR_UNSUPPORTED;
}

int xmpp_upload_start_file(xmpp_upload *up, const char *path, const char *content_type) {
    (void)up;
    (void)path;
    (void)content_type;
    return XMPP_ERR_UNSUPPORTED;
}

int xmpp_upload_start_data(xmpp_upload *up, const void *data, size_t len,
                           const char *content_type) {
    (void)up;
    (void)data;
    (void)len;
    (void)content_type;
    return XMPP_ERR_UNSUPPORTED;
}

int xmpp_upload_cancel(xmpp_upload *up) {
    (void)up;
    return XMPP_ERR_UNSUPPORTED;
}

const char *xmpp_upload_error(const xmpp_upload *up) {
    (void)up;
    return NULL;
}

void xmpp_upload_free(xmpp_upload *up) {
    (void)up;
}

#endif /* HAVE_LIBCURL */
