/* Functional tests of the XML stream parser (lib/xml/parser.c): events,
 * namespaces, text decoding, limits, restarts, byte-split invariance
 * (SECURITY.md XML-09) and allocation failure. */
#include "xml/parser.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testhelp.h"

#define HDR                                                                                        \
    "<stream:stream xmlns='jabber:client' "                                                        \
    "xmlns:stream='http://etherx.jabber.org/streams' to='example.com' "                            \
    "version='1.0'>"

/* ---- an event recorder -------------------------------------------------- */

typedef struct rec {
    xmpp_ctx *ctx;
    char *log;
    size_t len, cap;
    int starts, stanzas, ends;
    int oom;                 /* an allocation in a callback failed */
    xmpp_stanza *keep;       /* a reference taken on the last stanza */
    xmpp_xml_parser *parser; /* for calls made from inside callbacks */
    int inner_rc;            /* what such a call returned */
    int action;              /* what the stanza callback does, see below */
} rec;

enum { ACT_NONE, ACT_KEEP, ACT_RESET, ACT_FEED, ACT_FREE };

static void rec_add(rec *r, const char *a, const char *b) {
    size_t la = strlen(a), lb = b ? strlen(b) : 0;
    if (r->len + la + lb + 2 > r->cap) {
        size_t cap = (r->cap + la + lb + 2) * 2;
        char *n = realloc(r->log, cap);
        assert_non_null(n);
        r->log = n;
        r->cap = cap;
    }
    memcpy(r->log + r->len, a, la);
    r->len += la;
    if (b) {
        memcpy(r->log + r->len, b, lb);
        r->len += lb;
    }
    r->log[r->len++] = '\n';
    r->log[r->len] = '\0';
}

static void rec_serialize(rec *r, const char *tag, xmpp_stanza *st, const char *ns) {
    char *s = NULL;
    if (xmpp_stanza_serialize(st, ns, &s, NULL) != XMPP_OK) {
        r->oom = 1;
        rec_add(r, tag, "<oom>");
        return;
    }
    rec_add(r, tag, s);
    xmpp_free(r->ctx, s);
}

static void cb_start(xmpp_stanza *hdr, const char *dns, void *ud) {
    rec *r = ud;
    r->starts++;
    rec_serialize(r, "start ", hdr, NULL);
    rec_add(r, "default-ns ", dns ? dns : "(none)");
}

static void cb_stanza(xmpp_stanza *st, void *ud) {
    rec *r = ud;
    r->stanzas++;
    rec_serialize(r, "stanza ", st, XMPP_NS_CLIENT);
    switch (r->action) {
    case ACT_KEEP:
        xmpp_stanza_unref(r->keep);
        r->keep = xmpp_stanza_ref(st);
        break;
    case ACT_RESET:
        r->inner_rc = xmpp_xml_parser_reset(r->parser);
        break;
    case ACT_FEED:
        r->inner_rc = xmpp_xml_parser_feed(r->parser, "<a/>", 4);
        break;
    case ACT_FREE:
        xmpp_xml_parser_free(r->parser);
        r->parser = NULL;
        break;
    default:
        break;
    }
}

static void cb_end(void *ud) {
    rec *r = ud;
    r->ends++;
    rec_add(r, "end", NULL);
}

static const xmpp_xml_callbacks CBS = {cb_start, cb_stanza, cb_end};

static void rec_init(rec *r, xmpp_ctx *ctx) {
    memset(r, 0, sizeof(*r));
    r->ctx = ctx;
}

static void rec_done(rec *r) {
    xmpp_stanza_unref(r->keep);
    free(r->log);
}

/* Appends the parser's final state to the log. */
static void rec_final(rec *r, xmpp_xml_parser *p) {
    const char *text = NULL;
    xmpp_stream_condition c = xmpp_xml_parser_error(p, &text);
    rec_add(r, "condition ", c ? xmpp_stream_condition_name(c) : "none");
}

/* ---- chunkers ------------------------------------------------------------ */

static uint32_t rnd_state;
static uint32_t rnd(void) {
    rnd_state = rnd_state * 1103515245u + 12345u;
    return rnd_state >> 8;
}

/* Feeds data in pieces of the sizes chunk(i) returns; stops at an error
 * (after XMPP_ERR_CLOSED the rest is ignored, as the contract says). */
typedef size_t (*chunk_fn)(size_t i, size_t left, void *arg);

