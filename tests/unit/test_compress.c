/* The compression filter (lib/filter/compress.c): XEP-0138 zlib, sans-I/O.
 * Round trips under every split, sync-flush framing, corrupt input, the
 * inflation bound against a generated compression bomb (SECURITY.md RES-03,
 * scenario 50) with the live heap measured, allocation failure torture,
 * and sinks that stop or re-enter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "filter/compress.h"
#include "testhelp.h"

#define MIB (1024 * 1024)

static int verbose(void) {
    return getenv("ZLIB_TEST_VERBOSE") != NULL;
}

/* --- a byte-counting allocator (testhelp counts blocks, not bytes) -------- */

typedef struct meter {
    size_t live, peak;
    long fail_at, count; /* -1: never fail */
} meter;

typedef union hdr {
    size_t size;
    max_align_t align;
} hdr;

static void *m_malloc(size_t size, void *ud) {
    meter *m = ud;
    hdr *h;
    if (m->fail_at >= 0 && m->count++ == m->fail_at)
        return NULL;
    h = malloc(sizeof(hdr) + size);
    if (h == NULL)
        return NULL;
    h->size = size;
    m->live += size;
    if (m->live > m->peak)
        m->peak = m->live;
    return h + 1;
}

static void *m_realloc(void *p, size_t size, void *ud) {
    meter *m = ud;
    hdr *h, *nh;
    if (p == NULL)
        return m_malloc(size, ud);
    h = (hdr *)p - 1;
    nh = realloc(h, sizeof(hdr) + size);
    if (nh == NULL)
        return NULL;
    m->live = m->live - nh->size + size;
    nh->size = size;
    if (m->live > m->peak)
        m->peak = m->live;
    return nh + 1;
}

static void m_free(void *p, void *ud) {
    meter *m = ud;
    hdr *h;
    if (p == NULL)
        return;
    h = (hdr *)p - 1;
    m->live -= h->size;
    free(h);
}

static xmpp_ctx *meter_ctx(meter *m) {
    xmpp_allocator a;
    xmpp_ctx *ctx = NULL;
    memset(m, 0, sizeof(*m));
    m->fail_at = -1;
    a.malloc = m_malloc;
    a.realloc = m_realloc;
    a.free = m_free;
    a.user_data = m;
    assert_int_equal(xmpp_ctx_new(&ctx, &a), XMPP_OK);
    m->live = m->peak = 0; /* the context block is not the filter's */
    return ctx;
}

/* --- sinks ------------------------------------------------------------------ */

typedef struct collect {
    char *d;
    size_t len, cap;
    size_t calls, max_chunk;
    size_t limit;      /* stop once len reaches this (0: never) */
    int stop_rc;       /* returned when stopping */
    size_t keep;       /* keep at most this many bytes (0: all) */
    xmpp__zlib *z;     /* for re-entrancy checks */
    int reentered_rc;  /* what the nested decompress returned */
    int compressed_rc; /* what the nested compress returned */
    xmpp_buf *reply;   /* where the nested compress appends */
} collect;

static int collect_sink(void *ud, const char *data, size_t len) {
    collect *c = ud;
    assert_true(len > 0);
    assert_true(len <= XMPP_ZLIB_CHUNK);
    c->calls++;
    if (len > c->max_chunk)
        c->max_chunk = len;
    if (c->keep == 0 || c->len < c->keep) { /* store the first `keep` bytes */
        size_t n = len;
        if (c->keep != 0 && n > c->keep - c->len)
            n = c->keep - c->len;
        if (c->len + n > c->cap) {
            c->cap = (c->len + n) * 2 + 1024;
            c->d = realloc(c->d, c->cap);
            assert_non_null(c->d);
        }
        memcpy(c->d + c->len, data, n);
    }
    c->len += len; /* count everything */
    if (c->limit != 0 && c->len >= c->limit)
        return c->stop_rc;
    return 0;
}

static void collect_free(collect *c) {
    free(c->d);
    memset(c, 0, sizeof(*c));
}

/* --- test data ---------------------------------------------------------------- */

static unsigned long rng_state = 12345;
static unsigned long rng(void) {
    rng_state = rng_state * 6364136223846793005UL + 1442695040888963407UL;
    return rng_state >> 33;
}

/* A stream of varied stanzas; each appended to plain, its end recorded. */
static size_t make_stanzas(char *plain, size_t cap, size_t *ends, size_t n) {
    static const char *const bodies[] = {"hi", "how are you?", "a longer message body with words",
                                         "&lt;escaped&gt; &amp; stuff", "\xc3\xa9t\xc3\xa9"};
    size_t len = 0, i;
    for (i = 0; i < n; i++) {
        int k;
        if (i % 7 == 3)
            k = snprintf(plain + len, cap - len,
                         "<presence from='user%lu@example.com/res' id='p%zu'><show>away</show>"
                         "<status>%lu</status></presence>",
                         rng() % 50, i, rng());
        else if (i % 11 == 5)
            k = snprintf(plain + len, cap - len,
                         "<iq type='get' id='iq%zu' to='example.com'><ping xmlns='urn:xmpp:ping'/>"
                         "</iq>",
                         i);
        else
            k = snprintf(plain + len, cap - len,
                         "<message to='friend%lu@example.net' id='m%zu' type='chat'><body>%s %lu"
                         "</body></message>",
                         rng() % 10, i, bodies[rng() % 5], rng());
        assert_true(k > 0 && (size_t)k < cap - len);
        len += (size_t)k;
        ends[i] = len;
    }
    return len;
}

