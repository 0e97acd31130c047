/* Sans-I/O client side of the two proxy handshakes the driver can run
 * before the XMPP stream: SOCKS5 (RFC 1928, CONNECT only) with the
 * username/password method (RFC 1929), and HTTP CONNECT (RFC 9110 §9.3.6)
 * with optional Basic credentials (RFC 7617). Bytes in, bytes out; no
 * socket, no timer, no DNS: the target host name is sent to the proxy
 * (SOCKS5 ATYP 3), which resolves it; IP literals go as ATYP 1/4.
 *
 * Strict parsing of the proxy's replies: a wrong version byte, a reserved
 * field that is not zero, an unknown address type, an empty bound name, a
 * method that was not offered, an HTTP response the parser in http.h
 * refuses, or any failure code ends the handshake with an XMPP_PROXY_ERR_*
 * code and a message naming it (xmpp__proxy_error()). Errors are sticky.
 * Bytes after the end of the proxy's final reply belong to the tunnel
 * (*consumed tells where it ends).
 *
 * Also the strict proxy URL parser used by xmpp_client_set_proxy().
 * All memory goes through the context's allocator; credentials are wiped
 * before they are freed. Not thread-safe. */
#ifndef XMPP_TRANSPORT_PROXY_H
#define XMPP_TRANSPORT_PROXY_H

#include "core/internal.h"
#include "core/buf.h"

#include <stddef.h>

typedef enum xmpp__proxy_type {
    XMPP_PROXY_NONE = 0,
    XMPP_PROXY_SOCKS5 = 1,
    XMPP_PROXY_HTTP = 2
} xmpp__proxy_type;

/* Status codes local to the transport layer (after the XMPP_HTTP_* and
 * XMPP_WS_* ranges). */
enum xmpp__proxy_status {
    XMPP_PROXY_AGAIN = -280,          /* not complete yet: feed more input */
    XMPP_PROXY_ERR_MALFORMED = -281,  /* a reply that breaks the protocol */
    XMPP_PROXY_ERR_AUTH = -282,       /* credentials refused (RFC 1929
                                         status, HTTP 407, or 401 to a
                                         request that carried them) */
    XMPP_PROXY_ERR_AUTH_NEEDED = -283,/* the proxy wants a method we do not
                                         offer (SOCKS5 0xFF, or
                                         username/password without
                                         credentials) */
    XMPP_PROXY_ERR_REFUSED = -284,    /* the proxy refused the CONNECT (SOCKS5
                                         general failure, ruleset, command
                                         or address type; HTTP 4xx/5xx
                                         other than below) */
    XMPP_PROXY_ERR_UNREACHABLE = -285,/* the proxy could not reach the target
                                         (SOCKS5 3, 4, 5, 6; HTTP 502, 504) */
    XMPP_PROXY_ERR_CLOSED = -286,     /* the proxy closed during the handshake */
    XMPP_PROXY_ERR_URL = -287         /* a malformed proxy URL */
};

/* Bounds of the URL parser. */
#define XMPP_PROXY_URL_MAX 1024
#define XMPP_PROXY_CRED_MAX 255 /* RFC 1929: 1..255 bytes each */

/* A parsed proxy URL "socks5://[user[:pass]@]host:port" or
 * "http://[user[:pass]@]host:port" (scheme case-insensitive; an optional
 * single "/" after the port; host a DNS name, an IPv4 literal or a
 * bracketed IPv6 literal, stored without brackets; port 1-65535 required;
 * user and password percent-decoded, without NUL, each at most
 * XMPP_PROXY_CRED_MAX bytes). user is NULL without credentials; pass is
 * "" when the URL has a user but no password. */
typedef struct xmpp__proxy_url {
    xmpp__proxy_type type;
    char *host;
    unsigned port;
    char *user;
    char *pass;
} xmpp__proxy_url;

/* Returns XMPP_OK, XMPP_PROXY_ERR_URL (why in errbuf when errsz > 0) or
 * XMPP_ERR_NOMEM; on failure *out is left cleared. */
int xmpp__proxy_url_parse(const xmpp_ctx *ctx, const char *url, xmpp__proxy_url *out,
                          char *errbuf, size_t errsz);
/* Wipes the credentials and frees the strings; accepts a cleared url. */
void xmpp__proxy_url_clear(const xmpp_ctx *ctx, xmpp__proxy_url *u);

typedef struct xmpp__proxy xmpp__proxy;

/* A handshake through the proxy described by url (borrowed, only during
 * the call: credentials are copied) to target_host:target_port (a DNS
 * name or an IP literal, IPv6 with or without brackets; at most 255
 * bytes). Returns XMPP_OK, XMPP_ERR_INVALID (NULL argument, no type,
 * empty or overlong target, port out of range) or XMPP_ERR_NOMEM. */
int xmpp__proxy_new(xmpp__proxy **out, const xmpp_ctx *ctx, const xmpp__proxy_url *url,
                    const char *target_host, unsigned target_port);
void xmpp__proxy_free(xmpp__proxy *p); /* accepts NULL; wipes credentials */

/* Appends the first message (SOCKS5 greeting or CONNECT request) to out.
 * Returns XMPP_OK, XMPP_ERR_STATE (called twice) or XMPP_ERR_NOMEM. */
int xmpp__proxy_start(xmpp__proxy *p, xmpp_buf *out);

/* Parses len bytes of the proxy's replies, appending what must be sent
 * next to out. *consumed (may be NULL) receives how many bytes belonged
 * to the handshake: once XMPP_OK is returned the rest is tunnel data.
 * Returns XMPP_OK (the tunnel is open; later calls consume nothing and
 * return XMPP_OK), XMPP_PROXY_AGAIN, XMPP_ERR_INVALID (not sticky),
 * XMPP_ERR_NOMEM or an XMPP_PROXY_ERR_* code (sticky). */
int xmpp__proxy_feed(xmpp__proxy *p, const void *data, size_t len, size_t *consumed,
                     xmpp_buf *out);
/* The proxy closed the connection: XMPP_PROXY_ERR_CLOSED (sticky) unless
 * the handshake already ended. */
int xmpp__proxy_eof(xmpp__proxy *p);

/* What went wrong ("" when nothing did), naming the reply. */
const char *xmpp__proxy_error(const xmpp__proxy *p);
/* A fixed description of an XMPP_PROXY_* code. */
const char *xmpp__proxy_strerror(int code);
/* The proxy's name for logs: "SOCKS5" or "HTTP". */
const char *xmpp__proxy_type_name(xmpp__proxy_type t);

#endif
