/* The session's RFC 7395 framing mode: XMPP over WebSocket.
 *
 * A filter between the TLS layer (or the transport, for ws://) and the XML
 * parser, so that the negotiator, SASL, stream management and plugins run
 * unchanged:
 *
 *   transport <-> TLS (wss) <-> HTTP upgrade + RFC 6455 frames <-> XML parser
 *
 * Outbound: the session's writes are its own serialisation, one or more
 * complete top-level elements per write (or the stream header, or the
 * closing tag). Each is cut out and sent as one text message:
 *   - the stream header becomes <open xmlns='urn:ietf:params:xml:ns:xmpp-
 *     framing' to=DOMAIN version='1.0'/> (RFC 7395 §3.3.1), also on the
 *     restart after SASL;
 *   - </stream:stream> becomes <close xmlns='...xmpp-framing'/> (§3.6);
 *   - a top-level element without a namespace declaration gets
 *     xmlns='jabber:client' (the serialiser relies on the stream's default
 *     namespace, which a framed message does not inherit: §3.3.3), a
 *     "stream:" element gets its xmlns:stream;
 *   - a whitespace-only write (the XEP-0478 keepalive) becomes a WebSocket
 *     ping: whitespace is not an element (§3.3.3).
 * XML written before the 101 arrived is kept and framed afterwards. The
 * upgrade request goes out with the first write.
 *
 * Inbound: the HTTP response is parsed (lib/transport/http.c) and checked
 * (xmpp__ws_handshake_check); bytes after it are frames. Each text message
 * must be exactly one element (or whitespace):
 *   - <open/> in the framing namespace: the parser gets a synthetic stream
 *     header and the negotiator sees the <open/> element's attributes as
 *     the header's (version, id: the same checks as for TCP);
 *   - <close/>: the stream ends as after </stream:stream>; with
 *     see-other-uri (§3.6.1) the session ends like a see-other-host stream
 *     error, the URI in xmpp_session_redirect();
 *   - anything else goes to the parser, which must complete exactly one
 *     element from it.
 * Pings are answered by the framing layer; a close frame from the server
 * ends the session (cause XMPP_CAUSE_REMOTE_CLOSE, the code and reason in
 * the error text); a framing violation ends it with XMPP_CAUSE_PROTOCOL
 * after the framing layer's own close frame (1002, 1007, 1009). */
#include "session/session_int.h"

#include <stdio.h>
#include <string.h>

#include "transport/http.h"
#include "transport/ws.h"

#define NS_FRAMING "urn:ietf:params:xml:ns:xmpp-framing"
#define NS_STREAMS_URI "http://etherx.jabber.org/streams"
#define SYNTH_HEADER                                                                         \
    "<stream:stream xmlns='jabber:client' xmlns:stream='" NS_STREAMS_URI "'>"

struct xmpp__wsmode {
    xmpp__ws *ws;
    xmpp__http_resp *resp;
    xmpp__ws_url url;
    int request_sent;
    int upgraded;
    int server_open;    /* the server's <open/> for this stream arrived */
    xmpp_buf pending;   /* XML written before the upgrade completed */
    xmpp_xml_parser *aux; /* parses <open/> and <close/> */
    xmpp_stanza *ctl;   /* the element aux delivered */
    xmpp_stanza *open;  /* the server's <open/>, for on_stream_start */
};

static void aux_stanza(xmpp_stanza *st, void *ud) {
    xmpp__wsmode *m = ud;
    if (m->ctl == NULL)
        m->ctl = xmpp_stanza_ref(st);
}

static size_t max_message(const xmpp_session *s) {
    size_t cap = s->o.max_stanza ? s->o.max_stanza : XMPP_XML_DEFAULT_MAX_STANZA;
    return cap + 1024;
}

static int objects_new(xmpp_session *s, xmpp__wsmode *m) {
    int rc;
    if ((rc = xmpp__ws_new(&m->ws, s->ctx, max_message(s))) != XMPP_OK ||
        (rc = xmpp__http_resp_new(&m->resp, s->ctx, 4096)) != XMPP_OK)
        return rc;
    return XMPP_OK;
}

static void objects_free(xmpp__wsmode *m) {
    xmpp__ws_free(m->ws);
    xmpp__http_resp_free(m->resp);
    xmpp_stanza_unref(m->ctl);
    xmpp_stanza_unref(m->open);
    m->ws = NULL;
    m->resp = NULL;
    m->ctl = m->open = NULL;
    m->request_sent = m->upgraded = m->server_open = 0;
    xmpp__buf_reset(&m->pending);
}