static void compress_all(xmpp__zlib *z, const char *plain, const size_t *ends, size_t n,
                         xmpp_buf *out, size_t *cends) {
    size_t i, start = 0;
    for (i = 0; i < n; i++) {
        assert_int_equal(xmpp__zlib_compress(z, plain + start, ends[i] - start, out), XMPP_OK);
        cends[i] = out->len;
        start = ends[i];
    }
}

static xmpp_ctx *plain_ctx(void) {
    xmpp_ctx *ctx = NULL;
    assert_int_equal(xmpp_ctx_new(&ctx, NULL), XMPP_OK);
    return ctx;
}

/* --- tests -------------------------------------------------------------------- */

static void test_args(void **state) {
    xmpp_ctx *ctx = plain_ctx();
    xmpp__zlib *z = (xmpp__zlib *)&z;
    xmpp_buf b;
    collect c;
    (void)state;
    memset(&c, 0, sizeof(c));
    assert_int_equal(xmpp__zlib_new(NULL, ctx, 6), XMPP_ERR_INVALID);
    assert_int_equal(xmpp__zlib_new(&z, NULL, 6), XMPP_ERR_INVALID);
    assert_null(z);
    assert_int_equal(xmpp__zlib_new(&z, ctx, 10), XMPP_ERR_INVALID);
    assert_int_equal(xmpp__zlib_new(&z, ctx, -2), XMPP_ERR_INVALID);
    assert_int_equal(xmpp__zlib_new(&z, ctx, -1), XMPP_OK);
    xmpp__zlib_free(z);
    assert_int_equal(xmpp__zlib_new(&z, ctx, 0), XMPP_OK);
    xmpp__buf_init(&b, ctx);
    assert_int_equal(xmpp__zlib_set_limits(NULL, 1, 1), XMPP_ERR_INVALID);
    assert_int_equal(xmpp__zlib_set_limits(z, 0, 1), XMPP_ERR_INVALID);
    assert_int_equal(xmpp__zlib_set_limits(z, 1, 0), XMPP_ERR_INVALID);
    assert_int_equal(xmpp__zlib_compress(NULL, "a", 1, &b), XMPP_ERR_INVALID);
    assert_int_equal(xmpp__zlib_compress(z, "a", 1, NULL), XMPP_ERR_INVALID);
    assert_int_equal(xmpp__zlib_compress(z, NULL, 1, &b), XMPP_ERR_INVALID);
    assert_int_equal(xmpp__zlib_compress(z, NULL, 0, &b), XMPP_OK);
    assert_int_equal(b.len, 0);
    assert_int_equal(xmpp__zlib_decompress(NULL, "a", 1, collect_sink, &c), XMPP_ERR_INVALID);
    assert_int_equal(xmpp__zlib_decompress(z, "a", 1, NULL, &c), XMPP_ERR_INVALID);
    assert_int_equal(xmpp__zlib_decompress(z, NULL, 1, collect_sink, &c), XMPP_ERR_INVALID);
    assert_int_equal(xmpp__zlib_decompress(z, NULL, 0, collect_sink, &c), XMPP_OK);
    assert_string_equal(xmpp__zlib_error(z), "");
    assert_string_equal(xmpp__zlib_error(NULL), "");
    xmpp__zlib_free(NULL);
    xmpp__buf_free(&b);
    xmpp__zlib_free(z);
    xmpp_ctx_free(ctx);
}

/* Many stanzas: all at once, byte by byte, random splits, and every
 * two-way split of a shorter stream give the same bytes back. */
