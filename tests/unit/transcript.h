/* The transcript fixture shared by the session-level unit tests: a session
 * driven by scripted server bytes (server()), whose output accumulates in
 * f->out until take() clears it, with time passed in (f->now), and a
 * PLAIN + bind login over plaintext. Files needing more state keep it
 * locally and hang it on f->extra; extra options go through a setup hook
 * (g_setup for login()/login_with(), or the hook of fix_new_opts()). */
#ifndef XMPP_TRANSCRIPT_H
#define XMPP_TRANSCRIPT_H

#include <stddef.h>
#include <stdint.h>

#include <xmpp/session.h>

/* The server's stream header, and its features before and after SASL. */
#define HDR                                                                                        \
    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "                                   \
    "xmlns:stream='http://etherx.jabber.org/streams' from='example.com' id='s1' "                  \
    "version='1.0'>"
#define FEAT_PLAIN                                                                                 \
    "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"                       \
    "<mechanism>PLAIN</mechanism></mechanisms></stream:features>"
#define FEAT_BIND                                                                                  \
    "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>"

struct fix {
    xmpp_ctx *ctx;
    xmpp_session *s;
    char out[65536]; /* everything the client wrote since the last take() */
    size_t out_len;
    int ready, closed;           /* on_ready / on_closed calls */
    xmpp_disconnect_cause cause; /* the last on_closed cause */
    char bound[128];             /* the JID on_ready reported */
    int iq_calls;                /* free for the tests' callbacks */
    xmpp_iq_status iq_status;
    int handled;
    uint64_t now; /* the time passed to the session */
    void *extra;  /* a test file's own state; NULL by default */
};

/* Setup hook applied to the options by login()/login_with(); NULL by
 * default. A test file sets it before logging in. */
extern void (*g_setup)(xmpp_session_options *o);

/* The session callbacks fix_new_opts() installs (user data: the fixture):
 * count the calls, keep the bound JID and the cause. */
void on_ready(xmpp_session *s, const char *jid, void *ud);
void on_closed(xmpp_session *s, xmpp_disconnect_cause cause, void *ud);

/* Drains the client's output into f->out and consumes it. */
void pump(struct fix *f);
/* Forgets the output collected so far. */
void take(struct fix *f);
/* Feeds `bytes` to the session at f->now, then pump()s. */
void server(struct fix *f, const char *bytes);

/* A started session for `jid` (password "secret"); plaintext without TLS
 * when `plaintext`; `setup` (may be NULL) adjusts the options before the
 * session is made. The fixture is static: one at a time. */
struct fix *fix_new_opts(const char *jid, int plaintext, void (*setup)(xmpp_session_options *o));
/* fix_new_opts() without a hook. */
struct fix *fix_new(const char *jid, int plaintext);
/* Frees the session and the context. */
void fix_free(struct fix *f);

/* Logs in over plaintext with PLAIN (as alice/secret) and binds to `bound`;
 * `features` is the features element after authentication. Uses g_setup.
 * Leaves the output empty. */
struct fix *login_with(const char *jid, const char *bound, const char *features);
/* login_with() and FEAT_BIND. */
struct fix *login(const char *jid, const char *bound);

/* Occurrences of `needle` in `hay`. */
int count_of(const char *hay, const char *needle);

#endif
