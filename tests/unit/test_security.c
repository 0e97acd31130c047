/* Hostile input for the XML stream parser: SECURITY.md §3 d.1 scenarios
 * 1–14 and the parser's part of b.1 XML-01..XML-10 (RFC 6120 §11
 * restricted XML, §11.6 encoding) and b.7 RES-01/02 (limits). */
#define _POSIX_C_SOURCE 200809L /* mkstemp, dup, clock_gettime */
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <libxml/xmlIO.h>
#include <libxml/xmlmemory.h>

#include "xml/parser.h"

#define HDR                                                                                        \
    "<stream:stream xmlns='jabber:client' "                                                        \
    "xmlns:stream='http://etherx.jabber.org/streams' to='example.com' "                            \
    "version='1.0'>"

/* ---- byte-counting allocators ------------------------------------------- */

/* Every block carries its size in a 16-byte header. */
typedef struct bytes_state {
    size_t live, peak;
} bytes_state;

static void *bc_malloc(bytes_state *s, size_t n) {
    size_t *h = malloc(n + 16);
    if (h == NULL)
        return NULL;
    *h = n;
    s->live += n;
    if (s->live > s->peak)
        s->peak = s->live;
    return (char *)h + 16;
}

static void *bc_realloc(bytes_state *s, void *p, size_t n) {
    size_t *h, old;
    if (p == NULL)
        return bc_malloc(s, n);
    h = (size_t *)((char *)p - 16);
    old = *h;
    h = realloc(h, n + 16);
    if (h == NULL)
        return NULL;
    *h = n;
    s->live = s->live - old + n;
    if (s->live > s->peak)
        s->peak = s->live;
    return (char *)h + 16;
}

static void bc_free(bytes_state *s, void *p) {
    size_t *h;
    if (p == NULL)
        return;
    h = (size_t *)((char *)p - 16);
    s->live -= *h;
    free(h);
}

/* Our context's allocator. */
static bytes_state ours;
static void *o_malloc(size_t n, void *ud) {
    return bc_malloc(ud, n);
}
static void *o_realloc(void *p, size_t n, void *ud) {
    return bc_realloc(ud, p, n);
}
static void o_free(void *p, void *ud) {
    bc_free(ud, p);
}

/* libxml2's allocator (xmlMemSetup, installed before libxml2 starts). */
static bytes_state theirs;
static void *x_malloc(size_t n) {
    return bc_malloc(&theirs, n);
}
static void *x_realloc(void *p, size_t n) {
    return bc_realloc(&theirs, p, n);
}
static void x_free(void *p) {
    bc_free(&theirs, p);
}
static char *x_strdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = x_malloc(n);
    if (d != NULL)
        memcpy(d, s, n);
    return d;
}

/* libxml2's I/O layer: any attempt to open a URI is recorded (XML-04: no
 * file or network access ever). */
static int io_attempts;
static int io_match(const char *uri) {
    (void)uri;
    io_attempts++;
    return 0; /* decline: the default handlers would then run */
}

/* ---- running a stream ---------------------------------------------------- */

typedef struct result {
    char log[4096];
    size_t stanzas, starts, ends;
    xmpp_stream_condition cond;
    int rc;     /* the first non-OK feed result */
    size_t fed; /* bytes fed until the first non-OK result */
} result;

static void log_add(result *r, const char *a, const char *b) {
    size_t n = strlen(r->log);
    snprintf(r->log + n, sizeof(r->log) - n, "%s%s\n", a, b ? b : "");
}

static void cb_start(xmpp_stanza *h, const char *dns, void *ud) {
    result *r = ud;
    (void)h;
    (void)dns;
    r->starts++;
    log_add(ud, "start", NULL);
}

static void cb_stanza(xmpp_stanza *st, void *ud) {
    result *r = ud;
    char *s;
    r->stanzas++;
    assert_int_equal(xmpp_stanza_serialize(st, XMPP_NS_CLIENT, &s, NULL), XMPP_OK);
    log_add(ud, "stanza ", s);
    xmpp_free(xmpp_stanza_ctx(st), s);
}

static void cb_end(void *ud) {
    result *r = ud;
    r->ends++;
    log_add(ud, "end", NULL);
}

static const xmpp_xml_callbacks CBS = {cb_start, cb_stanza, cb_end};