static void test_roundtrip_splits(void **state) {
    enum { N = 300 };
    static char plain[N * 256];
    size_t ends[N], cends[N], plen, i;
    xmpp_ctx *ctx = plain_ctx();
    xmpp__zlib *tx = NULL, *rx = NULL;
    xmpp_buf b;
    collect c;
    (void)state;
    plen = make_stanzas(plain, sizeof(plain), ends, N);
    assert_int_equal(xmpp__zlib_new(&tx, ctx, 6), XMPP_OK);
    xmpp__buf_init(&b, ctx);
    compress_all(tx, plain, ends, N, &b, cends);
    if (verbose())
        print_message("%d stanzas: %zu bytes -> %zu compressed (%.1f:1)\n", N, plen, b.len,
                      (double)plen / (double)b.len);

    /* all at once */
    memset(&c, 0, sizeof(c));
    assert_int_equal(xmpp__zlib_new(&rx, ctx, 6), XMPP_OK);
    assert_int_equal(xmpp__zlib_decompress(rx, b.data, b.len, collect_sink, &c), XMPP_OK);
    assert_int_equal(c.len, plen);
    assert_memory_equal(c.d, plain, plen);
    xmpp__zlib_free(rx);
    collect_free(&c);

    /* byte by byte */
    assert_int_equal(xmpp__zlib_new(&rx, ctx, 6), XMPP_OK);
    for (i = 0; i < b.len; i++)
        assert_int_equal(xmpp__zlib_decompress(rx, b.data + i, 1, collect_sink, &c), XMPP_OK);
    assert_int_equal(c.len, plen);
    assert_memory_equal(c.d, plain, plen);
    {
        unsigned long long in, out;
        xmpp__zlib_inflate_totals(rx, &in, &out);
        assert_true(in == b.len && out == plen);
    }
    xmpp__zlib_free(rx);
    collect_free(&c);

    /* random splits */
    for (i = 0; i < 20; i++) {
        size_t off = 0;
        assert_int_equal(xmpp__zlib_new(&rx, ctx, 6), XMPP_OK);
        while (off < b.len) {
            size_t n = 1 + rng() % 300;
            if (n > b.len - off)
                n = b.len - off;
            assert_int_equal(xmpp__zlib_decompress(rx, b.data + off, n, collect_sink, &c), XMPP_OK);
            off += n;
        }
        assert_int_equal(c.len, plen);
        assert_memory_equal(c.d, plain, plen);
        xmpp__zlib_free(rx);
        collect_free(&c);
    }

    /* every two-way split of the first 40 stanzas */
    for (i = 0; i <= cends[39]; i++) {
        assert_int_equal(xmpp__zlib_new(&rx, ctx, 6), XMPP_OK);
        assert_int_equal(xmpp__zlib_decompress(rx, b.data, i, collect_sink, &c), XMPP_OK);
        assert_int_equal(xmpp__zlib_decompress(rx, b.data + i, cends[39] - i, collect_sink, &c),
                         XMPP_OK);
        assert_int_equal(c.len, ends[39]);
        assert_memory_equal(c.d, plain, ends[39]);
        xmpp__zlib_free(rx);
        collect_free(&c);
    }

    xmpp__buf_free(&b);
    xmpp__zlib_free(tx);
    xmpp_ctx_free(ctx);
}

/* XEP-0138: each compress() call ends in a sync flush, so the bytes it
 * appended inflate to exactly that call's data, nothing held back. */
static void test_sync_flush(void **state) {
    enum { N = 60 };
    static char plain[N * 256];
    size_t ends[N], i, start = 0;
    xmpp_ctx *ctx = plain_ctx();
    xmpp__zlib *tx = NULL, *rx = NULL;
    xmpp_buf b;
    collect c;
    (void)state;
    memset(&c, 0, sizeof(c));
    make_stanzas(plain, sizeof(plain), ends, N);
    assert_int_equal(xmpp__zlib_new(&tx, ctx, 9), XMPP_OK);
    assert_int_equal(xmpp__zlib_new(&rx, ctx, 9), XMPP_OK);
    xmpp__buf_init(&b, ctx);
    for (i = 0; i < N; i++) {
        xmpp__buf_reset(&b);
        assert_int_equal(xmpp__zlib_compress(tx, plain + start, ends[i] - start, &b), XMPP_OK);
        /* the empty stored block of a sync flush (RFC 1951 §3.2.4) */
        assert_true(b.len >= 4);
        assert_memory_equal(b.data + b.len - 4, "\x00\x00\xff\xff", 4);
        assert_int_equal(b.data[b.len], '\0');
        assert_int_equal(xmpp__zlib_decompress(rx, b.data, b.len, collect_sink, &c), XMPP_OK);
        assert_int_equal(c.len, ends[i]);
        assert_memory_equal(c.d, plain, ends[i]);
        start = ends[i];
    }
    /* a large single stanza is chunked for the sink but still flushed */
    {
        size_t big = 3 * MIB / 4, j;
        char *s = malloc(big);
        assert_non_null(s);
        for (j = 0; j < big; j++)
            s[j] = "<>abcdefgh "[rng() % 11];
        xmpp__buf_reset(&b);
        collect_free(&c);
        c.max_chunk = 0;
        assert_int_equal(xmpp__zlib_compress(tx, s, big, &b), XMPP_OK);
        assert_int_equal(xmpp__zlib_decompress(rx, b.data, b.len, collect_sink, &c), XMPP_OK);
        assert_int_equal(c.len, big);
        assert_memory_equal(c.d, s, big);
        assert_int_equal(c.max_chunk, XMPP_ZLIB_CHUNK);
        assert_true(c.calls >= big / XMPP_ZLIB_CHUNK);
        free(s);
    }
    xmpp__buf_free(&b);
    collect_free(&c);
    xmpp__zlib_free(tx);
    xmpp__zlib_free(rx);
    xmpp_ctx_free(ctx);
}

/* Other peers: streams made by zlib directly, any window size and level
 * decode; our output decodes with plain zlib inflate. */
