/* The proxy handshakes and URL parser (lib/transport/proxy.c): SOCKS5
 * (RFC 1928) with and without RFC 1929 credentials, HTTP CONNECT (RFC 9110
 * §9.3.6) with and without Basic credentials, every failure code and every
 * malformed reply, split invariance, allocation-failure torture; and the
 * driver (xmpp_client_set_proxy) against scripted loopback proxies:
 * refused, bad credentials, garbage, silence, a good tunnel. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include <xmpp/client.h>
#include <xmpp/session.h>

#include "transport/proxy.h"
#include "testhelp.h"

static xmpp_ctx *ctx_new(void) {
    xmpp_ctx *ctx = NULL;
    assert_int_equal(xmpp_ctx_new(&ctx, NULL), XMPP_OK);
    return ctx;
}

/* ---- URL parser ------------------------------------------------------------------- */

static int url_rc(const char *s) {
    xmpp_ctx *ctx = ctx_new();
    xmpp__proxy_url u;
    char err[128];
    int rc = xmpp__proxy_url_parse(ctx, s, &u, err, sizeof(err));
    if (rc != XMPP_OK) {
        assert_true(strlen(err) > 0);
        assert_null(u.host);
        assert_null(u.user);
    }
    xmpp__proxy_url_clear(ctx, &u);
    xmpp_ctx_free(ctx);
    return rc;
}

static void test_url_good(void **state) {
    xmpp_ctx *ctx = ctx_new();
    xmpp__proxy_url u;
    (void)state;
    assert_int_equal(xmpp__proxy_url_parse(ctx, "socks5://127.0.0.1:1080", &u, NULL, 0), XMPP_OK);
    assert_int_equal(u.type, XMPP_PROXY_SOCKS5);
    assert_string_equal(u.host, "127.0.0.1");
    assert_int_equal(u.port, 1080);
    assert_null(u.user);
    xmpp__proxy_url_clear(ctx, &u);

    assert_int_equal(
        xmpp__proxy_url_parse(ctx, "SOCKS5://us%40er:p%3Aa:s%25s@proxy.example:9050/", &u, NULL, 0),
        XMPP_OK);
    assert_string_equal(u.host, "proxy.example");
    assert_int_equal(u.port, 9050);
    assert_string_equal(u.user, "us@er");
    assert_string_equal(u.pass, "p:a:s%s");
    xmpp__proxy_url_clear(ctx, &u);
    assert_null(u.host);

    assert_int_equal(xmpp__proxy_url_parse(ctx, "http://alice@[::1]:3128", &u, NULL, 0), XMPP_OK);
    assert_int_equal(u.type, XMPP_PROXY_HTTP);
    assert_string_equal(u.host, "::1");
    assert_string_equal(u.user, "alice");
    assert_string_equal(u.pass, "");
    xmpp__proxy_url_clear(ctx, &u);

    assert_int_equal(xmpp__proxy_url_parse(ctx, "socks5h://localhost:1", &u, NULL, 0), XMPP_OK);
    assert_int_equal(u.type, XMPP_PROXY_SOCKS5);
    assert_int_equal(u.port, 1);
    xmpp__proxy_url_clear(ctx, &u);
    xmpp_ctx_free(ctx);
}

static void test_url_bad(void **state) {
    static const char *bad[] = {
        "",
        "socks5://",
        "socks5://host",            /* no port */
        "socks5://host:",           /* empty port */
        "socks5://host:0",
        "socks5://host:65536",
        "socks5://host:123456",
        "socks5://host:80x",
        "socks4://host:1080",       /* scheme */
        "https://host:443",
        "ftp://host:21",
        "host:1080",
        "socks5://host:1080/path",
        "socks5://host:1080?q",
        "socks5://host:1080#f",
        "socks5://host:1080//",
        "socks5://a@b@host:1080",   /* two '@' */
        "socks5://@host:1080",      /* empty user */
        "socks5://:pw@host:1080",
        "socks5://u:%zz@host:1080", /* bad percent-encoding */
        "socks5://u:%4@host:1080",
        "socks5://u:%00@host:1080", /* NUL */
        "socks5://u:p w@host:1080", /* space */
        "socks5://u:p/w@host:1080",
        "socks5://u\x01:p@host:1080",
        "socks5://u:p@ho_st:1080",  /* not LDH */
        "socks5://u:p@-host:1080",
        "socks5://u:p@host-.x:1080",
        "socks5://[::1:1080",
        "socks5://[zz::1]:1080",
        "socks5://[]:1080",
        "socks5://[::1]1080",
        "http://us%3Aer:pw@host:3128", /* ':' in a Basic user-id */
        "http://h\xc3\xa9:3128",       /* non-ASCII */
    };
    char longuser[400], longurl[1200];
    size_t i;
    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (url_rc(bad[i]) != XMPP_PROXY_ERR_URL)
            fail_msg("accepted: \"%s\"", bad[i]);
    }
    memset(longuser, 'u', 256);
    longuser[256] = '\0';
    snprintf(longurl, sizeof(longurl), "socks5://%s:p@h:1", longuser);
    assert_int_equal(url_rc(longurl), XMPP_PROXY_ERR_URL);
    longuser[255] = '\0';
    snprintf(longurl, sizeof(longurl), "socks5://%s:p@h:1", longuser);
    assert_int_equal(url_rc(longurl), XMPP_OK);
    memset(longurl, 'a', sizeof(longurl) - 1);
    memcpy(longurl, "http://", 7);
    longurl[sizeof(longurl) - 1] = '\0';
    assert_int_equal(url_rc(longurl), XMPP_PROXY_ERR_URL);
}

