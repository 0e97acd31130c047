/**
 * @file xmpp/xep/muc.h
 * @brief XEP-0045 Multi-User Chat, XEP-0249 direct invitations and
 *        XEP-0410 MUC self-ping: the "muc" plugin.
 *
 * Enable the plugin with xmpp_session_enable_plugin(s, "muc") and set the
 * room event callbacks with xmpp_muc_set_callbacks(). Rooms are named by
 * their bare JID (room\@service); the plugin keeps, per joined room, the
 * own nick, the occupant list (nick, role, affiliation, real JID when the
 * room reveals it), and the subject.
 *
 * Sender checks (SECURITY.md §3): room presence and messages are accepted
 * only from the bare JID of a room this session joined (or is joining) or
 * one of its occupant JIDs; anything else is left to the application's
 * handlers. Self-presence is recognised by status code 110, or by the
 * own nick for rooms that do not send 110.
 *
 * Reconnection: after a reconnect that did not resume the stream
 * (xmpp_session_resumed() is 0), call xmpp_muc_rejoin_all() from the
 * ready callback; every room joined before is joined again.
 *
 * Unless said otherwise, functions return ::XMPP_OK,
 * ::XMPP_ERR_INVALID (NULL or malformed arguments), ::XMPP_ERR_STATE (the
 * plugin is not enabled, or the room is not joined), ::XMPP_ERR_NOMEM, or
 * an error of xmpp_session_send(); all are callable from callbacks.
 */
#ifndef XMPP_XEP_MUC_H
#define XMPP_XEP_MUC_H

#include <stddef.h>

#include <xmpp/common.h>
#include <xmpp/session.h>
#include <xmpp/stanza.h>
#include <xmpp/xep/forms.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The MUC namespace (join presence). */
#define XMPP_NS_MUC "http://jabber.org/protocol/muc"
/** The MUC user namespace (occupant information, status codes). */
#define XMPP_NS_MUC_USER "http://jabber.org/protocol/muc#user"
/** The MUC admin namespace (roles and affiliations). */
#define XMPP_NS_MUC_ADMIN "http://jabber.org/protocol/muc#admin"
/** The MUC owner namespace (configuration, destruction). */
#define XMPP_NS_MUC_OWNER "http://jabber.org/protocol/muc#owner"
/** The XEP-0249 direct invitation namespace. */
#define XMPP_NS_CONFERENCE "jabber:x:conference"

/** An occupant's role (XEP-0045 §5.1). */
typedef enum xmpp_muc_role {
    XMPP_MUC_ROLE_NONE = 0,        /**< "none" (not in the room). */
    XMPP_MUC_ROLE_VISITOR = 1,     /**< "visitor". */
    XMPP_MUC_ROLE_PARTICIPANT = 2, /**< "participant". */
    XMPP_MUC_ROLE_MODERATOR = 3    /**< "moderator". */
} xmpp_muc_role;

/** An affiliation (XEP-0045 §5.2). */
typedef enum xmpp_muc_affiliation {
    XMPP_MUC_AFF_NONE = 0,    /**< "none". */
    XMPP_MUC_AFF_OUTCAST = 1, /**< "outcast" (banned). */
    XMPP_MUC_AFF_MEMBER = 2,  /**< "member". */
    XMPP_MUC_AFF_ADMIN = 3,   /**< "admin". */
    XMPP_MUC_AFF_OWNER = 4    /**< "owner". */
} xmpp_muc_affiliation;

/** Status codes (XEP-0045 §15.6) seen on a presence, as bits. */
enum xmpp_muc_status_bits {
    XMPP_MUC_STATUS_NON_ANONYMOUS = 1 << 0, /**< 100: real JIDs are public. */
    XMPP_MUC_STATUS_SELF = 1 << 1,          /**< 110: this is the own presence. */
    XMPP_MUC_STATUS_LOGGED = 1 << 2,        /**< 170: the room is logged. */
    XMPP_MUC_STATUS_CREATED = 1 << 3,       /**< 201: a new room was created. */
    XMPP_MUC_STATUS_NICK_ASSIGNED = 1 << 4, /**< 210: the service changed the nick. */
    XMPP_MUC_STATUS_BANNED = 1 << 5,        /**< 301: banned. */
    XMPP_MUC_STATUS_NICK_CHANGED = 1 << 6,  /**< 303: the occupant changes nick. */
    XMPP_MUC_STATUS_KICKED = 1 << 7,        /**< 307: kicked. */
    XMPP_MUC_STATUS_AFFILIATION = 1 << 8,   /**< 321: removed by an affiliation change. */
    XMPP_MUC_STATUS_MEMBERS_ONLY = 1 << 9,  /**< 322: removed: the room became members-only. */
    XMPP_MUC_STATUS_SHUTDOWN = 1 << 10,     /**< 332: removed: the service shuts down. */
    XMPP_MUC_STATUS_ERROR_REMOVED = 1 << 11 /**< 333: removed after a technical error. */
};

