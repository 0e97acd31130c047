/* XEP-0198 stream management on the sans-I/O session, driven by scripted
 * server bytes over a plaintext PLAIN login (as in test_session.c): enabling,
 * acknowledgements both ways, h modulo 2^32, the bounded queue, resumption
 * (and what happens when it fails), graceful close, export and import of the
 * state (untrusted input), and allocation failure over a whole scenario.
 * SECURITY.md b.6 (SM-01..SM-08) and d.8 (#60, #62, #63, #66). Time is
 * passed in; nothing sleeps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <xmpp/xmpp.h>
#include <xmpp/session.h>

#include "xml/parser.h"

#include "testhelp.h"

#define NS_SM "urn:xmpp:sm:3"
#define HDR                                                                                  \
    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "                             \
    "xmlns:stream='http://etherx.jabber.org/streams' from='example.com' id='s1' "            \
    "version='1.0'>"
#define MECHS                                                                                \
    "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism>"      \
    "</mechanisms>"
#define FEAT_PLAIN "<stream:features>" MECHS "</stream:features>"
/* a server (or a MITM) offering SM before authentication */
#define FEAT_PLAIN_SM "<stream:features>" MECHS "<sm xmlns='urn:xmpp:sm:3'/></stream:features>"
#define FEAT_BIND                                                                            \
    "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>"
#define FEAT_BIND_SM                                                                         \
    "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"                     \
    "<sm xmlns='urn:xmpp:sm:3'/></stream:features>"
#define SUCCESS "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>"
#define ENABLED(attrs) "<enabled xmlns='urn:xmpp:sm:3' " attrs "/>"
#define R "<r xmlns='urn:xmpp:sm:3'/>"
#define ACK(h) "<a xmlns='urn:xmpp:sm:3' h='" h "'/>"
#define MSG_IN(id) "<message from='bob@example.com/x' type='chat' id='" id "'><body>hi</body></message>"

#define BOUND "alice@example.com/r-1"

/* ---- fixture */
struct cfg {
    const char *jid;
    xmpp_sm_mode mode;
    size_t max_stanzas, max_bytes; /* 0: defaults */
    xmpp_sm_policy policy;
    int global;                    /* install the global on_returned callback */
    unsigned ka_idle, ka_timeout;  /* 0: no keepalive */
};

struct fix {
    xmpp_ctx *ctx;
    xmpp_session *s;
    uint64_t now;
    char out[1 << 17]; /* everything the client wrote since the last take() */
    size_t out_len;
    int ready, closed;
    xmpp_disconnect_cause cause;
    char bound[256];
    char log[1 << 14]; /* fates in order: "A:id " acked, "U:id " untracked,
                        * "R:id " returned (own callback), "G:id " returned (global) */
    int handled;       /* messages delivered to the handler */
    int on_returned;   /* 0: nothing, 1: close from the callback, 2: send it again */
    int resent;
    int early_reply;   /* the message handler sends a message once */
    int close_on_ack;  /* close from the first ACKED callback */
    int enable_piped;  /* <enable/> came right behind the bind request: */
    int enable_resume; /* its resume attribute was "true" */
};

static struct cfg defcfg(void) {
    struct cfg c;
    memset(&c, 0, sizeof(c));
    c.jid = "alice@example.com/r";
    c.mode = XMPP_SM_RESUME;
    c.policy = XMPP_SM_POLICY_RESEND;
    c.global = 1;
    return c;
}

static void logf_(struct fix *f, const char *fmt, ...) {
    size_t n = strlen(f->log);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->log + n, sizeof(f->log) - n, fmt, ap);
    va_end(ap);
}

static void on_ready(xmpp_session *s, const char *jid, void *ud) {
    struct fix *f = ud;
    (void)s;
    f->ready++;
    snprintf(f->bound, sizeof(f->bound), "%s", jid);
}

static void on_closed(xmpp_session *s, xmpp_disconnect_cause cause, void *ud) {
    struct fix *f = ud;
    (void)s;
    f->closed++;
    f->cause = cause;
}

static void sent_cb(xmpp_session *s, const xmpp_stanza *st, xmpp_sent_status status, void *ud) {
    struct fix *f = ud;
    const char *id = xmpp_stanza_id(st);
    char tag = status == XMPP_SENT_ACKED ? 'A' : status == XMPP_SENT_UNTRACKED ? 'U'
             : status == XMPP_SENT_RETURNED ? 'R' : '?';
    logf_(f, "%c:%s ", tag, id ? id : "-");
    if (status == XMPP_SENT_ACKED && f->close_on_ack) {
        f->close_on_ack = 0;
        xmpp_session_close(s);
    }
    if (status == XMPP_SENT_RETURNED && f->on_returned == 1)
        xmpp_session_close(s);
    if (status == XMPP_SENT_RETURNED && f->on_returned == 2 && f->resent++ < 50)
        xmpp_session_send_tracked(s, st, sent_cb, f);
}

static void global_cb(xmpp_session *s, const xmpp_stanza *st, xmpp_sent_status status,
                      void *ud) {
    struct fix *f = ud;
    const char *id = xmpp_stanza_id(st);
    (void)s;
    logf_(f, "%c:%s ", status == XMPP_SENT_RETURNED ? 'G' : '!', id ? id : "-");
}

static int msg_handler(xmpp_session *s, xmpp_stanza *st, void *ud) {
    struct fix *f = ud;
    (void)st;
    f->handled++;
    if (f->early_reply) {
        xmpp_stanza *m = NULL;
        f->early_reply = 0;
        assert_int_equal(xmpp_message_new(&m, f->ctx, "chat", "bob@example.com", "reply", "r"),
                         XMPP_OK);
        assert_int_equal(xmpp_session_send_tracked(s, m, sent_cb, f), XMPP_OK);
        xmpp_stanza_unref(m);
    }
    return 1;
}

static struct fix *fix_new(const struct cfg *c) {
    struct fix *f = calloc(1, sizeof(*f));
    xmpp_session_options *o;
    assert_non_null(f);
    f->now = 1000;
    assert_int_equal(xmpp_ctx_new(&f->ctx, NULL), XMPP_OK);
    assert_int_equal(xmpp_session_options_new(&o, f->ctx), XMPP_OK);
    assert_int_equal(xmpp_session_options_set_jid(o, c->jid), XMPP_OK);
    assert_int_equal(xmpp_session_options_set_password(o, "secret"), XMPP_OK);
    assert_int_equal(xmpp_session_options_allow_plaintext(o, 1), XMPP_OK);
    assert_int_equal(xmpp_session_options_set_tls_mode(o, XMPP_TLS_NONE), XMPP_OK);
    assert_int_equal(xmpp_session_options_set_callbacks(o, on_ready, on_closed, f), XMPP_OK);
    assert_int_equal(xmpp_session_options_set_stream_management(o, c->mode), XMPP_OK);
    if (c->max_stanzas)
        assert_int_equal(xmpp_session_options_set_sm_queue(o, c->max_stanzas, c->max_bytes),
                         XMPP_OK);
    assert_int_equal(xmpp_session_options_set_sm_policy(o, c->policy, c->global ? global_cb : NULL,
                                                        c->global ? f : NULL),
                     XMPP_OK);
    if (c->ka_idle)
        assert_int_equal(xmpp_session_options_set_keepalive(o, c->ka_idle, c->ka_timeout),
                         XMPP_OK);
    assert_int_equal(xmpp_session_new(&f->s, f->ctx, o), XMPP_OK);
    xmpp_session_options_free(o);
    assert_int_equal(xmpp_session_add_handler(f->s, "message", NULL, NULL, msg_handler, f, NULL),
                     XMPP_OK);
    return f;
}

static void fix_free(struct fix *f) {
    xmpp_session_free(f->s);
    xmpp_ctx_free(f->ctx);
    free(f);
}

static void pump(struct fix *f) {
    const void *d;
    size_t n;
    assert_int_equal(xmpp_session_drain(f->s, &d, &n), XMPP_OK);
    if (n) {
        assert_true(f->out_len + n < sizeof(f->out));
        memcpy(f->out + f->out_len, d, n);
        f->out_len += n;
        f->out[f->out_len] = '\0';
        assert_int_equal(xmpp_session_consume(f->s, n), XMPP_OK);
    }
}

static void take(struct fix *f) {
    f->out_len = 0;
    f->out[0] = '\0';
}

static void server(struct fix *f, const char *bytes) {
    assert_int_equal(xmpp_session_recv(f->s, bytes, strlen(bytes), f->now), XMPP_OK);
    pump(f);
}

static void server2(struct fix *f, const char *a, const char *b) {
    server(f, a);
    server(f, b);
}

static void timeout_at(struct fix *f, uint64_t t) {
    f->now = t;
    assert_int_equal(xmpp_session_handle_timeout(f->s, t), XMPP_OK);
    pump(f);
}

/* ---- what the client wrote, parsed: one token per top-level element,
 * "name[:id][/h=N]", and "END" for the closing tag */
struct coll {
    xmpp_stanza *el[256];
    size_t n;
    int ended;
};

static void c_stanza(xmpp_stanza *st, void *ud) {
    struct coll *c = ud;
    assert_true(c->n < 256);
    c->el[c->n++] = xmpp_stanza_ref(st);
}

static void c_end(void *ud) {
    ((struct coll *)ud)->ended = 1;
}

static void c_start(xmpp_stanza *h, const char *ns, void *ud) {
    (void)h;
    (void)ns;
    (void)ud;
}

static void parse_out(struct fix *f, struct coll *c) {
    xmpp_xml_parser *p = NULL;
    xmpp_xml_callbacks cb;
    const char *body = f->out, *h, *q;
    memset(c, 0, sizeof(*c));
    /* only what follows the last stream header of ours */
    for (q = f->out; (h = strstr(q, "<stream:stream")) != NULL; q = h + 1)
        body = strchr(h, '>') + 1;
    cb.stream_start = c_start;
    cb.stanza = c_stanza;
    cb.stream_end = c_end;
    assert_int_equal(xmpp_xml_parser_new(&p, f->ctx, &cb, c), XMPP_OK);
    assert_int_equal(xmpp_xml_parser_feed(p, HDR, strlen(HDR)), XMPP_OK);
    assert_int_equal(xmpp_xml_parser_feed(p, body, strlen(body)), XMPP_OK);
    xmpp_xml_parser_free(p);
}

static void coll_free(struct coll *c) {
    size_t i;
    for (i = 0; i < c->n; i++)
        xmpp_stanza_unref(c->el[i]);
    c->n = 0;
}

static void out_tokens(struct fix *f, char *buf, size_t size) {
    struct coll c;
    size_t i, n = 0;
    parse_out(f, &c);
    buf[0] = '\0';
    for (i = 0; i < c.n; i++) {
        const char *id = xmpp_stanza_id(c.el[i]), *h = xmpp_stanza_attr(c.el[i], "h");
        n += (size_t)snprintf(buf + n, size - n, "%s%s%s%s%s%s", n ? " " : "",
                              xmpp_stanza_name(c.el[i]), id ? ":" : "", id ? id : "",
                              h ? "/h=" : "", h ? h : "");
    }
    if (c.ended) {
        /* and nothing after it */
        int last = f->out_len >= 16 && strcmp(f->out + f->out_len - 16, "</stream:stream>") == 0;
        snprintf(buf + n, size - n, "%sEND%s", n ? " " : "", last ? "" : " TRAILING");
    }
    coll_free(&c);
}

#define assert_out(f, expected)                                                              \
    do {                                                                                     \
        char tok_[4096];                                                                     \
        out_tokens((f), tok_, sizeof(tok_));                                                 \
        assert_string_equal(tok_, (expected));                                               \
    } while (0)

static void expect_log(struct fix *f, const char *expected) {
    assert_string_equal(f->log, expected);
    f->log[0] = '\0';
}

static void queue_is(struct fix *f, size_t unacked, size_t queued) {
    size_t u = 99, q = 99;
    xmpp_session_sm_queue(f->s, &u, &q, NULL);
    assert_int_equal(u, unacked);
    assert_int_equal(q, queued);
}

/* ---- driving a login */

/* Starts (or restarts) the session and logs in over plaintext PLAIN up to
 * the features after authentication. Nothing of stream management may go
 * out before the server's <success/> (SM-04), whatever the server offers. */
static void login_to(struct fix *f, const char *pre, const char *post) {
    if (xmpp_session_get_state(f->s) == XMPP_STATE_CLOSED)
        assert_int_equal(xmpp_session_set_password(f->s, "secret"), XMPP_OK);
    take(f);
    assert_int_equal(xmpp_session_start(f->s, f->now), XMPP_OK);
    pump(f);
    assert_non_null(strstr(f->out, "<stream:stream to='example.com'"));
    server2(f, HDR, pre);
    assert_non_null(strstr(f->out, "mechanism='PLAIN'>AGFsaWNlAHNlY3JldA==</auth>"));
    server(f, SUCCESS);
    assert_null(strstr(f->out, NS_SM));
    assert_null(strstr(f->out, "<bind"));
    assert_non_null(strstr(strstr(f->out, "</auth>"), "<stream:stream to='example.com'"));
    take(f);
    server2(f, HDR, post);
}

