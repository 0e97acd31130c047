/**
 * @file xmpp/xep/im.h
 * @brief Instant-messaging markup: XEP-0085 chat states, XEP-0308 last
 *        message correction, XEP-0245 /me, XEP-0333 chat markers,
 *        XEP-0424 message retraction, XEP-0444 reactions, XEP-0461
 *        replies and the XEP-0428 fallback indication.
 *
 * Builders add the elements of one XEP to a \<message/> the application
 * then sends with xmpp_session_send(); parsers read them from a received
 * message into typed structs whose strings are borrowed from the message
 * (valid while the caller holds it). Every function checks its input:
 * malformed or hostile content gives a negative XMPP_ERR code, never a crash.
 * None of them touches a session, so all may be called from callbacks.
 *
 * The plugins "chatstates", "correction", "markers", "retraction",
 * "reactions" and "replies" only advertise their disco features (enable
 * those the application handles); "im" enables all six.
 */
#ifndef XMPP_XEP_IM_H
#define XMPP_XEP_IM_H

#include <stddef.h>

#include <xmpp/common.h>
#include <xmpp/stanza.h>

#ifdef __cplusplus
extern "C" {
#endif

/** XEP-0085 namespace. */
#define XMPP_NS_CHATSTATES "http://jabber.org/protocol/chatstates"
/** XEP-0308 namespace. */
#define XMPP_NS_CORRECTION "urn:xmpp:message-correct:0"
/** XEP-0333 namespace. */
#define XMPP_NS_MARKERS "urn:xmpp:chat-markers:0"
/** XEP-0424 namespace. */
#define XMPP_NS_RETRACT "urn:xmpp:message-retract:1"
/** XEP-0444 namespace. */
#define XMPP_NS_REACTIONS "urn:xmpp:reactions:0"
/** XEP-0461 namespace. */
#define XMPP_NS_REPLY "urn:xmpp:reply:0"
/** XEP-0428 namespace. */
#define XMPP_NS_FALLBACK "urn:xmpp:fallback:0"
/** XEP-0334 namespace (the store hint of retractions and reactions). */
#define XMPP_NS_HINTS "urn:xmpp:hints"

/** The longest id accepted in a reference to another message (bytes). */
#define XMPP_IM_MAX_ID 256

/* ---- XEP-0085 chat states ------------------------------------------- */

/** A chat state (XEP-0085 §4). */
typedef enum xmpp_chatstate {
    XMPP_CHATSTATE_ACTIVE = 1, /**< \<active/> */
    XMPP_CHATSTATE_COMPOSING,  /**< \<composing/> */
    XMPP_CHATSTATE_PAUSED,     /**< \<paused/> */
    XMPP_CHATSTATE_INACTIVE,   /**< \<inactive/> */
    XMPP_CHATSTATE_GONE        /**< \<gone/> */
} xmpp_chatstate;

/**
 * Sets the chat state of a message (replacing one already there).
 * @param msg the message.
 * @param state the state.
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID (not a message, unknown state) or
 *         ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_chatstate_add(xmpp_stanza *msg, xmpp_chatstate state);

/**
 * Reads the chat state of a message.
 * @param msg the message.
 * @param state receives the state.
 * @return ::XMPP_OK, ::XMPP_ERR_NOT_FOUND (none), ::XMPP_ERR_INVALID
 *         (several, or an unknown element in the namespace).
 */
XMPP_EXTERN int xmpp_chatstate_get(const xmpp_stanza *msg, xmpp_chatstate *state);

/**
 * The element name of a chat state ("composing", ...).
 * @param state the state.
 * @return a static string, or NULL for an unknown value.
 */
XMPP_EXTERN const char *xmpp_chatstate_name(xmpp_chatstate state);

/* ---- XEP-0308 last message correction -------------------------------- */

/**
 * Marks a message as the correction of an earlier one (the message's
 * \<body/> is the new text).
 * @param msg the message.
 * @param replace_id the id of the message being corrected (1 to
 *        ::XMPP_IM_MAX_ID bytes).
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID (not a message, bad id, already a
 *         correction), ::XMPP_ERR_UTF8 or ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_correction_add(xmpp_stanza *msg, const char *replace_id);

/**
 * Reads the id a correction replaces.
 * @param msg the message.
 * @param replace_id receives the id (borrowed from @p msg).
 * @return ::XMPP_OK, ::XMPP_ERR_NOT_FOUND, ::XMPP_ERR_INVALID (empty or
 *         too long id, several \<replace/>).
 */
XMPP_EXTERN int xmpp_correction_get(const xmpp_stanza *msg, const char **replace_id);

/* ---- XEP-0245 /me ---------------------------------------------------- */

/**
 * Whether a body is a /me command (XEP-0245 §3: it begins with the four
 * characters "/me ").
 * @param body the body text (NULL gives 0).
 * @param action receives a pointer into @p body after "/me "; may be NULL.
 * @return 1 or 0.
 */
XMPP_EXTERN int xmpp_me_command(const char *body, const char **action);

/* ---- XEP-0333 chat markers ------------------------------------------- */

/** A chat marker (XEP-0333 §3). */
typedef enum xmpp_marker {
    XMPP_MARKER_RECEIVED = 1, /**< \<received/> */
    XMPP_MARKER_DISPLAYED,    /**< \<displayed/> */
    XMPP_MARKER_ACKNOWLEDGED  /**< \<acknowledged/> */
} xmpp_marker;

/**
 * Adds \<markable/> to a message (it asks for markers).
 * @param msg the message.
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID or ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_marker_add_markable(xmpp_stanza *msg);

/**
 * Whether a message is markable.
 * @param msg the message.
 * @return 1 or 0.
 */
XMPP_EXTERN int xmpp_marker_is_markable(const xmpp_stanza *msg);

/**
 * Adds a marker for a message to a (new) message.
 * @param msg the message that carries the marker.
 * @param marker which marker.
 * @param id the id of the marked message (1 to ::XMPP_IM_MAX_ID bytes).
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID, ::XMPP_ERR_UTF8 or ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_marker_add(xmpp_stanza *msg, xmpp_marker marker, const char *id);

/**
 * Reads the marker a message carries.
 * @param msg the message.
 * @param marker receives the marker.
 * @param id receives the marked message's id (borrowed).
 * @return ::XMPP_OK, ::XMPP_ERR_NOT_FOUND, ::XMPP_ERR_INVALID (no or bad
 *         id, several markers).
 */
XMPP_EXTERN int xmpp_marker_get(const xmpp_stanza *msg, xmpp_marker *marker, const char **id);

/* ---- XEP-0424 message retraction ------------------------------------- */

/**
 * Turns a message into the retraction of an earlier one: \<retract/>, a
 * XEP-0428 fallback marker, a fallback \<body/> for clients without
 * support (only when the message has none) and the store hint.
 * @param msg the message (normally without a body).
 * @param id the id of the retracted message (its origin id, 1 to
 *        ::XMPP_IM_MAX_ID bytes).
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID, ::XMPP_ERR_UTF8 or ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_retraction_add(xmpp_stanza *msg, const char *id);

/**
 * Reads the id a retraction retracts.
 * @param msg the message.
 * @param id receives the id (borrowed).
 * @return ::XMPP_OK, ::XMPP_ERR_NOT_FOUND or ::XMPP_ERR_INVALID.
 */
XMPP_EXTERN int xmpp_retraction_get(const xmpp_stanza *msg, const char **id);

/* ---- XEP-0444 reactions ---------------------------------------------- */

/** The most reactions in one message this library builds or accepts. */
#define XMPP_REACTIONS_MAX 32
/** The longest reaction accepted, in bytes (an emoji ZWJ sequence fits). */
#define XMPP_REACTION_MAX_BYTES 64

/** The reactions a message carries. */
typedef struct xmpp_reactions {
    const char *id;                            /**< The id of the message reacted to (borrowed). */
    size_t count;                              /**< The number of reactions (0 removes all). */
    const char *reactions[XMPP_REACTIONS_MAX]; /**< Each reaction (borrowed). */
} xmpp_reactions;

/**
 * Whether a string is acceptable as a reaction: valid UTF-8, 1 to
 * ::XMPP_REACTION_MAX_BYTES bytes and at most 16 code points, at least
 * one non-ASCII code point, no ASCII besides the keycap bases 0-9, '#'
 * and '*', no control, format-only or white-space character besides the
 * emoji joiners (U+200D, U+FE0E, U+FE0F, U+20E3).
 * @param reaction the string (NULL gives 0).
 * @return 1 or 0.
 */
XMPP_EXTERN int xmpp_reaction_valid(const char *reaction);

/**
 * Adds the full set of the sender's reactions to a message, and the store
 * hint (XEP-0444 §3.2: each update replaces the previous set).
 * @param msg the message.
 * @param id the id of the message reacted to.
 * @param reactions the reactions, each valid (xmpp_reaction_valid()) and
 *        unique; may be NULL when @p n is 0.
 * @param n their number, at most ::XMPP_REACTIONS_MAX (0 removes all).
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID (bad id or reaction, duplicate,
 *         not a message, already has reactions), ::XMPP_ERR_LIMIT (too
 *         many) or ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_reactions_add(xmpp_stanza *msg, const char *id, const char *const *reactions,
                                   size_t n);

/**
 * Reads the reactions of a message.
 * @param msg the message.
 * @param out receives the reactions (strings borrowed from @p msg).
 * @return ::XMPP_OK, ::XMPP_ERR_NOT_FOUND, ::XMPP_ERR_INVALID (bad id, an
 *         invalid or duplicated reaction, a reaction that is not one text),
 *         ::XMPP_ERR_LIMIT (more than ::XMPP_REACTIONS_MAX).
 */
XMPP_EXTERN int xmpp_reactions_get(const xmpp_stanza *msg, xmpp_reactions *out);

/* ---- XEP-0461 replies and XEP-0428 fallback -------------------------- */

/** What a reply refers to. */
typedef struct xmpp_reply {
    const char *to; /**< The author of the message replied to, or NULL (borrowed). */
    const char *id; /**< The id of the message replied to (borrowed). */
} xmpp_reply;

/**
 * Marks a message as a reply. With @p quote, the quoted text is put in
 * front of the body as "> " lines and marked as the XEP-0428 fallback for
 * XEP-0461 (clients with reply support strip it, others show it).
 * @param msg the message, with a \<body/> when @p quote is given.
 * @param to the author of the message replied to (a JID), or NULL.
 * @param id its id (1 to ::XMPP_IM_MAX_ID bytes).
 * @param quote the text to quote, or NULL for none (at most 4096 bytes).
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID (bad id, to or quote, no body for
 *         a quote, already a reply), ::XMPP_ERR_UTF8, ::XMPP_ERR_LIMIT or
 *         ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_reply_add(xmpp_stanza *msg, const char *to, const char *id, const char *quote);

/**
 * Reads what a message replies to.
 * @param msg the message.
 * @param out receives the reference.
 * @return ::XMPP_OK, ::XMPP_ERR_NOT_FOUND or ::XMPP_ERR_INVALID.
 */
XMPP_EXTERN int xmpp_reply_get(const xmpp_stanza *msg, xmpp_reply *out);

/**
 * The body of a message without the parts XEP-0428 marks as fallback for
 * a namespace (e.g. ::XMPP_NS_REPLY: the quote). Offsets count Unicode
 * code points; a \<fallback/> without \<body/> marks the whole body.
 * @param msg the message.
 * @param for_ns the namespace whose fallback to remove.
 * @param out receives the text (free with xmpp_free()); the whole body
 *        when there is no fallback for @p for_ns.
 * @return ::XMPP_OK, ::XMPP_ERR_NOT_FOUND (no body), ::XMPP_ERR_INVALID
 *         (ranges out of order, overlapping, beyond the body or not
 *         numbers), ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_fallback_strip(const xmpp_stanza *msg, const char *for_ns, char **out);

#ifdef __cplusplus
}
#endif

#endif /* XMPP_XEP_IM_H */