static int feed_all(xmpp_xml_parser *p, const char *data, size_t len, chunk_fn f, void *arg) {
    size_t off = 0, i = 0;
    int rc = XMPP_OK;
    while (off < len) {
        size_t n = f ? f(i++, len - off, arg) : len - off;
        if (n == 0 || n > len - off)
            n = len - off;
        rc = xmpp_xml_parser_feed(p, data + off, n);
        if (rc == XMPP_ERR_CLOSED)
            return XMPP_OK;
        if (rc != XMPP_OK)
            return rc;
        off += n;
    }
    return rc;
}

static size_t ch_one(size_t i, size_t left, void *arg) {
    (void)i;
    (void)left;
    (void)arg;
    return 1;
}

static size_t ch_random(size_t i, size_t left, void *arg) {
    size_t max = *(size_t *)arg;
    (void)i;
    (void)left;
    return 1 + rnd() % max;
}

static size_t ch_split(size_t i, size_t left, void *arg) {
    (void)left;
    return i == 0 ? *(size_t *)arg : 0;
}

/* Parses data with the given chunking and default or given limits; returns
 * the malloc'd event log. */
static char *parse_log(const char *data, size_t len, chunk_fn f, void *arg,
                       const xmpp_xml_limits *lim) {
    xmpp_ctx *ctx;
    xmpp_xml_parser *p;
    rec r;
    char *log;
    assert_int_equal(xmpp_ctx_new(&ctx, NULL), XMPP_OK);
    rec_init(&r, ctx);
    assert_int_equal(xmpp_xml_parser_new(&p, ctx, &CBS, &r), XMPP_OK);
    if (lim)
        xmpp_xml_parser_set_limits(p, lim);
    feed_all(p, data, len, f, arg);
    rec_final(&r, p);
    xmpp_xml_parser_free(p);
    xmpp_ctx_free(ctx);
    log = r.log;
    r.log = NULL;
    rec_done(&r);
    return log;
}

static char *parse_str(const char *s) {
    return parse_log(s, strlen(s), NULL, NULL, NULL);
}

static int feed_str(xmpp_xml_parser *p, const char *s) {
    return xmpp_xml_parser_feed(p, s, strlen(s));
}

/* ---- a one-stanza helper ------------------------------------------------- */

typedef struct one {
    xmpp_ctx *ctx;
    xmpp_xml_parser *p;
    rec r;
} one;

/* Parses HDR + body and keeps the last stanza in o->r.keep. */
static int one_parse(one *o, const char *body) {
    int rc;
    assert_int_equal(xmpp_ctx_new(&o->ctx, NULL), XMPP_OK);
    rec_init(&o->r, o->ctx);
    o->r.action = ACT_KEEP;
    assert_int_equal(xmpp_xml_parser_new(&o->p, o->ctx, &CBS, &o->r), XMPP_OK);
    rc = xmpp_xml_parser_feed(o->p, HDR, strlen(HDR));
    assert_int_equal(rc, XMPP_OK);
    return xmpp_xml_parser_feed(o->p, body, strlen(body));
}

static void one_done(one *o) {
    rec_done(&o->r);
    xmpp_xml_parser_free(o->p);
    xmpp_ctx_free(o->ctx);
}

/* ---- header -------------------------------------------------------------- */

static xmpp_stanza *hdr_seen;
static char *hdr_dns;
static void cb_hdr(xmpp_stanza *h, const char *dns, void *ud) {
    (void)ud;
    assert_int_equal(xmpp_stanza_copy(&hdr_seen, h), XMPP_OK);
    hdr_dns = NULL;
    if (dns != NULL) {
        hdr_dns = malloc(strlen(dns) + 1);
        assert_non_null(hdr_dns);
        strcpy(hdr_dns, dns);
    }
}