/* Feeds s[0..n) in chunks of `step` bytes (0: all at once). */
static void run(result *r, const char *s, size_t n, size_t step, const xmpp_xml_limits *lim) {
    xmpp_ctx *ctx;
    xmpp_xml_parser *p;
    size_t off = 0;
    memset(r, 0, sizeof(*r));
    assert_int_equal(xmpp_ctx_new(&ctx, NULL), XMPP_OK);
    assert_int_equal(xmpp_xml_parser_new(&p, ctx, &CBS, r), XMPP_OK);
    if (lim)
        xmpp_xml_parser_set_limits(p, lim);
    while (off < n) {
        size_t k = step == 0 || step > n - off ? n - off : step;
        int rc = xmpp_xml_parser_feed(p, s + off, k);
        off += k;
        if (rc != XMPP_OK) {
            r->rc = rc;
            break;
        }
    }
    r->fed = off;
    r->cond = xmpp_xml_parser_error(p, NULL);
    log_add(r, "condition ", xmpp_stream_condition_name(r->cond));
    /* sticky: nothing more is accepted or delivered */
    if (r->cond != XMPP_SC_NONE) {
        size_t before = r->stanzas;
        assert_int_equal(xmpp_xml_parser_feed(p, "<message/>", 10), r->rc);
        assert_int_equal(r->stanzas, before);
    }
    xmpp_xml_parser_free(p);
    xmpp_ctx_free(ctx);
}

/* Runs s at once, byte by byte and in 3-byte chunks: all three must end
 * with `cond` and the same events, with exactly `stanzas` delivered. */
static void expect(const char *s, size_t n, xmpp_stream_condition cond, size_t stanzas) {
    static result a, b, c;
    run(&a, s, n, 0, NULL);
    run(&b, s, n, 1, NULL);
    run(&c, s, n, 3, NULL);
    if (a.cond != cond)
        fail_msg("expected %s, got %s for:\n%.*s", xmpp_stream_condition_name(cond),
                 xmpp_stream_condition_name(a.cond), (int)(n > 200 ? 200 : n), s);
    assert_int_equal(a.stanzas, stanzas);
    assert_string_equal(a.log, b.log);
    assert_string_equal(a.log, c.log);
    if (cond != XMPP_SC_NONE)
        assert_int_equal(a.rc,
                         cond == XMPP_SC_RESOURCE_CONSTRAINT ? XMPP_ERR_NOMEM : XMPP_ERR_STREAM);
}

static void expect_str(const char *s, xmpp_stream_condition cond, size_t stanzas) {
    expect(s, strlen(s), cond, stanzas);
}

/* ---- d.1 #1 billion laughs, XML-03 ---------------------------------------- */

#define LAUGHS                                                                                     \
    "<!DOCTYPE lolz [<!ENTITY lol 'lol'>"                                                          \
    "<!ENTITY lol1 '&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;'>"                          \
    "<!ENTITY lol2 '&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;'>"                      \
    "<!ENTITY lol3 '&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;'>"                      \
    "<!ENTITY lol4 '&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;'>"                      \
    "<!ENTITY lol5 '&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;'>"                      \
    "<!ENTITY lol6 '&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;'>"                      \
    "<!ENTITY lol7 '&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;'>"                      \
    "<!ENTITY lol8 '&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;'>"                      \
    "<!ENTITY lol9 '&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;'>"                      \
    "]>"

static void test_billion_laughs(void **state) {
    size_t before;
    result r;
    (void)state;
    /* libxml2 allocates a few globals on first use: warm up */
    run(&r, LAUGHS HDR, strlen(LAUGHS HDR), 0, NULL);
    run(&r, HDR "<a>" LAUGHS "</a>", strlen(HDR "<a>" LAUGHS "</a>"), 0, NULL);
    before = theirs.live;
    theirs.peak = theirs.live;
    expect_str(LAUGHS HDR "<message><body>&lol9;</body></message>", XMPP_SC_RESTRICTED_XML, 0);
    expect_str("<?xml version='1.0'?>" LAUGHS HDR, XMPP_SC_RESTRICTED_XML, 0);
    /* inside a stanza */
    expect_str(HDR "<a/><message>" LAUGHS "<body>&lol9;</body></message>", XMPP_SC_RESTRICTED_XML,
               1);
    /* no expansion: libxml2's memory stayed flat */
    assert_true(theirs.peak - before < 512 * 1024);
    assert_int_equal(theirs.live, before);
}

/* ---- d.1 #2 external entity, XML-03/04 ------------------------------------- */

static void test_external_entity(void **state) {
    (void)state;
    io_attempts = 0;
    expect_str("<!DOCTYPE x [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>" HDR
               "<message><body>&x;</body></message>",
               XMPP_SC_RESTRICTED_XML, 0);
    expect_str("<!DOCTYPE x SYSTEM 'http://127.0.0.1:1/x.dtd'>" HDR "<a>&x;</a>",
               XMPP_SC_RESTRICTED_XML, 0);
    expect_str("<!DOCTYPE x PUBLIC '-//x//y' 'file:///etc/passwd'>" HDR, XMPP_SC_RESTRICTED_XML, 0);
    expect_str(HDR "<a/><message><body>&x;</body></message>", XMPP_SC_RESTRICTED_XML, 1);
    expect_str(HDR "<a/><message to='&x;'/>", XMPP_SC_RESTRICTED_XML, 1);
    /* libxml2 never tried to open anything */
    assert_int_equal(io_attempts, 0);
}

