/* The plugin registry's hooks into the session core, and the built-in
 * plugins' descriptors. The built-in plugins themselves use only the
 * public interface (xmpp/sys/plugin.h and the session API). */
#ifndef XMPP_PLUGINS_INT_H
#define XMPP_PLUGINS_INT_H

#include <xmpp/plugin.h>
#include <xmpp/sys/plugin.h>

struct xmpp_session_options;

/* What options carry: names to enable and descriptors to register. */
struct xmpp__plugin_opts {
    char **names;
    size_t n_names;
    const xmpp_plugin_desc **descs;
    size_t n_descs;
};

/* Options: deep copy (dst->plugins must be NULL) and release. */
int xmpp__plugin_opts_copy(xmpp_ctx *ctx, struct xmpp__plugin_opts **dst,
                           const struct xmpp__plugin_opts *src);
void xmpp__plugin_opts_free(xmpp_ctx *ctx, struct xmpp__plugin_opts *po);

/* Session: registers and enables what the options ask for (at the end of
 * xmpp_session_new); detaches everything in reverse order (session free). */
int xmpp__plugins_session_init(xmpp_session *s);
void xmpp__plugins_session_free(xmpp_session *s);

/* Plugin timers (xmpp_session_add_timer): the earliest deadline
 * (UINT64_MAX for none), and running the due ones (ready sessions only). */
uint64_t xmpp__plugin_timers_next(const xmpp_session *s);
void xmpp__plugin_timers_run(xmpp_session *s, uint64_t now);

extern const xmpp_plugin_desc xmpp__plugin_disco;
extern const xmpp_plugin_desc xmpp__plugin_caps;
extern const xmpp_plugin_desc xmpp__plugin_ping;
extern const xmpp_plugin_desc xmpp__plugin_version;
extern const xmpp_plugin_desc xmpp__plugin_muc;
extern const xmpp_plugin_desc xmpp__plugin_roster;
extern const xmpp_plugin_desc xmpp__plugin_presence;
extern const xmpp_plugin_desc xmpp__plugin_blocking;
extern const xmpp_plugin_desc xmpp__plugin_receipts;
extern const xmpp_plugin_desc xmpp__plugin_chatstates;
extern const xmpp_plugin_desc xmpp__plugin_correction;
extern const xmpp_plugin_desc xmpp__plugin_markers;
extern const xmpp_plugin_desc xmpp__plugin_retraction;
extern const xmpp_plugin_desc xmpp__plugin_reactions;
extern const xmpp_plugin_desc xmpp__plugin_replies;
extern const xmpp_plugin_desc xmpp__plugin_im;
extern const xmpp_plugin_desc xmpp__plugin_time;
extern const xmpp_plugin_desc xmpp__plugin_last;
extern const xmpp_plugin_desc xmpp__plugin_vcard;
extern const xmpp_plugin_desc xmpp__plugin_pubsub;
extern const xmpp_plugin_desc xmpp__plugin_avatar;
extern const xmpp_plugin_desc xmpp__plugin_bookmarks;
extern const xmpp_plugin_desc xmpp__plugin_sid;
extern const xmpp_plugin_desc xmpp__plugin_carbons;
extern const xmpp_plugin_desc xmpp__plugin_mam;

#endif
