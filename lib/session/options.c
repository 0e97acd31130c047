/* Session options: secure defaults and typed setters (no varargs, so every
 * setting is reachable through FFI). */
#include "session/session_int.h"
#include "plugin/plugin_int.h"

#include <string.h>

#include <gnutls/gnutls.h>

#include "stream/ht.h"
#include "transport/ws.h"

#define DEFAULT_NEG_MS 30000
#define DEFAULT_IQ_MS 60000
#define DEFAULT_SEND_LIMIT (4u * 1024 * 1024)
#define DEFAULT_SM_STANZAS 1000
#define DEFAULT_SM_BYTES (4u * 1024 * 1024)

int xmpp_session_options_new(xmpp_session_options **out, xmpp_ctx *ctx) {
    xmpp_session_options *o;
    if (out == NULL)
        return XMPP_ERR_INVALID;
    *out = NULL;
    if (ctx == NULL)
        return XMPP_ERR_INVALID;
    o = xmpp__malloc(ctx, sizeof(*o));
    if (o == NULL)
        return XMPP_ERR_NOMEM;
    memset(o, 0, sizeof(*o));
    o->ctx = ctx;
    o->tls_mode = XMPP_TLS_STARTTLS;
    o->neg_ms = DEFAULT_NEG_MS;
    o->iq_ms = DEFAULT_IQ_MS;
    o->send_limit = DEFAULT_SEND_LIMIT;
    o->sm_mode = XMPP_SM_RESUME;
    o->sm_max_stanzas = DEFAULT_SM_STANZAS;
    o->sm_max_bytes = DEFAULT_SM_BYTES;
    o->sm_policy = XMPP_SM_POLICY_RESEND;
    *out = o;
    return XMPP_OK;
}

static void wipe_free(xmpp_ctx *ctx, char *s) {
    if (s != NULL) {
        gnutls_memset(s, 0, strlen(s));
        xmpp__free(ctx, s);
    }
}

static void free_mechs(struct xmpp_session_options *o) {
    size_t i;
    for (i = 0; i < o->nmechs; i++)
        xmpp__free(o->ctx, o->mechs[i]);
    xmpp__free(o->ctx, o->mechs);
    o->mechs = NULL;
    o->nmechs = 0;
}

static int copy_mechs(struct xmpp_session_options *o, const char *const *names, size_t n) {
    char **v;
    size_t i;
    if (n == 0)
        return XMPP_OK;
    if (n > 64)
        return XMPP_ERR_INVALID;
    v = xmpp__malloc(o->ctx, n * sizeof(*v));
    if (v == NULL)
        return XMPP_ERR_NOMEM;
    for (i = 0; i < n; i++)
        if ((v[i] = xmpp__strdup(o->ctx, names[i])) == NULL) {
            while (i-- > 0)
                xmpp__free(o->ctx, v[i]);
            xmpp__free(o->ctx, v);
            return XMPP_ERR_NOMEM;
        }
    o->mechs = v;
    o->nmechs = n;
    return XMPP_OK;
}

int xmpp_session_options_set_mechanisms(xmpp_session_options *o, const char *const *names,
                                        size_t n) {
    size_t i;
    int rc;
    char **old;
    size_t nold;
    if (o == NULL || (names == NULL && n > 0))
        return XMPP_ERR_INVALID;
    for (i = 0; i < n; i++)
        if (names[i] == NULL || names[i][0] == '\0' || strlen(names[i]) > 64)
            return XMPP_ERR_INVALID;
    old = o->mechs;
    nold = o->nmechs;
    o->mechs = NULL;
    o->nmechs = 0;
    if ((rc = copy_mechs(o, names, n)) != XMPP_OK) {
        o->mechs = old;
        o->nmechs = nold;
        return rc;
    }
    {
        struct xmpp_session_options tmp = *o;
        tmp.mechs = old;
        tmp.nmechs = nold;
        free_mechs(&tmp);
    }
    return XMPP_OK;
}