/* ---- d.1 #3 comments, XML-01 ---------------------------------------------- */

static void test_comments(void **state) {
    (void)state;
    expect_str("<!-- x -->" HDR "<a/>", XMPP_SC_RESTRICTED_XML, 0);
    expect_str("<?xml version='1.0'?><!-- x -->" HDR, XMPP_SC_RESTRICTED_XML, 0);
    expect_str(HDR "<!-- x --><a/>", XMPP_SC_RESTRICTED_XML, 0);
    expect_str(HDR "<a/><message><!-- --><body>x</body></message><b/>", XMPP_SC_RESTRICTED_XML, 1);
    expect_str(HDR "<a/><message><body>x<!--y-->z</body></message><b/>", XMPP_SC_RESTRICTED_XML, 1);
    expect_str(HDR "<a/><!----><b/>", XMPP_SC_RESTRICTED_XML, 1);
}

/* ---- d.1 #4 processing instructions, XML-02 ------------------------------- */

static void test_pis(void **state) {
    (void)state;
    expect_str("<?foo bar?>" HDR, XMPP_SC_RESTRICTED_XML, 0);
    expect_str("<?xml version='1.0'?><?foo?>" HDR, XMPP_SC_RESTRICTED_XML, 0);
    expect_str("<?xml-stylesheet href='x'?>" HDR, XMPP_SC_RESTRICTED_XML, 0);
    expect_str(HDR "<a/><?foo?><b/>", XMPP_SC_RESTRICTED_XML, 1);
    expect_str(HDR "<a/><message><?foo bar?></message>", XMPP_SC_RESTRICTED_XML, 1);
    /* the declaration only at the very start */
    expect_str("<?xml version='1.0'?>" HDR "<a/>", XMPP_SC_NONE, 1);
    expect_str(HDR "<a/><?xml version='1.0'?><b/>", XMPP_SC_NOT_WELL_FORMED, 1);
}

/* ---- d.1 #5 undefined entities, XML-04 -------------------------------------- */

static void test_undefined_entity(void **state) {
    (void)state;
    expect_str(HDR "<a/><message><body>&nbsp;</body></message>", XMPP_SC_RESTRICTED_XML, 1);
    expect_str(HDR "<a/><message a='x&nbsp;'/>", XMPP_SC_RESTRICTED_XML, 1);
    expect_str(HDR "<a/><message><body>&copy;</body></message>", XMPP_SC_RESTRICTED_XML, 1);
    expect_str("<stream:stream xmlns:stream='http://etherx.jabber.org/streams' a='&x;'>",
               XMPP_SC_RESTRICTED_XML, 0);
    /* the five predefined ones are fine */
    expect_str(HDR "<a b='&lt;&gt;&amp;&quot;&apos;'>&lt;&gt;&amp;&quot;&apos;</a>", XMPP_SC_NONE,
               1);
}

/* ---- d.1 #6 invalid UTF-8, XML-06 -------------------------------------------- */

static void test_invalid_utf8(void **state) {
    static const char *bad[] = {
        "\xc0\xaf",         /* overlong '/' */
        "\xe0\x80\xaf",     /* overlong, 3 bytes */
        "\x80",             /* lone continuation */
        "\xed\xa0\x80",     /* UTF-16 surrogate D800 */
        "\xf4\x90\x80\x80", /* above U+10FFFF */
        "\xff",             /* never valid */
        "\xc3",             /* truncated before '<' */
        "\xf0\x9f\x98",     /* truncated 4-byte */
    };
    size_t i;
    char s[512];
    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(s, sizeof(s), HDR "<a/><message><body>x%sy</body></message>", bad[i]);
        expect_str(s, XMPP_SC_NOT_WELL_FORMED, 1);
        snprintf(s, sizeof(s), HDR "<a/><message to='%s'/>", bad[i]);
        expect_str(s, XMPP_SC_NOT_WELL_FORMED, 1);
        snprintf(s, sizeof(s), HDR "<a/><m%s/>", bad[i]);
        expect_str(s, XMPP_SC_NOT_WELL_FORMED, 1);
        /* libxml2 2.9 lets overlong forms through CDATA: checked by us */
        snprintf(s, sizeof(s), HDR "<a/><m><![CDATA[x%sy]]></m>", bad[i]);
        expect_str(s, XMPP_SC_NOT_WELL_FORMED, 1);
    }
}

/* A truncated 4-byte sequence at a chunk end fails once the next byte
 * comes; a valid one split there parses. */
