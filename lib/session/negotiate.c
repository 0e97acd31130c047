/* Stream negotiation (RFC 6120 §4–§7): stream headers, features, STARTTLS,
 * SASL, resource binding and the legacy session. One explicit step at a
 * time; anything out of order is a protocol error, never a shortcut
 * (NEG-01). Features are re-read after every restart, so nothing learned
 * before TLS or SASL survives it (TLS-04, SASL-09). */
#include "session/session_int.h"

#include <stdio.h>
#include <string.h>

#include <gnutls/gnutls.h>

#include "filter/tls.h"
#include "stream/sasl.h"

static int is(const xmpp_stanza *st, const char *name, const char *ns) {
    const char *n = xmpp_stanza_name(st), *sns = xmpp_stanza_ns(st);
    return n && strcmp(n, name) == 0 && sns && strcmp(sns, ns) == 0;
}

int xmpp__neg_send_header(xmpp_session *s) {
    char buf[512];
    int n;
    if (s->o.component)
        return xmpp__component_send_header(s);
    /* RFC 6120 §4.7: to = the domain; from = our bare JID only once the
     * stream is encrypted (§4.7.1), version 1.0. */
    n = snprintf(buf, sizeof(buf),
                 "<?xml version='1.0'?><stream:stream to='%s'%s%s%s version='1.0' "
                 "xml:lang='en' xmlns='jabber:client' "
                 "xmlns:stream='http://etherx.jabber.org/streams'>",
                 xmpp_jid_domain(s->jid), s->tls_up ? " from='" : "",
                 s->tls_up ? xmpp_jid_bare(s->jid) : "", s->tls_up ? "'" : "");
    if (n < 0 || (size_t)n >= sizeof(buf)) {
        xmpp__session_fail(s, XMPP_CAUSE_PROTOCOL, XMPP_SC_NONE, "JID too long for header");
        return XMPP_ERR_INVALID;
    }
    s->step = STEP_HEADER;
    xmpp__session_write(s, buf, (size_t)n);
    return s->step == STEP_CLOSED ? XMPP_ERR_NOMEM : XMPP_OK;
}

void xmpp__neg_stream_start(xmpp_session *s, xmpp_stanza *header, const char *default_ns) {
    const char *version = xmpp_stanza_attr(header, "version");
    const char *id = xmpp_stanza_attr(header, "id");
    if (s->o.component) {
        xmpp__component_stream_start(s, header, default_ns);
        return;
    }
    if (s->step != STEP_HEADER) {
        xmpp__session_fail(s, XMPP_CAUSE_PROTOCOL, XMPP_SC_INVALID_XML,
                           "unexpected stream header");
        return;
    }
    /* RFC 6120 §4.8.2: the content namespace must be jabber:client. */
    if (default_ns == NULL || strcmp(default_ns, XMPP_NS_CLIENT) != 0) {
        xmpp__session_fail(s, XMPP_CAUSE_PROTOCOL, XMPP_SC_INVALID_NAMESPACE,
                           "stream content namespace is not jabber:client");
        return;
    }
    /* RFC 6120 §4.7.5: no version, or a major version other than 1, means a
     * pre-XMPP server; we never take a legacy path (NEG-03, CVE-2009-3026). */
    if (version == NULL || strncmp(version, "1.", 2) != 0) {
        xmpp__session_fail(s, XMPP_CAUSE_PROTOCOL, XMPP_SC_UNSUPPORTED_VERSION,
                           "server stream version is not 1.x");
        return;
    }
    xmpp__free(s->ctx, s->stream_id);
    s->stream_id = id ? xmpp__strdup(s->ctx, id) : NULL;
    if (id != NULL && s->stream_id == NULL) {
        xmpp__session_end(s, XMPP_CAUSE_NOMEM);
        return;
    }
    s->step = STEP_FEATURES;
}

/* ---- STARTTLS (RFC 6120 §5) */
void xmpp__neg_tls_begin(xmpp_session *s) {
    const char *name = s->o.tls_name ? s->o.tls_name : xmpp_jid_domain(s->jid);
    int rc;
    if (s->o.tls_cfg == NULL) {
        if ((rc = xmpp_tls_config_new(&s->o.tls_cfg, s->ctx)) != XMPP_OK) {
            xmpp__session_end(s, XMPP_CAUSE_NOMEM);
            return;
        }
    }
    rc = xmpp_tls_new(&s->tls, s->ctx, s->o.tls_cfg, name, s->o.tls_mode == XMPP_TLS_DIRECT);
    if (rc != XMPP_OK) {
        xmpp__session_fail(s, rc == XMPP_ERR_NOMEM ? XMPP_CAUSE_NOMEM : XMPP_CAUSE_TLS,
                           XMPP_SC_NONE, "cannot set up TLS");
        return;
    }
    if (s->step != STEP_TLS_DIRECT)
        s->step = STEP_TLS;
    /* the handshake's first flight (ClientHello) */
    rc = xmpp_tls_handshake(s->tls);
    {
        const uint8_t *p;
        size_t n;
        while (xmpp_tls_out(s->tls, &p, &n) == XMPP_OK && n > 0) {
            xmpp__buf_append(&s->out, (const char *)p, n);
            xmpp_tls_out_consume(s->tls, n);
        }
    }
    if (rc != XMPP_OK && rc != XMPP_TLS_AGAIN)
        xmpp__session_fail(s, XMPP_CAUSE_TLS, XMPP_SC_NONE, xmpp_tls_strerror(rc));
}