void xmpp__options_clear(struct xmpp_session_options *o);
void xmpp__options_clear(struct xmpp_session_options *o) {
    free_mechs(o);
    xmpp__free(o->ctx, o->jid);
    wipe_free(o->ctx, o->password);
    xmpp__free(o->ctx, o->tls_name);
    xmpp__free(o->ctx, o->ws_url);
    o->ws_url = NULL;
    xmpp_tls_config_unref(o->tls_cfg);
    xmpp__free(o->ctx, o->ua_id);
    xmpp__free(o->ctx, o->ua_software);
    xmpp__free(o->ctx, o->ua_device);
    wipe_free(o->ctx, o->fast_token);
    xmpp__free(o->ctx, o->reg_email);
    o->reg_email = NULL;
    xmpp__plugin_opts_free(o->ctx, o->plugins);
    o->plugins = NULL;
    o->jid = o->password = o->tls_name = NULL;
    o->ua_id = o->ua_software = o->ua_device = o->fast_token = NULL;
    o->tls_cfg = NULL;
}

void xmpp_session_options_free(xmpp_session_options *o) {
    if (o == NULL)
        return;
    xmpp__options_clear(o);
    xmpp__free(o->ctx, o);
}

static int set_str(xmpp_session_options *o, char **field, const char *v, int secret) {
    char *copy = NULL;
    if (v != NULL && (copy = xmpp__strdup(o->ctx, v)) == NULL)
        return XMPP_ERR_NOMEM;
    if (secret)
        wipe_free(o->ctx, *field);
    else
        xmpp__free(o->ctx, *field);
    *field = copy;
    return XMPP_OK;
}

int xmpp_session_options_set_jid(xmpp_session_options *o, const char *jid) {
    xmpp_jid *j;
    int rc;
    if (o == NULL || jid == NULL)
        return XMPP_ERR_INVALID;
    if ((rc = xmpp_jid_parse(&j, o->ctx, jid)) != XMPP_OK)
        return rc;
    xmpp_jid_free(j);
    return set_str(o, &o->jid, jid, 0);
}

int xmpp_session_options_set_password(xmpp_session_options *o, const char *pw) {
    if (o == NULL || pw == NULL)
        return XMPP_ERR_INVALID;
    return set_str(o, &o->password, pw, 1);
}

int xmpp_session_options_set_tls_mode(xmpp_session_options *o, xmpp_tls_mode mode) {
    if (o == NULL || (mode != XMPP_TLS_STARTTLS && mode != XMPP_TLS_DIRECT && mode != XMPP_TLS_NONE))
        return XMPP_ERR_INVALID;
    o->tls_mode = mode;
    return XMPP_OK;
}

int xmpp_session_options_set_tls_config(xmpp_session_options *o, xmpp_tls_config *cfg) {
    if (o == NULL || cfg == NULL)
        return XMPP_ERR_INVALID;
    xmpp_tls_config_ref(cfg);
    xmpp_tls_config_unref(o->tls_cfg);
    o->tls_cfg = cfg;
    return XMPP_OK;
}

int xmpp_session_options_allow_plaintext(xmpp_session_options *o, int allow) {
    if (o == NULL)
        return XMPP_ERR_INVALID;
    o->allow_plain = allow != 0;
    return XMPP_OK;
}

int xmpp_session_options_set_sasl_external(xmpp_session_options *o, int on) {
    if (o == NULL)
        return XMPP_ERR_INVALID;
    o->sasl_external = on != 0;
    return XMPP_OK;
}

int xmpp_session_options_set_sasl_pinned(xmpp_session_options *o, int pinned) {
    if (o == NULL)
        return XMPP_ERR_INVALID;
    o->sasl_pinned = pinned != 0;
    return XMPP_OK;
}

int xmpp_session_options_set_tls_name(xmpp_session_options *o, const char *name) {
    if (o == NULL || name == NULL || *name == '\0')
        return XMPP_ERR_INVALID;
    return set_str(o, &o->tls_name, name, 0);
}

int xmpp_session_options_set_websocket(xmpp_session_options *o, const char *url) {
    xmpp__ws_url u;
    if (o == NULL)
        return XMPP_ERR_INVALID;
    if (url == NULL) {
        xmpp__free(o->ctx, o->ws_url);
        o->ws_url = NULL;
        return XMPP_OK;
    }
    if (xmpp__ws_url_parse(url, &u) != XMPP_OK)
        return XMPP_ERR_INVALID;
    return set_str(o, &o->ws_url, url, 0);
}

const char *xmpp_session_options_get_websocket(const xmpp_session_options *o) {
    return o ? o->ws_url : NULL;
}

int xmpp_session_options_set_timeouts(xmpp_session_options *o, unsigned neg_ms,
                                      unsigned iq_ms) {
    if (o == NULL)
        return XMPP_ERR_INVALID;
    if (neg_ms)
        o->neg_ms = neg_ms;
    if (iq_ms)
        o->iq_ms = iq_ms;
    return XMPP_OK;
}