/* Answers the bind request in the output with a result for `jid`. */
static void bind_reply(struct fix *f, const char *jid) {
    struct coll c;
    xmpp_stanza *iq;
    char res[512];
    parse_out(f, &c);
    /* the bind request, and <enable/> pipelined behind it when SM is on */
    assert_true(c.n == 1 || c.n == 2);
    iq = c.el[0];
    assert_string_equal(xmpp_stanza_name(iq), "iq");
    assert_non_null(xmpp_stanza_child(iq, "bind", "urn:ietf:params:xml:ns:xmpp-bind"));
    f->enable_piped = c.n == 2;
    if (c.n == 2) {
        const char *r = xmpp_stanza_attr(c.el[1], "resume");
        assert_string_equal(xmpp_stanza_name(c.el[1]), "enable");
        assert_string_equal(xmpp_stanza_ns(c.el[1]), NS_SM);
        f->enable_resume = r != NULL && strcmp(r, "true") == 0;
    }
    snprintf(res, sizeof(res),
             "<iq type='result' id='%s'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
             "<jid>%s</jid></bind></iq>",
             xmpp_stanza_id(iq), jid);
    coll_free(&c);
    take(f);
    server(f, res);
}

/* Checks the output is exactly one <enable/> (with or without resume) and
 * answers it. */
static void enable(struct fix *f, int resume, const char *enabled) {
    struct coll c;
    if (f->enable_piped) {
        /* sent with the bind request; nothing more since */
        f->enable_piped = 0;
        assert_int_equal(f->enable_resume, resume);
        assert_int_equal(f->out_len, 0);
        server(f, enabled);
        return;
    }
    parse_out(f, &c);
    assert_int_equal(c.n, 1);
    assert_string_equal(xmpp_stanza_name(c.el[0]), "enable");
    assert_string_equal(xmpp_stanza_ns(c.el[0]), NS_SM);
    if (resume)
        assert_string_equal(xmpp_stanza_attr(c.el[0], "resume"), "true");
    else
        assert_null(xmpp_stanza_attr(c.el[0], "resume"));
    coll_free(&c);
    take(f);
    server(f, enabled);
}

/* A fresh session, logged in, bound and with SM enabled as `enabled`. */
static struct fix *up_cfg(const struct cfg *c, const char *enabled) {
    struct fix *f = fix_new(c);
    login_to(f, FEAT_PLAIN, FEAT_BIND_SM);
    bind_reply(f, BOUND);
    assert_int_equal(f->ready, 0);
    enable(f, c->mode == XMPP_SM_RESUME, enabled);
    assert_int_equal(f->ready, 1);
    take(f);
    return f;
}

static struct fix *up(const char *enabled) {
    struct cfg c = defcfg();
    return up_cfg(&c, enabled);
}

#define UP_RESUMABLE ENABLED("id='sm-1' resume='true' max='300'")

/* ---- sending */
static int send_msg(struct fix *f, const char *id, int own_cb) {
    xmpp_stanza *m = NULL;
    char body[64];
    int rc;
    snprintf(body, sizeof(body), "hello %s", id);
    assert_int_equal(xmpp_message_new(&m, f->ctx, "chat", "bob@example.com", id, body), XMPP_OK);
    rc = own_cb ? xmpp_session_send_tracked(f->s, m, sent_cb, f) : xmpp_session_send(f->s, m);
    xmpp_stanza_unref(m);
    pump(f);
    return rc;
}

static int send_pres(struct fix *f, const char *id) {
    xmpp_stanza *p = NULL;
    int rc;
    assert_int_equal(xmpp_presence_new(&p, f->ctx, NULL, NULL, id), XMPP_OK);
    rc = xmpp_session_send_tracked(f->s, p, sent_cb, f);
    xmpp_stanza_unref(p);
    pump(f);
    return rc;
}

static int send_iq(struct fix *f, const char *id) {
    xmpp_stanza *iq = NULL;
    int rc;
    assert_int_equal(xmpp_iq_new(&iq, f->ctx, "get", "example.com", id), XMPP_OK);
    assert_int_equal(xmpp_stanza_add_child_new(iq, "query", "jabber:iq:version", NULL), XMPP_OK);
    rc = xmpp_session_send_tracked(f->s, iq, sent_cb, f);
    xmpp_stanza_unref(iq);
    pump(f);
    return rc;
}

static void check_delay(xmpp_stanza *st, int present) {
    xmpp_stanza *d = xmpp_stanza_child(st, "delay", "urn:xmpp:delay");
    const char *stamp;
    int y, mo, da, h, mi, se;
    char z = 0;
    if (!present) {
        assert_null(d);
        return;
    }
    assert_non_null(d);
    stamp = xmpp_stanza_attr(d, "stamp");
    assert_non_null(stamp);
    /* XEP-0082 UTC: 2026-01-31T12:34:56Z */
    assert_int_equal(strlen(stamp), 20);
    assert_int_equal(sscanf(stamp, "%4d-%2d-%2dT%2d:%2d:%2d%c", &y, &mo, &da, &h, &mi, &se, &z), 7);
    assert_int_equal(z, 'Z');
    assert_true(y >= 2024 && mo >= 1 && mo <= 12 && da >= 1 && da <= 31);
}

/* ======================================================================= */

static void test_enable_after_bind(void **state) {
    struct cfg c = defcfg();
    struct fix *f = fix_new(&c);
    (void)state;
    login_to(f, FEAT_PLAIN, FEAT_BIND_SM);
    bind_reply(f, BOUND);
    /* not ready before <enabled/> */
    assert_int_equal(f->ready, 0);
    assert_int_equal(xmpp_session_get_state(f->s), XMPP_STATE_NEGOTIATING);
    enable(f, 1,
           ENABLED("id='sm-1' resume='true' max='300' location='[2001:db8::1]:5223'"));
    assert_int_equal(f->ready, 1);
    assert_string_equal(f->bound, BOUND);
    assert_int_equal(xmpp_session_sm_queue(f->s, NULL, NULL, NULL), 1);
    assert_string_equal(xmpp_session_sm_location(f->s), "[2001:db8::1]:5223");
    assert_int_equal(xmpp_session_resumed(f->s), 0);
    assert_int_equal(xmpp_session_can_resume(f->s, f->now), 1);
    assert_int_equal(f->out_len, 0); /* nothing more on <enabled/> */
    queue_is(f, 0, 0);
    fix_free(f);

    /* <enabled/> without resumption granted: acks only */
    f = up(ENABLED(""));
    assert_int_equal(xmpp_session_sm_queue(f->s, NULL, NULL, NULL), 1);
    assert_int_equal(xmpp_session_can_resume(f->s, f->now), 0);
    assert_null(xmpp_session_sm_location(f->s));
    fix_free(f);

    /* <failed/> to <enable/>: ready anyway, without SM */
    f = fix_new(&c);
    login_to(f, FEAT_PLAIN, FEAT_BIND_SM);
    bind_reply(f, BOUND);
    enable(f, 1, "<failed xmlns='urn:xmpp:sm:3'><unexpected-request "
                 "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>");
    assert_int_equal(f->ready, 1);
    assert_int_equal(xmpp_session_sm_queue(f->s, NULL, NULL, NULL), 0);
    take(f);
    assert_int_equal(send_msg(f, "m1", 1), XMPP_OK);
    expect_log(f, "U:m1 ");
    assert_out(f, "message:m1");
    fix_free(f);
}

static void test_not_enabled(void **state) {
    struct cfg c = defcfg();
    struct fix *f;
    (void)state;
    /* the server does not offer it */
    f = fix_new(&c);
    login_to(f, FEAT_PLAIN, FEAT_BIND);
    bind_reply(f, BOUND);
    assert_int_equal(f->ready, 1);
    assert_int_equal(f->out_len, 0); /* no <enable/> */
    assert_int_equal(xmpp_session_sm_queue(f->s, NULL, NULL, NULL), 0);
    assert_int_equal(send_msg(f, "m1", 1), XMPP_OK);
    expect_log(f, "U:m1 ");
    assert_out(f, "message:m1");
    assert_int_equal(xmpp_session_next_deadline(f->s), UINT64_MAX);
    server(f, R); /* not enabled: no answer */
    assert_out(f, "message:m1");
    queue_is(f, 0, 0);
    fix_free(f);

    /* mode OFF although the server offers it */
    c.mode = XMPP_SM_OFF;
    f = fix_new(&c);
    assert_int_equal(send_msg(f, "early", 1), XMPP_ERR_STATE); /* nothing to queue into */
    login_to(f, FEAT_PLAIN, FEAT_BIND_SM);
    bind_reply(f, BOUND);
    assert_int_equal(f->ready, 1);
    assert_int_equal(f->out_len, 0);
    assert_int_equal(send_msg(f, "m1", 1), XMPP_OK);
    expect_log(f, "U:m1 ");
    assert_int_equal(send_msg(f, "m2", 0), XMPP_OK);
    assert_out(f, "message:m1 message:m2");
    assert_int_equal(xmpp_session_sm_queue(f->s, NULL, NULL, NULL), 0);
    fix_free(f);
}

static void test_acks_mode(void **state) {
    struct cfg c = defcfg();
    struct fix *f;
    (void)state;
    c.mode = XMPP_SM_ACKS;
    /* <enable/> without resume; a server granting it anyway changes nothing */
    f = up_cfg(&c, ENABLED("id='x' resume='true' max='60' location='alt.example.com'"));
    assert_int_equal(xmpp_session_can_resume(f->s, f->now), 0);
    assert_null(xmpp_session_sm_location(f->s));
    assert_int_equal(send_msg(f, "m1", 1), XMPP_OK);
    assert_out(f, "message:m1");
    queue_is(f, 1, 1);
    assert_int_equal(xmpp_session_transport_closed(f->s, XMPP_CAUSE_TCP, NULL), XMPP_OK);
    assert_int_equal(f->cause, XMPP_CAUSE_TCP);
    /* no resumption: a new session, the unacknowledged message re-sent */
    login_to(f, FEAT_PLAIN, FEAT_BIND_SM);
    bind_reply(f, BOUND);
    enable(f, 0, ENABLED(""));
    assert_int_equal(f->ready, 2);
    assert_int_equal(xmpp_session_resumed(f->s), 0);
    assert_out(f, "message:m1");
    expect_log(f, "");
    server(f, ACK("1"));
    expect_log(f, "A:m1 ");
    fix_free(f);
}

static void test_answer_r(void **state) {
    struct fix *f = up(UP_RESUMABLE);
    (void)state;
    /* h starts at 0 with <enabled/> */
    server(f, R);
    assert_out(f, "a/h=0");
    take(f);
    /* message, presence and iq count; <r/>, nonzas and other elements do not */
    server(f, MSG_IN("i1"));
    server(f, "<presence from='bob@example.com/x'/>");
    server(f, "<iq type='result' id='nobody' from='example.com'/>");
    server(f, "<x xmlns='urn:example:nonza'/>");
    assert_int_equal(f->handled, 1);
    server(f, "<message xmlns='urn:example:not-client'/>"); /* not a stanza */
    server(f, R);
    assert_out(f, "a/h=3");
    take(f);
    server(f, R); /* asked twice: the same answer */
    assert_out(f, "a/h=3");
    take(f);
    /* an unhandled IQ request: counted, and our error reply is counted and
     * tracked on our side (the server will ack it) */
    server(f, "<iq type='get' id='q9' from='example.com'><query xmlns='urn:x:unknown'/></iq>");
    assert_out(f, "iq:q9");
    queue_is(f, 1, 1);
    server(f, R);
    assert_out(f, "iq:q9 a/h=4");
    server(f, ACK("1"));
    queue_is(f, 0, 0);
    expect_log(f, ""); /* internal stanzas have no fate to report */
    assert_int_equal(f->closed, 0);
    fix_free(f);
}

static void test_request_after_five(void **state) {
    struct fix *f = up(UP_RESUMABLE);
    (void)state;
    assert_int_equal(send_msg(f, "m1", 1), XMPP_OK);
    assert_int_equal(send_msg(f, "m2", 1), XMPP_OK);
    assert_int_equal(send_msg(f, "m3", 1), XMPP_OK);
    assert_int_equal(send_msg(f, "m4", 1), XMPP_OK);
    assert_out(f, "message:m1 message:m2 message:m3 message:m4");
    assert_int_equal(xmpp_session_next_deadline(f->s), f->now + 200);
    assert_int_equal(send_msg(f, "m5", 1), XMPP_OK);
    assert_out(f, "message:m1 message:m2 message:m3 message:m4 message:m5 r");
    /* now the unanswered <r/> is what times, from the next timer call (a
     * send does not know the time) */
    assert_int_equal(xmpp_session_next_deadline(f->s), f->now);
    timeout_at(f, f->now);
    assert_int_equal(xmpp_session_next_deadline(f->s), f->now + 60000);
    queue_is(f, 5, 5);
    take(f);
    server(f, ACK("5"));
    expect_log(f, "A:m1 A:m2 A:m3 A:m4 A:m5 ");
    queue_is(f, 0, 0);
    assert_int_equal(xmpp_session_next_deadline(f->s), UINT64_MAX);
    assert_int_equal(f->out_len, 0);
    fix_free(f);
}