void xmpp__neg_tls_done(xmpp_session *s) {
    xmpp__log(s->ctx, XMPP_LOG_INFO, "session", "TLS established and verified");
    xmpp__neg_send_header(s);
}

/* ---- SASL (RFC 6120 §6) */
static void send_sasl(xmpp_session *s, const char *elem, const char *mech, const uint8_t *data,
                      size_t len, int have_data) {
    xmpp_buf b;
    gnutls_datum_t in, out = {NULL, 0};
    xmpp__buf_init(&b, s->ctx);
    xmpp__buf_append_str(&b, "<");
    xmpp__buf_append_str(&b, elem);
    xmpp__buf_append_str(&b, " xmlns='" XMPP_NS_SASL "'");
    if (mech) {
        xmpp__buf_append_str(&b, " mechanism='");
        xmpp__buf_append_str(&b, mech);
        xmpp__buf_append_str(&b, "'");
    }
    xmpp__buf_append_str(&b, ">");
    if (have_data && len == 0) {
        xmpp__buf_append_str(&b, "="); /* RFC 6120 §6.4.2: empty response */
    } else if (have_data) {
        in.data = (unsigned char *)data;
        in.size = (unsigned)len;
        if (gnutls_base64_encode2(&in, &out) < 0) {
            xmpp__buf_free(&b);
            xmpp__session_end(s, XMPP_CAUSE_NOMEM);
            return;
        }
        xmpp__buf_append(&b, (const char *)out.data, out.size);
        gnutls_memset(out.data, 0, out.size);
        gnutls_free(out.data);
    }
    xmpp__buf_append_str(&b, "</");
    xmpp__buf_append_str(&b, elem);
    xmpp__buf_append_str(&b, ">");
    if (b.oom)
        xmpp__session_end(s, XMPP_CAUSE_NOMEM);
    else
        xmpp__session_write(s, b.data, b.len); /* never logged: it carries credentials */
    if (b.data)
        gnutls_memset(b.data, 0, b.len);
    xmpp__buf_free(&b);
}

/* Decodes the base64 payload of a challenge/success ("=" or empty: none;
 * SASL2 has no "=" but sends no "=" either). */
int xmpp__neg_sasl_payload(xmpp_session *s, const xmpp_stanza *st, uint8_t **out, size_t *len) {
    char *text = NULL;
    size_t tl = 0;
    gnutls_datum_t in, dec = {NULL, 0};
    *out = NULL;
    *len = 0;
    if (xmpp_stanza_text(st, &text, &tl) != XMPP_OK)
        return XMPP_ERR_NOMEM;
    if (tl == 0 || (tl == 1 && text[0] == '=')) {
        xmpp_free(s->ctx, text);
        return XMPP_OK;
    }
    in.data = (unsigned char *)text;
    in.size = (unsigned)tl;
    if (gnutls_base64_decode2(&in, &dec) < 0) {
        xmpp_free(s->ctx, text);
        return XMPP_ERR_INVALID;
    }
    xmpp_free(s->ctx, text);
    *out = xmpp__malloc(s->ctx, dec.size);
    if (*out == NULL) {
        gnutls_free(dec.data);
        return XMPP_ERR_NOMEM;
    }
    memcpy(*out, dec.data, dec.size);
    *len = dec.size;
    gnutls_memset(dec.data, 0, dec.size);
    gnutls_free(dec.data);
    return XMPP_OK;
}

/* Channel binding for SCRAM-*-PLUS comes from the TLS layer (SASL-05). */
static int get_cb(void *ud, const char *type, uint8_t *out, size_t *len) {
    xmpp_session *s = ud;
    int t = xmpp_tls_cb_type_from_name(type);
    if (t == 0 || s->tls == NULL)
        return XMPP_ERR_INVALID;
    return xmpp_tls_channel_binding(s->tls, (xmpp_tls_cb_type)t, out, len);
}

static unsigned cb_info(xmpp_session *s) {
    xmpp_tls_info_t info;
    unsigned r = XMPP_SASL_CB_ENDPOINT;
    if (xmpp_tls_info(s->tls, &info) != XMPP_OK)
        return 0;
    if (info.version >= 13)
        r |= XMPP_SASL_CB_TLS13 | XMPP_SASL_CB_EXPORTER;
    else {
        r |= XMPP_SASL_CB_UNIQUE;
        if (info.ems)
            r |= XMPP_SASL_CB_EMS | XMPP_SASL_CB_EXPORTER;
    }
    return r;
}

/* A failure decided on our side: we abort the exchange (RFC 6120 §6.4.5,
 * XEP-0388 §3.5) and end the session; nothing is retried with another
 * mechanism. */
