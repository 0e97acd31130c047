/* The TLS filter: a GnuTLS client session driven over memory buffers.
 *
 * GnuTLS reads ciphertext through pull_fn() from t->in and writes it
 * through push_fn() into t->out; neither touches a socket. The certificate
 * is verified inside the handshake (verify_fn), so a rejected server gets
 * an alert and no application data is ever exchanged with it (RFC 6120
 * §5.4.3.1 / §13.7.2, SECURITY.md TLS-01).
 *
 * GnuTLS itself reads the wall clock (certificate validity, TLS 1.3
 * internals); this file does not. */
#include "filter/tls.h"
#include "filter/tls_int.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

/* BCP 195 (RFC 9325 §4): TLS 1.2 at least, forward-secret AEAD/ETM suites;
 * NORMAL already excludes SSL 3, RC4, NULL, export and anonymous suites,
 * and GnuTLS 3.6+ has no TLS compression. Static-RSA key transport and
 * 3DES are removed on top. */
#define PRIO_TLS12        "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-RSA:-3DES-CBC"
#define PRIO_TLS13        "NORMAL:-VERS-ALL:+VERS-TLS1.3"
#define PRIO_TLS12_ONLY   "NORMAL:-VERS-ALL:+VERS-TLS1.2:-RSA:-3DES-CBC"
#define ALPN_CLIENT       "xmpp-client"              /* XEP-0368 §3 */
#define CB_EXPORTER_LABEL "EXPORTER-Channel-Binding" /* RFC 9266 §2 */
#define OUT_KEEP_CAP      65536                      /* release larger idle output buffers */
#define IO_MAX            ((size_t)INT_MAX)          /* per push/pull call, fits ssize_t */

enum { ST_HANDSHAKE, ST_OPEN, ST_FAILED };

typedef struct bq { /* bytes data[off .. off+len) */
    uint8_t *data;
    size_t off, len, cap;
} bq;

struct xmpp_tls {
    xmpp_ctx *ctx;
    xmpp_tls_config *cfg;
    gnutls_session_t s;
    char *domain;
    int direct;
    bq in, out;
    int eof; /* the transport reached end of file */
    int state;
    int err;       /* sticky failure, 0 if none */
    int oom;       /* one of our allocations failed inside GnuTLS */
    int rejected;  /* the certificate was rejected */
    int wr_closed; /* close_notify queued */
    int gnutls_rc; /* last GnuTLS failure, for logs */
    int alert;     /* last alert received, -1 if none */
    char alpn[256];
    xmpp_tls_verify_result vr;
};

/* --- byte queues ------------------------------------------------------ */

static int bq_append(const xmpp_ctx *ctx, bq *q, const void *p, size_t n) {
    if (n == 0)
        return XMPP_OK;
    if (q->len > SIZE_MAX - n)
        return XMPP_ERR_NOMEM;
    if (q->off + q->len + n > q->cap && q->off > 0) {
        memmove(q->data, q->data + q->off, q->len);
        q->off = 0;
    }
    if (q->len + n > q->cap) {
        size_t cap = q->cap ? q->cap : 4096;
        uint8_t *nd;
        while (cap < q->len + n)
            cap = cap > SIZE_MAX / 2 ? q->len + n : cap * 2;
        nd = xmpp__realloc(ctx, q->data, cap);
        if (nd == NULL)
            return XMPP_ERR_NOMEM;
        q->data = nd;
        q->cap = cap;
    }
    memcpy(q->data + q->off + q->len, p, n);
    q->len += n;
    return XMPP_OK;
}

static void bq_consume(const xmpp_ctx *ctx, bq *q, size_t n) {
    q->off += n;
    q->len -= n;
    if (q->len == 0) {
        q->off = 0;
        if (q->cap > OUT_KEEP_CAP) {
            xmpp__free(ctx, q->data);
            q->data = NULL;
            q->cap = 0;
        }
    }
}

static void bq_free(const xmpp_ctx *ctx, bq *q) {
    xmpp__free(ctx, q->data);
    memset(q, 0, sizeof(*q));
}