static void test_request_after_delay(void **state) {
    struct fix *f = up(UP_RESUMABLE);
    uint64_t t0;
    int i;
    char id[8];
    (void)state;
    t0 = f->now;
    assert_int_equal(send_msg(f, "m1", 1), XMPP_OK);
    assert_out(f, "message:m1");
    assert_int_equal(xmpp_session_next_deadline(f->s), t0 + 200);
    timeout_at(f, t0 + 199);
    assert_out(f, "message:m1");
    timeout_at(f, t0 + 200);
    assert_out(f, "message:m1 r");
    assert_int_equal(xmpp_session_next_deadline(f->s), t0 + 200 + 60000);
    take(f);
    /* while our <r/> is out, more stanzas do not ask again, even past five */
    for (i = 2; i <= 7; i++) {
        snprintf(id, sizeof(id), "m%d", i);
        assert_int_equal(send_msg(f, id, 1), XMPP_OK);
    }
    assert_out(f, "message:m2 message:m3 message:m4 message:m5 message:m6 message:m7");
    take(f);
    /* the answer covers m1 only; six were written since: ask at once */
    server(f, ACK("1"));
    expect_log(f, "A:m1 ");
    assert_out(f, "r");
    take(f);
    server(f, ACK("7"));
    expect_log(f, "A:m2 A:m3 A:m4 A:m5 A:m6 A:m7 ");
    assert_int_equal(xmpp_session_next_deadline(f->s), UINT64_MAX);
    assert_int_equal(f->out_len, 0);
    fix_free(f);
}

static void test_ack_order_and_callbacks(void **state) {
    struct fix *f = up(UP_RESUMABLE);
    (void)state;
    assert_int_equal(send_msg(f, "m1", 1), XMPP_OK);
    assert_int_equal(send_pres(f, "p2"), XMPP_OK);
    assert_int_equal(send_iq(f, "q3"), XMPP_OK);
    assert_int_equal(send_msg(f, "m4", 0), XMPP_OK); /* no callback of its own */
    queue_is(f, 4, 4);
    server(f, ACK("2"));
    expect_log(f, "A:m1 A:p2 ");
    queue_is(f, 2, 2);
    /* an unsolicited repeat acknowledges nothing new */
    server(f, ACK("2"));
    expect_log(f, "");
    server(f, ACK("4"));
    expect_log(f, "A:q3 "); /* m4: acknowledged silently, never "returned" */
    queue_is(f, 0, 0);
    /* the global callback takes what is handed back without an own callback */
    assert_int_equal(send_msg(f, "m5", 0), XMPP_OK);
    assert_int_equal(send_msg(f, "m6", 1), XMPP_OK);
    xmpp_session_free(f->s);
    f->s = NULL;
    expect_log(f, "G:m5 R:m6 ");
    assert_int_equal(f->closed, 0); /* no lifecycle callback from free */
    fix_free(f);
}

/* A stanza built without a namespace is written in the stream's default
 * namespace: on the wire it is a jabber:client stanza, and the server
 * counts it. So must we; and it must survive export and import. */
static void test_stanza_without_namespace(void **state) {
    struct fix *f = up(UP_RESUMABLE);
    struct cfg c = defcfg();
    struct fix *g;
    xmpp_stanza *m = NULL, *p = NULL;
    char *doc = NULL;
    size_t len = 0;
    (void)state;
    assert_int_equal(xmpp_stanza_new(&m, f->ctx, "message", NULL), XMPP_OK);
    assert_int_equal(xmpp_stanza_set_attr(m, "to", "bob@example.com"), XMPP_OK);
    assert_int_equal(xmpp_stanza_set_attr(m, "id", "n1"), XMPP_OK);
    assert_int_equal(xmpp_session_send(f->s, m), XMPP_OK);
    assert_int_equal(xmpp_stanza_new(&p, f->ctx, "presence", NULL), XMPP_OK);
    assert_int_equal(xmpp_stanza_set_attr(p, "id", "n2"), XMPP_OK);
    assert_int_equal(xmpp_session_send_tracked(f->s, p, sent_cb, f), XMPP_OK);
    pump(f);
    assert_out(f, "message:n1 presence:n2");
    assert_null(strstr(f->out, "xmlns")); /* written as jabber:client stanzas */
    queue_is(f, 2, 2);
    server(f, ACK("1"));
    assert_int_equal(f->closed, 0);
    queue_is(f, 1, 1);
    /* the nonza path is for elements of other namespaces */
    xmpp_stanza_unref(m);
    assert_int_equal(xmpp_stanza_new(&m, f->ctx, "active", "urn:xmpp:csi:0"), XMPP_OK);
    assert_int_equal(xmpp_session_send(f->s, m), XMPP_OK);
    assert_int_equal(xmpp_session_send_tracked(f->s, m, sent_cb, f), XMPP_ERR_INVALID);
    queue_is(f, 1, 1);
    /* exported and imported */
    assert_int_equal(xmpp_session_transport_closed(f->s, XMPP_CAUSE_TCP, NULL), XMPP_OK);
    assert_int_equal(xmpp_session_sm_export(f->s, &doc, &len), XMPP_OK);
    g = fix_new(&c);
    assert_int_equal(xmpp_session_sm_import(g->s, doc, len), XMPP_OK);
    queue_is(g, 1, 1);
    xmpp_free(f->ctx, doc);
    xmpp_stanza_unref(m);
    xmpp_stanza_unref(p);
    fix_free(g);
    fix_free(f);
}

/* SM-01: h modulo 2^32, reached through an imported state */
#define SMS_HEAD                                                                             \
    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "                             \
    "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"
#define SMS_STATE_A(acct, attrs)                                                             \
    "<sm-state xmlns='urn:libxmpp:sm-state:1' version='1' account='" acct "' " attrs "/>"
#define SMS_STATE(attrs) SMS_STATE_A("alice@example.com", attrs)
#define QE(resend, stanza)                                                                   \
    "<q xmlns='urn:libxmpp:sm-state:1' stamp='1700000000' resend='" resend "'>" stanza "</q>"
#define Q(stanza) QE("0", stanza)
#define SMSG(id) "<message xmlns='jabber:client' to='bob@example.com' type='chat' id='" id "'><body>x</body></message>"
#define SMS_END "</stream:stream>"

static void test_h_wraps(void **state) {
    struct cfg c = defcfg();
    struct fix *f = fix_new(&c);
    static const char doc[] =
        SMS_HEAD SMS_STATE("jid='" BOUND "' id='wrap' h='4294967294' sent='4294967295' "
                           "acked='4294967293' unacked='2' max='0'")
        Q(SMSG("w1")) Q(SMSG("w2")) SMS_END;
    char *ex = NULL;
    (void)state;
    assert_int_equal(xmpp_session_sm_import(f->s, doc, strlen(doc)), XMPP_OK);
    queue_is(f, 2, 2);
    login_to(f, FEAT_PLAIN, FEAT_BIND_SM);
    assert_out(f, "resume/h=4294967294");
    take(f);
    /* the server had w1: 4294967294 - 4294967293 = 1 */
    server(f, "<resumed xmlns='urn:xmpp:sm:3' h='4294967294' previd='wrap'/>");
    assert_int_equal(f->ready, 1);
    assert_int_equal(xmpp_session_resumed(f->s), 1);
    assert_string_equal(f->bound, BOUND);
    assert_out(f, "message:w2"); /* w2 is number 4294967295 */
    queue_is(f, 1, 1);
    take(f);
    /* three more: numbers 0, 1 and 2 after the wrap */
    assert_int_equal(send_msg(f, "m1", 1), XMPP_OK);
    assert_int_equal(send_msg(f, "m2", 1), XMPP_OK);
    assert_int_equal(send_msg(f, "m3", 1), XMPP_OK);
    server(f, ACK("0")); /* w2 and m1: 0 - 4294967294 = 2 */
    expect_log(f, "A:m1 ");
    queue_is(f, 2, 2);
    server(f, ACK("2"));
    expect_log(f, "A:m2 A:m3 ");
    queue_is(f, 0, 0);
    /* inbound: 4294967294 handled before; two more wrap to 0 */
    take(f);
    server(f, MSG_IN("i1"));
    server(f, R);
    assert_out(f, "a/h=4294967295");
    take(f);
    server(f, MSG_IN("i2"));
    server(f, R);
    assert_out(f, "a/h=0");
    take(f);
    server(f, MSG_IN("i3"));
    server(f, R);
    assert_out(f, "a/h=1");
    assert_int_equal(f->closed, 0);
    /* the export carries the wrapped counters */
    assert_int_equal(xmpp_session_sm_export(f->s, &ex, NULL), XMPP_OK);
    assert_non_null(strstr(ex, " h=\"1\" sent=\"2\" acked=\"2\" unacked=\"0\""));
    xmpp_free(f->ctx, ex);
    /* one too many across the wrap is still too many */
    server(f, ACK("3"));
    assert_int_equal(f->cause, XMPP_CAUSE_PROTOCOL);
    fix_free(f);
}

static void test_h_too_high(void **state) {
    struct fix *f = up(UP_RESUMABLE);
    xmpp_stream_condition cond;
    struct coll c;
    xmpp_stanza *app;
    (void)state;
    assert_int_equal(send_msg(f, "m1", 1), XMPP_OK);
    assert_int_equal(send_msg(f, "m2", 1), XMPP_OK);
    take(f);
    server(f, ACK("3"));
    assert_int_equal(f->closed, 1);
    assert_int_equal(f->cause, XMPP_CAUSE_PROTOCOL);
    assert_int_equal(xmpp_session_get_error(f->s, &cond, NULL), XMPP_CAUSE_PROTOCOL);
    assert_int_equal(cond, XMPP_SC_UNDEFINED_CONDITION);
    /* SM-02: undefined-condition with <handled-count-too-high/>, then close */
    assert_out(f, "error END");
    parse_out(f, &c);
    assert_non_null(xmpp_stanza_child(c.el[0], "undefined-condition",
                                      "urn:ietf:params:xml:ns:xmpp-streams"));
    app = xmpp_stanza_child(c.el[0], "handled-count-too-high", NS_SM);
    assert_non_null(app);
    assert_string_equal(xmpp_stanza_attr(app, "h"), "3");
    assert_string_equal(xmpp_stanza_attr(app, "send-count"), "2");
    coll_free(&c);
    /* the queue is intact: nothing acknowledged, nothing freed */
    expect_log(f, "");
    queue_is(f, 2, 2);
    xmpp_session_free(f->s);
    f->s = NULL;
    expect_log(f, "R:m1 R:m2 ");
    fix_free(f);

    /* #62: h going backwards */
    f = up(UP_RESUMABLE);
    assert_int_equal(send_msg(f, "m1", 1), XMPP_OK);
    assert_int_equal(send_msg(f, "m2", 1), XMPP_OK);
    server(f, ACK("2"));
    expect_log(f, "A:m1 A:m2 ");
    assert_int_equal(send_msg(f, "m3", 1), XMPP_OK);
    take(f);
    server(f, ACK("1"));
    assert_int_equal(f->cause, XMPP_CAUSE_PROTOCOL);
    assert_out(f, "error END");
    expect_log(f, "");
    queue_is(f, 1, 1);
    fix_free(f);
}

static void test_invalid_h(void **state) {
    static const char *const bad[] = {"<a xmlns='urn:xmpp:sm:3' h='-1'/>",
                                      "<a xmlns='urn:xmpp:sm:3' h='abc'/>",
                                      "<a xmlns='urn:xmpp:sm:3' h='4294967296'/>",
                                      "<a xmlns='urn:xmpp:sm:3' h=''/>",
                                      "<a xmlns='urn:xmpp:sm:3' h=' 1'/>",
                                      "<a xmlns='urn:xmpp:sm:3' h='1 '/>",
                                      "<a xmlns='urn:xmpp:sm:3' h='+1'/>",
                                      "<a xmlns='urn:xmpp:sm:3' h='0x1'/>",
                                      "<a xmlns='urn:xmpp:sm:3' h='1.0'/>",
                                      "<a xmlns='urn:xmpp:sm:3' h='99999999999999999999'/>",
                                      "<a xmlns='urn:xmpp:sm:3' h='00000000001'/>",
                                      "<a xmlns='urn:xmpp:sm:3'/>",
                                      NULL};
    size_t i;
    (void)state;
    for (i = 0; bad[i]; i++) {
        struct fix *f = up(UP_RESUMABLE);
        assert_int_equal(send_msg(f, "m1", 1), XMPP_OK);
        take(f);
        server(f, bad[i]);
        assert_int_equal(f->closed, 1);
        assert_int_equal(f->cause, XMPP_CAUSE_PROTOCOL);
        assert_out(f, "error END");
        expect_log(f, "");
        queue_is(f, 1, 1);
        fix_free(f);
    }
    /* the edges that are valid: 0 and 2^32-1 (as h of <r/> answers, via
     * test_h_wraps), and leading zeros within ten digits */
    {
        struct fix *f = up(UP_RESUMABLE);
        assert_int_equal(send_msg(f, "m1", 1), XMPP_OK);
        server(f, ACK("0"));
        server(f, ACK("0000000001"));
        expect_log(f, "A:m1 ");
        assert_int_equal(f->closed, 0);
        fix_free(f);
    }
}

