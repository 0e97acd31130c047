/* The client side of BOSH (XEP-0124) carrying XMPP (XEP-0206), sans I/O.
 *
 * The object turns outbound payloads (serialised top-level elements: the
 * stanzas and nonzas a TCP stream would carry) into <body/> requests
 * written as HTTP/1.1 POSTs, and the HTTP responses the driver reads back
 * into payload elements, in request-id order, for the session. It owns no
 * socket and no clock: the driver asks whether a request is due
 * (xmpp__bosh_want_request), sends what xmpp__bosh_make_request wrote on
 * one of at most xmpp__bosh_max_inflight() HTTP connections, and hands
 * each complete response back with xmpp__bosh_response().
 *
 * What it does:
 *  - session creation (hold, wait, xmpp:version='1.0', ver='1.11'),
 *    rids from a random start (below 2^53), sid checked on every response;
 *  - at most `requests` requests in flight (2 by default), one always held
 *    by the connection manager so it can push; polling sessions
 *    (requests=1) respect the `polling` interval;
 *  - responses processed strictly in rid order, whatever order the
 *    connections deliver them in;
 *  - stream restarts (xmpp:restart='true', alone in their request),
 *    termination (type='terminate' with the last payloads), pause;
 *  - broken connections: the same request can be written again
 *    (xmpp__bosh_rewrite) up to 3 times, and a `report` from the
 *    connection manager marks a lost response for resending;
 *  - every terminal binding condition, HTTP error status and malformed
 *    body ends the session with a condition name (xmpp__bosh_condition).
 *
 * Limits: request bodies carry at most XMPP_BOSH_MAX_REQUEST payload bytes
 * (one larger payload travels alone); response bodies are bounded by the
 * HTTP parser's body limit and each payload by the XML parser's limits;
 * at most XMPP_BOSH_MAX_QUEUE payload bytes wait unsent. */
#ifndef XMPP_TRANSPORT_BOSH_H
#define XMPP_TRANSPORT_BOSH_H

#include "core/internal.h"
#include "core/buf.h"
#include "transport/http.h"

#include <stdint.h>

#include <xmpp/stanza.h>

#define XMPP_NS_HTTPBIND "http://jabber.org/protocol/httpbind"
#define XMPP_NS_XBOSH "urn:xmpp:xbosh"

#define XMPP_BOSH_MAX_REQUEST (64 * 1024)
#define XMPP_BOSH_MAX_QUEUE (4 * 1024 * 1024)
#define XMPP_BOSH_MAX_RID 9007199254740991ULL /* 2^53 - 1 */
#define XMPP_BOSH_MAX_INFLIGHT 4
#define XMPP_BOSH_MAX_REWRITES 3

typedef struct xmpp__bosh xmpp__bosh;

typedef struct xmpp__bosh_config {
    const char *host;  /* the Host header (host[:port]) */
    const char *path;  /* the request target, e.g. "/http-bind" */
    const char *to;    /* the XMPP domain */
    const char *lang;  /* xml:lang, or NULL for "en" */
    const char *route; /* XEP-0124 route, or NULL */
    unsigned wait;     /* seconds the CM may hold a request; 0: 60 */
    unsigned hold;     /* requests the CM may hold; 0: 1 */
} xmpp__bosh_config;

enum xmpp__bosh_state {
    XMPP_BOSH_CREATING,    /* the session creation request is out */
    XMPP_BOSH_OPEN,        /* payloads flow */
    XMPP_BOSH_TERMINATING, /* type='terminate' queued or sent */
    XMPP_BOSH_CLOSED,      /* ended cleanly */
    XMPP_BOSH_FAILED       /* ended by an error: see xmpp__bosh_condition */
};

typedef struct xmpp__bosh_events {
    /* The connection manager opened the stream (session creation
     * response) or a restart was answered: `body` is the response's
     * <body/> with its attributes (from, xmpp:version, authid, ...),
     * borrowed. The payloads of that response follow. */
    void (*stream_open)(void *ud, const xmpp_stanza *body);
    /* One payload, borrowed (take a reference to keep it). Elements in
     * the httpbind namespace, which some connection managers leave
     * unqualified, arrive in jabber:client. */
    void (*payload)(void *ud, xmpp_stanza *el);
} xmpp__bosh_events;