/** A room occupant, as the room last described it. Borrowed. */
typedef struct xmpp_muc_occupant {
    const char *nick;                 /**< The nick (the resource of the occupant JID). */
    const char *real_jid;             /**< The real JID, or NULL when hidden. */
    xmpp_muc_role role;               /**< The role. */
    xmpp_muc_affiliation affiliation; /**< The affiliation. */
    const char *show;                 /**< The presence &lt;show/&gt;, or NULL. */
    const char *status;               /**< The presence &lt;status/&gt;, or NULL. */
} xmpp_muc_occupant;

/** What happened to an occupant. */
typedef enum xmpp_muc_occupant_event {
    XMPP_MUC_OCCUPANT_JOINED = 0,  /**< Entered (or was present when we joined). */
    XMPP_MUC_OCCUPANT_CHANGED = 1, /**< Changed presence, role or affiliation. */
    XMPP_MUC_OCCUPANT_LEFT = 2     /**< Left (see the status bits: kicked, banned, nick change). */
} xmpp_muc_occupant_event;

/** Why the own occupant is no longer in a room. */
typedef enum xmpp_muc_removal {
    XMPP_MUC_REMOVED_LEFT = 0,        /**< The room reports us gone without a reason
                                           (e.g. a leave from another client). */
    XMPP_MUC_REMOVED_KICKED = 1,      /**< Kicked (307). */
    XMPP_MUC_REMOVED_BANNED = 2,      /**< Banned (301). */
    XMPP_MUC_REMOVED_SHUTDOWN = 3,    /**< The service shuts down (332). */
    XMPP_MUC_REMOVED_DESTROYED = 4,   /**< The room was destroyed. */
    XMPP_MUC_REMOVED_AFFILIATION = 5, /**< An affiliation change (321) or members-only (322). */
    XMPP_MUC_REMOVED_ERROR = 6,       /**< A technical error (333) or an error presence. */
    XMPP_MUC_REMOVED_NOT_JOINED = 7   /**< The self-ping says we are no longer joined (XEP-0410). */
} xmpp_muc_removal;

/** How a join ended. */
typedef enum xmpp_muc_join_status {
    XMPP_MUC_JOIN_OK = 0,       /**< Joined: the self-presence arrived. */
    XMPP_MUC_JOIN_ERROR = 1,    /**< The room answered with an error presence. */
    XMPP_MUC_JOIN_TIMEOUT = 2,  /**< No self-presence within the join timeout. */
    XMPP_MUC_JOIN_CANCELLED = 3 /**< Left, disabled or freed before an answer. */
} xmpp_muc_join_status;

/**
 * Completion of xmpp_muc_join(); fires exactly once.
 * @param s the session.
 * @param room the room's bare JID.
 * @param status how the join ended.
 * @param cond the error condition (for ::XMPP_MUC_JOIN_ERROR).
 * @param text the error text, or NULL (borrowed).
 * @param status_bits the status bits of the self-presence (201 for a new
 *        room: configure it, e.g. with xmpp_muc_instant_room()).
 * @param user_data passed back to the callback.
 */
typedef void (*xmpp_muc_join_fn)(xmpp_session *s, const char *room, xmpp_muc_join_status status,
                                 xmpp_stanza_condition cond, const char *text, unsigned status_bits,
                                 void *user_data);

/** Room event callbacks; any may be NULL. Strings are borrowed. */
typedef struct xmpp_muc_callbacks {
    /** An occupant entered, changed or left; @p bits are its status bits;
     *  @p new_nick is the new nick with ::XMPP_MUC_STATUS_NICK_CHANGED. */
    void (*occupant)(xmpp_session *s, const char *room, const xmpp_muc_occupant *occ,
                     xmpp_muc_occupant_event event, unsigned bits, const char *new_nick,
                     void *user_data);
    /** A groupchat message with a body (@p nick NULL when from the room
     *  itself), or a private message (@p is_private 1); @p delayed is 1
     *  for history; @p stanza is the whole message. */
    void (*message)(xmpp_session *s, const char *room, const char *nick, const char *body,
                    int is_private, int delayed, xmpp_stanza *stanza, void *user_data);
    /** The subject was set or announced (@p nick NULL: by the room). */
    void (*subject)(xmpp_session *s, const char *room, const char *nick, const char *subject,
                    void *user_data);
    /** We are out of a joined room; @p actor and @p reason may be NULL;
     *  @p alt_room is the alternative venue of a destroyed room, or NULL. */
    void (*removed)(xmpp_session *s, const char *room, xmpp_muc_removal why, const char *actor,
                    const char *reason, const char *alt_room, void *user_data);
    /** An invitation: direct (XEP-0249, @p from is the inviter) or
     *  mediated by the room (@p from is the inviter's JID as the room
     *  reports it); @p reason and @p password may be NULL. */
    void (*invite)(xmpp_session *s, const char *room, const char *from, const char *reason,
                   const char *password, void *user_data);
} xmpp_muc_callbacks;