/* The session learns the time only from recv, handle_timeout and start. An
 * idle session (no timer due, so the application had no reason to call)
 * that sends must not date its <r/> from the last time it heard of. */
static void test_ack_request_after_silence(void **state) {
    struct fix *f = up(UP_RESUMABLE);
    uint64_t t;
    int i;
    char id[8];
    (void)state;
    assert_int_equal(xmpp_session_next_deadline(f->s), UINT64_MAX);
    t = f->now + 120000; /* two quiet minutes later */
    for (i = 1; i <= 5; i++) {
        snprintf(id, sizeof(id), "m%d", i);
        assert_int_equal(send_msg(f, id, 1), XMPP_OK);
    }
    assert_out(f, "message:m1 message:m2 message:m3 message:m4 message:m5 r");
    /* the application's loop: a deadline due now or earlier is handled */
    assert_true(xmpp_session_next_deadline(f->s) <= t);
    timeout_at(f, t);
    assert_int_equal(f->closed, 0);
    assert_int_equal(xmpp_session_next_deadline(f->s), t + 60000);
    timeout_at(f, t + 59999);
    assert_int_equal(f->closed, 0);
    timeout_at(f, t + 60000);
    assert_int_equal(f->cause, XMPP_CAUSE_TIMEOUT);
    fix_free(f);
}

static void test_ack_timeout(void **state) {
    struct cfg c = defcfg();
    struct fix *f = up(UP_RESUMABLE);
    uint64_t t0 = f->now;
    (void)state;
    assert_int_equal(send_msg(f, "m1", 1), XMPP_OK);
    timeout_at(f, t0 + 200);
    assert_out(f, "message:m1 r");
    timeout_at(f, t0 + 200 + 59999);
    assert_int_equal(f->closed, 0);
    assert_int_equal(xmpp_session_next_deadline(f->s), t0 + 200 + 60000);
    take(f);
    timeout_at(f, t0 + 200 + 60000);
    assert_int_equal(f->closed, 1);
    assert_int_equal(f->cause, XMPP_CAUSE_TIMEOUT);
    /* a dead connection is what resumption is for: no </stream:stream>,
     * which would tell a server still reading us to end the session
     * (XEP-0198 §7) */
    assert_int_equal(f->out_len, 0);
    assert_int_equal(xmpp_session_can_resume(f->s, f->now), 1);
    expect_log(f, "");
    login_to(f, FEAT_PLAIN, FEAT_BIND_SM);
    assert_out(f, "resume/h=0");
    fix_free(f);

    /* not resumable: closed properly */
    c.mode = XMPP_SM_ACKS;
    f = up_cfg(&c, ENABLED(""));
    t0 = f->now;
    assert_int_equal(send_msg(f, "m1", 1), XMPP_OK);
    timeout_at(f, t0 + 200);
    take(f);
    timeout_at(f, t0 + 200 + 60000);
    assert_int_equal(f->cause, XMPP_CAUSE_TIMEOUT);
    assert_out(f, "END");
    fix_free(f);
    c.mode = XMPP_SM_RESUME;

    /* with keepalive: the keepalive timeout bounds the wait, and the idle
     * probe is an <r/>, not a ping */
    c.ka_idle = 10000;
    c.ka_timeout = 5000;
    f = up_cfg(&c, UP_RESUMABLE);
    t0 = f->now;
    assert_int_equal(xmpp_session_next_deadline(f->s), t0 + 10000);
    timeout_at(f, t0 + 10000);
    assert_out(f, "r");
    take(f);
    server(f, ACK("0"));
    assert_int_equal(f->closed, 0);
    assert_int_equal(send_msg(f, "m1", 1), XMPP_OK);
    timeout_at(f, f->now + 200);
    assert_out(f, "message:m1 r");
    timeout_at(f, f->now + 4999);
    assert_int_equal(f->closed, 0);
    timeout_at(f, f->now + 1);
    assert_int_equal(f->closed, 1);
    assert_int_equal(f->cause, XMPP_CAUSE_TIMEOUT);
    fix_free(f);
}

/* #66: lost between sending and <a/>, then resumed */
static void test_resume(void **state) {
    struct fix *f = up(UP_RESUMABLE);
    struct coll c;
    (void)state;
    assert_int_equal(send_msg(f, "m1", 1), XMPP_OK);
    assert_int_equal(send_pres(f, "p2"), XMPP_OK);
    assert_int_equal(send_msg(f, "m3", 1), XMPP_OK);
    server(f, ACK("1"));
    expect_log(f, "A:m1 ");
    server(f, MSG_IN("i1"));
    server(f, MSG_IN("i2"));
    assert_int_equal(xmpp_session_transport_closed(f->s, XMPP_CAUSE_TCP, "reset"), XMPP_OK);
    assert_int_equal(f->closed, 1);
    assert_int_equal(f->cause, XMPP_CAUSE_TCP);
    assert_int_equal(xmpp_session_can_resume(f->s, f->now), 1);
    assert_int_equal(xmpp_session_sm_queue(f->s, NULL, NULL, NULL), 0);
    /* given while disconnected: queued */
    assert_int_equal(send_msg(f, "m4", 1), XMPP_OK);
    queue_is(f, 2, 3);
    expect_log(f, "");
    /* the new connection: SM offered before authentication is ignored */
    f->now += 3000;
    login_to(f, FEAT_PLAIN_SM, FEAT_BIND_SM);
    /* <resume/> instead of binding */
    assert_out(f, "resume/h=2");
    parse_out(f, &c);
    assert_string_equal(xmpp_stanza_ns(c.el[0]), NS_SM);
    assert_string_equal(xmpp_stanza_attr(c.el[0], "previd"), "sm-1");
    coll_free(&c);
    assert_int_equal(f->ready, 1);
    take(f);
    server(f, "<resumed xmlns='urn:xmpp:sm:3' h='2' previd='sm-1'/>");
    expect_log(f, "A:p2 ");
    assert_int_equal(f->ready, 2);
    assert_int_equal(xmpp_session_resumed(f->s), 1);
    assert_string_equal(f->bound, BOUND);
    assert_string_equal(xmpp_session_jid(f->s), BOUND);
    /* exactly what the server did not get, with the same ids, no <delay/> */
    assert_out(f, "message:m3 message:m4");
    parse_out(f, &c);
    check_delay(c.el[0], 0);
    check_delay(c.el[1], 0);
    coll_free(&c);
    queue_is(f, 2, 2);
    server(f, ACK("4"));
    expect_log(f, "A:m3 A:m4 ");
    /* inbound counting goes on from the old stream's h */
    take(f);
    server(f, R);
    assert_out(f, "a/h=2");
    take(f);
    server(f, MSG_IN("i3"));
    server(f, R);
    assert_out(f, "a/h=3");
    assert_int_equal(f->closed, 1);
    fix_free(f);
}

static void test_resume_wrong_previd(void **state) {
    struct fix *f = up(UP_RESUMABLE);
    (void)state;
    assert_int_equal(send_msg(f, "m1", 1), XMPP_OK);
    assert_int_equal(xmpp_session_transport_closed(f->s, XMPP_CAUSE_TCP, NULL), XMPP_OK);
    login_to(f, FEAT_PLAIN, FEAT_BIND_SM);
    assert_out(f, "resume/h=0");
    take(f);
    server(f, "<resumed xmlns='urn:xmpp:sm:3' h='0' previd='sm-2'/>");
    assert_int_equal(f->closed, 2);
    assert_int_equal(f->cause, XMPP_CAUSE_PROTOCOL);
    assert_int_equal(f->ready, 1);
    assert_out(f, "error END");
    expect_log(f, "");
    queue_is(f, 1, 1);
    fix_free(f);
    /* no previd at all */
    f = up(UP_RESUMABLE);
    assert_int_equal(xmpp_session_transport_closed(f->s, XMPP_CAUSE_TCP, NULL), XMPP_OK);
    login_to(f, FEAT_PLAIN, FEAT_BIND_SM);
    take(f);
    server(f, "<resumed xmlns='urn:xmpp:sm:3' h='0'/>");
    assert_int_equal(f->cause, XMPP_CAUSE_PROTOCOL);
    assert_int_equal(f->ready, 1);
    fix_free(f);
}

/* #63: <failed/> → a new session; messages and presences re-sent with
 * <delay/> and their ids (SM-06), IQs handed back */
static void test_resume_failed_resend(void **state) {
    struct fix *f = up(UP_RESUMABLE);
    struct coll c;
    (void)state;
    assert_int_equal(send_msg(f, "m1", 1), XMPP_OK);
    assert_int_equal(send_pres(f, "p1"), XMPP_OK);
    assert_int_equal(send_iq(f, "q1"), XMPP_OK);
    assert_int_equal(send_msg(f, "m2", 0), XMPP_OK);
    assert_int_equal(xmpp_session_transport_closed(f->s, XMPP_CAUSE_TCP, NULL), XMPP_OK);
    assert_int_equal(send_msg(f, "m3", 1), XMPP_OK); /* never written */
    login_to(f, FEAT_PLAIN, FEAT_BIND_SM);
    assert_out(f, "resume/h=0");
    take(f);
    server(f, "<failed xmlns='urn:xmpp:sm:3'><item-not-found "
              "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>");
    expect_log(f, "R:q1 ");
    assert_int_equal(f->closed, 1);
    assert_int_equal(xmpp_session_can_resume(f->s, f->now), 0);
    /* a fresh bind (a new resource this time), then enable */
    bind_reply(f, "alice@example.com/r-2");
    assert_int_equal(f->ready, 1);
    enable(f, 1, ENABLED("id='sm-2' resume='true'"));
    assert_int_equal(f->ready, 2);
    assert_int_equal(xmpp_session_resumed(f->s), 0);
    assert_string_equal(f->bound, "alice@example.com/r-2");
    assert_out(f, "message:m1 presence:p1 message:m2 message:m3");
    parse_out(f, &c);
    check_delay(c.el[0], 1);
    check_delay(c.el[1], 1);
    check_delay(c.el[2], 1);
    check_delay(c.el[3], 0); /* never sent before */
    coll_free(&c);
    queue_is(f, 4, 4);
    /* counted on the new stream from 1 */
    server(f, ACK("4"));
    expect_log(f, "A:m1 A:p1 A:m3 ");
    queue_is(f, 0, 0);
    fix_free(f);
}

static void test_resume_failed_return(void **state) {
    struct cfg c = defcfg();
    struct fix *f;
    (void)state;
    c.policy = XMPP_SM_POLICY_RETURN;
    f = up_cfg(&c, UP_RESUMABLE);
    assert_int_equal(send_msg(f, "m1", 1), XMPP_OK);
    assert_int_equal(send_pres(f, "p1"), XMPP_OK);
    assert_int_equal(send_iq(f, "q1"), XMPP_OK);
    assert_int_equal(send_msg(f, "m2", 0), XMPP_OK);
    assert_int_equal(xmpp_session_transport_closed(f->s, XMPP_CAUSE_TCP, NULL), XMPP_OK);
    assert_int_equal(send_msg(f, "m3", 1), XMPP_OK);
    login_to(f, FEAT_PLAIN, FEAT_BIND_SM);
    take(f);
    server(f, "<failed xmlns='urn:xmpp:sm:3'/>");
    expect_log(f, "R:m1 R:p1 R:q1 G:m2 ");
    bind_reply(f, BOUND);
    enable(f, 1, ENABLED(""));
    assert_out(f, "message:m3"); /* only what was never written */
    server(f, ACK("1"));
    expect_log(f, "A:m3 ");
    fix_free(f);
}

static void test_resume_failed_with_h(void **state) {
    struct fix *f = up(UP_RESUMABLE);
    (void)state;
    assert_int_equal(send_msg(f, "m1", 1), XMPP_OK);
    assert_int_equal(send_msg(f, "m2", 1), XMPP_OK);
    assert_int_equal(send_msg(f, "m3", 1), XMPP_OK);
    server(f, ACK("1"));
    expect_log(f, "A:m1 ");
    assert_int_equal(xmpp_session_transport_closed(f->s, XMPP_CAUSE_TCP, NULL), XMPP_OK);
    login_to(f, FEAT_PLAIN, FEAT_BIND_SM);
    take(f);
    /* the server tells what it handled before the session expired */
    server(f, "<failed xmlns='urn:xmpp:sm:3' h='2'/>");
    expect_log(f, "A:m2 ");
    bind_reply(f, BOUND);
    enable(f, 1, ENABLED(""));
    assert_out(f, "message:m3");
    fix_free(f);

    /* an h too high there is a protocol error like anywhere else */
    f = up(UP_RESUMABLE);
    assert_int_equal(send_msg(f, "m1", 1), XMPP_OK);
    assert_int_equal(xmpp_session_transport_closed(f->s, XMPP_CAUSE_TCP, NULL), XMPP_OK);
    login_to(f, FEAT_PLAIN, FEAT_BIND_SM);
    take(f);
    server(f, "<failed xmlns='urn:xmpp:sm:3' h='5'/>");
    assert_int_equal(f->cause, XMPP_CAUSE_PROTOCOL);
    assert_out(f, "error END");
    expect_log(f, "");
    fix_free(f);
}