static void test_header(void **state) {
    static const char s[] = "<?xml version='1.0' encoding='UTF-8'?>"
                            "<stream:stream from='example.com' id='s1' to='juliet@example.com' "
                            "version='1.0' xml:lang='en' xmlns='jabber:client' "
                            "xmlns:stream='http://etherx.jabber.org/streams'>";
    xmpp_xml_callbacks cb = {cb_hdr, NULL, NULL};
    xmpp_ctx *ctx;
    xmpp_xml_parser *p;
    (void)state;
    assert_int_equal(xmpp_ctx_new(&ctx, NULL), XMPP_OK);
    assert_int_equal(xmpp_xml_parser_new(&p, ctx, &cb, NULL), XMPP_OK);
    assert_int_equal(xmpp_xml_parser_feed(p, s, sizeof(s) - 1), XMPP_OK);
    assert_non_null(hdr_seen);
    assert_string_equal(xmpp_stanza_name(hdr_seen), "stream");
    assert_string_equal(xmpp_stanza_ns(hdr_seen), XMPP_NS_STREAMS);
    assert_string_equal(hdr_dns, "jabber:client");
    assert_int_equal(xmpp_stanza_attr_count(hdr_seen), 5);
    assert_string_equal(xmpp_stanza_attr(hdr_seen, "from"), "example.com");
    assert_string_equal(xmpp_stanza_attr(hdr_seen, "id"), "s1");
    assert_string_equal(xmpp_stanza_attr(hdr_seen, "to"), "juliet@example.com");
    assert_string_equal(xmpp_stanza_attr(hdr_seen, "version"), "1.0");
    assert_string_equal(xmpp_stanza_attr(hdr_seen, "xml:lang"), "en");
    assert_null(xmpp_stanza_attr(hdr_seen, "xmlns")); /* declarations are not attributes */
    assert_int_equal(xmpp_xml_parser_error(p, NULL), XMPP_SC_NONE);
    xmpp_stanza_unref(hdr_seen);
    hdr_seen = NULL;
    free(hdr_dns);
    xmpp_xml_parser_free(p);
    xmpp_ctx_free(ctx);
}

static void test_header_no_default_ns(void **state) {
    char *log = parse_str("<stream:stream xmlns:stream='http://etherx.jabber.org/streams'>");
    (void)state;
    assert_non_null(strstr(log, "default-ns (none)"));
    assert_non_null(strstr(log, "condition none"));
    free(log);
}

/* ---- namespaces ---------------------------------------------------------- */

static void test_namespaces(void **state) {
    one o;
    xmpp_stanza *st, *c;
    (void)state;
    assert_int_equal(one_parse(&o, "<message to='a@b' xml:lang='de' x:y='1' xmlns:x='urn:x' "
                                   "xmlns:z='urn:z' z:w='2'><body>hi</body><x:foo><bar/></x:foo>"
                                   "<baz xmlns='urn:baz'><qux/></baz><none xmlns=''/></message>"
                                   "<stream:features><mechanisms "
                                   "xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/></stream:features>"),
                     XMPP_OK);
    assert_int_equal(o.r.stanzas, 2);
    st = o.r.keep;
    assert_string_equal(xmpp_stanza_name(st), "features");
    assert_string_equal(xmpp_stanza_ns(st), XMPP_NS_STREAMS);
    c = xmpp_stanza_first_child(st);
    assert_string_equal(xmpp_stanza_ns(c), "urn:ietf:params:xml:ns:xmpp-sasl");
    one_done(&o);

    assert_int_equal(one_parse(&o, "<message to='a@b' xml:lang='de' x:y='1' "
                                   "xmlns:x='urn:x' xmlns:z='urn:z' z:w='2'><body>hi</body>"
                                   "<x:foo><bar/></x:foo><baz xmlns='urn:baz'><qux/></baz>"
                                   "<none xmlns=''/></message>"),
                     XMPP_OK);
    st = o.r.keep;
    assert_string_equal(xmpp_stanza_name(st), "message");
    assert_string_equal(xmpp_stanza_ns(st), "jabber:client");
    assert_int_equal(xmpp_stanza_attr_count(st), 4);
    assert_string_equal(xmpp_stanza_attr(st, "to"), "a@b");
    assert_string_equal(xmpp_stanza_attr(st, "xml:lang"), "de");
    assert_string_equal(xmpp_stanza_attr(st, "{urn:x}y"), "1");
    assert_string_equal(xmpp_stanza_attr(st, "{urn:z}w"), "2");
    c = xmpp_stanza_child(st, "body", NULL);
    assert_non_null(c);
    assert_string_equal(xmpp_stanza_ns(c), "jabber:client"); /* inherited */
    c = xmpp_stanza_child(st, "foo", NULL);
    assert_non_null(c);
    assert_string_equal(xmpp_stanza_ns(c), "urn:x");
    assert_string_equal(xmpp_stanza_ns(xmpp_stanza_first_child(c)), "jabber:client");
    c = xmpp_stanza_child(st, "baz", NULL);
    assert_string_equal(xmpp_stanza_ns(c), "urn:baz");
    assert_string_equal(xmpp_stanza_ns(xmpp_stanza_first_child(c)), "urn:baz");
    c = xmpp_stanza_child(st, "none", NULL);
    assert_non_null(c);
    assert_null(xmpp_stanza_ns(c));
    one_done(&o);
}

/* ---- text ---------------------------------------------------------------- */