static void test_utf8_split(void **state) {
    xmpp_ctx *ctx;
    xmpp_xml_parser *p;
    result r;
    static const char head[] = HDR "<message><body>smile \xf0\x9f";
    (void)state;
    memset(&r, 0, sizeof(r));
    assert_int_equal(xmpp_ctx_new(&ctx, NULL), XMPP_OK);
    assert_int_equal(xmpp_xml_parser_new(&p, ctx, &CBS, &r), XMPP_OK);
    assert_int_equal(xmpp_xml_parser_feed(p, head, sizeof(head) - 1), XMPP_OK);
    assert_int_equal(xmpp_xml_parser_feed(p, "\x98", 1), XMPP_OK);
    assert_int_equal(xmpp_xml_parser_feed(p, "\x80</body></message>", 18), XMPP_OK);
    assert_int_equal(r.stanzas, 1);
    assert_non_null(strstr(r.log, "<body>smile \xf0\x9f\x98\x80</body>"));
    assert_int_equal(xmpp_xml_parser_feed(p, "<message><body>\xf0\x9f\x98", 18), XMPP_OK);
    assert_int_equal(xmpp_xml_parser_feed(p, "</body></message>", 17), XMPP_ERR_STREAM);
    assert_int_equal(xmpp_xml_parser_error(p, NULL), XMPP_SC_NOT_WELL_FORMED);
    assert_int_equal(r.stanzas, 1);
    xmpp_xml_parser_free(p);
    xmpp_ctx_free(ctx);
}

/* BOMs and declarations naming another encoding: never transcoded. */
static void test_encodings(void **state) {
    static const char u16be[] = "\xfe\xff\x00<\x00s";
    static const char u16le[] = "\xff\xfe<\x00s\x00";
    static const char u32be[] = "\x00\x00\xfe\xff\x00\x00\x00<";
    static const char u16nobom[] = "<\x00?\x00x\x00m\x00l\x00";
    static const char u16benobom[] = "\x00<\x00?\x00x\x00m\x00l";
    (void)state;
    expect(u16be, sizeof(u16be) - 1, XMPP_SC_UNSUPPORTED_ENCODING, 0);
    expect(u16le, sizeof(u16le) - 1, XMPP_SC_UNSUPPORTED_ENCODING, 0);
    expect(u32be, sizeof(u32be) - 1, XMPP_SC_UNSUPPORTED_ENCODING, 0);
    expect(u16nobom, sizeof(u16nobom) - 1, XMPP_SC_UNSUPPORTED_ENCODING, 0);
    expect(u16benobom, sizeof(u16benobom) - 1, XMPP_SC_UNSUPPORTED_ENCODING, 0);
    expect_str("<?xml version='1.0' encoding='ISO-8859-1'?>" HDR "<a>\xe9</a>",
               XMPP_SC_UNSUPPORTED_ENCODING, 0);
    expect_str("<?xml version=\"1.0\" encoding=\"UTF-16\"?>" HDR, XMPP_SC_UNSUPPORTED_ENCODING, 0);
    expect_str("<?xml version='1.0' encoding = 'latin1' ?>" HDR, XMPP_SC_UNSUPPORTED_ENCODING, 0);
    expect_str("<?xml version='1.0' encoding='UTF8'?>" HDR, XMPP_SC_UNSUPPORTED_ENCODING, 0);
    /* UTF-8 in any case, and a UTF-8 BOM, are accepted */
    expect_str("<?xml version='1.0' encoding='utf-8'?>" HDR "<a>\xc3\xa9</a>", XMPP_SC_NONE, 1);
    expect_str("\xef\xbb\xbf<?xml version='1.0' encoding='UTF-8' standalone='yes'?>" HDR "<a/>",
               XMPP_SC_NONE, 1);
    expect_str("\xef\xbb\xbf" HDR "<a/>", XMPP_SC_NONE, 1);
    /* a Latin-1 byte is invalid UTF-8, not transcoded */
    expect_str(HDR "<a/><b>caf\xe9</b>", XMPP_SC_NOT_WELL_FORMED, 1);
    /* an endless declaration */
    {
        char s[600];
        memset(s, ' ', sizeof(s));
        memcpy(s, "<?xml ", 6);
        expect(s, sizeof(s), XMPP_SC_POLICY_VIOLATION, 0);
    }
}

/* ---- d.1 #7 forbidden characters by reference, XML-05 ----------------------- */