void xmpp__neg_sasl_local_failure(xmpp_session *s, int rc) {
    char msg[256];
    const char *detail = s->sasl ? xmpp__sasl_server_error(s->sasl) : NULL;
    snprintf(msg, sizeof(msg), "authentication failed: %s%s%s", xmpp__sasl_strerror(rc),
             detail ? ": " : "", detail ? detail : "");
    xmpp__free(s->ctx, s->sasl_cond);
    s->sasl_cond = xmpp__strdup(s->ctx, xmpp__sasl_strerror(rc));
    if (s->step == STEP_SASL)
        xmpp__session_write(s, "<abort xmlns='" XMPP_NS_SASL "'/>",
                            sizeof("<abort xmlns='" XMPP_NS_SASL "'/>") - 1);
    else if (s->step == STEP_SASL2)
        xmpp__session_write(s, "<abort xmlns='" XMPP_NS_SASL2 "'/>",
                            sizeof("<abort xmlns='" XMPP_NS_SASL2 "'/>") - 1);
    xmpp__session_fail(s, rc == XMPP_ERR_NOMEM ? XMPP_CAUSE_NOMEM : XMPP_CAUSE_SASL,
                       XMPP_SC_NONE, msg);
}

/* What a features element offers for SASL: the `mechanism` children of
 * `mechs` in `ns` and the XEP-0440 types, borrowed from the stanza. */
typedef struct sasl_offer {
    const char *names[128], *cbt[32];
    size_t nn, nc;
} sasl_offer;

/* Bounded lists: more than that is a hostile server (RES-06); the whole
 * list matters for the XEP-0474 hash, so never truncate. 0, or -1 once
 * the session has failed. */
static int read_offer(xmpp_session *s, const xmpp_stanza *features, const xmpp_stanza *mechs,
                      const char *ns, sasl_offer *o) {
    const xmpp_stanza *cbs = xmpp_stanza_child(features, "sasl-channel-binding", XMPP_NS_SASL_CB);
    const xmpp_stanza *c;
    o->nn = o->nc = 0;
    for (c = xmpp_stanza_child(mechs, "mechanism", ns); c;
         c = xmpp_stanza_next_match(c, "mechanism", ns)) {
        const xmpp_stanza *t = xmpp_stanza_first_child(c);
        if (o->nn == 128) {
            xmpp__session_fail(s, XMPP_CAUSE_PROTOCOL, XMPP_SC_POLICY_VIOLATION,
                               "server advertises too many SASL mechanisms");
            return -1;
        }
        if (t && xmpp_stanza_is_text(t))
            o->names[o->nn++] = xmpp_stanza_text_ptr(t);
    }
    for (c = cbs ? xmpp_stanza_child(cbs, "channel-binding", NULL) : NULL; c;
         c = xmpp_stanza_next_match(c, "channel-binding", NULL)) {
        if (o->nc == 32) {
            xmpp__session_fail(s, XMPP_CAUSE_PROTOCOL, XMPP_SC_POLICY_VIOLATION,
                               "server advertises too many channel-binding types");
            return -1;
        }
        if (xmpp_stanza_attr(c, "type"))
            o->cbt[o->nc++] = xmpp_stanza_attr(c, "type");
    }
    return 0;
}

/* The SASL client of this connection, set up once (the password then
 * lives only inside it). 0, or -1 once the session has failed. */
static int ensure_sasl(xmpp_session *s, size_t nc) {
    int rc;
    if (s->sasl == NULL) {
        xmpp__sasl_params p;
        memset(&p, 0, sizeof(p));
        p.authcid = xmpp_jid_local(s->jid);
        p.password = s->o.password;
        if (s->tls_up)
            p.flags |= XMPP_SASL_TLS_ACTIVE;
        if (s->o.allow_plain)
            p.flags |= XMPP_SASL_PLAIN_ALLOWED;
        if (s->o.sasl_pinned)
            p.flags |= XMPP_SASL_PINNED;
        if (s->o.sasl_external)
            p.flags |= XMPP_SASL_WANT_EXTERNAL;
        if (xmpp_jid_local(s->jid) == NULL) {
            /* RFC 4505: a JID without a localpart logs in anonymously */
            p.flags |= XMPP_SASL_WANT_ANONYMOUS;
            p.password = NULL;
        }
        p.mechs = (const char *const *)s->o.mechs;
        p.nmechs = s->o.nmechs;
        /* Channel binding over TLS 1.3 needs the server to say which type
         * it computes (XEP-0440): servers without the advertisement differ
         * (ejabberd 23.01 uses tls-unique, undefined on 1.3; RFC 9266 says
         * tls-exporter), and a wrong guess fails the login. Without it we
         * do not bind ("n") on 1.3; on TLS 1.2 tls-unique is unambiguous. */
        if (s->tls_up && !(nc == 0 && (cb_info(s) & XMPP_SASL_CB_TLS13))) {
            p.cb_info = cb_info(s);
            p.get_cb = get_cb;
            p.cb_ud = s;
        } else if (s->tls_up) {
            xmpp__log(s->ctx, XMPP_LOG_INFO, "session",
                      "TLS 1.3 without XEP-0440 channel-binding types: not binding");
        }
        if ((rc = xmpp__sasl_new(&s->sasl, s->ctx, &p)) != XMPP_OK) {
            xmpp__session_fail(s, rc == XMPP_ERR_NOMEM ? XMPP_CAUSE_NOMEM : XMPP_CAUSE_SASL,
                               XMPP_SC_NONE, "cannot set up SASL (missing or invalid credentials)");
            return -1;
        }
        /* the password lives on only inside the mechanism */
        if (s->o.password) {
            gnutls_memset(s->o.password, 0, strlen(s->o.password));
            xmpp__free(s->ctx, s->o.password);
            s->o.password = NULL;
        }
    }
    return 0;
}