/* ---- handshakes ------------------------------------------------------------------- */

typedef struct hs {
    xmpp_ctx *ctx;
    xmpp__proxy *p;
    xmpp_buf out;
} hs;

static void hs_new(hs *h, xmpp__proxy_type type, const char *user, const char *pass,
                   const char *target, unsigned port) {
    xmpp__proxy_url u;
    memset(&u, 0, sizeof(u));
    u.type = type;
    u.host = (char *)"proxy.test";
    u.port = 1080;
    u.user = (char *)user;
    u.pass = (char *)pass;
    h->ctx = ctx_new();
    xmpp__buf_init(&h->out, h->ctx);
    assert_int_equal(xmpp__proxy_new(&h->p, h->ctx, &u, target, port), XMPP_OK);
    assert_int_equal(xmpp__proxy_start(h->p, &h->out), XMPP_OK);
    assert_int_equal(xmpp__proxy_start(h->p, &h->out), XMPP_ERR_STATE);
}

static void hs_free(hs *h) {
    xmpp__proxy_free(h->p);
    xmpp__buf_free(&h->out);
    xmpp_ctx_free(h->ctx);
}

/* Asserts the bytes to send so far, then forgets them. */
static void expect_out(hs *h, const void *bytes, size_t n) {
    assert_int_equal(h->out.len, n);
    assert_memory_equal(h->out.data, bytes, n);
    xmpp__buf_reset(&h->out);
}

static int feed(hs *h, const void *d, size_t n, size_t *consumed) {
    return xmpp__proxy_feed(h->p, d, n, consumed, &h->out);
}

static void test_socks5_name(void **state) {
    hs h;
    size_t c;
    static const unsigned char req[] = {5, 1, 0, 3, 12, 'x', 'm', 'p', 'p', '.', 'e',
                                        'x', 'a', 'm', 'p', 'l', 'e', 0x14, 0x66};
    static const unsigned char rep[] = {5, 0, 0, 1, 10, 0, 0, 1, 0x9c, 0x40, '<', '?'};
    (void)state;
    hs_new(&h, XMPP_PROXY_SOCKS5, NULL, NULL, "xmpp.example", 5222);
    expect_out(&h, "\x05\x01\x00", 3); /* RFC 1928 §3: only "no authentication" */
    assert_int_equal(feed(&h, "\x05", 1, &c), XMPP_PROXY_AGAIN);
    assert_int_equal(c, 1);
    assert_int_equal(h.out.len, 0);
    assert_int_equal(feed(&h, "\x00", 1, &c), XMPP_PROXY_AGAIN);
    expect_out(&h, req, sizeof(req)); /* ATYP 3: the proxy resolves */
    assert_int_equal(feed(&h, rep, sizeof(rep), &c), XMPP_OK);
    assert_int_equal(c, 10); /* "<?" belongs to the tunnel */
    assert_int_equal(feed(&h, "zz", 2, &c), XMPP_OK);
    assert_int_equal(c, 0);
    assert_int_equal(xmpp__proxy_eof(h.p), XMPP_OK);
    assert_string_equal(xmpp__proxy_error(h.p), "");
    hs_free(&h);
}

static void test_socks5_literals(void **state) {
    hs h;
    size_t c;
    static const unsigned char req4[] = {5, 1, 0, 1, 127, 0, 0, 1, 0x14, 0x66};
    static const unsigned char req6[] = {5, 1, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0,
                                         0, 0, 0, 0, 0, 0, 0, 1, 0x14, 0x67};
    /* a bound IPv6 address, then a bound name */
    static const unsigned char rep6[] = {5, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                         0, 0, 0, 0, 0, 0, 1, 0, 80};
    static const unsigned char repn[] = {5, 0, 0, 3, 3, 'a', '.', 'b', 0, 80, 'X'};
    (void)state;
    hs_new(&h, XMPP_PROXY_SOCKS5, NULL, NULL, "127.0.0.1", 5222);
    xmpp__buf_reset(&h.out);
    assert_int_equal(feed(&h, "\x05\x00", 2, &c), XMPP_PROXY_AGAIN);
    expect_out(&h, req4, sizeof(req4));
    assert_int_equal(feed(&h, rep6, sizeof(rep6), &c), XMPP_OK);
    assert_int_equal(c, sizeof(rep6));
    hs_free(&h);

    hs_new(&h, XMPP_PROXY_SOCKS5, NULL, NULL, "[::1]", 5223);
    xmpp__buf_reset(&h.out);
    assert_int_equal(feed(&h, "\x05\x00", 2, &c), XMPP_PROXY_AGAIN);
    expect_out(&h, req6, sizeof(req6));
    assert_int_equal(feed(&h, repn, sizeof(repn), &c), XMPP_OK);
    assert_int_equal(c, sizeof(repn) - 1);
    hs_free(&h);
}