static void test_text_entities(void **state) {
    one o;
    xmpp_stanza *b;
    char *t;
    size_t n;
    (void)state;
    assert_int_equal(one_parse(&o, "<message a='&lt;&gt;&amp;&quot;&apos;&#38;&#x26;&#65;' "
                                   "b='x&amp;#38;y' c='&#9;&#10;'><body>&lt;&gt;&amp;&quot;&apos;"
                                   "&#65;&#x42;&#x1F600;\xc3\xa9</body></message>"),
                     XMPP_OK);
    assert_string_equal(xmpp_stanza_attr(o.r.keep, "a"), "<>&\"'&&A");
    assert_string_equal(xmpp_stanza_attr(o.r.keep, "b"), "x&#38;y");
    assert_string_equal(xmpp_stanza_attr(o.r.keep, "c"), "\t\n");
    b = xmpp_stanza_child(o.r.keep, "body", NULL);
    assert_int_equal(xmpp_stanza_child_count(b), 1);
    assert_int_equal(xmpp_stanza_text(b, &t, &n), XMPP_OK);
    assert_string_equal(t, "<>&\"'AB\xf0\x9f\x98\x80\xc3\xa9");
    xmpp_free(o.ctx, t);
    one_done(&o);
}

static void test_cdata_is_text(void **state) {
    one o;
    xmpp_stanza *b;
    (void)state;
    assert_int_equal(one_parse(&o, "<message><body>a<![CDATA[<b>&amp;]]]]><![CDATA[>]]>c"
                                   "</body><x><![CDATA[]]></x></message>"),
                     XMPP_OK);
    b = xmpp_stanza_child(o.r.keep, "body", NULL);
    /* one text node per run, CDATA included */
    assert_int_equal(xmpp_stanza_child_count(b), 1);
    assert_string_equal(xmpp_stanza_text_ptr(xmpp_stanza_first_child(b)), "a<b>&amp;]]>c");
    assert_int_equal(xmpp_stanza_child_count(xmpp_stanza_child(o.r.keep, "x", NULL)), 0);
    one_done(&o);
}

static void test_mixed_content(void **state) {
    one o;
    xmpp_stanza *c;
    (void)state;
    assert_int_equal(one_parse(&o, "<message>a<b/>c &amp; d<e>f</e>\n</message>"), XMPP_OK);
    c = xmpp_stanza_first_child(o.r.keep);
    assert_string_equal(xmpp_stanza_text_ptr(c), "a");
    c = xmpp_stanza_next(c);
    assert_string_equal(xmpp_stanza_name(c), "b");
    c = xmpp_stanza_next(c);
    assert_string_equal(xmpp_stanza_text_ptr(c), "c & d");
    c = xmpp_stanza_next(c);
    assert_string_equal(xmpp_stanza_name(c), "e");
    c = xmpp_stanza_next(c);
    assert_string_equal(xmpp_stanza_text_ptr(c), "\n");
    assert_null(xmpp_stanza_next(c));
    one_done(&o);
}

static void test_keepalives(void **state) {
    char *log = parse_str(HDR " \n\t\r\n<presence/>  \n  <presence/>\n \n");
    (void)state;
    assert_string_equal(log, "start <stream xmlns=\"http://etherx.jabber.org/streams\" "
                             "to=\"example.com\" version=\"1.0\"/>\n"
                             "default-ns jabber:client\n"
                             "stanza <presence/>\nstanza <presence/>\ncondition none\n");
    free(log);
}

/* Text other than white space between stanzas is bad-format. */
static void test_text_between_stanzas(void **state) {
    char *log = parse_str(HDR "<presence/>hello<presence/>");
    (void)state;
    assert_non_null(strstr(log, "stanza <presence/>\ncondition bad-format\n"));
    free(log);
}

/* ---- stream end ---------------------------------------------------------- */

static void test_stream_end(void **state) {
    xmpp_ctx *ctx;
    xmpp_xml_parser *p;
    rec r;
    static const char s[] = HDR "<presence/></stream:stream><message/>";
    (void)state;
    assert_int_equal(xmpp_ctx_new(&ctx, NULL), XMPP_OK);
    rec_init(&r, ctx);
    assert_int_equal(xmpp_xml_parser_new(&p, ctx, &CBS, &r), XMPP_OK);
    assert_int_equal(xmpp_xml_parser_feed(p, s, sizeof(s) - 1), XMPP_OK);
    assert_int_equal(r.ends, 1);
    assert_int_equal(r.stanzas, 1);
    assert_int_equal(xmpp_xml_parser_feed(p, "<message/>", 10), XMPP_ERR_CLOSED);
    assert_int_equal(xmpp_xml_parser_feed(p, "", 0), XMPP_ERR_CLOSED);
    assert_int_equal(r.ends, 1);
    assert_int_equal(r.stanzas, 1);
    assert_int_equal(xmpp_xml_parser_error(p, NULL), XMPP_SC_NONE);
    rec_done(&r);
    xmpp_xml_parser_free(p);
    xmpp_ctx_free(ctx);
}

