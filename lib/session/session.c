/* The sans-I/O session: lifecycle, the byte pipeline (transport ⇄ TLS ⇄
 * XML), timers and the end of a session. Negotiation is in negotiate.c,
 * stanza dispatch and IQ tracking in dispatch.c. */
#include "session/session_int.h"
#include "plugin/plugin_int.h"

#include <stdio.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "filter/compress.h"
#include "filter/tls.h"
#include "stream/sasl.h"

int xmpp__options_copy(struct xmpp_session_options *dst, const xmpp_session_options *src);
void xmpp__options_clear(struct xmpp_session_options *o);

/* ---- parser callbacks: forwarded to the negotiator */
static void on_stream_start(xmpp_stanza *header, const char *default_ns, void *ud) {
    xmpp_session *s = ud;
    if (s->step == STEP_CLOSED || s->restart || s->start_tls)
        return;
    xmpp__neg_stream_start(s, header, default_ns);
}

static void on_stanza(xmpp_stanza *st, void *ud) {
    xmpp_session *s = ud;
    /* After <proceed/> or <success/> the stream is over: nothing else from
     * this stream may be acted on (TLS-04, SASL-09). */
    if (s->step == STEP_CLOSED || s->restart || s->start_tls)
        return;
    s->last_rx = s->now;
    s->ping_deadline = 0;
    if (s->step == STEP_READY || s->step == STEP_CLOSING) {
        if (s->o.component) /* XEP-0114: stanzas as in jabber:client */
            xmpp__component_inbound(st);
        if (s->s2.features_due && xmpp__sasl2_late_features(s, st))
            return;
        if (strcmp(xmpp_stanza_name(st), "error") == 0 && xmpp_stanza_ns(st) &&
            strcmp(xmpp_stanza_ns(st), XMPP_NS_STREAMS) == 0)
            xmpp__neg_stanza(s, st);
        else if (!xmpp__sm_ready_stanza(s, st) && s->step == STEP_READY)
            xmpp__dispatch(s, st);
        return;
    }
    xmpp__neg_stanza(s, st);
}

static void on_stream_end(void *ud) {
    xmpp_session *s = ud;
    if (s->step == STEP_CLOSED)
        return;
    if (s->step == STEP_CLOSING) {
        xmpp__session_end(s, XMPP_CAUSE_LOCAL_CLOSE);
        return;
    }
    /* RFC 6120 §4.4: answer the close, then the stream is over. The cause
     * is known before the answer, which may fail (close_notify came too). */
    s->cause = XMPP_CAUSE_REMOTE_CLOSE;
    xmpp__session_write(s, "</stream:stream>", 16);
    xmpp__session_end(s, XMPP_CAUSE_REMOTE_CLOSE);
}

static int make_parser(xmpp_session *s) {
    xmpp_xml_callbacks cb;
    xmpp_xml_limits lim;
    int rc;
    cb.stream_start = on_stream_start;
    cb.stanza = on_stanza;
    cb.stream_end = on_stream_end;
    if ((rc = xmpp_xml_parser_new(&s->parser, s->ctx, &cb, s)) != XMPP_OK)
        return rc;
    memset(&lim, 0, sizeof(lim));
    lim.max_stanza_bytes = s->o.max_stanza;
    lim.max_depth = s->o.max_depth;
    xmpp_xml_parser_set_limits(s->parser, &lim);
    return XMPP_OK;
}

int xmpp_session_new(xmpp_session **out, xmpp_ctx *ctx, const xmpp_session_options *opts) {
    xmpp_session *s;
    int rc;
    unsigned char rnd[6];
    if (out == NULL)
        return XMPP_ERR_INVALID;
    *out = NULL;
    if (ctx == NULL || opts == NULL || opts->jid == NULL)
        return XMPP_ERR_INVALID;
    if (opts->tls_mode == XMPP_TLS_NONE && !opts->allow_plain)
        return XMPP_ERR_INVALID;
    s = xmpp__malloc(ctx, sizeof(*s));
    if (s == NULL)
        return XMPP_ERR_NOMEM;
    memset(s, 0, sizeof(*s));
    s->ctx = ctx;
    xmpp__buf_init(&s->out, ctx);
    if ((rc = xmpp__options_copy(&s->o, opts)) != XMPP_OK) {
        xmpp__free(ctx, s);
        return rc;
    }
    if ((rc = xmpp_jid_parse(&s->jid, ctx, opts->jid)) != XMPP_OK ||
        (rc = xmpp__sasl2_init(s)) != XMPP_OK || (rc = make_parser(s)) != XMPP_OK) {
        xmpp_session_free(s);
        return rc;
    }
    if (gnutls_rnd(GNUTLS_RND_NONCE, rnd, sizeof(rnd)) != 0)
        memset(rnd, 0x5a, sizeof(rnd));
    snprintf(s->id_prefix, sizeof(s->id_prefix), "%02x%02x%02x%02x%02x%02x", rnd[0], rnd[1],
             rnd[2], rnd[3], rnd[4], rnd[5]);
    s->next_handler_id = 1;
    s->cond = XMPP_SC_NONE;
    if ((rc = xmpp__plugins_session_init(s)) != XMPP_OK) {
        xmpp_session_free(s);
        return rc;
    }
    *out = s;
    return XMPP_OK;
}