static void test_no_resume_after_close_or_stream_error(void **state) {
    struct fix *f = up(UP_RESUMABLE);
    (void)state;
    /* graceful close with something unacknowledged */
    assert_int_equal(send_msg(f, "m1", 1), XMPP_OK);
    assert_int_equal(xmpp_session_close(f->s), XMPP_OK);
    server(f, "</stream:stream>");
    assert_int_equal(f->cause, XMPP_CAUSE_LOCAL_CLOSE);
    assert_int_equal(xmpp_session_can_resume(f->s, f->now), 0);
    login_to(f, FEAT_PLAIN, FEAT_BIND_SM);
    bind_reply(f, BOUND); /* asserts a bind and nothing else */
    enable(f, 1, ENABLED(""));
    assert_out(f, "message:m1");
    fix_free(f);

    /* a stream error from the server */
    f = up(UP_RESUMABLE);
    assert_int_equal(send_msg(f, "m1", 1), XMPP_OK);
    server(f, "<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
              "</stream:error>");
    assert_int_equal(f->cause, XMPP_CAUSE_STREAM_ERROR);
    assert_int_equal(xmpp_session_can_resume(f->s, f->now), 0);
    login_to(f, FEAT_PLAIN, FEAT_BIND_SM);
    bind_reply(f, BOUND);
    enable(f, 1, ENABLED(""));
    assert_out(f, "message:m1");
    fix_free(f);

    /* closed locally while still negotiating the reconnection */
    f = up(UP_RESUMABLE);
    assert_int_equal(xmpp_session_transport_closed(f->s, XMPP_CAUSE_TCP, NULL), XMPP_OK);
    assert_int_equal(xmpp_session_can_resume(f->s, f->now), 1);
    assert_int_equal(xmpp_session_set_password(f->s, "secret"), XMPP_OK);
    assert_int_equal(xmpp_session_start(f->s, f->now), XMPP_OK);
    assert_int_equal(xmpp_session_close(f->s), XMPP_OK);
    assert_int_equal(f->cause, XMPP_CAUSE_LOCAL_CLOSE);
    assert_int_equal(xmpp_session_can_resume(f->s, f->now), 0);
    fix_free(f);

    /* the server no longer offers SM: a new session, re-sent */
    f = up(UP_RESUMABLE);
    assert_int_equal(send_msg(f, "m1", 1), XMPP_OK);
    assert_int_equal(xmpp_session_transport_closed(f->s, XMPP_CAUSE_TCP, NULL), XMPP_OK);
    take(f);
    login_to(f, FEAT_PLAIN, FEAT_BIND);
    bind_reply(f, BOUND);
    assert_int_equal(f->ready, 2);
    assert_out(f, "message:m1");
    expect_log(f, "U:m1 ");
    fix_free(f);
}

static void test_queue_bound(void **state) {
    struct cfg c = defcfg();
    struct fix *f;
    size_t bytes = 0;
    (void)state;
    /* SM-07: at most three stanzas */
    c.max_stanzas = 3;
    c.max_bytes = 1 << 20;
    f = up_cfg(&c, UP_RESUMABLE);
    assert_int_equal(send_msg(f, "m1", 1), XMPP_OK);
    assert_int_equal(send_msg(f, "m2", 1), XMPP_OK); /* half full: ask for an ack */
    assert_out(f, "message:m1 message:m2 r");
    assert_int_equal(send_msg(f, "m3", 1), XMPP_OK);
    take(f);
    assert_int_equal(send_msg(f, "m4", 1), XMPP_ERR_LIMIT);
    assert_int_equal(send_msg(f, "m4", 0), XMPP_ERR_LIMIT);
    assert_int_equal(f->out_len, 0); /* refused: nothing written, no second <r/> */
    queue_is(f, 3, 3);
    expect_log(f, ""); /* a refused stanza has no fate */
    server(f, ACK("1"));
    expect_log(f, "A:m1 ");
    assert_int_equal(send_msg(f, "m4", 1), XMPP_OK);
    assert_int_equal(send_msg(f, "m5", 1), XMPP_ERR_LIMIT);
    /* the bound holds while disconnected too */
    assert_int_equal(xmpp_session_transport_closed(f->s, XMPP_CAUSE_TCP, NULL), XMPP_OK);
    assert_int_equal(send_msg(f, "m5", 1), XMPP_ERR_LIMIT);
    fix_free(f);

    /* bytes: measure one message, allow two and a half */
    c = defcfg();
    f = up_cfg(&c, UP_RESUMABLE);
    assert_int_equal(send_msg(f, "m1", 1), XMPP_OK);
    xmpp_session_sm_queue(f->s, NULL, NULL, &bytes);
    assert_int_equal(bytes, f->out_len);
    fix_free(f);
    c.max_stanzas = 100;
    c.max_bytes = bytes * 5 / 2;
    f = up_cfg(&c, UP_RESUMABLE);
    assert_int_equal(send_msg(f, "m1", 1), XMPP_OK);
    assert_int_equal(send_msg(f, "m2", 1), XMPP_OK);
    assert_int_equal(send_msg(f, "m3", 1), XMPP_ERR_LIMIT);
    queue_is(f, 2, 2);
    server(f, ACK("1"));
    assert_int_equal(send_msg(f, "m3", 1), XMPP_OK);
    assert_int_equal(send_msg(f, "m4", 1), XMPP_ERR_LIMIT);
    server(f, ACK("3"));
    assert_int_equal(send_msg(f, "m4", 1), XMPP_OK);
    expect_log(f, "A:m1 A:m2 A:m3 ");
    fix_free(f);
}

static void test_send_before_ready(void **state) {
    struct cfg c = defcfg();
    struct fix *f = fix_new(&c);
    (void)state;
    /* before the first start: queued, written once SM is enabled */
    assert_int_equal(send_msg(f, "m1", 1), XMPP_OK);
    assert_int_equal(send_pres(f, "p1"), XMPP_OK);
    queue_is(f, 0, 2);
    login_to(f, FEAT_PLAIN, FEAT_BIND_SM);
    bind_reply(f, BOUND);
    assert_null(strstr(f->out, "<message"));
    assert_null(strstr(f->out, "<presence"));
    enable(f, 1, UP_RESUMABLE);
    assert_int_equal(f->ready, 1);
    assert_out(f, "message:m1 presence:p1");
    queue_is(f, 2, 2);
    server(f, ACK("2"));
    expect_log(f, "A:m1 A:p1 ");
    fix_free(f);

    /* a server without SM: written once bound, untracked */
    f = fix_new(&c);
    assert_int_equal(send_msg(f, "m1", 1), XMPP_OK);
    assert_int_equal(send_msg(f, "m2", 0), XMPP_OK);
    login_to(f, FEAT_PLAIN, FEAT_BIND);
    bind_reply(f, BOUND);
    assert_int_equal(f->ready, 1);
    assert_out(f, "message:m1 message:m2");
    expect_log(f, "U:m1 ");
    queue_is(f, 0, 0);
    fix_free(f);

    /* closing: refused */
    f = up(UP_RESUMABLE);
    assert_int_equal(xmpp_session_close(f->s), XMPP_OK);
    assert_int_equal(send_msg(f, "m1", 1), XMPP_ERR_STATE);
    fix_free(f);
}

static void test_free_returns_once(void **state) {
    struct fix *f = up(UP_RESUMABLE);
    (void)state;
    assert_int_equal(send_msg(f, "m1", 1), XMPP_OK);
    assert_int_equal(send_msg(f, "m2", 0), XMPP_OK);
    server(f, ACK("1"));
    expect_log(f, "A:m1 ");
    assert_int_equal(xmpp_session_transport_closed(f->s, XMPP_CAUSE_TCP, NULL), XMPP_OK);
    assert_int_equal(send_msg(f, "m3", 1), XMPP_OK); /* pending */
    xmpp_session_free(f->s);
    f->s = NULL;
    expect_log(f, "G:m2 R:m3 ");
    fix_free(f);

    /* an application that sends a returned stanza again from the callback
     * must not keep the session from going away */
    f = up(UP_RESUMABLE);
    f->on_returned = 2;
    assert_int_equal(send_msg(f, "m1", 1), XMPP_OK);
    xmpp_session_free(f->s);
    f->s = NULL;
    assert_int_equal(f->resent, 1);
    expect_log(f, "R:m1 ");
    fix_free(f);
}

static void test_graceful_close(void **state) {
    struct fix *f = up(UP_RESUMABLE);
    (void)state;
    server(f, MSG_IN("i1"));
    assert_int_equal(send_msg(f, "m1", 1), XMPP_OK);
    assert_int_equal(send_msg(f, "m2", 1), XMPP_OK);
    take(f);
    assert_int_equal(xmpp_session_close(f->s), XMPP_OK);
    pump(f);
    /* what we handled, then a last request, then the end */
    assert_out(f, "a/h=1 r END");
    take(f);
    /* the answer still completes the stanzas */
    server(f, ACK("2"));
    expect_log(f, "A:m1 A:m2 ");
    /* nothing may follow our </stream:stream> */
    server(f, R);
    server(f, MSG_IN("i2"));
    assert_int_equal(f->out_len, 0);
    server(f, "</stream:stream>");
    assert_int_equal(f->cause, XMPP_CAUSE_LOCAL_CLOSE);
    assert_int_equal(f->out_len, 0);
    fix_free(f);

    /* a stream error after our close: nothing more written either */
    f = up(UP_RESUMABLE);
    assert_int_equal(xmpp_session_close(f->s), XMPP_OK);
    pump(f);
    take(f);
    server(f, "<stream:error><system-shutdown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
              "</stream:error>");
    assert_int_equal(f->cause, XMPP_CAUSE_STREAM_ERROR);
    assert_int_equal(f->out_len, 0);
    fix_free(f);

    /* all acknowledged: no <r/> */
    f = up(UP_RESUMABLE);
    assert_int_equal(xmpp_session_close(f->s), XMPP_OK);
    pump(f);
    assert_out(f, "a/h=0 END");
    take(f);
    /* a bad ack after our close: the session ends, still nothing written */
    server(f, ACK("7"));
    assert_int_equal(f->closed, 1);
    assert_int_equal(f->out_len, 0);
    fix_free(f);
}

/* Stanzas the server sent before it enabled SM: delivered, not counted;
 * and whatever we send meanwhile is counted by the server, so it must be
 * counted (and tracked) by us too. */
static void test_stanzas_before_enabled(void **state) {
    struct cfg c = defcfg();
    struct fix *f = fix_new(&c);
    (void)state;
    login_to(f, FEAT_PLAIN, FEAT_BIND_SM);
    bind_reply(f, BOUND);
    if (!f->enable_piped)
        assert_out(f, "enable");
    take(f);
    server(f, MSG_IN("e1"));
    assert_int_equal(f->handled, 1);
    assert_int_equal(f->ready, 0);
    server(f, UP_RESUMABLE);
    assert_int_equal(f->ready, 1);
    take(f);
    server(f, R);
    assert_out(f, "a/h=0");
    take(f);
    server(f, MSG_IN("i1"));
    server(f, R);
    assert_out(f, "a/h=1");
    fix_free(f);

    /* the early stanzas are answered: an IQ error by the library, a message
     * by the application's handler */
    f = fix_new(&c);
    login_to(f, FEAT_PLAIN, FEAT_BIND_SM);
    bind_reply(f, BOUND);
    take(f);
    f->early_reply = 1;
    server(f, "<iq type='get' id='q1' from='example.com'><query xmlns='urn:x:unknown'/></iq>"
              MSG_IN("e1"));
    /* the server counts what follows our <enable/>: ours are held until
     * <enabled/> and written as the first counted stanzas */
    assert_int_equal(f->out_len, 0);
    server(f, UP_RESUMABLE);
    assert_int_equal(f->ready, 1);
    assert_out(f, "iq:q1 message:reply");
    queue_is(f, 2, 2);
    take(f);
    server(f, ACK("2"));
    expect_log(f, "A:reply ");
    assert_int_equal(f->closed, 0);
    queue_is(f, 0, 0);
    fix_free(f);

    /* ... and if the server then refuses SM, they go out untracked */
    f = fix_new(&c);
    login_to(f, FEAT_PLAIN, FEAT_BIND_SM);
    bind_reply(f, BOUND);
    take(f);
    f->early_reply = 1;
    server(f, MSG_IN("e1"));
    server(f, "<failed xmlns='urn:xmpp:sm:3'/>");
    assert_int_equal(f->ready, 1);
    assert_out(f, "message:reply");
    expect_log(f, "U:reply ");
    fix_free(f);
}

