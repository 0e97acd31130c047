/* Strict RFC 4648 §4 base64; see base64.h for why it is ours. */
#include "stream/base64.h"

#include <string.h>

static const char b64_alpha[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t xmpp__b64_encoded_len(size_t n) {
    size_t groups = n / 3 + (n % 3 != 0);
    if (groups > SIZE_MAX / 4 - 1)
        return 0;
    return groups * 4;
}

size_t xmpp__b64_encode(const uint8_t *in, size_t n, char *out) {
    size_t i, o = 0;
    for (i = 0; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = b64_alpha[v >> 18];
        out[o++] = b64_alpha[(v >> 12) & 63];
        out[o++] = b64_alpha[(v >> 6) & 63];
        out[o++] = b64_alpha[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = b64_alpha[v >> 18];
        out[o++] = b64_alpha[(v >> 12) & 63];
        out[o++] = '=';
        out[o++] = '=';
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = b64_alpha[v >> 18];
        out[o++] = b64_alpha[(v >> 12) & 63];
        out[o++] = b64_alpha[(v >> 6) & 63];
        out[o++] = '=';
    }
    out[o] = '\0';
    return o;
}

/* Value of one alphabet character, or -1. Branches, not a table lookup:
 * the inputs decoded here are public protocol data. */
static int b64_val(unsigned char c) {
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

int xmpp__b64_decode(const char *in, size_t n, uint8_t *out, size_t *outlen) {
    size_t i, o = 0;
    if (n % 4 != 0)
        return XMPP_ERR_INVALID;
    for (i = 0; i < n; i += 4) {
        int a = b64_val((unsigned char)in[i]);
        int b = b64_val((unsigned char)in[i + 1]);
        int c = b64_val((unsigned char)in[i + 2]);
        int d = b64_val((unsigned char)in[i + 3]);
        int last = i + 4 == n;
        if (a < 0 || b < 0)
            return XMPP_ERR_INVALID;
        if (c < 0 || d < 0) {
            /* RFC 4648 §3.3: padding only at the very end, "xx==" or "xxx=" */
            if (!last || in[i + 3] != '=')
                return XMPP_ERR_INVALID;
            if (c < 0) {
                if (in[i + 2] != '=' || (b & 15) != 0)
                    return XMPP_ERR_INVALID; /* §3.5: pad bits must be zero */
                out[o++] = (uint8_t)(a << 2 | b >> 4);
            } else {
                if ((c & 3) != 0)
                    return XMPP_ERR_INVALID;
                out[o++] = (uint8_t)(a << 2 | b >> 4);
                out[o++] = (uint8_t)((b & 15) << 4 | c >> 2);
            }
            break;
        }
        out[o++] = (uint8_t)(a << 2 | b >> 4);
        out[o++] = (uint8_t)((b & 15) << 4 | c >> 2);
        out[o++] = (uint8_t)((c & 3) << 6 | d);
    }
    *outlen = o;
    return XMPP_OK;
}

int xmpp__b64_encode_alloc(const xmpp_ctx *ctx, const uint8_t *in, size_t n,
                           char **out, size_t *outlen) {
    size_t len = xmpp__b64_encoded_len(n);
    char *p;
    *out = NULL;
    if (len == 0 && n > 0)
        return XMPP_ERR_NOMEM;
    p = xmpp__malloc(ctx, len + 1);
    if (p == NULL)
        return XMPP_ERR_NOMEM;
    *outlen = xmpp__b64_encode(in, n, p);
    *out = p;
    return XMPP_OK;
}

int xmpp__b64_decode_alloc(const xmpp_ctx *ctx, const char *in, size_t n,
                           uint8_t **out, size_t *outlen) {
    uint8_t *p;
    int rc;
    *out = NULL;
    if (n % 4 != 0)
        return XMPP_ERR_INVALID;
    p = xmpp__malloc(ctx, n / 4 * 3 + 1);
    if (p == NULL)
        return XMPP_ERR_NOMEM;
    rc = xmpp__b64_decode(in, n, p, outlen);
    if (rc != XMPP_OK) {
        xmpp__free(ctx, p);
        return rc;
    }
    *out = p;
    return XMPP_OK;
}