void xmpp_session_free(xmpp_session *s) {
    if (s == NULL || s->in_callback)
        return;
    s->closed_fired = 1; /* no lifecycle callback from here on */
    s->in_callback++;
    xmpp__iq_cancel_all(s);
    xmpp__sm_free(s); /* what was never acknowledged is handed back */
    s->in_callback--;
    xmpp__plugins_session_free(s); /* detach callbacks remove their handlers */
    xmpp__handlers_free(s);
    xmpp__neg_free(s);
    xmpp__zlib_free(s->z);
    xmpp_stanza_unref(s->post_auth_features);
    xmpp__sasl2_free(s);
    xmpp_xml_parser_free(s->parser);
    xmpp__buf_free(&s->out);
    xmpp_jid_free(s->jid);
    xmpp__free(s->ctx, s->bound_jid);
    xmpp__free(s->ctx, s->stream_id);
    xmpp__free(s->ctx, s->err_text);
    xmpp__free(s->ctx, s->sasl_cond);
    xmpp__free(s->ctx, s->redirect);
    xmpp_stanza_unref(s->err_app);
    xmpp__options_clear(&s->o);
    xmpp__free(s->ctx, s);
}

/* ---- output: everything for the wire goes through here */
static void pump_tls(xmpp_session *s) {
    const uint8_t *p;
    size_t n;
    while (s->tls != NULL && xmpp_tls_out(s->tls, &p, &n) == XMPP_OK && n > 0) {
        xmpp__buf_append(&s->out, (const char *)p, n);
        xmpp_tls_out_consume(s->tls, n);
    }
}

static void write_wire(xmpp_session *s, const char *data, size_t len);

void xmpp__session_write(xmpp_session *s, const char *data, size_t len) {
    s->last_tx = s->now;
    if (s->z != NULL) {
        /* XEP-0138: every write is flushed, so the server can inflate it
         * at once */
        xmpp_buf zb;
        int rc;
        xmpp__buf_init(&zb, s->ctx);
        rc = xmpp__zlib_compress(s->z, data, len, &zb);
        if (rc == XMPP_OK && !zb.oom)
            write_wire(s, zb.data, zb.len);
        xmpp__buf_free(&zb);
        if (rc != XMPP_OK || zb.oom)
            xmpp__session_end(s, XMPP_CAUSE_NOMEM);
        return;
    }
    write_wire(s, data, len);
    /* sent from outside the session's calls (an application timer, a UI
     * event): the driver watches for writability, no call needed */
    if (!s->in_callback && s->out_hook != NULL)
        s->out_hook(s->out_hook_ud);
}

static void write_wire(xmpp_session *s, const char *data, size_t len) {
    if (s->tls != NULL && s->tls_up) {
        int rc = xmpp_tls_write(s->tls, (const uint8_t *)data, len);
        if (rc < 0) {
            /* A server often sends its stream error or </stream:stream>
             * and close_notify in one flight: the closing tag we write in
             * answer then cannot go out. That must not turn the reason
             * already known (stream error, remote close) into a TLS
             * failure; and a write refused only because the server ended
             * TLS is a remote close, not a TLS failure. */
            if (s->cause != XMPP_CAUSE_NONE)
                return;
            if (rc == XMPP_TLS_ERR_CLOSED)
                xmpp__session_fail(s, XMPP_CAUSE_REMOTE_CLOSE, XMPP_SC_NONE,
                                   "server ended TLS (close_notify)");
            else
                xmpp__session_fail(s, XMPP_CAUSE_TLS, XMPP_SC_NONE, "TLS write failed");
            return;
        }
        pump_tls(s);
    } else {
        xmpp__buf_append(&s->out, data, len);
    }
    if (s->out.oom)
        xmpp__session_end(s, XMPP_CAUSE_NOMEM);
}

