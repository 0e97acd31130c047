/**
 * @file xmpp/sys/plugin.h
 * @brief Writing a plugin: the descriptor a plugin fills in, and the calls
 *        a plugin makes on the session it is attached to.
 *
 * A plugin is a static, versioned descriptor (::xmpp_plugin_desc): a
 * name, the names of the plugins it needs, the disco features and
 * identities it advertises (XEP-0030), and attach/detach callbacks. When
 * a plugin is enabled on a session (xmpp_session_enable_plugin()), its
 * dependencies are enabled first, then its attach callback runs: it
 * allocates its per-session state and registers its stanza handlers with
 * xmpp_session_add_handler(), exactly like an application would. The
 * detach callback removes them and frees the state. The built-in plugins
 * (disco, caps, ping, version) use nothing but this interface.
 *
 * This interface is less stable than xmpp/plugin.h: a descriptor carries
 * ::XMPP_PLUGIN_ABI_VERSION and a session refuses descriptors built for
 * another version.
 */
#ifndef XMPP_SYS_PLUGIN_H
#define XMPP_SYS_PLUGIN_H

#include <stddef.h>

#include <xmpp/common.h>
#include <xmpp/plugin.h>
#include <xmpp/session.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The version of ::xmpp_plugin_desc this library understands. */
#define XMPP_PLUGIN_ABI_VERSION 1

/** A disco identity (XEP-0030 §3.1) a plugin advertises. */
typedef struct xmpp_plugin_identity {
    const char *category; /**< The category ("client", "pubsub", ...), required. */
    const char *type;     /**< The type within the category ("pc", "phone", ...), required. */
    const char *name;     /**< A human-readable name, or NULL. */
    const char *lang;     /**< The xml:lang of the name, or NULL. */
} xmpp_plugin_identity;

/**
 * Attaches a plugin to a session: allocate the per-session state, register
 * handlers. Runs when the plugin is enabled, after its dependencies.
 * @param s the session.
 * @param state receives the plugin's per-session state (NULL before the
 *        call); returned by xmpp_session_plugin_state() and given to the
 *        detach callback.
 * @param user_data the descriptor's user_data.
 * @return ::XMPP_OK, or an error code: the plugin is then not enabled and
 *         must have released everything it took.
 */
typedef int (*xmpp_plugin_attach_fn)(xmpp_session *s, void **state, void *user_data);

/**
 * Detaches a plugin: remove its handlers, free its state. Runs when the
 * plugin is disabled and when the session is freed (in the reverse order
 * of enabling, after pending IQ callbacks were cancelled).
 * @param s the session.
 * @param state the state the attach callback set.
 * @param user_data the descriptor's user_data.
 */
typedef void (*xmpp_plugin_detach_fn)(xmpp_session *s, void *state, void *user_data);

/**
 * The description of a plugin. Descriptors are borrowed, never copied:
 * they and every string and array they point to must outlive the sessions
 * and options that know them (a static const object is the usual form).
 */
typedef struct xmpp_plugin_desc {
    /** ::XMPP_PLUGIN_ABI_VERSION at the time the plugin was built. */
    unsigned abi_version;
    /** The unique name ("disco", "ping", "myapp-whiteboard"): 1 to 64 bytes
     *  of letters, digits, '-', '_' and '.'. */
    const char *name;
    /** Names of the plugins this one needs, enabled before it; a
     *  NULL-terminated array, or NULL for none. */
    const char *const *depends;
    /** Disco features (namespaces) advertised while enabled; a
     *  NULL-terminated array, or NULL for none. */
    const char *const *features;
    /** Disco identities advertised while enabled, or NULL. */
    const xmpp_plugin_identity *identities;
    /** The number of entries in identities. */
    size_t n_identities;
    /** Called on enable; NULL for a plugin that only advertises. */
    xmpp_plugin_attach_fn attach;
    /** Called on disable and at session free; may be NULL. */
    xmpp_plugin_detach_fn detach;
    /** Passed back to attach and detach. */
    void *user_data;
} xmpp_plugin_desc;

