/* Internal state of the sans-I/O session. */
#ifndef XMPP_SESSION_INT_H
#define XMPP_SESSION_INT_H

#include "core/internal.h"

#include <xmpp/jid.h>
#include <xmpp/session.h>

#include "core/buf.h"
#include "xml/parser.h"

struct xmpp_tls;
struct xmpp__zlib;
struct xmpp__sasl;

#define XMPP_NS_TLS "urn:ietf:params:xml:ns:xmpp-tls"
#define XMPP_NS_SASL "urn:ietf:params:xml:ns:xmpp-sasl"
#define XMPP_NS_BIND "urn:ietf:params:xml:ns:xmpp-bind"
#define XMPP_NS_SESSION "urn:ietf:params:xml:ns:xmpp-session"
#define XMPP_NS_SASL_CB "urn:xmpp:sasl-cb:0"
#define XMPP_NS_PING "urn:xmpp:ping"
#define XMPP_NS_SM "urn:xmpp:sm:3"
#define XMPP_NS_DELAY "urn:xmpp:delay"
#define XMPP_NS_CSI "urn:xmpp:csi:0"
#define XMPP_NS_COMPRESS_FEATURE "http://jabber.org/features/compress"
#define XMPP_NS_COMPRESS "http://jabber.org/protocol/compress"
#define XMPP_NS_LIMITS "urn:xmpp:stream-limits:0"
#define XMPP_NS_SASL2 "urn:xmpp:sasl:2"
#define XMPP_NS_BIND2 "urn:xmpp:bind:0"
#define XMPP_NS_FAST "urn:xmpp:fast:0"
#define XMPP_NS_CARBONS "urn:xmpp:carbons:2"
#define XMPP_NS_COMPONENT "jabber:component:accept"

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
    /* stream management */
    xmpp_sm_mode sm_mode;
    size_t sm_max_stanzas, sm_max_bytes;
    xmpp_sm_policy sm_policy;
    xmpp_sent_fn sm_returned;
    void *sm_returned_ud;
    int compress; /* XEP-0138 wanted */
    /* SASL2, Bind2, FAST */
    int sasl2_off;
    char *ua_id, *ua_software, *ua_device;
    int carbons;
    xmpp_fast_token_fn fast_cb;
    void *fast_ud;
    const char *fast_mech; /* static name */
    char *fast_token;      /* secret: wiped */
    int64_t fast_expiry;
    struct xmpp__plugin_opts *plugins; /* lib/plugin/registry.c */
    int component; /* XEP-0114: lib/session/component.c */
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
    STEP_COMPRESS,     /* XEP-0138 <compress/> sent */
    STEP_SASL2,        /* XEP-0388 <authenticate/> sent */
    STEP_BIND,         /* bind IQ sent */
    STEP_SESSION,      /* legacy session IQ sent */
    STEP_SM_RESUME,    /* XEP-0198 <resume/> sent */
    STEP_SM_ENABLE,    /* XEP-0198 <enable/> sent */
    STEP_HANDSHAKE,    /* XEP-0114 <handshake/> sent */
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

/* A stanza in the stream-management queue. */
typedef struct xmpp_sm_entry {
    struct xmpp_sm_entry *next;
    xmpp_stanza *st;     /* our own copy */
    size_t bytes;        /* serialised size */
    xmpp_sent_fn cb;
    void *ud;
    long long stamp;     /* UTC seconds when first queued (XEP-0203 on resend) */
    int resend;          /* re-sent after a failed resumption: add <delay/> */
} xmpp_sm_entry;

/* SASL2 (XEP-0388), Bind2 (XEP-0386) and FAST (XEP-0484): what this
 * connection's authentication asked for and got (sasl2.c). */