static void test_interop(void **state) {
    static char plain[64 * 256];
    static unsigned char comp[64 * 256 + 1024];
    size_t ends[64], plen;
    int wbits, level;
    xmpp_ctx *ctx = plain_ctx();
    (void)state;
    plen = make_stanzas(plain, sizeof(plain), ends, 64);
    for (wbits = 9; wbits <= 15; wbits += 3) {
        for (level = 0; level <= 9; level += 3) {
            z_stream s;
            xmpp__zlib *rx = NULL;
            collect c;
            memset(&s, 0, sizeof(s));
            memset(&c, 0, sizeof(c));
            assert_int_equal(deflateInit2(&s, level, Z_DEFLATED, wbits, 8, Z_DEFAULT_STRATEGY),
                             Z_OK);
            s.next_in = (Bytef *)plain;
            s.avail_in = (uInt)plen;
            s.next_out = comp;
            s.avail_out = sizeof(comp);
            assert_int_equal(deflate(&s, Z_SYNC_FLUSH), Z_OK);
            assert_int_equal(xmpp__zlib_new(&rx, ctx, -1), XMPP_OK);
            assert_int_equal(xmpp__zlib_decompress(rx, comp, s.total_out, collect_sink, &c),
                             XMPP_OK);
            assert_int_equal(c.len, plen);
            assert_memory_equal(c.d, plain, plen);
            deflateEnd(&s);
            xmpp__zlib_free(rx);
            collect_free(&c);
        }
    }
    {
        xmpp__zlib *tx = NULL;
        xmpp_buf b;
        z_stream s;
        char *back = malloc(plen);
        assert_non_null(back);
        assert_int_equal(xmpp__zlib_new(&tx, ctx, 6), XMPP_OK);
        xmpp__buf_init(&b, ctx);
        assert_int_equal(xmpp__zlib_compress(tx, plain, plen, &b), XMPP_OK);
        memset(&s, 0, sizeof(s));
        assert_int_equal(inflateInit(&s), Z_OK);
        s.next_in = (Bytef *)b.data;
        s.avail_in = (uInt)b.len;
        s.next_out = (Bytef *)back;
        s.avail_out = (uInt)plen;
        assert_int_equal(inflate(&s, Z_SYNC_FLUSH), Z_OK);
        assert_int_equal(s.total_out, plen);
        assert_memory_equal(back, plain, plen);
        inflateEnd(&s);
        free(back);
        xmpp__buf_free(&b);
        xmpp__zlib_free(tx);
    }
    xmpp_ctx_free(ctx);
}

static void expect_fail(xmpp_ctx *ctx, const void *data, size_t len, int want,
                        const char *msg_part) {
    xmpp__zlib *rx = NULL;
    collect c;
    int rc;
    memset(&c, 0, sizeof(c));
    assert_int_equal(xmpp__zlib_new(&rx, ctx, -1), XMPP_OK);
    rc = xmpp__zlib_decompress(rx, data, len, collect_sink, &c);
    assert_int_equal(rc, want);
    if (strstr(xmpp__zlib_error(rx), msg_part) == NULL)
        fail_msg("error \"%s\" lacks \"%s\"", xmpp__zlib_error(rx), msg_part);
    /* sticky */
    assert_int_equal(xmpp__zlib_decompress(rx, "x", 1, collect_sink, &c), want);
    xmpp__zlib_free(rx);
    collect_free(&c);
}

