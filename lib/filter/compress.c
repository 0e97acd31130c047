/* The compression filter: zlib deflate/inflate over caller buffers.
 *
 * The inflation bound (SECURITY.md RES-03, scenario 50).
 *
 * What has to be bounded: the filter itself keeps at most one chunk of
 * inflated data (XMPP_ZLIB_CHUNK bytes, inside the object) and hands it to
 * the sink before inflating more, so its memory is fixed whatever the
 * ratio; the parser behind it caps each stanza (RES-01). What is left is
 * the amount of work a peer can make us do per byte it sends: deflate
 * reaches about 1032:1, so a 1 KiB bomb is 1 MiB of whitespace between
 * stanzas, which the parser accepts without limit, and a 100 KB one is
 * 100 MB.
 *
 * The bound: a token bucket over the compressed stream. The bucket holds
 * at most `burst` bytes of credit and starts full; every compressed byte
 * inflate consumes adds `ratio` bytes of credit, every inflated byte
 * spends one. Equivalently, for every contiguous stretch of the stream,
 *     inflated <= burst + ratio * compressed.
 * This is a ratio check over a sliding window without having to keep a
 * window: credit cannot be saved up beyond `burst`, so a peer cannot send
 * incompressible data for an hour and then spend the credit on a bomb,
 * and it does not depend on how the transport splits the input (the
 * bound per input chunk is burst + ratio * chunk length, RES-03's "output
 * per input chunk"). A bomb stops after about burst * 1032 / (1032 -
 * ratio) inflated bytes, i.e. just over 1 MiB with the defaults.
 *
 * Defaults: burst 1 MiB = the parser's default stanza cap, so any single
 * stanza the parser would accept passes however well it compresses;
 * ratio 64, well above what XML with a per-stanza sync flush achieves in
 * practice (roughly 3-20:1; a sync flush alone costs 4-5 bytes per stanza),
 * while keeping a sustained flood to 64 times the peer's bandwidth.
 *
 * Accounting is conservative: credit for the input consumed by one
 * inflate() call is granted after the call, and each call may produce at
 * most the credit held before it. When no credit is left, inflate() is
 * still run with no output room, so that it can consume input (headers,
 * codes) that earns credit; if it cannot progress while input remains,
 * the peer is asking for output with nothing paid: XMPP_ERR_LIMIT.
 *
 * Stanza boundaries are deliberately not used: the filter cannot see them
 * without parsing, and a per-stanza cap already lives in the parser. */
#include "filter/compress.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <zlib.h>

#define OUT_STEP 65536 /* most output room reserved per deflate() call */

struct xmpp__zlib {
    xmpp_ctx *ctx;
    z_stream def, inf;
    int def_init, inf_init; /* the streams need deflateEnd/inflateEnd */
    int def_failed;         /* sticky: the deflate stream is unusable */
    int inf_err;            /* sticky inflate failure, 0 if none */
    int ended;              /* the peer's zlib stream ended (Z_STREAM_END) */
    int in_sink;            /* the sink is running */
    size_t burst, ratio, credit;
    unsigned long long total_in, total_out;
    char msg[160];
    char chunk[XMPP_ZLIB_CHUNK];
};

/* --- allocation: zlib's own blocks go through the context ---------------- */

static voidpf z_alloc(voidpf opaque, uInt items, uInt size) {
    xmpp__zlib *z = opaque;
    if (!xmpp__mul_ok(items, size))
        return Z_NULL;
    return xmpp__malloc(z->ctx, (size_t)items * size);
}

static void z_free(voidpf opaque, voidpf p) {
    xmpp__zlib *z = opaque;
    xmpp__free(z->ctx, p);
}

/* --- lifetime -------------------------------------------------------------- */

int xmpp__zlib_new(xmpp__zlib **out, xmpp_ctx *ctx, int level) {
    xmpp__zlib *z;
    if (out == NULL)
        return XMPP_ERR_INVALID;
    *out = NULL;
    if (ctx == NULL || level < Z_DEFAULT_COMPRESSION || level > Z_BEST_COMPRESSION)
        return XMPP_ERR_INVALID;
    z = xmpp__malloc(ctx, sizeof(*z));
    if (z == NULL)
        return XMPP_ERR_NOMEM;
    memset(z, 0, offsetof(struct xmpp__zlib, chunk));
    z->ctx = ctx;
    z->burst = z->credit = XMPP_ZLIB_DEFAULT_BURST;
    z->ratio = XMPP_ZLIB_DEFAULT_RATIO;
    z->def.zalloc = z->inf.zalloc = z_alloc;
    z->def.zfree = z->inf.zfree = z_free;
    z->def.opaque = z->inf.opaque = z;
    /* XEP-0138's "zlib" method is RFC 1950: the zlib wrapper, any window
     * size up to 32 KiB, so inflate keeps the default windowBits 15. */
    if (deflateInit(&z->def, level) != Z_OK) {
        xmpp__zlib_free(z);
        return XMPP_ERR_NOMEM; /* the level was checked: memory is all that is left */
    }
    z->def_init = 1;
    z->inf.next_in = Z_NULL;
    z->inf.avail_in = 0;
    if (inflateInit(&z->inf) != Z_OK) {
        xmpp__zlib_free(z);
        return XMPP_ERR_NOMEM;
    }
    z->inf_init = 1;
    *out = z;
    return XMPP_OK;
}

