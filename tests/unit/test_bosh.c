/* BOSH client (lib/transport/bosh.c): session creation, payload requests,
 * the held request, responses in rid order, restarts, termination,
 * rewriting lost requests, reports, the size bounds, and every terminal
 * condition and malformed response the connection manager can send;
 * allocation-failure torture. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "transport/bosh.h"
#include "testhelp.h"

#define RID0 1000ULL

static xmpp_ctx *G; /* the context of every test but the torture */

struct ev {
    int opens;
    char log[16384]; /* payloads as "name@ns|" */
    char from[64];
};

static void ev_open(void *ud, const xmpp_stanza *body) {
    struct ev *e = ud;
    const char *f = xmpp_stanza_attr(body, "from");
    e->opens++;
    snprintf(e->from, sizeof(e->from), "%s", f ? f : "");
}

static void ev_payload(void *ud, xmpp_stanza *el) {
    struct ev *e = ud;
    size_t n = strlen(e->log);
    snprintf(e->log + n, sizeof(e->log) - n, "%s@%s|", xmpp_stanza_name(el),
             xmpp_stanza_ns(el) ? xmpp_stanza_ns(el) : "");
}

static const xmpp__bosh_events EVENTS = {ev_open, ev_payload};

static xmpp__bosh *mk(xmpp_ctx *ctx, struct ev *e) {
    xmpp__bosh_config cfg;
    xmpp__bosh *b = NULL;
    memset(&cfg, 0, sizeof(cfg));
    cfg.host = "cm.example.com:5280";
    cfg.path = "/http-bind";
    cfg.to = "example.com";
    assert_int_equal(xmpp__bosh_new(&b, ctx, &cfg, RID0, &EVENTS, e), XMPP_OK);
    return b;
}

/* Makes the next request; returns its rid and leaves the HTTP text in out. */
static uint64_t request(xmpp__bosh *b, uint64_t now, char *out, size_t cap) {
    xmpp_buf buf;
    uint64_t rid = 0;
    xmpp__buf_init(&buf, G);
    assert_int_equal(xmpp__bosh_make_request(b, now, &buf, &rid), XMPP_OK);
    assert_true(buf.len < cap);
    memcpy(out, buf.data, buf.len);
    out[buf.len] = '\0';
    xmpp__buf_free(&buf);
    return rid;
}

static int respond_status(xmpp__bosh *b, uint64_t rid, int status, const char *body) {
    xmpp__http_resp *r = NULL;
    char http[65536];
    int n, rc;
    n = snprintf(http, sizeof(http),
                 "HTTP/1.1 %d X\r\nContent-Type: text/xml; charset=utf-8\r\n"
                 "Content-Length: %zu\r\n\r\n%s",
                 status, strlen(body), body);
    assert_true(n > 0 && (size_t)n < sizeof(http));
    assert_int_equal(xmpp__http_resp_new(&r, G, 0), XMPP_OK);
    assert_int_equal(xmpp__http_resp_feed(r, http, (size_t)n, NULL), XMPP_OK);
    rc = xmpp__bosh_response(b, rid, 5000, r);
    xmpp__http_resp_free(r);
    return rc;
}

static int respond(xmpp__bosh *b, uint64_t rid, const char *body) {
    return respond_status(b, rid, 200, body);
}

#define CREATED                                                                              \
    "<body xmlns='http://jabber.org/protocol/httpbind' xmlns:xmpp='urn:xmpp:xbosh' "          \
    "xmlns:stream='http://etherx.jabber.org/streams' sid='S1' wait='60' requests='2' "       \
    "hold='1' inactivity='30' polling='5' maxpause='120' ver='1.11' from='example.com' "     \
    "xmpp:version='1.0'><stream:features><mechanisms "                                       \
    "xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms>"     \
    "</stream:features></body>"