/**
 * Sets the room event callbacks.
 * @param s the session (plugin enabled).
 * @param cb the callbacks (copied), or NULL for none.
 * @param user_data passed back to the callbacks.
 * @return ::XMPP_OK, ::XMPP_ERR_STATE (plugin not enabled).
 */
XMPP_EXTERN int xmpp_muc_set_callbacks(xmpp_session *s, const xmpp_muc_callbacks *cb,
                                       void *user_data);

/** History to ask for when joining (XEP-0045 §7.2.13); -1 or NULL: unset. */
typedef struct xmpp_muc_history {
    int maxstanzas;    /**< At most this many messages (0: none), or -1. */
    int maxchars;      /**< At most this many characters, or -1. */
    int seconds;       /**< Messages of the last seconds, or -1. */
    const char *since; /**< Messages since this XEP-0082 date-time, or NULL. */
} xmpp_muc_history;

/**
 * Joins a room (XEP-0045 §7.2).
 * @param s a ready session.
 * @param room the room's bare JID.
 * @param nick the nick (the occupant JID's resource).
 * @param password the room password, or NULL.
 * @param history the history to request, or NULL for the room's default.
 * @param timeout_ms the join timeout, 0 for 30 s.
 * @param cb the completion callback, or NULL.
 * @param user_data passed back to the callback.
 * @return ::XMPP_OK, ::XMPP_ERR_STATE (already joined or joining this
 *         room), ::XMPP_ERR_LIMIT (256 rooms), or as the file description;
 *         on error the callback does not fire.
 */
XMPP_EXTERN int xmpp_muc_join(xmpp_session *s, const char *room, const char *nick,
                              const char *password, const xmpp_muc_history *history,
                              unsigned timeout_ms, xmpp_muc_join_fn cb, void *user_data);

/**
 * Leaves a room: sends unavailable presence and forgets the room at once
 * (a pending join completes with ::XMPP_MUC_JOIN_CANCELLED; the removed
 * callback does not fire for a room left this way).
 * @param s the session.
 * @param room the room's bare JID.
 * @param status a status text, or NULL.
 * @return ::XMPP_OK, ::XMPP_ERR_NOT_FOUND (not joined), or as the file
 *         description.
 */
XMPP_EXTERN int xmpp_muc_leave(xmpp_session *s, const char *room, const char *status);

/**
 * Joins again every room that was joined or being joined (after a
 * reconnect without stream resumption), with the same nick, password and
 * completion callback (which fires once more, for this join), asking for
 * no history.
 * @param s a ready session.
 * @return the number of rooms being joined, or an error code.
 */
XMPP_EXTERN int xmpp_muc_rejoin_all(xmpp_session *s);

/**
 * Sends a groupchat message.
 * @param s the session.
 * @param room a joined room.
 * @param body the text.
 * @param id receives the message id (to recognise the reflected copy);
 *        may be NULL.
 * @param id_size the size of @p id (at least 17 when given).
 * @return as the file description.
 */
XMPP_EXTERN int xmpp_muc_send(xmpp_session *s, const char *room, const char *body, char *id,
                              size_t id_size);

/**
 * Sends a private message to an occupant (XEP-0045 §7.5).
 * @param s the session.
 * @param room a joined room.
 * @param nick the occupant's nick.
 * @param body the text.
 * @return as the file description.
 */
XMPP_EXTERN int xmpp_muc_send_private(xmpp_session *s, const char *room, const char *nick,
                                      const char *body);

/**
 * Changes the room subject (XEP-0045 §8.1).
 * @param s the session.
 * @param room a joined room.
 * @param subject the new subject ("" to clear).
 * @return as the file description.
 */
XMPP_EXTERN int xmpp_muc_set_subject(xmpp_session *s, const char *room, const char *subject);