int xmpp__stanza_serialize_buf(const xmpp_stanza *st, const char *context_ns, xmpp_buf *b);

/* Every stanza the session sends: counted by stream management when it is
 * enabled (the library's own stanzas may exceed the queue bound). */
int xmpp__session_send_stanza(xmpp_session *s, const xmpp_stanza *st) {
    if ((s->sm.enabled || s->sm.early) && s->step == STEP_READY)
        return xmpp__sm_send(s, st, NULL, s);
    return xmpp__session_write_stanza(s, st, NULL);
}

/* Serialises and writes, uncounted. */
int xmpp__session_write_stanza(xmpp_session *s, const xmpp_stanza *st, size_t *bytes) {
    xmpp_buf tmp;
    int rc;
    xmpp__buf_init(&tmp, s->ctx);
    rc = xmpp__stanza_serialize_buf(st, XMPP_NS_CLIENT, &tmp);
    if (rc == XMPP_OK && s->o.component)
        rc = xmpp__component_add_from(s, st, &tmp);
    if (bytes)
        *bytes = tmp.len;
    if (rc == XMPP_OK && s->limit_max_bytes && tmp.len > s->limit_max_bytes)
        rc = XMPP_ERR_LIMIT; /* XEP-0478: the server would close the stream */
    if (rc == XMPP_OK) {
        xmpp__log(s->ctx, XMPP_LOG_DEBUG, "session", "SEND %.*s",
                  (int)(tmp.len > 2000 ? 2000 : tmp.len), tmp.data);
        xmpp__session_write(s, tmp.data, tmp.len);
    }
    xmpp__buf_free(&tmp);
    return rc;
}

int xmpp_session_drain(xmpp_session *s, const void **data, size_t *len) {
    if (s == NULL || data == NULL || len == NULL)
        return XMPP_ERR_INVALID;
    *data = s->out.data ? s->out.data + s->out_off : NULL;
    *len = s->out.len - s->out_off;
    return XMPP_OK;
}

int xmpp_session_consume(xmpp_session *s, size_t len) {
    if (s == NULL || len > s->out.len - s->out_off)
        return XMPP_ERR_INVALID;
    s->out_off += len;
    if (s->out_off == s->out.len) {
        xmpp__buf_reset(&s->out);
        s->out_off = 0;
    } else if (s->out_off > 65536 && s->out_off > s->out.len / 2) {
        memmove(s->out.data, s->out.data + s->out_off, s->out.len - s->out_off);
        s->out.len -= s->out_off;
        s->out_off = 0;
    }
    return XMPP_OK;
}

/* ---- the end of a session: exactly one on_closed */
void xmpp__session_end(xmpp_session *s, xmpp_disconnect_cause cause) {
    if (s->step == STEP_CLOSED)
        return;
    s->step = STEP_CLOSED;
    if (s->cause == XMPP_CAUSE_NONE)
        s->cause = cause;
    if (s->tls != NULL && s->tls_up && cause != XMPP_CAUSE_TLS) {
        xmpp_tls_bye(s->tls);
        pump_tls(s);
    }
    if (s->sasl != NULL) {
        xmpp__sasl_free(s->sasl); /* wipes secrets */
        s->sasl = NULL;
    }
    xmpp__sm_disconnected(s);
    s->in_callback++;
    xmpp__iq_cancel_all(s);
    if (!s->closed_fired) {
        s->closed_fired = 1;
        if (s->o.on_closed)
            s->o.on_closed(s, s->cause, s->o.user_data);
    }
    s->in_callback--;
}