static void test_socks5_auth(void **state) {
    hs h;
    size_t c;
    static const unsigned char auth[] = {1, 4, 'u', 's', 'e', 'r', 6, 's', 'e', 'c', 'r', 'e', 't'};
    (void)state;
    hs_new(&h, XMPP_PROXY_SOCKS5, "user", "secret", "xmpp.example", 5222);
    expect_out(&h, "\x05\x02\x00\x02", 4);
    assert_int_equal(feed(&h, "\x05\x02", 2, &c), XMPP_PROXY_AGAIN);
    expect_out(&h, auth, sizeof(auth)); /* RFC 1929 §2 */
    assert_int_equal(feed(&h, "\x01\x00", 2, &c), XMPP_PROXY_AGAIN);
    assert_int_equal(h.out.data[0], 5); /* now the CONNECT request */
    assert_int_equal(h.out.data[3], 3);
    xmpp__buf_reset(&h.out);
    assert_int_equal(feed(&h, "\x05\x00\x00\x01\x01\x02\x03\x04\x00\x01", 10, &c), XMPP_OK);
    hs_free(&h);

    /* the proxy may still choose "no authentication" */
    hs_new(&h, XMPP_PROXY_SOCKS5, "user", "", "xmpp.example", 5222);
    xmpp__buf_reset(&h.out);
    assert_int_equal(feed(&h, "\x05\x00", 2, &c), XMPP_PROXY_AGAIN);
    assert_int_equal(h.out.data[0], 5);
    hs_free(&h);
}

/* Runs a SOCKS5 conversation to its end and returns the result; the error
 * text must contain `needle`. */
static int socks_fail(const char *user, const void *rep, size_t n, const char *needle) {
    hs h;
    size_t c;
    int rc;
    hs_new(&h, XMPP_PROXY_SOCKS5, user, user ? "pw" : NULL, "xmpp.example", 5222);
    rc = feed(&h, rep, n, &c);
    if (rc != XMPP_PROXY_AGAIN && rc != XMPP_OK) {
        if (strstr(xmpp__proxy_error(h.p), needle) == NULL)
            fail_msg("\"%s\" does not name \"%s\"", xmpp__proxy_error(h.p), needle);
        /* sticky */
        assert_int_equal(feed(&h, "\x05\x00", 2, &c), rc);
        assert_int_equal(c, 0);
        assert_int_equal(xmpp__proxy_eof(h.p), rc);
    }
    hs_free(&h);
    return rc;
}

