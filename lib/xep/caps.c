/* XEP-0115 Entity Capabilities: the verification string of the enabled
 * plugins (§5.1, SHA-1) and the <c/> presence decoration. Uses only the
 * public plugin interface (plus the library's base64 and GnuTLS SHA-1). */
#include "core/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include <xmpp/session.h>
#include <xmpp/stanza.h>
#include <xmpp/sys/plugin.h>
#include <xmpp/xep/caps.h>
#include <xmpp/xep/disco.h>

#include "plugin/plugin_int.h"
#include "stream/base64.h"

struct caps_state {
    char *node;
};

static const char *nz(const char *s) {
    return s ? s : "";
}

static int cmp_identity(const void *a, const void *b) {
    const xmpp_plugin_identity *x = *(const xmpp_plugin_identity *const *)a;
    const xmpp_plugin_identity *y = *(const xmpp_plugin_identity *const *)b;
    int c;
    if ((c = strcmp(x->category, y->category)) != 0 || (c = strcmp(x->type, y->type)) != 0 ||
        (c = strcmp(nz(x->lang), nz(y->lang))) != 0)
        return c;
    return strcmp(nz(x->name), nz(y->name));
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int xmpp_caps_compute_ver(xmpp_ctx *ctx, const xmpp_plugin_identity *const *identities,
                          size_t n_identities, const char *const *features, size_t n_features,
                          char **out) {
    const xmpp_plugin_identity **ids = NULL;
    const char **fs = NULL;
    char *buf = NULL, *p;
    size_t i, len = 0;
    unsigned char digest[20];
    int rc = XMPP_ERR_NOMEM;
    if (out)
        *out = NULL;
    if (ctx == NULL || out == NULL || (n_identities && identities == NULL) ||
        (n_features && features == NULL))
        return XMPP_ERR_INVALID;
    for (i = 0; i < n_identities; i++)
        if (identities[i] == NULL || identities[i]->category == NULL ||
            identities[i]->type == NULL)
            return XMPP_ERR_INVALID;
    for (i = 0; i < n_features; i++)
        if (features[i] == NULL)
            return XMPP_ERR_INVALID;
    ids = xmpp__malloc(ctx, (n_identities + 1) * sizeof(*ids));
    fs = xmpp__malloc(ctx, (n_features + 1) * sizeof(*fs));
    if (ids == NULL || fs == NULL)
        goto done;
    memcpy(ids, identities, n_identities * sizeof(*ids));
    memcpy(fs, features, n_features * sizeof(*fs));
    qsort(ids, n_identities, sizeof(*ids), cmp_identity);
    qsort(fs, n_features, sizeof(*fs), cmp_str);
    /* S = category/type/lang/name< ... feature< ... */
    for (i = 0; i < n_identities; i++)
        len += strlen(ids[i]->category) + strlen(ids[i]->type) + strlen(nz(ids[i]->lang)) +
               strlen(nz(ids[i]->name)) + 4;
    for (i = 0; i < n_features; i++)
        len += strlen(fs[i]) + 1;
    if ((buf = xmpp__malloc(ctx, len + 1)) == NULL)
        goto done;
    p = buf;
    for (i = 0; i < n_identities; i++) {
        if (i > 0 && cmp_identity(&ids[i - 1], &ids[i]) == 0)
            continue; /* the same identity from two plugins counts once */
        p += sprintf(p, "%s/%s/%s/%s<", ids[i]->category, ids[i]->type, nz(ids[i]->lang),
                     nz(ids[i]->name));
    }
    for (i = 0; i < n_features; i++) {
        if (i > 0 && strcmp(fs[i - 1], fs[i]) == 0)
            continue;
        p += sprintf(p, "%s<", fs[i]);
    }
    if (gnutls_hash_fast(GNUTLS_DIG_SHA1, buf, (size_t)(p - buf), digest) != 0) {
        rc = XMPP_ERR_NOMEM;
        goto done;
    }
    {
        size_t olen;
        rc = xmpp__b64_encode_alloc(ctx, digest, sizeof(digest), out, &olen);
    }
done:
    xmpp_free(ctx, buf);
    xmpp_free(ctx, ids);
    xmpp_free(ctx, fs);
    return rc;
}

int xmpp_caps_ver(xmpp_session *s, char **out) {
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    const xmpp_plugin_identity **ids = NULL;
    const char **fs = NULL;
    size_t n = xmpp_session_plugin_count(s), i, j, ni = 0, nf = 0;
    int rc = XMPP_ERR_NOMEM;
    if (out)
        *out = NULL;
    if (s == NULL || out == NULL)
        return XMPP_ERR_INVALID;
    if (!xmpp_session_plugin_enabled(s, "caps"))
        return XMPP_ERR_STATE;
    for (i = 0; i < n; i++) {
        const xmpp_plugin_desc *d = xmpp_session_plugin_at(s, i);
        ni += d->n_identities;
        for (j = 0; d->features && d->features[j]; j++)
            nf++;
    }
    nf += xmpp_session_feature_count(s);
    ids = xmpp__malloc(ctx, (ni + 1) * sizeof(*ids));
    fs = xmpp__malloc(ctx, (nf + 1) * sizeof(*fs));
    if (ids != NULL && fs != NULL) {
        ni = nf = 0;
        for (i = 0; i < n; i++) {
            const xmpp_plugin_desc *d = xmpp_session_plugin_at(s, i);
            for (j = 0; j < d->n_identities; j++)
                ids[ni++] = &d->identities[j];
            for (j = 0; d->features && d->features[j]; j++)
                fs[nf++] = d->features[j];
        }
        for (i = 0; i < xmpp_session_feature_count(s); i++)
            fs[nf++] = xmpp_session_feature_at(s, i);
        rc = xmpp_caps_compute_ver(ctx, ids, ni, fs, nf, out);
    }
    xmpp_free(ctx, ids);
    xmpp_free(ctx, fs);
    return rc;
}

int xmpp_caps_set_node(xmpp_session *s, const char *node) {
    struct caps_state *cs = xmpp_session_plugin_state(s, "caps");
    char *n;
    if (node == NULL || node[0] == '\0' || !xmpp__xml_text_ok(node, strlen(node)))
        return XMPP_ERR_INVALID;
    if (cs == NULL)
        return XMPP_ERR_STATE;
    if ((n = xmpp__strdup(xmpp_session_ctx(s), node)) == NULL)
        return XMPP_ERR_NOMEM;
    xmpp_free(xmpp_session_ctx(s), cs->node);
    cs->node = n;
    return XMPP_OK;
}

const char *xmpp_caps_node(const xmpp_session *s) {
    struct caps_state *cs = xmpp_session_plugin_state(s, "caps");
    return cs ? cs->node : NULL;
}

int xmpp_caps_decorate(xmpp_session *s, xmpp_stanza *presence) {
    xmpp_stanza *old, *c = NULL;
    char *ver = NULL;
    int rc;
    if (s == NULL || presence == NULL || xmpp_stanza_is_text(presence) ||
        strcmp(xmpp_stanza_name(presence), "presence") != 0)
        return XMPP_ERR_INVALID;
    if (!xmpp_session_plugin_enabled(s, "caps"))
        return XMPP_ERR_STATE;
    if ((rc = xmpp_caps_ver(s, &ver)) != XMPP_OK)
        return rc;
    while ((old = xmpp_stanza_child(presence, "c", XMPP_NS_CAPS)) != NULL)
        xmpp_stanza_remove_child(presence, old);
    if ((rc = xmpp_stanza_add_child_new(presence, "c", XMPP_NS_CAPS, &c)) == XMPP_OK &&
        (rc = xmpp_stanza_set_attr(c, "hash", "sha-1")) == XMPP_OK &&
        (rc = xmpp_stanza_set_attr(c, "node", xmpp_caps_node(s))) == XMPP_OK)
        rc = xmpp_stanza_set_attr(c, "ver", ver);
    xmpp_free(xmpp_session_ctx(s), ver);
    return rc;
}

static int caps_attach(xmpp_session *s, void **state, void *ud) {
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    struct caps_state *cs = xmpp__malloc(ctx, sizeof(*cs));
    (void)ud;
    if (cs == NULL)
        return XMPP_ERR_NOMEM;
    if ((cs->node = xmpp__strdup(ctx, XMPP_CAPS_DEFAULT_NODE)) == NULL) {
        xmpp_free(ctx, cs);
        return XMPP_ERR_NOMEM;
    }
    *state = cs;
    return XMPP_OK;
}

static void caps_detach(xmpp_session *s, void *state, void *ud) {
    struct caps_state *cs = state;
    (void)ud;
    xmpp_free(xmpp_session_ctx(s), cs->node);
    xmpp_free(xmpp_session_ctx(s), cs);
}

static const char *const caps_depends[] = {"disco", NULL};
static const char *const caps_features[] = {XMPP_NS_CAPS, NULL};

const xmpp_plugin_desc xmpp__plugin_caps = {
    XMPP_PLUGIN_ABI_VERSION, "caps", caps_depends, caps_features, NULL, 0,
    caps_attach,             caps_detach, NULL};