/* ---- reset --------------------------------------------------------------- */

static void test_reset(void **state) {
    xmpp_ctx *ctx;
    xmpp_xml_parser *p;
    rec r;
    (void)state;
    assert_int_equal(xmpp_ctx_new(&ctx, NULL), XMPP_OK);
    rec_init(&r, ctx);
    assert_int_equal(xmpp_xml_parser_new(&p, ctx, &CBS, &r), XMPP_OK);
    /* RFC 6120 §5.4.3.3: after <proceed/> a new stream starts */
    assert_int_equal(feed_str(p, HDR "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"),
                     XMPP_OK);
    assert_int_equal(r.stanzas, 1);
    /* a half-received stanza is dropped by the reset */
    assert_int_equal(xmpp_xml_parser_feed(p, "<message><body>x", 16), XMPP_OK);
    assert_int_equal(xmpp_xml_parser_reset(p), XMPP_OK);
    assert_int_equal(feed_str(p, "<?xml version='1.0'?>" HDR "<a/>"), XMPP_OK);
    assert_int_equal(r.starts, 2);
    assert_int_equal(r.stanzas, 2);
    /* an error is cleared by a reset */
    assert_int_equal(xmpp_xml_parser_feed(p, "<!-- -->", 8), XMPP_ERR_STREAM);
    assert_int_equal(xmpp_xml_parser_error(p, NULL), XMPP_SC_RESTRICTED_XML);
    assert_int_equal(xmpp_xml_parser_reset(p), XMPP_OK);
    assert_int_equal(xmpp_xml_parser_error(p, NULL), XMPP_SC_NONE);
    assert_int_equal(xmpp_xml_parser_feed(p, HDR "</stream:stream>", strlen(HDR) + 16), XMPP_OK);
    assert_int_equal(r.starts, 3);
    assert_int_equal(r.ends, 1);
    /* and so is the end of a stream */
    assert_int_equal(xmpp_xml_parser_reset(p), XMPP_OK);
    assert_int_equal(xmpp_xml_parser_feed(p, HDR, strlen(HDR)), XMPP_OK);
    assert_int_equal(r.starts, 4);
    rec_done(&r);
    xmpp_xml_parser_free(p);
    xmpp_ctx_free(ctx);
}

/* reset and feed are refused inside callbacks; free is deferred. */
static void test_calls_from_callbacks(void **state) {
    static const int acts[] = {ACT_RESET, ACT_FEED};
    size_t i;
    (void)state;
    for (i = 0; i < 2; i++) {
        xmpp_ctx *ctx;
        xmpp_xml_parser *p;
        rec r;
        assert_int_equal(xmpp_ctx_new(&ctx, NULL), XMPP_OK);
        rec_init(&r, ctx);
        r.action = acts[i];
        assert_int_equal(xmpp_xml_parser_new(&p, ctx, &CBS, &r), XMPP_OK);
        r.parser = p;
        assert_int_equal(xmpp_xml_parser_feed(p, HDR "<a/><b/>", strlen(HDR) + 8), XMPP_OK);
        assert_int_equal(r.inner_rc, XMPP_ERR_RECURSIVE);
        assert_int_equal(r.stanzas, 2);
        rec_done(&r);
        xmpp_xml_parser_free(p);
        xmpp_ctx_free(ctx);
    }
    {
        xmpp_ctx *ctx;
        xmpp_xml_parser *p;
        rec r;
        assert_int_equal(xmpp_ctx_new(&ctx, NULL), XMPP_OK);
        rec_init(&r, ctx);
        r.action = ACT_FREE;
        assert_int_equal(xmpp_xml_parser_new(&p, ctx, &CBS, &r), XMPP_OK);
        r.parser = p;
        /* the parser is gone after this call; nothing after <a/> arrives */
        assert_int_equal(xmpp_xml_parser_feed(p, HDR "<a/><b/>", strlen(HDR) + 8), XMPP_ERR_CLOSED);
        assert_int_equal(r.stanzas, 1);
        rec_done(&r);
        xmpp_ctx_free(ctx);
    }
}