/**
 * Changes the own nick (XEP-0045 §7.6); the plugin follows the 303
 * presence the room answers with.
 * @param s the session.
 * @param room a joined room.
 * @param nick the new nick.
 * @return as the file description.
 */
XMPP_EXTERN int xmpp_muc_change_nick(xmpp_session *s, const char *room, const char *nick);

/**
 * Sets an occupant's role (XEP-0045 §8.2-8.6, §9.6-9.7): ::XMPP_MUC_ROLE_NONE
 * kicks, ::XMPP_MUC_ROLE_PARTICIPANT grants voice, ::XMPP_MUC_ROLE_VISITOR
 * revokes it, ::XMPP_MUC_ROLE_MODERATOR grants moderation.
 * @param s the session.
 * @param room the room.
 * @param nick the occupant's nick.
 * @param role the new role.
 * @param reason a reason, or NULL.
 * @param cb the completion (exactly once), or NULL.
 * @param user_data passed back to the callback.
 * @return as xmpp_session_send_iq().
 */
XMPP_EXTERN int xmpp_muc_set_role(xmpp_session *s, const char *room, const char *nick,
                                  xmpp_muc_role role, const char *reason, xmpp_iq_fn cb,
                                  void *user_data);

/**
 * Sets a user's affiliation (XEP-0045 §9.1-9.5, §10.3-10.7):
 * ::XMPP_MUC_AFF_OUTCAST bans.
 * @param s the session.
 * @param room the room.
 * @param jid the user's bare JID.
 * @param aff the new affiliation.
 * @param reason a reason, or NULL.
 * @param cb the completion (exactly once), or NULL.
 * @param user_data passed back to the callback.
 * @return as xmpp_session_send_iq().
 */
XMPP_EXTERN int xmpp_muc_set_affiliation(xmpp_session *s, const char *room, const char *jid,
                                         xmpp_muc_affiliation aff, const char *reason,
                                         xmpp_iq_fn cb, void *user_data);

/**
 * Completion of xmpp_muc_get_config(); fires exactly once.
 * @param s the session.
 * @param status how the request ended.
 * @param form the configuration form (borrowed, valid during the call),
 *        or NULL (error, timeout, cancel, or no valid form in the answer).
 * @param user_data passed back to the callback.
 */
typedef void (*xmpp_muc_config_fn)(xmpp_session *s, xmpp_iq_status status, const xmpp_form *form,
                                   void *user_data);

/**
 * Fetches a room's configuration form (XEP-0045 §10.2).
 * @param s the session.
 * @param room the room.
 * @param cb the completion, or NULL.
 * @param user_data passed back to the callback.
 * @return as xmpp_session_send_iq().
 */
XMPP_EXTERN int xmpp_muc_get_config(xmpp_session *s, const char *room, xmpp_muc_config_fn cb,
                                    void *user_data);

/**
 * Submits a room configuration (a submit form, see xmpp_form_submit_new()).
 * @param s the session.
 * @param room the room.
 * @param form the submit form (borrowed).
 * @param cb the completion, or NULL.
 * @param user_data passed back to the callback.
 * @return as xmpp_session_send_iq(); ::XMPP_ERR_INVALID when @p form is
 *         not of type submit.
 */
XMPP_EXTERN int xmpp_muc_submit_config(xmpp_session *s, const char *room, const xmpp_form *form,
                                       xmpp_iq_fn cb, void *user_data);

/**
 * Accepts the default configuration of a new room (an instant room,
 * XEP-0045 §10.1.2): an empty submit form.
 * @param s the session.
 * @param room the room.
 * @param cb the completion, or NULL.
 * @param user_data passed back to the callback.
 * @return as xmpp_session_send_iq().
 */
XMPP_EXTERN int xmpp_muc_instant_room(xmpp_session *s, const char *room, xmpp_iq_fn cb,
                                      void *user_data);

/**
 * Destroys a room (XEP-0045 §10.9).
 * @param s the session.
 * @param room the room.
 * @param alt_room an alternative venue, or NULL.
 * @param reason a reason, or NULL.
 * @param cb the completion, or NULL.
 * @param user_data passed back to the callback.
 * @return as xmpp_session_send_iq().
 */
XMPP_EXTERN int xmpp_muc_destroy(xmpp_session *s, const char *room, const char *alt_room,
                                 const char *reason, xmpp_iq_fn cb, void *user_data);

/**
 * Sends a direct invitation (XEP-0249).
 * @param s the session.
 * @param to the invitee's JID.
 * @param room the room's bare JID.
 * @param reason a reason, or NULL.
 * @param password the room password, or NULL.
 * @return as the file description.
 */