int xmpp_session_options_set_keepalive(xmpp_session_options *o, unsigned idle_ms,
                                       unsigned timeout_ms) {
    if (o == NULL || (idle_ms != 0 && timeout_ms == 0))
        return XMPP_ERR_INVALID;
    o->ka_idle_ms = idle_ms;
    o->ka_timeout_ms = timeout_ms;
    return XMPP_OK;
}

int xmpp_session_options_set_limits(xmpp_session_options *o, size_t max_stanza,
                                    size_t max_depth) {
    if (o == NULL)
        return XMPP_ERR_INVALID;
    o->max_stanza = max_stanza;
    o->max_depth = max_depth;
    return XMPP_OK;
}

int xmpp_session_options_set_send_limit(xmpp_session_options *o, size_t bytes) {
    if (o == NULL || bytes == 0)
        return XMPP_ERR_INVALID;
    o->send_limit = bytes;
    return XMPP_OK;
}

int xmpp_session_options_set_callbacks(xmpp_session_options *o, xmpp_ready_fn on_ready,
                                       xmpp_closed_fn on_closed, void *ud) {
    if (o == NULL)
        return XMPP_ERR_INVALID;
    o->on_ready = on_ready;
    o->on_closed = on_closed;
    o->user_data = ud;
    return XMPP_OK;
}

int xmpp_session_options_set_stream_management(xmpp_session_options *o, xmpp_sm_mode mode) {
    if (o == NULL || (mode != XMPP_SM_OFF && mode != XMPP_SM_ACKS && mode != XMPP_SM_RESUME))
        return XMPP_ERR_INVALID;
    o->sm_mode = mode;
    return XMPP_OK;
}

int xmpp_session_options_set_sm_queue(xmpp_session_options *o, size_t max_stanzas,
                                      size_t max_bytes) {
    if (o == NULL || max_stanzas == 0 || max_bytes == 0)
        return XMPP_ERR_INVALID;
    o->sm_max_stanzas = max_stanzas;
    o->sm_max_bytes = max_bytes;
    return XMPP_OK;
}

int xmpp_session_options_set_sm_policy(xmpp_session_options *o, xmpp_sm_policy policy,
                                       xmpp_sent_fn on_returned, void *ud) {
    if (o == NULL || (policy != XMPP_SM_POLICY_RESEND && policy != XMPP_SM_POLICY_RETURN))
        return XMPP_ERR_INVALID;
    o->sm_policy = policy;
    o->sm_returned = on_returned;
    o->sm_returned_ud = ud;
    return XMPP_OK;
}

int xmpp_session_options_set_compression(xmpp_session_options *o, int on) {
    if (o == NULL)
        return XMPP_ERR_INVALID;
    o->compress = on != 0;
    return XMPP_OK;
}

/* ---- SASL2, Bind2, FAST */
int xmpp_session_options_set_sasl2(xmpp_session_options *o, int enable) {
    if (o == NULL)
        return XMPP_ERR_INVALID;
    o->sasl2_off = !enable;
    return XMPP_OK;
}

/* RFC 4122 text form: 8-4-4-4-12 hexadecimal digits. */
static int is_uuid(const char *v) {
    size_t i;
    if (strlen(v) != 36)
        return 0;
    for (i = 0; i < 36; i++) {
        char c = v[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return 0;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
            return 0;
        }
    }
    return 1;
}

static int ua_text_ok(const char *v) {
    size_t n;
    if (v == NULL)
        return 1;
    n = strlen(v);
    return n > 0 && n <= 256 && xmpp__xml_text_ok(v, n);
}

int xmpp_session_options_set_user_agent(xmpp_session_options *o, const char *id,
                                        const char *software, const char *device) {
    char *i = NULL, *sw = NULL, *dev = NULL;
    if (o == NULL || (id != NULL && !is_uuid(id)) || !ua_text_ok(software) || !ua_text_ok(device))
        return XMPP_ERR_INVALID;
    if ((id && (i = xmpp__strdup(o->ctx, id)) == NULL) ||
        (software && (sw = xmpp__strdup(o->ctx, software)) == NULL) ||
        (device && (dev = xmpp__strdup(o->ctx, device)) == NULL)) {
        xmpp__free(o->ctx, i);
        xmpp__free(o->ctx, sw);
        xmpp__free(o->ctx, dev);
        return XMPP_ERR_NOMEM;
    }
    xmpp__free(o->ctx, o->ua_id);
    xmpp__free(o->ctx, o->ua_software);
    xmpp__free(o->ctx, o->ua_device);
    o->ua_id = i;
    o->ua_software = sw;
    o->ua_device = dev;
    return XMPP_OK;
}