/* A session past creation. */
static xmpp__bosh *opened(xmpp_ctx *ctx, struct ev *e) {
    xmpp__bosh *b = mk(ctx, e);
    char out[4096];
    uint64_t rid;
    assert_int_equal(xmpp__bosh_want_request(b, 0), 1);
    rid = request(b, 0, out, sizeof(out));
    assert_int_equal(rid, RID0);
    assert_int_equal(respond(b, rid, CREATED), XMPP_OK);
    assert_int_equal(xmpp__bosh_state(b), XMPP_BOSH_OPEN);
    e->log[0] = '\0';
    return b;
}

static void test_create(void **state) {
    struct ev e;
    xmpp__bosh *b;
    char out[4096];
    uint64_t rid;
    (void)state;
    memset(&e, 0, sizeof(e));
    b = mk(G, &e);
    assert_int_equal(xmpp__bosh_state(b), XMPP_BOSH_CREATING);
    assert_int_equal(xmpp__bosh_want_request(b, 0), 1);
    rid = request(b, 0, out, sizeof(out));
    assert_int_equal(rid, RID0);
    assert_non_null(strstr(out, "POST /http-bind HTTP/1.1\r\n"));
    assert_non_null(strstr(out, "Host: cm.example.com:5280\r\n"));
    assert_non_null(strstr(out, "Content-Type: text/xml; charset=utf-8\r\n"));
    assert_non_null(strstr(out, "<body rid='1000' content='text/xml; charset=utf-8' hold='1' "
                                "to='example.com' wait='60' xml:lang='en' ver='1.11' "
                                "xmpp:version='1.0' xmlns:xmpp='urn:xmpp:xbosh' "
                                "xmlns='http://jabber.org/protocol/httpbind'/>"));
    /* nothing more until the creation response */
    assert_int_equal(xmpp__bosh_want_request(b, 0), 0);
    assert_int_equal(xmpp__bosh_queue(b, "<x/>", 4), XMPP_OK);
    assert_int_equal(xmpp__bosh_want_request(b, 0), 0);
    assert_int_equal(respond(b, rid, CREATED), XMPP_OK);
    assert_int_equal(e.opens, 1);
    assert_string_equal(e.from, "example.com");
    assert_string_equal(e.log, "features@http://etherx.jabber.org/streams|");
    assert_string_equal(xmpp__bosh_sid(b), "S1");
    assert_int_equal(xmpp__bosh_max_inflight(b), 2);
    /* the queued payload goes out with the sid */
    assert_int_equal(xmpp__bosh_want_request(b, 0), 1);
    rid = request(b, 0, out, sizeof(out));
    assert_int_equal(rid, RID0 + 1);
    assert_non_null(strstr(out, "<body rid='1001' sid='S1' "
                                "xmlns='http://jabber.org/protocol/httpbind'><x/></body>"));
    xmpp__bosh_free(b);
}

static void test_held_request_and_order(void **state) {
    struct ev e;
    xmpp__bosh *b;
    char out[4096];
    uint64_t held, data;
    (void)state;
    memset(&e, 0, sizeof(e));
    b = opened(G, &e);
    /* nothing queued: one empty request for the CM to hold */
    assert_int_equal(xmpp__bosh_want_request(b, 10), 1);
    held = request(b, 10, out, sizeof(out));
    assert_non_null(strstr(out, "<body rid='1001' sid='S1' "
                                "xmlns='http://jabber.org/protocol/httpbind'/>"));
    assert_int_equal(xmpp__bosh_want_request(b, 10), 0); /* one is held already */
    assert_int_equal(xmpp__bosh_queue(b, "<message xmlns='jabber:client'/>", 32), XMPP_OK);
    assert_int_equal(xmpp__bosh_want_request(b, 10), 1); /* the second connection */
    data = request(b, 10, out, sizeof(out));
    assert_int_equal(xmpp__bosh_want_request(b, 10), 0); /* requests='2' */
    assert_int_equal(xmpp__bosh_inflight(b), 2);
    /* the later response arrives first: it waits for the earlier one */
    assert_int_equal(respond(b, data, "<body xmlns='http://jabber.org/protocol/httpbind'>"
                                      "<message xmlns='jabber:client' id='2'/></body>"),
                     XMPP_OK);
    assert_string_equal(e.log, "");
    /* unqualified payloads inherit httpbind: they mean jabber:client */
    assert_int_equal(respond(b, held, "<body xmlns='http://jabber.org/protocol/httpbind'>"
                                      "<iq id='1' type='result'><q xmlns='urn:q'/></iq></body>"),
                     XMPP_OK);
    assert_string_equal(e.log, "iq@jabber:client|message@jabber:client|");
    assert_int_equal(xmpp__bosh_inflight(b), 0);
    /* an unknown rid is ignored */
    assert_int_equal(respond(b, 4242, "<body xmlns='http://jabber.org/protocol/httpbind'/>"),
                     XMPP_ERR_NOT_FOUND);
    xmpp__bosh_free(b);
}