/* --- GnuTLS transport callbacks --------------------------------------- */

static ssize_t push_fn(gnutls_transport_ptr_t ptr, const void *data, size_t n) {
    xmpp_tls *t = ptr;
    if (n > IO_MAX)
        n = IO_MAX;
    if (bq_append(t->ctx, &t->out, data, n) != XMPP_OK) {
        t->oom = 1;
        gnutls_transport_set_errno(t->s, ENOMEM);
        return -1;
    }
    return (ssize_t)n;
}

static ssize_t pull_fn(gnutls_transport_ptr_t ptr, void *data, size_t n) {
    xmpp_tls *t = ptr;
    if (t->in.len == 0) {
        if (t->eof)
            return 0;
        gnutls_transport_set_errno(t->s, EAGAIN);
        return -1;
    }
    if (n > t->in.len)
        n = t->in.len;
    if (n > IO_MAX)
        n = IO_MAX;
    memcpy(data, t->in.data + t->in.off, n);
    bq_consume(t->ctx, &t->in, n);
    return (ssize_t)n;
}

/* GnuTLS may ask whether input is ready; never wait, never poll an fd. */
static int pull_timeout_fn(gnutls_transport_ptr_t ptr, unsigned int ms) {
    xmpp_tls *t = ptr;
    (void)ms;
    return (t->in.len > 0 || t->eof) ? 1 : 0;
}

static int verify_fn(gnutls_session_t s) {
    xmpp_tls *t = gnutls_session_get_ptr(s);
    int rc = xmpp__tls_verify_peer(&t->vr, s, t->cfg, t->domain, t->direct);
    if (rc < 0) {
        t->oom = 1;
        return -1;
    }
    if (rc == 0) {
        t->rejected = 1;
        xmpp__log(t->ctx, XMPP_LOG_WARN, "tls", "certificate for %s rejected (failures 0x%x)",
                  t->domain, t->vr.failures);
        return -1;
    }
    return 0;
}

/* --- errors ----------------------------------------------------------- */

static int is_protocol_alert(int alert) {
    return alert == GNUTLS_A_PROTOCOL_VERSION || alert == GNUTLS_A_INSUFFICIENT_SECURITY ||
           alert == GNUTLS_A_HANDSHAKE_FAILURE;
}

/* TLS-12: every code other than success/AGAIN/INTERRUPTED is a failure. */
static int map_error(xmpp_tls *t, int rc, int handshake) {
    t->gnutls_rc = rc;
    if (t->oom || rc == GNUTLS_E_MEMORY_ERROR)
        return XMPP_ERR_NOMEM;
    if (t->rejected)
        return XMPP_TLS_ERR_CERT;
    switch (rc) {
    case GNUTLS_E_CERTIFICATE_ERROR:
    case GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR:
        return XMPP_TLS_ERR_CERT;
    case GNUTLS_E_UNSUPPORTED_VERSION_PACKET:
    case GNUTLS_E_NO_CIPHER_SUITES:
    case GNUTLS_E_UNKNOWN_CIPHER_SUITE:
    case GNUTLS_E_INSUFFICIENT_SECURITY:
    case GNUTLS_E_NO_COMMON_KEY_SHARE:
    case GNUTLS_E_UNWANTED_ALGORITHM:
        return handshake ? XMPP_TLS_ERR_PROTOCOL : XMPP_TLS_ERR_TRANSPORT;
    case GNUTLS_E_FATAL_ALERT_RECEIVED:
    case GNUTLS_E_WARNING_ALERT_RECEIVED:
        t->alert = (int)gnutls_alert_get(t->s);
        if (handshake && is_protocol_alert(t->alert))
            return XMPP_TLS_ERR_PROTOCOL;
        return XMPP_TLS_ERR_ALERT;
    case GNUTLS_E_REHANDSHAKE:
    case GNUTLS_E_REAUTH_REQUEST:
        return XMPP_TLS_ERR_RENEGOTIATION; /* TLS-11 */
    case GNUTLS_E_PREMATURE_TERMINATION:
        return XMPP_TLS_ERR_TRUNCATED;
    case GNUTLS_E_UNEXPECTED_PACKET_LENGTH:
        return t->eof ? XMPP_TLS_ERR_TRUNCATED : XMPP_TLS_ERR_TRANSPORT;
    default:
        return handshake ? XMPP_TLS_ERR_HANDSHAKE : XMPP_TLS_ERR_TRANSPORT;
    }
}

