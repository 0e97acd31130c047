/* XEP-0084 User Avatar: the "avatar" plugin (needs "pubsub"). Publishes
 * data then metadata, watches metadata notifications (PEP sender rules of
 * the pubsub plugin), fetches data by id with a SHA-1 check. Uses the
 * public interface (plus the library's base64 and GnuTLS SHA-1). */
#include "core/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include <xmpp/session.h>
#include <xmpp/stanza.h>
#include <xmpp/sys/plugin.h>
#include <xmpp/xep/avatar.h>
#include <xmpp/xep/pubsub.h>

#include "plugin/plugin_int.h"
#include "stream/base64.h"

#define MAX_WATCHES 64

struct watch {
    unsigned long id;
    xmpp_avatar_metadata_fn cb;
    void *ud;
};

struct avatar_state {
    unsigned long ev; /* the pubsub handler for the metadata node */
    struct watch w[MAX_WATCHES];
    size_t n;
    unsigned long next_id;
};

static void sha1_hex(const void *data, size_t len, char out[41]) {
    unsigned char d[20];
    size_t i;
    if (gnutls_hash_fast(GNUTLS_DIG_SHA1, data, len, d) != 0) {
        out[0] = '\0';
        return;
    }
    for (i = 0; i < 20; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* ---- publishing */
struct pub_req {
    xmpp_iq_fn cb;
    void *ud;
    xmpp_stanza *meta; /* the metadata payload, published after the data */
    char id[41];
    unsigned timeout_ms;
};

static void pub_finish(xmpp_session *s, struct pub_req *r, xmpp_iq_status st,
                       xmpp_stanza *reply) {
    xmpp_iq_fn cb = r->cb;
    void *ud = r->ud;
    xmpp_stanza_unref(r->meta);
    xmpp_free(xmpp_session_ctx(s), r);
    if (cb)
        cb(s, st, reply, ud);
}

static void meta_done(xmpp_session *s, xmpp_iq_status st, xmpp_stanza *reply, void *ud) {
    pub_finish(s, ud, st, reply);
}

static void data_done(xmpp_session *s, xmpp_iq_status st, xmpp_stanza *reply, void *ud) {
    struct pub_req *r = ud;
    if (st == XMPP_IQ_RESULT &&
        xmpp_pubsub_publish(s, NULL, XMPP_NS_AVATAR_METADATA, r->id, r->meta, NULL,
                            r->timeout_ms, meta_done, r) == XMPP_OK)
        return;
    if (st == XMPP_IQ_RESULT)
        pub_finish(s, r, XMPP_IQ_CANCELLED, NULL); /* the metadata could not be sent */
    else
        pub_finish(s, r, st, reply);
}

int xmpp_avatar_publish(xmpp_session *s, const void *data, size_t len, const char *mime_type,
                        unsigned width, unsigned height, unsigned timeout_ms, xmpp_iq_fn cb,
                        void *user_data) {
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    xmpp_stanza *d = NULL, *info;
    struct pub_req *r;
    char *b64 = NULL, num[24];
    size_t b64len;
    int rc;
    if (s == NULL || data == NULL || len == 0 || mime_type == NULL || mime_type[0] == '\0' ||
        !xmpp__xml_text_ok(mime_type, strlen(mime_type)))
        return XMPP_ERR_INVALID;
    if (!xmpp_session_plugin_enabled(s, "avatar"))
        return XMPP_ERR_STATE;
    if (len > XMPP_AVATAR_MAX_BYTES)
        return XMPP_ERR_LIMIT;
    if ((r = xmpp__malloc(ctx, sizeof(*r))) == NULL)
        return XMPP_ERR_NOMEM;
    memset(r, 0, sizeof(*r));
    r->cb = cb;
    r->ud = user_data;
    r->timeout_ms = timeout_ms;
    sha1_hex(data, len, r->id);
    /* <metadata><info bytes id type [width height]/></metadata> (§4.2.1) */
    if ((rc = xmpp_stanza_new(&r->meta, ctx, "metadata", XMPP_NS_AVATAR_METADATA)) != XMPP_OK ||
        (rc = xmpp_stanza_add_child_new(r->meta, "info", NULL, &info)) != XMPP_OK)
        goto fail;
    snprintf(num, sizeof(num), "%lu", (unsigned long)len);
    if ((rc = xmpp_stanza_set_attr(info, "bytes", num)) != XMPP_OK ||
        (rc = xmpp_stanza_set_attr(info, "id", r->id)) != XMPP_OK ||
        (rc = xmpp_stanza_set_attr(info, "type", mime_type)) != XMPP_OK)
        goto fail;
    if (width && height) {
        snprintf(num, sizeof(num), "%u", height);
        if ((rc = xmpp_stanza_set_attr(info, "height", num)) != XMPP_OK)
            goto fail;
        snprintf(num, sizeof(num), "%u", width);
        if ((rc = xmpp_stanza_set_attr(info, "width", num)) != XMPP_OK)
            goto fail;
    }
    /* <data>BASE64</data> (§4.1) */
    if ((rc = xmpp__b64_encode_alloc(ctx, data, len, &b64, &b64len)) != XMPP_OK ||
        (rc = xmpp_stanza_new(&d, ctx, "data", XMPP_NS_AVATAR_DATA)) != XMPP_OK ||
        (rc = xmpp_stanza_set_text(d, b64, b64len)) != XMPP_OK)
        goto fail;
    rc = xmpp_pubsub_publish(s, NULL, XMPP_NS_AVATAR_DATA, r->id, d, NULL, timeout_ms,
                             data_done, r);
    if (rc != XMPP_OK)
        goto fail;
    xmpp_stanza_unref(d);
    xmpp_free(ctx, b64);
    return XMPP_OK;
fail:
    xmpp_stanza_unref(d);
    xmpp_free(ctx, b64);
    xmpp_stanza_unref(r->meta);
    xmpp_free(ctx, r);
    return rc;
}

int xmpp_avatar_disable(xmpp_session *s, unsigned timeout_ms, xmpp_iq_fn cb, void *user_data) {
    xmpp_stanza *m = NULL;
    int rc;
    if (s == NULL)
        return XMPP_ERR_INVALID;
    if (!xmpp_session_plugin_enabled(s, "avatar"))
        return XMPP_ERR_STATE;
    if ((rc = xmpp_stanza_new(&m, xmpp_session_ctx(s), "metadata", XMPP_NS_AVATAR_METADATA)) !=
        XMPP_OK)
        return rc;
    rc = xmpp_pubsub_publish(s, NULL, XMPP_NS_AVATAR_METADATA, "current", m, NULL, timeout_ms,
                             cb, user_data);
    xmpp_stanza_unref(m);
    return rc;
}

/* ---- metadata notifications */
static void on_metadata(xmpp_session *s, const xmpp_pubsub_items *ev, void *ud) {
    struct avatar_state *as = ud;
    xmpp_stanza *m, *info;
    const char *id = NULL, *type = NULL, *bytes;
    size_t n, i, sz = 0;
    if (xmpp_pubsub_items_kind(ev) != XMPP_PUBSUB_EVENT_ITEMS)
        return;
    /* the last item is the current one */
    n = xmpp_pubsub_items_count(ev);
    m = n ? xmpp_pubsub_items_payload_at(ev, n - 1) : NULL;
    if (m == NULL || strcmp(xmpp_stanza_name(m), "metadata") != 0 || xmpp_stanza_ns(m) == NULL ||
        strcmp(xmpp_stanza_ns(m), XMPP_NS_AVATAR_METADATA) != 0)
        return;
    /* the first <info/> without url is the PEP-stored image (§4.2.1) */
    for (info = xmpp_stanza_child(m, "info", XMPP_NS_AVATAR_METADATA); info;
         info = xmpp_stanza_next_match(info, "info", XMPP_NS_AVATAR_METADATA))
        if (xmpp_stanza_attr(info, "url") == NULL && xmpp_stanza_attr(info, "id"))
            break;
    if (info) {
        id = xmpp_stanza_attr(info, "id");
        type = xmpp_stanza_attr(info, "type");
        if ((bytes = xmpp_stanza_attr(info, "bytes")) != NULL)
            sz = (size_t)strtoul(bytes, NULL, 10);
    }
    for (i = 0; i < as->n; i++) /* a callback may unwatch: re-check the count */
        as->w[i].cb(s, xmpp_pubsub_items_from(ev), id, type, sz, as->w[i].ud);
}

int xmpp_avatar_watch(xmpp_session *s, xmpp_avatar_metadata_fn cb, void *user_data,
                      unsigned long *handle) {
    struct avatar_state *as = xmpp_session_plugin_state(s, "avatar");
    int rc;
    if (handle)
        *handle = 0;
    if (cb == NULL)
        return XMPP_ERR_INVALID;
    if (as == NULL)
        return XMPP_ERR_STATE;
    if (as->n >= MAX_WATCHES)
        return XMPP_ERR_LIMIT;
    if ((rc = xmpp_pep_notify_add(s, XMPP_NS_AVATAR_METADATA)) != XMPP_OK)
        return rc;
    as->w[as->n].id = ++as->next_id;
    as->w[as->n].cb = cb;
    as->w[as->n].ud = user_data;
    if (handle)
        *handle = as->w[as->n].id;
    as->n++;
    return XMPP_OK;
}

int xmpp_avatar_unwatch(xmpp_session *s, unsigned long handle) {
    struct avatar_state *as = xmpp_session_plugin_state(s, "avatar");
    size_t i;
    if (as == NULL)
        return XMPP_ERR_STATE;
    for (i = 0; i < as->n; i++) {
        if (as->w[i].id == handle) {
            memmove(&as->w[i], &as->w[i + 1], (as->n - i - 1) * sizeof(as->w[0]));
            as->n--;
            (void)xmpp_pep_notify_remove(s, XMPP_NS_AVATAR_METADATA);
            return XMPP_OK;
        }
    }
    return XMPP_ERR_NOT_FOUND;
}

/* ---- fetching */
struct fetch_req {
    xmpp_avatar_data_fn cb;
    void *ud;
    char id[41];
};

static void fetched(xmpp_session *s, xmpp_iq_status st, const xmpp_pubsub_items *items,
                    xmpp_stanza *error, void *ud) {
    struct fetch_req r = *(struct fetch_req *)ud;
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    xmpp_stanza *d = NULL;
    char *text = NULL, hex[41];
    uint8_t *bin = NULL;
    size_t i, j, n, tlen = 0, blen = 0;
    int err = XMPP_ERR_NOT_FOUND;
    (void)error;
    xmpp_free(ctx, ud);
    if (st != XMPP_IQ_RESULT) {
        r.cb(s, st, XMPP_ERR_NOT_FOUND, NULL, 0, r.ud);
        return;
    }
    n = xmpp_pubsub_items_count(items);
    for (i = 0; i < n && d == NULL; i++) {
        const char *iid = xmpp_pubsub_items_id_at(items, i);
        xmpp_stanza *p = xmpp_pubsub_items_payload_at(items, i);
        if (iid && strcmp(iid, r.id) == 0 && p && strcmp(xmpp_stanza_name(p), "data") == 0 &&
            xmpp_stanza_ns(p) && strcmp(xmpp_stanza_ns(p), XMPP_NS_AVATAR_DATA) == 0)
            d = p;
    }
    if (d != NULL) {
        err = xmpp_stanza_text(d, &text, &tlen);
        if (err == XMPP_OK) {
            for (i = j = 0; i < tlen; i++) /* line breaks and spaces are tolerated */
                if (text[i] != ' ' && text[i] != '\t' && text[i] != '\r' && text[i] != '\n')
                    text[j++] = text[i];
            if (j / 4 * 3 > XMPP_AVATAR_MAX_BYTES + 2)
                err = XMPP_ERR_LIMIT;
            else if (xmpp__b64_decode_alloc(ctx, text, j, &bin, &blen) != XMPP_OK)
                err = XMPP_ERR_INVALID;
            else if (blen > XMPP_AVATAR_MAX_BYTES)
                err = XMPP_ERR_LIMIT;
            else {
                sha1_hex(bin, blen, hex);
                err = strcmp(hex, r.id) == 0 ? XMPP_OK : XMPP_ERR_INVALID; /* §4.3 */
            }
        }
    }
    r.cb(s, st, err, err == XMPP_OK ? bin : NULL, err == XMPP_OK ? blen : 0, r.ud);
    xmpp_free(ctx, text);
    xmpp_free(ctx, bin);
}

int xmpp_avatar_fetch(xmpp_session *s, const char *jid, const char *id, unsigned timeout_ms,
                      xmpp_avatar_data_fn cb, void *user_data) {
    struct fetch_req *r;
    const char *ids[2];
    size_t i;
    int rc;
    if (s == NULL || cb == NULL || id == NULL || strlen(id) != 40)
        return XMPP_ERR_INVALID;
    for (i = 0; i < 40; i++)
        if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f') ||
              (id[i] >= 'A' && id[i] <= 'F')))
            return XMPP_ERR_INVALID;
    if (!xmpp_session_plugin_enabled(s, "avatar"))
        return XMPP_ERR_STATE;
    if ((r = xmpp__malloc(xmpp_session_ctx(s), sizeof(*r))) == NULL)
        return XMPP_ERR_NOMEM;
    r->cb = cb;
    r->ud = user_data;
    for (i = 0; i < 40; i++) /* the hash compares in lower case */
        r->id[i] = (id[i] >= 'A' && id[i] <= 'F') ? (char)(id[i] - 'A' + 'a') : id[i];
    r->id[40] = '\0';
    ids[0] = id;
    ids[1] = NULL;
    rc = xmpp_pubsub_get_items(s, jid, XMPP_NS_AVATAR_DATA, 0, ids, timeout_ms, fetched, r);
    if (rc != XMPP_OK)
        xmpp_free(xmpp_session_ctx(s), r);
    return rc;
}