static void test_location_max(void **state) {
    struct fix *f = up(ENABLED("id='sm-1' resume='1' max='300' location='alt.example.com:5223'"));
    uint64_t lost;
    (void)state;
    assert_string_equal(xmpp_session_sm_location(f->s), "alt.example.com:5223");
    assert_int_equal(send_msg(f, "m1", 1), XMPP_OK);
    /* the loss is dated with the session's time (the last recv) */
    f->now = 50000;
    server(f, MSG_IN("i1"));
    lost = f->now;
    assert_int_equal(xmpp_session_transport_closed(f->s, XMPP_CAUSE_TCP, NULL), XMPP_OK);
    assert_int_equal(xmpp_session_can_resume(f->s, lost), 1);
    assert_int_equal(xmpp_session_can_resume(f->s, lost + 300000), 1);
    assert_int_equal(xmpp_session_can_resume(f->s, lost + 300001), 0);
    /* a start after the server's max: no resumption attempted */
    f->now = lost + 300001;
    login_to(f, FEAT_PLAIN, FEAT_BIND_SM);
    bind_reply(f, BOUND);
    enable(f, 1, ENABLED(""));
    assert_out(f, "message:m1");
    assert_null(xmpp_session_sm_location(f->s));
    fix_free(f);

    /* within max: resumed */
    f = up(ENABLED("id='sm-1' resume='true' max='300'"));
    f->now = 50000;
    server(f, MSG_IN("i1"));
    assert_int_equal(xmpp_session_transport_closed(f->s, XMPP_CAUSE_TCP, NULL), XMPP_OK);
    f->now += 300000;
    login_to(f, FEAT_PLAIN, FEAT_BIND_SM);
    assert_out(f, "resume/h=1");
    fix_free(f);

    /* no max: the server decides */
    f = up(ENABLED("id='sm-1' resume='true'"));
    assert_int_equal(xmpp_session_transport_closed(f->s, XMPP_CAUSE_TCP, NULL), XMPP_OK);
    assert_int_equal(xmpp_session_can_resume(f->s, f->now + 86400000u), 1);
    fix_free(f);
}

/* The id is opaque and may hold any character allowed in an attribute:
 * it must reach the server unchanged. */
static void test_previd_escaping(void **state) {
    struct fix *f = up(ENABLED("id='a&amp;b&lt;c&gt;d&apos;e&quot;f&#10;g&#9;h&#13;i' resume='true'"));
    struct coll c;
    (void)state;
    assert_int_equal(xmpp_session_transport_closed(f->s, XMPP_CAUSE_TCP, NULL), XMPP_OK);
    login_to(f, FEAT_PLAIN, FEAT_BIND_SM);
    parse_out(f, &c);
    assert_int_equal(c.n, 1);
    assert_string_equal(xmpp_stanza_name(c.el[0]), "resume");
    assert_string_equal(xmpp_stanza_attr(c.el[0], "previd"), "a&b<c>d'e\"f\ng\th\ri");
    coll_free(&c);
    take(f);
    server(f, "<resumed xmlns='urn:xmpp:sm:3' h='0' "
              "previd='a&amp;b&lt;c&gt;d&apos;e&quot;f&#10;g&#9;h&#13;i'/>");
    assert_int_equal(xmpp_session_resumed(f->s), 1);
    fix_free(f);
}

/* The application may close (or send) from any fate callback, also while
 * the session is still negotiating the reconnection. */
static void test_callbacks_during_negotiation(void **state) {
    struct cfg c = defcfg();
    struct fix *f;
    (void)state;
    /* closing from a RETURNED callback fired by <failed/> */
    c.policy = XMPP_SM_POLICY_RETURN;
    f = up_cfg(&c, UP_RESUMABLE);
    assert_int_equal(send_msg(f, "m1", 1), XMPP_OK);
    assert_int_equal(xmpp_session_transport_closed(f->s, XMPP_CAUSE_TCP, NULL), XMPP_OK);
    login_to(f, FEAT_PLAIN, FEAT_BIND_SM);
    take(f);
    f->on_returned = 1;
    server(f, "<failed xmlns='urn:xmpp:sm:3'/>");
    expect_log(f, "R:m1 ");
    assert_out(f, "END"); /* no bind after our </stream:stream> */
    assert_int_equal(xmpp_session_get_state(f->s), XMPP_STATE_CLOSING);
    server(f, "</stream:stream>");
    assert_int_equal(f->cause, XMPP_CAUSE_LOCAL_CLOSE);
    assert_int_equal(f->ready, 1);
    fix_free(f);

    /* closing from a RETURNED callback fired when resumption is not even
     * tried (the server stopped offering SM) */
    f = up_cfg(&c, UP_RESUMABLE);
    assert_int_equal(send_msg(f, "m1", 1), XMPP_OK);
    assert_int_equal(xmpp_session_transport_closed(f->s, XMPP_CAUSE_TCP, NULL), XMPP_OK);
    f->on_returned = 1;
    login_to(f, FEAT_PLAIN, FEAT_BIND);
    expect_log(f, "R:m1 ");
    assert_out(f, "END");
    assert_int_equal(xmpp_session_get_state(f->s), XMPP_STATE_CLOSING);
    fix_free(f);

    /* closing from an ACKED callback fired by <resumed/>: no ready, no
     * re-sending after our </stream:stream> */
    f = up(UP_RESUMABLE);
    assert_int_equal(send_msg(f, "m1", 1), XMPP_OK);
    assert_int_equal(send_msg(f, "m2", 1), XMPP_OK);
    assert_int_equal(xmpp_session_transport_closed(f->s, XMPP_CAUSE_TCP, NULL), XMPP_OK);
    login_to(f, FEAT_PLAIN, FEAT_BIND_SM);
    take(f);
    f->close_on_ack = 1;
    server(f, "<resumed xmlns='urn:xmpp:sm:3' h='1' previd='sm-1'/>");
    expect_log(f, "A:m1 ");
    assert_out(f, "END");
    assert_int_equal(f->ready, 1);
    assert_int_equal(xmpp_session_get_state(f->s), XMPP_STATE_CLOSING);
    fix_free(f);

    /* the same from the acks of <failed h/> */
    f = up(UP_RESUMABLE);
    assert_int_equal(send_msg(f, "m1", 1), XMPP_OK);
    assert_int_equal(send_msg(f, "m2", 1), XMPP_OK);
    assert_int_equal(xmpp_session_transport_closed(f->s, XMPP_CAUSE_TCP, NULL), XMPP_OK);
    login_to(f, FEAT_PLAIN, FEAT_BIND_SM);
    take(f);
    f->close_on_ack = 1;
    server(f, "<failed xmlns='urn:xmpp:sm:3' h='1'/>");
    expect_log(f, "A:m1 ");
    assert_out(f, "END");
    assert_int_equal(xmpp_session_get_state(f->s), XMPP_STATE_CLOSING);
    fix_free(f);
}

/* ---- export and import (SM-08) */
static void test_export_import(void **state) {
    struct fix *a = up(ENABLED("id='rt-1' resume='true' max='600' location='alt.example.com'"));
    struct cfg c = defcfg();
    struct fix *b;
    char *doc = NULL, *doc2 = NULL;
    size_t len = 0, len2 = 0;
    (void)state;
    assert_int_equal(send_msg(a, "m1", 1), XMPP_OK);
    assert_int_equal(send_msg(a, "m2", 1), XMPP_OK);
    assert_int_equal(send_pres(a, "p1"), XMPP_OK);
    server(a, ACK("1"));
    server(a, MSG_IN("i1"));
    server(a, MSG_IN("i2"));
    assert_int_equal(xmpp_session_transport_closed(a->s, XMPP_CAUSE_TCP, NULL), XMPP_OK);
    assert_int_equal(send_msg(a, "m3", 1), XMPP_OK); /* pending */
    expect_log(a, "A:m1 ");
    assert_int_equal(xmpp_session_sm_export(a->s, &doc, &len), XMPP_OK);
    assert_int_equal(strlen(doc), len);
    assert_non_null(strstr(doc, "account=\"alice@example.com\""));
    assert_non_null(strstr(doc, "jid=\"" BOUND "\""));
    assert_non_null(strstr(doc, "id=\"rt-1\""));
    assert_non_null(strstr(doc, "location=\"alt.example.com\""));
    assert_non_null(strstr(doc, " h=\"2\" sent=\"3\" acked=\"1\" unacked=\"2\" max=\"600\""));
    assert_null(strstr(doc, "secret"));
    xmpp_session_free(a->s);
    a->s = NULL;
    expect_log(a, "R:m2 R:p1 R:m3 ");

    /* another process: same account (another resource configured) */
    c.jid = "alice@example.com/other";
    b = fix_new(&c);
    assert_int_equal(xmpp_session_sm_import(b->s, doc, len), XMPP_OK);
    assert_string_equal(xmpp_session_jid(b->s), BOUND);
    assert_int_equal(xmpp_session_can_resume(b->s, 0), 1);
    assert_string_equal(xmpp_session_sm_location(b->s), "alt.example.com");
    queue_is(b, 2, 3);
    /* exported again: the same document */
    assert_int_equal(xmpp_session_sm_export(b->s, &doc2, &len2), XMPP_OK);
    assert_int_equal(len2, len);
    assert_memory_equal(doc2, doc, len);
    xmpp_free(b->ctx, doc2);
    /* a second import on a loaded session is refused */
    assert_int_equal(xmpp_session_sm_import(b->s, doc, len), XMPP_ERR_STATE);
    /* resumes with the same counters and queue */
    login_to(b, FEAT_PLAIN, FEAT_BIND_SM);
    assert_out(b, "resume/h=2");
    take(b);
    server(b, "<resumed xmlns='urn:xmpp:sm:3' h='2' previd='rt-1'/>");
    assert_int_equal(xmpp_session_resumed(b->s), 1);
    assert_int_equal(b->ready, 1);
    assert_string_equal(b->bound, BOUND);
    assert_out(b, "presence:p1 message:m3");
    server(b, ACK("4"));
    queue_is(b, 0, 0);
    expect_log(b, ""); /* imported stanzas carry no callbacks */
    take(b);
    server(b, R);
    assert_out(b, "a/h=2");
    /* importing into a started session */
    assert_int_equal(xmpp_session_sm_import(b->s, doc, len), XMPP_ERR_STATE);
    xmpp_free(a->ctx, doc);
    fix_free(a);
    fix_free(b);

    /* a session that queued before its first start cannot import either */
    b = fix_new(&c);
    assert_int_equal(send_msg(b, "m1", 1), XMPP_OK);
    assert_int_equal(xmpp_session_sm_import(b->s, "", 0), XMPP_ERR_STATE);
    fix_free(b);

    /* nothing to export */
    b = fix_new(&c);
    assert_int_equal(xmpp_session_sm_export(b->s, &doc, &len), XMPP_ERR_STATE);
    assert_null(doc);
    fix_free(b);
    /* nor after a graceful close with everything acknowledged: the stream
     * is over and nothing is queued */
    b = up(UP_RESUMABLE);
    assert_int_equal(send_msg(b, "m1", 1), XMPP_OK);
    assert_int_equal(xmpp_session_close(b->s), XMPP_OK);
    server(b, ACK("1") "</stream:stream>");
    assert_int_equal(b->cause, XMPP_CAUSE_LOCAL_CLOSE);
    assert_int_equal(xmpp_session_sm_export(b->s, &doc, &len), XMPP_ERR_STATE);
    assert_null(doc);
    fix_free(b);

    /* not resumable (ACKS): the queue still travels, resumption does not */
    c = defcfg();
    c.mode = XMPP_SM_ACKS;
    a = up_cfg(&c, ENABLED(""));
    assert_int_equal(send_msg(a, "m1", 1), XMPP_OK);
    assert_int_equal(xmpp_session_transport_closed(a->s, XMPP_CAUSE_TCP, NULL), XMPP_OK);
    assert_int_equal(xmpp_session_sm_export(a->s, &doc, &len), XMPP_OK);
    assert_true(strstr(doc, " id=\"") > strstr(doc, "<q ")); /* only the message has one */
    c = defcfg();
    b = fix_new(&c);
    assert_int_equal(xmpp_session_sm_import(b->s, doc, len), XMPP_OK);
    assert_int_equal(xmpp_session_can_resume(b->s, 0), 0);
    login_to(b, FEAT_PLAIN, FEAT_BIND_SM);
    bind_reply(b, BOUND);
    enable(b, 1, ENABLED(""));
    assert_out(b, "message:m1");
    xmpp_free(a->ctx, doc);
    fix_free(a);
    fix_free(b);
}

static void import_rejected(const struct cfg *c, const char *doc, size_t len) {
    struct fix *f = fix_new(c);
    char *ex = NULL;
    int rc = xmpp_session_sm_import(f->s, doc, len);
    if (rc != XMPP_ERR_INVALID)
        fail_msg("import returned %d for: %.*s", rc, (int)len, doc);
    /* nothing loaded */
    queue_is(f, 0, 0);
    assert_null(xmpp_session_jid(f->s));
    assert_int_equal(xmpp_session_can_resume(f->s, 0), 0);
    assert_null(xmpp_session_sm_location(f->s));
    assert_int_equal(xmpp_session_sm_export(f->s, &ex, NULL), XMPP_ERR_STATE);
    /* and the session is still usable */
    login_to(f, FEAT_PLAIN, FEAT_BIND_SM);
    bind_reply(f, BOUND);
    enable(f, 1, ENABLED(""));
    assert_int_equal(f->ready, 1);
    fix_free(f);
}

#define GOOD_ATTRS "jid='" BOUND "' id='sm-1' h='0' sent='2' acked='0' unacked='2' max='300'"
#define GOOD_DOC SMS_HEAD SMS_STATE(GOOD_ATTRS) Q(SMSG("m1")) Q(SMSG("m2")) SMS_END