static int fail(xmpp_tls *t, int err) {
    t->err = err;
    t->state = ST_FAILED;
    xmpp__log(t->ctx, XMPP_LOG_WARN, "tls", "%s: %s (%s)", t->domain, xmpp_tls_strerror(err),
              xmpp_tls_error_detail(t));
    return err;
}

const char *xmpp_tls_strerror(int err) {
    switch (err) {
    case XMPP_TLS_AGAIN:
        return "TLS needs more input";
    case XMPP_TLS_ERR_HANDSHAKE:
        return "TLS handshake failed";
    case XMPP_TLS_ERR_PROTOCOL:
        return "no acceptable TLS protocol version or cipher suite";
    case XMPP_TLS_ERR_CERT:
        return "server certificate rejected";
    case XMPP_TLS_ERR_CLOSED:
        return "TLS connection closed by the peer";
    case XMPP_TLS_ERR_ALERT:
        return "TLS alert received";
    case XMPP_TLS_ERR_RENEGOTIATION:
        return "TLS renegotiation refused";
    case XMPP_TLS_ERR_TRUNCATED:
        return "TLS connection truncated";
    case XMPP_TLS_ERR_TRANSPORT:
        return "TLS record layer error";
    case XMPP_TLS_ERR_CB_UNAVAILABLE:
        return "channel binding type unavailable";
    default:
        return xmpp_strerror(err);
    }
}

const char *xmpp_tls_error_detail(const xmpp_tls *t) {
    if (t == NULL)
        return "";
    if (t->alert >= 0) {
        const char *a = gnutls_alert_get_name((gnutls_alert_description_t)t->alert);
        return a != NULL ? a : "unknown alert";
    }
    return t->gnutls_rc != 0 ? gnutls_strerror(t->gnutls_rc) : "";
}

/* --- setup ------------------------------------------------------------ */

/* The domain is an A-label (JID domainpart): printable ASCII only. */
static int domain_ok(const char *d) {
    size_t i, n = strlen(d);
    if (n == 0 || n > 255)
        return 0;
    for (i = 0; i < n; i++)
        if ((unsigned char)d[i] <= 0x20 || (unsigned char)d[i] >= 0x7f)
            return 0;
    return 1;
}

/* RFC 6066 §3: SNI carries no IP literal. */
static int ip_literal(const char *d) {
    size_t i;
    if (d[0] == '[' || strchr(d, ':') != NULL)
        return 1;
    for (i = 0; d[i] != '\0'; i++)
        if (!(d[i] == '.' || (d[i] >= '0' && d[i] <= '9')))
            return 0;
    return 1;
}

static int setup_session(xmpp_tls *t) {
    const char *prio = t->cfg->min_version == XMPP_TLS_VERSION_1_3   ? PRIO_TLS13
                       : t->cfg->max_version == XMPP_TLS_VERSION_1_2 ? PRIO_TLS12_ONLY
                                                                     : PRIO_TLS12;
    /* No resumption: we keep no tickets, and every handshake is verified. */
    int rc = gnutls_init(&t->s, GNUTLS_CLIENT | GNUTLS_NONBLOCK | GNUTLS_NO_TICKETS);
    if (rc < 0) {
        t->s = NULL;
        return rc;
    }
    gnutls_session_set_ptr(t->s, t);
    if ((rc = gnutls_priority_set_direct(t->s, prio, NULL)) < 0 ||
        (rc = gnutls_credentials_set(t->s, GNUTLS_CRD_CERTIFICATE, t->cfg->cred)) < 0)
        return rc;
    if (!ip_literal(t->domain)) {
        size_t n = strlen(t->domain);
        if (t->domain[n - 1] == '.')
            n--;
        if ((rc = gnutls_server_name_set(t->s, GNUTLS_NAME_DNS, t->domain, n)) < 0)
            return rc;
    }
    if (t->direct) {
        gnutls_datum_t p;
        p.data = (unsigned char *)ALPN_CLIENT;
        p.size = sizeof(ALPN_CLIENT) - 1;
        if ((rc = gnutls_alpn_set_protocols(t->s, &p, 1, 0)) < 0)
            return rc;
    }
    gnutls_session_set_verify_function(t->s, verify_fn);
    gnutls_handshake_set_timeout(t->s, 0); /* time is the caller's business */
    gnutls_transport_set_ptr(t->s, t);
    gnutls_transport_set_push_function(t->s, push_fn);
    gnutls_transport_set_pull_function(t->s, pull_fn);
    gnutls_transport_set_pull_timeout_function(t->s, pull_timeout_fn);
    return 0;
}

