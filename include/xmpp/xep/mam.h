/**
 * @file xmpp/xep/mam.h
 * @brief XEP-0313 message archive management with XEP-0059 result set
 *        paging: the "mam" plugin.
 *
 * A query asks an archive (the account's own, or a room's) for one page of
 * messages, filtered by peer, time or archive id. Each archived message
 * comes back as a \<message/> with a \<result/>; the plugin accepts one
 * only while its query is open, only with the query's queryid, and only
 * from the queried archive (no "from" or our bare JID for our own, the
 * room's bare JID for a room); anything else is dropped (XEP-0313 §5,
 * CVE-2019-16237). The IQ result then closes the query with the page's
 * first and last ids and the "complete" flag. To read the next page, query
 * again with xmpp_mam_query_set_page() and the last (forward) or first
 * (backward) id.
 *
 * Handlers run in the order they were added: enable the plugin
 * (xmpp_session_options_enable_plugin(opts, "mam")) before adding a
 * message handler of your own that matches every message, or that
 * handler sees the results first. xmpp_mam_fetch() enables it too, late.
 */
#ifndef XMPP_XEP_MAM_H
#define XMPP_XEP_MAM_H

#include <stddef.h>
#include <stdint.h>

#include <xmpp/common.h>
#include <xmpp/session.h>
#include <xmpp/stanza.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The XEP-0313 namespace (version 2). */
#define XMPP_NS_MAM "urn:xmpp:mam:2"
/** The XEP-0059 result set management namespace. */
#define XMPP_NS_RSM "http://jabber.org/protocol/rsm"
/** The largest page size a query asks for. */
#define XMPP_MAM_MAX_PAGE 1000
/** The most queries open at once on a session. */
#define XMPP_MAM_MAX_OPEN 32

/** A query, built by the application and given to xmpp_mam_fetch(). */
typedef struct xmpp_mam_query xmpp_mam_query;
/** One archived message, valid during the callback that gives it. */
typedef struct xmpp_mam_result xmpp_mam_result;
/** The end of a page, valid during the callback that gives it. */
typedef struct xmpp_mam_fin xmpp_mam_fin;

/** Which way a query pages (XEP-0059 §2.2, §2.5). */
typedef enum xmpp_mam_dir {
    XMPP_MAM_FORWARD = 0, /**< The oldest matching messages first (RSM after). */
    XMPP_MAM_BACKWARD = 1 /**< The newest matching messages (RSM before). */
} xmpp_mam_dir;

/**
 * Creates an empty query: the own archive, no filter, forward from the
 * start, the server's page size.
 * @param out receives the query; free with xmpp_mam_query_free().
 * @param ctx the context.
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID or ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_mam_query_new(xmpp_mam_query **out, xmpp_ctx *ctx);

/** Frees a query. Accepts NULL. @param q the query. */
XMPP_EXTERN void xmpp_mam_query_free(xmpp_mam_query *q);

/**
 * Sets the archive to query.
 * @param q the query.
 * @param jid NULL for the account's own archive (the default), or a room's
 *        bare JID (XEP-0313 §6: the IQ goes to the room).
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID (not a bare JID) or ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_mam_query_set_archive(xmpp_mam_query *q, const char *jid);

/**
 * Keeps only the messages exchanged with a JID (the "with" field).
 * @param q the query.
 * @param jid a bare or full JID, or NULL for no filter.
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID (malformed JID) or ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_mam_query_set_with(xmpp_mam_query *q, const char *jid);

/**
 * Keeps only messages archived in a time range (the "start" and "end"
 * fields, inclusive).
 * @param q the query.
 * @param start seconds since 1970 (UTC), or -1 for no lower bound.
 * @param end seconds since 1970 (UTC), or -1 for no upper bound.
 * @return ::XMPP_OK or ::XMPP_ERR_INVALID (a bound below -1 or beyond the
 *         year 9999, or @p end before @p start).
 */
XMPP_EXTERN int xmpp_mam_query_set_time(xmpp_mam_query *q, int64_t start, int64_t end);

