/* A strict incremental HTTP/1.1 response parser and a tiny request writer
 * for the client side of the WebSocket (RFC 6455 §4) and BOSH (XEP-0124)
 * transports, sans-I/O: bytes in, a parsed response out; bytes out into an
 * xmpp_buf. No socket, no timer.
 *
 * Response parser (RFC 9112):
 *  - status line "HTTP/1.x SP 3DIGIT [SP reason]" (x = 0 or 1), CRLF line
 *    ends only (a bare CR or LF is an error);
 *  - header fields "token ':' OWS value OWS"; no space before the colon,
 *    obsolete line folding rejected, control characters in values rejected;
 *  - bodies: Content-Length (digits only, repeated fields must agree),
 *    chunked (chunk extensions skipped, trailers validated and dropped),
 *    or up to the end of the connection (xmpp__http_resp_eof()); no body
 *    for 1xx, 204, 304 and answers to HEAD. Transfer-Encoding other than
 *    exactly "chunked", or together with Content-Length, is refused
 *    (request smuggling territory).
 *  - limits: a status, header, trailer or chunk-size line holds at most
 *    XMPP_HTTP_LINE_MAX bytes, at most XMPP_HTTP_HEADERS_MAX header
 *    fields, at most XMPP_HTTP_HEADER_BYTES bytes of header section
 *    (lines with their CRLF), and a configurable body limit checked before
 *    the body is buffered where the length is announced.
 *  - split-invariant: the outcome (result, status, headers, body, bytes
 *    consumed in total) does not depend on how the input is chunked.
 * Errors are sticky until xmpp__http_resp_reset().
 *
 * All memory goes through the context's allocator. Not thread-safe. */
#ifndef XMPP_TRANSPORT_HTTP_H
#define XMPP_TRANSPORT_HTTP_H

#include "core/internal.h"
#include "core/buf.h"

#include <stddef.h>

/* Status codes local to the transport layer (no collision with enum
 * xmpp_error, XMPP_TLS_*, XMPP_ZLIB_* or the XMPP_WS_* codes). */
enum xmpp__http_status {
    XMPP_HTTP_AGAIN = -240,           /* not complete yet: feed more input */
    XMPP_HTTP_ERR_STATUS = -241,      /* malformed status line */
    XMPP_HTTP_ERR_HEADER = -242,      /* malformed header or trailer field */
    XMPP_HTTP_ERR_FOLDING = -243,     /* obsolete line folding (obs-fold) */
    XMPP_HTTP_ERR_LINE_END = -244,    /* a bare CR or LF */
    XMPP_HTTP_ERR_LINE_LONG = -245,   /* a line over XMPP_HTTP_LINE_MAX */
    XMPP_HTTP_ERR_HEADER_COUNT = -246,/* over XMPP_HTTP_HEADERS_MAX fields */
    XMPP_HTTP_ERR_HEADER_SIZE = -247, /* over XMPP_HTTP_HEADER_BYTES */
    XMPP_HTTP_ERR_LENGTH = -248,      /* bad or conflicting Content-Length */
    XMPP_HTTP_ERR_ENCODING = -249,    /* unsupported Transfer-Encoding, or
                                         both it and Content-Length */
    XMPP_HTTP_ERR_CHUNK = -250,       /* malformed chunked framing */
    XMPP_HTTP_ERR_BODY_LIMIT = -251,  /* the body exceeds the limit */
    XMPP_HTTP_ERR_TRUNCATED = -252    /* end of input inside the message */
};

#define XMPP_HTTP_LINE_MAX 8192       /* bytes per line, CRLF excluded */
#define XMPP_HTTP_HEADERS_MAX 64      /* header fields per response */
#define XMPP_HTTP_HEADER_BYTES 16384  /* header section incl. CRLFs */
#define XMPP_HTTP_DEFAULT_BODY_LIMIT (1024 * 1024)

typedef struct xmpp__http_resp xmpp__http_resp;

/* body_limit 0 selects XMPP_HTTP_DEFAULT_BODY_LIMIT. Returns XMPP_OK,
 * XMPP_ERR_INVALID (NULL out or ctx) or XMPP_ERR_NOMEM. */
