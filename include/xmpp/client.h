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
 *
 * The timer is one-shot: once it has fired and xmpp_client_socket_action()
 * was called with -1, the driver calls this again whenever it needs a new
 * one. It may be called from inside xmpp_client_connect(),
 * xmpp_client_socket_action() and xmpp_client_close(); set it before
 * xmpp_client_connect(). A @p timeout_ms of 0 asks for a call as soon as
 * possible (from the loop, not from inside this callback).
 */
typedef void (*xmpp_timer_fn)(xmpp_client *c, long timeout_ms, void *user_data);

/**
 * Creates a client with its session (see xmpp_session_new() for the
 * options, which are copied). The client keeps its copy (password
 * included, wiped by xmpp_client_free()) to build the session that follows
 * a see-other-host redirect; the on_ready/on_closed callbacks of the
 * options receive their user_data as usual.
 * @param out receives the client; free with xmpp_client_free().
 * @param ctx the context whose allocator is used.
 * @param opts the session options (copied).
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

/**
 * The session the client drives (borrowed).
 *
 * The pointer changes when the client follows a see-other-host redirect
 * (see xmpp_client_connect()): the previous session is then freed. Call
 * this again rather than keeping the pointer across loop iterations, and
 * inside session callbacks use the session they are given. Handlers added
 * with xmpp_session_add_handler() on the previous session are carried
 * over to the new one with the same handles, so xmpp_session_remove_handler()
 * keeps working on the new session; pending IQs are cancelled
 * (::XMPP_IQ_CANCELLED).
 */
XMPP_EXTERN xmpp_session *xmpp_client_session(xmpp_client *c);

/**
 * Connects to @p host : @p port instead of looking up SRV records.
 * @p host may be a name (A/AAAA through c-ares) or an IP literal.
 * @param c the client.
 * @param host a host name or IP literal (IPv6 with or without brackets).
 * @param port the TCP port, 1-65535.
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID or ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_client_set_server(xmpp_client *c, const char *host, unsigned port);

/**
 * Connects through a proxy: every TCP connection goes to the proxy, which
 * is asked to open a tunnel to the XMPP server; TLS (STARTTLS or direct
 * TLS) and the stream then run through the tunnel as usual, with the same
 * certificate identity rules. SRV records are still looked up locally;
 * the chosen server's host name (not its address) is sent to the proxy,
 * which resolves it. Never taken from the environment.
 *
 * @p url is "socks5://[user[:password]@]host:port" (SOCKS5, RFC 1928,
 * with username/password authentication, RFC 1929, when credentials are
 * given; "socks5h://" is accepted as a synonym) or
 * "http://[user[:password]@]host:port" (HTTP/1.1 CONNECT, RFC 9110
 * §9.3.6, with Proxy-Authorization: Basic when credentials are given).
 * The scheme is case-insensitive; host is a DNS name, an IPv4 literal or
 * a bracketed IPv6 literal; the port is required; an optional trailing "/"
 * is allowed but no other path, query or fragment. User name and password
 * are percent-decoded (at most 255 bytes each, no NUL); the client keeps
 * them until xmpp_client_free() or the next call, then wipes them.
 *
 * A proxy that cannot be reached ends the session with ::XMPP_CAUSE_DNS
 * or ::XMPP_CAUSE_TCP; one that refuses the credentials or the target,
 * breaks its protocol, closes or does not answer within the connect
 * timeout ends it with ::XMPP_CAUSE_PROXY (when it could not reach one SRV
 * target the next one is tried first); xmpp_client_error() says why. The
 * reconnect policy does not retry after refused credentials or a
 * malformed reply.
 * @param c the client.
 * @param url the proxy URL, or NULL for direct connections (the default).
 * @return ::XMPP_OK; ::XMPP_ERR_INVALID for a NULL client or a malformed
 *         URL (xmpp_client_error() then names the problem, never the
 *         password); ::XMPP_ERR_STATE once xmpp_client_connect() was
 *         called; ::XMPP_ERR_NOMEM. Not callable from a callback of this
 *         client.
 */
XMPP_EXTERN int xmpp_client_set_proxy(xmpp_client *c, const char *url);

/**
 * Sets the DNS servers c-ares asks instead of those of /etc/resolv.conf:
 * for a local resolver, a DNS-over-VPN setup, or tests.
 * @param c the client.
 * @param servers a comma-separated list of "host" or "host:port" entries,
 *        IPv6 addresses in brackets ("127.0.0.1:5353",
 *        "192.0.2.1,[2001:db8::1]:53"), as taken by c-ares'
 *        ares_set_servers_ports_csv().
 * @return ::XMPP_OK; ::XMPP_ERR_INVALID for a NULL/empty or malformed list;
 *         ::XMPP_ERR_STATE once xmpp_client_connect() was called;
 *         ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_client_set_dns_servers(xmpp_client *c, const char *servers);

/**
 * Sets the socket callback.
 * @param c the client.
 * @param fn the socket callback, or NULL.
 * @param user_data passed back to the callback.
 * @return ::XMPP_OK or ::XMPP_ERR_INVALID.
 */
