/* Internal state of the sans-I/O session. */
#ifndef XMPP_SESSION_INT_H
#define XMPP_SESSION_INT_H

#include "core/internal.h"

#include <xmpp/jid.h>
#include <xmpp/session.h>

#include "core/buf.h"
#include "xml/parser.h"

struct xmpp_tls;
struct xmpp__sasl;

#define XMPP_NS_TLS "urn:ietf:params:xml:ns:xmpp-tls"
#define XMPP_NS_SASL "urn:ietf:params:xml:ns:xmpp-sasl"
#define XMPP_NS_BIND "urn:ietf:params:xml:ns:xmpp-bind"
#define XMPP_NS_SESSION "urn:ietf:params:xml:ns:xmpp-session"
#define XMPP_NS_SASL_CB "urn:xmpp:sasl-cb:0"
#define XMPP_NS_PING "urn:xmpp:ping"

struct xmpp_session_options {
    xmpp_ctx *ctx;
    char *jid;
    char *password;
    xmpp_tls_mode tls_mode;
    xmpp_tls_config *tls_cfg;
    int allow_plain;
    int sasl_pinned;
    int sasl_external;
    char **mechs;
    size_t nmechs;
    char *tls_name;
    unsigned neg_ms, iq_ms, ka_idle_ms, ka_timeout_ms;
    size_t max_stanza, max_depth, send_limit;
    xmpp_ready_fn on_ready;
    xmpp_closed_fn on_closed;
    void *user_data;
};

/* Negotiation steps (RFC 6120 §4–§7), in order. */
typedef enum {
    STEP_IDLE,
    STEP_TLS_DIRECT,   /* direct TLS handshake before any XML */
    STEP_HEADER,       /* waiting for the server's stream header */
    STEP_FEATURES,     /* waiting for <stream:features> */
    STEP_PROCEED,      /* <starttls/> sent */
    STEP_TLS,          /* STARTTLS handshake */
    STEP_SASL,         /* <auth/> sent */
    STEP_BIND,         /* bind IQ sent */
    STEP_SESSION,      /* legacy session IQ sent */
    STEP_READY,
    STEP_CLOSING,
    STEP_CLOSED
} xmpp_step;

typedef struct xmpp_handler {
    struct xmpp_handler *next;     /* bucket chain */
    struct xmpp_handler *all_next; /* all handlers, registration order */
    unsigned long id;
    unsigned hash;
    char *name, *ns, *type;
    xmpp_handler_fn fn;
    void *ud;
    int removed;
} xmpp_handler;

typedef struct xmpp_iq_pending {
    struct xmpp_iq_pending *next;
    char *id;
    xmpp_jid *to; /* NULL: the request had no "to" */
    uint64_t deadline;
    xmpp_iq_fn cb;
    void *ud;
    int internal; /* keepalive ping */
} xmpp_iq_pending;

#define XMPP_HANDLER_BUCKETS 64

struct xmpp_session {
    xmpp_ctx *ctx;
    struct xmpp_session_options o; /* deep copy */
    xmpp_jid *jid;                 /* the account JID as configured */
    xmpp_step step;
    xmpp_xml_parser *parser;
    int restart;                   /* a stream restart is due after this feed */
    int start_tls;                 /* <proceed/> seen: start TLS after this feed */
    struct xmpp_tls *tls;
    int tls_up;                    /* handshake done and verified */
    int authenticated;
    xmpp_buf out;
    size_t out_off;
    struct xmpp__sasl *sasl;
    int sasl_pins;
    const char *mech;
    char *bound_jid;
    char bind_id[24];
    int session_needed;
    char *stream_id;
    /* dispatch */
    xmpp_handler *buckets[XMPP_HANDLER_BUCKETS];
    xmpp_handler *handlers; /* registration order */
    unsigned long next_handler_id;
    int dispatching;
    int handlers_dirty;
    xmpp_iq_pending *iqs; /* sorted by deadline */
    size_t n_iqs;
    /* callbacks */
    int in_callback;
    int closed_fired;
    /* timers */
    uint64_t now;
    uint64_t neg_deadline;
    uint64_t last_rx;
    uint64_t ping_deadline;
    int ping_out;
    unsigned long id_counter;
    char id_prefix[16];
    /* end information */
    xmpp_disconnect_cause cause;
    xmpp_stream_condition cond;
    char *err_text;
    char *sasl_cond;
    char *redirect;
    xmpp_stanza *err_app;
};

/* session.c */
void xmpp__session_write(xmpp_session *s, const char *data, size_t len);
int xmpp__session_send_stanza(xmpp_session *s, const xmpp_stanza *st);
void xmpp__session_fail(xmpp_session *s, xmpp_disconnect_cause cause,
                        xmpp_stream_condition cond, const char *text);
void xmpp__session_end(xmpp_session *s, xmpp_disconnect_cause cause);

/* negotiate.c */
void xmpp__neg_stream_start(xmpp_session *s, xmpp_stanza *header, const char *default_ns);
void xmpp__neg_stanza(xmpp_session *s, xmpp_stanza *st);
int xmpp__neg_send_header(xmpp_session *s);
void xmpp__neg_tls_begin(xmpp_session *s);
void xmpp__neg_tls_done(xmpp_session *s);
void xmpp__neg_free(xmpp_session *s);

/* dispatch.c */
void xmpp__dispatch(xmpp_session *s, xmpp_stanza *st);
void xmpp__iq_cancel_all(xmpp_session *s);
void xmpp__iq_timeouts(xmpp_session *s, uint64_t now);
void xmpp__handlers_free(xmpp_session *s);
int xmpp__iq_track(xmpp_session *s, xmpp_stanza *iq, unsigned timeout_ms, xmpp_iq_fn cb,
                   void *ud, int internal);

#endif