static void test_corrupt(void **state) {
    xmpp_ctx *ctx = plain_ctx();
    static const char hello[] = "<message><body>hello</body></message>";
    unsigned char comp[256];
    uLongf clen = sizeof(comp);
    (void)state;
    /* not a zlib header (RFC 1950 FCHECK) */
    expect_fail(ctx, "\x78\x00\x00\x00", 4, XMPP_ZLIB_ERR_DATA, "incorrect header check");
    /* FCHECK right, CM not 8 */
    expect_fail(ctx, "\x00\x00\x00\x00", 4, XMPP_ZLIB_ERR_DATA, "unknown compression method");
    /* gzip instead of zlib */
    expect_fail(ctx, "\x1f\x8b\x08\x00\x00\x00", 6, XMPP_ZLIB_ERR_DATA, "corrupt");
    /* a valid header, then the reserved block type 11 */
    expect_fail(ctx, "\x78\x9c\xff\xff", 4, XMPP_ZLIB_ERR_DATA, "invalid block type");
    /* stored block whose LEN and NLEN disagree */
    expect_fail(ctx, "\x78\x9c\x00\x05\x00\x00\x00", 7, XMPP_ZLIB_ERR_DATA,
                "invalid stored block lengths");
    /* FDICT set (0x78 0x20 passes FCHECK): no dictionary is agreed in XEP-0138 */
    expect_fail(ctx, "\x78\x20\x00\x00\x00\x01", 6, XMPP_ZLIB_ERR_DATA, "dictionary");

    /* a complete stream (Z_FINISH), then more bytes */
    assert_int_equal(compress2(comp, &clen, (const Bytef *)hello, sizeof(hello) - 1, 6), Z_OK);
    {
        xmpp__zlib *rx = NULL;
        collect c;
        memset(&c, 0, sizeof(c));
        assert_int_equal(xmpp__zlib_new(&rx, ctx, -1), XMPP_OK);
        /* the end itself is fine ... */
        assert_int_equal(xmpp__zlib_decompress(rx, comp, clen, collect_sink, &c), XMPP_OK);
        assert_int_equal(c.len, sizeof(hello) - 1);
        /* ... data after it is not */
        assert_int_equal(xmpp__zlib_decompress(rx, "x", 1, collect_sink, &c), XMPP_ZLIB_ERR_DATA);
        assert_non_null(strstr(xmpp__zlib_error(rx), "after the end"));
        xmpp__zlib_free(rx);
        collect_free(&c);
        comp[clen] = 'x';
        expect_fail(ctx, comp, clen + 1, XMPP_ZLIB_ERR_DATA, "after the end");
        /* a bad Adler-32 trailer */
        comp[clen - 1] ^= 1;
        expect_fail(ctx, comp, clen, XMPP_ZLIB_ERR_DATA, "incorrect data check");
        comp[clen - 1] ^= 1;
    }

    /* truncation is not an error: every prefix succeeds, the rest completes */
    {
        size_t cut;
        for (cut = 0; cut <= clen; cut++) {
            xmpp__zlib *rx = NULL;
            collect c;
            memset(&c, 0, sizeof(c));
            assert_int_equal(xmpp__zlib_new(&rx, ctx, -1), XMPP_OK);
            assert_int_equal(xmpp__zlib_decompress(rx, comp, cut, collect_sink, &c), XMPP_OK);
            assert_true(c.len <= sizeof(hello) - 1);
            assert_int_equal(xmpp__zlib_decompress(rx, comp + cut, clen - cut, collect_sink, &c),
                             XMPP_OK);
            assert_int_equal(c.len, sizeof(hello) - 1);
            assert_memory_equal(c.d, hello, c.len);
            assert_string_equal(xmpp__zlib_error(rx), "");
            xmpp__zlib_free(rx);
            collect_free(&c);
        }
    }

    /* random garbage after a good start never crashes, and fails or waits */
    {
        int round;
        for (round = 0; round < 200; round++) {
            unsigned char junk[512];
            xmpp__zlib *rx = NULL;
            collect c;
            size_t k;
            int rc;
            memset(&c, 0, sizeof(c));
            memcpy(junk, "\x78\x9c", 2);
            for (k = 2; k < sizeof(junk); k++)
                junk[k] = (unsigned char)rng();
            assert_int_equal(xmpp__zlib_new(&rx, ctx, -1), XMPP_OK);
            rc = xmpp__zlib_decompress(rx, junk, sizeof(junk), collect_sink, &c);
            assert_true(rc == XMPP_OK || rc == XMPP_ZLIB_ERR_DATA);
            if (rc != XMPP_OK)
                assert_true(xmpp__zlib_error(rx)[0] != '\0');
            xmpp__zlib_free(rx);
            collect_free(&c);
        }
    }
    xmpp_ctx_free(ctx);
}

/* Deflates `total` bytes of `fill` (spaces: whitespace between stanzas,
 * which the parser accepts without limit) with the stream opened by
 * `prefix`, sync flushed like a peer would. Returns malloc'd data. */
static unsigned char *make_bomb(const char *prefix, size_t total, size_t *len) {
    static char fill[MIB];
    z_stream s;
    size_t cap = total / 900 + 4096, done = 0;
    unsigned char *out = malloc(cap);
    assert_non_null(out);
    memset(fill, ' ', sizeof(fill));
    memset(&s, 0, sizeof(s));
    assert_int_equal(deflateInit(&s, 9), Z_OK);
    s.next_out = out;
    s.avail_out = (uInt)cap;
    s.next_in = (Bytef *)(uintptr_t)prefix;
    s.avail_in = (uInt)strlen(prefix);
    assert_int_equal(deflate(&s, Z_NO_FLUSH), Z_OK);
    while (done < total) {
        size_t n = total - done < sizeof(fill) ? total - done : sizeof(fill);
        s.next_in = (Bytef *)fill;
        s.avail_in = (uInt)n;
        assert_int_equal(deflate(&s, done + n == total ? Z_SYNC_FLUSH : Z_NO_FLUSH), Z_OK);
        assert_int_equal(s.avail_in, 0);
        assert_true(s.avail_out > 0);
        done += n;
    }
    *len = s.total_out;
    deflateEnd(&s);
    return out;
}

static const char stream_head[] =
    "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
    "from='example.com' id='x' version='1.0'>";

/* Feeds the bomb in `step`-byte reads; expects XMPP_ERR_LIMIT. */
static void run_bomb(const unsigned char *bomb, size_t blen, size_t step, size_t burst,
                     size_t ratio, int set, const char *label) {
    meter m;
    xmpp_ctx *ctx = meter_ctx(&m);
    xmpp__zlib *rx = NULL;
    collect c;
    size_t off = 0, fed = 0;
    unsigned long long in, out;
    int rc = XMPP_OK;
    memset(&c, 0, sizeof(c));
    c.keep = 4096; /* count, don't store: the test must not hold gigabytes either */
    assert_int_equal(xmpp__zlib_new(&rx, ctx, -1), XMPP_OK);
    if (set)
        assert_int_equal(xmpp__zlib_set_limits(rx, burst, ratio), XMPP_OK);
    while (off < blen && rc == XMPP_OK) {
        size_t n = blen - off < step ? blen - off : step;
        rc = xmpp__zlib_decompress(rx, bomb + off, n, collect_sink, &c);
        off += n;
        fed++;
    }
    assert_int_equal(rc, XMPP_ERR_LIMIT);
    assert_non_null(strstr(xmpp__zlib_error(rx), "bound"));
    assert_int_equal(xmpp__zlib_decompress(rx, bomb, 1, collect_sink, &c), XMPP_ERR_LIMIT);
    xmpp__zlib_inflate_totals(rx, &in, &out);
    assert_int_equal(out, c.len);
    /* the bound, exactly as documented */
    assert_true(out <= burst + ratio * in);
    /* and in absolute terms: a little over the burst */
    assert_true(out >= burst);
    assert_true(out <= burst + burst / 8);
    assert_true(c.max_chunk <= XMPP_ZLIB_CHUNK);
    /* memory: fixed, nowhere near the inflated size */
    assert_true(m.peak < MIB);
    if (verbose())
        print_message("%s: %zu-byte bomb in %zu-byte reads (%zu calls): stopped after %llu "
                      "compressed -> %llu inflated bytes; peak heap %zu bytes\n",
                      label, blen, step, fed, in, out, m.peak);
    xmpp__zlib_free(rx);
    assert_int_equal(m.live, 0);
    xmpp_ctx_free(ctx);
    collect_free(&c);
}

