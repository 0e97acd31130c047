/* The HTTP/1.1 response parser and request writer (lib/transport/http.c):
 * status lines, fields, folding, Content-Length, chunked, limits, every
 * split point giving the same result, allocation failure torture. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "transport/http.h"
#include "testhelp.h"

static xmpp_ctx *ctx_new(void) {
    xmpp_ctx *ctx = NULL;
    assert_int_equal(xmpp_ctx_new(&ctx, NULL), XMPP_OK);
    return ctx;
}

/* Feeds in one go; returns the result, *consumed the bytes taken. */
static int parse(xmpp__http_resp *r, const char *s, size_t n, size_t *consumed) {
    xmpp__http_resp_reset(r);
    return xmpp__http_resp_feed(r, s, n, consumed);
}

static int parse_str(const char *s) {
    xmpp_ctx *ctx = ctx_new();
    xmpp__http_resp *r;
    size_t c;
    int rc;
    assert_int_equal(xmpp__http_resp_new(&r, ctx, 1000), XMPP_OK);
    rc = parse(r, s, strlen(s), &c);
    if (rc < 0 && rc != XMPP_HTTP_AGAIN)
        assert_true(strlen(xmpp__http_resp_error(r)) > 0);
    xmpp__http_resp_free(r);
    xmpp_ctx_free(ctx);
    return rc;
}

static void test_basic(void **state) {
    static const char in[] = "HTTP/1.1 200 OK\r\nContent-Type: text/xml; charset=utf-8\r\n"
                             "Content-Length: 5\r\nX-Empty:\r\nX-Ws:  a b  \r\n\r\nhelloEXTRA";
    xmpp_ctx *ctx = ctx_new();
    xmpp__http_resp *r;
    const char *n, *v, *b;
    size_t c, bl, cnt;
    (void)state;
    assert_int_equal(xmpp__http_resp_new(&r, ctx, 0), XMPP_OK);
    assert_int_equal(xmpp__http_resp_feed(r, in, sizeof(in) - 1, &c), XMPP_OK);
    assert_int_equal(c, sizeof(in) - 1 - 5);
    assert_int_equal(xmpp__http_resp_status(r), 200);
    assert_int_equal(xmpp__http_resp_version(r), 1);
    assert_string_equal(xmpp__http_resp_reason(r), "OK");
    assert_int_equal(xmpp__http_resp_header_count(r), 4);
    assert_int_equal(xmpp__http_resp_header(r, 0, &n, &v), XMPP_OK);
    assert_string_equal(n, "Content-Type");
    assert_string_equal(v, "text/xml; charset=utf-8");
    assert_string_equal(xmpp__http_resp_find(r, "x-empty", &cnt), "");
    assert_int_equal(cnt, 1);
    assert_string_equal(xmpp__http_resp_find(r, "X-WS", NULL), "a b");
    assert_null(xmpp__http_resp_find(r, "nope", &cnt));
    assert_int_equal(cnt, 0);
    assert_int_equal(xmpp__http_resp_header(r, 4, &n, &v), XMPP_ERR_NOT_FOUND);
    b = xmpp__http_resp_body(r, &bl);
    assert_int_equal(bl, 5);
    assert_memory_equal(b, "hello", 5);
    /* complete: nothing more is consumed */
    assert_int_equal(xmpp__http_resp_feed(r, "x", 1, &c), XMPP_OK);
    assert_int_equal(c, 0);
    assert_int_equal(xmpp__http_resp_eof(r), XMPP_OK);
    /* reset for the next response on the connection */
    xmpp__http_resp_reset(r);
    assert_int_equal(xmpp__http_resp_feed(r, "HTTP/1.0 204 \r\n\r\n", 17, &c), XMPP_OK);
    assert_int_equal(xmpp__http_resp_status(r), 204);
    assert_int_equal(xmpp__http_resp_version(r), 0);
    assert_string_equal(xmpp__http_resp_reason(r), "");
    assert_int_equal(xmpp__http_resp_feed(NULL, "", 0, NULL), XMPP_ERR_INVALID);
    assert_int_equal(xmpp__http_resp_feed(r, NULL, 1, NULL), XMPP_ERR_INVALID);
    assert_int_equal(xmpp__http_resp_new(NULL, ctx, 0), XMPP_ERR_INVALID);
    xmpp__http_resp_free(r);
    xmpp__http_resp_free(NULL);
    xmpp_ctx_free(ctx);
}

