/* libFuzzer target: the proxy handshakes' reply parsers and the proxy URL
 * parser (lib/transport/proxy.h).
 *
 * Input: 1 mode byte, then data. Mode & 7: 0 SOCKS5 without credentials,
 * 1 SOCKS5 with credentials, 2 HTTP CONNECT without, 3 HTTP CONNECT with
 * (the data are the proxy's replies), 4..7 the data is a proxy URL. The
 * mode byte also seeds the read sizes. Replies are fed once whole and once
 * in reads of pseudo-random sizes (1..16 bytes); invariants checked with
 * abort(): both runs give the same result, the same bytes consumed and the
 * same bytes to send (split invariance); results are XMPP_OK,
 * XMPP_PROXY_AGAIN or an XMPP_PROXY_ERR_* code with an error text; errors
 * are sticky; consumed never exceeds the input; a parsed URL has a host, a
 * port in range and credentials within the bounds.
 *
 * Seed corpus (tests/fuzz/corpus/proxy): SOCKS5 success with IPv4, IPv6
 * and name bound addresses, auth success/failure, 0xFF, refusal codes;
 * HTTP 200 with tunnel bytes, 407, 502, a 100 before the 200, a bare LF;
 * URLs with percent-encoded credentials and an IPv6 host. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "transport/proxy.h"

typedef struct run {
    int rc;
    size_t consumed;
    xmpp_buf out;
} run;

static void check_rc(int rc, const xmpp__proxy *p) {
    if (rc == XMPP_OK || rc == XMPP_PROXY_AGAIN)
        return;
    if (rc > XMPP_PROXY_ERR_MALFORMED || rc < XMPP_PROXY_ERR_CLOSED)
        abort();
    if (xmpp__proxy_error(p)[0] == '\0')
        abort();
}

static void url_case(xmpp_ctx *ctx, const uint8_t *data, size_t size) {
    char *s = malloc(size + 1), err[128];
    xmpp__proxy_url u;
    int rc;
    if (s == NULL)
        return;
    memcpy(s, data, size);
    s[size] = '\0';
    rc = xmpp__proxy_url_parse(ctx, s, &u, err, sizeof(err));
    if (rc == XMPP_OK) {
        if (u.host == NULL || u.host[0] == '\0' || u.port == 0 || u.port > 65535 ||
            (u.type != XMPP_PROXY_SOCKS5 && u.type != XMPP_PROXY_HTTP))
            abort();
        if (u.user && (u.pass == NULL || strlen(u.user) == 0 ||
                       strlen(u.user) > XMPP_PROXY_CRED_MAX || strlen(u.pass) > XMPP_PROXY_CRED_MAX))
            abort();
    } else if (rc != XMPP_PROXY_ERR_URL || err[0] == '\0' || u.host != NULL || u.user != NULL) {
        abort();
    }
    xmpp__proxy_url_clear(ctx, &u);
    free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    xmpp_ctx *ctx = NULL;
    xmpp__proxy *a = NULL, *b = NULL;
    xmpp__proxy_url url;
    run ra, rb;
    uint32_t seed;
    size_t pos, c;
    int mode, rc;
    if (size < 1)
        return 0;
    mode = data[0] & 7;
    seed = data[0] * 2654435761u + 1;
    data++;
    size--;
    if (xmpp_ctx_new(&ctx, NULL) != XMPP_OK)
        return 0;
    if (mode >= 4) {
        url_case(ctx, data, size);
        xmpp_ctx_free(ctx);
        return 0;
    }
    memset(&url, 0, sizeof(url));
    url.type = mode < 2 ? XMPP_PROXY_SOCKS5 : XMPP_PROXY_HTTP;
    url.host = (char *)"proxy.test";
    url.port = 1080;
    if (mode & 1) {
        url.user = (char *)"user";
        url.pass = (char *)"secret";
    }
    xmpp__buf_init(&ra.out, ctx);
    xmpp__buf_init(&rb.out, ctx);
    if (xmpp__proxy_new(&a, ctx, &url, "xmpp.example", 5222) != XMPP_OK ||
        xmpp__proxy_new(&b, ctx, &url, "xmpp.example", 5222) != XMPP_OK ||
        xmpp__proxy_start(a, &ra.out) != XMPP_OK || xmpp__proxy_start(b, &rb.out) != XMPP_OK)
        abort();
    rc = xmpp__proxy_feed(a, data, size, &c, &ra.out);
    check_rc(rc, a);
    if (c > size || (rc == XMPP_PROXY_AGAIN && c != size))
        abort();
    ra.rc = rc;
    ra.consumed = c;
    rb.consumed = 0;
    rc = XMPP_PROXY_AGAIN;
    for (pos = 0; pos < size && rc == XMPP_PROXY_AGAIN;) {
        size_t n;
        seed = seed * 1103515245u + 12345u;
        n = 1 + (seed >> 16) % 16;
        if (n > size - pos)
            n = size - pos;
        rc = xmpp__proxy_feed(b, data + pos, n, &c, &rb.out);
        check_rc(rc, b);
        if (c > n)
            abort();
        rb.consumed += c;
        pos += n;
    }
    rb.rc = rc;
    if (ra.rc != rb.rc || ra.consumed != rb.consumed || ra.out.len != rb.out.len ||
        (ra.out.len && memcmp(ra.out.data, rb.out.data, ra.out.len) != 0))
        abort();
    if (ra.rc != XMPP_OK && ra.rc != XMPP_PROXY_AGAIN &&
        xmpp__proxy_feed(a, "x", 1, NULL, &ra.out) != ra.rc)
        abort(); /* sticky */
    rc = xmpp__proxy_eof(a);
    if (ra.rc == XMPP_OK ? rc != XMPP_OK : rc == XMPP_OK || rc == XMPP_PROXY_AGAIN)
        abort();
    check_rc(rc, a);
    xmpp__proxy_free(a);
    xmpp__proxy_free(b);
    xmpp__buf_free(&ra.out);
    xmpp__buf_free(&rb.out);
    xmpp_ctx_free(ctx);
    return 0;
}