typedef struct xmpp_sasl2 {
    int active;           /* authenticating with SASL2 on this connection */
    int fast;             /* ... with the FAST token instead of the password */
    const char *request;  /* <request-token/> sent for this mechanism */
    int resume_sent;      /* <resume/> inside <authenticate/> */
    int bind_sent;        /* Bind2 <bind/> inside <authenticate/> */
    int sm_inline;        /* ... with SM <enable/> */
    int csi_inline;       /* ... with CSI <inactive/> */
    int carbons_inline;   /* ... with carbons <enable/> */
    int bound;            /* Bind2 bound a resource, or the stream was resumed */
    int sm_answered;      /* <enabled/> or <failed/> came inside <bound/> */
    int features_due;     /* ready at <success/>; its features still to come */
    int token_rejected;   /* the server refused the FAST token */
    unsigned login;       /* XMPP_LOGIN_* of the last login */
    uint8_t proof[64];    /* the HT server proof expected in <success/> */
    size_t prooflen;
    char ua_id[40];       /* the user-agent id: configured or per session */
    /* the FAST token in use (from the options or the server; secret) */
    char *token;
    const char *token_mech;
    int64_t token_expiry;
} xmpp_sasl2;

/* XEP-0198 state. The queue holds, in order, the stanzas written on the
 * current (or last) stream and not acknowledged (the first n_unacked), then
 * those not yet written. */
typedef struct xmpp_sm {
    int offered;          /* the last features after authentication had <sm/> */
    int enabled;          /* enabled on the current stream */
    int resumable;        /* the last stream may be resumed */
    int resumed;          /* the last ready was a resumption */
    int enable_sent;      /* <enable/> went out right behind the bind request */
    int early;            /* dispatching a stanza that came before <enabled/> */
    char *id;             /* stream id for resumption */
    char *location;       /* preferred reconnection host */
    unsigned max_s;       /* the server's max resumption time, 0 = unknown */
    uint64_t lost_at;     /* when the last stream ended (ms), 0 = alive */
    uint32_t h_in;        /* stanzas we handled on this SM session */
    uint32_t h_in_told;   /* the h of our last <a/> */
    uint32_t sent;        /* stanzas written since enable (mod 2^32) */
    uint32_t acked;       /* the server's last h */
    xmpp_sm_entry *head, *tail;
    size_t n_unacked;     /* written and unacknowledged, at the head */
    size_t n_queued;      /* all entries */
    size_t bytes;         /* their serialised size */
    size_t since_r;       /* stanzas written since our last <r/> */
    int r_out;            /* our <r/> is unanswered */
    uint64_t r_due;       /* send <r/> at this time (0: not scheduled) */
    uint64_t r_deadline;  /* the unanswered <r/> counts as lost at this time
                           * (0: not dated yet, done by the next timer call) */
} xmpp_sm;

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
    xmpp_sm sm;
    xmpp_sasl2 s2;
    /* XEP-0352 client state */
    int csi_offered;       /* the current stream offers it */
    int csi_inactive;      /* what the application wants */
    int csi_sent_inactive; /* what the server knows (for this SM session) */
    /* XEP-0478 stream limits announced by the server (0: none) */
    size_t limit_max_bytes;
    unsigned limit_idle_ms;
    uint64_t last_tx;
    /* XEP-0138 */
    struct xmpp__zlib *z;      /* active on this stream */
    int start_compress;        /* <compressed/> seen: restart compressed after this feed */
    xmpp_stanza *post_auth_features; /* kept while <compress/> is pending */
    /* the driver's hook: output was queued from outside any session call */
    void (*out_hook)(void *ud);
    void *out_hook_ud;
    struct xmpp__plugins *plugins; /* lib/plugin/registry.c */
};

/* session.c */
void xmpp__session_write(xmpp_session *s, const char *data, size_t len);
int xmpp__session_send_stanza(xmpp_session *s, const xmpp_stanza *st);
int xmpp__session_write_stanza(xmpp_session *s, const xmpp_stanza *st, size_t *bytes);
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
/* XEP-0114 (component.c) */
int xmpp__component_send_header(xmpp_session *s);
void xmpp__component_stream_start(xmpp_session *s, xmpp_stanza *header, const char *default_ns);
void xmpp__component_stanza(xmpp_session *s, xmpp_stanza *st);
void xmpp__component_inbound(xmpp_stanza *st);
int xmpp__component_add_from(xmpp_session *s, const xmpp_stanza *st, xmpp_buf *b);