void xmpp__session_fail(xmpp_session *s, xmpp_disconnect_cause cause,
                        xmpp_stream_condition cond, const char *text) {
    if (s->step == STEP_CLOSED)
        return;
    s->cause = cause;
    s->cond = cond;
    if (text != NULL && s->err_text == NULL)
        s->err_text = xmpp__strdup(s->ctx, text);
    xmpp__log(s->ctx, XMPP_LOG_ERROR, "session", "session failed: %s%s%s",
              text ? text : "", cond ? " / " : "", cond ? xmpp_stream_condition_name(cond) : "");
    /* A protocol violation gets a stream error (RFC 6120 §4.9.1.1) once the
     * stream is open; a TLS failure can only close. */
    if (s->step == STEP_CLOSING) {
        /* our </stream:stream> is out: nothing may follow it */
    } else if (cause == XMPP_CAUSE_PROTOCOL && cond != XMPP_SC_NONE && s->step >= STEP_FEATURES) {
        char buf[160];
        int n = snprintf(buf, sizeof(buf),
                         "<stream:error><%s xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
                         "</stream:error></stream:stream>",
                         xmpp_stream_condition_name(cond));
        xmpp__session_write(s, buf, (size_t)n);
    } else if (cause != XMPP_CAUSE_TLS && cause != XMPP_CAUSE_TLS_VERIFY &&
               cause != XMPP_CAUSE_TLS_REQUIRED && cause != XMPP_CAUSE_NOMEM &&
               s->step >= STEP_FEATURES) {
        xmpp__session_write(s, "</stream:stream>", 16);
    }
    xmpp__session_end(s, cause);
}

/* ---- input */
static void feed_plain(xmpp_session *s, const char *data, size_t len);

static int inflate_sink(void *ud, const char *data, size_t len) {
    xmpp_session *s = ud;
    feed_plain(s, data, len);
    return s->step == STEP_CLOSED || s->restart ? 1 : 0;
}

static void feed_xml(xmpp_session *s, const char *data, size_t len) {
    int rc;
    if (s->z == NULL) {
        feed_plain(s, data, len);
        return;
    }
    rc = xmpp__zlib_decompress(s->z, data, len, inflate_sink, s);
    if (rc == XMPP_OK || s->step == STEP_CLOSED || rc == 1)
        return;
    if (rc == XMPP_ERR_NOMEM)
        xmpp__session_end(s, XMPP_CAUSE_NOMEM);
    else if (rc == XMPP_ERR_LIMIT) /* SECURITY.md: the compression bomb */
        xmpp__session_fail(s, XMPP_CAUSE_PROTOCOL, XMPP_SC_POLICY_VIOLATION,
                           "compressed data inflates beyond the limit");
    else
        xmpp__session_fail(s, XMPP_CAUSE_PROTOCOL, XMPP_SC_UNDEFINED_CONDITION,
                           xmpp__zlib_error(s->z) ? xmpp__zlib_error(s->z)
                                                  : "corrupt compressed data");
}

static void feed_plain(xmpp_session *s, const char *data, size_t len) {
    int rc = xmpp_xml_parser_feed(s->parser, data, len);
    if (rc == XMPP_ERR_STREAM) {
        const char *text = NULL;
        xmpp_stream_condition c = xmpp_xml_parser_error(s->parser, &text);
        xmpp__session_fail(s, XMPP_CAUSE_PROTOCOL, c, text);
    } else if (rc == XMPP_ERR_NOMEM) {
        xmpp__session_end(s, XMPP_CAUSE_NOMEM);
    }
}

/* "certificate rejected: name-mismatch, expired (reference example.com)" */
static const char *describe_verify(const xmpp_tls_verify_result *vr, char *buf, size_t size) {
    static const char *const names[] = {
        "name-mismatch", "expired", "not-yet-valid", "self-signed", "unknown-ca",
        "signer-not-ca", "insecure-algorithm", "revoked", "name-constraints",
        "pin-mismatch", "no-certificate", "purpose-mismatch", "signature-failure"};
    unsigned f, i;
    size_t n;
    if (vr == NULL)
        return "certificate rejected";
    f = xmpp_tls_verify_result_failures(vr);
    n = (size_t)snprintf(buf, size, "certificate rejected:");
    for (i = 0; i < sizeof(names) / sizeof(names[0]) && n < size; i++)
        if (f & (1u << i))
            n += (size_t)snprintf(buf + n, size - n, " %s", names[i]);
    if ((f & XMPP_TLS_VERIFY_OTHER) && n < size)
        n += (size_t)snprintf(buf + n, size - n, " other");
    if (n < size)
        snprintf(buf + n, size - n, " (reference identity %s)",
                 xmpp_tls_verify_result_reference(vr) ? xmpp_tls_verify_result_reference(vr) : "?");
    return buf;
}

/* After <compressed/>: the new stream is compressed both ways. */
static int start_compression(xmpp_session *s) {
    if (!s->start_compress)
        return XMPP_OK;
    s->start_compress = 0;
    xmpp__log(s->ctx, XMPP_LOG_INFO, "session", "stream compression (zlib) on");
    return xmpp__zlib_new(&s->z, s->ctx, -1);
}