/* Whether RFC 6120 SASL should be used although SASL2 is offered: its
 * best mechanism ranks above SASL2's (Prosody offers SCRAM-SHA-1-PLUS on
 * TLS 1.2 over RFC 6120 only), or SASL2 has nothing acceptable and RFC
 * 6120 has. Never a weaker choice: on a tie SASL2 wins, and a downgrade
 * refused on both lists stays refused (SASL2's error is reported). 1, 0,
 * or -1 once the session has failed. */
int xmpp__neg_prefer_rfc6120(xmpp_session *s, const xmpp_stanza *features,
                             const xmpp_stanza *sasl2_mechs) {
    const xmpp_stanza *m1 = xmpp_stanza_child(features, "mechanisms", XMPP_NS_SASL);
    sasl_offer o1, o2;
    int r1 = -1, r2 = -1, rc1, rc2;
    if (m1 == NULL)
        return 0;
    if (read_offer(s, features, m1, XMPP_NS_SASL, &o1) != 0 ||
        read_offer(s, features, sasl2_mechs, XMPP_NS_SASL2, &o2) != 0 || ensure_sasl(s, o2.nc) != 0)
        return -1;
    rc1 = xmpp__sasl_preview(s->sasl, o1.names, o1.nn, o1.cbt, o1.nc, 0, &r1);
    rc2 = xmpp__sasl_preview(s->sasl, o2.names, o2.nn, o2.cbt, o2.nc, 1, &r2);
    if (rc1 != XMPP_OK)
        return 0;
    return rc2 != XMPP_OK || r1 < r2;
}

/* The mechanism choice and initial response, shared by RFC 6120 SASL and
 * SASL2: the mechanisms are the `mechanism` children of `mechs` in `ns`,
 * the XEP-0440 types come from `features`. Returns 0 with the initial
 * response in *init (NULL: none; release with xmpp__sasl_buf_free), or -1
 * once the session has failed. */
int xmpp__neg_sasl_begin(xmpp_session *s, const xmpp_stanza *features, const xmpp_stanza *mechs,
                         const char *ns, int sasl2, uint8_t **init, size_t *ilen) {
    sasl_offer o;
    int rc;
    *init = NULL;
    *ilen = 0;
    if (read_offer(s, features, mechs, ns, &o) != 0 || ensure_sasl(s, o.nc) != 0)
        return -1;
    rc = xmpp__sasl_select(s->sasl, o.names, o.nn, o.cbt, o.nc, sasl2, &s->mech);
    if (rc == XMPP_OK)
        rc = xmpp__sasl_initial(s->sasl, init, ilen);
    if (rc != XMPP_OK) {
        xmpp__neg_sasl_local_failure(s, rc);
        return -1;
    }
    return 0;
}

static void start_sasl(xmpp_session *s, const xmpp_stanza *features) {
    const xmpp_stanza *mechs = xmpp_stanza_child(features, "mechanisms", XMPP_NS_SASL);
    uint8_t *init = NULL;
    size_t ilen = 0;
    int have_init;
    if (mechs == NULL) {
        xmpp__session_fail(s, XMPP_CAUSE_PROTOCOL, XMPP_SC_NONE,
                           "server offers no SASL mechanisms");
        return;
    }
    if (xmpp__neg_sasl_begin(s, features, mechs, XMPP_NS_SASL, 0, &init, &ilen) != 0)
        return;
    have_init = init != NULL;
    xmpp__log(s->ctx, XMPP_LOG_INFO, "session", "authenticating with %s", s->mech);
    s->step = STEP_SASL;
    send_sasl(s, "auth", s->mech, init, ilen, have_init);
    xmpp__sasl_buf_free(s->ctx, init, ilen);
}

/* <failure/> from the server (RFC 6120 §6.4.5; XEP-0388 §2.6.2, where the
 * condition is in the RFC 6120 namespace, the text in text_ns and
 * application-specific elements may come along). */
void xmpp__neg_sasl_failure(xmpp_session *s, const xmpp_stanza *st, const char *text_ns) {
    const xmpp_stanza *c, *t = xmpp_stanza_child(st, "text", text_ns);
    char *text = NULL;
    char msg[256];
    for (c = xmpp_stanza_first_child(st); c; c = xmpp_stanza_next(c))
        if (!xmpp_stanza_is_text(c) && xmpp_stanza_ns(c) &&
            strcmp(xmpp_stanza_ns(c), XMPP_NS_SASL) == 0 && strcmp(xmpp_stanza_name(c), "text") != 0)
            break;
    if (c == NULL)
        for (c = xmpp_stanza_first_child(st); c; c = xmpp_stanza_next(c))
            if (!xmpp_stanza_is_text(c) && strcmp(xmpp_stanza_name(c), "text") != 0)
                break;
    xmpp__free(s->ctx, s->sasl_cond);
    s->sasl_cond = xmpp__strdup(s->ctx, c ? xmpp_stanza_name(c) : "undefined-condition");
    if (t)
        xmpp_stanza_text(t, &text, NULL);
    snprintf(msg, sizeof(msg), "authentication failed: %s%s%s",
             s->sasl_cond ? s->sasl_cond : "?", text ? ": " : "", text ? text : "");
    xmpp_free(s->ctx, text);
    /* SASL-08: reported verbatim, no retry with another mechanism */
    xmpp__session_fail(s, XMPP_CAUSE_SASL, XMPP_SC_NONE, msg);
}