/* SECURITY.md scenario 50 / RES-03: 100 MB of whitespace in ~100 KB. */
static void test_bomb(void **state) {
    size_t blen;
    unsigned char *bomb;
    (void)state;
    bomb = make_bomb(stream_head, 100u * 1000 * 1000, &blen);
    assert_true(blen < 200 * 1000);
    run_bomb(bomb, blen, blen, XMPP_ZLIB_DEFAULT_BURST, XMPP_ZLIB_DEFAULT_RATIO, 0,
             "default limits, one read");
    run_bomb(bomb, blen, 65536, XMPP_ZLIB_DEFAULT_BURST, XMPP_ZLIB_DEFAULT_RATIO, 0,
             "default limits, 64 KiB reads");
    run_bomb(bomb, blen, 1, XMPP_ZLIB_DEFAULT_BURST, XMPP_ZLIB_DEFAULT_RATIO, 0,
             "default limits, 1-byte reads");
    run_bomb(bomb, blen, 4096, 64 * 1024, 8, 1, "burst 64 KiB ratio 8, 4 KiB reads");
    free(bomb);
}

/* The bound is a window, not a running total: credit comes back with
 * incompressible input, but cannot be saved up beyond the burst. */
static void test_limit_window(void **state) {
    enum { BURST = 64 * 1024, RATIO = 4 };
    xmpp_ctx *ctx = plain_ctx();
    xmpp__zlib *tx = NULL, *rx = NULL;
    xmpp_buf b;
    collect c;
    char *spaces = malloc(BURST * 4), *noise = malloc(MIB);
    size_t i;
    (void)state;
    assert_non_null(spaces);
    assert_non_null(noise);
    memset(spaces, ' ', BURST * 4);
    for (i = 0; i < MIB; i++)
        noise[i] = (char)rng();
    memset(&c, 0, sizeof(c));
    c.keep = 1;
    assert_int_equal(xmpp__zlib_new(&tx, ctx, 9), XMPP_OK);
    assert_int_equal(xmpp__zlib_new(&rx, ctx, 9), XMPP_OK);
    assert_int_equal(xmpp__zlib_set_limits(rx, BURST, RATIO), XMPP_OK);
    xmpp__buf_init(&b, ctx);

#define SEND(p, n, want)                                                                           \
    do {                                                                                           \
        xmpp__buf_reset(&b);                                                                       \
        assert_int_equal(xmpp__zlib_compress(tx, (p), (n), &b), XMPP_OK);                          \
        assert_int_equal(xmpp__zlib_decompress(rx, b.data, b.len, collect_sink, &c), (want));      \
    } while (0)

    /* three times almost a burst of whitespace, paid back with noise */
    for (i = 0; i < 3; i++) {
        SEND(spaces, BURST - 4096, XMPP_OK);
        SEND(noise, BURST / 2, XMPP_OK); /* ~1:1, earns RATIO x its size */
    }
    /* a megabyte of noise earns no more than one burst of credit */
    SEND(noise, MIB, XMPP_OK);
    SEND(spaces, BURST * 2, XMPP_ERR_LIMIT);
#undef SEND
    xmpp__buf_free(&b);
    collect_free(&c);
    xmpp__zlib_free(tx);
    xmpp__zlib_free(rx);
    xmpp_ctx_free(ctx);
    free(spaces);
    free(noise);
}

/* Honest traffic passes with the defaults: a maximal 1 MiB stanza however
 * well it compresses, and a long run of ordinary stanzas. */
