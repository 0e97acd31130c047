/**
 * @file xmpp/xep/adhoc.h
 * @brief XEP-0050 Ad-Hoc Commands, requester side: list the commands an
 *        entity offers, execute one and walk its stages (next, prev,
 *        complete, cancel) with data forms (xmpp/xep/forms.h).
 *
 * No plugin is needed: these are IQ requests whose answers are accepted
 * only from the entity asked (RFC 6120 §8.2.3). Answering commands
 * (the responder side) is not offered (SECURITY.md ORG-12).
 */
#ifndef XMPP_XEP_ADHOC_H
#define XMPP_XEP_ADHOC_H

#include <stddef.h>

#include <xmpp/common.h>
#include <xmpp/session.h>
#include <xmpp/xep/forms.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The ad-hoc commands namespace (also the disco#items node listing them). */
#define XMPP_NS_COMMANDS "http://jabber.org/protocol/commands"

/** A command action (XEP-0050 §3.4). */
typedef enum xmpp_adhoc_action {
    XMPP_ADHOC_EXECUTE = 0,  /**< "execute": start, or the default action. */
    XMPP_ADHOC_NEXT = 1,     /**< "next". */
    XMPP_ADHOC_PREV = 2,     /**< "prev". */
    XMPP_ADHOC_COMPLETE = 3, /**< "complete". */
    XMPP_ADHOC_CANCEL = 4    /**< "cancel". */
} xmpp_adhoc_action;

/** The state of a command session (XEP-0050 §3.4). */
typedef enum xmpp_adhoc_status {
    XMPP_ADHOC_EXECUTING = 0, /**< More stages follow. */
    XMPP_ADHOC_COMPLETED = 1, /**< Done. */
    XMPP_ADHOC_CANCELED = 2   /**< Cancelled. */
} xmpp_adhoc_status;

/** The answer to a command request; borrowed, valid during the callback. */
typedef struct xmpp_adhoc_result xmpp_adhoc_result;

/**
 * The command session's state.
 * @param r the answer.
 * @return the status.
 */
XMPP_EXTERN xmpp_adhoc_status xmpp_adhoc_result_status(const xmpp_adhoc_result *r);

/**
 * The session id to pass to the next stage.
 * @param r the answer.
 * @return the id (borrowed).
 */
XMPP_EXTERN const char *xmpp_adhoc_result_sessionid(const xmpp_adhoc_result *r);

/**
 * The form of this stage, if the answer carries one.
 * @param r the answer.
 * @return the form (borrowed), or NULL.
 */
XMPP_EXTERN const xmpp_form *xmpp_adhoc_result_form(const xmpp_adhoc_result *r);

/**
 * Whether an action is allowed at this stage (from &lt;actions/&gt;;
 * ::XMPP_ADHOC_EXECUTE and ::XMPP_ADHOC_CANCEL always are while executing).
 * @param r the answer.
 * @param a the action.
 * @return 1 or 0.
 */
XMPP_EXTERN int xmpp_adhoc_result_allows(const xmpp_adhoc_result *r, xmpp_adhoc_action a);

/**
 * The number of &lt;note/&gt;s.
 * @param r the answer.
 * @return the count (at most 16 are kept).
 */
XMPP_EXTERN size_t xmpp_adhoc_result_note_count(const xmpp_adhoc_result *r);

/**
 * A note.
 * @param r the answer.
 * @param i the note's index.
 * @param type receives "info", "warn" or "error" (borrowed); may be NULL.
 * @return the text (borrowed), or NULL when out of range.
 */
XMPP_EXTERN const char *xmpp_adhoc_result_note(const xmpp_adhoc_result *r, size_t i,
                                               const char **type);

/**
 * Completion of xmpp_adhoc_execute(); fires exactly once.
 * @param s the session.
 * @param status ::XMPP_IQ_RESULT (then @p r is set), ::XMPP_IQ_ERROR (see
 *        @p reply), ::XMPP_IQ_TIMEOUT or ::XMPP_IQ_CANCELLED. A result
 *        that is not a valid command answer is reported as ::XMPP_IQ_ERROR.
 * @param r the answer, or NULL.
 * @param reply the whole reply (borrowed), or NULL.
 * @param user_data passed back to the callback.
 */
typedef void (*xmpp_adhoc_fn)(xmpp_session *s, xmpp_iq_status status, const xmpp_adhoc_result *r,
                              xmpp_stanza *reply, void *user_data);

/**
 * Executes a command, or moves a command session on (XEP-0050 §3.4).
 * @param s a ready session.
 * @param to the entity offering the command.
 * @param node the command's node.
 * @param action the action.
 * @param sessionid the session id of an earlier answer, or NULL to start.
 * @param form a submit form for this stage (borrowed), or NULL.
 * @param timeout_ms 0 for the session default.
 * @param cb the completion, or NULL.
 * @param user_data passed back to the callback.
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID, or as xmpp_session_send_iq();
 *         on error the callback does not fire.
 */
XMPP_EXTERN int xmpp_adhoc_execute(xmpp_session *s, const char *to, const char *node,
                                   xmpp_adhoc_action action, const char *sessionid,
                                   const xmpp_form *form, unsigned timeout_ms, xmpp_adhoc_fn cb,
                                   void *user_data);

/**
 * Completion of xmpp_adhoc_list(); fires exactly once.
 * @param s the session.
 * @param status how the request ended.
 * @param n the number of commands.
 * @param nodes their nodes (borrowed arrays of @p n strings).
 * @param names their names (an entry may be NULL).
 * @param user_data passed back to the callback.
 */
typedef void (*xmpp_adhoc_list_fn)(xmpp_session *s, xmpp_iq_status status, size_t n,
                                   const char *const *nodes, const char *const *names,
                                   void *user_data);

/**
 * Lists the commands an entity offers (disco#items on the commands node,
 * XEP-0050 §2.2); at most 256 are reported.
 * @param s a ready session.
 * @param to the entity.
 * @param cb the completion, or NULL.
 * @param user_data passed back to the callback.
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID, or as xmpp_session_send_iq().
 */
XMPP_EXTERN int xmpp_adhoc_list(xmpp_session *s, const char *to, xmpp_adhoc_list_fn cb,
                                void *user_data);

#ifdef __cplusplus
}
#endif

#endif /* XMPP_XEP_ADHOC_H */