/**
 * Keeps only messages archived strictly after or before given archive
 * ids (the "after-id" and "before-id" fields of "urn:xmpp:mam:2\#extended";
 * servers without that feature answer with an error).
 * @param q the query.
 * @param after_id an archive id, or NULL.
 * @param before_id an archive id, or NULL.
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID (empty or longer than 256 bytes)
 *         or ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_mam_query_set_ids(xmpp_mam_query *q, const char *after_id,
                                       const char *before_id);

/**
 * Sets the page: its size and where it starts (XEP-0059).
 * @param q the query.
 * @param max the most messages in the page, 1 to ::XMPP_MAM_MAX_PAGE, or 0
 *        for the server's default.
 * @param dir ::XMPP_MAM_FORWARD: the page after @p id (from the oldest
 *        message when @p id is NULL); ::XMPP_MAM_BACKWARD: the page before
 *        @p id (the newest messages when @p id is NULL).
 * @param id an archive id from an earlier page (its last for forward, its
 *        first for backward), or NULL.
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID or ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_mam_query_set_page(xmpp_mam_query *q, unsigned max, xmpp_mam_dir dir,
                                        const char *id);

/**
 * Receives one archived message of an open query. Results come in
 * chronological order within a page, whatever the paging direction.
 * @param s the session.
 * @param result the result (valid during the call).
 * @param user_data passed back to the callback.
 */
typedef void (*xmpp_mam_result_fn)(xmpp_session *s, const xmpp_mam_result *result,
                                   void *user_data);

/**
 * Completion of xmpp_mam_fetch(); fires exactly once, after the page's
 * results.
 * @param s the session.
 * @param status ::XMPP_IQ_RESULT (then @p fin is given), ::XMPP_IQ_ERROR
 *        (e.g. item-not-found for an unknown id), ::XMPP_IQ_TIMEOUT or
 *        ::XMPP_IQ_CANCELLED (the session ended or the connection dropped,
 *        also when the stream is resumed afterwards: the results of that
 *        query are no longer accepted; query the page again).
 * @param fin the end of the page for ::XMPP_IQ_RESULT (valid during the
 *        call), else NULL.
 * @param error the error reply for ::XMPP_IQ_ERROR (borrowed), else NULL.
 * @param user_data passed back to the callback.
 */
typedef void (*xmpp_mam_done_fn)(xmpp_session *s, xmpp_iq_status status,
                                 const xmpp_mam_fin *fin, xmpp_stanza *error, void *user_data);

/**
 * Sends a query for one page and enables the "mam" plugin (which checks
 * the results). The query is copied: free or change it after the call.
 * @param s a ready session.
 * @param q the query.
 * @param timeout_ms 0 for the session default.
 * @param on_result receives each accepted result, or NULL.
 * @param on_done the completion callback (required).
 * @param user_data passed back to both callbacks.
 * @return ::XMPP_OK; ::XMPP_ERR_INVALID; ::XMPP_ERR_LIMIT
 *         (::XMPP_MAM_MAX_OPEN queries already open); or as
 *         xmpp_session_send_iq() and xmpp_session_enable_plugin(). On
 *         error no callback fires.
 */
XMPP_EXTERN int xmpp_mam_fetch(xmpp_session *s, const xmpp_mam_query *q, unsigned timeout_ms,
                               xmpp_mam_result_fn on_result, xmpp_mam_done_fn on_done,
                               void *user_data);

/**
 * The archive id of a result (its XEP-0359 stable id in that archive).
 * @param r the result.
 * @return a borrowed string (never NULL for a delivered result).
 */
XMPP_EXTERN const char *xmpp_mam_result_id(const xmpp_mam_result *r);

/**
 * The archived message.
 * @param r the result.
 * @return the message (borrowed, valid during the callback).
 */
XMPP_EXTERN xmpp_stanza *xmpp_mam_result_message(const xmpp_mam_result *r);

/**
 * When the message was archived (the XEP-0203 stamp of the result).
 * @param r the result.
 * @param secs receives seconds since 1970 (UTC).
 * @return ::XMPP_OK, ::XMPP_ERR_NOT_FOUND (no stamp) or
 *         ::XMPP_ERR_INVALID (a malformed stamp).
 */
XMPP_EXTERN int xmpp_mam_result_stamp(const xmpp_mam_result *r, int64_t *secs);

/**
 * Whether the page was the last one in its direction (XEP-0313
 * "complete").
 * @param fin the end of the page.
 * @return 1 or 0.
 */
XMPP_EXTERN int xmpp_mam_fin_complete(const xmpp_mam_fin *fin);

/**
 * The archive id of the first message of the page.
 * @param fin the end of the page.
 * @return a borrowed string, or NULL for an empty page.
 */
XMPP_EXTERN const char *xmpp_mam_fin_first(const xmpp_mam_fin *fin);

/**
 * The archive id of the last message of the page.
 * @param fin the end of the page.
 * @return a borrowed string, or NULL for an empty page.
 */
XMPP_EXTERN const char *xmpp_mam_fin_last(const xmpp_mam_fin *fin);

/**
 * The number of results the plugin delivered for this page.
 * @param fin the end of the page.
 * @return the count.
 */
XMPP_EXTERN size_t xmpp_mam_fin_delivered(const xmpp_mam_fin *fin);

#ifdef __cplusplus
}
#endif

#endif /* XMPP_XEP_MAM_H */