XMPP_EXTERN int xmpp_muc_invite(xmpp_session *s, const char *to, const char *room,
                                const char *reason, const char *password);

/** The outcome of a self-ping (XEP-0410 §3.2). */
typedef enum xmpp_muc_ping_result {
    XMPP_MUC_PING_JOINED = 0, /**< Still joined (a result, or an error the XEP counts as joined). */
    XMPP_MUC_PING_NOT_JOINED = 1, /**< Not joined any more: join again. */
    XMPP_MUC_PING_UNKNOWN = 2     /**< No answer, or the room's server is unreachable: try later. */
} xmpp_muc_ping_result;

/**
 * Sets the periodic self-ping (XEP-0410): every @p interval_ms each joined
 * room is pinged at the own occupant JID; when the answer says we are not
 * joined, the removed callback fires with ::XMPP_MUC_REMOVED_NOT_JOINED
 * and, with @p auto_rejoin, the room is joined again.
 * @param s the session.
 * @param interval_ms the period, 0 to stop (the default).
 * @param auto_rejoin 1 to rejoin rooms found not joined.
 * @return ::XMPP_OK, ::XMPP_ERR_STATE or ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_muc_set_self_ping(xmpp_session *s, unsigned interval_ms, int auto_rejoin);

/**
 * Completion of xmpp_muc_self_ping(); fires exactly once.
 * @param s the session.
 * @param room the room.
 * @param result the XEP-0410 decision.
 * @param user_data passed back to the callback.
 */
typedef void (*xmpp_muc_ping_fn)(xmpp_session *s, const char *room, xmpp_muc_ping_result result,
                                 void *user_data);

/**
 * Pings the own occupant JID of a joined room once (XEP-0410 §3.2).
 * @param s the session.
 * @param room a joined room.
 * @param timeout_ms 0 for the session default.
 * @param cb the completion, or NULL.
 * @param user_data passed back to the callback.
 * @return as the file description.
 */
XMPP_EXTERN int xmpp_muc_self_ping(xmpp_session *s, const char *room, unsigned timeout_ms,
                                   xmpp_muc_ping_fn cb, void *user_data);

/**
 * Whether a room is joined (the self-presence arrived).
 * @param s the session.
 * @param room the room's bare JID.
 * @return 1 or 0.
 */
XMPP_EXTERN int xmpp_muc_joined(const xmpp_session *s, const char *room);

/**
 * The own nick in a room.
 * @param s the session.
 * @param room the room's bare JID.
 * @return the nick (borrowed), or NULL when not joined or joining.
 */
XMPP_EXTERN const char *xmpp_muc_nick(const xmpp_session *s, const char *room);

/**
 * The room subject.
 * @param s the session.
 * @param room the room's bare JID.
 * @return the subject (borrowed), or NULL.
 */
XMPP_EXTERN const char *xmpp_muc_subject(const xmpp_session *s, const char *room);

/**
 * The number of occupants of a joined room (the own one included).
 * @param s the session.
 * @param room the room's bare JID.
 * @return the count (0 when not joined).
 */
XMPP_EXTERN size_t xmpp_muc_occupant_count(const xmpp_session *s, const char *room);

/**
 * An occupant by position.
 * @param s the session.
 * @param room the room's bare JID.
 * @param i the position, below xmpp_muc_occupant_count().
 * @return the occupant (borrowed, valid until the next stanza is
 *         processed), or NULL.
 */
XMPP_EXTERN const xmpp_muc_occupant *xmpp_muc_occupant_at(const xmpp_session *s, const char *room,
                                                          size_t i);

/**
 * An occupant by nick.
 * @param s the session.
 * @param room the room's bare JID.
 * @param nick the nick.
 * @return the occupant (borrowed, as xmpp_muc_occupant_at()), or NULL.
 */
XMPP_EXTERN const xmpp_muc_occupant *xmpp_muc_occupant_find(const xmpp_session *s, const char *room,
                                                            const char *nick);

/**
 * The name of a role ("moderator", ...).
 * @param r the role.
 * @return a static string.
 */
XMPP_EXTERN const char *xmpp_muc_role_name(xmpp_muc_role r);

/**
 * The name of an affiliation ("owner", ...).
 * @param a the affiliation.
 * @return a static string.
 */
XMPP_EXTERN const char *xmpp_muc_affiliation_name(xmpp_muc_affiliation a);

#ifdef __cplusplus
}
#endif

#endif /* XMPP_XEP_MUC_H */