/* ---- the plugin */
static int avatar_attach(xmpp_session *s, void **state, void *ud) {
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    struct avatar_state *as = xmpp__malloc(ctx, sizeof(*as));
    int rc;
    (void)ud;
    if (as == NULL)
        return XMPP_ERR_NOMEM;
    memset(as, 0, sizeof(*as));
    rc = xmpp_pubsub_add_event_handler(s, NULL, XMPP_NS_AVATAR_METADATA, 0, on_metadata, as,
                                       &as->ev);
    if (rc != XMPP_OK) {
        xmpp_free(ctx, as);
        return rc;
    }
    *state = as;
    return XMPP_OK;
}

static void avatar_detach(xmpp_session *s, void *state, void *ud) {
    struct avatar_state *as = state;
    (void)ud;
    (void)xmpp_pubsub_remove_event_handler(s, as->ev);
    while (as->n-- > 0)
        (void)xmpp_pep_notify_remove(s, XMPP_NS_AVATAR_METADATA);
    xmpp_free(xmpp_session_ctx(s), as);
}

static const char *const avatar_depends[] = {"pubsub", NULL};

const xmpp_plugin_desc xmpp__plugin_avatar = {
    XMPP_PLUGIN_ABI_VERSION, "avatar", avatar_depends, NULL, NULL, 0,
    avatar_attach,           avatar_detach, NULL};