static void test_forbidden_refs(void **state) {
    static const char *refs[] = {"&#0;",       "&#x0;",         "&#x1;",    "&#8;",
                                 "&#xFFFE;",   "&#xFFFF;",      "&#xD800;", "&#xDFFF;",
                                 "&#x110000;", "&#99999999999;"};
    size_t i;
    char s[512];
    (void)state;
    for (i = 0; i < sizeof(refs) / sizeof(refs[0]); i++) {
        snprintf(s, sizeof(s), HDR "<a/><message><body>%s</body></message>", refs[i]);
        expect_str(s, XMPP_SC_NOT_WELL_FORMED, 1);
        snprintf(s, sizeof(s), HDR "<a/><message to='%s'/>", refs[i]);
        expect_str(s, XMPP_SC_NOT_WELL_FORMED, 1);
    }
    expect_str(HDR "<a>&#x9;&#xA;&#xD;&#x20;&#xD7FF;&#xE000;&#xFFFD;&#x10000;&#x10FFFF;</a>",
               XMPP_SC_NONE, 1);
}

/* ---- d.1 #8 namespaces, XML-07 ------------------------------------------------- */

static void test_namespaces(void **state) {
    (void)state;
    expect_str(HDR "<a/><foo:bar/>", XMPP_SC_BAD_NAMESPACE_PREFIX, 1);
    expect_str(HDR "<a/><message><x:y/></message>", XMPP_SC_BAD_NAMESPACE_PREFIX, 1);
    expect_str(HDR "<a/><message x:to='a'/>", XMPP_SC_BAD_NAMESPACE_PREFIX, 1);
    expect_str("<stream:stream xmlns='jabber:client'>", XMPP_SC_BAD_NAMESPACE_PREFIX, 0);
    expect_str("<stream:stream xmlns:stream='http://etherx.jabber.org/streamz'>",
               XMPP_SC_INVALID_NAMESPACE, 0);
    expect_str("<stream xmlns='jabber:client'>", XMPP_SC_INVALID_NAMESPACE, 0);
    expect_str("<stream>", XMPP_SC_INVALID_NAMESPACE, 0);
    expect_str("<s:features xmlns:s='http://etherx.jabber.org/streams'>", XMPP_SC_INVALID_NAMESPACE,
               0);
    expect_str("<message xmlns='jabber:client'/>", XMPP_SC_INVALID_NAMESPACE, 0);
    /* any prefix bound to the stream namespace will do */
    expect_str("<s:stream xmlns:s='http://etherx.jabber.org/streams' xmlns='jabber:client'>"
               "<a/></s:stream>",
               XMPP_SC_NONE, 1);
    /* the xmlns prefix cannot be rebound */
    expect_str(HDR "<a/><b xmlns:xml='urn:x'/>", XMPP_SC_NOT_WELL_FORMED, 1);
}

/* ---- d.1 #9 deep nesting, RES-02 ------------------------------------------------ */

static char *repeat(const char *head, const char *unit, size_t count, const char *tail,
                    size_t *len) {
    size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail), i;
    char *s = malloc(hl + ul * count + tl + 1), *q;
    assert_non_null(s);
    memcpy(s, head, hl);
    q = s + hl;
    for (i = 0; i < count; i++, q += ul)
        memcpy(q, unit, ul);
    memcpy(q, tail, tl + 1);
    *len = hl + ul * count + tl;
    return s;
}

static void test_deep_nesting(void **state) {
    size_t n;
    char *s = repeat(HDR "<a/>", "<a>", 100000, "", &n);
    result r;
    xmpp_xml_limits lim;
    (void)state;
    run(&r, s, n, 4096, NULL);
    assert_int_equal(r.cond, XMPP_SC_POLICY_VIOLATION);
    assert_int_equal(r.stanzas, 1);
    assert_true(r.fed <= 2 * 4096); /* stopped early */
    run(&r, s, n, 0, NULL);
    assert_int_equal(r.cond, XMPP_SC_POLICY_VIOLATION);
    run(&r, s, n, 1, NULL);
    assert_int_equal(r.cond, XMPP_SC_POLICY_VIOLATION);
    /* a configured depth beyond libxml2's own still ends in our error */
    memset(&lim, 0, sizeof(lim));
    lim.max_depth = 100000;
    run(&r, s, n, 0, &lim);
    assert_int_equal(r.cond, XMPP_SC_POLICY_VIOLATION);
    free(s);
}