static void sasl_stanza(xmpp_session *s, const xmpp_stanza *st) {
    uint8_t *in = NULL, *resp = NULL;
    size_t ilen = 0, rlen = 0;
    int rc;
    if (is(st, "failure", XMPP_NS_SASL)) {
        xmpp__neg_sasl_failure(s, st, XMPP_NS_SASL);
        return;
    }
    if (!is(st, "challenge", XMPP_NS_SASL) && !is(st, "success", XMPP_NS_SASL)) {
        xmpp__session_fail(s, XMPP_CAUSE_PROTOCOL, XMPP_SC_UNSUPPORTED_STANZA_TYPE,
                           "unexpected element during SASL");
        return;
    }
    rc = xmpp__neg_sasl_payload(s, st, &in, &ilen);
    if (rc != XMPP_OK) {
        xmpp__session_fail(s, rc == XMPP_ERR_NOMEM ? XMPP_CAUSE_NOMEM : XMPP_CAUSE_SASL,
                           XMPP_SC_NONE, "malformed base64 from the server");
        return;
    }
    if (is(st, "success", XMPP_NS_SASL)) {
        /* SASL-03: the server's proof is checked before success counts */
        rc = xmpp__sasl_finish(s->sasl, in, ilen);
        xmpp__free(s->ctx, in);
        if (rc != XMPP_OK) {
            xmpp__neg_sasl_local_failure(s, rc);
            return;
        }
        s->sasl_pins = xmpp__sasl_pins_account(s->sasl);
        xmpp__sasl_free(s->sasl);
        s->sasl = NULL;
        s->authenticated = 1;
        s->restart = 1; /* RFC 6120 §6.4.6: restart the stream */
        return;
    }
    rc = xmpp__sasl_step(s->sasl, in, ilen, &resp, &rlen);
    xmpp__free(s->ctx, in);
    if (rc != XMPP_OK) {
        xmpp__neg_sasl_local_failure(s, rc);
        return;
    }
    send_sasl(s, "response", NULL, resp, rlen, 1);
    xmpp__sasl_buf_free(s->ctx, resp, rlen);
}

/* ---- binding (RFC 6120 §7) and the legacy session (RFC 3921 §3) */
void xmpp__neg_bind(xmpp_session *s) {
    xmpp_stanza *iq = NULL, *bind = NULL, *res = NULL;
    const char *resource = xmpp_jid_resource(s->jid);
    xmpp_session_new_id(s, s->bind_id, sizeof(s->bind_id));
    if (xmpp_iq_new(&iq, s->ctx, "set", NULL, s->bind_id) != XMPP_OK ||
        xmpp_stanza_add_child_new(iq, "bind", XMPP_NS_BIND, &bind) != XMPP_OK ||
        (resource && (xmpp_stanza_add_child_new(bind, "resource", NULL, &res) != XMPP_OK ||
                      xmpp_stanza_add_text(res, resource, strlen(resource)) != XMPP_OK))) {
        xmpp_stanza_unref(iq);
        xmpp__session_end(s, XMPP_CAUSE_NOMEM);
        return;
    }
    s->step = STEP_BIND;
    if (xmpp__session_send_stanza(s, iq) != XMPP_OK)
        xmpp__session_end(s, XMPP_CAUSE_NOMEM);
    xmpp_stanza_unref(iq);
    if (s->step == STEP_BIND)
        xmpp__sm_pipeline_enable(s);
}

void xmpp__neg_ready(xmpp_session *s) {
    s->step = STEP_READY;
    s->neg_deadline = 0;
    xmpp__log(s->ctx, XMPP_LOG_INFO, "session", "ready as %s%s", s->bound_jid,
              s->sm.resumed ? " (stream resumed)" : "");
    /* a new session starts active (XEP-0352 §3), or as Bind2 set it up
     * (XEP-0386); a resumed one keeps what the server knew */
    if (!s->sm.resumed)
        s->csi_sent_inactive = s->s2.csi_inline;
    xmpp__csi_sync(s);
    /* what was queued while not ready goes first (XEP-0198 re-sends, or
     * stanzas given while reconnecting) */
    xmpp__sm_flush(s);
    if (s->step != STEP_READY)
        return;
    if (s->o.on_ready)
        s->o.on_ready(s, s->bound_jid, s->o.user_data);
}

static void bind_done(xmpp_session *s) {
    if (!xmpp__sm_try_enable(s))
        xmpp__neg_ready(s);
}