static void test_socks5_failures(void **state) {
    static const struct {
        unsigned char code;
        int rc;
        const char *name;
    } reps[] = {
        {1, XMPP_PROXY_ERR_REFUSED, "general SOCKS server failure"},
        {2, XMPP_PROXY_ERR_REFUSED, "not allowed by ruleset"},
        {3, XMPP_PROXY_ERR_UNREACHABLE, "network unreachable"},
        {4, XMPP_PROXY_ERR_UNREACHABLE, "host unreachable"},
        {5, XMPP_PROXY_ERR_UNREACHABLE, "connection refused"},
        {6, XMPP_PROXY_ERR_UNREACHABLE, "TTL expired"},
        {7, XMPP_PROXY_ERR_REFUSED, "command not supported"},
        {8, XMPP_PROXY_ERR_REFUSED, "address type not supported"},
        {9, XMPP_PROXY_ERR_REFUSED, "unassigned"},
        {255, XMPP_PROXY_ERR_REFUSED, "reply 255"},
    };
    unsigned char r[8] = {5, 0, 5, 0, 0, 1, 0, 0};
    size_t i;
    (void)state;
    for (i = 0; i < sizeof(reps) / sizeof(reps[0]); i++) {
        r[3] = reps[i].code;
        assert_int_equal(socks_fail(NULL, r, 8, reps[i].name), reps[i].rc);
    }
    /* method selection */
    assert_int_equal(socks_fail(NULL, "\x05\xff", 2, "no acceptable method"),
                     XMPP_PROXY_ERR_AUTH_NEEDED);
    assert_int_equal(socks_fail("u", "\x05\xff", 2, "no acceptable method"),
                     XMPP_PROXY_ERR_AUTH_NEEDED);
    assert_int_equal(socks_fail(NULL, "\x05\x02", 2, "not offered"), XMPP_PROXY_ERR_MALFORMED);
    assert_int_equal(socks_fail(NULL, "\x05\x01", 2, "method 1"), XMPP_PROXY_ERR_MALFORMED);
    assert_int_equal(socks_fail(NULL, "\x04\x00", 2, "version 4"), XMPP_PROXY_ERR_MALFORMED);
    assert_int_equal(socks_fail(NULL, "HTTP/1.1 400", 12, "version 72"),
                     XMPP_PROXY_ERR_MALFORMED);
    /* RFC 1929 status */
    assert_int_equal(socks_fail("u", "\x05\x02\x01\x01", 4, "rejected the user name or password"),
                     XMPP_PROXY_ERR_AUTH);
    assert_int_equal(socks_fail("u", "\x05\x02\x01\xff", 4, "status 255"), XMPP_PROXY_ERR_AUTH);
    assert_int_equal(socks_fail("u", "\x05\x02\x05\x00", 4, "version 5"),
                     XMPP_PROXY_ERR_MALFORMED);
    /* CONNECT reply */
    assert_int_equal(socks_fail(NULL, "\x05\x00\x04\x00\x00\x01", 6, "version 4"),
                     XMPP_PROXY_ERR_MALFORMED);
    assert_int_equal(socks_fail(NULL, "\x05\x00\x05\x00\x01\x01", 6, "reserved byte 1"),
                     XMPP_PROXY_ERR_MALFORMED);
    assert_int_equal(socks_fail(NULL, "\x05\x00\x05\x00\x00\x02", 6, "address type 2"),
                     XMPP_PROXY_ERR_MALFORMED);
    assert_int_equal(socks_fail(NULL, "\x05\x00\x05\x00\x00\x03\x00", 7, "empty bound name"),
                     XMPP_PROXY_ERR_MALFORMED);
    /* short replies wait, then end with the connection */
    assert_int_equal(socks_fail(NULL, "\x05\x00\x05\x00\x00\x01\x7f", 7, ""), XMPP_PROXY_AGAIN);
}

static void test_socks5_eof(void **state) {
    hs h;
    size_t c;
    (void)state;
    hs_new(&h, XMPP_PROXY_SOCKS5, NULL, NULL, "xmpp.example", 5222);
    assert_int_equal(feed(&h, "\x05\x00\x05\x00\x00\x03\x05", 7, &c), XMPP_PROXY_AGAIN);
    assert_int_equal(xmpp__proxy_eof(h.p), XMPP_PROXY_ERR_CLOSED);
    assert_non_null(strstr(xmpp__proxy_error(h.p), "closed"));
    assert_non_null(strstr(xmpp__proxy_error(h.p), "SOCKS5"));
    assert_int_equal(feed(&h, "x", 1, &c), XMPP_PROXY_ERR_CLOSED);
    hs_free(&h);
}

/* Every split of a reply gives the same result and the same bytes out. */
static void split_check(xmpp__proxy_type type, const char *user, const void *rep, size_t n) {
    hs whole, part;
    size_t c, cw, i, j, total;
    int rw, rp;
    hs_new(&whole, type, user, "pw", "xmpp.example", 5222);
    rw = feed(&whole, rep, n, &cw);
    for (i = 1; i < n; i++) {
        hs_new(&part, type, user, "pw", "xmpp.example", 5222);
        rp = XMPP_PROXY_AGAIN;
        total = 0;
        for (j = 0; j < n && rp == XMPP_PROXY_AGAIN; j += i) {
            size_t k = n - j < i ? n - j : i;
            rp = feed(&part, (const char *)rep + j, k, &c);
            total += c;
        }
        assert_int_equal(rp, rw);
        assert_int_equal(total, cw);
        assert_int_equal(part.out.len, whole.out.len);
        assert_memory_equal(part.out.data, whole.out.data, whole.out.len);
        hs_free(&part);
    }
    hs_free(&whole);
}

static void test_split(void **state) {
    static const char s5[] = "\x05\x02\x01\x00\x05\x00\x00\x03\x04host\x00\x50tunnel";
    static const char s5f[] = "\x05\x00\x05\x04\x00\x01\x00\x00\x00\x00\x00\x00";
    static const char h200[] = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 Connection established\r\n"
                               "Proxy-Agent: t\r\n\r\n<?xml version='1.0'?>";
    static const char h407[] = "HTTP/1.0 407 Proxy Authentication Required\r\n\r\n";
    (void)state;
    split_check(XMPP_PROXY_SOCKS5, "u", s5, sizeof(s5) - 1);
    split_check(XMPP_PROXY_SOCKS5, NULL, s5f, sizeof(s5f) - 1);
    split_check(XMPP_PROXY_HTTP, NULL, h200, sizeof(h200) - 1);
    split_check(XMPP_PROXY_HTTP, "u", h407, sizeof(h407) - 1);
}