static void test_import_hostile(void **state) {
    static const char *const bad[] = {
        /* another account, or a bound JID of another account */
        SMS_HEAD SMS_STATE_A("mallory@example.com", "jid='mallory@example.com/r' id='x' h='0' "
                             "sent='0' acked='0' unacked='0' max='0'") SMS_END,
        SMS_HEAD SMS_STATE("jid='mallory@example.com/r' id='x' h='0' sent='0' acked='0' "
                           "unacked='0' max='0'") SMS_END,
        SMS_HEAD SMS_STATE_A("ALICE@example.com", "jid='" BOUND "' id='x' h='0' sent='0' "
                             "acked='0' unacked='0' max='0'") SMS_END,
        /* a bare or invalid bound JID; a resumable stream without one */
        SMS_HEAD SMS_STATE("jid='alice@example.com' id='x' h='0' sent='0' acked='0' "
                           "unacked='0' max='0'") SMS_END,
        SMS_HEAD SMS_STATE("jid='@@/x' id='x' h='0' sent='0' acked='0' unacked='0' max='0'")
            SMS_END,
        SMS_HEAD SMS_STATE("id='x' h='0' sent='0' acked='0' unacked='0' max='0'") SMS_END,
        /* nothing to resume and nothing queued: not a state export writes */
        SMS_HEAD SMS_STATE("jid='" BOUND "' h='0' sent='0' acked='0' unacked='0' max='0'")
            SMS_END,
        /* version */
        SMS_HEAD "<sm-state xmlns='urn:libxmpp:sm-state:1' version='2' account='alice@example.com' "
                 GOOD_ATTRS "/>" SMS_END,
        SMS_HEAD "<sm-state xmlns='urn:libxmpp:sm-state:1' account='alice@example.com' "
                 GOOD_ATTRS "/>" SMS_END,
        SMS_HEAD "<sm-state xmlns='urn:libxmpp:sm-state:2' version='1' "
                 "account='alice@example.com' " GOOD_ATTRS "/>" SMS_END,
        /* counters */
        SMS_HEAD SMS_STATE("jid='" BOUND "' id='x' h='0' sent='3' acked='0' unacked='2' max='0'")
            Q(SMSG("m1")) Q(SMSG("m2")) SMS_END,
        SMS_HEAD SMS_STATE("jid='" BOUND "' id='x' h='0' sent='3' acked='0' unacked='3' max='0'")
            Q(SMSG("m1")) Q(SMSG("m2")) SMS_END,
        SMS_HEAD SMS_STATE("jid='" BOUND "' id='x' h='0' sent='0' acked='4294967295' "
                           "unacked='1' max='0'") SMS_END,
        SMS_HEAD SMS_STATE("jid='" BOUND "' id='x' h='-1' sent='0' acked='0' unacked='0' "
                           "max='0'") SMS_END,
        SMS_HEAD SMS_STATE("jid='" BOUND "' id='x' h='0' sent='4294967296' acked='0' "
                           "unacked='0' max='0'") SMS_END,
        SMS_HEAD SMS_STATE("jid='" BOUND "' id='x' sent='0' acked='0' unacked='0' max='0'")
            SMS_END,
        SMS_HEAD SMS_STATE("jid='" BOUND "' id='x' h='0' sent='0' acked='0' unacked='0'")
            SMS_END,
        /* id and location */
        SMS_HEAD SMS_STATE("jid='" BOUND "' id='' h='0' sent='0' acked='0' unacked='0' max='0'")
            SMS_END,
        SMS_HEAD SMS_STATE("jid='" BOUND "' id='x' location='' h='0' sent='0' acked='0' "
                           "unacked='0' max='0'") SMS_END,
        /* entries that are not message, presence or iq of jabber:client */
        SMS_HEAD SMS_STATE(GOOD_ATTRS) Q(SMSG("m1")) Q("<foo xmlns='jabber:client'/>") SMS_END,
        SMS_HEAD SMS_STATE(GOOD_ATTRS) Q(SMSG("m1")) Q("<message xmlns='jabber:server'/>") SMS_END,
        SMS_HEAD SMS_STATE(GOOD_ATTRS) Q(SMSG("m1")) Q("<message/>") SMS_END,
        SMS_HEAD SMS_STATE(GOOD_ATTRS) Q(SMSG("m1")) Q("<stream:features/>") SMS_END,
        SMS_HEAD SMS_STATE(GOOD_ATTRS) Q(SMSG("m1")) Q("") SMS_END,
        SMS_HEAD SMS_STATE(GOOD_ATTRS) Q(SMSG("m1")) Q("just text") SMS_END,
        /* two stanzas in one entry */
        SMS_HEAD SMS_STATE(GOOD_ATTRS) Q(SMSG("m1") SMSG("m2")) SMS_END,
        /* entry attributes */
        SMS_HEAD SMS_STATE(GOOD_ATTRS) Q(SMSG("m1")) QE("2", SMSG("m2")) SMS_END,
        SMS_HEAD SMS_STATE(GOOD_ATTRS) Q(SMSG("m1"))
            "<q xmlns='urn:libxmpp:sm-state:1' stamp='-5' resend='0'>" SMSG("m2") "</q>" SMS_END,
        SMS_HEAD SMS_STATE(GOOD_ATTRS) Q(SMSG("m1"))
            "<q xmlns='urn:libxmpp:sm-state:1' resend='0'>" SMSG("m2") "</q>" SMS_END,
        /* structure: entries before the state, the state twice, others */
        SMS_HEAD Q(SMSG("m1")) SMS_STATE(GOOD_ATTRS) SMS_END,
        SMS_HEAD SMS_STATE(GOOD_ATTRS) SMS_STATE(GOOD_ATTRS) SMS_END,
        SMS_HEAD SMS_STATE(GOOD_ATTRS) Q(SMSG("m1")) Q(SMSG("m2"))
            "<x xmlns='urn:libxmpp:sm-state:1'/>" SMS_END,
        SMS_HEAD SMS_END,
        "<?xml version='1.0'?><stream:stream xmlns='jabber:server' "
        "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>" SMS_STATE(GOOD_ATTRS)
            Q(SMSG("m1")) Q(SMSG("m2")) SMS_END,
        "<?xml version='1.0'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams' "
        "version='1.0'>" SMS_STATE(GOOD_ATTRS) Q(SMSG("m1")) Q(SMSG("m2")) SMS_END,
        /* DTDs, entities, comments, PIs */
        "<?xml version='1.0'?><!DOCTYPE stream:stream [<!ENTITY a 'alice@example.com'>]>"
        "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
        "version='1.0'>" SMS_STATE_A("&a;", GOOD_ATTRS) Q(SMSG("m1")) Q(SMSG("m2")) SMS_END,
        "<?xml version='1.0'?><!DOCTYPE s [<!ENTITY x 'x'><!ENTITY y '&x;&x;&x;&x;&x;&x;'>"
        "<!ENTITY z '&y;&y;&y;&y;&y;&y;&y;'>]>" GOOD_DOC,
        "<?xml version='1.0'?><!DOCTYPE s SYSTEM 'file:///etc/passwd'>" GOOD_DOC,
        SMS_HEAD SMS_STATE_A("&a;", GOOD_ATTRS) SMS_END,
        SMS_HEAD "<!-- c -->" SMS_STATE(GOOD_ATTRS) Q(SMSG("m1")) Q(SMSG("m2")) SMS_END,
        SMS_HEAD "<?pi x?>" SMS_STATE(GOOD_ATTRS) Q(SMSG("m1")) Q(SMSG("m2")) SMS_END,
        /* garbage */
        "garbage",
        "<",
        "<sm-state xmlns='urn:libxmpp:sm-state:1' version='1'/>",
        "\xef\xbb\xbf\xff\xfe",
        NULL};
    static const char nul_doc[] = SMS_HEAD "\0" SMS_END;
    struct cfg c = defcfg();
    struct fix *f;
    char big[4096], id[1100], loc[400];
    size_t i, good_len = strlen(GOOD_DOC);
    (void)state;
    /* the reference document is fine */
    f = fix_new(&c);
    assert_int_equal(xmpp_session_sm_import(f->s, GOOD_DOC, good_len), XMPP_OK);
    queue_is(f, 2, 2);
    fix_free(f);
    for (i = 0; bad[i]; i++)
        import_rejected(&c, bad[i], strlen(bad[i]));
    import_rejected(&c, nul_doc, sizeof(nul_doc) - 1);
    import_rejected(&c, "", 0);
    import_rejected(&c, NULL, 0);
    /* every truncation of a valid document */
    for (i = 0; i < good_len; i++)
        import_rejected(&c, GOOD_DOC, i);
    /* an id and a location over their bounds */
    memset(id, 'i', 1025);
    id[1025] = '\0';
    memset(loc, 'l', 301);
    loc[301] = '\0';
    snprintf(big, sizeof(big), SMS_HEAD SMS_STATE("jid='" BOUND "' id='%s' h='0' sent='0' "
                                                  "acked='0' unacked='0' max='0'") SMS_END, id);
    import_rejected(&c, big, strlen(big));
    id[1024] = '\0'; /* at the bound: fine */
    snprintf(big, sizeof(big), SMS_HEAD SMS_STATE("jid='" BOUND "' id='%s' h='0' sent='0' "
                                                  "acked='0' unacked='0' max='0'") SMS_END, id);
    f = fix_new(&c);
    assert_int_equal(xmpp_session_sm_import(f->s, big, strlen(big)), XMPP_OK);
    fix_free(f);
    snprintf(big, sizeof(big), SMS_HEAD SMS_STATE("jid='" BOUND "' id='x' location='%s' h='0' "
                                                  "sent='0' acked='0' unacked='0' max='0'") SMS_END,
             loc);
    import_rejected(&c, big, strlen(big));
    /* more entries than this session's queue takes, in count or bytes */
    c.max_stanzas = 1;
    c.max_bytes = 1 << 20;
    import_rejected(&c, GOOD_DOC, good_len);
    c.max_stanzas = 2;
    f = fix_new(&c);
    assert_int_equal(xmpp_session_sm_import(f->s, GOOD_DOC, good_len), XMPP_OK);
    fix_free(f);
    c.max_stanzas = 100;
    c.max_bytes = 100; /* one message is about 80 bytes */
    import_rejected(&c, GOOD_DOC, good_len);
    /* a namespace name may hold '}' (it is any URI reference): an entry
     * with such an attribute exports to a document that imports again */
    {
        static const char doc[] =
            SMS_HEAD SMS_STATE("jid='" BOUND "' id='sm-1' h='0' sent='1' acked='0' unacked='1' "
                               "max='0'")
            Q("<message xmlns='jabber:client' xmlns:p='urn:x:a}b' p:c='v' id='m1'/>") SMS_END;
        char *ex = NULL, *ex2 = NULL;
        size_t exl = 0, exl2 = 0;
        struct fix *g;
        f = fix_new(&c);
        g = fix_new(&c);
        assert_int_equal(xmpp_session_sm_import(f->s, doc, strlen(doc)), XMPP_OK);
        assert_int_equal(xmpp_session_sm_export(f->s, &ex, &exl), XMPP_OK);
        assert_int_equal(xmpp_session_sm_import(g->s, ex, exl), XMPP_OK);
        assert_int_equal(xmpp_session_sm_export(g->s, &ex2, &exl2), XMPP_OK);
        assert_string_equal(ex2, ex);
        xmpp_free(f->ctx, ex);
        xmpp_free(g->ctx, ex2);
        fix_free(g);
        fix_free(f);
    }
    /* a session of another account rejects a valid document */
    c = defcfg();
    c.jid = "bob@example.com";
    f = fix_new(&c);
    assert_int_equal(xmpp_session_sm_import(f->s, GOOD_DOC, good_len), XMPP_ERR_INVALID);
    queue_is(f, 0, 0);
    fix_free(f);
    /* bad arguments */
    c = defcfg();
    f = fix_new(&c);
    assert_int_equal(xmpp_session_sm_import(NULL, GOOD_DOC, good_len), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_session_sm_import(f->s, NULL, 5), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_session_sm_export(f->s, NULL, NULL), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_session_sm_export(NULL, NULL, NULL), XMPP_ERR_INVALID);
    fix_free(f);
}

/* ---- allocation failure over a whole scenario (SECURITY #59) */
struct tstate {
    int ready, closed, nomem, acked, returned;
    xmpp_disconnect_cause cause;
};

static void t_ready(xmpp_session *s, const char *jid, void *ud) {
    (void)s;
    (void)jid;
    ((struct tstate *)ud)->ready++;
}

static void t_closed(xmpp_session *s, xmpp_disconnect_cause cause, void *ud) {
    struct tstate *t = ud;
    (void)s;
    t->closed++;
    t->cause = cause;
    if (cause == XMPP_CAUSE_NOMEM)
        t->nomem = 1;
}

static void t_sent(xmpp_session *s, const xmpp_stanza *st, xmpp_sent_status status, void *ud) {
    struct tstate *t = ud;
    (void)s;
    (void)st;
    if (status == XMPP_SENT_ACKED)
        t->acked++;
    else
        t->returned++;
}