int xmpp_tls_new(xmpp_tls **out, xmpp_ctx *ctx, xmpp_tls_config *cfg, const char *domain,
                 int direct) {
    xmpp_tls *t;
    int rc;
    if (out == NULL)
        return XMPP_ERR_INVALID;
    *out = NULL;
    if (ctx == NULL || cfg == NULL || domain == NULL || !domain_ok(domain))
        return XMPP_ERR_INVALID;
    t = xmpp__malloc(ctx, sizeof(*t));
    if (t == NULL)
        return XMPP_ERR_NOMEM;
    memset(t, 0, sizeof(*t));
    t->ctx = ctx;
    t->vr.ctx = ctx;
    t->alert = -1;
    t->direct = direct != 0;
    t->state = ST_HANDSHAKE;
    t->domain = xmpp__strdup(ctx, domain);
    if (t->domain == NULL) {
        xmpp__free(ctx, t);
        return XMPP_ERR_NOMEM;
    }
    t->cfg = xmpp_tls_config_ref(cfg);
    xmpp__tls_config_prepare(cfg);
    rc = setup_session(t);
    if (rc < 0) {
        xmpp__log(ctx, XMPP_LOG_ERROR, "tls", "session setup: %s", gnutls_strerror(rc));
        xmpp_tls_free(t);
        return rc == GNUTLS_E_MEMORY_ERROR ? XMPP_ERR_NOMEM : XMPP_TLS_ERR_HANDSHAKE;
    }
    *out = t;
    return XMPP_OK;
}

void xmpp_tls_free(xmpp_tls *t) {
    if (t == NULL)
        return;
    if (t->s != NULL)
        gnutls_deinit(t->s);
    xmpp__tls_verify_result_clear(&t->vr);
    bq_free(t->ctx, &t->in);
    bq_free(t->ctx, &t->out);
    xmpp_tls_config_unref(t->cfg);
    xmpp__free(t->ctx, t->domain);
    xmpp__free(t->ctx, t);
}

/* --- data path -------------------------------------------------------- */

int xmpp_tls_feed(xmpp_tls *t, const uint8_t *in, size_t len) {
    if (t == NULL || (in == NULL && len > 0))
        return XMPP_ERR_INVALID;
    if (t->eof)
        return XMPP_ERR_STATE;
    return bq_append(t->ctx, &t->in, in, len);
}

int xmpp_tls_feed_eof(xmpp_tls *t) {
    if (t == NULL)
        return XMPP_ERR_INVALID;
    t->eof = 1;
    return XMPP_OK;
}

static void handshake_done(xmpp_tls *t) {
    gnutls_datum_t p;
    t->alpn[0] = '\0';
    if (gnutls_alpn_get_selected_protocol(t->s, &p) == 0 && p.size < sizeof(t->alpn)) {
        memcpy(t->alpn, p.data, p.size);
        t->alpn[p.size] = '\0';
    }
    t->state = ST_OPEN;
    xmpp__log(t->ctx, XMPP_LOG_DEBUG, "tls", "%s: %s, %s%s%s", t->domain,
              gnutls_protocol_get_name(gnutls_protocol_get_version(t->s)),
              gnutls_ciphersuite_get(t->s), t->alpn[0] ? ", ALPN " : "", t->alpn);
}