void xmpp__zlib_free(xmpp__zlib *z) {
    if (z == NULL)
        return;
    if (z->def_init)
        deflateEnd(&z->def);
    if (z->inf_init)
        inflateEnd(&z->inf);
    xmpp__free(z->ctx, z);
}

int xmpp__zlib_set_limits(xmpp__zlib *z, size_t burst, size_t ratio) {
    if (z == NULL || burst == 0 || ratio == 0)
        return XMPP_ERR_INVALID;
    z->burst = burst;
    z->ratio = ratio;
    if (z->total_in == 0 && z->total_out == 0)
        z->credit = burst; /* nothing inflated yet: the bucket starts full */
    else if (z->credit > burst)
        z->credit = burst;
    return XMPP_OK;
}

const char *xmpp__zlib_error(const xmpp__zlib *z) {
    return z != NULL ? z->msg : "";
}

void xmpp__zlib_inflate_totals(const xmpp__zlib *z, unsigned long long *in,
                               unsigned long long *out) {
    if (in != NULL)
        *in = z != NULL ? z->total_in : 0;
    if (out != NULL)
        *out = z != NULL ? z->total_out : 0;
}

/* --- compression ----------------------------------------------------------- */

static int def_fail(xmpp__zlib *z, xmpp_buf *out, size_t start, int err, const char *what) {
    z->def_failed = 1;
    snprintf(z->msg, sizeof(z->msg), "deflate: %s", what);
    out->len = start; /* drop the partial append: the peer must not get it */
    if (out->data != NULL)
        out->data[start] = '\0';
    xmpp__log(z->ctx, XMPP_LOG_ERROR, "zlib", "%s", z->msg);
    return err;
}

int xmpp__zlib_compress(xmpp__zlib *z, const void *data, size_t len, xmpp_buf *out) {
    const unsigned char *p = data;
    size_t start;
    if (z == NULL || out == NULL || (data == NULL && len > 0))
        return XMPP_ERR_INVALID;
    if (z->def_failed)
        return XMPP_ERR_STATE;
    if (len == 0)
        return XMPP_OK; /* a second sync flush in a row would add nothing */
    start = out->len;
    while (len > 0) {
        uInt piece = len > UINT_MAX ? UINT_MAX : (uInt)len;
        /* XEP-0138: flush after the caller's data so nothing waits in
         * deflate's buffers; a huge input is fed in pieces, flushed once. */
        int flush = piece == len ? Z_SYNC_FLUSH : Z_NO_FLUSH;
        z->def.next_in = (Bytef *)(uintptr_t)p; /* zlib's API is not const */
        z->def.avail_in = piece;
        do {
            uLong want = deflateBound(&z->def, piece) + 16;
            size_t room;
            int rc;
            if (want > OUT_STEP)
                want = OUT_STEP;
            if (xmpp__buf_reserve(out, want) != XMPP_OK)
                return def_fail(z, out, start, XMPP_ERR_NOMEM, "out of memory");
            room = out->cap - out->len - 1; /* keep the terminator's byte */
            if (room > UINT_MAX)
                room = UINT_MAX;
            z->def.next_out = (Bytef *)out->data + out->len;
            z->def.avail_out = (uInt)room;
            rc = deflate(&z->def, flush);
            out->len += room - z->def.avail_out;
            /* Z_BUF_ERROR only means "no progress possible", which the
             * loop condition already covers. */
            if (rc != Z_OK && rc != Z_BUF_ERROR)
                return def_fail(z, out, start, XMPP_ERR_STATE,
                                z->def.msg ? z->def.msg : "stream error");
        } while (z->def.avail_out == 0);
        p += piece - z->def.avail_in;
        len -= piece - z->def.avail_in;
    }
    out->data[out->len] = '\0';
    return XMPP_OK;
}

/* --- decompression --------------------------------------------------------- */