/* Feeds one script line; collects the output into out (appending). */
static void t_feed(xmpp_session *s, const char *in, char *out, size_t *olen, size_t cap) {
    const void *d;
    size_t n;
    if (in)
        xmpp_session_recv(s, in, strlen(in), 0);
    xmpp_session_drain(s, &d, &n);
    if (n && *olen + n < cap) {
        memcpy(out + *olen, d, n);
        *olen += n;
        out[*olen] = '\0';
    }
    xmpp_session_consume(s, n);
}

static int t_bind(xmpp_session *s, char *out, size_t *olen, size_t cap) {
    const char *id = strstr(out, "<iq");
    char res[256];
    if (id == NULL || (id = strstr(id, "id=\"")) == NULL || strchr(id + 4, '"') == NULL)
        return -1;
    snprintf(res, sizeof(res),
             "<iq type='result' id='%.*s'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
             "<jid>" BOUND "</jid></bind></iq>",
             (int)(strchr(id + 4, '"') - id - 4), id + 4);
    *olen = 0;
    out[0] = '\0';
    t_feed(s, res, out, olen, cap);
    return 0;
}

static int t_session(xmpp_session **s, xmpp_ctx *ctx, struct tstate *t) {
    xmpp_session_options *o = NULL;
    int rc;
    if ((rc = xmpp_session_options_new(&o, ctx)) != XMPP_OK)
        return rc;
    if ((rc = xmpp_session_options_set_jid(o, "alice@example.com/r")) == XMPP_OK &&
        (rc = xmpp_session_options_set_password(o, "pw")) == XMPP_OK &&
        (rc = xmpp_session_options_allow_plaintext(o, 1)) == XMPP_OK &&
        (rc = xmpp_session_options_set_tls_mode(o, XMPP_TLS_NONE)) == XMPP_OK &&
        (rc = xmpp_session_options_set_callbacks(o, t_ready, t_closed, t)) == XMPP_OK &&
        (rc = xmpp_session_options_set_sm_policy(o, XMPP_SM_POLICY_RESEND, t_sent, t)) == XMPP_OK)
        rc = xmpp_session_new(s, ctx, o);
    xmpp_session_options_free(o);
    return rc;
}

static int t_send(xmpp_session *s, xmpp_ctx *ctx, struct tstate *t, const char *id) {
    xmpp_stanza *m = NULL;
    int rc = xmpp_message_new(&m, ctx, "chat", "bob@example.com", id, "hello");
    if (rc == XMPP_OK)
        rc = xmpp_session_send_tracked(s, m, t_sent, t);
    xmpp_stanza_unref(m);
    return rc;
}

static int torture_sm(xmpp_ctx *ctx, void *arg) {
    struct tstate t, t2;
    xmpp_session *s = NULL, *s2 = NULL;
    char out[16384];
    size_t olen = 0;
    char *doc = NULL, *doc2 = NULL;
    size_t len = 0;
    int rc, bad = 0;
    (void)arg;
    memset(&t, 0, sizeof(t));
    memset(&t2, 0, sizeof(t2));
    out[0] = '\0';
    if ((rc = t_session(&s, ctx, &t)) != XMPP_OK)
        return rc;
    /* login, bind, enable */
    if (xmpp_session_start(s, 0) != XMPP_OK)
        bad = 1;
    t_feed(s, HDR FEAT_PLAIN, out, &olen, sizeof(out));
    t_feed(s, SUCCESS, out, &olen, sizeof(out));
    olen = 0;
    out[0] = '\0';
    t_feed(s, HDR FEAT_BIND_SM, out, &olen, sizeof(out));
    if (t_bind(s, out, &olen, sizeof(out)) != 0)
        bad = 1;
    t_feed(s, ENABLED("id='t1' resume='true' max='60'"), out, &olen, sizeof(out));
    /* sends and acks */
    bad |= t_send(s, ctx, &t, "m1") != XMPP_OK;
    bad |= t_send(s, ctx, &t, "m2") != XMPP_OK;
    bad |= t_send(s, ctx, &t, "m3") != XMPP_OK;
    t_feed(s, MSG_IN("i1") R ACK("1"), out, &olen, sizeof(out));
    /* loss, a send while away, resumption */
    xmpp_session_transport_closed(s, XMPP_CAUSE_TCP, NULL);
    bad |= t_send(s, ctx, &t, "m4") != XMPP_OK;
    bad |= xmpp_session_set_password(s, "pw") != XMPP_OK;
    bad |= xmpp_session_start(s, 0) != XMPP_OK;
    t_feed(s, HDR FEAT_PLAIN, out, &olen, sizeof(out));
    t_feed(s, SUCCESS, out, &olen, sizeof(out));
    t_feed(s, HDR FEAT_BIND_SM, out, &olen, sizeof(out));
    t_feed(s, "<resumed xmlns='urn:xmpp:sm:3' h='2' previd='t1'/>", out, &olen, sizeof(out));
    bad |= !xmpp_session_resumed(s);
    t_feed(s, ACK("3"), out, &olen, sizeof(out));
    /* lost again: export, import elsewhere */
    xmpp_session_transport_closed(s, XMPP_CAUSE_TCP, NULL);
    rc = xmpp_session_sm_export(s, &doc, &len);
    if (rc == XMPP_OK) {
        rc = t_session(&s2, ctx, &t2);
        if (rc == XMPP_OK)
            rc = xmpp_session_sm_import(s2, doc, len);
        if (rc == XMPP_OK)
            rc = xmpp_session_sm_export(s2, &doc2, NULL);
        if (rc == XMPP_OK && strcmp(doc, doc2) != 0)
            bad = 1;
        xmpp_free(ctx, doc2);
        xmpp_free(ctx, doc);
    }
    bad |= rc != XMPP_OK;
    bad |= t.ready != 2 || t.acked != 3 || t.nomem;
    xmpp_session_free(s2);
    xmpp_session_free(s);
    bad |= t.returned != 1; /* m4, handed back when freed */
    return bad ? XMPP_ERR_NOMEM : 0;
}

/* ... and over a refused resumption: a stanza that came before <enabled/>
 * answered, a new bind, re-sending with <delay/>, an IQ handed back */
static int torture_sm_failed(xmpp_ctx *ctx, void *arg) {
    struct tstate t;
    xmpp_session *s = NULL;
    xmpp_stanza *iq = NULL;
    char out[16384];
    size_t olen = 0;
    int rc, bad = 0;
    (void)arg;
    memset(&t, 0, sizeof(t));
    out[0] = '\0';
    if ((rc = t_session(&s, ctx, &t)) != XMPP_OK)
        return rc;
    bad |= xmpp_session_start(s, 0) != XMPP_OK;
    t_feed(s, HDR FEAT_PLAIN, out, &olen, sizeof(out));
    t_feed(s, SUCCESS, out, &olen, sizeof(out));
    olen = 0;
    out[0] = '\0';
    t_feed(s, HDR FEAT_BIND_SM, out, &olen, sizeof(out));
    bad |= t_bind(s, out, &olen, sizeof(out)) != 0;
    t_feed(s, "<iq type='get' id='e1' from='example.com'><q xmlns='urn:x'/></iq>"
              ENABLED("id='t1' resume='true'"), out, &olen, sizeof(out));
    bad |= t_send(s, ctx, &t, "m1") != XMPP_OK;
    rc = xmpp_iq_new(&iq, ctx, "get", "example.com", "q1");
    if (rc == XMPP_OK)
        rc = xmpp_session_send_tracked(s, iq, t_sent, &t);
    xmpp_stanza_unref(iq);
    bad |= rc != XMPP_OK;
    xmpp_session_transport_closed(s, XMPP_CAUSE_TCP, NULL);
    bad |= xmpp_session_set_password(s, "pw") != XMPP_OK;
    bad |= xmpp_session_start(s, 0) != XMPP_OK;
    t_feed(s, HDR FEAT_PLAIN, out, &olen, sizeof(out));
    t_feed(s, SUCCESS, out, &olen, sizeof(out));
    t_feed(s, HDR FEAT_BIND_SM, out, &olen, sizeof(out));
    olen = 0;
    out[0] = '\0';
    t_feed(s, "<failed xmlns='urn:xmpp:sm:3' h='1'/>", out, &olen, sizeof(out));
    bad |= t_bind(s, out, &olen, sizeof(out)) != 0;
    t_feed(s, ENABLED(""), out, &olen, sizeof(out));
    bad |= strstr(out, "urn:xmpp:delay") == NULL; /* m1 again, with <delay/> */
    t_feed(s, ACK("1"), out, &olen, sizeof(out));
    bad |= t.ready != 2 || t.acked != 1 || t.returned != 1 || t.nomem || t.closed != 1;
    xmpp_session_free(s);
    return bad ? XMPP_ERR_NOMEM : 0;
}

static void test_torture(void **state) {
    (void)state;
    assert_true(th_torture(torture_sm, NULL) > 50);
    assert_true(th_torture(torture_sm_failed, NULL) > 50);
}

/* XEP-0352 across resumption: the state the server knew survives a
 * resumed stream (nothing re-sent), a change made while disconnected is
 * sent on resumption, and a new session starts from active again. */
#define FEAT_BIND_SM_CSI                                                                     \
    "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"                     \
    "<sm xmlns='urn:xmpp:sm:3'/><csi xmlns='urn:xmpp:csi:0'/></stream:features>"

static void test_csi_across_resumption(void **state) {
    struct cfg c = defcfg();
    struct fix *f = fix_new(&c);
    (void)state;
    login_to(f, FEAT_PLAIN, FEAT_BIND_SM_CSI);
    bind_reply(f, BOUND);
    enable(f, 1, UP_RESUMABLE);
    assert_int_equal(f->ready, 1);
    take(f);
    assert_int_equal(xmpp_session_set_active(f->s, 0), XMPP_OK);
    pump(f);
    assert_non_null(strstr(f->out, "<inactive xmlns='urn:xmpp:csi:0'/>"));
    /* lost and resumed: the server still knows "inactive" */
    assert_int_equal(xmpp_session_transport_closed(f->s, XMPP_CAUSE_TCP, "reset"), XMPP_OK);
    login_to(f, FEAT_PLAIN, FEAT_BIND_SM_CSI);
    take(f);
    server(f, "<resumed xmlns='urn:xmpp:sm:3' h='0' previd='sm-1'/>");
    assert_int_equal(xmpp_session_resumed(f->s), 1);
    assert_null(strstr(f->out, "urn:xmpp:csi:0"));
    /* lost again; the user comes back meanwhile: told on resumption */
    assert_int_equal(xmpp_session_transport_closed(f->s, XMPP_CAUSE_TCP, "reset"), XMPP_OK);
    assert_int_equal(xmpp_session_set_active(f->s, 1), XMPP_OK);
    login_to(f, FEAT_PLAIN, FEAT_BIND_SM_CSI);
    take(f);
    server(f, "<resumed xmlns='urn:xmpp:sm:3' h='0' previd='sm-1'/>");
    assert_non_null(strstr(f->out, "<active xmlns='urn:xmpp:csi:0'/>"));
    /* inactive again, then a refused resumption: the new session starts
     * active on the server, so "inactive" is sent after binding */
    assert_int_equal(xmpp_session_set_active(f->s, 0), XMPP_OK);
    assert_int_equal(xmpp_session_transport_closed(f->s, XMPP_CAUSE_TCP, "reset"), XMPP_OK);
    login_to(f, FEAT_PLAIN, FEAT_BIND_SM_CSI);
    take(f);
    server(f, "<failed xmlns='urn:xmpp:sm:3'/>");
    bind_reply(f, BOUND);
    enable(f, 1, ENABLED("id='sm-2' resume='true'"));
    assert_int_equal(xmpp_session_resumed(f->s), 0);
    assert_non_null(strstr(f->out, "<inactive xmlns='urn:xmpp:csi:0'/>"));
    fix_free(f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_enable_after_bind),
        cmocka_unit_test(test_not_enabled),
        cmocka_unit_test(test_acks_mode),
        cmocka_unit_test(test_answer_r),
        cmocka_unit_test(test_request_after_five),
        cmocka_unit_test(test_request_after_delay),
        cmocka_unit_test(test_ack_order_and_callbacks),
        cmocka_unit_test(test_stanza_without_namespace),
        cmocka_unit_test(test_h_wraps),
        cmocka_unit_test(test_h_too_high),
        cmocka_unit_test(test_invalid_h),
        cmocka_unit_test(test_ack_request_after_silence),
        cmocka_unit_test(test_ack_timeout),
        cmocka_unit_test(test_resume),
        cmocka_unit_test(test_csi_across_resumption),
        cmocka_unit_test(test_resume_wrong_previd),
        cmocka_unit_test(test_resume_failed_resend),
        cmocka_unit_test(test_resume_failed_return),
        cmocka_unit_test(test_resume_failed_with_h),
        cmocka_unit_test(test_no_resume_after_close_or_stream_error),
        cmocka_unit_test(test_queue_bound),
        cmocka_unit_test(test_send_before_ready),
        cmocka_unit_test(test_free_returns_once),
        cmocka_unit_test(test_graceful_close),
        cmocka_unit_test(test_stanzas_before_enabled),
        cmocka_unit_test(test_location_max),
        cmocka_unit_test(test_previd_escaping),
        cmocka_unit_test(test_callbacks_during_negotiation),
        cmocka_unit_test(test_export_import),
        cmocka_unit_test(test_import_hostile),
        cmocka_unit_test(test_torture),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
