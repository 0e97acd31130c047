/* libFuzzer target: stream-management state import (XEP-0198 export
 * documents, untrusted input; SECURITY.md SM-08).
 *
 * The input is given to xmpp_session_sm_import() on a fresh, idle session
 * of the account alice@example.com. Invariants checked with abort():
 *  - a failed import loads nothing (nothing to export, nothing queued, no
 *    stream to resume) and leaves the session importable;
 *  - a successful import respects the queue bounds, exports, the export
 *    imports into another fresh session and that one exports the very same
 *    bytes;
 *  - the imported state survives a scripted reconnection (plaintext PLAIN
 *    login): resumed when it is resumable (<resumed/> with the acked count),
 *    and, on a third session, refused (<failed/>, a new bind and enable);
 *    either way the session ends up ready, everything queued is written and
 *    one <a/> acknowledges all of it.
 * Leaks are caught by LeakSanitizer; every path frees its objects. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xmpp/xmpp.h>
#include <xmpp/session.h>

#define MAX_STANZAS 64
#define MAX_BYTES (256 * 1024)

#define HDR                                                                                  \
    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "                             \
    "xmlns:stream='http://etherx.jabber.org/streams' from='example.com' id='s1' "            \
    "version='1.0'>"
#define FEAT_PLAIN                                                                           \
    "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"                \
    "<mechanism>PLAIN</mechanism></mechanisms></stream:features>"
#define FEAT_BIND_SM                                                                         \
    "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"                     \
    "<sm xmlns='urn:xmpp:sm:3'/></stream:features>"

struct out {
    char buf[1 << 20];
    size_t len;
};

static struct out out;

static void drain(xmpp_session *s) {
    const void *d;
    size_t n;
    xmpp_session_drain(s, &d, &n);
    if (n > sizeof(out.buf) - 1 - out.len)
        abort();
    memcpy(out.buf + out.len, d, n);
    out.len += n;
    out.buf[out.len] = '\0';
    xmpp_session_consume(s, n);
}

static void feed(xmpp_session *s, const char *in) {
    out.len = 0;
    out.buf[0] = '\0';
    if (xmpp_session_recv(s, in, strlen(in), 1000) != XMPP_OK)
        abort();
    drain(s);
}

static xmpp_session *new_session(xmpp_ctx *ctx) {
    xmpp_session_options *o = NULL;
    xmpp_session *s = NULL;
    if (xmpp_session_options_new(&o, ctx) != XMPP_OK ||
        xmpp_session_options_set_jid(o, "alice@example.com/r") != XMPP_OK ||
        xmpp_session_options_set_password(o, "secret") != XMPP_OK ||
        xmpp_session_options_allow_plaintext(o, 1) != XMPP_OK ||
        xmpp_session_options_set_tls_mode(o, XMPP_TLS_NONE) != XMPP_OK ||
        xmpp_session_options_set_sm_queue(o, MAX_STANZAS, MAX_BYTES) != XMPP_OK ||
        xmpp_session_new(&s, ctx, o) != XMPP_OK)
        abort();
    xmpp_session_options_free(o);
    return s;
}

/* Logs in; returns with the answer to the features after authentication
 * in `out`. */