/* Records a sticky failure: "what" or "what: detail". */
static int inf_fail(xmpp__zlib *z, int err, const char *what, const char *detail) {
    z->inf_err = err;
    snprintf(z->msg, sizeof(z->msg), "%s%s%s", what, detail ? ": " : "", detail ? detail : "");
    /* the consumer stopping (the stream ended) is not a fault */
    xmpp__log(z->ctx, err > 0 ? XMPP_LOG_DEBUG : XMPP_LOG_WARN, "zlib",
              "%s (after %llu compressed, %llu inflated bytes)", z->msg, z->total_in,
              z->total_out);
    return err;
}

/* Grants credit for `used` compressed bytes, without overflow. */
static void credit_add(xmpp__zlib *z, size_t used) {
    size_t space = z->burst - z->credit;
    if (used > space / z->ratio)
        z->credit = z->burst;
    else
        z->credit += used * z->ratio;
}

int xmpp__zlib_decompress(xmpp__zlib *z, const void *data, size_t len, xmpp__zlib_sink sink,
                          void *ud) {
    const unsigned char *p = data;
    if (z == NULL || sink == NULL || (data == NULL && len > 0))
        return XMPP_ERR_INVALID;
    if (z->in_sink)
        return XMPP_ERR_RECURSIVE;
    if (z->inf_err != 0)
        return z->inf_err;
    if (len == 0)
        return XMPP_OK;
    if (z->ended)
        return inf_fail(z, XMPP_ZLIB_ERR_DATA, "data after the end of the zlib stream", NULL);
    for (;;) {
        uInt in_now = len > UINT_MAX ? UINT_MAX : (uInt)len;
        uInt room = z->credit < XMPP_ZLIB_CHUNK ? (uInt)z->credit : XMPP_ZLIB_CHUNK;
        size_t used, made;
        int rc;
        z->inf.next_in = (Bytef *)(uintptr_t)p;
        z->inf.avail_in = in_now;
        z->inf.next_out = (Bytef *)z->chunk;
        z->inf.avail_out = room;
        rc = inflate(&z->inf, Z_NO_FLUSH);
        used = in_now - z->inf.avail_in;
        made = room - z->inf.avail_out;
        z->inf.next_in = Z_NULL; /* never keep a pointer to the caller's data */
        z->inf.avail_in = 0;
        p += used;
        len -= used;
        z->total_in += used;
        z->total_out += made;
        z->credit -= made; /* made <= room <= credit */
        credit_add(z, used);
        if (made > 0) {
            int s;
            z->in_sink = 1;
            s = sink(ud, z->chunk, made);
            z->in_sink = 0;
            if (s != 0) {
                char code[16];
                snprintf(code, sizeof(code), "%d", s);
                return inf_fail(z, s, "stopped by the consumer, code", code);
            }
        }
        switch (rc) {
        case Z_OK:
            /* Done when all input went in and inflate did not fill the
             * room it had (nothing more is pending). With no room at all
             * inflate only consumed input, which earned credit: go on. */
            if (len == 0 && z->inf.avail_out > 0)
                return XMPP_OK;
            break;
        case Z_BUF_ERROR: /* no progress was possible */
            if (len == 0)
                return XMPP_OK; /* it wants more input: truncation is fine */
            if (room == 0)
                return inf_fail(z, XMPP_ERR_LIMIT,
                                "inflated data exceeds the bound (compression bomb?)", NULL);
            return inf_fail(z, XMPP_ZLIB_ERR_DATA, "inflate made no progress", NULL);
        case Z_STREAM_END:
            z->ended = 1;
            if (len > 0)
                return inf_fail(z, XMPP_ZLIB_ERR_DATA, "data after the end of the zlib stream",
                                NULL);
            return XMPP_OK;
        case Z_NEED_DICT:
            /* RFC 1950 FDICT: XEP-0138 has no way to agree on a dictionary. */
            return inf_fail(z, XMPP_ZLIB_ERR_DATA, "the stream asks for a preset dictionary", NULL);
        case Z_DATA_ERROR:
            return inf_fail(z, XMPP_ZLIB_ERR_DATA, "corrupt compressed data",
                            z->inf.msg ? z->inf.msg : "invalid data");
        case Z_MEM_ERROR:
            return inf_fail(z, XMPP_ERR_NOMEM, "inflate: out of memory", NULL);
        default: /* Z_STREAM_ERROR: our bug, not the peer's */
            return inf_fail(z, XMPP_ERR_STATE, "inflate failed",
                            z->inf.msg ? z->inf.msg : "stream error");
        }
    }
}