/* Runs the TLS handshake; on completion the stream (re)starts. */
static void tls_step(xmpp_session *s) {
    int rc = xmpp_tls_handshake(s->tls);
    pump_tls(s);
    if (rc == XMPP_TLS_AGAIN)
        return;
    if (rc != XMPP_OK) {
        const xmpp_tls_verify_result *vr = xmpp_tls_get_verify_result(s->tls);
        char vbuf[256];
        if (rc == XMPP_TLS_ERR_CERT)
            xmpp__session_fail(s, XMPP_CAUSE_TLS_VERIFY, XMPP_SC_NONE,
                               describe_verify(vr, vbuf, sizeof(vbuf)));
        else
            xmpp__session_fail(s, XMPP_CAUSE_TLS, XMPP_SC_NONE, xmpp_tls_strerror(rc));
        return;
    }
    s->tls_up = 1;
    xmpp__neg_tls_done(s);
}

static void tls_input(xmpp_session *s, const void *data, size_t len) {
    uint8_t buf[16384];
    if (xmpp_tls_feed(s->tls, data, len) != XMPP_OK) {
        xmpp__session_end(s, XMPP_CAUSE_NOMEM);
        return;
    }
    if (!s->tls_up) {
        tls_step(s);
        if (!s->tls_up || s->step == STEP_CLOSED)
            return;
    }
    for (;;) {
        int n = xmpp_tls_read(s->tls, buf, sizeof(buf));
        if (n > 0 && s->step == STEP_SASL2) /* the answer may carry a FAST token */
            xmpp__log(s->ctx, XMPP_LOG_DEBUG, "session", "RECV %d bytes (SASL2: not shown)", n);
        else if (n > 0)
            xmpp__log(s->ctx, XMPP_LOG_DEBUG, "session", "RECV %.*s", n > 2000 ? 2000 : n,
                      (const char *)buf);
        if (n == 0)
            break;
        if (n < 0) {
            if (n == XMPP_TLS_ERR_CLOSED)
                xmpp__session_fail(s, XMPP_CAUSE_REMOTE_CLOSE, XMPP_SC_NONE,
                                   "server ended TLS (close_notify)");
            else
                xmpp__session_fail(s, XMPP_CAUSE_TLS, XMPP_SC_NONE, xmpp_tls_strerror(n));
            return;
        }
        feed_xml(s, (const char *)buf, (size_t)n);
        pump_tls(s);
        if (s->step == STEP_CLOSED)
            return;
        if (s->restart) {
            /* SASL success: the server speaks again only after our new
             * header, so whatever else this read held is discarded. */
            s->restart = 0;
            if (xmpp_xml_parser_reset(s->parser) != XMPP_OK || start_compression(s) != XMPP_OK) {
                xmpp__session_end(s, XMPP_CAUSE_NOMEM);
                return;
            }
            xmpp__neg_send_header(s);
        }
    }
}

int xmpp_session_recv(xmpp_session *s, const void *data, size_t len, uint64_t now) {
    if (s == NULL || (data == NULL && len > 0))
        return XMPP_ERR_INVALID;
    if (s->in_callback)
        return XMPP_ERR_RECURSIVE;
    if (s->step == STEP_IDLE)
        return XMPP_ERR_STATE;
    if (s->step == STEP_CLOSED)
        return XMPP_ERR_CLOSED;
    s->now = now;
    s->last_rx = now;
    s->ping_deadline = 0;
    s->in_callback++;
    if (s->tls != NULL) {
        tls_input(s, data, len);
    } else {
        feed_xml(s, data, len);
        if (s->step != STEP_CLOSED && s->start_tls) {
            /* <proceed/>: bytes after it in this read are never taken as TLS
             * (a MITM could inject plaintext there); they are dropped. */
            s->start_tls = 0;
            if (xmpp_xml_parser_reset(s->parser) != XMPP_OK)
                xmpp__session_end(s, XMPP_CAUSE_NOMEM);
            else
                xmpp__neg_tls_begin(s);
        } else if (s->step != STEP_CLOSED && s->restart) {
            s->restart = 0;
            if (xmpp_xml_parser_reset(s->parser) != XMPP_OK || start_compression(s) != XMPP_OK)
                xmpp__session_end(s, XMPP_CAUSE_NOMEM);
            else
                xmpp__neg_send_header(s);
        }
    }
    s->in_callback--;
    return XMPP_OK;
}