int xmpp_tls_handshake(xmpp_tls *t) {
    int rc, tries = 0;
    size_t out_before;
    if (t == NULL)
        return XMPP_ERR_INVALID;
    if (t->err != 0)
        return t->err;
    if (t->state == ST_OPEN)
        return XMPP_OK;
    out_before = t->out.len;
    do
        rc = gnutls_handshake(t->s);
    while (rc == GNUTLS_E_INTERRUPTED && ++tries < 16);
    if (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED) {
        if (t->oom)
            return fail(t, XMPP_ERR_NOMEM);
        /* GnuTLS reports a short read at EOF as AGAIN; no more input can
         * come, so the handshake was cut off. */
        if (t->eof && t->in.len == 0)
            return fail(t, XMPP_TLS_ERR_TRUNCATED);
        return XMPP_TLS_AGAIN;
    }
    if (rc != GNUTLS_E_SUCCESS) {
        int err = map_error(t, rc, 1);
        /* Tell the peer why (RFC 8446 §6.2), unless it told us or GnuTLS
         * already queued an alert during this call. */
        if (!t->oom && t->out.len == out_before && rc != GNUTLS_E_FATAL_ALERT_RECEIVED &&
            rc != GNUTLS_E_WARNING_ALERT_RECEIVED && rc != GNUTLS_E_PUSH_ERROR)
            gnutls_alert_send_appropriate(t->s, rc);
        return fail(t, err);
    }
    /* TLS-01: never report success unless our verification ran and
     * accepted (it always runs inside the handshake; this is a guard). */
    if (!t->vr.done || t->rejected || t->oom) {
        gnutls_alert_send(t->s, GNUTLS_AL_FATAL, GNUTLS_A_BAD_CERTIFICATE);
        return fail(t, t->oom ? XMPP_ERR_NOMEM : XMPP_TLS_ERR_CERT);
    }
    handshake_done(t);
    return XMPP_OK;
}

int xmpp_tls_read(xmpp_tls *t, uint8_t *buf, size_t cap) {
    size_t total = 0;
    if (t == NULL || (buf == NULL && cap > 0))
        return XMPP_ERR_INVALID;
    if (t->err != 0)
        return t->err;
    if (t->state != ST_OPEN)
        return XMPP_ERR_STATE;
    if (cap > INT_MAX)
        cap = INT_MAX;
    int idle = 0;
    while (total < cap) {
        size_t before = t->in.len;
        ssize_t r = gnutls_record_recv(t->s, buf + total, cap - total);
        if (r > 0) {
            total += (size_t)r;
            idle = 0;
            continue;
        }
        /* A post-handshake message (a TLS 1.3 NewSessionTicket, which we
         * ignore) is consumed with GNUTLS_E_AGAIN although more records may
         * be buffered, here or inside GnuTLS: try again until a call makes
         * no progress at all. */
        if ((r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) && !t->oom &&
            (t->in.len < before || ++idle < 2))
            continue;
        if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
            if (t->oom)
                r = GNUTLS_E_MEMORY_ERROR;
            else if (t->eof && t->in.len == 0)
                r = GNUTLS_E_PREMATURE_TERMINATION; /* cut mid-record */
            else
                break;
        }
        /* r == 0 is close_notify (RFC 8446 §6.1); the error is sticky and,
         * if bytes were decrypted first, reported by the next call. */
        if (r == 0) {
            t->err = XMPP_TLS_ERR_CLOSED;
            t->state = ST_FAILED;
            xmpp__log(t->ctx, XMPP_LOG_DEBUG, "tls", "%s: close_notify", t->domain);
        } else {
            fail(t, map_error(t, (int)r, 0));
        }
        return total > 0 ? (int)total : t->err;
    }
    return (int)total;
}