static void login(xmpp_session *s) {
    if (xmpp_session_start(s, 1000) != XMPP_OK)
        abort();
    drain(s);
    feed(s, HDR FEAT_PLAIN);
    feed(s, "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
    feed(s, HDR FEAT_BIND_SM);
}

/* The value of attribute `name` of the first element starting with `tag`
 * in `text` (as written, still escaped), copied into buf. The attributes
 * are walked one by one: a value never holds its own quote character. */
static int attr_of(const char *text, const char *tag, const char *name, char *buf,
                   size_t size) {
    const char *p = strstr(text, tag), *eq, *end;
    size_t nl = strlen(name);
    if (p == NULL)
        return -1;
    p += strcspn(p, " \t\r\n/>");
    for (;;) {
        p += strspn(p, " \t\r\n");
        if (*p == '/' || *p == '>' || *p == '\0' || (eq = strchr(p, '=')) == NULL ||
            (eq[1] != '\'' && eq[1] != '"') || (end = strchr(eq + 2, eq[1])) == NULL)
            return -1;
        if ((size_t)(eq - p) == nl && strncmp(p, name, nl) == 0) {
            if ((size_t)(end - eq - 2) >= size)
                return -1;
            memcpy(buf, eq + 2, (size_t)(end - eq - 2));
            buf[end - eq - 2] = '\0';
            return 0;
        }
        p = end + 1;
    }
}

/* The queue drains on the ready stream (at most a window at a time on the
 * wire): acknowledge what is written until nothing is left. */
static void ack_all(xmpp_session *s, uint32_t base) {
    size_t unacked = 0, queued = 0;
    uint32_t h = base;
    char a[64];
    for (;;) {
        if (xmpp_session_get_state(s) != XMPP_STATE_READY ||
            xmpp_session_sm_queue(s, &unacked, &queued, NULL) != 1 || unacked > queued ||
            (queued > 0 && unacked == 0))
            abort();
        if (queued == 0)
            break;
        h += (uint32_t)unacked;
        snprintf(a, sizeof(a), "<a xmlns='urn:xmpp:sm:3' h='%lu'/>", (unsigned long)h);
        feed(s, a);
    }
}

static void new_stream(xmpp_session *s) {
    char id[64], res[256];
    int piped;
    if (attr_of(out.buf, "<iq", "id", id, sizeof(id)) != 0 || strstr(out.buf, "xmpp-bind") == NULL)
        abort();
    snprintf(res, sizeof(res),
             "<iq type='result' id='%s'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
             "<jid>alice@example.com/r2</jid></bind></iq>",
             id);
    /* <enable/> goes right behind the bind request, or after its result */
    piped = strstr(out.buf, "<enable xmlns='urn:xmpp:sm:3'") != NULL;
    feed(s, res);
    if (!piped && strstr(out.buf, "<enable xmlns='urn:xmpp:sm:3'") == NULL)
        abort();
    feed(s, "<enabled xmlns='urn:xmpp:sm:3'/>");
    if (xmpp_session_resumed(s))
        abort();
    ack_all(s, 0);
}

/* Resumes when the state allows it; a new stream otherwise. */
static void reconnect_resume(xmpp_session *s, const char *doc) {
    char previd[8192], acked[16], res[8400];
    int resumable = xmpp_session_can_resume(s, 1000);
    login(s);
    if (!resumable) {
        new_stream(s);
        return;
    }
    if (attr_of(out.buf, "<resume ", "previd", previd, sizeof(previd)) != 0 ||
        attr_of(doc, "<sm-state", "acked", acked, sizeof(acked)) != 0)
        abort();
    snprintf(res, sizeof(res), "<resumed xmlns='urn:xmpp:sm:3' h='%s' previd='%s'/>", acked,
             previd);
    feed(s, res);
    if (!xmpp_session_resumed(s))
        abort();
    ack_all(s, (uint32_t)strtoul(acked, NULL, 10));
}

/* Resumption refused (or not tried): a new stream. */
static void reconnect_refused(xmpp_session *s) {
    int resumable = xmpp_session_can_resume(s, 1000);
    login(s);
    if (resumable) {
        if (strstr(out.buf, "<resume ") == NULL)
            abort();
        feed(s, "<failed xmlns='urn:xmpp:sm:3'/>");
    }
    new_stream(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    xmpp_ctx *ctx = NULL;
    xmpp_session *s, *s2, *s3;
    char *a = NULL, *b = NULL;
    size_t alen = 0, blen = 0, unacked = 0, queued = 0, bytes = 0;
    int rc;

    if (size > 1 << 20)
        return 0;
    if (xmpp_ctx_new(&ctx, NULL) != XMPP_OK)
        return 0;
    s = new_session(ctx);
    rc = xmpp_session_sm_import(s, (const char *)data, size);
    if (rc != XMPP_OK) {
        if (rc != XMPP_ERR_INVALID || xmpp_session_sm_export(s, &a, NULL) != XMPP_ERR_STATE ||
            xmpp_session_can_resume(s, 0) || xmpp_session_jid(s) != NULL ||
            xmpp_session_sm_queue(s, &unacked, &queued, &bytes) || queued || bytes)
            abort();
        xmpp_session_free(s);
        xmpp_ctx_free(ctx);
        return 0;
    }
    xmpp_session_sm_queue(s, &unacked, &queued, &bytes);
    if (unacked > queued || queued > MAX_STANZAS || bytes > MAX_BYTES)
        abort();
    if (xmpp_session_sm_export(s, &a, &alen) != XMPP_OK || strlen(a) != alen)
        abort();
    s2 = new_session(ctx);
    if (xmpp_session_sm_import(s2, a, alen) != XMPP_OK ||
        xmpp_session_sm_export(s2, &b, &blen) != XMPP_OK || blen != alen ||
        memcmp(a, b, alen) != 0)
        abort();
    xmpp_free(ctx, b);
    reconnect_resume(s2, a);
    s3 = new_session(ctx);
    if (xmpp_session_sm_import(s3, a, alen) != XMPP_OK)
        abort();
    reconnect_refused(s3);
    xmpp_free(ctx, a);
    xmpp_session_free(s3);
    xmpp_session_free(s2);
    xmpp_session_free(s);
    xmpp_ctx_free(ctx);
    return 0;
}