/* Back to the state of a new session for another connection; what
 * outlives a connection (handlers, the SM state and queue, the bound JID
 * for resumption) stays. */
static int reset_connection(xmpp_session *s) {
    xmpp__neg_free(s);
    xmpp__zlib_free(s->z);
    s->z = NULL;
    s->start_compress = 0;
    xmpp_stanza_unref(s->post_auth_features);
    s->post_auth_features = NULL;
    if (xmpp_xml_parser_reset(s->parser) != XMPP_OK)
        return XMPP_ERR_NOMEM;
    xmpp__buf_reset(&s->out);
    s->out_off = 0;
    s->restart = s->start_tls = 0;
    s->tls_up = s->authenticated = s->sasl_pins = 0;
    s->mech = NULL;
    xmpp__sasl2_reset(s);
    s->session_needed = 0;
    xmpp__free(s->ctx, s->stream_id);
    xmpp__free(s->ctx, s->err_text);
    xmpp__free(s->ctx, s->sasl_cond);
    xmpp__free(s->ctx, s->redirect);
    s->stream_id = s->err_text = s->sasl_cond = s->redirect = NULL;
    xmpp_stanza_unref(s->err_app);
    s->err_app = NULL;
    s->cause = XMPP_CAUSE_NONE;
    s->cond = XMPP_SC_NONE;
    s->closed_fired = 0;
    s->ping_deadline = 0;
    s->ping_out = 0;
    s->neg_deadline = 0;
    s->sm.resumed = 0;
    s->sm.offered = 0;
    s->sm.enable_sent = 0;
    s->csi_offered = 0;
    s->limit_max_bytes = 0;
    s->limit_idle_ms = 0;
    s->step = STEP_IDLE;
    return XMPP_OK;
}

int xmpp_session_start(xmpp_session *s, uint64_t now) {
    if (s == NULL)
        return XMPP_ERR_INVALID;
    if (s->step == STEP_CLOSED) {
        if (s->in_callback)
            return XMPP_ERR_RECURSIVE;
        if (reset_connection(s) != XMPP_OK)
            return XMPP_ERR_NOMEM;
    }
    if (s->step != STEP_IDLE)
        return XMPP_ERR_STATE;
    s->now = now;
    s->last_rx = now;
    s->neg_deadline = now + s->o.neg_ms;
    s->in_callback++;
    if (s->o.tls_mode == XMPP_TLS_DIRECT) {
        s->step = STEP_TLS_DIRECT;
        xmpp__neg_tls_begin(s);
    } else {
        xmpp__neg_send_header(s);
    }
    s->in_callback--;
    return s->step == STEP_CLOSED && s->cause == XMPP_CAUSE_NOMEM ? XMPP_ERR_NOMEM : XMPP_OK;
}

int xmpp_session_transport_closed(xmpp_session *s, xmpp_disconnect_cause cause,
                                  const char *text) {
    if (s == NULL)
        return XMPP_ERR_INVALID;
    if (s->step == STEP_CLOSED)
        return XMPP_OK;
    if (s->step == STEP_CLOSING) {
        s->in_callback++;
        xmpp__session_end(s, XMPP_CAUSE_LOCAL_CLOSE);
        s->in_callback--;
        return XMPP_OK;
    }
    if (cause == XMPP_CAUSE_NONE)
        cause = XMPP_CAUSE_TCP;
    s->in_callback++;
    s->cause = cause;
    if (text && !s->err_text)
        s->err_text = xmpp__strdup(s->ctx, text);
    xmpp__session_end(s, cause);
    s->in_callback--;
    return XMPP_OK;
}

int xmpp_session_close(xmpp_session *s) {
    if (s == NULL)
        return XMPP_ERR_INVALID;
    if (s->step == STEP_CLOSED || s->step == STEP_CLOSING)
        return XMPP_OK;
    if (s->step == STEP_IDLE || s->step == STEP_TLS_DIRECT || s->step == STEP_TLS ||
        s->step == STEP_HEADER) {
        s->in_callback++;
        xmpp__session_end(s, XMPP_CAUSE_LOCAL_CLOSE);
        s->in_callback--;
        return XMPP_OK;
    }
    /* XEP-0198: learn what the server got before the stream ends */
    if (s->step == STEP_READY && s->sm.enabled)
        xmpp__sm_closing(s);
    xmpp__session_write(s, "</stream:stream>", 16);
    if (s->step != STEP_CLOSED) {
        s->step = STEP_CLOSING;
        /* RFC 6120 §4.4: wait a bounded time for the peer's close */
        s->neg_deadline = s->now + 5000;
    }
    return XMPP_OK;
}