static void test_limit_honest(void **state) {
    enum { N = 3000 };
    static char plain[N * 256];
    size_t ends[N], cends[N], plen;
    xmpp_ctx *ctx = plain_ctx();
    xmpp__zlib *tx = NULL, *rx = NULL;
    xmpp_buf b;
    collect c;
    char *big = malloc(MIB);
    (void)state;
    assert_non_null(big);
    memset(&c, 0, sizeof(c));
    c.keep = 1;
    assert_int_equal(xmpp__zlib_new(&tx, ctx, 9), XMPP_OK);
    assert_int_equal(xmpp__zlib_new(&rx, ctx, 9), XMPP_OK);
    xmpp__buf_init(&b, ctx);
    memcpy(big, "<message><body>", 15);
    memset(big + 15, 'a', MIB - 15 - 17);
    memcpy(big + MIB - 17, "</body></message>", 17);
    assert_int_equal(xmpp__zlib_compress(tx, big, MIB, &b), XMPP_OK);
    assert_true(b.len < 4096);
    assert_int_equal(xmpp__zlib_decompress(rx, b.data, b.len, collect_sink, &c), XMPP_OK);
    assert_int_equal(c.len, MIB);
    xmpp__buf_reset(&b);
    plen = make_stanzas(plain, sizeof(plain), ends, N);
    compress_all(tx, plain, ends, N, &b, cends);
    if (verbose())
        print_message("%d stanzas, sync flush each: %zu -> %zu bytes (%.1f:1)\n", N, plen, b.len,
                      (double)plen / (double)b.len);
    assert_int_equal(xmpp__zlib_decompress(rx, b.data, b.len, collect_sink, &c), XMPP_OK);
    assert_int_equal(c.len, MIB + plen);
    xmpp__buf_free(&b);
    collect_free(&c);
    xmpp__zlib_free(tx);
    xmpp__zlib_free(rx);
    xmpp_ctx_free(ctx);
    free(big);
}

/* The sink stops: its code comes back, sticky, and it is not called again. */
static void test_sink_stop(void **state) {
    xmpp_ctx *ctx = plain_ctx();
    xmpp__zlib *tx = NULL, *rx = NULL;
    xmpp_buf b;
    collect c;
    char *big = malloc(MIB);
    size_t i, calls;
    (void)state;
    assert_non_null(big);
    for (i = 0; i < MIB; i++)
        big[i] = "<a/> "[i % 5];
    assert_int_equal(xmpp__zlib_new(&tx, ctx, 6), XMPP_OK);
    assert_int_equal(xmpp__zlib_new(&rx, ctx, 6), XMPP_OK);
    xmpp__buf_init(&b, ctx);
    assert_int_equal(xmpp__zlib_compress(tx, big, MIB, &b), XMPP_OK);
    memset(&c, 0, sizeof(c));
    c.limit = 3 * XMPP_ZLIB_CHUNK; /* stop on the third full chunk */
    c.stop_rc = XMPP_ERR_STREAM;
    assert_int_equal(xmpp__zlib_decompress(rx, b.data, b.len, collect_sink, &c), XMPP_ERR_STREAM);
    assert_int_equal(c.calls, 3);
    assert_int_equal(c.len, 3 * XMPP_ZLIB_CHUNK);
    assert_memory_equal(c.d, big, c.len);
    assert_non_null(strstr(xmpp__zlib_error(rx), "stopped"));
    calls = c.calls;
    assert_int_equal(xmpp__zlib_decompress(rx, b.data, b.len, collect_sink, &c), XMPP_ERR_STREAM);
    assert_int_equal(c.calls, calls);
    xmpp__buf_free(&b);
    collect_free(&c);
    xmpp__zlib_free(tx);
    xmpp__zlib_free(rx);
    xmpp_ctx_free(ctx);
    free(big);
}

/* From the sink: decompress is refused, compress is allowed (a reply sent
 * while handling a stanza), set_limits takes effect at once. */
static int reenter_sink(void *ud, const char *data, size_t len) {
    collect *c = ud;
    c->reentered_rc = xmpp__zlib_decompress(c->z, "x", 1, collect_sink, c);
    return collect_sink(ud, data, len);
}

static int reply_sink(void *ud, const char *data, size_t len) {
    collect *c = ud;
    c->compressed_rc = xmpp__zlib_compress(c->z, "<r/>", 4, c->reply);
    return collect_sink(ud, data, len);
}

static int tighten_sink(void *ud, const char *data, size_t len) {
    collect *c = ud;
    if (c->calls == 0)
        assert_int_equal(xmpp__zlib_set_limits(c->z, XMPP_ZLIB_CHUNK, 1), XMPP_OK);
    return collect_sink(ud, data, len);
}

static void test_reentry(void **state) {
    xmpp_ctx *ctx = plain_ctx();
    xmpp__zlib *z = NULL;
    xmpp_buf b, reply;
    collect c;
    char *big = malloc(MIB);
    (void)state;
    assert_non_null(big);
    memset(big, ' ', MIB);
    assert_int_equal(xmpp__zlib_new(&z, ctx, 6), XMPP_OK);
    xmpp__buf_init(&b, ctx);
    xmpp__buf_init(&reply, ctx);
    assert_int_equal(xmpp__zlib_compress(z, "<hello/>", 8, &b), XMPP_OK);

    memset(&c, 0, sizeof(c));
    c.z = z;
    assert_int_equal(xmpp__zlib_decompress(z, b.data, b.len, reenter_sink, &c), XMPP_OK);
    assert_int_equal(c.reentered_rc, XMPP_ERR_RECURSIVE);
    assert_int_equal(c.len, 8);
    collect_free(&c);

    /* the same object's deflate side, from inside its inflate sink */
    xmpp__buf_reset(&b);
    assert_int_equal(xmpp__zlib_compress(z, "<ping/>", 7, &b), XMPP_OK);
    memset(&c, 0, sizeof(c));
    c.z = z;
    c.reply = &reply;
    assert_int_equal(xmpp__zlib_decompress(z, b.data, b.len, reply_sink, &c), XMPP_OK);
    assert_int_equal(c.compressed_rc, XMPP_OK);
    assert_int_equal(c.len, 7);
    assert_true(reply.len > 4);
    collect_free(&c);

    /* limits lowered mid-call bind the rest of that call */
    xmpp__buf_reset(&b);
    assert_int_equal(xmpp__zlib_compress(z, big, MIB, &b), XMPP_OK);
    memset(&c, 0, sizeof(c));
    c.z = z;
    c.keep = 1;
    assert_int_equal(xmpp__zlib_decompress(z, b.data, b.len, tighten_sink, &c), XMPP_ERR_LIMIT);
    assert_true(c.len < MIB / 4);

    xmpp__buf_free(&b);
    xmpp__buf_free(&reply);
    collect_free(&c);
    xmpp__zlib_free(z);
    xmpp_ctx_free(ctx);
    free(big);
}