int xmpp_tls_write(xmpp_tls *t, const uint8_t *p, size_t n) {
    size_t off = 0;
    int again = 0;
    if (t == NULL || (p == NULL && n > 0))
        return XMPP_ERR_INVALID;
    if (t->err != 0)
        return t->err;
    if (t->state != ST_OPEN || t->wr_closed)
        return XMPP_ERR_STATE;
    while (off < n) {
        /* gnutls_record_send() takes at most one record per call. */
        ssize_t r = gnutls_record_send(t->s, p + off, n - off);
        if (r > 0) {
            off += (size_t)r;
            again = 0;
        } else if ((r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) && !t->oom && ++again < 16) {
            continue; /* our push never blocks: retry the pending record */
        } else {
            return fail(t, map_error(t, r == 0 ? GNUTLS_E_INTERNAL_ERROR : (int)r, 0));
        }
    }
    return XMPP_OK;
}

int xmpp_tls_out(xmpp_tls *t, const uint8_t **p, size_t *n) {
    if (t == NULL || p == NULL || n == NULL)
        return XMPP_ERR_INVALID;
    *p = t->out.len > 0 ? t->out.data + t->out.off : NULL;
    *n = t->out.len;
    return XMPP_OK;
}

int xmpp_tls_out_consume(xmpp_tls *t, size_t n) {
    if (t == NULL || n > t->out.len)
        return XMPP_ERR_INVALID;
    bq_consume(t->ctx, &t->out, n);
    return XMPP_OK;
}

int xmpp_tls_bye(xmpp_tls *t) {
    int rc;
    if (t == NULL)
        return XMPP_ERR_INVALID;
    if (t->state != ST_OPEN)
        return t->err != 0 ? t->err : XMPP_ERR_STATE;
    if (t->wr_closed)
        return XMPP_OK;
    rc = gnutls_bye(t->s, GNUTLS_SHUT_WR);
    if (rc != GNUTLS_E_SUCCESS)
        return fail(t, map_error(t, rc, 0));
    t->wr_closed = 1;
    return XMPP_OK;
}

const xmpp_tls_verify_result *xmpp_tls_get_verify_result(const xmpp_tls *t) {
    return t != NULL && t->vr.done ? &t->vr : NULL;
}

/* --- channel binding and info ----------------------------------------- */

int xmpp_tls_cb_type_from_name(const char *name) {
    if (name == NULL)
        return 0;
    if (strcmp(name, "tls-exporter") == 0)
        return XMPP_TLS_CB_EXPORTER;
    if (strcmp(name, "tls-unique") == 0)
        return XMPP_TLS_CB_UNIQUE;
    if (strcmp(name, "tls-server-end-point") == 0)
        return XMPP_TLS_CB_SERVER_END_POINT;
    return 0;
}

static int cb_room(size_t need, size_t *len) {
    int ok = *len >= need;
    *len = need;
    return ok ? XMPP_OK : XMPP_ERR_LIMIT;
}

/* RFC 9266 §2: exporter, label "EXPORTER-Channel-Binding", empty context,
 * 32 bytes. On TLS 1.2 only with Extended Master Secret (RFC 9266 §3,
 * RFC 7627), otherwise the value is not unique to the connection. */
static int cb_exporter(xmpp_tls *t, uint8_t *out, size_t *len) {
    int rc;
    if (gnutls_protocol_get_version(t->s) != GNUTLS_TLS1_3 &&
        !gnutls_session_ext_master_secret_status(t->s))
        return XMPP_TLS_ERR_CB_UNAVAILABLE;
    if ((rc = cb_room(32, len)) != XMPP_OK)
        return rc;
    rc = gnutls_prf_rfc5705(t->s, sizeof(CB_EXPORTER_LABEL) - 1, CB_EXPORTER_LABEL, 0, "", 32,
                            (char *)out);
    return rc < 0 ? XMPP_TLS_ERR_CB_UNAVAILABLE : XMPP_OK;
}

/* RFC 5929 §3: the first Finished message; undefined for TLS 1.3
 * (RFC 8446 §C.5). */
