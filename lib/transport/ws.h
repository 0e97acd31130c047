/* RFC 6455 WebSocket framing for the client side of XMPP over WebSocket
 * (RFC 7395), sans-I/O.
 *
 *   xmpp__ws_handshake_request()  the upgrade request (random 16-byte
 *                                 Sec-WebSocket-Key, version 13,
 *                                 Sec-WebSocket-Protocol: xmpp)
 *   xmpp__ws_handshake_check()    validates the parsed 101 response
 *   xmpp__ws_send_*()             masked client frames into an xmpp_buf
 *   xmpp__ws_feed()               server frames in; each complete text
 *                                 message (RFC 7395: one XML element) to a
 *                                 callback; control answers (pong, close
 *                                 reply) queued for xmpp__ws_take_output()
 *
 * Receiving rules (RFC 6455 §5): server frames must be unmasked, RSV bits
 * clear (no extension is negotiated), opcodes 0, 1, 8, 9, 10 (binary is
 * refused: RFC 7395 §3.2 carries XML in text frames only), control frames
 * at most 125 bytes and not fragmented, continuation frames only inside a
 * fragmented message, lengths in minimal encoding with the 64-bit high bit
 * clear, and a message never larger than the limit (checked from the frame
 * header, before anything is buffered). A text message must be UTF-8; the
 * check is xmpp__xml_text_ok(), which also refuses characters XML 1.0 does
 * not allow, since every message is an XML element. Close frames carry no
 * payload or a valid code (1000-1003, 1007-1011, 3000-4999) plus a UTF-8
 * reason. Any violation fails the connection: a close frame with 1002,
 * 1007 or 1009 is queued (unless one was sent) and the error is sticky.
 *
 * All memory goes through the context's allocator. Not thread-safe. */
#ifndef XMPP_TRANSPORT_WS_H
#define XMPP_TRANSPORT_WS_H

#include "core/internal.h"
#include "core/buf.h"
#include "transport/http.h"

#include <stddef.h>
#include <stdint.h>

enum xmpp__ws_status {
    XMPP_WS_ERR_HANDSHAKE = -260, /* the upgrade response is not acceptable */
    XMPP_WS_ERR_MASKED = -261,    /* a masked server frame */
    XMPP_WS_ERR_RSV = -262,       /* a reserved bit set */
    XMPP_WS_ERR_OPCODE = -263,    /* a reserved opcode, or binary */
    XMPP_WS_ERR_CONTROL = -264,   /* control frame too long or fragmented */
    XMPP_WS_ERR_FRAGMENT = -265,  /* continuation without a message, or a
                                     new message inside one */
    XMPP_WS_ERR_LENGTH = -266,    /* non-minimal or 64-bit-high-bit length */
    XMPP_WS_ERR_TOO_BIG = -267,   /* a message over the limit */
    XMPP_WS_ERR_UTF8 = -268,      /* a text message or close reason is not
                                     valid (XML) UTF-8 */
    XMPP_WS_ERR_CLOSE = -269,     /* a 1-byte close payload or a bad code */
    XMPP_WS_ERR_RANDOM = -270     /* gnutls_rnd failed */
};

#define XMPP_WS_DEFAULT_MAX_MESSAGE (1024 * 1024)
#define XMPP_WS_CONTROL_MAX 125

enum xmpp__ws_state {
    XMPP_WS_CONNECTING, /* waiting for the 101 */
    XMPP_WS_OPEN,
    XMPP_WS_CLOSING,    /* we sent a close frame, the peer's is awaited */
    XMPP_WS_CLOSED,     /* the peer's close frame arrived (both are queued
                           or sent): close the TCP connection */
    XMPP_WS_FAILED      /* a protocol error; see xmpp__ws_error() */
};

typedef struct xmpp__ws xmpp__ws;

/* Receives one complete text message, valid during the call only. Returns
 * 0 to go on, or non-zero to stop: xmpp__ws_feed() returns that value at
 * once (sticky, like a protocol error). Must not call xmpp__ws_feed() or
 * xmpp__ws_free(); sending is allowed. */
typedef int (*xmpp__ws_message_fn)(void *ud, const char *data, size_t len);

/* max_message 0 selects XMPP_WS_DEFAULT_MAX_MESSAGE. */
int xmpp__ws_new(xmpp__ws **out, const xmpp_ctx *ctx, size_t max_message);
void xmpp__ws_free(xmpp__ws *ws); /* accepts NULL */

/* Appends the upgrade request for ws://host/path or wss:// (the caller
 * picks the connection): GET path, Host, Upgrade, Connection,
 * Sec-WebSocket-Key, Sec-WebSocket-Version: 13, Sec-WebSocket-Protocol:
 * xmpp, then the extra fields (e.g. Origin). Only in XMPP_WS_CONNECTING;
 * a new key each call. Returns XMPP_OK, XMPP_ERR_INVALID (see
 * xmpp__http_request; also a caller field named like one of ours),
 * XMPP_ERR_STATE, XMPP_ERR_NOMEM or XMPP_WS_ERR_RANDOM. */