static void test_http_connect(void **state) {
    hs h;
    size_t c;
    static const char req[] = "CONNECT xmpp.example:5222 HTTP/1.1\r\n"
                              "Host: xmpp.example:5222\r\n\r\n";
    static const char reqa[] = "CONNECT [2001:db8::1]:5223 HTTP/1.1\r\n"
                               "Host: [2001:db8::1]:5223\r\n"
                               "Proxy-Authorization: Basic dXNlcjpzZWNyZXQ=\r\n\r\n";
    /* a 2xx has no body whatever it announces (RFC 9110 §9.3.6) */
    static const char rep[] = "HTTP/1.1 200 Connection established\r\nContent-Length: 10\r\n\r\n"
                              "<?xml version='1.0'?>";
    (void)state;
    hs_new(&h, XMPP_PROXY_HTTP, NULL, NULL, "xmpp.example", 5222);
    expect_out(&h, req, sizeof(req) - 1);
    assert_int_equal(feed(&h, rep, 20, &c), XMPP_PROXY_AGAIN);
    assert_int_equal(c, 20);
    assert_int_equal(feed(&h, rep + 20, sizeof(rep) - 1 - 20, &c), XMPP_OK);
    assert_int_equal(20 + c, sizeof(rep) - 1 - strlen("<?xml version='1.0'?>"));
    assert_int_equal(h.out.len, 0);
    hs_free(&h);

    hs_new(&h, XMPP_PROXY_HTTP, "user", "secret", "2001:db8::1", 5223);
    expect_out(&h, reqa, sizeof(reqa) - 1);
    assert_int_equal(feed(&h, "HTTP/1.0 204 No Content\r\n\r\n", 27, &c), XMPP_OK);
    hs_free(&h);
}

static int http_fail(const char *user, const char *rep, const char *needle) {
    hs h;
    size_t c;
    int rc;
    hs_new(&h, XMPP_PROXY_HTTP, user, user ? "pw" : NULL, "xmpp.example", 5222);
    rc = feed(&h, rep, strlen(rep), &c);
    if (rc != XMPP_PROXY_AGAIN && rc != XMPP_OK) {
        if (strstr(xmpp__proxy_error(h.p), needle) == NULL)
            fail_msg("\"%s\" does not name \"%s\"", xmpp__proxy_error(h.p), needle);
        assert_int_equal(feed(&h, "HTTP/1.1 200 OK\r\n\r\n", 19, &c), rc);
    } else if (rc == XMPP_PROXY_AGAIN) {
        rc = xmpp__proxy_eof(h.p);
        assert_non_null(strstr(xmpp__proxy_error(h.p), needle));
    }
    hs_free(&h);
    return rc;
}

static void test_http_failures(void **state) {
    (void)state;
    assert_int_equal(http_fail("u", "HTTP/1.1 407 Proxy Authentication Required\r\n"
                                    "Proxy-Authenticate: Basic realm=\"p\"\r\n\r\n",
                               "HTTP 407"),
                     XMPP_PROXY_ERR_AUTH);
    assert_int_equal(http_fail("u", "HTTP/1.1 401 Unauthorized\r\n\r\n", "failed: HTTP 401"),
                     XMPP_PROXY_ERR_AUTH);
    assert_int_equal(http_fail(NULL, "HTTP/1.1 401 Unauthorized\r\n\r\n", "refused"),
                     XMPP_PROXY_ERR_REFUSED);
    assert_int_equal(http_fail(NULL, "HTTP/1.1 407 Nope\r\n\r\n", "requires authentication"),
                     XMPP_PROXY_ERR_AUTH_NEEDED);
    assert_int_equal(http_fail(NULL, "HTTP/1.1 403 Forbidden\r\n\r\n", "HTTP 403 Forbidden"),
                     XMPP_PROXY_ERR_REFUSED);
    assert_int_equal(http_fail(NULL, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 1\r\n\r\nx",
                               "xmpp.example:5222: HTTP 502"),
                     XMPP_PROXY_ERR_UNREACHABLE);
    assert_int_equal(http_fail(NULL, "HTTP/1.1 504 Gateway Timeout\r\n\r\n", "HTTP 504"),
                     XMPP_PROXY_ERR_UNREACHABLE);
    assert_int_equal(http_fail(NULL, "HTTP/1.1 101 Switching Protocols\r\n\r\n", "HTTP 101"),
                     XMPP_PROXY_ERR_REFUSED);
    assert_int_equal(http_fail(NULL, "HTTP/1.1 301 Moved\r\nLocation: x\r\n\r\n", "HTTP 301"),
                     XMPP_PROXY_ERR_REFUSED);
    assert_int_equal(http_fail(NULL, "HTTP/1.1 200 OK\n\n", "bare CR or LF"),
                     XMPP_PROXY_ERR_MALFORMED);
    assert_int_equal(http_fail(NULL, "SSH-2.0-OpenSSH_9.2\r\n", "HTTP reply"),
                     XMPP_PROXY_ERR_MALFORMED);
    assert_int_equal(http_fail(NULL, "HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", "folding"),
                     XMPP_PROXY_ERR_MALFORMED);
    assert_int_equal(http_fail(NULL, "HTTP/1.1 200 OK\r\nX: y", "closed"),
                     XMPP_PROXY_ERR_CLOSED);
    {
        /* an endless header section is cut at the parser's bound */
        char *big = malloc(40000);
        size_t i;
        assert_non_null(big);
        strcpy(big, "HTTP/1.1 200 OK\r\n");
        for (i = strlen(big); i < 39990; i += 10)
            memcpy(big + i, "X-a: bbb\r\n", 10);
        big[i] = '\0';
        assert_int_equal(http_fail(NULL, big, "too many header fields"), XMPP_PROXY_ERR_MALFORMED);
        free(big);
    }
}