static void test_restart_and_terminate(void **state) {
    struct ev e;
    xmpp__bosh *b;
    char out[4096];
    uint64_t rid;
    (void)state;
    memset(&e, 0, sizeof(e));
    b = opened(G, &e);
    assert_int_equal(xmpp__bosh_queue(b, "<auth/>", 7), XMPP_OK);
    assert_int_equal(xmpp__bosh_restart(b), XMPP_OK);
    assert_int_equal(xmpp__bosh_queue(b, "<iq/>", 5), XMPP_OK);
    rid = request(b, 0, out, sizeof(out));
    assert_non_null(strstr(out, "><auth/></body>"));
    assert_null(strstr(out, "<iq/>")); /* not past the restart */
    assert_int_equal(respond(b, rid, "<body xmlns='http://jabber.org/protocol/httpbind'>"
                                     "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/></body>"),
                     XMPP_OK);
    rid = request(b, 0, out, sizeof(out));
    assert_non_null(strstr(out, "<body rid='1002' sid='S1' to='example.com' xml:lang='en' "
                                "xmpp:restart='true' xmlns:xmpp='urn:xmpp:xbosh' "
                                "xmlns='http://jabber.org/protocol/httpbind'/>"));
    e.opens = 0;
    assert_int_equal(respond(b, rid, CREATED), XMPP_OK); /* features again */
    assert_int_equal(e.opens, 1);
    rid = request(b, 0, out, sizeof(out));
    assert_non_null(strstr(out, "><iq/></body>"));
    assert_int_equal(respond(b, rid, "<body xmlns='http://jabber.org/protocol/httpbind'/>"),
                     XMPP_OK);
    /* terminate with a last payload; nothing may be queued after it */
    assert_int_equal(xmpp__bosh_queue(b, "<presence type='unavailable'/>", 30), XMPP_OK);
    assert_int_equal(xmpp__bosh_terminate(b), XMPP_OK);
    assert_int_equal(xmpp__bosh_queue(b, "<late/>", 7), XMPP_ERR_STATE);
    rid = request(b, 0, out, sizeof(out));
    assert_non_null(strstr(out, "type='terminate' xmlns='http://jabber.org/protocol/httpbind'>"
                                "<presence type='unavailable'/></body>"));
    assert_int_equal(xmpp__bosh_state(b), XMPP_BOSH_TERMINATING);
    assert_int_equal(xmpp__bosh_want_request(b, 0), 0);
    assert_int_equal(respond(b, rid, "<body type='terminate' "
                                     "xmlns='http://jabber.org/protocol/httpbind'/>"),
                     XMPP_ERR_CLOSED);
    assert_int_equal(xmpp__bosh_state(b), XMPP_BOSH_CLOSED);
    assert_null(xmpp__bosh_condition(b, NULL));
    xmpp__bosh_free(b);
}