static void send_session(xmpp_session *s) {
    xmpp_stanza *iq = NULL;
    xmpp_session_new_id(s, s->bind_id, sizeof(s->bind_id));
    if (xmpp_iq_new(&iq, s->ctx, "set", NULL, s->bind_id) != XMPP_OK ||
        xmpp_stanza_add_child_new(iq, "session", XMPP_NS_SESSION, NULL) != XMPP_OK) {
        xmpp_stanza_unref(iq);
        xmpp__session_end(s, XMPP_CAUSE_NOMEM);
        return;
    }
    s->step = STEP_SESSION;
    if (xmpp__session_send_stanza(s, iq) != XMPP_OK)
        xmpp__session_end(s, XMPP_CAUSE_NOMEM);
    xmpp_stanza_unref(iq);
}

static int our_reply(xmpp_session *s, const xmpp_stanza *st) {
    const char *id = xmpp_stanza_id(st), *from = xmpp_stanza_from(st);
    if (!is(st, "iq", XMPP_NS_CLIENT) || id == NULL || strcmp(id, s->bind_id) != 0)
        return 0;
    /* a reply to a request without "to" comes from the server itself, or
     * on our account's behalf (ORG-05) */
    return from == NULL || xmpp_jid_equal_str(s->jid, from) ||
           strcmp(from, xmpp_jid_domain(s->jid)) == 0 || strcmp(from, xmpp_jid_bare(s->jid)) == 0;
}

/* NEG-02: the server may change the resource, never the account; an
 * anonymous login gets a server-chosen localpart on our domain. */
int xmpp__neg_account_jid(const xmpp_session *s, const xmpp_jid *jid) {
    if (xmpp_jid_local(s->jid) == NULL)
        return xmpp_jid_local(jid) != NULL &&
               strcmp(xmpp_jid_domain(jid), xmpp_jid_domain(s->jid)) == 0;
    return xmpp_jid_bare_equal(jid, s->jid);
}

static void bind_stanza(xmpp_session *s, const xmpp_stanza *st) {
    const char *type = xmpp_stanza_type(st);
    const xmpp_stanza *j;
    xmpp_jid *bound = NULL;
    char *text = NULL;
    if (!our_reply(s, st)) {
        xmpp__session_fail(s, XMPP_CAUSE_PROTOCOL, XMPP_SC_UNSUPPORTED_STANZA_TYPE,
                           "unexpected stanza before binding completed");
        return;
    }
    if (type == NULL || strcmp(type, "result") != 0) {
        xmpp_stanza_condition c;
        xmpp__session_fail(s, XMPP_CAUSE_PROTOCOL, XMPP_SC_NONE,
                           xmpp_stanza_get_error(st, &c, NULL) == XMPP_OK
                               ? xmpp_stanza_condition_name(c)
                               : "resource binding failed");
        return;
    }
    if (s->step == STEP_SESSION) {
        bind_done(s);
        return;
    }
    j = xmpp_stanza_path(st, "bind@" XMPP_NS_BIND "/jid");
    if (j == NULL || xmpp_stanza_text(j, &text, NULL) != XMPP_OK ||
        xmpp_jid_parse(&bound, s->ctx, text) != XMPP_OK || !xmpp_jid_is_full(bound)) {
        xmpp_free(s->ctx, text);
        xmpp_jid_free(bound);
        xmpp__session_fail(s, XMPP_CAUSE_PROTOCOL, XMPP_SC_NONE,
                           "bind result carries no valid full JID");
        return;
    }
    xmpp_free(s->ctx, text);
    if (!xmpp__neg_account_jid(s, bound)) {
        xmpp_jid_free(bound);
        xmpp__session_fail(s, XMPP_CAUSE_PROTOCOL, XMPP_SC_NONE,
                           "server bound a JID of another account");
        return;
    }
    xmpp__free(s->ctx, s->bound_jid);
    s->bound_jid = xmpp__strdup(s->ctx, xmpp_jid_full(bound));
    xmpp_jid_free(bound);
    if (s->bound_jid == NULL) {
        xmpp__session_end(s, XMPP_CAUSE_NOMEM);
        return;
    }
    if (s->session_needed)
        send_session(s);
    else
        bind_done(s);
}

/* ---- features */
/* XEP-0478: a strictly decimal count, else 0 (ignored). */
static unsigned long limit_value(const xmpp_stanza *limits, const char *name) {
    const xmpp_stanza *e = xmpp_stanza_child(limits, name, XMPP_NS_LIMITS);
    const xmpp_stanza *t = e ? xmpp_stanza_first_child(e) : NULL;
    const char *v = t && xmpp_stanza_is_text(t) ? xmpp_stanza_text_ptr(t) : NULL;
    unsigned long x = 0;
    size_t i;
    if (v == NULL || v[0] == '\0' || strlen(v) > 9)
        return 0;
    for (i = 0; v[i]; i++) {
        if (v[i] < '0' || v[i] > '9')
            return 0;
        x = x * 10 + (unsigned long)(v[i] - '0');
    }
    return x;
}

/* What every features element tells, also the one that follows a SASL2
 * <success/> on a stream already ready: XEP-0478 limits (re-read with
 * every features element), and after authentication SM and CSI. */