/* ---- d.1 #10 attribute floods ---------------------------------------------------- */

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_attribute_flood(void **state) {
    size_t i, n = 0;
    char *s = malloc(2000000);
    result r;
    double t;
    (void)state;
    assert_non_null(s);
    n = (size_t)sprintf(s, "%s<a/><message", HDR);
    for (i = 0; i < 100000; i++)
        n += (size_t)sprintf(s + n, " a%zu=''", i);
    n += (size_t)sprintf(s + n, "/>");
    t = now();
    run(&r, s, n, 0, NULL);
    assert_int_equal(r.cond, XMPP_SC_POLICY_VIOLATION);
    assert_int_equal(r.stanzas, 1);
    run(&r, s, n, 4096, NULL);
    assert_int_equal(r.cond, XMPP_SC_POLICY_VIOLATION);
    assert_true(r.fed <= 80 * 1024); /* the tag cap, not the stanza cap */
    run(&r, s, n, 1, NULL);
    assert_int_equal(r.cond, XMPP_SC_POLICY_VIOLATION);
    assert_true(now() - t < 30.0); /* linear, even under sanitizers */
    /* 100 attributes: over the default cap of 64, before any allocation */
    n = (size_t)sprintf(s, "%s<a/><message", HDR);
    for (i = 0; i < 100; i++)
        n += (size_t)sprintf(s + n, " a%zu=''", i);
    n += (size_t)sprintf(s + n, "/>");
    expect(s, n, XMPP_SC_POLICY_VIOLATION, 1);
    free(s);
    /* duplicates, also through two prefixes of one namespace */
    expect_str(HDR "<a/><message to='a' to='b'/>", XMPP_SC_NOT_WELL_FORMED, 1);
    expect_str(HDR "<a/><message xmlns:p='urn:x' xmlns:q='urn:x' p:a='1' q:a='2'/>",
               XMPP_SC_NOT_WELL_FORMED, 1);
    expect_str(HDR "<a/><message xml:lang='en' xml:lang='de'/>", XMPP_SC_NOT_WELL_FORMED, 1);
}

/* ---- d.1 #11 giant text, RES-01 ------------------------------------------------ */

static void test_giant_text(void **state) {
    xmpp_allocator a = {o_malloc, o_realloc, o_free, &ours};
    xmpp_ctx *ctx;
    xmpp_xml_parser *p;
    xmpp_xml_limits lim;
    result r;
    char *chunk;
    size_t fed = 0, total = (size_t)64 << 20, cs = 64 << 10, xml_base, ctx_bytes;
    int rc = XMPP_OK;
    static const char head[] = HDR "<message><body>";
    (void)state;
    memset(&r, 0, sizeof(r));
    chunk = malloc(cs);
    assert_non_null(chunk);
    memset(chunk, 'A', cs);
    assert_int_equal(xmpp_ctx_new(&ctx, &a), XMPP_OK);
    ctx_bytes = ours.live;
    assert_int_equal(xmpp_xml_parser_new(&p, ctx, &CBS, &r), XMPP_OK);
    memset(&lim, 0, sizeof(lim));
    lim.max_stanza_bytes = 1 << 20;
    xmpp_xml_parser_set_limits(p, &lim);
    ours.peak = ours.live;
    xml_base = theirs.live;
    theirs.peak = theirs.live;
    assert_int_equal(xmpp_xml_parser_feed(p, head, sizeof(head) - 1), XMPP_OK);
    while (fed < total) {
        rc = xmpp_xml_parser_feed(p, chunk, cs);
        fed += cs;
        if (rc != XMPP_OK)
            break;
    }
    assert_int_equal(rc, XMPP_ERR_STREAM);
    assert_int_equal(xmpp_xml_parser_error(p, NULL), XMPP_SC_POLICY_VIOLATION);
    /* stopped at about the cap, far before the end of the input */
    assert_true(fed <= lim.max_stanza_bytes + 2 * cs);
    /* memory: our side at most the cap plus a constant; libxml2's side a
     * constant (it keeps only unparsed input) */
    assert_true(ours.peak <= lim.max_stanza_bytes + 256 * 1024);
    assert_true(theirs.peak - xml_base <= 512 * 1024);
    assert_int_equal(r.stanzas, 0);
    xmpp_xml_parser_free(p);
    assert_int_equal(ours.live, ctx_bytes);
    xmpp_ctx_free(ctx);
    free(chunk);
}

/* A long-lived stream: libxml2's buffers stay bounded as stanzas go by,
 * and its own 10 MB look-up limit never trips on a healthy stream. */
static void test_long_stream(void **state) {
    xmpp_ctx *ctx;
    xmpp_xml_parser *p;
    result r;
    char st[256];
    size_t i, n, base;
    (void)state;
    memset(&r, 0, sizeof(r));
    assert_int_equal(xmpp_ctx_new(&ctx, NULL), XMPP_OK);
    assert_int_equal(xmpp_xml_parser_new(&p, ctx, &CBS, &r), XMPP_OK);
    assert_int_equal(xmpp_xml_parser_feed(p, HDR, strlen(HDR)), XMPP_OK);
    n = (size_t)snprintf(st, sizeof(st),
                         "<message to='a@b' id='x'><body>%0150d</body>"
                         "</message>",
                         7);
    base = theirs.live;
    theirs.peak = theirs.live;
    for (i = 0; i < 120000; i++) { /* about 24 MB */
        assert_int_equal(xmpp_xml_parser_feed(p, st, n), XMPP_OK);
        r.log[0] = '\0';
    }
    assert_int_equal(r.stanzas, 120000);
    assert_true(theirs.peak - base < 256 * 1024);
    xmpp_xml_parser_free(p);
    xmpp_ctx_free(ctx);
}

