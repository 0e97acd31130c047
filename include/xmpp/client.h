/**
 * @file xmpp/client.h
 * @brief The optional I/O driver: DNS (c-ares), connection racing, sockets,
 *        and event-loop integration around an xmpp_session.
 *
 * The driver owns sockets but never the loop. Two ways to integrate:
 *
 *  - callbacks in the style of curl's multi_socket: the driver tells the
 *    application which descriptors to watch (xmpp_client_set_socket_fn())
 *    and when to wake it (xmpp_client_set_timer_fn()); the application calls
 *    xmpp_client_socket_action() when a descriptor is ready or the timer
 *    fired;
 *  - a poll(2) snapshot: xmpp_client_get_pollfds() and then
 *    xmpp_client_socket_action() for each ready descriptor;
 *  - or, for bots and examples, xmpp_client_run_once(), which does both.
 *
 * Many clients can share one loop. The driver starts no threads, uses
 * poll(2) (never select), reads until EAGAIN and sets TCP_NODELAY.
 */
#ifndef XMPP_CLIENT_H
#define XMPP_CLIENT_H

#include <xmpp/common.h>
#include <xmpp/session.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The I/O driver around one session. */
typedef struct xmpp_client xmpp_client;

/** Events of a descriptor (bit mask). */
typedef enum xmpp_io_events {
    XMPP_IO_NONE = 0,   /**< Stop watching (the descriptor is being removed). */
    XMPP_IO_IN = 1,     /**< Watch for readability. */
    XMPP_IO_OUT = 2,    /**< Watch for writability. */
    XMPP_IO_ERROR = 4   /**< Passed to socket_action: an error or hang-up was seen. */
} xmpp_io_events;

/**
 * Socket callback: watch @p fd for @p events (::XMPP_IO_IN and/or
 * ::XMPP_IO_OUT), or stop watching it when @p events is ::XMPP_IO_NONE.
 */
typedef void (*xmpp_socket_fn)(xmpp_client *c, int fd, int events, void *user_data);

/**
 * Timer callback: call xmpp_client_socket_action(c, -1, 0) after
 * @p timeout_ms milliseconds (replacing any earlier timer), or never when
 * @p timeout_ms is negative.
 */
typedef void (*xmpp_timer_fn)(xmpp_client *c, long timeout_ms, void *user_data);

/**
 * Creates a client with its session (see xmpp_session_new() for the
 * options, which are copied).
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID or ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_client_new(xmpp_client **out, xmpp_ctx *ctx,
                                const xmpp_session_options *opts);

/**
 * Frees the client, closing its sockets (no callback of the session fires
 * but the completion of pending IQs). Accepts NULL. Not callable from a
 * callback of this client.
 */
XMPP_EXTERN void xmpp_client_free(xmpp_client *c);

/** The session the client drives (borrowed). */
XMPP_EXTERN xmpp_session *xmpp_client_session(xmpp_client *c);

/**
 * Connects to @p host : @p port instead of looking up SRV records.
 * @p host may be a name (A/AAAA through c-ares) or an IP literal.
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID or ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_client_set_server(xmpp_client *c, const char *host, unsigned port);

/**
 * Sets the socket callback.
 * @return ::XMPP_OK or ::XMPP_ERR_INVALID.
 */
XMPP_EXTERN int xmpp_client_set_socket_fn(xmpp_client *c, xmpp_socket_fn fn, void *user_data);

/**
 * Sets the timer callback.
 * @return ::XMPP_OK or ::XMPP_ERR_INVALID.
 */
XMPP_EXTERN int xmpp_client_set_timer_fn(xmpp_client *c, xmpp_timer_fn fn, void *user_data);

/**
 * Starts resolving and connecting. Without a server override the domain's
 * SRV records for _xmpp-client._tcp and _xmpps-client._tcp are looked up
 * and merged by priority and weight (RFC 2782, XEP-0368); a "." target
 * means no service; without records the domain's A/AAAA records are used
 * on port 5222. Addresses are raced with Happy Eyeballs (RFC 8305).
 * @return ::XMPP_OK, ::XMPP_ERR_STATE (already started) or ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_client_connect(xmpp_client *c);

/**
 * Tells the driver that @p fd is ready (@p events from ::xmpp_io_events),
 * or, with @p fd = -1, that the timer fired. Performs all due I/O.
 * @return ::XMPP_OK, ::XMPP_ERR_CLOSED once the session has ended and the
 *         sockets are closed, or ::XMPP_ERR_RECURSIVE from a callback.
 */
XMPP_EXTERN int xmpp_client_socket_action(xmpp_client *c, int fd, int events);

/**
 * A snapshot for poll(2) users.
 * @param fds receives up to @p cap descriptors; fd, events (POLLIN/POLLOUT)
 *        as `struct pollfd` fields in an int array of triples
 *        {fd, events, 0}, so no system header is needed here.
 * @param cap the number of triples @p fds can hold.
 * @param timeout_ms receives the time until the next timer (-1: none).
 * @return the number of descriptors written (may be 0), or a negative error.
 */
XMPP_EXTERN int xmpp_client_get_pollfds(xmpp_client *c, int *fds, int cap, int *timeout_ms);

/**
 * Runs one iteration of a poll(2) loop owned by the driver: waits at most
 * @p timeout_ms (or until the next timer) and processes what is ready.
 * For bots and examples; applications with a loop use the callbacks.
 * @return ::XMPP_OK while the client is alive, ::XMPP_ERR_CLOSED once the
 *         session has ended.
 */
XMPP_EXTERN int xmpp_client_run_once(xmpp_client *c, int timeout_ms);

/**
 * Closes the session politely (see xmpp_session_close()) and then the
 * transport. Idempotent; callable from callbacks.
 * @return ::XMPP_OK.
 */
XMPP_EXTERN int xmpp_client_close(xmpp_client *c);

/**
 * A description of the connection failure (DNS or TCP) when the session
 * ended with ::XMPP_CAUSE_DNS or ::XMPP_CAUSE_TCP, else NULL. Borrowed.
 */
XMPP_EXTERN const char *xmpp_client_error(const xmpp_client *c);

#ifdef __cplusplus
}
#endif

#endif /* XMPP_CLIENT_H */