static void test_new_invalid(void **state) {
    xmpp_ctx *ctx = ctx_new();
    xmpp__proxy_url u;
    xmpp__proxy *p = (xmpp__proxy *)&u;
    char host[300];
    (void)state;
    memset(&u, 0, sizeof(u));
    u.host = (char *)"h";
    u.port = 1;
    assert_int_equal(xmpp__proxy_new(&p, ctx, &u, "x", 5222), XMPP_ERR_INVALID); /* no type */
    assert_null(p);
    u.type = XMPP_PROXY_SOCKS5;
    assert_int_equal(xmpp__proxy_new(&p, ctx, &u, "", 5222), XMPP_ERR_INVALID);
    assert_int_equal(xmpp__proxy_new(&p, ctx, &u, "x", 0), XMPP_ERR_INVALID);
    assert_int_equal(xmpp__proxy_new(&p, ctx, &u, "x", 65536), XMPP_ERR_INVALID);
    assert_int_equal(xmpp__proxy_new(&p, ctx, &u, "a b", 1), XMPP_ERR_INVALID);
    memset(host, 'a', 256);
    host[256] = '\0';
    assert_int_equal(xmpp__proxy_new(&p, ctx, &u, host, 1), XMPP_ERR_INVALID);
    host[255] = '\0';
    assert_int_equal(xmpp__proxy_new(&p, ctx, &u, host, 1), XMPP_OK);
    assert_int_equal(xmpp__proxy_feed(p, "x", 1, NULL, NULL), XMPP_ERR_INVALID);
    xmpp__proxy_free(p);
    xmpp__proxy_free(NULL);
    xmpp_ctx_free(ctx);
}

/* ---- allocation failure torture ------------------------------------------------- */

static int torture_scenario(xmpp_ctx *ctx, void *arg) {
    xmpp__proxy_url u;
    xmpp__proxy *p = NULL;
    xmpp_buf out;
    int rc;
    (void)arg;
    xmpp__buf_init(&out, ctx);
    rc = xmpp__proxy_url_parse(ctx, "http://user:secret@proxy:3128", &u, NULL, 0);
    if (rc != XMPP_OK)
        return rc;
    rc = xmpp__proxy_new(&p, ctx, &u, "xmpp.example", 5222);
    xmpp__proxy_url_clear(ctx, &u);
    if (rc == XMPP_OK)
        rc = xmpp__proxy_start(p, &out);
    if (rc == XMPP_OK) {
        rc = xmpp__proxy_feed(p, "HTTP/1.1 200 OK\r\nA: b\r\n\r\n", 26, NULL, &out);
        if (rc != XMPP_OK && rc != XMPP_ERR_NOMEM)
            rc = XMPP_ERR_NOMEM; /* a refused allocation inside the parser */
    }
    xmpp__proxy_free(p);
    xmpp__buf_free(&out);
    return rc;
}

static void test_torture(void **state) {
    (void)state;
    assert_true(th_torture(torture_scenario, NULL) >= 3);
}

/* ---- the driver against scripted loopback proxies -------------------------------- */

typedef struct fake {
    int lfd;
    unsigned port;
    const char *script; /* what to answer: see fake_main */
    unsigned char got[512];
    size_t ngot;
    unsigned char got2[512]; /* what came through the tunnel */
    size_t ngot2;
    pthread_t th;
} fake;