/* ---- d.1 #12 byte-at-a-time, XML-09 ------------------------------------------- */

typedef struct lc {
    size_t n;
    unsigned long hash; /* of every serialised stanza, in order */
} lc;

static void cb_hash(xmpp_stanza *st, void *ud) {
    lc *l = ud;
    char *s, *q;
    assert_int_equal(xmpp_stanza_serialize(st, XMPP_NS_CLIENT, &s, NULL), XMPP_OK);
    for (q = s; *q; q++)
        l->hash = l->hash * 31 + (unsigned char)*q;
    l->n++;
    xmpp_free(xmpp_stanza_ctx(st), s);
}

static double hash_run(const char *s, size_t n, size_t step, lc *l) {
    xmpp_xml_callbacks cb = {NULL, cb_hash, NULL};
    xmpp_ctx *ctx;
    xmpp_xml_parser *p;
    size_t off;
    double t = now();
    memset(l, 0, sizeof(*l));
    assert_int_equal(xmpp_ctx_new(&ctx, NULL), XMPP_OK);
    assert_int_equal(xmpp_xml_parser_new(&p, ctx, &cb, l), XMPP_OK);
    for (off = 0; off < n; off += step)
        assert_int_equal(xmpp_xml_parser_feed(p, s + off, step < n - off ? step : n - off),
                         XMPP_OK);
    assert_int_equal(xmpp_xml_parser_error(p, NULL), XMPP_SC_NONE);
    xmpp_xml_parser_free(p);
    xmpp_ctx_free(ctx);
    return now() - t;
}

static void test_byte_at_a_time(void **state) {
    size_t n1, n2;
    char *s1 = repeat(HDR,
                      "<message to='a@b' type='chat'><body>hello &amp; bye</body>"
                      "</message> ",
                      5000, "", &n1);
    char *s2 = repeat(HDR,
                      "<message to='a@b' type='chat'><body>hello &amp; bye</body>"
                      "</message> ",
                      10000, "", &n2);
    lc bulk, one, half;
    (void)state;
    /* Byte-at-a-time feeding yields the same stanzas as one bulk feed.
     * That its cost is linear is measured by `make bench` (callgrind
     * instruction counts), not timed here. */
    hash_run(s2, n2, n2, &bulk);
    hash_run(s2, n2, 1, &one);
    assert_int_equal(bulk.n, 10000);
    assert_int_equal(one.n, 10000);
    assert_true(bulk.hash == one.hash);
    hash_run(s1, n1, 1, &half);
    assert_int_equal(half.n, 5000);
    free(s1);
    free(s2);
}

/* A big pending tag fed byte by byte stays affordable. */
static void test_byte_at_a_time_big_tag(void **state) {
    size_t n;
    char *s = repeat(HDR "<a/><message to='", "x>", 40000, "'/>", &n);
    result r;
    double t = now();
    (void)state;
    run(&r, s, n, 1, NULL);
    assert_int_equal(r.cond, XMPP_SC_POLICY_VIOLATION);
    assert_true(now() - t < 60.0);
    free(s);
}

/* ---- d.1 #13 data after the stream, XML-10 -------------------------------------- */

static void test_after_stream_end(void **state) {
    result r;
    static const char s[] = HDR "<a/></stream:stream><message><body>x</body></message>"
                                "<stream:stream xmlns:stream='http://etherx.jabber.org/"
                                "streams'><b/>";
    size_t steps[] = {0, 1, 5}, i;
    (void)state;
    for (i = 0; i < 3; i++) {
        run(&r, s, sizeof(s) - 1, steps[i], NULL);
        assert_int_equal(r.stanzas, 1);
        assert_int_equal(r.ends, 1);
        assert_int_equal(r.starts, 1);
        assert_int_equal(r.cond, XMPP_SC_NONE);
        assert_null(strstr(r.log, "<body>"));
    }
    /* garbage after the end is ignored too */
    run(&r, HDR "</stream:stream><!-- x -->&nbsp;\xff", strlen(HDR) + 32, 1, NULL);
    assert_int_equal(r.ends, 1);
    assert_int_equal(r.cond, XMPP_SC_NONE);
}

/* ---- d.1 #14 CDATA edge cases -------------------------------------------------- */

