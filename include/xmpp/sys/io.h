/**
 * @file xmpp/sys/io.h
 * @brief Driving other I/O (an HTTP transfer, ...) through a client's
 *        socket and timer hooks.
 *
 * A source is a set of descriptors and one deadline that another
 * protocol engine (libcurl's multi interface for XEP-0363 uploads) needs
 * watched. Once added to an ::xmpp_client, its descriptors are announced
 * through the client's socket callback (xmpp_client_set_socket_fn()) and
 * poll snapshots (xmpp_client_get_pollfds()), its deadline is folded into
 * the client's timer (xmpp_client_set_timer_fn()), and
 * xmpp_client_socket_action() and xmpp_client_run_once() hand the
 * source's ready descriptors and timer expiries to its action callback.
 * The application's loop therefore needs no change.
 *
 * A client holds at most 8 sources. This interface is less stable than
 * xmpp/client.h.
 */
#ifndef XMPP_SYS_IO_H
#define XMPP_SYS_IO_H

#include <xmpp/client.h>
#include <xmpp/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * A descriptor of the source is ready, or the timer fired. Runs inside
 * xmpp_client_socket_action(); it may call xmpp_client_source_watch() and
 * xmpp_client_remove_source() (also for itself), not
 * xmpp_client_socket_action().
 * @param c the client.
 * @param fd the ready descriptor, or -1 when the client's timer fired
 *        (the source checks whether its own deadline has passed).
 * @param events the ::xmpp_io_events seen on @p fd (0 for the timer).
 * @param user_data as given to xmpp_client_add_source().
 */
typedef void (*xmpp_source_action_fn)(xmpp_client *c, int fd, int events, void *user_data);

/**
 * The source's next deadline.
 * @param c the client.
 * @param user_data as given to xmpp_client_add_source().
 * @return milliseconds from now (0: at once), or -1 for none.
 */
typedef long (*xmpp_source_timeout_fn)(xmpp_client *c, void *user_data);

/**
 * The client is being freed with the source still added: the source is
 * already removed (its descriptors unwatched) and must end its work (fire
 * its completion callbacks) without touching the client again.
 * @param c the client, being freed.
 * @param user_data as given to xmpp_client_add_source().
 */
typedef void (*xmpp_source_detach_fn)(xmpp_client *c, void *user_data);

/**
 * Adds a source to a client's loop.
 * @param c the client.
 * @param action called for the source's ready descriptors and on every
 *        timer expiry (required).
 * @param timeout gives the source's deadline, or NULL for none.
 * @param detach called when the client is freed first, or NULL.
 * @param user_data passed back to the callbacks.
 * @param handle receives the source's handle (never 0).
 * @return ::XMPP_OK; ::XMPP_ERR_INVALID (NULL @p c, @p action or
 *         @p handle); ::XMPP_ERR_LIMIT (8 sources already). Callable from
 *         callbacks.
 */
XMPP_EXTERN int xmpp_client_add_source(xmpp_client *c, xmpp_source_action_fn action,
                                       xmpp_source_timeout_fn timeout, xmpp_source_detach_fn detach,
                                       void *user_data, unsigned long *handle);

/**
 * Removes a source and stops watching its descriptors (the socket
 * callback is told); its detach callback does not run.
 * @param c the client.
 * @param handle the source's handle.
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID or ::XMPP_ERR_NOT_FOUND.
 *         Callable from callbacks.
 */
XMPP_EXTERN int xmpp_client_remove_source(xmpp_client *c, unsigned long handle);

/**
 * Watches a descriptor of a source for @p events, or stops watching it
 * (::XMPP_IO_NONE). The client's socket callback is told at once.
 * @param c the client.
 * @param handle the source's handle.
 * @param fd the descriptor (not one of the client's own).
 * @param events ::XMPP_IO_IN and/or ::XMPP_IO_OUT, or ::XMPP_IO_NONE.
 * @return ::XMPP_OK; ::XMPP_ERR_INVALID (bad arguments, or @p fd is
 *         watched by the client or another source); ::XMPP_ERR_NOT_FOUND
 *         (unknown handle); ::XMPP_ERR_LIMIT (too many descriptors).
 *         Callable from callbacks.
 */
XMPP_EXTERN int xmpp_client_source_watch(xmpp_client *c, unsigned long handle, int fd, int events);

/**
 * Tells the client that a source's deadline changed outside
 * xmpp_client_socket_action() (e.g. a transfer started from a UI event),
 * so that the client announces its new timer.
 * @param c the client.
 * @return ::XMPP_OK or ::XMPP_ERR_INVALID. Callable from callbacks (then
 *         the client announces the timer when the callback returns).
 */
XMPP_EXTERN int xmpp_client_source_changed(xmpp_client *c);

#ifdef __cplusplus
}
#endif

#endif /* XMPP_SYS_IO_H */