int xmpp__http_resp_new(xmpp__http_resp **out, const xmpp_ctx *ctx, size_t body_limit);
void xmpp__http_resp_free(xmpp__http_resp *r); /* accepts NULL */
/* Forgets the response (keeps the buffers' capacity and the settings) so
 * the next one on a persistent connection can be parsed. */
void xmpp__http_resp_reset(xmpp__http_resp *r);
/* The request was HEAD: the response has no body whatever it announces.
 * Call before the end of the header section. */
void xmpp__http_resp_set_head(xmpp__http_resp *r, int head);

/* Parses len bytes. *consumed (may be NULL) receives the number of bytes
 * that belonged to this response; bytes after its end are left alone
 * (after a 101 they are the upgraded protocol's). Returns XMPP_OK when the
 * response is complete (later calls consume nothing and return XMPP_OK
 * again), XMPP_HTTP_AGAIN when more input is needed, XMPP_ERR_INVALID
 * (NULL r, NULL data with len > 0; not sticky), XMPP_ERR_NOMEM or an
 * XMPP_HTTP_ERR_* code (sticky). */
int xmpp__http_resp_feed(xmpp__http_resp *r, const void *data, size_t len, size_t *consumed);
/* The peer closed the connection: completes a body delimited by the end
 * of the connection (XMPP_OK); XMPP_HTTP_ERR_TRUNCATED anywhere else
 * before completion (sticky); XMPP_OK when already complete. */
int xmpp__http_resp_eof(xmpp__http_resp *r);

/* Accessors, meaningful once the header section is complete. */
int xmpp__http_resp_done(const xmpp__http_resp *r);
int xmpp__http_resp_status(const xmpp__http_resp *r);   /* 100..599 */
int xmpp__http_resp_version(const xmpp__http_resp *r);  /* minor: 0 or 1 */
const char *xmpp__http_resp_reason(const xmpp__http_resp *r);
size_t xmpp__http_resp_header_count(const xmpp__http_resp *r);
/* Field i in arrival order; name as sent, value without surrounding OWS.
 * Returns XMPP_OK or XMPP_ERR_NOT_FOUND. */
int xmpp__http_resp_header(const xmpp__http_resp *r, size_t i, const char **name,
                           const char **value);
/* The value of the first field named `name` (case-insensitive), or NULL;
 * *count (may be NULL) receives how many fields carry that name. */
const char *xmpp__http_resp_find(const xmpp__http_resp *r, const char *name, size_t *count);
/* The body so far (complete once done), never NULL. */
const char *xmpp__http_resp_body(const xmpp__http_resp *r, size_t *len);
/* What went wrong, or "" when nothing did. */
const char *xmpp__http_resp_error(const xmpp__http_resp *r);
/* A fixed description of an XMPP_HTTP_* code (or of any other code). */
const char *xmpp__http_strerror(int code);

/* --- request writer ---------------------------------------------------- */

typedef struct xmpp__http_field {
    const char *name;
    const char *value;
} xmpp__http_field;

/* Appends "METHOD SP path SP HTTP/1.1 CRLF", the fields in order, a
 * Content-Length field when body_len > 0 (or the method is POST/PUT), an
 * empty line and the body. The caller supplies Host. Refused with
 * XMPP_ERR_INVALID, nothing appended: a method that is not a token, a path
 * that is empty or holds a space or control character, a field name that
 * is not a token, a value with CR, LF, NUL or another control character
 * than HT, a Content-Length or Transfer-Encoding field from the caller,
 * NULL body with body_len > 0. Returns XMPP_OK, XMPP_ERR_INVALID or
 * XMPP_ERR_NOMEM (out keeps its old length). */
int xmpp__http_request(xmpp_buf *out, const char *method, const char *path,
                       const xmpp__http_field *fields, size_t nfields, const void *body,
                       size_t body_len);

/* Helpers shared with the WebSocket code. */
int xmpp__http_is_token(const char *s, size_t n);
int xmpp__http_casecmp(const char *a, const char *b); /* ASCII, 0 if equal */
/* 1 when the comma-separated list `value` holds `token` (case-insensitive,
 * OWS around elements ignored). */
int xmpp__http_list_has(const char *value, const char *token);

#endif