void xmpp__neg_read_features(xmpp_session *s, const xmpp_stanza *st) {
    const xmpp_stanza *limits = xmpp_stanza_child(st, "limits", XMPP_NS_LIMITS);
    s->limit_max_bytes = limits ? (size_t)limit_value(limits, "max-bytes") : 0;
    s->limit_idle_ms = limits ? (unsigned)limit_value(limits, "idle-seconds") * 1000u : 0;
    if (s->limit_max_bytes && s->limit_max_bytes < 512)
        s->limit_max_bytes = 0; /* absurd: RFC 6120 §13.12 promises 10000 */
    if (s->authenticated) {
        s->sm.offered = xmpp_stanza_child(st, "sm", XMPP_NS_SM) != NULL;
        s->csi_offered = xmpp_stanza_child(st, "csi", XMPP_NS_CSI) != NULL;
    }
}

static void features(xmpp_session *s, const xmpp_stanza *st) {
    xmpp__neg_read_features(s, st);
    if (!s->tls_up && s->o.tls_mode != XMPP_TLS_NONE) {
        if (xmpp_stanza_child(st, "starttls", XMPP_NS_TLS) != NULL) {
            s->step = STEP_PROCEED;
            xmpp__session_write(s, "<starttls xmlns='" XMPP_NS_TLS "'/>",
                                sizeof("<starttls xmlns='" XMPP_NS_TLS "'/>") - 1);
            return;
        }
        if (!s->o.allow_plain) {
            /* TLS-01: nothing more is written (CVE-2016-10027) */
            xmpp__session_fail(s, XMPP_CAUSE_TLS_REQUIRED, XMPP_SC_NONE,
                               "TLS is required but the server does not offer STARTTLS");
            return;
        }
        xmpp__log(s->ctx, XMPP_LOG_WARN, "session",
                  "continuing WITHOUT TLS: plaintext explicitly allowed");
    }
    if (!s->authenticated) {
        /* XEP-0388 when offered (and not forbidden), else RFC 6120 */
        if (!xmpp__sasl2_start(s, st))
            start_sasl(s, st);
        return;
    }
    /* bound (or resumed) inside SASL2: the features after <success/>
     * still list legacy binding, which must not be done again */
    if (xmpp__sasl2_features(s))
        return;
    /* XEP-0138: after TLS and authentication, before binding */
    if (xmpp__compress_try(s, st) || s->step == STEP_CLOSED)
        return;
    xmpp__neg_post_auth(s, st);
}

/* Binding or resumption, from the features after authentication. */
void xmpp__neg_post_auth(xmpp_session *s, const xmpp_stanza *st) {
    const xmpp_stanza *sess;
    xmpp_step before = s->step; /* features, or compress after a refusal */
    if (xmpp_stanza_child(st, "bind", XMPP_NS_BIND) == NULL) {
        xmpp__session_fail(s, XMPP_CAUSE_PROTOCOL, XMPP_SC_NONE,
                           "server offers no resource binding");
        return;
    }
    /* RFC 6121 §A / draft-cridland-xmpp-session: only when not optional */
    sess = xmpp_stanza_child(st, "session", XMPP_NS_SESSION);
    s->session_needed = sess != NULL && xmpp_stanza_child(sess, "optional", NULL) == NULL;
    /* XEP-0198 §5: resume instead of binding when the last stream can be;
     * when not, its stanzas may be handed back, and the application may
     * close from that callback */
    if (xmpp__sm_try_resume(s) || s->step != before)
        return;
    xmpp__neg_bind(s);
}

/* ---- stream errors (RFC 6120 §4.9) */
static void stream_error(xmpp_session *s, const xmpp_stanza *st) {
    const xmpp_stanza *c;
    xmpp_stream_condition cond = XMPP_SC_UNDEFINED_CONDITION;
    char *text = NULL, *host = NULL;
    for (c = xmpp_stanza_first_child(st); c; c = xmpp_stanza_next(c)) {
        const char *ns = xmpp_stanza_ns(c), *name = xmpp_stanza_name(c);
        if (xmpp_stanza_is_text(c))
            continue;
        if (ns && strcmp(ns, XMPP_NS_STREAM_ERRORS) == 0) {
            if (strcmp(name, "text") == 0) {
                xmpp_free(s->ctx, text);
                text = NULL;
                xmpp_stanza_text(c, &text, NULL);
            } else {
                cond = xmpp_stream_condition_from_name(name);
                if (cond == XMPP_SC_SEE_OTHER_HOST)
                    xmpp_stanza_text(c, &host, NULL);
            }
        } else if (s->err_app == NULL) {
            xmpp_stanza_copy(&s->err_app, c);
        }
    }
    xmpp__free(s->ctx, s->redirect);
    s->redirect = host;
    s->cond = cond;
    xmpp__free(s->ctx, s->err_text);
    s->err_text = text;
    s->cause = XMPP_CAUSE_STREAM_ERROR;
    xmpp__log(s->ctx, XMPP_LOG_ERROR, "session", "stream error from server: %s%s%s",
              xmpp_stream_condition_name(cond), text ? ": " : "", text ? text : "");
    /* XML-08: close our side (unless it is closed already) and end */
    if (s->step != STEP_CLOSING)
        xmpp__session_write(s, "</stream:stream>", 16);
    xmpp__session_end(s, XMPP_CAUSE_STREAM_ERROR);
}