int xmpp__ws_handshake_request(xmpp__ws *ws, xmpp_buf *out, const char *host, const char *path,
                               const xmpp__http_field *extra, size_t nextra);
/* Checks a complete response to that request: status 101, Upgrade holds
 * "websocket" and Connection holds "upgrade" (tokens, case-insensitive),
 * exactly one Sec-WebSocket-Accept equal to base64(SHA-1(key GUID)),
 * exactly one Sec-WebSocket-Protocol equal to "xmpp" (RFC 7395 §3.1), no
 * Sec-WebSocket-Extensions (none was offered). XMPP_OK moves to
 * XMPP_WS_OPEN; bytes the parser did not consume go to xmpp__ws_feed().
 * Returns XMPP_OK, XMPP_ERR_INVALID, XMPP_ERR_STATE (no request made, or
 * already open) or XMPP_WS_ERR_HANDSHAKE (xmpp__ws_error() says which). */
int xmpp__ws_handshake_check(xmpp__ws *ws, const xmpp__http_resp *resp);
/* base64(SHA-1(key "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")) into out
 * (29 bytes with the NUL). Returns XMPP_OK or XMPP_ERR_INVALID. */
int xmpp__ws_accept_for(const char *key, char out[29]);

/* Frame writers: one masked frame (FIN set) appended to out. Text must be
 * valid (XML) UTF-8 (XMPP_WS_ERR_UTF8); ping/pong payloads at most 125
 * bytes; close with code 0 sends no payload, otherwise a valid code and a
 * UTF-8 reason of at most 123 bytes, and moves OPEN to CLOSING. Text, ping
 * and pong need XMPP_WS_OPEN; close needs OPEN (XMPP_ERR_STATE otherwise).
 * Returns XMPP_OK, XMPP_ERR_INVALID, XMPP_ERR_STATE, XMPP_ERR_NOMEM (out
 * keeps its length) or XMPP_WS_ERR_RANDOM. */
int xmpp__ws_send_text(xmpp__ws *ws, const void *data, size_t len, xmpp_buf *out);
int xmpp__ws_send_ping(xmpp__ws *ws, const void *data, size_t len, xmpp_buf *out);
int xmpp__ws_send_pong(xmpp__ws *ws, const void *data, size_t len, xmpp_buf *out);
int xmpp__ws_send_close(xmpp__ws *ws, unsigned code, const char *reason, xmpp_buf *out);
/* 1 when a peer may send this close code (RFC 6455 §7.4). */
int xmpp__ws_close_code_ok(unsigned code);

/* Decodes server frames. Returns XMPP_OK when all input was consumed
 * (whatever part of a frame is incomplete is kept for the next call),
 * XMPP_ERR_STATE before the handshake, XMPP_ERR_CLOSED for bytes after the
 * peer's close frame, XMPP_ERR_INVALID (not sticky), XMPP_ERR_NOMEM, an
 * XMPP_WS_ERR_* code or the callback's value (sticky). */
int xmpp__ws_feed(xmpp__ws *ws, const void *data, size_t len, xmpp__ws_message_fn cb,
                  void *ud);
/* Moves the queued control frames (pongs, close reply, failure close) to
 * out. Returns XMPP_OK or XMPP_ERR_NOMEM (the queue is kept). */
int xmpp__ws_take_output(xmpp__ws *ws, xmpp_buf *out);
size_t xmpp__ws_pending(const xmpp__ws *ws); /* queued bytes */

enum xmpp__ws_state xmpp__ws_get_state(const xmpp__ws *ws);
/* The peer's close code (0 if none was given or no close arrived) and
 * reason (NUL-terminated, "" if none). */
unsigned xmpp__ws_peer_close(const xmpp__ws *ws, const char **reason);
const char *xmpp__ws_error(const xmpp__ws *ws);
const char *xmpp__ws_strerror(int code);

/* A parsed ws:// or wss:// URL (RFC 6455 §3). */
typedef struct xmpp__ws_url {
    int secure;          /* wss */
    char host[256];      /* without brackets: the name to resolve and the
                            TLS reference identity */
    unsigned port;       /* explicit, or 80 / 443 */
    char authority[264]; /* the Host field: host, [v6], ":port" if explicit */
    char target[1024];   /* path and query: the request target, "/" if none */
} xmpp__ws_url;

/* Parses url: scheme ws or wss (case-insensitive), "//", a host (a
 * registered name of letters, digits, '-', '.', '_', '~' or a bracketed
 * IPv6 literal), an optional port 1..65535, an optional path and query of
 * printable ASCII without spaces. Refused: user information ('@'), a
 * fragment ('#', RFC 6455 §3), control or non-ASCII characters, an empty
 * host, parts longer than the fields. Returns XMPP_OK or XMPP_ERR_INVALID
 * (out is then zeroed). */
int xmpp__ws_url_parse(const char *url, xmpp__ws_url *out);

#endif