int xmpp__wsm_new(xmpp_session *s, const char *url) {
    xmpp__wsmode *m;
    xmpp_xml_callbacks cb;
    int rc;
    m = xmpp__malloc(s->ctx, sizeof(*m));
    if (m == NULL)
        return XMPP_ERR_NOMEM;
    memset(m, 0, sizeof(*m));
    xmpp__buf_init(&m->pending, s->ctx);
    s->ws = m;
    if (xmpp__ws_url_parse(url, &m->url) != XMPP_OK)
        return XMPP_ERR_INVALID;
    memset(&cb, 0, sizeof(cb));
    cb.stanza = aux_stanza;
    if ((rc = xmpp_xml_parser_new(&m->aux, s->ctx, &cb, m)) != XMPP_OK)
        return rc;
    return objects_new(s, m);
}

void xmpp__wsm_free(xmpp_session *s) {
    if (s->ws == NULL)
        return;
    objects_free(s->ws);
    xmpp_xml_parser_free(s->ws->aux);
    xmpp__buf_free(&s->ws->pending);
    xmpp__free(s->ctx, s->ws);
    s->ws = NULL;
}

int xmpp__wsm_reset(xmpp_session *s) {
    if (s->ws == NULL)
        return XMPP_OK;
    objects_free(s->ws);
    return objects_new(s, s->ws);
}

int xmpp__wsm_secure(const xmpp_session *s) {
    return s->ws ? s->ws->url.secure : 0;
}

const char *xmpp__wsm_host(const xmpp_session *s) {
    return s->ws ? s->ws->url.host : NULL;
}

const xmpp_stanza *xmpp__wsm_header(const xmpp_session *s) {
    return s->ws ? s->ws->open : NULL;
}

/* ---- outbound */

static void send_frame(xmpp_session *s, const char *data, size_t len, int ping) {
    xmpp_buf b;
    int rc;
    xmpp__buf_init(&b, s->ctx);
    rc = ping ? xmpp__ws_send_ping(s->ws->ws, NULL, 0, &b)
              : xmpp__ws_send_text(s->ws->ws, data, len, &b);
    if (rc == XMPP_OK && !b.oom)
        xmpp__session_write_wire(s, b.data, b.len);
    else if (rc == XMPP_ERR_NOMEM || b.oom)
        xmpp__session_end(s, XMPP_CAUSE_NOMEM);
    /* XMPP_ERR_STATE: the WebSocket is closing or failed; nothing may go */
    xmpp__buf_free(&b);
}