void xmpp__neg_stanza(xmpp_session *s, xmpp_stanza *st) {
    if (is(st, "error", XMPP_NS_STREAMS)) {
        stream_error(s, st);
        return;
    }
    switch (s->step) {
    case STEP_FEATURES:
        if (!is(st, "features", XMPP_NS_STREAMS)) {
            xmpp__session_fail(s, XMPP_CAUSE_PROTOCOL, XMPP_SC_UNSUPPORTED_STANZA_TYPE,
                               "expected stream features");
            return;
        }
        features(s, st);
        return;
    case STEP_PROCEED:
        if (is(st, "proceed", XMPP_NS_TLS)) {
            s->start_tls = 1;
            return;
        }
        /* TLS-02: <failure/> or anything else ends it; never plaintext */
        xmpp__session_fail(s, XMPP_CAUSE_TLS, XMPP_SC_NONE,
                           is(st, "failure", XMPP_NS_TLS) ? "server refused STARTTLS"
                                                          : "unexpected answer to STARTTLS");
        return;
    case STEP_SASL:
        sasl_stanza(s, st);
        return;
    case STEP_SASL2:
        xmpp__sasl2_stanza(s, st);
        return;
    case STEP_BIND:
    case STEP_SESSION:
        bind_stanza(s, st);
        return;
    case STEP_SM_ENABLE:
    case STEP_SM_RESUME:
        xmpp__sm_neg_stanza(s, st);
        return;
    case STEP_COMPRESS:
        xmpp__compress_stanza(s, st);
        return;
    case STEP_HANDSHAKE:
        xmpp__component_stanza(s, st);
        return;
    default:
        /* a second features element, or anything while waiting for a
         * header or TLS: out of order (NEG-04) */
        xmpp__session_fail(s, XMPP_CAUSE_PROTOCOL, XMPP_SC_UNSUPPORTED_STANZA_TYPE,
                           "unexpected element during negotiation");
    }
}

void xmpp__neg_free(xmpp_session *s) {
    if (s->sasl)
        xmpp__sasl_free(s->sasl);
    s->sasl = NULL;
    if (s->tls)
        xmpp_tls_free(s->tls);
    s->tls = NULL;
}

/* ---- stream compression (XEP-0138): zlib only, off by default, only on an
 * authenticated stream protected by TLS (or with plaintext explicitly
 * allowed for testing). Compression under TLS can leak secrets through
 * sizes (CRIME-style); it is for constrained links that need it. */
int xmpp__compress_try(xmpp_session *s, const xmpp_stanza *features) {
    const xmpp_stanza *c = xmpp_stanza_child(features, "compression", XMPP_NS_COMPRESS_FEATURE);
    const xmpp_stanza *m;
    int zlib = 0;
    if (!s->o.compress || c == NULL || s->z != NULL || !s->authenticated ||
        (!s->tls_up && !s->o.allow_plain))
        return 0;
    for (m = xmpp_stanza_child(c, "method", NULL); m; m = xmpp_stanza_next_match(m, "method", NULL)) {
        const xmpp_stanza *t = xmpp_stanza_first_child(m);
        if (t && xmpp_stanza_is_text(t) && strcmp(xmpp_stanza_text_ptr(t), "zlib") == 0)
            zlib = 1;
    }
    if (!zlib)
        return 0;
    /* the features decide binding once compression is settled */
    xmpp_stanza_unref(s->post_auth_features);
    s->post_auth_features = NULL;
    if (xmpp_stanza_copy(&s->post_auth_features, features) != XMPP_OK) {
        xmpp__session_end(s, XMPP_CAUSE_NOMEM);
        return 1;
    }
    s->step = STEP_COMPRESS;
    xmpp__session_write(s,
                        "<compress xmlns='" XMPP_NS_COMPRESS "'><method>zlib</method></compress>",
                        sizeof("<compress xmlns='" XMPP_NS_COMPRESS
                               "'><method>zlib</method></compress>") - 1);
    return 1;
}

void xmpp__compress_stanza(xmpp_session *s, xmpp_stanza *st) {
    xmpp_stanza *f = s->post_auth_features;
    if (is(st, "compressed", XMPP_NS_COMPRESS)) {
        xmpp_stanza_unref(f);
        s->post_auth_features = NULL;
        s->start_compress = 1; /* a new stream, compressed, after this feed */
        s->restart = 1;
        return;
    }
    if (is(st, "failure", XMPP_NS_COMPRESS)) {
        /* XEP-0138 §6: carry on uncompressed */
        xmpp__log(s->ctx, XMPP_LOG_WARN, "session", "server refused compression; continuing without");
        s->post_auth_features = NULL;
        xmpp__neg_post_auth(s, f);
        xmpp_stanza_unref(f);
        return;
    }
    xmpp__session_fail(s, XMPP_CAUSE_PROTOCOL, XMPP_SC_UNSUPPORTED_STANZA_TYPE,
                       "unexpected answer to <compress/>");
}