/* Allocation failure at every point, zlib's own allocations included. */
typedef struct torture_arg {
    const char *plain;
    size_t len;
} torture_arg;

static int torture_scenario(xmpp_ctx *ctx, void *arg) {
    torture_arg *t = arg;
    xmpp__zlib *tx = NULL, *rx = NULL;
    xmpp_buf b;
    collect c;
    size_t half;
    int rc;
    memset(&c, 0, sizeof(c));
    xmpp__buf_init(&b, ctx);
    rc = xmpp__zlib_new(&tx, ctx, 6);
    if (rc != XMPP_OK) {
        assert_null(tx);
        return rc;
    }
    rc = xmpp__zlib_new(&rx, ctx, 6);
    if (rc != XMPP_OK)
        goto out;
    half = t->len / 2;
    rc = xmpp__zlib_compress(tx, t->plain, half, &b);
    if (rc == XMPP_OK)
        rc = xmpp__zlib_compress(tx, t->plain + half, t->len - half, &b);
    if (rc != XMPP_OK) {
        /* sticky and nothing partial left behind */
        assert_int_equal(xmpp__zlib_compress(tx, "a", 1, &b), XMPP_ERR_STATE);
        goto out;
    }
    rc = xmpp__zlib_decompress(rx, b.data, b.len / 2, collect_sink, &c);
    if (rc == XMPP_OK)
        rc = xmpp__zlib_decompress(rx, b.data + b.len / 2, b.len - b.len / 2, collect_sink, &c);
    if (rc != XMPP_OK) {
        assert_int_equal(rc, XMPP_ERR_NOMEM);
        assert_int_equal(xmpp__zlib_decompress(rx, "a", 1, collect_sink, &c), XMPP_ERR_NOMEM);
        goto out;
    }
    assert_int_equal(c.len, t->len);
    assert_memory_equal(c.d, t->plain, t->len);
out:
    xmpp__buf_free(&b);
    collect_free(&c);
    xmpp__zlib_free(rx);
    xmpp__zlib_free(tx);
    return rc;
}

static void test_torture(void **state) {
    static char plain[40 * 256];
    size_t ends[40];
    torture_arg t;
    long n;
    (void)state;
    t.plain = plain;
    t.len = make_stanzas(plain, sizeof(plain), ends, 40);
    n = th_torture(torture_scenario, &t);
    if (verbose())
        print_message("torture: %ld allocation points\n", n);
    assert_true(n >= 8); /* 1 object + 5 deflate + 1 inflate state + window + buffer */
}

/* The object and both streams, measured: what one compressed stream costs. */
static void test_footprint(void **state) {
    meter m;
    xmpp_ctx *ctx = meter_ctx(&m);
    xmpp__zlib *z = NULL;
    collect c;
    xmpp_buf b;
    (void)state;
    memset(&c, 0, sizeof(c));
    assert_int_equal(xmpp__zlib_new(&z, ctx, -1), XMPP_OK);
    xmpp__buf_init(&b, ctx);
    assert_int_equal(xmpp__zlib_compress(z, "<a/>", 4, &b), XMPP_OK);
    assert_int_equal(xmpp__zlib_decompress(z, b.data, b.len, collect_sink, &c), XMPP_OK);
    if (verbose())
        print_message("footprint: %zu bytes live, %zu peak\n", m.live, m.peak);
    assert_true(m.peak < 400 * 1024);
    xmpp__buf_free(&b);
    xmpp__zlib_free(z);
    assert_int_equal(m.live, 0);
    collect_free(&c);
    xmpp_ctx_free(ctx);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_args),         cmocka_unit_test(test_roundtrip_splits),
        cmocka_unit_test(test_sync_flush),   cmocka_unit_test(test_interop),
        cmocka_unit_test(test_corrupt),      cmocka_unit_test(test_bomb),
        cmocka_unit_test(test_limit_window), cmocka_unit_test(test_limit_honest),
        cmocka_unit_test(test_sink_stop),    cmocka_unit_test(test_reentry),
        cmocka_unit_test(test_torture),      cmocka_unit_test(test_footprint),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