static void test_status_line(void **state) {
    (void)state;
    assert_int_equal(parse_str("HTTP/1.1 101 Switching Protocols\r\n\r\n"), XMPP_OK);
    assert_int_equal(parse_str("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n"), XMPP_OK);
    assert_int_equal(parse_str("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n"),
                     XMPP_OK);
    assert_int_equal(parse_str("HTTP/2.0 200 OK\r\n\r\n"), XMPP_HTTP_ERR_STATUS);
    assert_int_equal(parse_str("HTTP/1.2 200 OK\r\n\r\n"), XMPP_HTTP_ERR_STATUS);
    assert_int_equal(parse_str("http/1.1 200 OK\r\n\r\n"), XMPP_HTTP_ERR_STATUS);
    assert_int_equal(parse_str("HTTP/1.1 20 OK\r\n\r\n"), XMPP_HTTP_ERR_STATUS);
    assert_int_equal(parse_str("HTTP/1.1 600 OK\r\n\r\n"), XMPP_HTTP_ERR_STATUS);
    assert_int_equal(parse_str("HTTP/1.1 099 OK\r\n\r\n"), XMPP_HTTP_ERR_STATUS);
    assert_int_equal(parse_str("HTTP/1.1  200 OK\r\n\r\n"), XMPP_HTTP_ERR_STATUS);
    assert_int_equal(parse_str("HTTP/1.1 2000 OK\r\n\r\n"), XMPP_HTTP_ERR_STATUS);
    assert_int_equal(parse_str("HTTP/1.1 200 O\001K\r\n\r\n"), XMPP_HTTP_ERR_STATUS);
    assert_int_equal(parse_str("ICY 200 OK\r\n\r\n"), XMPP_HTTP_ERR_STATUS);
    assert_int_equal(parse_str("HTTP/1.1 200 OK\n\n"), XMPP_HTTP_ERR_LINE_END);
    assert_int_equal(parse_str("HTTP/1.1 200 OK\rX\n"), XMPP_HTTP_ERR_LINE_END);
    assert_int_equal(parse_str("HTTP/1.1 200 OK\r\n"), XMPP_HTTP_AGAIN);
}

static void test_fields(void **state) {
    (void)state;
    assert_int_equal(parse_str("HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n"), XMPP_HTTP_ERR_FOLDING);
    assert_int_equal(parse_str("HTTP/1.1 200 OK\r\nA: b\r\n\tc\r\n\r\n"), XMPP_HTTP_ERR_FOLDING);
    assert_int_equal(parse_str("HTTP/1.1 200 OK\r\n A: b\r\n\r\n"), XMPP_HTTP_ERR_FOLDING);
    assert_int_equal(parse_str("HTTP/1.1 200 OK\r\nA : b\r\n\r\n"), XMPP_HTTP_ERR_HEADER);
    assert_int_equal(parse_str("HTTP/1.1 200 OK\r\n: b\r\n\r\n"), XMPP_HTTP_ERR_HEADER);
    assert_int_equal(parse_str("HTTP/1.1 200 OK\r\nAb\r\n\r\n"), XMPP_HTTP_ERR_HEADER);
    assert_int_equal(parse_str("HTTP/1.1 200 OK\r\nA(: b\r\n\r\n"), XMPP_HTTP_ERR_HEADER);
    assert_int_equal(parse_str("HTTP/1.1 200 OK\r\nA: b\001\r\n\r\n"), XMPP_HTTP_ERR_HEADER);
    assert_int_equal(parse_str("HTTP/1.1 200 OK\r\nA: b\177\r\n\r\n"), XMPP_HTTP_ERR_HEADER);
    {
        static const char nul[] = "HTTP/1.1 200 OK\r\nA: b\0c\r\n\r\n";
        xmpp_ctx *ctx = ctx_new();
        xmpp__http_resp *r;
        assert_int_equal(xmpp__http_resp_new(&r, ctx, 0), XMPP_OK);
        assert_int_equal(parse(r, nul, sizeof(nul) - 1, NULL), XMPP_HTTP_ERR_HEADER);
        xmpp__http_resp_free(r);
        xmpp_ctx_free(ctx);
    }
    assert_int_equal(parse_str("HTTP/1.1 200 OK\r\nA: b\nC: d\r\n\r\n"), XMPP_HTTP_ERR_LINE_END);
    /* obs-text in values is allowed */
    assert_int_equal(parse_str("HTTP/1.1 200 OK\r\nA: \xc3\xa9\tz\r\nContent-Length: 0\r\n\r\n"),
                     XMPP_OK);
}

