/* libFuzzer target: the compression filter's inflate side under its bound
 * (lib/filter/compress.h; SECURITY.md RES-03, §2 fuzzing).
 *
 * Input: 6 header bytes, then the payload.
 *   [0] flags: bit 0 small limits; bit 1 round trip; bit 2 fail an
 *       allocation; bits 4-7 the largest read, 1 << (bits % 13) bytes
 *   [1..4] seed for the read sizes (split points)
 *   [5] ratio for small limits / index of the allocation to fail
 * Without bit 1 the payload is a peer's zlib stream, fed in reads of
 * pseudo-random sizes to xmpp__zlib_decompress. With bit 1 it is
 * plaintext: compressed in the same pieces, inflated, compared.
 *
 * Invariants checked with abort():
 *  - every sink chunk is 1..XMPP_ZLIB_CHUNK bytes, and the sink sees exactly
 *    the bytes the totals report;
 *  - after every call: inflated <= burst + ratio * compressed consumed;
 *  - results are XMPP_OK, XMPP_ERR_LIMIT, XMPP_ZLIB_ERR_DATA or (only when
 *    an allocation was refused) XMPP_ERR_NOMEM, with an error text; failures
 *    are sticky;
 *  - a round trip gives the plaintext back;
 *  - every block allocated through the context is freed.
 *
 * Seed corpus (tests/fuzz/corpus/inflate): sync-flushed stanza streams at
 * several levels and window sizes, 1-byte reads, a small bomb under small
 * limits, a finished stream with trailing bytes, FDICT, a flipped bit,
 * stored blocks, a round trip and an allocation failure, written once by
 * a throwaway script with Python's zlib module. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "filter/compress.h"

#define MAX_INPUT (256 * 1024)

typedef struct fz_alloc {
    long fail_at, count, live;
    int failed;
} fz_alloc;

static void *fz_malloc(size_t size, void *ud) {
    fz_alloc *a = ud;
    void *p;
    if (a->fail_at >= 0 && a->count++ == a->fail_at) {
        a->failed = 1;
        return NULL;
    }
    p = malloc(size);
    if (p != NULL)
        a->live++;
    return p;
}

static void *fz_realloc(void *ptr, size_t size, void *ud) {
    fz_alloc *a = ud;
    if (ptr == NULL)
        return fz_malloc(size, ud);
    if (a->fail_at >= 0 && a->count++ == a->fail_at) {
        a->failed = 1;
        return NULL;
    }
    return realloc(ptr, size);
}

static void fz_free(void *ptr, void *ud) {
    fz_alloc *a = ud;
    if (ptr == NULL)
        return;
    a->live--;
    free(ptr);
}

typedef struct counter {
    unsigned long long bytes;
    const uint8_t *expect; /* round trip: the plaintext */
    size_t expect_len;
} counter;

static int count_sink(void *ud, const char *data, size_t len) {
    counter *c = ud;
    if (len == 0 || len > XMPP_ZLIB_CHUNK)
        abort();
    if (c->expect != NULL) {
        if (c->bytes + len > c->expect_len || memcmp(c->expect + c->bytes, data, len) != 0)
            abort();
    }
    c->bytes += len;
    return 0;
}

static uint32_t next_rand(uint32_t *s) {
    uint32_t x = *s ? *s : 0x9e3779b9u; /* xorshift32 */
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *s = x;
    return x;
}

static void check_rc(xmpp__zlib *z, int rc, const fz_alloc *a) {
    if (rc == XMPP_OK)
        return;
    if (rc != XMPP_ERR_LIMIT && rc != XMPP_ZLIB_ERR_DATA && !(rc == XMPP_ERR_NOMEM && a->failed))
        abort();
    if (xmpp__zlib_error(z)[0] == '\0')
        abort();
}

static void run(xmpp_ctx *ctx, const fz_alloc *a, const uint8_t *hdr, const uint8_t *p, size_t n) {
    xmpp__zlib *z = NULL, *tx = NULL;
    xmpp_buf b;
    counter c;
    uint32_t seed =
        (uint32_t)hdr[1] | (uint32_t)hdr[2] << 8 | (uint32_t)hdr[3] << 16 | (uint32_t)hdr[4] << 24;
    size_t max_read = (size_t)1 << ((hdr[0] >> 4) % 13);
    size_t burst = XMPP_ZLIB_DEFAULT_BURST, ratio = XMPP_ZLIB_DEFAULT_RATIO;
    const uint8_t *in = p;
    size_t in_len = n, off = 0;
    int rc = XMPP_OK;

    memset(&c, 0, sizeof(c));
    xmpp__buf_init(&b, ctx);
    if (xmpp__zlib_new(&z, ctx, -1) != XMPP_OK)
        goto out; /* only when an allocation was refused */
    if (hdr[0] & 1) {
        burst = 1 + (seed & 0xffff);
        ratio = 1 + hdr[5] % 128;
        if (xmpp__zlib_set_limits(z, burst, ratio) != XMPP_OK)
            abort();
    }
    if (hdr[0] & 2) { /* round trip: compress in pieces, then inflate */
        uint32_t s = seed;
        if (xmpp__zlib_new(&tx, ctx, (int)(hdr[5] % 11) - 1) != XMPP_OK)
            goto out;
        while (off < n) {
            size_t k = 1 + next_rand(&s) % max_read;
            if (k > n - off)
                k = n - off;
            if (xmpp__zlib_compress(tx, p + off, k, &b) != XMPP_OK)
                goto out; /* allocation refused */
            off += k;
        }
        in = (const uint8_t *)b.data;
        in_len = b.len;
        c.expect = p;
        c.expect_len = n;
        off = 0;
    }
    while (off < in_len && rc == XMPP_OK) {
        unsigned long long tin, tout;
        size_t k = 1 + next_rand(&seed) % max_read;
        if (k > in_len - off)
            k = in_len - off;
        rc = xmpp__zlib_decompress(z, in + off, k, count_sink, &c);
        off += k;
        xmpp__zlib_inflate_totals(z, &tin, &tout);
        if (tout != c.bytes || tin > off)
            abort();
        if (tout > burst + (unsigned long long)ratio * tin) /* the bound */
            abort();
        check_rc(z, rc, a);
    }
    if (rc != XMPP_OK && xmpp__zlib_decompress(z, "x", 1, count_sink, &c) != rc)
        abort(); /* sticky */
    if (c.expect != NULL && rc == XMPP_OK) {
        /* a round trip within the default limits always completes */
        if (c.bytes != n)
            abort();
    }
    if (c.expect != NULL && rc != XMPP_OK && !(hdr[0] & 1) && !a->failed)
        abort();
out:
    xmpp__buf_free(&b);
    xmpp__zlib_free(tx);
    xmpp__zlib_free(z);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fz_alloc a;
    xmpp_allocator al;
    xmpp_ctx *ctx = NULL;

    if (size < 6 || size > MAX_INPUT)
        return 0;
    memset(&a, 0, sizeof(a));
    a.fail_at = -1;
    al.malloc = fz_malloc;
    al.realloc = fz_realloc;
    al.free = fz_free;
    al.user_data = &a;
    if (xmpp_ctx_new(&ctx, &al) != XMPP_OK)
        return 0;
    a.live = 0;
    a.count = 0;
    if (data[0] & 4)
        a.fail_at = data[5] % 24;
    run(ctx, &a, data, data + 6, size - 6);
    if (a.live != 0)
        abort(); /* a block leaked, on the success or the failure path */
    a.live = 1;
    xmpp_ctx_free(ctx);
    return 0;
}