static size_t read_some(int fd, unsigned char *buf, size_t cap, size_t want) {
    size_t n = 0;
    while (n < want && n < cap) {
        ssize_t r = recv(fd, buf + n, cap - n, 0);
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    return n;
}

static void *fake_main(void *arg) {
    fake *f = arg;
    int fd = accept(f->lfd, NULL, NULL);
    if (fd < 0)
        return NULL;
    if (strcmp(f->script, "socks-refuse") == 0) {
        f->ngot = read_some(fd, f->got, sizeof(f->got), 3);
        send(fd, "\x05\x00", 2, 0);
        f->ngot += read_some(fd, f->got + f->ngot, sizeof(f->got) - f->ngot, 7);
        send(fd, "\x05\x05\x00\x01\x00\x00\x00\x00\x00\x00", 10, 0);
    } else if (strcmp(f->script, "socks-badauth") == 0) {
        f->ngot = read_some(fd, f->got, sizeof(f->got), 4);
        send(fd, "\x05\x02", 2, 0);
        f->ngot += read_some(fd, f->got + f->ngot, sizeof(f->got) - f->ngot, 8);
        send(fd, "\x01\x01", 2, 0);
    } else if (strcmp(f->script, "garbage") == 0) {
        f->ngot = read_some(fd, f->got, sizeof(f->got), 1);
        send(fd, "\x04\x5a\x00\x00\x00\x00\x00\x00", 8, 0);
    } else if (strcmp(f->script, "http-407") == 0) {
        f->ngot = read_some(fd, f->got, sizeof(f->got), 20);
        usleep(20000);
        send(fd, "HTTP/1.1 407 Proxy Authentication Required\r\n\r\n", 46, 0);
    } else if (strcmp(f->script, "silent") == 0) {
        f->ngot = read_some(fd, f->got, sizeof(f->got), 3);
        usleep(600000);
    } else if (strcmp(f->script, "http-tunnel-close") == 0) {
        /* a good tunnel, whose far end then sends garbage and closes */
        f->ngot = read_some(fd, f->got, sizeof(f->got), 20);
        usleep(20000);
        send(fd, "HTTP/1.1 200 Connection established\r\n\r\n", 39, 0);
        f->ngot2 = read_some(fd, f->got2, sizeof(f->got2) - 1, 60);
    }
    usleep(50000);
    close(fd);
    return NULL;
}

static void fake_start(fake *f, const char *script) {
    struct sockaddr_in a;
    socklen_t al = sizeof(a);
    int one = 1;
    memset(f, 0, sizeof(*f));
    f->script = script;
    f->lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(f->lfd >= 0);
    setsockopt(f->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(f->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(f->lfd, 4), 0);
    assert_int_equal(getsockname(f->lfd, (struct sockaddr *)&a, &al), 0);
    f->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&f->th, NULL, fake_main, f), 0);
}

static void fake_stop(fake *f) {
    pthread_join(f->th, NULL);
    close(f->lfd);
}

typedef struct app {
    int closed;
    xmpp_disconnect_cause cause;
} app;

static void on_closed(xmpp_session *s, xmpp_disconnect_cause cause, void *ud) {
    app *a = ud;
    (void)s;
    a->closed++;
    a->cause = cause;
}

void xmpp__client_test_params(xmpp_client *c, unsigned fallback_port,
                              unsigned fallback_direct_port, unsigned connect_timeout_ms);

/* Connects through the fake proxy; returns the cause, the error text in err. */
unsigned long xmpp__client_connect_count(const xmpp_client *c);
static unsigned long g_connects;
static int g_reconnect;

static xmpp_disconnect_cause drive(const char *url_prefix, const char *script, fake *f, char *err,
                                   size_t errsz) {
    xmpp_ctx *ctx = ctx_new();
    xmpp_session_options *o = NULL;
    xmpp_client *c = NULL;
    app a = {0, XMPP_CAUSE_NONE};
    char url[200];
    int i;
    fake_start(f, script);
    snprintf(url, sizeof(url), "%s127.0.0.1:%u/", url_prefix, f->port);
    assert_int_equal(xmpp_session_options_new(&o, ctx), XMPP_OK);
    assert_int_equal(xmpp_session_options_set_jid(o, "alice@xmpp.example"), XMPP_OK);
    assert_int_equal(xmpp_session_options_set_password(o, "pw"), XMPP_OK);
    xmpp_session_options_set_callbacks(o, NULL, on_closed, &a);
    assert_int_equal(xmpp_client_new(&c, ctx, o), XMPP_OK);
    xmpp_session_options_free(o);
    assert_int_equal(xmpp_client_set_proxy(c, url), XMPP_OK);
    assert_int_equal(xmpp_client_set_server(c, "xmpp.example", 5222), XMPP_OK);
    xmpp__client_test_params(c, 0, 0, 300);
    if (g_reconnect)
        assert_int_equal(xmpp_client_set_reconnect(c, 20, 40, 3), XMPP_OK);
    assert_int_equal(xmpp_client_connect(c), XMPP_OK);
    assert_int_equal(xmpp_client_set_proxy(c, NULL), XMPP_ERR_STATE);
    for (i = 0; i < 400 && xmpp_client_run_once(c, 50) == XMPP_OK; i++)
        ;
    assert_int_equal(a.closed, 1);
    snprintf(err, errsz, "%s", xmpp_client_error(c) ? xmpp_client_error(c) : "");
    g_connects = xmpp__client_connect_count(c);
    xmpp_client_free(c);
    xmpp_ctx_free(ctx);
    fake_stop(f);
    return a.cause;
}

