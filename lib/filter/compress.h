/* The compression filter: XEP-0138 stream compression with zlib (RFC 1950),
 * sans-I/O. One object holds both directions of one stream:
 *
 *   xmpp__zlib_compress()    plaintext XML -> zlib bytes for the peer
 *                            (appended to an xmpp_buf, Z_SYNC_FLUSH each call)
 *   xmpp__zlib_decompress()  zlib bytes from the peer -> inflated bytes handed
 *                            to a sink in chunks of at most XMPP_ZLIB_CHUNK
 *
 * Place in the pipeline: transport <-> TLS <-> compression <-> XML parser.
 * Compression only ever starts after TLS and SASL (SECURITY.md NEG-01,
 * NEG-05); that ordering is the session's job, not this filter's.
 *
 * Inflation is bounded (SECURITY.md RES-03, scenario 50 "zlib bomb"): the
 * filter never buffers inflated data beyond one chunk, and the amount it
 * produces is limited relative to the compressed input consumed, see
 * xmpp__zlib_set_limits(). Errors in the inflating direction are sticky.
 *
 * Every allocation, zlib's own included, goes through the context's
 * allocator. Not thread-safe; one object per stream. */
#ifndef XMPP_FILTER_COMPRESS_H
#define XMPP_FILTER_COMPRESS_H

#include "core/internal.h"
#include "core/buf.h"

#include <stddef.h>

/* Status codes local to the filter, like XMPP_TLS_* in filter/tls.h: they do
 * not collide with enum xmpp_error or enum xmpp_tls_status. */
enum xmpp__zlib_status {
    XMPP_ZLIB_ERR_DATA = -220 /* the compressed data is corrupt (Z_DATA_ERROR,
                                 Z_NEED_DICT, bytes after the stream end) */
};

/* The largest chunk handed to a sink, and the inflate output buffer size. */
#define XMPP_ZLIB_CHUNK 16384

/* Default limits: see the rationale in compress.c (limit_check). */
#define XMPP_ZLIB_DEFAULT_BURST (1024 * 1024) /* bytes */
#define XMPP_ZLIB_DEFAULT_RATIO 64            /* inflated bytes per input byte */

typedef struct xmpp__zlib xmpp__zlib;

/* Receives inflated bytes, len in 1..XMPP_ZLIB_CHUNK, valid only during the
 * call. Returns 0 to go on, or non-zero to stop: decompression ends at once,
 * the rest of the input is dropped, and xmpp__zlib_decompress() returns that
 * value (use a negative xmpp_error, e.g. the XML parser's). The sink may
 * call xmpp__zlib_compress() and xmpp__zlib_set_limits() on the same object,
 * but not xmpp__zlib_decompress() (XMPP_ERR_RECURSIVE) nor xmpp__zlib_free(). */
typedef int (*xmpp__zlib_sink)(void *ud, const char *data, size_t len);

/* Creates a filter. level: a zlib level 0..9, or -1 (Z_DEFAULT_COMPRESSION).
 * Both zlib streams are set up here: about 320 KiB in all with the default
 * deflate parameters (deflate ~265 KiB, inflate ~40 KiB, the chunk 16 KiB).
 * Returns XMPP_OK, XMPP_ERR_INVALID (NULL out or ctx, bad level) or
 * XMPP_ERR_NOMEM; *out is NULL on failure. */
int xmpp__zlib_new(xmpp__zlib **out, xmpp_ctx *ctx, int level);
void xmpp__zlib_free(xmpp__zlib *z); /* accepts NULL */

/* Sets the inflation bound. For every stretch of the compressed stream:
 *     inflated bytes <= burst + ratio * compressed bytes consumed
 * (a token bucket holding at most `burst` bytes of credit, refilled by
 * `ratio` per compressed byte). burst is also the most one call can inflate
 * from tiny input, so keep it >= the parser's stanza cap (RES-01).
 * Defaults: XMPP_ZLIB_DEFAULT_BURST, XMPP_ZLIB_DEFAULT_RATIO. Takes effect
 * at once; the current credit is clamped to the new burst.
 * Returns XMPP_OK or XMPP_ERR_INVALID (NULL z, burst or ratio 0). */
int xmpp__zlib_set_limits(xmpp__zlib *z, size_t burst, size_t ratio);

/* Compresses len bytes and appends them to out, ending with a sync flush
 * (Z_SYNC_FLUSH): everything passed so far is decodable by the peer from
 * the bytes appended so far, so no stanza is held back (XEP-0138). len 0
 * appends nothing. On failure out keeps its old length (nothing partial is
 * left to send); the deflate stream is then unusable and later calls fail
 * with XMPP_ERR_STATE.
 * Returns XMPP_OK, XMPP_ERR_INVALID (NULL z or out, NULL data with len > 0),
 * XMPP_ERR_NOMEM or XMPP_ERR_STATE. */
int xmpp__zlib_compress(xmpp__zlib *z, const void *data, size_t len, xmpp_buf *out);

/* Inflates len bytes of the peer's stream, handing the output to sink in
 * chunks of at most XMPP_ZLIB_CHUNK bytes as they are produced. Input that
 * ends mid-block is not an error: the rest is awaited in the next call.
 * Returns XMPP_OK when all input was consumed; otherwise a sticky failure
 * (every later call returns it again):
 *   XMPP_ERR_LIMIT      the inflation bound was exceeded (compression bomb);
 *                       at most burst + ratio * consumed bytes were delivered
 *   XMPP_ZLIB_ERR_DATA  corrupt data, a preset dictionary, or data after the
 *                       end of the zlib stream
 *   XMPP_ERR_NOMEM      an allocation failed
 *   the sink's non-zero return value
 * and, not sticky: XMPP_ERR_INVALID (NULL z or sink, NULL data with len > 0),
 * XMPP_ERR_RECURSIVE (called from the sink). xmpp__zlib_error() says why. */
int xmpp__zlib_decompress(xmpp__zlib *z, const void *data, size_t len, xmpp__zlib_sink sink,
                          void *ud);

/* A description of the last failure (zlib's message where it gave one), or
 * "" when none. Valid until the next call on z. */
const char *xmpp__zlib_error(const xmpp__zlib *z);

/* Counters for logs and tests: compressed bytes consumed and inflated bytes
 * delivered by xmpp__zlib_decompress() so far. */
void xmpp__zlib_inflate_totals(const xmpp__zlib *z, unsigned long long *in,
                               unsigned long long *out);

#endif