static void test_rewrite_and_report(void **state) {
    struct ev e;
    xmpp__bosh *b;
    char first[4096];
    uint64_t rid, lost = 0;
    xmpp_buf again;
    int i;
    (void)state;
    memset(&e, 0, sizeof(e));
    b = opened(G, &e);
    assert_int_equal(xmpp__bosh_queue(b, "<m/>", 4), XMPP_OK);
    rid = request(b, 100, first, sizeof(first));
    assert_int_equal(xmpp__bosh_overdue(b, 100, &lost), 0);
    /* wait (60 s) + 30 s without an answer: overdue */
    assert_int_equal(xmpp__bosh_next_deadline(b), 100 + 90000);
    assert_int_equal(xmpp__bosh_overdue(b, 100 + 90000, &lost), 1);
    assert_int_equal(lost, rid);
    xmpp__buf_init(&again, G);
    assert_int_equal(xmpp__bosh_rewrite(b, rid, 90100, &again), XMPP_OK);
    assert_int_equal(again.len, strlen(first));
    assert_memory_equal(again.data, first, again.len); /* the very same request */
    assert_int_equal(xmpp__bosh_overdue(b, 90100, &lost), 0);
    /* a report from the CM marks a request as lost at once */
    {
        char out[4096];
        uint64_t held;
        assert_int_equal(xmpp__bosh_queue(b, "<n/>", 4), XMPP_OK);
        held = request(b, 90100, out, sizeof(out));
        char body[256];
        (void)held;
        snprintf(body, sizeof(body),
                 "<body report='%llu' time='800' xmlns='http://jabber.org/protocol/httpbind'/>",
                 (unsigned long long)rid);
        /* the response for `held` cannot be processed before `rid`'s */
        assert_int_equal(respond(b, held, body), XMPP_OK);
        assert_int_equal(xmpp__bosh_overdue(b, 90100, &lost), 0); /* not processed yet */
    }
    /* three rewrites at most, then the session fails */
    for (i = 1; i < XMPP_BOSH_MAX_REWRITES; i++) {
        again.len = 0;
        assert_int_equal(xmpp__bosh_rewrite(b, rid, 90200, &again), XMPP_OK);
    }
    assert_int_equal(xmpp__bosh_rewrite(b, rid, 90300, &again), XMPP_ERR_LIMIT);
    assert_int_equal(xmpp__bosh_state(b), XMPP_BOSH_FAILED);
    assert_string_equal(xmpp__bosh_condition(b, NULL), "connection-lost");
    xmpp__buf_free(&again);
    xmpp__bosh_free(b);
}

static void test_report_processed(void **state) {
    struct ev e;
    xmpp__bosh *b;
    char out[4096], body[256];
    uint64_t a, c, lost = 0;
    (void)state;
    memset(&e, 0, sizeof(e));
    b = opened(G, &e);
    a = request(b, 0, out, sizeof(out)); /* held */
    assert_int_equal(respond(b, a, "<body xmlns='http://jabber.org/protocol/httpbind'/>"), XMPP_OK);
    assert_int_equal(xmpp__bosh_queue(b, "<m/>", 4), XMPP_OK);
    a = request(b, 0, out, sizeof(out));
    assert_int_equal(xmpp__bosh_queue(b, "<n/>", 4), XMPP_OK);
    c = request(b, 0, out, sizeof(out));
    (void)c;
    /* a's response is in; it reports that c's went missing (hypothetically) */
    snprintf(body, sizeof(body),
             "<body report='%llu' time='900' xmlns='http://jabber.org/protocol/httpbind'/>",
             (unsigned long long)c);
    assert_int_equal(respond(b, a, body), XMPP_OK);
    assert_int_equal(xmpp__bosh_overdue(b, 0, &lost), 1);
    assert_int_equal(lost, c);
    assert_int_equal(xmpp__bosh_next_deadline(b), 0);
    xmpp__bosh_free(b);
}