/* negotiate.c, for sm.c and sasl2.c */
void xmpp__neg_ready(xmpp_session *s);
void xmpp__neg_bind(xmpp_session *s);
int xmpp__neg_sasl_begin(xmpp_session *s, const xmpp_stanza *features, const xmpp_stanza *mechs,
                         const char *ns, int sasl2, uint8_t **init, size_t *ilen);
int xmpp__neg_prefer_rfc6120(xmpp_session *s, const xmpp_stanza *features,
                             const xmpp_stanza *sasl2_mechs);
int xmpp__neg_sasl_payload(xmpp_session *s, const xmpp_stanza *st, uint8_t **out, size_t *len);
void xmpp__neg_sasl_local_failure(xmpp_session *s, int rc);
void xmpp__neg_sasl_failure(xmpp_session *s, const xmpp_stanza *st, const char *text_ns);
int xmpp__neg_account_jid(const xmpp_session *s, const xmpp_jid *jid);
void xmpp__neg_read_features(xmpp_session *s, const xmpp_stanza *st);

/* sasl2.c */
int xmpp__sasl2_init(xmpp_session *s);
int xmpp__sasl2_start(xmpp_session *s, const xmpp_stanza *features);
void xmpp__sasl2_stanza(xmpp_session *s, const xmpp_stanza *st);
int xmpp__sasl2_features(xmpp_session *s);
int xmpp__sasl2_late_features(xmpp_session *s, const xmpp_stanza *st);
void xmpp__sasl2_reset(xmpp_session *s);
void xmpp__sasl2_free(xmpp_session *s);
int xmpp__fast_rejected(const xmpp_session *s);

/* sm.c */
int xmpp__sm_try_resume(xmpp_session *s);
int xmpp__sm_try_enable(xmpp_session *s);
void xmpp__sm_pipeline_enable(xmpp_session *s);
void xmpp__sm_neg_stanza(xmpp_session *s, xmpp_stanza *st);
int xmpp__sm_ready_stanza(xmpp_session *s, xmpp_stanza *st);
int xmpp__sm_send(xmpp_session *s, const xmpp_stanza *st, xmpp_sent_fn cb, void *ud);
void xmpp__sm_disconnected(xmpp_session *s);
void xmpp__sm_timeout(xmpp_session *s, uint64_t now);
uint64_t xmpp__sm_deadline(const xmpp_session *s);
int xmpp__sm_keepalive(xmpp_session *s);
void xmpp__sm_closing(xmpp_session *s);
void xmpp__sm_free(xmpp_session *s);
void xmpp__sm_flush(xmpp_session *s);
void xmpp__sm_forget(xmpp_session *s);
void xmpp__sm_resume_element(xmpp_session *s, xmpp_buf *b);
const char *xmpp__sm_enable_element(const xmpp_session *s);
int xmpp__sm_enabled(xmpp_session *s, const xmpp_stanza *st);
int xmpp__sm_resumed(xmpp_session *s, const xmpp_stanza *st);
int xmpp__sm_resume_failed(xmpp_session *s, const xmpp_stanza *st);

void xmpp__csi_sync(xmpp_session *s);

/* compression (negotiate.c) */
int xmpp__compress_try(xmpp_session *s, const xmpp_stanza *features);
void xmpp__compress_stanza(xmpp_session *s, xmpp_stanza *st);
void xmpp__neg_post_auth(xmpp_session *s, const xmpp_stanza *features);

/* dispatch.c */
void xmpp__dispatch(xmpp_session *s, xmpp_stanza *st);
void xmpp__iq_cancel_all(xmpp_session *s);
void xmpp__iq_timeouts(xmpp_session *s, uint64_t now);
void xmpp__handlers_free(xmpp_session *s);
int xmpp__iq_track(xmpp_session *s, xmpp_stanza *iq, unsigned timeout_ms, xmpp_iq_fn cb,
                   void *ud, int internal);

#endif