static void test_bad_args(void **state) {
    xmpp_ctx *ctx;
    xmpp_xml_parser *p;
    (void)state;
    assert_int_equal(xmpp_ctx_new(&ctx, NULL), XMPP_OK);
    assert_int_equal(xmpp_xml_parser_new(NULL, ctx, &CBS, NULL), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_xml_parser_new(&p, NULL, &CBS, NULL), XMPP_ERR_INVALID);
    assert_null(p);
    assert_int_equal(xmpp_xml_parser_new(&p, ctx, NULL, NULL), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_xml_parser_feed(NULL, "x", 1), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_xml_parser_reset(NULL), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_xml_parser_error(NULL, NULL), XMPP_SC_NONE);
    xmpp_xml_parser_free(NULL);
    assert_int_equal(xmpp_xml_parser_new(&p, ctx, &CBS, NULL), XMPP_OK);
    assert_int_equal(xmpp_xml_parser_feed(p, NULL, 1), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_xml_parser_feed(p, NULL, 0), XMPP_OK);
    xmpp_xml_parser_set_limits(p, NULL);
    xmpp_xml_parser_free(p);
    xmpp_ctx_free(ctx);
}

/* ---- limits -------------------------------------------------------------- */

static char *limit_log(const char *body, const xmpp_xml_limits *lim, chunk_fn f) {
    size_t n = strlen(HDR) + strlen(body);
    char *s = malloc(n + 1), *log;
    assert_non_null(s);
    strcpy(s, HDR);
    strcat(s, body);
    log = parse_log(s, n, f, NULL, lim);
    free(s);
    return log;
}

static void expect_cond(const char *body, const xmpp_xml_limits *lim, const char *cond) {
    char want[64];
    char *l1 = limit_log(body, lim, NULL), *l2 = limit_log(body, lim, ch_one);
    snprintf(want, sizeof(want), "condition %s\n", cond);
    assert_non_null(strstr(l1, want));
    assert_string_equal(l1, l2);
    free(l1);
    free(l2);
}

static void test_limit_stanza_bytes(void **state) {
    xmpp_xml_limits lim;
    static const char st[] = "<message to='a'><body>0123456789</body></message>";
    size_t n = sizeof(st) - 1;
    (void)state;
    memset(&lim, 0, sizeof(lim));
    /* exactly at the limit passes, one byte less fails, however split;
     * white space before the stanza does not count */
    lim.max_stanza_bytes = n;
    expect_cond("  <presence/>\n   <message to='a'><body>0123456789</body></message>", &lim,
                "none");
    lim.max_stanza_bytes = n - 1;
    expect_cond("  <presence/>\n   <message to='a'><body>0123456789</body></message>", &lim,
                "policy-violation");
    lim.max_stanza_bytes = 20; /* tripped inside the start tag */
    expect_cond("<message to='aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'/>", &lim,
                "policy-violation");
}

static void test_limit_depth(void **state) {
    xmpp_xml_limits lim;
    (void)state;
    memset(&lim, 0, sizeof(lim));
    lim.max_depth = 3;
    expect_cond("<a><b><c/></b></a>", &lim, "none");
    expect_cond("<a><b><c><d/></c></b></a>", &lim, "policy-violation");
}

static void test_limit_attrs(void **state) {
    xmpp_xml_limits lim;
    (void)state;
    memset(&lim, 0, sizeof(lim));
    lim.max_attrs = 3;
    expect_cond("<a x='1' y='2' z='3'/>", &lim, "none");
    expect_cond("<a x='1' y='2' z='3' w='4'/>", &lim, "policy-violation");
    expect_cond("<a><b x='1' y='2' z='3' w='4'/></a>", &lim, "policy-violation");
}

static void test_limit_text(void **state) {
    xmpp_xml_limits lim;
    (void)state;
    memset(&lim, 0, sizeof(lim));
    lim.max_text = 10;
    expect_cond("<a>0123456789<b/>0123456789</a>", &lim, "none");
    expect_cond("<a>012345<![CDATA[6789]]></a>", &lim, "none");
    expect_cond("<a>012345<![CDATA[6789X]]></a>", &lim, "policy-violation");
    expect_cond("<a>&lt;123456789&amp;</a>", &lim, "policy-violation");
}

static void test_limit_header(void **state) {
    xmpp_xml_limits lim;
    char *log;
    (void)state;
    memset(&lim, 0, sizeof(lim));
    lim.max_header_bytes = strlen(HDR);
    log = parse_log(HDR "<a/>", strlen(HDR) + 4, ch_one, NULL, &lim);
    assert_non_null(strstr(log, "stanza <a/>\ncondition none\n"));
    free(log);
    lim.max_header_bytes = strlen(HDR) - 1;
    log = parse_log(HDR "<a/>", strlen(HDR) + 4, NULL, NULL, &lim);
    assert_string_equal(log, "condition policy-violation\n");
    free(log);
    log = parse_log(HDR "<a/>", strlen(HDR) + 4, ch_one, NULL, &lim);
    assert_string_equal(log, "condition policy-violation\n");
    free(log);
}