static void test_bounds(void **state) {
    struct ev e;
    xmpp__bosh *b;
    static char big[40 * 1024 + 1];
    char *out = malloc(200 * 1024);
    uint64_t r1, r2;
    size_t i;
    (void)state;
    memset(&e, 0, sizeof(e));
    b = opened(G, &e);
    memset(big, 'x', sizeof(big) - 1);
    big[0] = '<';
    big[sizeof(big) - 3] = '/';
    big[sizeof(big) - 2] = '>';
    for (i = 0; i < 3; i++)
        assert_int_equal(xmpp__bosh_queue(b, big, sizeof(big) - 1), XMPP_OK);
    /* at most 64 KiB of payloads per request: 40 KiB each, then 2 more */
    r1 = request(b, 0, out, 200 * 1024);
    assert_true(strlen(out) < 45 * 1024);
    r2 = request(b, 0, out, 200 * 1024);
    assert_true(strlen(out) < 45 * 1024);
    assert_int_equal(r2, r1 + 1);
    assert_int_equal(xmpp__bosh_want_request(b, 0), 0); /* two in flight */
    /* the queue is bounded */
    for (i = 0; i < 200; i++)
        if (xmpp__bosh_queue(b, big, sizeof(big) - 1) != XMPP_OK)
            break;
    assert_true(i < 200);
    assert_int_equal(xmpp__bosh_queue(b, big, sizeof(big) - 1), XMPP_ERR_LIMIT);
    free(out);
    xmpp__bosh_free(b);
}

/* One hostile or failing response to the first request after creation. */
static void expect_failure(const char *body, int status, int rc_expect, const char *cond,
                           const char *log_expect) {
    struct ev e;
    xmpp__bosh *b;
    char out[4096];
    uint64_t rid;
    memset(&e, 0, sizeof(e));
    b = opened(G, &e);
    rid = request(b, 0, out, sizeof(out));
    assert_int_equal(respond_status(b, rid, status, body), rc_expect);
    assert_int_equal(xmpp__bosh_state(b), XMPP_BOSH_FAILED);
    assert_string_equal(xmpp__bosh_condition(b, NULL), cond);
    if (log_expect)
        assert_string_equal(e.log, log_expect);
    assert_int_equal(xmpp__bosh_want_request(b, 0), 0);
    assert_int_equal(xmpp__bosh_queue(b, "<x/>", 4), XMPP_ERR_STATE);
    assert_int_equal(xmpp__bosh_next_deadline(b), UINT64_MAX);
    xmpp__bosh_free(b);
}

#define B "<body xmlns='http://jabber.org/protocol/httpbind'"

static void test_hostile(void **state) {
    (void)state;
    expect_failure(B "/>", 404, XMPP_ERR_STREAM, "item-not-found", "");
    expect_failure("", 403, XMPP_ERR_STREAM, "policy-violation", "");
    expect_failure("", 500, XMPP_ERR_STREAM, "http-error", "");
    /* terminal binding conditions; payloads before the end still count */
    expect_failure(B " type='terminate' condition='remote-stream-error' "
                     "xmlns:stream='http://etherx.jabber.org/streams'><stream:error>"
                     "<conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></body>",
                   200, XMPP_ERR_STREAM, "remote-stream-error",
                   "error@http://etherx.jabber.org/streams|");
    expect_failure(B " type='terminate' condition='system-shutdown'/>", 200, XMPP_ERR_STREAM,
                   "system-shutdown", "");
    expect_failure(B " type='terminate' condition='made-up'/>", 200, XMPP_ERR_STREAM,
                   "undefined-condition", "");
    expect_failure(B " type='terminate'/>", 200, XMPP_ERR_STREAM, "undefined-condition", "");
    expect_failure(B " type='error'/>", 200, XMPP_ERR_STREAM, "bad-response", "");
    /* malformed bodies */
    expect_failure("<stream:stream xmlns:stream='http://etherx.jabber.org/streams'/>", 200,
                   XMPP_ERR_STREAM, "bad-response", "");
    expect_failure("<body xmlns='urn:other'/>", 200, XMPP_ERR_STREAM, "bad-response", "");
    expect_failure(B "><message", 200, XMPP_ERR_STREAM, "bad-response", "");
    expect_failure(B "><message/>", 200, XMPP_ERR_STREAM, "bad-response", NULL);
    expect_failure("", 200, XMPP_ERR_STREAM, "bad-response", "");
    expect_failure("<!DOCTYPE body [<!ENTITY x 'y'>]>" B "/>", 200, XMPP_ERR_STREAM,
                   "bad-response", "");
    expect_failure(B "><message>&x;</message></body>", 200, XMPP_ERR_STREAM, "bad-response",
                   "");
    expect_failure(B " sid='other'/>", 200, XMPP_ERR_STREAM, "bad-response", "");
    expect_failure(B "/><trailing/>", 200, XMPP_ERR_STREAM, "bad-response", NULL);
}