XMPP_EXTERN int xmpp_client_set_socket_fn(xmpp_client *c, xmpp_socket_fn fn, void *user_data);

/**
 * Sets the timer callback.
 * @param c the client.
 * @param fn the timer callback, or NULL.
 * @param user_data passed back to the callback.
 * @return ::XMPP_OK or ::XMPP_ERR_INVALID.
 */
XMPP_EXTERN int xmpp_client_set_timer_fn(xmpp_client *c, xmpp_timer_fn fn, void *user_data);

/**
 * Starts resolving and connecting. Without a server override the domain's
 * SRV records for _xmpp-client._tcp and _xmpps-client._tcp are looked up
 * and merged into one list ordered by priority and, within a priority, by
 * RFC 2782 weighted random selection (XEP-0368); a direct TLS record is
 * connected with direct TLS, a STARTTLS record with STARTTLS (a session
 * with ::XMPP_TLS_NONE ignores direct TLS records). At most 16 records are
 * kept (the most preferred). A lone "." target for _xmpp-client means the
 * service is not offered: the session ends with ::XMPP_CAUSE_DNS without
 * any fallback. Without records the domain's A/AAAA records are used on
 * port 5222 (5223 with ::XMPP_TLS_DIRECT). Targets are tried in order
 * (the next one when every address of one failed or the 10 s connect
 * timeout passed); the addresses of one target are raced with Happy
 * Eyeballs (RFC 8305: IPv6 and IPv4 interleaved, a new attempt every
 * 250 ms or at once when one fails, the first connected wins and the
 * others are closed). When all fail the session ends with
 * ::XMPP_CAUSE_DNS if no target had an address, else ::XMPP_CAUSE_TCP;
 * xmpp_client_error() says why.
 *
 * A stream error see-other-host (RFC 6120 §4.9.3.19) is followed: the
 * client connects to the given host (a DNS name, an IPv4 literal or a
 * bracketed IPv6 literal, with an optional port; default 5222, or 5223 if
 * the redirected connection used direct TLS, which the new one then uses
 * too) with a fresh session made from the same options. The TLS reference
 * identity stays the JID domain (or the configured tls_name), so the new
 * host must present a certificate for the original domain. The redirected
 * session's on_closed does not fire; xmpp_client_session() returns the
 * new session. After 3 redirects, or for a malformed target, the session
 * ends with ::XMPP_CAUSE_STREAM_ERROR (condition see-other-host) and
 * xmpp_client_error() says why.
 *
 * Idempotent: while connecting or connected it does nothing and returns
 * ::XMPP_OK. After the client ended (the application's on_closed fired)
 * it connects again with the same session, which resumes its stream when
 * it can (xmpp_session_start()); callable from callbacks then.
 * @param c the client.
 * @return ::XMPP_OK, ::XMPP_ERR_RECURSIVE (first connection from a
 *         callback) or ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_client_connect(xmpp_client *c);

/**
 * Reconnect callback: the connection was lost and the client will try
 * again after @p delay_ms. The application's on_closed does not fire for
 * such a loss, only when the client gives up (or is closed).
 * @param c the client.
 * @param cause why the last connection ended (or the last attempt failed).
 * @param attempt the number of this attempt since the last success (1 for the first).
 * @param delay_ms the wait before it.
 * @param user_data passed back to the callback.
 */
typedef void (*xmpp_reconnect_fn)(xmpp_client *c, xmpp_disconnect_cause cause,
                                  unsigned attempt, unsigned delay_ms, void *user_data);