/* ---- byte-split invariance (XML-09) --------------------------------------- */

typedef struct sbuf {
    char *d;
    size_t n, cap;
} sbuf;

static void sb_add(sbuf *b, const char *fmt, ...) {
    va_list ap;
    int k;
    for (;;) {
        va_start(ap, fmt);
        k = vsnprintf(b->d + b->n, b->cap - b->n, fmt, ap);
        va_end(ap);
        assert_true(k >= 0);
        if ((size_t)k < b->cap - b->n)
            break;
        b->cap = (b->cap + (size_t)k + 1) * 2;
        b->d = realloc(b->d, b->cap);
        assert_non_null(b->d);
    }
    b->n += (size_t)k;
}

/* A realistic stream: features, presences, messages with entities, CDATA,
 * multi-byte UTF-8 and extensions, a roster of `items` items, keepalives. */
static char *make_stream(size_t items, size_t *len) {
    sbuf b = {NULL, 0, 0};
    size_t i;
    b.cap = 1024;
    b.d = malloc(b.cap);
    assert_non_null(b.d);
    sb_add(&b, "<?xml version='1.0'?>%s", HDR);
    sb_add(&b, "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'>"
               "<required/></starttls><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
               "<mechanism>SCRAM-SHA-1</mechanism><mechanism>PLAIN</mechanism>"
               "</mechanisms></stream:features>\n");
    sb_add(&b, "<presence from='romeo@example.net/orchard' xml:lang='en'><show>away</show>"
               "<status>d\xc3\xa9j\xc3\xa0 vu \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e "
               "\xf0\x9f\x98\x80</status><c xmlns='http://jabber.org/protocol/caps' "
               "hash='sha-1' node='http://x' ver='QgayPKawpkPSDYmwT/WM94uAlu0='/></presence> ");
    for (i = 0; i < 20; i++)
        sb_add(&b,
               "<message from='juliet@example.com/balcony' id='m%zu' type='chat' "
               "to='romeo@example.net'><body>Art thou &lt;%zu&gt; &amp; &quot;not&quot; "
               "&apos;Romeo&apos; &#x263A; &#9731; <![CDATA[<b>bold & brave</b>]]> "
               "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82</body>"
               "<active xmlns='http://jabber.org/protocol/chatstates'/>"
               "<x:data xmlns:x='urn:example:x' x:attr='v&amp;w'>  text  </x:data>"
               "</message>\n \n",
               i, i);
    sb_add(&b, "<iq type='result' id='roster1' to='juliet@example.com/balcony'>"
               "<query xmlns='jabber:iq:roster' ver='ver7'>");
    for (i = 0; i < items; i++)
        sb_add(&b,
               "<item jid='contact%zu@example.org' name='C\xc3\xb6ntact %zu' "
               "subscription='both'><group>Friends &amp; Family</group></item>",
               i, i);
    sb_add(&b, "</query></iq> <presence type='unavailable'/>"
               "<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
               "<text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>bye</text></stream:error>"
               "</stream:stream>");
    *len = b.n;
    return b.d;
}

static void test_split_invariance(void **state) {
    size_t len, seed, maxes[] = {2, 7, 64, 1000, 9000};
    char *s = make_stream(1000, &len);
    char *ref = parse_log(s, len, NULL, NULL, NULL), *log;
    size_t i;
    (void)state;
    assert_non_null(strstr(ref, "condition none\n"));
    assert_non_null(strstr(ref, "\nend\n"));
    assert_non_null(strstr(ref, "contact999@example.org"));
    log = parse_log(s, len, ch_one, NULL, NULL);
    assert_string_equal(ref, log);
    free(log);
    for (seed = 1; seed <= 10; seed++)
        for (i = 0; i < sizeof(maxes) / sizeof(maxes[0]); i++) {
            rnd_state = (uint32_t)seed;
            log = parse_log(s, len, ch_random, &maxes[i], NULL);
            assert_string_equal(ref, log);
            free(log);
        }
    free(ref);
    free(s);
}

/* Every single split point of a stream (with a shorter roster, to keep the
 * quadratic test affordable). */