static void creation_failure(const char *body, const char *cond) {
    struct ev e;
    xmpp__bosh *b;
    char out[4096];
    uint64_t rid;
    memset(&e, 0, sizeof(e));
    b = mk(G, &e);
    rid = request(b, 0, out, sizeof(out));
    assert_int_equal(respond(b, rid, body), XMPP_ERR_STREAM);
    assert_string_equal(xmpp__bosh_condition(b, NULL), cond);
    assert_int_equal(e.opens, 0);
    xmpp__bosh_free(b);
}

static void test_creation_hostile(void **state) {
    (void)state;
    creation_failure(B "/>", "bad-response");                               /* no sid */
    creation_failure(B " sid=''/>", "bad-response");
    creation_failure(B " sid='s' requests='0'/>", "bad-response");
    creation_failure(B " sid='s' requests='-1'/>", "bad-response");
    creation_failure(B " sid='s' hold='5'/>", "bad-response");            /* more than asked */
    creation_failure(B " sid='s' wait='600'/>", "bad-response");
    creation_failure(B " sid='s' wait='99999999999999999999999'/>", "bad-response");
    creation_failure(B " type='terminate' condition='host-unknown'/>", "host-unknown");
    creation_failure(B " type='terminate' condition='see-other-uri'><uri>https://x/</uri></body>",
                     "see-other-uri");
}

static void test_invalid_config(void **state) {
    xmpp__bosh_config cfg;
    xmpp__bosh *b = NULL;
    struct ev e;
    (void)state;
    memset(&cfg, 0, sizeof(cfg));
    cfg.host = "h";
    cfg.path = "no-slash";
    cfg.to = "example.com";
    assert_int_equal(xmpp__bosh_new(&b, G, &cfg, 1, &EVENTS, &e), XMPP_ERR_INVALID);
    cfg.path = "/p";
    assert_int_equal(xmpp__bosh_new(&b, G, &cfg, 0, &EVENTS, &e), XMPP_ERR_INVALID);
    assert_int_equal(xmpp__bosh_new(&b, G, &cfg, (1ULL << 52) + 1, &EVENTS, &e),
                     XMPP_ERR_INVALID);
    cfg.to = "exa\x01mple";
    assert_int_equal(xmpp__bosh_new(&b, G, &cfg, 1, &EVENTS, &e), XMPP_ERR_INVALID);
    /* attribute values are escaped */
    cfg.to = "a'b&c";
    assert_int_equal(xmpp__bosh_new(&b, G, &cfg, 1, &EVENTS, &e), XMPP_OK);
    {
        char out[4096];
        request(b, 0, out, sizeof(out));
        assert_non_null(strstr(out, "to='a&apos;b&amp;c'"));
    }
    xmpp__bosh_free(b);
}