static int is_space(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The end of the tag starting at p[0] == '<' (one past '>'), quotes
 * honoured, or 0 if it does not end within n. */
static size_t tag_end(const char *p, size_t n) {
    size_t i;
    char q = 0;
    for (i = 1; i < n; i++) {
        if (q) {
            if (p[i] == q)
                q = 0;
        } else if (p[i] == '\'' || p[i] == '"') {
            q = p[i];
        } else if (p[i] == '>') {
            return i + 1;
        }
    }
    return 0;
}

/* The length of the element at p[0] == '<', or 0 if incomplete. */
static size_t element_end(const char *p, size_t n) {
    size_t i = 0, depth = 0, t;
    while (i < n) {
        if (p[i] != '<') {
            i++;
            continue;
        }
        if ((t = tag_end(p + i, n - i)) == 0)
            return 0;
        if (p[i + 1] == '/')
            depth--;
        else if (p[i + t - 2] != '/')
            depth++;
        i += t;
        if (depth == 0)
            return i;
    }
    return 0;
}

/* Whether the start tag p[0..t) declares a default or stream namespace
 * (outside attribute values). */
static int declares(const char *p, size_t t, const char *attr) {
    size_t i, n = strlen(attr);
    char q = 0;
    for (i = 1; i + n < t; i++) {
        if (q) {
            if (p[i] == q)
                q = 0;
        } else if (p[i] == '\'' || p[i] == '"') {
            q = p[i];
        } else if (is_space(p[i]) && memcmp(p + i + 1, attr, n) == 0) {
            return 1;
        }
    }
    return 0;
}

/* One top-level element, with the namespace declaration it lacks. */
static void send_element(xmpp_session *s, const char *p, size_t n) {
    size_t t = tag_end(p, n), name = 1;
    int stream = n > 8 && memcmp(p, "<stream:", 8) == 0;
    const char *decl = stream ? " xmlns:stream='" NS_STREAMS_URI "'" : " xmlns='jabber:client'";
    xmpp_buf b;
    if (declares(p, t, stream ? "xmlns:stream=" : "xmlns=")) {
        send_frame(s, p, n, 0);
        return;
    }
    while (name < t && !is_space(p[name]) && p[name] != '/' && p[name] != '>')
        name++;
    xmpp__buf_init(&b, s->ctx);
    xmpp__buf_append(&b, p, name);
    xmpp__buf_append_str(&b, decl);
    xmpp__buf_append(&b, p + name, n - name);
    if (b.oom)
        xmpp__session_end(s, XMPP_CAUSE_NOMEM);
    else
        send_frame(s, b.data, b.len, 0);
    xmpp__buf_free(&b);
}

static void frame_xml(xmpp_session *s, const char *data, size_t len) {
    size_t i = 0, n;
    int any = 0;
    while (i < len && s->step != STEP_CLOSED) {
        const char *p = data + i;
        size_t rest = len - i;
        if (is_space(*p)) {
            i++;
            continue;
        }
        any = 1;
        if (rest >= 2 && memcmp(p, "<?", 2) == 0) {
            n = tag_end(p, rest);
        } else if (rest > 14 && memcmp(p, "<stream:stream", 14) == 0 && is_space(p[14])) {
            char open[400];
            int k = snprintf(open, sizeof(open),
                             "<open xmlns='" NS_FRAMING "' to='%s' version='1.0' xml:lang='en'/>",
                             xmpp_jid_domain(s->jid));
            n = tag_end(p, rest);
            s->ws->server_open = 0; /* a new stream: the server opens again */
            xmpp_stanza_unref(s->ws->open);
            s->ws->open = NULL;
            if (k > 0 && (size_t)k < sizeof(open))
                send_frame(s, open, (size_t)k, 0);
        } else if (rest >= 16 && memcmp(p, "</stream:stream>", 16) == 0) {
            n = 16;
            send_frame(s, "<close xmlns='" NS_FRAMING "'/>", sizeof("<close xmlns='" NS_FRAMING "'/>") - 1,
                       0);
        } else if ((n = element_end(p, rest)) != 0) {
            send_element(s, p, n);
        } else {
            /* never produced by the session's own writers */
            xmpp__log(s->ctx, XMPP_LOG_ERROR, "websocket", "dropping an incomplete element");
            return;
        }
        if (n == 0)
            return;
        i += n;
    }
    if (!any && len > 0 && s->step != STEP_CLOSED)
        send_frame(s, NULL, 0, 1); /* keepalive */
}

void xmpp__wsm_write(xmpp_session *s, const char *data, size_t len) {
    xmpp__wsmode *m = s->ws;
    if (!m->request_sent) {
        xmpp_buf req;
        int rc;
        xmpp__buf_init(&req, s->ctx);
        rc = xmpp__ws_handshake_request(m->ws, &req, m->url.authority, m->url.target, NULL, 0);
        m->request_sent = 1;
        if (rc == XMPP_OK && !req.oom)
            xmpp__session_write_wire(s, req.data, req.len);
        xmpp__buf_free(&req);
        if (rc != XMPP_OK || req.oom) {
            xmpp__session_fail(s, rc == XMPP_ERR_INVALID ? XMPP_CAUSE_PROTOCOL : XMPP_CAUSE_NOMEM,
                               XMPP_SC_NONE, "cannot write the WebSocket upgrade request");
            return;
        }
    }
    if (!m->upgraded) {
        if (xmpp__buf_append(&m->pending, data, len) != XMPP_OK)
            xmpp__session_end(s, XMPP_CAUSE_NOMEM);
        return;
    }
    frame_xml(s, data, len);
}

void xmpp__wsm_end(xmpp_session *s) {
    xmpp_buf b;
    if (s->ws == NULL || s->ws->ws == NULL || xmpp__ws_get_state(s->ws->ws) != XMPP_WS_OPEN)
        return;
    xmpp__buf_init(&b, s->ctx);
    if (xmpp__ws_send_close(s->ws->ws, 1000, NULL, &b) == XMPP_OK && !b.oom)
        xmpp__session_write_wire(s, b.data, b.len);
    xmpp__buf_free(&b);
}

/* ---- inbound */

static void flush_control(xmpp_session *s) {
    xmpp_buf b;
    if (xmpp__ws_pending(s->ws->ws) == 0)
        return;
    xmpp__buf_init(&b, s->ctx);
    if (xmpp__ws_take_output(s->ws->ws, &b) == XMPP_OK && !b.oom && b.len > 0)
        xmpp__session_write_wire(s, b.data, b.len);
    xmpp__buf_free(&b);
}

static void framing_error(xmpp_session *s, const char *text) {
    xmpp__session_fail(s, XMPP_CAUSE_PROTOCOL, XMPP_SC_INVALID_XML, text);
}

static int starts_with_tag(const char *p, size_t n, const char *name) {
    size_t k = strlen(name);
    return n > k + 1 && p[0] == '<' && memcmp(p + 1, name, k) == 0 &&
           (is_space(p[k + 1]) || p[k + 1] == '/' || p[k + 1] == '>');
}

/* Parses a framing element with the aux parser: the element, or NULL. */
static xmpp_stanza *parse_control(xmpp_session *s, const char *p, size_t n) {
    static const char prefix[] = "<stream:stream xmlns:stream='" NS_STREAMS_URI "'>";
    xmpp__wsmode *m = s->ws;
    xmpp_stanza *st;
    xmpp_stanza_unref(m->ctl);
    m->ctl = NULL;
    if (xmpp_xml_parser_reset(m->aux) != XMPP_OK ||
        xmpp_xml_parser_feed(m->aux, prefix, sizeof(prefix) - 1) != XMPP_OK ||
        xmpp_xml_parser_feed(m->aux, p, n) != XMPP_OK)
        return NULL;
    st = m->ctl;
    m->ctl = NULL;
    return st;
}

static void on_close(xmpp_session *s, const xmpp_stanza *st) {
    const char *uri = xmpp_stanza_attr(st, "see-other-uri");
    if (s->step == STEP_CLOSING) {
        xmpp__session_end(s, XMPP_CAUSE_LOCAL_CLOSE);
        return;
    }
    if (uri != NULL) {
        xmpp__ws_url u;
        char text[300];
        /* RFC 7395 §3.6.1: only another WebSocket endpoint, and wss only
         * stays wss (no downgrade) */
        if (xmpp__ws_url_parse(uri, &u) != XMPP_OK || (s->ws->url.secure && !u.secure)) {
            framing_error(s, "bad see-other-uri in <close/>");
            return;
        }
        xmpp__free(s->ctx, s->redirect);
        s->redirect = xmpp__strdup(s->ctx, uri);
        snprintf(text, sizeof(text), "see-other-uri %s", uri);
        if (s->err_text == NULL)
            s->err_text = xmpp__strdup(s->ctx, text);
        s->cause = XMPP_CAUSE_STREAM_ERROR;
        s->cond = XMPP_SC_SEE_OTHER_HOST;
        xmpp__log(s->ctx, XMPP_LOG_INFO, "websocket", "server redirects to %s", uri);
    } else {
        s->cause = XMPP_CAUSE_REMOTE_CLOSE;
    }
    xmpp__session_write(s, "</stream:stream>", 16);
    xmpp__session_end(s, s->cause);
}

static int on_message(void *ud, const char *data, size_t len) {
    xmpp_session *s = ud;
    xmpp__wsmode *m = s->ws;
    size_t i = 0;
    unsigned long before;
    if (s->step == STEP_CLOSED)
        return 1;
    if (s->restart) /* after <success/>: the old stream is over */
        return 0;
    while (i < len && is_space(data[i]))
        i++;
    if (i == len)
        return 0; /* whitespace only */
    if (starts_with_tag(data + i, len - i, "open") || starts_with_tag(data + i, len - i, "close")) {
        xmpp_stanza *st = parse_control(s, data + i, len - i);
        const char *ns = st ? xmpp_stanza_ns(st) : NULL;
        if (st == NULL) {
            framing_error(s, "malformed <open/> or <close/>");
            return 1;
        }
        if (ns != NULL && strcmp(ns, NS_FRAMING) == 0) {
            if (strcmp(xmpp_stanza_name(st), "close") == 0) {
                on_close(s, st);
                xmpp_stanza_unref(st);
                return 1;
            }
            if (m->server_open) {
                xmpp_stanza_unref(st);
                framing_error(s, "second <open/> on one stream");
                return 1;
            }
            m->server_open = 1;
            xmpp_stanza_unref(m->open);
            m->open = st;
            xmpp__session_feed_plain(s, SYNTH_HEADER, sizeof(SYNTH_HEADER) - 1);
            return s->step == STEP_CLOSED;
        }
        xmpp_stanza_unref(st);
    }
    if (!m->server_open) {
        framing_error(s, "WebSocket message before the server's <open/>");
        return 1;
    }
    before = s->ws_elements;
    xmpp__session_feed_plain(s, data, len);
    if (s->step == STEP_CLOSED)
        return 1;
    if (s->ws_elements - before != 1) {
        framing_error(s, "a WebSocket message is not exactly one XML element (RFC 7395 3.3.3)");
        return 1;
    }
    return 0;
}

static void upgrade(xmpp_session *s, const char **data, size_t *len) {
    xmpp__wsmode *m = s->ws;
    size_t used = 0;
    char text[200];
    int rc = xmpp__http_resp_feed(m->resp, *data, *len, &used);
    *data += used;
    *len -= used;
    if (rc == XMPP_HTTP_AGAIN)
        return;
    if (rc != XMPP_OK) {
        snprintf(text, sizeof(text), "WebSocket upgrade: bad HTTP response: %s",
                 xmpp__http_resp_error(m->resp)[0] ? xmpp__http_resp_error(m->resp)
                                                   : xmpp__http_strerror(rc));
        xmpp__session_fail(s, XMPP_CAUSE_PROTOCOL, XMPP_SC_NONE, text);
        return;
    }
    if (xmpp__http_resp_status(m->resp) != 101) {
        snprintf(text, sizeof(text), "WebSocket upgrade refused: HTTP %d %.100s",
                 xmpp__http_resp_status(m->resp), xmpp__http_resp_reason(m->resp));
        xmpp__session_fail(s, XMPP_CAUSE_PROTOCOL, XMPP_SC_NONE, text);
        return;
    }
    if ((rc = xmpp__ws_handshake_check(m->ws, m->resp)) != XMPP_OK) {
        snprintf(text, sizeof(text), "WebSocket upgrade: %.160s",
                 xmpp__ws_error(m->ws)[0] ? xmpp__ws_error(m->ws) : xmpp__ws_strerror(rc));
        xmpp__session_fail(s, XMPP_CAUSE_PROTOCOL, XMPP_SC_NONE, text);
        return;
    }
    m->upgraded = 1;
    xmpp__log(s->ctx, XMPP_LOG_INFO, "websocket", "upgraded: %s%s", m->url.authority,
              m->url.target);
    if (m->pending.len > 0) {
        xmpp_buf p = m->pending;
        xmpp__buf_init(&m->pending, s->ctx);
        frame_xml(s, p.data, p.len);
        xmpp__buf_free(&p);
    }
}

void xmpp__wsm_input(xmpp_session *s, const char *data, size_t len) {
    xmpp__wsmode *m = s->ws;
    int rc;
    char text[300];
    if (!m->upgraded) {
        upgrade(s, &data, &len);
        if (!m->upgraded || s->step == STEP_CLOSED || len == 0)
            return;
    }
    rc = xmpp__ws_feed(m->ws, data, len, on_message, s);
    flush_control(s);
    if (s->step == STEP_CLOSED || rc == 1)
        return;
    if (rc == XMPP_ERR_NOMEM) {
        xmpp__session_end(s, XMPP_CAUSE_NOMEM);
        return;
    }
    if (rc != XMPP_OK && rc != XMPP_ERR_CLOSED) {
        snprintf(text, sizeof(text), "WebSocket protocol error: %.200s",
                 xmpp__ws_error(m->ws)[0] ? xmpp__ws_error(m->ws) : xmpp__ws_strerror(rc));
        xmpp__session_fail(s, XMPP_CAUSE_PROTOCOL, XMPP_SC_NONE, text);
        return;
    }
    if (xmpp__ws_get_state(m->ws) == XMPP_WS_CLOSED) {
        const char *reason = "";
        unsigned code = xmpp__ws_peer_close(m->ws, &reason);
        if (s->step == STEP_CLOSING) {
            xmpp__session_end(s, XMPP_CAUSE_LOCAL_CLOSE);
            return;
        }
        snprintf(text, sizeof(text), "WebSocket closed by the server (code %u%s%.120s)", code,
                 reason[0] ? ": " : "", reason);
        xmpp__session_fail(s, XMPP_CAUSE_REMOTE_CLOSE, XMPP_SC_NONE, text);
    }
}