static void test_cdata(void **state) {
    result r;
    static const char s[] = HDR "<m><b><![CDATA[a]]b]>c]]]]><![CDATA[>]]></b></m>";
    size_t len = sizeof(s) - 1, k;
    (void)state;
    run(&r, s, len, 0, NULL);
    assert_int_equal(r.cond, XMPP_SC_NONE);
    assert_non_null(strstr(r.log, "<b>a]]b]&gt;c]]&gt;</b>"));
    {
        /* "]]>" split at every point */
        char ref[sizeof(r.log)];
        strcpy(ref, r.log);
        for (k = 1; k < len; k++) {
            xmpp_ctx *ctx;
            xmpp_xml_parser *p;
            memset(&r, 0, sizeof(r));
            assert_int_equal(xmpp_ctx_new(&ctx, NULL), XMPP_OK);
            assert_int_equal(xmpp_xml_parser_new(&p, ctx, &CBS, &r), XMPP_OK);
            assert_int_equal(xmpp_xml_parser_feed(p, s, k), XMPP_OK);
            assert_int_equal(xmpp_xml_parser_feed(p, s + k, len - k), XMPP_OK);
            log_add(&r, "condition ", xmpp_stream_condition_name(XMPP_SC_NONE));
            assert_string_equal(ref, r.log);
            xmpp_xml_parser_free(p);
            xmpp_ctx_free(ctx);
        }
    }
    /* nested-looking CDATA: the first ]]> ends it, the second is an error */
    expect_str(HDR "<a/><m><![CDATA[<![CDATA[x]]>]]></m>", XMPP_SC_NOT_WELL_FORMED, 1);
    /* CDATA between stanzas is text there */
    expect_str(HDR "<a/><![CDATA[x]]>", XMPP_SC_BAD_FORMAT, 1);
    /* an unterminated CDATA section is bounded by the stanza limit */
    {
        size_t n;
        char *big = repeat(HDR "<a/><m><![CDATA[", "xxxxxxxx", 200000, "", &n);
        run(&r, big, n, 0, NULL);
        assert_int_equal(r.cond, XMPP_SC_POLICY_VIOLATION);
        free(big);
    }
}

/* ---- nothing is ever printed ------------------------------------------------- */

static void test_stderr_silent(void **state) {
    static const char *inputs[] = {
        LAUGHS HDR,
        HDR "<a><!-- x --></a>",
        HDR "&nbsp;",
        HDR "<a>&#0;</a>",
        HDR "<a>\xc0\xaf</a>",
        HDR "<x:y/>",
        HDR "<a b='1' b='2'/>",
        "<?xml version='1.0' encoding='ISO-8859-1'?>" HDR,
        HDR "</stream:stream><x/>junk",
        "<!DOCTYPE x SYSTEM 'file:///etc/passwd'>" HDR,
        HDR "<a><!ENTITY x 'y'></a>",
        HDR "<a>]]></a>",
        HDR "<a xmlns:p=''/>",
        "junk",
        "<a",
    };
    char path[] = "/tmp/xmpp-stderr-XXXXXX";
    int fd = mkstemp(path), saved;
    size_t i;
    long size;
    result r;
    (void)state;
    assert_true(fd >= 0);
    fflush(stderr);
    saved = dup(2);
    assert_true(saved >= 0);
    assert_true(dup2(fd, 2) >= 0);
    for (i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
        run(&r, inputs[i], strlen(inputs[i]), 0, NULL);
        run(&r, inputs[i], strlen(inputs[i]), 1, NULL);
    }
    fflush(stderr);
    size = lseek(fd, 0, SEEK_END);
    dup2(saved, 2);
    close(saved);
    close(fd);
    unlink(path);
    assert_int_equal(size, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_billion_laughs),   cmocka_unit_test(test_external_entity),
        cmocka_unit_test(test_comments),         cmocka_unit_test(test_pis),
        cmocka_unit_test(test_undefined_entity), cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_utf8_split),       cmocka_unit_test(test_encodings),
        cmocka_unit_test(test_forbidden_refs),   cmocka_unit_test(test_namespaces),
        cmocka_unit_test(test_deep_nesting),     cmocka_unit_test(test_attribute_flood),
        cmocka_unit_test(test_giant_text),       cmocka_unit_test(test_long_stream),
        cmocka_unit_test(test_byte_at_a_time),   cmocka_unit_test(test_byte_at_a_time_big_tag),
        cmocka_unit_test(test_after_stream_end), cmocka_unit_test(test_cdata),
        cmocka_unit_test(test_stderr_silent),
    };
    /* count libxml2's memory and watch its I/O from the very start */
    if (xmlMemSetup(x_free, x_malloc, x_realloc, x_strdup) != 0)
        return 1;
    xmlInitParser();
    xmlRegisterInputCallbacks(io_match, NULL, NULL, NULL); /* consulted first */
    {
        int failed = cmocka_run_group_tests(tests, NULL, NULL);
        xmlCleanupParser(); /* quiet valgrind about libxml2's globals */
        return failed;
    }
}