uint64_t xmpp_session_next_deadline(const xmpp_session *s) {
    uint64_t d = UINT64_MAX;
    if (s == NULL || s->step == STEP_IDLE || s->step == STEP_CLOSED)
        return d;
    if (s->step != STEP_READY && s->neg_deadline)
        d = s->neg_deadline;
    if (s->iqs != NULL && s->iqs->deadline < d)
        d = s->iqs->deadline;
    if (s->step == STEP_READY && s->o.ka_idle_ms) {
        uint64_t k = s->ping_deadline ? s->ping_deadline : s->last_rx + s->o.ka_idle_ms;
        if (k < d)
            d = k;
    }
    if (xmpp__sm_deadline(s) < d)
        d = xmpp__sm_deadline(s);
    if (s->step == STEP_READY && s->limit_idle_ms && s->last_tx + s->limit_idle_ms / 2 < d)
        d = s->last_tx + s->limit_idle_ms / 2;
    return d;
}

static void keepalive(xmpp_session *s, uint64_t now) {
    xmpp_stanza *iq = NULL;
    char id[32];
    /* XEP-0478: traffic before the server's idle limit runs out */
    if (s->step == STEP_READY && s->limit_idle_ms && now >= s->last_tx + s->limit_idle_ms / 2)
        xmpp__session_write(s, " ", 1);
    if (s->step != STEP_READY || !s->o.ka_idle_ms)
        return;
    if (s->ping_deadline && now >= s->ping_deadline) {
        xmpp__session_fail(s, XMPP_CAUSE_TIMEOUT, XMPP_SC_NONE,
                           "no answer to keepalive ping: connection is dead");
        return;
    }
    if (!s->ping_deadline && now >= s->last_rx + s->o.ka_idle_ms && xmpp__sm_keepalive(s)) {
        /* XEP-0198 §7: an ack request doubles as the keepalive */
        s->ping_deadline = now + s->o.ka_timeout_ms;
        return;
    }
    if (!s->ping_deadline && now >= s->last_rx + s->o.ka_idle_ms) {
        /* XEP-0199 §4.2: client-to-server ping */
        xmpp_session_new_id(s, id, sizeof(id));
        if (xmpp_iq_new(&iq, s->ctx, "get", xmpp_jid_domain(s->jid), id) != XMPP_OK ||
            xmpp_stanza_add_child_new(iq, "ping", XMPP_NS_PING, NULL) != XMPP_OK ||
            xmpp__iq_track(s, iq, s->o.ka_timeout_ms + 1000, NULL, NULL, 1) != XMPP_OK) {
            xmpp_stanza_unref(iq);
            xmpp__session_end(s, XMPP_CAUSE_NOMEM);
            return;
        }
        xmpp_stanza_unref(iq);
        s->ping_deadline = now + s->o.ka_timeout_ms;
    }
}

int xmpp_session_handle_timeout(xmpp_session *s, uint64_t now) {
    if (s == NULL)
        return XMPP_ERR_INVALID;
    if (s->in_callback)
        return XMPP_ERR_RECURSIVE;
    if (s->step == STEP_IDLE || s->step == STEP_CLOSED)
        return XMPP_OK;
    s->now = now;
    s->in_callback++;
    if (s->step != STEP_READY && s->neg_deadline && now >= s->neg_deadline) {
        if (s->step == STEP_CLOSING)
            xmpp__session_end(s, XMPP_CAUSE_LOCAL_CLOSE);
        else
            xmpp__session_fail(s, XMPP_CAUSE_TIMEOUT, XMPP_SC_CONNECTION_TIMEOUT,
                               "stream negotiation timed out");
    }
    if (s->step != STEP_CLOSED)
        xmpp__iq_timeouts(s, now);
    if (s->step != STEP_CLOSED)
        xmpp__sm_timeout(s, now);
    if (s->step != STEP_CLOSED)
        keepalive(s, now);
    s->in_callback--;
    return XMPP_OK;
}

