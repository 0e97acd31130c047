/* XEP-0054 vcard-temp (the common fields) and XEP-0153 vCard-based
 * avatars. Uses only the public plugin interface, plus the library's
 * strict base64 and GnuTLS SHA-1 (as caps.c). */
#include "core/internal.h"

#include <stdio.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include <xmpp/session.h>
#include <xmpp/stanza.h>
#include <xmpp/sys/plugin.h>
#include <xmpp/xep/vcard.h>

#include "plugin/plugin_int.h"
#include "stream/base64.h"

struct vcard_state {
    unsigned long handler;
    xmpp_vcard_avatar_fn cb;
    void *cb_ud;
};

static int is_hex40(const char *h) {
    size_t i;
    for (i = 0; i < 40; i++)
        if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f') ||
              (h[i] >= 'A' && h[i] <= 'F')))
            return 0;
    return h[40] == '\0';
}

int xmpp_vcard_photo_hash(const unsigned char *data, size_t len, char *out, size_t size) {
    unsigned char d[20];
    size_t i;
    if ((data == NULL && len) || out == NULL || size < 41)
        return XMPP_ERR_INVALID;
    if (gnutls_hash_fast(GNUTLS_DIG_SHA1, data, len, d) != 0)
        return XMPP_ERR_INVALID;
    for (i = 0; i < 20; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
    return XMPP_OK;
}

int xmpp_vcard_update_add(xmpp_stanza *presence, const char *hash) {
    xmpp_stanza *x = NULL, *p = NULL;
    int rc;
    if (presence == NULL || xmpp_stanza_name(presence) == NULL ||
        strcmp(xmpp_stanza_name(presence), "presence") != 0 ||
        (hash && *hash && (strlen(hash) != 40 || !is_hex40(hash))) ||
        xmpp_stanza_child(presence, "x", XMPP_NS_VCARD_UPDATE))
        return XMPP_ERR_INVALID;
    if ((rc = xmpp_stanza_add_child_new(presence, "x", XMPP_NS_VCARD_UPDATE, &x)) != XMPP_OK)
        return rc;
    if (hash && (rc = xmpp_stanza_add_child_new(x, "photo", NULL, &p)) == XMPP_OK && *hash)
        rc = xmpp_stanza_add_text(p, hash, 40);
    if (rc != XMPP_OK)
        xmpp_stanza_remove_child(presence, x);
    return rc;
}

int xmpp_vcard_update_get(const xmpp_stanza *presence, const char **hash) {
    xmpp_stanza *x, *p, *t;
    const char *h;
    if (presence == NULL || hash == NULL)
        return XMPP_ERR_INVALID;
    if ((x = xmpp_stanza_child(presence, "x", XMPP_NS_VCARD_UPDATE)) == NULL)
        return XMPP_ERR_NOT_FOUND;
    if (xmpp_stanza_next_match(x, "x", XMPP_NS_VCARD_UPDATE))
        return XMPP_ERR_INVALID;
    if ((p = xmpp_stanza_child(x, "photo", XMPP_NS_VCARD_UPDATE)) == NULL)
        return XMPP_ERR_NOT_FOUND; /* XEP-0153 §3.2: not ready to advertise */
    if (xmpp_stanza_next_match(p, "photo", XMPP_NS_VCARD_UPDATE))
        return XMPP_ERR_INVALID;
    t = xmpp_stanza_first_child(p);
    if (t == NULL) {
        *hash = "";
        return XMPP_OK;
    }
    if (!xmpp_stanza_is_text(t) || xmpp_stanza_next(t) != NULL)
        return XMPP_ERR_INVALID;
    h = xmpp_stanza_text_ptr(t);
    if (strlen(h) != 40 || !is_hex40(h))
        return XMPP_ERR_INVALID;
    *hash = h;
    return XMPP_OK;
}

static int on_presence(xmpp_session *s, xmpp_stanza *st, void *ud) {
    struct vcard_state *vs = ud;
    const char *hash, *type = xmpp_stanza_type(st);
    if (vs->cb == NULL || (type && strcmp(type, "unavailable") != 0) ||
        xmpp_stanza_from(st) == NULL || xmpp_vcard_update_get(st, &hash) != XMPP_OK)
        return 0;
    vs->cb(s, xmpp_stanza_from(st), hash, vs->cb_ud);
    return 0;
}

static int vcard_attach(xmpp_session *s, void **state, void *ud) {
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    struct vcard_state *vs = xmpp__malloc(ctx, sizeof(*vs));
    int rc;
    (void)ud;
    if (vs == NULL)
        return XMPP_ERR_NOMEM;
    memset(vs, 0, sizeof(*vs));
    rc = xmpp_session_add_handler(s, "presence", NULL, NULL, on_presence, vs, &vs->handler);
    if (rc != XMPP_OK) {
        xmpp_free(ctx, vs);
        return rc;
    }
    *state = vs;
    return XMPP_OK;
}

static void vcard_detach(xmpp_session *s, void *state, void *ud) {
    struct vcard_state *vs = state;
    (void)ud;
    xmpp_session_remove_handler(s, vs->handler);
    xmpp_free(xmpp_session_ctx(s), vs);
}

static const char *const vcard_features[] = {XMPP_NS_VCARD, NULL};

const xmpp_plugin_desc xmpp__plugin_vcard = {XMPP_PLUGIN_ABI_VERSION,
                                             "vcard",
                                             NULL,
                                             vcard_features,
                                             NULL,
                                             0,
                                             vcard_attach,
                                             vcard_detach,
                                             NULL};

int xmpp_vcard_set_avatar_callback(xmpp_session *s, xmpp_vcard_avatar_fn cb, void *user_data) {
    struct vcard_state *vs = xmpp_session_plugin_state(s, "vcard");
    if (vs == NULL)
        return XMPP_ERR_STATE;
    vs->cb = cb;
    vs->cb_ud = user_data;
    return XMPP_OK;
}

/* ---- requests */
struct vcard_req {
    xmpp_vcard_fn cb;
    void *ud;
};

/* The text of the first <name/> child of @p parent in vcard-temp; NULL
 * when absent. Returns XMPP_OK, XMPP_ERR_LIMIT or XMPP_ERR_NOMEM. */
static int field(xmpp_ctx *ctx, const xmpp_stanza *parent, const char *name, size_t max, char **out,
                 size_t *len) {
    xmpp_stanza *c = parent ? xmpp_stanza_child(parent, name, XMPP_NS_VCARD) : NULL;
    char *t = NULL;
    size_t n = 0;
    int rc;
    *out = NULL;
    if (c == NULL)
        return XMPP_OK;
    if ((rc = xmpp_stanza_text(c, &t, &n)) != XMPP_OK)
        return rc;
    if (n > max) {
        xmpp_free(ctx, t);
        return XMPP_ERR_LIMIT;
    }
    if (n == 0) {
        xmpp_free(ctx, t);
        return XMPP_OK;
    }
    *out = t;
    if (len)
        *len = n;
    return XMPP_OK;
}

enum { F_FN, F_NICK, F_EMAIL, F_URL, F_TYPE, F_BIN, F_N };

static int parse_vcard(xmpp_ctx *ctx, const xmpp_stanza *vc, char **f, xmpp_vcard *out,
                       unsigned char **photo) {
    size_t binlen = 0, i, o, plen = 0;
    int rc;
    /* base64 of the largest photo, with room for line breaks */
    const size_t binmax = XMPP_VCARD_MAX_PHOTO / 3 * 4 + 4 + XMPP_VCARD_MAX_PHOTO / 16;
    xmpp_stanza *ph = xmpp_stanza_child(vc, "PHOTO", XMPP_NS_VCARD);
    if ((rc = field(ctx, vc, "FN", XMPP_VCARD_MAX_TEXT, &f[F_FN], NULL)) != XMPP_OK ||
        (rc = field(ctx, vc, "NICKNAME", XMPP_VCARD_MAX_TEXT, &f[F_NICK], NULL)) != XMPP_OK ||
        (rc = field(ctx, xmpp_stanza_child(vc, "EMAIL", XMPP_NS_VCARD), "USERID",
                    XMPP_VCARD_MAX_TEXT, &f[F_EMAIL], NULL)) != XMPP_OK ||
        (rc = field(ctx, vc, "URL", XMPP_VCARD_MAX_TEXT, &f[F_URL], NULL)) != XMPP_OK ||
        (rc = field(ctx, ph, "TYPE", 255, &f[F_TYPE], NULL)) != XMPP_OK ||
        (rc = field(ctx, ph, "BINVAL", binmax, &f[F_BIN], &binlen)) != XMPP_OK)
        return rc;
    if (f[F_BIN]) {
        /* vCards fold base64 into lines: drop white space, then decode strictly */
        for (i = o = 0; i < binlen; i++)
            if (f[F_BIN][i] != ' ' && f[F_BIN][i] != '\t' && f[F_BIN][i] != '\r' &&
                f[F_BIN][i] != '\n')
                f[F_BIN][o++] = f[F_BIN][i];
        if (f[F_TYPE] == NULL)
            return XMPP_ERR_INVALID;
        if ((rc = xmpp__b64_decode_alloc(ctx, f[F_BIN], o, photo, &plen)) != XMPP_OK)
            return rc;
        if (plen > XMPP_VCARD_MAX_PHOTO)
            return XMPP_ERR_LIMIT;
    }
    out->fn = f[F_FN];
    out->nickname = f[F_NICK];
    out->email = f[F_EMAIL];
    out->url = f[F_URL];
    out->photo_type = f[F_BIN] ? f[F_TYPE] : NULL;
    out->photo = f[F_BIN] ? *photo : NULL;
    out->photo_len = f[F_BIN] ? plen : 0;
    return XMPP_OK;
}

static void vcard_done(xmpp_session *s, xmpp_iq_status status, xmpp_stanza *reply, void *ud) {
    struct vcard_req r = *(struct vcard_req *)ud;
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    char *f[F_N] = {NULL, NULL, NULL, NULL, NULL, NULL};
    unsigned char *photo = NULL;
    xmpp_vcard vc;
    int err, i;
    xmpp_free(ctx, ud);
    if (status != XMPP_IQ_RESULT) {
        r.cb(s, status, XMPP_OK, NULL, reply, r.ud);
        return;
    }
    memset(&vc, 0, sizeof(vc));
    {
        xmpp_stanza *v = xmpp_stanza_child(reply, "vCard", XMPP_NS_VCARD);
        /* XEP-0054 §3.1: an empty result means "no vCard" as well */
        if (v == NULL && xmpp_stanza_child(reply, NULL, NULL) == NULL)
            err = XMPP_OK;
        else
            err = v ? parse_vcard(ctx, v, f, &vc, &photo) : XMPP_ERR_INVALID;
    }
    r.cb(s, status, err, err == XMPP_OK ? &vc : NULL, reply, r.ud);
    for (i = 0; i < F_N; i++)
        xmpp_free(ctx, f[i]);
    xmpp_free(ctx, photo);
}

int xmpp_vcard_request(xmpp_session *s, const char *to, unsigned timeout_ms, xmpp_vcard_fn cb,
                       void *user_data) {
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    xmpp_stanza *iq = NULL;
    struct vcard_req *r;
    char id[32];
    int rc;
    if (s == NULL || cb == NULL || xmpp_session_new_id(s, id, sizeof(id)) != XMPP_OK)
        return XMPP_ERR_INVALID;
    if ((rc = xmpp_iq_new(&iq, ctx, "get", to, id)) != XMPP_OK ||
        (rc = xmpp_stanza_add_child_new(iq, "vCard", XMPP_NS_VCARD, NULL)) != XMPP_OK) {
        xmpp_stanza_unref(iq);
        return rc;
    }
    if ((r = xmpp__malloc(ctx, sizeof(*r))) == NULL) {
        xmpp_stanza_unref(iq);
        return XMPP_ERR_NOMEM;
    }
    r->cb = cb;
    r->ud = user_data;
    rc = xmpp_session_send_iq(s, iq, timeout_ms, vcard_done, r);
    if (rc != XMPP_OK)
        xmpp_free(ctx, r);
    xmpp_stanza_unref(iq);
    return rc;
}

static int add_field(xmpp_stanza *parent, const char *name, const char *text) {
    xmpp_stanza *c = NULL;
    size_t n;
    int rc;
    if (text == NULL)
        return XMPP_OK;
    n = strlen(text);
    if (n > XMPP_VCARD_MAX_TEXT)
        return XMPP_ERR_LIMIT;
    if ((rc = xmpp_stanza_add_child_new(parent, name, NULL, &c)) != XMPP_OK)
        return rc;
    return xmpp_stanza_add_text(c, text, n);
}

int xmpp_vcard_publish(xmpp_session *s, const xmpp_vcard *vcard, unsigned timeout_ms, xmpp_iq_fn cb,
                       void *user_data) {
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    xmpp_stanza *iq = NULL, *v = NULL, *e = NULL, *ph = NULL;
    char id[32], *b64 = NULL;
    size_t b64len = 0;
    int rc;
    if (s == NULL || vcard == NULL || (vcard->photo && vcard->photo_type == NULL) ||
        (vcard->photo == NULL && vcard->photo_len) ||
        xmpp_session_new_id(s, id, sizeof(id)) != XMPP_OK)
        return XMPP_ERR_INVALID;
    if (vcard->photo && vcard->photo_len > XMPP_VCARD_MAX_PHOTO)
        return XMPP_ERR_LIMIT;
    if (vcard->photo && (rc = xmpp__b64_encode_alloc(ctx, vcard->photo, vcard->photo_len, &b64,
                                                     &b64len)) != XMPP_OK)
        return rc;
    /* XEP-0054 §3.2: a set without 'to' stores the own vCard */
    if ((rc = xmpp_iq_new(&iq, ctx, "set", NULL, id)) == XMPP_OK &&
        (rc = xmpp_stanza_add_child_new(iq, "vCard", XMPP_NS_VCARD, &v)) == XMPP_OK &&
        (rc = add_field(v, "FN", vcard->fn)) == XMPP_OK &&
        (rc = add_field(v, "NICKNAME", vcard->nickname)) == XMPP_OK &&
        (rc = add_field(v, "URL", vcard->url)) == XMPP_OK) {
        if (vcard->email && (rc = xmpp_stanza_add_child_new(v, "EMAIL", NULL, &e)) == XMPP_OK &&
            (rc = xmpp_stanza_add_child_new(e, "INTERNET", NULL, NULL)) == XMPP_OK)
            rc = add_field(e, "USERID", vcard->email);
        if (rc == XMPP_OK && b64 &&
            (rc = xmpp_stanza_add_child_new(v, "PHOTO", NULL, &ph)) == XMPP_OK &&
            (rc = add_field(ph, "TYPE", vcard->photo_type)) == XMPP_OK) {
            xmpp_stanza *bv = NULL;
            if ((rc = xmpp_stanza_add_child_new(ph, "BINVAL", NULL, &bv)) == XMPP_OK)
                rc = xmpp_stanza_add_text(bv, b64, b64len);
        }
    }
    xmpp_free(ctx, b64);
    if (rc == XMPP_OK)
        rc = xmpp_session_send_iq(s, iq, timeout_ms, cb, user_data);
    xmpp_stanza_unref(iq);
    return rc;
}