int xmpp_session_options_set_carbons(xmpp_session_options *o, int enable) {
    if (o == NULL)
        return XMPP_ERR_INVALID;
    o->carbons = enable != 0;
    return XMPP_OK;
}

int xmpp_session_options_set_fast(xmpp_session_options *o, xmpp_fast_token_fn on_token,
                                  void *ud) {
    if (o == NULL)
        return XMPP_ERR_INVALID;
    o->fast_cb = on_token;
    o->fast_ud = ud;
    return XMPP_OK;
}

int xmpp_session_options_set_fast_token(xmpp_session_options *o, const char *mechanism,
                                        const char *token, int64_t expiry) {
    const char *mech;
    int rc;
    if (o == NULL)
        return XMPP_ERR_INVALID;
    if (token == NULL) {
        wipe_free(o->ctx, o->fast_token);
        o->fast_token = NULL;
        o->fast_mech = NULL;
        o->fast_expiry = 0;
        return XMPP_OK;
    }
    mech = mechanism ? xmpp__ht_mechanism(mechanism) : NULL;
    if (mech == NULL || token[0] == '\0' || strlen(token) > XMPP_HT_TOKEN_MAX)
        return XMPP_ERR_INVALID;
    if ((rc = set_str(o, &o->fast_token, token, 1)) != XMPP_OK)
        return rc;
    o->fast_mech = mech;
    o->fast_expiry = expiry;
    return XMPP_OK;
}

int xmpp_session_options_set_register(xmpp_session_options *o, const char *email,
                                      xmpp_register_result_fn cb, void *user_data) {
    char *e = NULL;
    if (o == NULL)
        return XMPP_ERR_INVALID;
    if (email && (e = xmpp__strdup(o->ctx, email)) == NULL)
        return XMPP_ERR_NOMEM;
    xmpp__free(o->ctx, o->reg_email);
    o->reg_email = e;
    o->reg_cb = cb;
    o->reg_ud = user_data;
    return XMPP_OK;
}

/* Deep copy into the session. */
int xmpp__options_copy(struct xmpp_session_options *dst, const xmpp_session_options *src);
int xmpp__options_copy(struct xmpp_session_options *dst, const xmpp_session_options *src) {
    *dst = *src;
    dst->jid = dst->password = dst->tls_name = NULL;
    dst->ua_id = dst->ua_software = dst->ua_device = dst->fast_token = NULL;
    dst->tls_cfg = NULL;
    dst->ws_url = NULL;
    dst->mechs = NULL;
    dst->nmechs = 0;
    dst->plugins = NULL;
    dst->reg_email = NULL;
    if ((src->reg_email && (dst->reg_email = xmpp__strdup(src->ctx, src->reg_email)) == NULL) ||
        xmpp__plugin_opts_copy(src->ctx, &dst->plugins, src->plugins) != XMPP_OK ||
        copy_mechs(dst, (const char *const *)src->mechs, src->nmechs) != XMPP_OK ||
        (src->jid && (dst->jid = xmpp__strdup(src->ctx, src->jid)) == NULL) ||
        (src->password && (dst->password = xmpp__strdup(src->ctx, src->password)) == NULL) ||
        (src->tls_name && (dst->tls_name = xmpp__strdup(src->ctx, src->tls_name)) == NULL) ||
        (src->ws_url && (dst->ws_url = xmpp__strdup(src->ctx, src->ws_url)) == NULL) ||
        (src->ua_id && (dst->ua_id = xmpp__strdup(src->ctx, src->ua_id)) == NULL) ||
        (src->ua_software && (dst->ua_software = xmpp__strdup(src->ctx, src->ua_software)) == NULL) ||
        (src->ua_device && (dst->ua_device = xmpp__strdup(src->ctx, src->ua_device)) == NULL) ||
        (src->fast_token && (dst->fast_token = xmpp__strdup(src->ctx, src->fast_token)) == NULL)) {
        xmpp__options_clear(dst);
        return XMPP_ERR_NOMEM;
    }
    if (src->tls_cfg)
        dst->tls_cfg = xmpp_tls_config_ref(src->tls_cfg);
    return XMPP_OK;
}