int xmpp_session_send(xmpp_session *s, const xmpp_stanza *st) {
    if (s == NULL || st == NULL || xmpp_stanza_is_text(st))
        return XMPP_ERR_INVALID;
    if (s->out.len - s->out_off > s->o.send_limit)
        return XMPP_ERR_LIMIT;
    if (s->o.sm_mode != XMPP_SM_OFF)
        return xmpp__sm_send(s, st, NULL, NULL);
    if (s->step != STEP_READY)
        return XMPP_ERR_STATE;
    return xmpp__session_send_stanza(s, st);
}

int xmpp_session_set_password(xmpp_session *s, const char *password) {
    char *pw;
    if (s == NULL || password == NULL)
        return XMPP_ERR_INVALID;
    if ((pw = xmpp__strdup(s->ctx, password)) == NULL)
        return XMPP_ERR_NOMEM;
    if (s->o.password) {
        gnutls_memset(s->o.password, 0, strlen(s->o.password));
        xmpp__free(s->ctx, s->o.password);
    }
    s->o.password = pw;
    return XMPP_OK;
}

int xmpp_session_new_id(xmpp_session *s, char *buf, size_t size) {
    if (s == NULL || buf == NULL || size < 17)
        return XMPP_ERR_INVALID;
    snprintf(buf, size, "%s-%lx", s->id_prefix, ++s->id_counter);
    return XMPP_OK;
}

xmpp_session_state xmpp_session_get_state(const xmpp_session *s) {
    if (s == NULL)
        return XMPP_STATE_CLOSED;
    switch (s->step) {
    case STEP_IDLE: return XMPP_STATE_IDLE;
    case STEP_READY: return XMPP_STATE_READY;
    case STEP_CLOSING: return XMPP_STATE_CLOSING;
    case STEP_CLOSED: return XMPP_STATE_CLOSED;
    default: return XMPP_STATE_NEGOTIATING;
    }
}

xmpp_disconnect_cause xmpp_session_get_error(const xmpp_session *s,
                                             xmpp_stream_condition *cond, const char **text) {
    if (cond)
        *cond = s ? s->cond : XMPP_SC_NONE;
    if (text)
        *text = s ? s->err_text : NULL;
    return s ? s->cause : XMPP_CAUSE_NONE;
}

const char *xmpp_session_sasl_condition(const xmpp_session *s) {
    return s ? s->sasl_cond : NULL;
}
const xmpp_stanza *xmpp_session_stream_error_app(const xmpp_session *s) {
    return s ? s->err_app : NULL;
}
const char *xmpp_session_redirect(const xmpp_session *s) {
    return s ? s->redirect : NULL;
}
const xmpp_tls_verify_result *xmpp_session_tls_result(const xmpp_session *s) {
    return (s && s->tls) ? xmpp_tls_get_verify_result(s->tls) : NULL;
}
const char *xmpp_session_jid(const xmpp_session *s) {
    return s ? s->bound_jid : NULL;
}
const char *xmpp_session_mechanism(const xmpp_session *s) {
    return (s && s->authenticated) ? s->mech : NULL;
}

int xmpp_session_sasl_pins(const xmpp_session *s) {
    return s != NULL && s->authenticated && s->sasl_pins;
}

/* ---- XEP-0352 client state indication */
void xmpp__csi_sync(xmpp_session *s) {
    if (s->step != STEP_READY || !s->csi_offered || s->csi_inactive == s->csi_sent_inactive)
        return;
    if (s->csi_inactive)
        xmpp__session_write(s, "<inactive xmlns='" XMPP_NS_CSI "'/>",
                            sizeof("<inactive xmlns='" XMPP_NS_CSI "'/>") - 1);
    else
        xmpp__session_write(s, "<active xmlns='" XMPP_NS_CSI "'/>",
                            sizeof("<active xmlns='" XMPP_NS_CSI "'/>") - 1);
    s->csi_sent_inactive = s->csi_inactive;
}

int xmpp_session_set_active(xmpp_session *s, int active) {
    if (s == NULL)
        return XMPP_ERR_INVALID;
    s->csi_inactive = !active;
    xmpp__csi_sync(s);
    return XMPP_OK;
}

int xmpp_session_csi_supported(const xmpp_session *s) {
    return s != NULL && s->csi_offered;
}

int xmpp_session_server_limits(const xmpp_session *s, size_t *max_bytes, unsigned *idle_seconds) {
    if (s == NULL)
        return XMPP_ERR_INVALID;
    if (max_bytes)
        *max_bytes = s->limit_max_bytes;
    if (idle_seconds)
        *idle_seconds = s->limit_idle_ms / 1000u;
    return XMPP_OK;
}