static int cb_unique(xmpp_tls *t, uint8_t *out, size_t *len) {
    gnutls_datum_t cb = {NULL, 0};
    int rc;
    if (gnutls_protocol_get_version(t->s) == GNUTLS_TLS1_3)
        return XMPP_TLS_ERR_CB_UNAVAILABLE;
    if (gnutls_session_channel_binding(t->s, GNUTLS_CB_TLS_UNIQUE, &cb) < 0)
        return XMPP_TLS_ERR_CB_UNAVAILABLE;
    rc = cb_room(cb.size, len);
    if (rc == XMPP_OK)
        memcpy(out, cb.data, cb.size);
    gnutls_free(cb.data);
    return rc;
}

/* RFC 5929 §4.1: the hash of the server's certificate, with the hash of
 * its signature algorithm, SHA-256 if that is MD5 or SHA-1; undefined when
 * the algorithm has no single hash (Ed25519, Ed448). */
static int cb_end_point(xmpp_tls *t, uint8_t *out, size_t *len) {
    const gnutls_datum_t *certs;
    unsigned n = 0;
    gnutls_x509_crt_t crt;
    gnutls_digest_algorithm_t dig = GNUTLS_DIG_UNKNOWN;
    int rc;
    certs = gnutls_certificate_get_peers(t->s, &n);
    if (certs == NULL || n == 0 || gnutls_x509_crt_init(&crt) < 0)
        return XMPP_TLS_ERR_CB_UNAVAILABLE;
    if (gnutls_x509_crt_import(crt, &certs[0], GNUTLS_X509_FMT_DER) >= 0) {
        rc = gnutls_x509_crt_get_signature_algorithm(crt);
        if (rc >= 0)
            dig = gnutls_sign_get_hash_algorithm((gnutls_sign_algorithm_t)rc);
    }
    gnutls_x509_crt_deinit(crt);
    if (dig == GNUTLS_DIG_MD5 || dig == GNUTLS_DIG_SHA1)
        dig = GNUTLS_DIG_SHA256;
    if (dig == GNUTLS_DIG_UNKNOWN || gnutls_hash_get_len(dig) == 0)
        return XMPP_TLS_ERR_CB_UNAVAILABLE;
    if ((rc = cb_room(gnutls_hash_get_len(dig), len)) != XMPP_OK)
        return rc;
    if (gnutls_hash_fast(dig, certs[0].data, certs[0].size, out) < 0)
        return XMPP_TLS_ERR_CB_UNAVAILABLE;
    return XMPP_OK;
}

int xmpp_tls_channel_binding(xmpp_tls *t, xmpp_tls_cb_type type, uint8_t *out, size_t *len) {
    if (t == NULL || len == NULL || (out == NULL && *len > 0))
        return XMPP_ERR_INVALID;
    if (t->state != ST_OPEN)
        return XMPP_ERR_STATE;
    switch (type) {
    case XMPP_TLS_CB_EXPORTER:
        return cb_exporter(t, out, len);
    case XMPP_TLS_CB_UNIQUE:
        return cb_unique(t, out, len);
    case XMPP_TLS_CB_SERVER_END_POINT:
        return cb_end_point(t, out, len);
    }
    return XMPP_ERR_INVALID;
}

int xmpp_tls_info(const xmpp_tls *t, xmpp_tls_info_t *out) {
    gnutls_protocol_t v;
    if (t == NULL || out == NULL)
        return XMPP_ERR_INVALID;
    memset(out, 0, sizeof(*out));
    if (t->state != ST_OPEN && !(t->state == ST_FAILED && t->err == XMPP_TLS_ERR_CLOSED))
        return XMPP_ERR_STATE;
    v = gnutls_protocol_get_version(t->s);
    out->version = v == GNUTLS_TLS1_3 ? 13 : v == GNUTLS_TLS1_2 ? 12 : 0;
    out->ems = v == GNUTLS_TLS1_3 ? 1 : gnutls_session_ext_master_secret_status(t->s) != 0;
    out->alpn = t->alpn[0] != '\0' ? t->alpn : NULL;
    out->cipher = gnutls_ciphersuite_get(t->s);
    return XMPP_OK;
}