static void test_pause_and_polling(void **state) {
    struct ev e;
    xmpp__bosh *b;
    char out[4096];
    uint64_t rid;
    (void)state;
    memset(&e, 0, sizeof(e));
    b = opened(G, &e);
    assert_int_equal(xmpp__bosh_pause(b, 600), XMPP_OK); /* clamped to maxpause 120 */
    rid = request(b, 0, out, sizeof(out));
    assert_non_null(strstr(out, "pause='120'"));
    assert_int_equal(respond(b, rid, B "/>"), XMPP_OK);
    /* paused: no empty request until half the pause has passed */
    assert_int_equal(xmpp__bosh_want_request(b, 1000), 0);
    assert_int_equal(xmpp__bosh_next_deadline(b), 60000);
    assert_int_equal(xmpp__bosh_want_request(b, 60000), 1);
    /* data resumes at once */
    assert_int_equal(xmpp__bosh_queue(b, "<m/>", 4), XMPP_OK);
    assert_int_equal(xmpp__bosh_want_request(b, 1000), 1);
    xmpp__bosh_free(b);

    /* a polling session (requests='1', hold='0'): empty requests no more
     * often than `polling` */
    memset(&e, 0, sizeof(e));
    {
        xmpp__bosh_config cfg;
        memset(&cfg, 0, sizeof(cfg));
        cfg.host = "h";
        cfg.path = "/p";
        cfg.to = "example.com";
        assert_int_equal(xmpp__bosh_new(&b, G, &cfg, 7, &EVENTS, &e), XMPP_OK);
    }
    rid = request(b, 0, out, sizeof(out));
    assert_int_equal(respond(b, rid, B " sid='P' requests='1' hold='0' polling='10'/>"), XMPP_OK);
    /* respond() processes at time 5000 */
    assert_int_equal(xmpp__bosh_want_request(b, 5001), 0);
    assert_int_equal(xmpp__bosh_want_request(b, 15000), 1);
    xmpp__bosh_free(b);
}

/* ---- allocation failures */
static int scenario(xmpp_ctx *ctx, void *arg) {
    struct ev e;
    xmpp__bosh_config cfg;
    xmpp__bosh *b = NULL;
    xmpp_buf out;
    xmpp__http_resp *r = NULL;
    uint64_t rid;
    const char *body = CREATED;
    char http[2048];
    int rc, n;
    (void)arg;
    memset(&e, 0, sizeof(e));
    memset(&cfg, 0, sizeof(cfg));
    cfg.host = "h";
    cfg.path = "/p";
    cfg.to = "example.com";
    if ((rc = xmpp__bosh_new(&b, ctx, &cfg, 5, &EVENTS, &e)) != XMPP_OK)
        return rc;
    xmpp__buf_init(&out, ctx);
    rc = xmpp__bosh_make_request(b, 0, &out, &rid);
    if (rc == XMPP_OK)
        rc = xmpp__http_resp_new(&r, ctx, 0);
    n = snprintf(http, sizeof(http), "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n%s",
                 strlen(body), body);
    if (rc == XMPP_OK)
        rc = xmpp__http_resp_feed(r, http, (size_t)n, NULL);
    if (rc == XMPP_OK)
        rc = xmpp__bosh_response(b, rid, 1, r);
    if (rc == XMPP_OK)
        rc = xmpp__bosh_queue(b, "<m/>", 4);
    if (rc == XMPP_OK) {
        out.len = 0;
        rc = xmpp__bosh_make_request(b, 1, &out, &rid);
    }
    if (rc == XMPP_OK && xmpp__bosh_state(b) != XMPP_BOSH_OPEN)
        rc = XMPP_ERR_NOMEM;
    xmpp__http_resp_free(r);
    xmpp__buf_free(&out);
    xmpp__bosh_free(b);
    return rc;
}

static void test_torture(void **state) {
    (void)state;
    assert_true(th_torture(scenario, NULL) > 5);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create),
        cmocka_unit_test(test_held_request_and_order),
        cmocka_unit_test(test_restart_and_terminate),
        cmocka_unit_test(test_rewrite_and_report),
        cmocka_unit_test(test_report_processed),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_creation_hostile),
        cmocka_unit_test(test_invalid_config),
        cmocka_unit_test(test_pause_and_polling),
        cmocka_unit_test(test_torture),
    };
    int rc;
    if (xmpp_ctx_new(&G, NULL) != XMPP_OK)
        return 1;
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    xmpp_ctx_free(G);
    return rc;
}