static void test_split_everywhere(void **state) {
    size_t len, k;
    char *s = make_stream(20, &len);
    char *ref = parse_log(s, len, NULL, NULL, NULL);
    (void)state;
    for (k = 1; k < len; k++) {
        char *log = parse_log(s, len, ch_split, &k, NULL);
        if (strcmp(ref, log) != 0)
            fail_msg("split at %zu differs", k);
        free(log);
    }
    free(ref);
    free(s);
}

/* Limit trips are split-invariant too. */
static void test_split_invariance_errors(void **state) {
    static const char *bodies[] = {
        "<a/><b><!-- x --></b>", "<a/><b>&nbsp;</b>",
        "<a/><b><c:d/></b>",     "<a/><b>\xc3\x28</b>",
        "<a/><b>&#0;</b>",       "<a/>text<b/>",
        "<a/><b x='1' x='2'/>",  "<a/><b><![CDATA[x]]></b><?pi?>",
    };
    size_t i, k;
    (void)state;
    for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        size_t n = strlen(HDR) + strlen(bodies[i]);
        char *s = malloc(n + 1), *ref;
        assert_non_null(s);
        strcpy(s, HDR);
        strcat(s, bodies[i]);
        ref = parse_log(s, n, NULL, NULL, NULL);
        assert_null(strstr(ref, "condition none"));
        if (strstr(ref, "stanza <a/>\n") == NULL)
            fail_msg("%s: %s", bodies[i], ref);
        for (k = 1; k < n; k++) {
            char *log = parse_log(s, n, ch_split, &k, NULL);
            assert_string_equal(ref, log);
            free(log);
        }
        free(ref);
        free(s);
    }
}

/* ---- allocation failure --------------------------------------------------- */

static int torture_scenario(xmpp_ctx *ctx, void *arg) {
    const char *s = arg;
    xmpp_xml_parser *p;
    rec r;
    int rc;
    rec_init(&r, ctx);
    r.action = ACT_KEEP;
    rc = xmpp_xml_parser_new(&p, ctx, &CBS, &r);
    if (rc != XMPP_OK)
        return rc;
    rc = xmpp_xml_parser_feed(p, s, strlen(s));
    if (rc == XMPP_ERR_NOMEM)
        assert_int_equal(xmpp_xml_parser_error(p, NULL), XMPP_SC_RESOURCE_CONSTRAINT);
    else
        assert_true(rc == XMPP_OK || r.oom); /* no other failure */
    if (rc == XMPP_OK && r.oom)
        rc = XMPP_ERR_NOMEM; /* the test's own serialisation failed */
    if (rc == XMPP_OK) {
        /* a restart allocates too */
        rc = xmpp_xml_parser_reset(p);
        if (rc == XMPP_OK)
            rc = xmpp_xml_parser_feed(p, HDR, strlen(HDR));
        if (rc == XMPP_OK && r.oom)
            rc = XMPP_ERR_NOMEM;
    }
    xmpp_xml_parser_free(p);
    rec_done(&r);
    return rc;
}

static void test_torture(void **state) {
    static const char s[] =
        "<?xml version='1.0'?>" HDR
        "<message id='1' a:b='c' xmlns:a='urn:a' xml:lang='en' v='&amp;&#38;'><body>hello "
        "&amp; <![CDATA[world]]></body><x xmlns='urn:x'><y>t</y><z/></x></message> "
        "<iq type='result' id='r'><query xmlns='jabber:iq:roster'><item jid='a@b'/>"
        "<item jid='c@d'><group>g</group></item></query></iq></stream:stream>";
    long n;
    (void)state;
    n = th_torture(torture_scenario, (void *)s);
    assert_true(n > 10);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header),
        cmocka_unit_test(test_header_no_default_ns),
        cmocka_unit_test(test_namespaces),
        cmocka_unit_test(test_text_entities),
        cmocka_unit_test(test_cdata_is_text),
        cmocka_unit_test(test_mixed_content),
        cmocka_unit_test(test_keepalives),
        cmocka_unit_test(test_text_between_stanzas),
        cmocka_unit_test(test_stream_end),
        cmocka_unit_test(test_reset),
        cmocka_unit_test(test_calls_from_callbacks),
        cmocka_unit_test(test_bad_args),
        cmocka_unit_test(test_limit_stanza_bytes),
        cmocka_unit_test(test_limit_depth),
        cmocka_unit_test(test_limit_attrs),
        cmocka_unit_test(test_limit_text),
        cmocka_unit_test(test_limit_header),
        cmocka_unit_test(test_split_invariance),
        cmocka_unit_test(test_split_everywhere),
        cmocka_unit_test(test_split_invariance_errors),
        cmocka_unit_test(test_torture),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