/**
 * Makes a plugin known to a session under its name, without enabling it;
 * xmpp_session_enable_plugin() then finds it (also as a dependency).
 * @param s the session.
 * @param desc the descriptor (borrowed: must outlive the session).
 * @return ::XMPP_OK; ::XMPP_ERR_INVALID (wrong ABI version, bad name, a
 *         name already known, built-in names included); ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_session_register_plugin(xmpp_session *s, const xmpp_plugin_desc *desc);

/**
 * Makes a plugin known to every session created from these options, as
 * xmpp_session_register_plugin() does.
 * @param opts the options.
 * @param desc the descriptor (borrowed: must outlive the options and the
 *        sessions created from them).
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID or ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_session_options_register_plugin(xmpp_session_options *opts,
                                                     const xmpp_plugin_desc *desc);

/**
 * The per-session state of an enabled plugin (what its attach callback
 * stored).
 * @param s the session.
 * @param name the plugin's name.
 * @return the state, or NULL when the plugin is not enabled (or its state
 *         is NULL).
 */
XMPP_EXTERN void *xmpp_session_plugin_state(const xmpp_session *s, const char *name);

/**
 * The number of enabled plugins.
 * @param s the session.
 * @return the count (0 for NULL).
 */
XMPP_EXTERN size_t xmpp_session_plugin_count(const xmpp_session *s);

/**
 * An enabled plugin by position, in the order of enabling (dependencies
 * before the plugins that need them). Disco and caps walk this list to
 * gather the features and identities they advertise.
 * @param s the session.
 * @param i the position, below xmpp_session_plugin_count().
 * @return the descriptor, or NULL when @p i is out of range.
 */
XMPP_EXTERN const xmpp_plugin_desc *xmpp_session_plugin_at(const xmpp_session *s, size_t i);

/**
 * Adds a disco feature to the session at run time, besides those of the
 * enabled plugins' descriptors: disco#info answers (lib "disco") and the
 * XEP-0115 verification string (xmpp_caps_ver()) include it from now on.
 * Used for XEP-0163 "NODE+notify" interests (xmpp_pep_notify_add()).
 * Features are counted: adding one twice needs two removals.
 *
 * The library does not announce the change: to tell contacts about the
 * new capabilities, send a new presence decorated with
 * xmpp_caps_decorate() (XEP-0115 §4: a changed hash means a changed
 * feature set).
 * @param s the session.
 * @param feature the feature (copied; 1 to 1023 bytes of XML-safe UTF-8).
 * @return ::XMPP_OK; ::XMPP_ERR_INVALID; ::XMPP_ERR_LIMIT (256 distinct
 *         run-time features); ::XMPP_ERR_NOMEM. Callable from callbacks.
 */
XMPP_EXTERN int xmpp_session_add_feature(xmpp_session *s, const char *feature);

/**
 * Withdraws one addition of a run-time feature (xmpp_session_add_feature()).
 * @param s the session.
 * @param feature the feature.
 * @return ::XMPP_OK; ::XMPP_ERR_NOT_FOUND (not added); ::XMPP_ERR_INVALID.
 *         Callable from callbacks.
 */
XMPP_EXTERN int xmpp_session_remove_feature(xmpp_session *s, const char *feature);

/**
 * The number of distinct run-time features (xmpp_session_add_feature()).
 * @param s the session.
 * @return the count (0 for NULL).
 */
XMPP_EXTERN size_t xmpp_session_feature_count(const xmpp_session *s);

/**
 * A run-time feature by position (in the order of first addition).
 * @param s the session.
 * @param i the position, below xmpp_session_feature_count().
 * @return the feature (valid until it is removed), or NULL when @p i is
 *         out of range.
 */
XMPP_EXTERN const char *xmpp_session_feature_at(const xmpp_session *s, size_t i);

/**
 * The context a session was created with, for a plugin's allocations
 * (free them with xmpp_free()) and new stanzas.
 * @param s the session.
 * @return the context, or NULL for NULL.
 */
XMPP_EXTERN xmpp_ctx *xmpp_session_ctx(const xmpp_session *s);

#ifdef __cplusplus
}
#endif

#endif /* XMPP_SYS_PLUGIN_H */