static void test_driver(void **state) {
    fake f;
    char err[256];
    (void)state;
    assert_int_equal(drive("socks5://", "socks-refuse", &f, err, sizeof(err)),
                     XMPP_CAUSE_PROXY);
    assert_non_null(strstr(err, "xmpp.example:5222: connection refused (SOCKS5 reply 5)"));
    /* the name, not an address, went to the proxy */
    assert_int_equal(f.ngot, 3 + 7 + 12);
    assert_memory_equal(f.got + 3, "\x05\x01\x00\x03\x0cxmpp.example", 17);

    assert_int_equal(drive("socks5://al%69ce:s3cret@", "socks-badauth", &f, err,
                           sizeof(err)),
                     XMPP_CAUSE_PROXY);
    assert_non_null(strstr(err, "proxy authentication failed"));
    assert_non_null(strstr(err, "127.0.0.1"));
    assert_null(strstr(err, "s3cret")); /* never the password */
    assert_memory_equal(f.got + 4, "\x01\x05" "alice\x06s3cret", 13);
    /* refused credentials are not retried by the reconnect policy */
    g_reconnect = 1;
    assert_int_equal(drive("socks5://alice:s3cret@", "socks-badauth", &f, err, sizeof(err)),
                     XMPP_CAUSE_PROXY);
    g_reconnect = 0;
    assert_int_equal(g_connects, 1);

    assert_int_equal(drive("socks5://", "garbage", &f, err, sizeof(err)),
                     XMPP_CAUSE_PROXY);
    assert_non_null(strstr(err, "malformed proxy reply"));

    assert_int_equal(drive("http://u:p@", "http-407", &f, err, sizeof(err)),
                     XMPP_CAUSE_PROXY);
    assert_non_null(strstr(err, "HTTP 407"));
    assert_non_null(strstr((const char *)f.got, "CONNECT xmpp.example:5222 HTTP/1.1\r\n"));
    assert_non_null(strstr((const char *)f.got, "Proxy-Authorization: Basic dTpw\r\n"));

    assert_int_equal(drive("socks5://", "silent", &f, err, sizeof(err)),
                     XMPP_CAUSE_PROXY);
    assert_non_null(strstr(err, "no answer"));

    /* through the tunnel the session starts: its stream header is sent,
     * and the far end's close ends it as a remote close */
    assert_int_equal(drive("http://", "http-tunnel-close", &f, err, sizeof(err)),
                     XMPP_CAUSE_REMOTE_CLOSE);
    assert_true(f.ngot2 >= 60);
    assert_non_null(strstr((const char *)f.got2, "<stream:stream"));
}

static void test_set_proxy_api(void **state) {
    xmpp_ctx *ctx = ctx_new();
    xmpp_session_options *o = NULL;
    xmpp_client *c = NULL;
    (void)state;
    assert_int_equal(xmpp_session_options_new(&o, ctx), XMPP_OK);
    assert_int_equal(xmpp_session_options_set_jid(o, "alice@xmpp.example"), XMPP_OK);
    assert_int_equal(xmpp_client_new(&c, ctx, o), XMPP_OK);
    xmpp_session_options_free(o);
    assert_int_equal(xmpp_client_set_proxy(NULL, "socks5://h:1"), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_client_set_proxy(c, "socks5://u:hunter2@h"), XMPP_ERR_INVALID);
    assert_non_null(xmpp_client_error(c));
    assert_non_null(strstr(xmpp_client_error(c), "port"));
    assert_null(strstr(xmpp_client_error(c), "hunter2"));
    assert_int_equal(xmpp_client_set_proxy(c, "socks5://u:hunter2@h:1"), XMPP_OK);
    assert_null(xmpp_client_error(c));
    assert_int_equal(xmpp_client_set_proxy(c, "http://h:3128"), XMPP_OK);
    assert_int_equal(xmpp_client_set_proxy(c, NULL), XMPP_OK);
    xmpp_client_free(c);
    xmpp_ctx_free(ctx);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_good),        cmocka_unit_test(test_url_bad),
        cmocka_unit_test(test_socks5_name),     cmocka_unit_test(test_socks5_literals),
        cmocka_unit_test(test_socks5_auth),     cmocka_unit_test(test_socks5_failures),
        cmocka_unit_test(test_socks5_eof),      cmocka_unit_test(test_split),
        cmocka_unit_test(test_http_connect),    cmocka_unit_test(test_http_failures),
        cmocka_unit_test(test_new_invalid),     cmocka_unit_test(test_torture),
        cmocka_unit_test(test_set_proxy_api),   cmocka_unit_test(test_driver),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