/**
 * Turns on the reconnect policy (off by default): when a connection ends
 * other than by xmpp_client_close(), the client connects again after an
 * exponential backoff with jitter (attempt n waits a random time between
 * d/2 and d, d = min(@p max_ms, @p initial_ms * 2^(n-1))), reset once a
 * session is ready again. With stream management (the default, see
 * xmpp_session_options_set_stream_management()) the stream is resumed,
 * first at the server's preferred location if it gave one, and nothing
 * queued is lost; stanzas may be sent while reconnecting (they are queued).
 *
 * It never reconnects after an authentication failure, a rejected
 * certificate, missing TLS, out of memory, or a stream error that another
 * attempt cannot cure (conflict, policy-violation, not-authorized,
 * host-unknown and the like); only after transport and TLS failures,
 * timeouts, a remote close and the transient stream errors
 * (system-shutdown, reset, connection-timeout, internal-server-error,
 * remote-connection-failed, resource-constraint, undefined-condition).
 * Works the same with the socket/timer callbacks, poll snapshots and
 * xmpp_client_run_once().
 * @param c the client.
 * @param initial_ms the first delay (0 turns the policy off).
 * @param max_ms the longest delay (at least @p initial_ms).
 * @param max_attempts give up after this many consecutive failed
 *        attempts (0: never give up).
 * @return ::XMPP_OK or ::XMPP_ERR_INVALID.
 */
XMPP_EXTERN int xmpp_client_set_reconnect(xmpp_client *c, unsigned initial_ms, unsigned max_ms,
                                          unsigned max_attempts);

/**
 * Sets the reconnect callback.
 * @param c the client.
 * @param fn the callback, or NULL.
 * @param user_data passed back to the callback.
 * @return ::XMPP_OK or ::XMPP_ERR_INVALID.
 */
XMPP_EXTERN int xmpp_client_set_reconnect_fn(xmpp_client *c, xmpp_reconnect_fn fn,
                                             void *user_data);

/**
 * Connection counters.
 * @param c the client.
 * @param reconnects receives the number of reconnections started (may be NULL).
 * @param resumed receives the number of streams resumed with XEP-0198 (may be NULL).
 * @return ::XMPP_OK or ::XMPP_ERR_INVALID.
 */
XMPP_EXTERN int xmpp_client_stats(const xmpp_client *c, unsigned long *reconnects,
                                  unsigned long *resumed);

/**
 * Tells the driver that @p fd is ready (@p events from ::xmpp_io_events),
 * or, with @p fd = -1, that the timer fired. Performs all due I/O.
 *
 * Stanzas sent on the session from outside this client's callbacks (a UI
 * event, an application timer) are queued, and the driver at once asks
 * the application (socket callback, or the next poll snapshot) to watch
 * the socket for writability: the loop then brings the client back to
 * write them, with no further call. Calling
 * xmpp_client_socket_action(c, -1, 0) writes them at once and also brings
 * the session's clock up to date: made before xmpp_session_send_iq(), it
 * makes the IQ's timeout run from now.
 *
 * Its ::XMPP_ERR_CLOSED is the application's signal to leave its loop (or
 * to stop driving this client) and free the client. The signal is always
 * given: when the client ends outside this function (xmpp_client_connect()
 * failing at once, xmpp_client_close() called from outside a callback
 * before the stream was up), the driver asks for a 0 ms timer, whose
 * socket_action then returns ::XMPP_ERR_CLOSED.
 * @param c the client.
 * @param fd the ready descriptor, or -1 when the timer fired.
 * @param events a mask of ::xmpp_io_events seen on @p fd (0 for the timer).
 * @return ::XMPP_OK, ::XMPP_ERR_CLOSED once the session has ended and the
 *         sockets are closed, or ::XMPP_ERR_RECURSIVE from a callback.
 */
XMPP_EXTERN int xmpp_client_socket_action(xmpp_client *c, int fd, int events);

/**
 * A snapshot for poll(2) users.
 * @param c the client.
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
 * @param c the client.
 * @param timeout_ms the longest wait in milliseconds (-1: until the next timer).
 * @return ::XMPP_OK while the client is alive, ::XMPP_ERR_CLOSED once the
 *         session has ended.
 */
XMPP_EXTERN int xmpp_client_run_once(xmpp_client *c, int timeout_ms);

/**
 * Closes the session politely (see xmpp_session_close()) and then the
 * transport, and stops any reconnection (between connections, on_closed
 * then fires with ::XMPP_CAUSE_LOCAL_CLOSE). Idempotent; callable from
 * callbacks.
 * @param c the client.
 * @return ::XMPP_OK.
 */
XMPP_EXTERN int xmpp_client_close(xmpp_client *c);

/**
 * A description of the connection failure (DNS, TCP or proxy) when the
 * session ended with ::XMPP_CAUSE_DNS, ::XMPP_CAUSE_TCP or
 * ::XMPP_CAUSE_PROXY, or of the refused
 * redirect ("too many see-other-host redirects", "invalid see-other-host
 * target") when it ended with ::XMPP_CAUSE_STREAM_ERROR, else NULL.
 * Borrowed.
 */
XMPP_EXTERN const char *xmpp_client_error(const xmpp_client *c);

#ifdef __cplusplus
}
#endif

#endif /* XMPP_CLIENT_H */