/* Creates the object; initial_rid is the first rid (random, from the
 * caller: 1 .. 2^52). cfg strings are copied. Returns XMPP_OK,
 * XMPP_ERR_INVALID or XMPP_ERR_NOMEM. */
int xmpp__bosh_new(xmpp__bosh **out, xmpp_ctx *ctx, const xmpp__bosh_config *cfg,
                   uint64_t initial_rid, const xmpp__bosh_events *ev, void *ud);
void xmpp__bosh_free(xmpp__bosh *b);

enum xmpp__bosh_state xmpp__bosh_state(const xmpp__bosh *b);
/* The terminal condition ("remote-stream-error", "item-not-found", "http-404",
 * "bad-response", ...) once FAILED, else NULL; text may say more. */
const char *xmpp__bosh_condition(const xmpp__bosh *b, const char **text);
/* The see-other-uri target of a terminate, or NULL. */
const char *xmpp__bosh_other_uri(const xmpp__bosh *b);
const char *xmpp__bosh_sid(const xmpp__bosh *b);

/* Outbound. queue: one serialised element (copied); XMPP_ERR_LIMIT when
 * the queue is full, XMPP_ERR_STATE when closed. restart: the next
 * request restarts the stream (after SASL). terminate: the queued
 * payloads go out with type='terminate'. pause: asks for a pause of
 * `seconds` (clamped to maxpause; XMPP_ERR_STATE if the CM offers none). */
int xmpp__bosh_queue(xmpp__bosh *b, const char *xml, size_t len);
int xmpp__bosh_restart(xmpp__bosh *b);
int xmpp__bosh_terminate(xmpp__bosh *b);
int xmpp__bosh_pause(xmpp__bosh *b, unsigned seconds);

/* Requests. max_inflight: connections the driver should keep. inflight:
 * requests without a response. want_request: 1 when a new request should
 * be made now. make_request: appends the HTTP request to out and gives
 * its rid. next_deadline: when want_request may change by time alone, or
 * when a request is overdue (UINT64_MAX: none). */
unsigned xmpp__bosh_max_inflight(const xmpp__bosh *b);
unsigned xmpp__bosh_inflight(const xmpp__bosh *b);
int xmpp__bosh_want_request(const xmpp__bosh *b, uint64_t now);
int xmpp__bosh_make_request(xmpp__bosh *b, uint64_t now, xmpp_buf *out, uint64_t *rid);
uint64_t xmpp__bosh_next_deadline(const xmpp__bosh *b);

/* A request whose connection broke (or that is overdue: see
 * xmpp__bosh_overdue) is written again, identical, into out.
 * XMPP_ERR_NOT_FOUND: not in flight; XMPP_ERR_LIMIT: rewritten too often
 * (the session is then FAILED). */
int xmpp__bosh_rewrite(xmpp__bosh *b, uint64_t rid, uint64_t now, xmpp_buf *out);
/* A request in flight longer than wait + 30 s, or named by a 'report':
 * 1 with its rid (the driver drops that connection and rewrites it). */
int xmpp__bosh_overdue(const xmpp__bosh *b, uint64_t now, uint64_t *rid);

/* A complete HTTP response to request rid. Payloads are delivered
 * through the events, in rid order (a response that arrives early is
 * kept until those before it are in). Returns XMPP_OK, XMPP_ERR_CLOSED
 * (the session ended cleanly with this response), XMPP_ERR_STREAM (it
 * failed: xmpp__bosh_condition), XMPP_ERR_NOT_FOUND (no such request in
 * flight: ignored), XMPP_ERR_NOMEM. */
int xmpp__bosh_response(xmpp__bosh *b, uint64_t rid, uint64_t now, const xmpp__http_resp *resp);

#endif
