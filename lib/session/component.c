/* XEP-0114 Jabber Component Protocol: the accept side's client. A session
 * in component mode opens a jabber:component:accept stream to the JID's
 * domain, answers the server's stream id with
 * <handshake>hex(SHA-1(id + secret))</handshake> (XEP-0114 §3) and is
 * ready once the server's empty <handshake/> arrives: no STARTTLS, SASL,
 * binding or stream management. Stanzas then flow as in a client stream;
 * inside the library they carry jabber:client semantics (their namespace
 * is rewritten on receipt), and written without a namespace they take the
 * stream's default one on the wire. The secret is the session's password
 * option, wiped once the handshake is sent. */
#include "session/session_int.h"

#include <stdio.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include <xmpp/xep/component.h>

#define STREAM_ID_MAX 1024

int xmpp_session_options_set_component(xmpp_session_options *o, int on) {
    if (o == NULL)
        return XMPP_ERR_INVALID;
    o->component = on != 0;
    return XMPP_OK;
}

int xmpp__component_send_header(xmpp_session *s) {
    char buf[512];
    int n;
    /* XEP-0114 has no STARTTLS: plaintext only when the application chose
     * it (XMPP_TLS_NONE, which needs allow_plaintext) */
    if (!s->tls_up && !s->o.allow_plain) {
        xmpp__session_fail(s, XMPP_CAUSE_TLS_REQUIRED, XMPP_SC_NONE,
                           "a component stream has no STARTTLS: use direct TLS or allow "
                           "plaintext explicitly");
        return XMPP_ERR_STATE;
    }
    n = snprintf(buf, sizeof(buf),
                 "<?xml version='1.0'?><stream:stream to='%s' xmlns='" XMPP_NS_COMPONENT "' "
                 "xmlns:stream='http://etherx.jabber.org/streams'>",
                 xmpp_jid_domain(s->jid));
    if (n < 0 || (size_t)n >= sizeof(buf)) {
        xmpp__session_fail(s, XMPP_CAUSE_PROTOCOL, XMPP_SC_NONE, "domain too long for header");
        return XMPP_ERR_INVALID;
    }
    s->step = STEP_HEADER;
    xmpp__session_write(s, buf, (size_t)n);
    return s->step == STEP_CLOSED ? XMPP_ERR_NOMEM : XMPP_OK;
}

static void wipe_secret(xmpp_session *s) {
    if (s->o.password) {
        gnutls_memset(s->o.password, 0, strlen(s->o.password));
        xmpp__free(s->ctx, s->o.password);
        s->o.password = NULL;
    }
}

void xmpp__component_stream_start(xmpp_session *s, xmpp_stanza *header, const char *default_ns) {
    const char *id = xmpp_stanza_attr(header, "id");
    unsigned char digest[20];
    char msg[64];
    gnutls_hash_hd_t h;
    size_t i, idlen;
    static const char hex[] = "0123456789abcdef";
    if (s->step != STEP_HEADER) {
        xmpp__session_fail(s, XMPP_CAUSE_PROTOCOL, XMPP_SC_INVALID_XML,
                           "unexpected stream header");
        return;
    }
    if (default_ns == NULL || strcmp(default_ns, XMPP_NS_COMPONENT) != 0) {
        xmpp__session_fail(s, XMPP_CAUSE_PROTOCOL, XMPP_SC_INVALID_NAMESPACE,
                           "stream content namespace is not " XMPP_NS_COMPONENT);
        return;
    }
    /* XEP-0114 §3: the handshake hashes the stream id */
    idlen = id ? strlen(id) : 0;
    if (idlen == 0 || idlen > STREAM_ID_MAX) {
        xmpp__session_fail(s, XMPP_CAUSE_PROTOCOL, XMPP_SC_INVALID_XML,
                           "component stream header without a usable id");
        return;
    }
    if (s->o.password == NULL) {
        xmpp__session_fail(s, XMPP_CAUSE_SASL, XMPP_SC_NONE, "no component secret");
        return;
    }
    if (gnutls_hash_init(&h, GNUTLS_DIG_SHA1) < 0) {
        xmpp__session_end(s, XMPP_CAUSE_NOMEM);
        return;
    }
    gnutls_hash(h, id, idlen);
    gnutls_hash(h, s->o.password, strlen(s->o.password));
    gnutls_hash_deinit(h, digest);
    memcpy(msg, "<handshake>", 11);
    for (i = 0; i < sizeof(digest); i++) {
        msg[11 + 2 * i] = hex[digest[i] >> 4];
        msg[12 + 2 * i] = hex[digest[i] & 15];
    }
    memcpy(msg + 51, "</handshake>", 12);
    gnutls_memset(digest, 0, sizeof(digest));
    wipe_secret(s);
    s->step = STEP_HANDSHAKE;
    xmpp__session_write(s, msg, 63);
    gnutls_memset(msg, 0, sizeof(msg));
}

void xmpp__component_stanza(xmpp_session *s, xmpp_stanza *st) {
    const char *n = xmpp_stanza_name(st), *ns = xmpp_stanza_ns(st);
    if (s->step != STEP_HANDSHAKE || n == NULL || ns == NULL || strcmp(n, "handshake") != 0 ||
        strcmp(ns, XMPP_NS_COMPONENT) != 0 || xmpp_stanza_first_child(st) != NULL) {
        xmpp__session_fail(s, XMPP_CAUSE_PROTOCOL, XMPP_SC_UNSUPPORTED_STANZA_TYPE,
                           "expected an empty <handshake/>");
        return;
    }
    xmpp__free(s->ctx, s->bound_jid);
    if ((s->bound_jid = xmpp__strdup(s->ctx, xmpp_jid_domain(s->jid))) == NULL) {
        xmpp__session_end(s, XMPP_CAUSE_NOMEM);
        return;
    }
    xmpp__neg_ready(s);
}

void xmpp__component_inbound(xmpp_stanza *st) {
    const char *ns = xmpp_stanza_ns(st);
    if (ns && strcmp(ns, XMPP_NS_COMPONENT) == 0)
        xmpp_stanza_set_ns(st, XMPP_NS_CLIENT);
}

/* Routing is by `from` (XEP-0114 §2): a stanza written without one gets
 * the component's domain, inserted after the element name of the
 * serialised form in b. */
int xmpp__component_add_from(xmpp_session *s, const xmpp_stanza *st, xmpp_buf *b) {
    const char *n = xmpp_stanza_name(st), *dom = xmpp_jid_domain(s->jid);
    xmpp_buf nb;
    size_t nl;
    if (xmpp_stanza_from(st) != NULL || n == NULL ||
        (strcmp(n, "message") != 0 && strcmp(n, "presence") != 0 && strcmp(n, "iq") != 0))
        return XMPP_OK;
    nl = strlen(n);
    if (b->len < nl + 2 || b->data[0] != '<' || memcmp(b->data + 1, n, nl) != 0)
        return XMPP_OK;
    xmpp__buf_init(&nb, s->ctx);
    xmpp__buf_append(&nb, b->data, nl + 1);
    xmpp__buf_append_str(&nb, " from='");
    xmpp__buf_append_str(&nb, dom);
    xmpp__buf_append_char(&nb, '\'');
    xmpp__buf_append(&nb, b->data + nl + 1, b->len - nl - 1);
    if (nb.oom) {
        xmpp__buf_free(&nb);
        return XMPP_ERR_NOMEM;
    }
    xmpp__buf_free(b);
    *b = nb;
    return XMPP_OK;
}