static void test_lengths(void **state) {
    (void)state;
    assert_int_equal(parse_str("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"), XMPP_OK);
    assert_int_equal(parse_str("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nab"), XMPP_HTTP_AGAIN);
    assert_int_equal(parse_str("HTTP/1.1 200 OK\r\nContent-Length: 3\r\ncontent-length: 3\r\n\r\nabc"),
                     XMPP_OK);
    assert_int_equal(parse_str("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n"),
                     XMPP_HTTP_ERR_LENGTH);
    assert_int_equal(parse_str("HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\n\r\n"), XMPP_HTTP_ERR_LENGTH);
    assert_int_equal(parse_str("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"), XMPP_HTTP_ERR_LENGTH);
    assert_int_equal(parse_str("HTTP/1.1 200 OK\r\nContent-Length: +1\r\n\r\n"), XMPP_HTTP_ERR_LENGTH);
    assert_int_equal(parse_str("HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n"), XMPP_HTTP_ERR_LENGTH);
    assert_int_equal(parse_str("HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n"), XMPP_HTTP_ERR_LENGTH);
    assert_int_equal(parse_str("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n"),
                     XMPP_HTTP_ERR_LENGTH);
    /* the limit (1000 in parse_str) is checked before the body arrives */
    assert_int_equal(parse_str("HTTP/1.1 200 OK\r\nContent-Length: 1001\r\n\r\n"),
                     XMPP_HTTP_ERR_BODY_LIMIT);
    assert_int_equal(parse_str("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"), XMPP_HTTP_AGAIN);
    assert_int_equal(parse_str("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n"),
                     XMPP_HTTP_ERR_ENCODING);
    assert_int_equal(parse_str("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"),
                     XMPP_HTTP_ERR_ENCODING);
    assert_int_equal(parse_str("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                               "Transfer-Encoding: chunked\r\n\r\n"),
                     XMPP_HTTP_ERR_ENCODING);
    assert_int_equal(parse_str("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                               "Content-Length: 3\r\n\r\n"),
                     XMPP_HTTP_ERR_ENCODING);
}

static void test_eof_body(void **state) {
    xmpp_ctx *ctx = ctx_new();
    xmpp__http_resp *r;
    size_t bl;
    (void)state;
    assert_int_equal(xmpp__http_resp_new(&r, ctx, 10), XMPP_OK);
    assert_int_equal(parse(r, "HTTP/1.1 200 OK\r\n\r\nabc", 22, NULL), XMPP_HTTP_AGAIN);
    assert_int_equal(xmpp__http_resp_feed(r, "def", 3, NULL), XMPP_HTTP_AGAIN);
    assert_int_equal(xmpp__http_resp_eof(r), XMPP_OK);
    assert_memory_equal(xmpp__http_resp_body(r, &bl), "abcdef", 6);
    assert_int_equal(bl, 6);
    assert_int_equal(parse(r, "HTTP/1.1 200 OK\r\n\r\n0123456789x", 30, NULL),
                     XMPP_HTTP_ERR_BODY_LIMIT);
    assert_int_equal(parse(r, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nab", 40, NULL),
                     XMPP_HTTP_AGAIN);
    assert_int_equal(xmpp__http_resp_eof(r), XMPP_HTTP_ERR_TRUNCATED);
    assert_int_equal(xmpp__http_resp_feed(r, "c", 1, NULL), XMPP_HTTP_ERR_TRUNCATED); /* sticky */
    assert_int_equal(parse(r, "HTTP/1.1 20", 11, NULL), XMPP_HTTP_AGAIN);
    assert_int_equal(xmpp__http_resp_eof(r), XMPP_HTTP_ERR_TRUNCATED);
    /* HEAD: no body whatever is announced */
    xmpp__http_resp_reset(r);
    xmpp__http_resp_set_head(r, 1);
    assert_int_equal(xmpp__http_resp_feed(r, "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n", 40,
                                          NULL),
                     XMPP_OK);
    xmpp__http_resp_free(r);
    xmpp_ctx_free(ctx);
}

static void test_chunked(void **state) {
    static const char in[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n"
                             "5;ext=1\r\nhello\r\na \r\n, chunked!\r\n0\r\nX-Trailer: y\r\n\r\nNEXT";
    xmpp_ctx *ctx = ctx_new();
    xmpp__http_resp *r;
    size_t c, bl;
    const char *b;
    (void)state;
    assert_int_equal(xmpp__http_resp_new(&r, ctx, 1000), XMPP_OK);
    assert_int_equal(parse(r, in, sizeof(in) - 1, &c), XMPP_OK);
    assert_int_equal(c, sizeof(in) - 1 - 4);
    b = xmpp__http_resp_body(r, &bl);
    assert_int_equal(bl, 15);
    assert_memory_equal(b, "hello, chunked!", 15);
    assert_null(xmpp__http_resp_find(r, "X-Trailer", NULL)); /* dropped */
    xmpp__http_resp_free(r);
    xmpp_ctx_free(ctx);
#define CH "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    assert_int_equal(parse_str(CH "0\r\n\r\n"), XMPP_OK);
    assert_int_equal(parse_str(CH "x\r\n"), XMPP_HTTP_ERR_CHUNK);
    assert_int_equal(parse_str(CH "\r\n"), XMPP_HTTP_ERR_CHUNK);
    assert_int_equal(parse_str(CH "-1\r\n"), XMPP_HTTP_ERR_CHUNK);
    assert_int_equal(parse_str(CH "1 x\r\n"), XMPP_HTTP_ERR_CHUNK);
    assert_int_equal(parse_str(CH "1;a\001\r\n"), XMPP_HTTP_ERR_CHUNK);
    assert_int_equal(parse_str(CH "0000000000000001\r\n"), XMPP_HTTP_ERR_CHUNK);
    assert_int_equal(parse_str(CH "FFFFFFFFFFFFFFF\r\n"), XMPP_HTTP_ERR_BODY_LIMIT);
    assert_int_equal(parse_str(CH "1\r\nab\r\n"), XMPP_HTTP_ERR_CHUNK);
    assert_int_equal(parse_str(CH "1\r\na\n"), XMPP_HTTP_ERR_CHUNK);
    assert_int_equal(parse_str(CH "1\na\r\n"), XMPP_HTTP_ERR_LINE_END);
    assert_int_equal(parse_str(CH "3e8\r\n"), XMPP_HTTP_AGAIN);         /* 1000: at the limit */
    assert_int_equal(parse_str(CH "3e8\r\n"), XMPP_HTTP_AGAIN);
    assert_int_equal(parse_str(CH "1f4\r\n" "0\r\n"), XMPP_HTTP_AGAIN); /* still data */
    assert_int_equal(parse_str(CH "3e9\r\n"), XMPP_HTTP_ERR_BODY_LIMIT);
    assert_int_equal(parse_str(CH "0\r\n a: b\r\n\r\n"), XMPP_HTTP_ERR_FOLDING);
    assert_int_equal(parse_str(CH "0\r\nbad\r\n\r\n"), XMPP_HTTP_ERR_HEADER);
    assert_int_equal(parse_str(CH "0\r\nA: b\r\n"), XMPP_HTTP_AGAIN);
}

static void test_limits(void **state) {
    xmpp_ctx *ctx = ctx_new();
    xmpp__http_resp *r;
    xmpp_buf b;
    int i;
    (void)state;
    xmpp__buf_init(&b, ctx);
    assert_int_equal(xmpp__http_resp_new(&r, ctx, 0), XMPP_OK);
    /* a status line of exactly 8192 bytes passes, 8193 does not */
    xmpp__buf_append_str(&b, "HTTP/1.1 200 ");
    while (b.len < XMPP_HTTP_LINE_MAX)
        xmpp__buf_append_char(&b, 'r');
    xmpp__buf_append_str(&b, "\r\n");
    assert_int_equal(parse(r, b.data, b.len, NULL), XMPP_HTTP_AGAIN);
    xmpp__buf_reset(&b);
    xmpp__buf_append_str(&b, "HTTP/1.1 200 ");
    while (b.len < XMPP_HTTP_LINE_MAX + 1)
        xmpp__buf_append_char(&b, 'r');
    assert_int_equal(parse(r, b.data, b.len, NULL), XMPP_HTTP_ERR_LINE_LONG);
    /* a header line over 8 KiB */
    xmpp__buf_reset(&b);
    xmpp__buf_append_str(&b, "HTTP/1.1 200 OK\r\nA: ");
    for (i = 0; i < XMPP_HTTP_LINE_MAX; i++)
        xmpp__buf_append_char(&b, 'v');
    assert_int_equal(parse(r, b.data, b.len, NULL), XMPP_HTTP_ERR_LINE_LONG);
    /* 64 fields pass, 65 do not */
    xmpp__buf_reset(&b);
    xmpp__buf_append_str(&b, "HTTP/1.1 200 OK\r\n");
    for (i = 0; i < XMPP_HTTP_HEADERS_MAX - 1; i++)
        xmpp__buf_append_str(&b, "A: b\r\n");
    xmpp__buf_append_str(&b, "Content-Length: 0\r\n");
    assert_int_equal(parse(r, b.data, b.len, NULL), XMPP_HTTP_AGAIN);
    xmpp__buf_append_str(&b, "\r\n");
    assert_int_equal(parse(r, b.data, b.len, NULL), XMPP_OK);
    assert_int_equal(xmpp__http_resp_header_count(r), 64);
    b.len -= 2;
    xmpp__buf_append_str(&b, "A: b\r\n\r\n");
    assert_int_equal(parse(r, b.data, b.len, NULL), XMPP_HTTP_ERR_HEADER_COUNT);
    /* trailers count too */
    xmpp__buf_reset(&b);
    xmpp__buf_append_str(&b, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n");
    for (i = 0; i < XMPP_HTTP_HEADERS_MAX; i++)
        xmpp__buf_append_str(&b, "T: b\r\n");
    assert_int_equal(parse(r, b.data, b.len, NULL), XMPP_HTTP_ERR_HEADER_COUNT);
    /* 16 KiB of header section: 3 lines of 6000 bytes */
    xmpp__buf_reset(&b);
    xmpp__buf_append_str(&b, "HTTP/1.1 200 OK\r\n");
    for (i = 0; i < 3; i++) {
        int k;
        xmpp__buf_append_str(&b, "A: ");
        for (k = 0; k < 6000; k++)
            xmpp__buf_append_char(&b, 'v');
        xmpp__buf_append_str(&b, "\r\n");
    }
    assert_int_equal(parse(r, b.data, b.len, NULL), XMPP_HTTP_ERR_HEADER_SIZE);
    assert_true(strstr(xmpp__http_resp_error(r), "header section") != NULL);
    xmpp__buf_free(&b);
    xmpp__http_resp_free(r);
    xmpp_ctx_free(ctx);
}

/* --- split invariance --------------------------------------------------------- */

typedef struct outcome {
    int rc, status;
    size_t consumed, nfields, body_len;
    char body[2048];
    char fields[2048];
} outcome;

static void run_split(xmpp__http_resp *r, const char *in, size_t n, size_t a, size_t b,
                      outcome *o) {
    size_t cuts[3] = {a, b, n}, pos = 0, k, c;
    int rc = XMPP_HTTP_AGAIN;
    xmpp__http_resp_reset(r);
    memset(o, 0, sizeof(*o));
    for (k = 0; k < 3 && rc == XMPP_HTTP_AGAIN; k++) {
        if (cuts[k] < pos)
            continue;
        rc = xmpp__http_resp_feed(r, in + pos, cuts[k] - pos, &c);
        o->consumed += c;
        pos = cuts[k];
    }
    o->rc = rc;
    o->status = xmpp__http_resp_status(r);
    o->nfields = xmpp__http_resp_header_count(r);
    {
        const char *body = xmpp__http_resp_body(r, &o->body_len);
        size_t i;
        memcpy(o->body, body, o->body_len < sizeof(o->body) ? o->body_len : sizeof(o->body));
        for (i = 0; i < o->nfields; i++) {
            const char *nm, *v;
            xmpp__http_resp_header(r, i, &nm, &v);
            strncat(o->fields, nm, sizeof(o->fields) - strlen(o->fields) - 1);
            strncat(o->fields, "=", sizeof(o->fields) - strlen(o->fields) - 1);
            strncat(o->fields, v, sizeof(o->fields) - strlen(o->fields) - 1);
        }
    }
}

static void test_splits(void **state) {
    static const char *const inputs[] = {
        "HTTP/1.1 200 OK\r\nContent-Length: 12\r\nA:  x \r\n\r\n<body/>12345TAIL",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n"
        "10\r\n0123456789abcdef\r\n0\r\nT: 1\r\n\r\nTAIL",
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x02hi",
        "HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 9999\r\n\r\n",
        "HTTP/1.1 200 OK\r\r\n",
    };
    xmpp_ctx *ctx = ctx_new();
    xmpp__http_resp *r;
    outcome *whole = malloc(sizeof(outcome)), *part = malloc(sizeof(outcome));
    size_t t, a, b;
    (void)state;
    assert_non_null(whole);
    assert_non_null(part);
    assert_int_equal(xmpp__http_resp_new(&r, ctx, 1000), XMPP_OK);
    for (t = 0; t < sizeof(inputs) / sizeof(inputs[0]); t++) {
        size_t n = strlen(inputs[t]);
        run_split(r, inputs[t], n, n, n, whole);
        for (a = 0; a <= n; a++) {
            for (b = a; b <= n; b += (n > 60 ? 7 : 1)) {
                run_split(r, inputs[t], n, a, b, part);
                assert_memory_equal(whole, part, sizeof(outcome));
            }
        }
        /* byte by byte */
        {
            size_t i, c, tot = 0;
            int rc = XMPP_HTTP_AGAIN;
            xmpp__http_resp_reset(r);
            for (i = 0; i < n && rc == XMPP_HTTP_AGAIN; i++) {
                rc = xmpp__http_resp_feed(r, inputs[t] + i, 1, &c);
                tot += c;
            }
            assert_int_equal(rc, whole->rc);
            assert_int_equal(tot, whole->consumed);
        }
    }
    free(whole);
    free(part);
    xmpp__http_resp_free(r);
    xmpp_ctx_free(ctx);
}

/* --- the request writer ------------------------------------------------------- */

static void test_request(void **state) {
    xmpp_ctx *ctx = ctx_new();
    xmpp_buf b;
    xmpp__http_field f[2] = {{"Host", "example.org"}, {"Content-Type", "text/xml"}};
    xmpp__http_field bad;
    static const char *const bad_values[] = {"a\r\nX-Injected: 1", "a\nb", "a\rb", "a\001"};
    static const char *const bad_names[] = {"X Y", "X:", "X\r\nY", "", "Content-Length",
                                            "transfer-encoding"};
    size_t i;
    (void)state;
    xmpp__buf_init(&b, ctx);
    assert_int_equal(xmpp__http_request(&b, "POST", "/http-bind", f, 2, "<body/>", 7), XMPP_OK);
    assert_string_equal(b.data, "POST /http-bind HTTP/1.1\r\nHost: example.org\r\n"
                                "Content-Type: text/xml\r\nContent-Length: 7\r\n\r\n<body/>");
    xmpp__buf_reset(&b);
    assert_int_equal(xmpp__http_request(&b, "GET", "/", f, 1, NULL, 0), XMPP_OK);
    assert_string_equal(b.data, "GET / HTTP/1.1\r\nHost: example.org\r\n\r\n");
    xmpp__buf_reset(&b);
    assert_int_equal(xmpp__http_request(&b, "POST", "/", NULL, 0, NULL, 0), XMPP_OK);
    assert_string_equal(b.data, "POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
    xmpp__buf_reset(&b);
    for (i = 0; i < sizeof(bad_values) / sizeof(bad_values[0]); i++) {
        bad.name = "X";
        bad.value = bad_values[i];
        assert_int_equal(xmpp__http_request(&b, "GET", "/", &bad, 1, NULL, 0), XMPP_ERR_INVALID);
    }
    for (i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
        bad.name = bad_names[i];
        bad.value = "v";
        assert_int_equal(xmpp__http_request(&b, "GET", "/", &bad, 1, NULL, 0), XMPP_ERR_INVALID);
    }
    assert_int_equal(xmpp__http_request(&b, "GE T", "/", NULL, 0, NULL, 0), XMPP_ERR_INVALID);
    assert_int_equal(xmpp__http_request(&b, "GET\r\n", "/", NULL, 0, NULL, 0), XMPP_ERR_INVALID);
    assert_int_equal(xmpp__http_request(&b, "GET", "/a b", NULL, 0, NULL, 0), XMPP_ERR_INVALID);
    assert_int_equal(xmpp__http_request(&b, "GET", "/a\r\nX: y", NULL, 0, NULL, 0), XMPP_ERR_INVALID);
    assert_int_equal(xmpp__http_request(&b, "GET", "", NULL, 0, NULL, 0), XMPP_ERR_INVALID);
    assert_int_equal(xmpp__http_request(&b, "POST", "/", NULL, 0, NULL, 3), XMPP_ERR_INVALID);
    assert_int_equal(xmpp__http_request(NULL, "GET", "/", NULL, 0, NULL, 0), XMPP_ERR_INVALID);
    assert_int_equal(b.len, 0);
    xmpp__buf_free(&b);
    xmpp_ctx_free(ctx);
    assert_int_equal(xmpp__http_list_has("keep-alive, Upgrade", "upgrade"), 1);
    assert_int_equal(xmpp__http_list_has(" upgrade2 ,x", "upgrade"), 0);
    assert_int_equal(xmpp__http_list_has("", "upgrade"), 0);
    assert_string_equal(xmpp__http_strerror(XMPP_HTTP_ERR_FOLDING), "obsolete header line folding");
}

/* --- allocation failure torture --------------------------------------------------- */

static int torture_scenario(xmpp_ctx *ctx, void *arg) {
    static const char in[] = "HTTP/1.1 200 OK\r\nA: b\r\nTransfer-Encoding: chunked\r\n\r\n"
                             "4\r\nabcd\r\n0\r\n\r\n";
    xmpp__http_resp *r;
    xmpp_buf b;
    xmpp__http_field f = {"Host", "h"};
    size_t i;
    int rc = XMPP_HTTP_AGAIN;
    (void)arg;
    if ((rc = xmpp__http_resp_new(&r, ctx, 0)) != XMPP_OK)
        return rc;
    rc = XMPP_HTTP_AGAIN;
    for (i = 0; i < sizeof(in) - 1 && rc == XMPP_HTTP_AGAIN; i += 5) {
        size_t n = sizeof(in) - 1 - i < 5 ? sizeof(in) - 1 - i : 5;
        rc = xmpp__http_resp_feed(r, in + i, n, NULL);
    }
    if (rc == XMPP_OK) {
        size_t bl;
        assert_memory_equal(xmpp__http_resp_body(r, &bl), "abcd", 4);
    } else {
        assert_int_equal(rc, XMPP_ERR_NOMEM);
    }
    xmpp__http_resp_free(r);
    if (rc != XMPP_OK)
        return rc;
    xmpp__buf_init(&b, ctx);
    rc = xmpp__http_request(&b, "POST", "/", &f, 1, "x", 1);
    if (rc != XMPP_OK)
        assert_int_equal(b.len, 0);
    xmpp__buf_free(&b);
    return rc;
}

static void test_torture(void **state) {
    (void)state;
    assert_true(th_torture(torture_scenario, NULL) >= 3);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic),    cmocka_unit_test(test_status_line),
        cmocka_unit_test(test_fields),   cmocka_unit_test(test_lengths),
        cmocka_unit_test(test_eof_body), cmocka_unit_test(test_chunked),
        cmocka_unit_test(test_limits),   cmocka_unit_test(test_splits),
        cmocka_unit_test(test_request),  cmocka_unit_test(test_torture),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
