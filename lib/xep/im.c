/* Instant-messaging markup: builders and parsers for XEP-0085, XEP-0308,
 * XEP-0245, XEP-0333, XEP-0424, XEP-0444, XEP-0461 and XEP-0428, and the
 * advertise-only plugins for their disco features. Uses only the public
 * stanza API. */
#include "core/internal.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <xmpp/jid.h>
#include <xmpp/stanza.h>
#include <xmpp/sys/plugin.h>
#include <xmpp/xep/im.h>

#include "plugin/plugin_int.h"

static int is_message(const xmpp_stanza *st) {
    const char *n = st ? xmpp_stanza_name(st) : NULL;
    return n && strcmp(n, "message") == 0 && !xmpp_stanza_is_text(st);
}

static int id_ok(const char *id) {
    size_t n = id ? strlen(id) : 0;
    return n > 0 && n <= XMPP_IM_MAX_ID && xmpp__xml_text_ok(id, n);
}

/* The only child named @p name in @p ns: 1 found, 0 none, -1 several. */
static int only_child(const xmpp_stanza *msg, const char *name, const char *ns, xmpp_stanza **out) {
    xmpp_stanza *c = xmpp_stanza_child(msg, name, ns);
    *out = c;
    if (c == NULL)
        return 0;
    return xmpp_stanza_next_match(c, name, ns) ? -1 : 1;
}

/* Reads the id attribute of the only <name xmlns=ns/> child. */
static int get_ref(const xmpp_stanza *msg, const char *name, const char *ns, const char *attr,
                   const char **id) {
    xmpp_stanza *c;
    int n;
    if (!is_message(msg) || id == NULL)
        return XMPP_ERR_INVALID;
    n = only_child(msg, name, ns, &c);
    if (n == 0)
        return XMPP_ERR_NOT_FOUND;
    if (n < 0 || !id_ok(xmpp_stanza_attr(c, attr)))
        return XMPP_ERR_INVALID;
    *id = xmpp_stanza_attr(c, attr);
    return XMPP_OK;
}

static int add_ref(xmpp_stanza *msg, const char *name, const char *ns, const char *id) {
    xmpp_stanza *c = NULL;
    int rc;
    if (!is_message(msg) || !id_ok(id))
        return XMPP_ERR_INVALID;
    if ((rc = xmpp_stanza_add_child_new(msg, name, ns, &c)) != XMPP_OK)
        return rc;
    if ((rc = xmpp_stanza_set_attr(c, "id", id)) != XMPP_OK)
        xmpp_stanza_remove_child(msg, c);
    return rc;
}

static int add_store_hint(xmpp_stanza *msg) {
    if (xmpp_stanza_child(msg, "store", XMPP_NS_HINTS))
        return XMPP_OK;
    return xmpp_stanza_add_child_new(msg, "store", XMPP_NS_HINTS, NULL);
}

/* ---- XEP-0085 */
static const char *const chatstate_names[] = {NULL,     "active",   "composing",
                                              "paused", "inactive", "gone"};

const char *xmpp_chatstate_name(xmpp_chatstate state) {
    if ((int)state < XMPP_CHATSTATE_ACTIVE || (int)state > XMPP_CHATSTATE_GONE)
        return NULL;
    return chatstate_names[state];
}

int xmpp_chatstate_add(xmpp_stanza *msg, xmpp_chatstate state) {
    const char *name = xmpp_chatstate_name(state);
    xmpp_stanza *c;
    if (!is_message(msg) || name == NULL)
        return XMPP_ERR_INVALID;
    /* XEP-0085 §5.5: one state per message */
    while ((c = xmpp_stanza_child(msg, NULL, XMPP_NS_CHATSTATES)) != NULL)
        xmpp_stanza_remove_child(msg, c);
    return xmpp_stanza_add_child_new(msg, name, XMPP_NS_CHATSTATES, NULL);
}

int xmpp_chatstate_get(const xmpp_stanza *msg, xmpp_chatstate *state) {
    xmpp_stanza *c;
    int i;
    if (!is_message(msg) || state == NULL)
        return XMPP_ERR_INVALID;
    if ((c = xmpp_stanza_child(msg, NULL, XMPP_NS_CHATSTATES)) == NULL)
        return XMPP_ERR_NOT_FOUND;
    if (xmpp_stanza_next_match(c, NULL, XMPP_NS_CHATSTATES))
        return XMPP_ERR_INVALID;
    for (i = XMPP_CHATSTATE_ACTIVE; i <= XMPP_CHATSTATE_GONE; i++)
        if (strcmp(xmpp_stanza_name(c), chatstate_names[i]) == 0) {
            *state = (xmpp_chatstate)i;
            return XMPP_OK;
        }
    return XMPP_ERR_INVALID;
}

/* ---- XEP-0308 */
int xmpp_correction_add(xmpp_stanza *msg, const char *replace_id) {
    if (is_message(msg) && xmpp_stanza_child(msg, "replace", XMPP_NS_CORRECTION))
        return XMPP_ERR_INVALID;
    return add_ref(msg, "replace", XMPP_NS_CORRECTION, replace_id);
}

int xmpp_correction_get(const xmpp_stanza *msg, const char **replace_id) {
    return get_ref(msg, "replace", XMPP_NS_CORRECTION, "id", replace_id);
}

/* ---- XEP-0245 */
int xmpp_me_command(const char *body, const char **action) {
    if (body == NULL || strncmp(body, "/me ", 4) != 0)
        return 0;
    if (action)
        *action = body + 4;
    return 1;
}

/* ---- XEP-0333 */
static const char *const marker_names[] = {NULL, "received", "displayed", "acknowledged"};

int xmpp_marker_add_markable(xmpp_stanza *msg) {
    if (!is_message(msg))
        return XMPP_ERR_INVALID;
    if (xmpp_marker_is_markable(msg))
        return XMPP_OK;
    return xmpp_stanza_add_child_new(msg, "markable", XMPP_NS_MARKERS, NULL);
}

int xmpp_marker_is_markable(const xmpp_stanza *msg) {
    return is_message(msg) && xmpp_stanza_child(msg, "markable", XMPP_NS_MARKERS) != NULL;
}

int xmpp_marker_add(xmpp_stanza *msg, xmpp_marker marker, const char *id) {
    if ((int)marker < XMPP_MARKER_RECEIVED || (int)marker > XMPP_MARKER_ACKNOWLEDGED)
        return XMPP_ERR_INVALID;
    return add_ref(msg, marker_names[marker], XMPP_NS_MARKERS, id);
}

int xmpp_marker_get(const xmpp_stanza *msg, xmpp_marker *marker, const char **id) {
    xmpp_stanza *c, *found = NULL;
    int i, which = 0;
    if (!is_message(msg) || marker == NULL || id == NULL)
        return XMPP_ERR_INVALID;
    for (c = xmpp_stanza_child(msg, NULL, XMPP_NS_MARKERS); c;
         c = xmpp_stanza_next_match(c, NULL, XMPP_NS_MARKERS)) {
        for (i = XMPP_MARKER_RECEIVED; i <= XMPP_MARKER_ACKNOWLEDGED; i++)
            if (strcmp(xmpp_stanza_name(c), marker_names[i]) == 0)
                break;
        if (i > XMPP_MARKER_ACKNOWLEDGED)
            continue; /* <markable/> */
        if (found)
            return XMPP_ERR_INVALID;
        found = c;
        which = i;
    }
    if (found == NULL)
        return XMPP_ERR_NOT_FOUND;
    if (!id_ok(xmpp_stanza_attr(found, "id")))
        return XMPP_ERR_INVALID;
    *marker = (xmpp_marker)which;
    *id = xmpp_stanza_attr(found, "id");
    return XMPP_OK;
}

/* ---- XEP-0424 */
static const char retract_text[] =
    "This person attempted to retract a previous message, but it's unsupported by your client.";

int xmpp_retraction_add(xmpp_stanza *msg, const char *id) {
    xmpp_stanza *fb = NULL, *body = NULL;
    int rc;
    if (!is_message(msg) || !id_ok(id) || xmpp_stanza_child(msg, "retract", XMPP_NS_RETRACT))
        return XMPP_ERR_INVALID;
    if ((rc = add_ref(msg, "retract", XMPP_NS_RETRACT, id)) != XMPP_OK)
        return rc;
    /* XEP-0424 §3: fallback marker, fallback body, store hint */
    if ((rc = xmpp_stanza_add_child_new(msg, "fallback", XMPP_NS_FALLBACK, &fb)) != XMPP_OK ||
        (rc = xmpp_stanza_set_attr(fb, "for", XMPP_NS_RETRACT)) != XMPP_OK)
        return rc;
    if (xmpp_stanza_child(msg, "body", NULL) == NULL &&
        ((rc = xmpp_stanza_add_child_new(msg, "body", NULL, &body)) != XMPP_OK ||
         (rc = xmpp_stanza_add_text(body, retract_text, strlen(retract_text))) != XMPP_OK))
        return rc;
    return add_store_hint(msg);
}

int xmpp_retraction_get(const xmpp_stanza *msg, const char **id) {
    return get_ref(msg, "retract", XMPP_NS_RETRACT, "id", id);
}

/* ---- XEP-0444 */

/* Decodes one UTF-8 sequence strictly; returns its length or 0. */
static size_t utf8_next(const unsigned char *p, size_t n, uint32_t *cp) {
    uint32_t c;
    size_t len, i;
    if (n == 0)
        return 0;
    if (p[0] < 0x80) {
        *cp = p[0];
        return 1;
    }
    if (p[0] >= 0xC2 && p[0] <= 0xDF)
        len = 2, c = p[0] & 0x1F;
    else if (p[0] >= 0xE0 && p[0] <= 0xEF)
        len = 3, c = p[0] & 0x0F;
    else if (p[0] >= 0xF0 && p[0] <= 0xF4)
        len = 4, c = p[0] & 0x07;
    else
        return 0;
    if (n < len)
        return 0;
    for (i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (p[i] & 0x3F);
    }
    if ((len == 3 && (c < 0x800 || (c >= 0xD800 && c <= 0xDFFF))) ||
        (len == 4 && (c < 0x10000 || c > 0x10FFFF)))
        return 0;
    *cp = c;
    return len;
}

int xmpp_reaction_valid(const char *reaction) {
    const unsigned char *p = (const unsigned char *)reaction;
    size_t n = reaction ? strlen(reaction) : 0, k, cps = 0;
    int wide = 0, keycap = 0; /* keycap: 1 after a base, 2 after base + U+FE0F */
    uint32_t c;
    if (n == 0 || n > XMPP_REACTION_MAX_BYTES)
        return 0;
    while (n) {
        if ((k = utf8_next(p, n, &c)) == 0 || ++cps > 16)
            return 0;
        if (keycap && c != 0x20E3 && !(keycap == 1 && c == 0xFE0F))
            return 0; /* an ASCII base must become a keycap */
        if (c < 0x80) {
            if (!((c >= '0' && c <= '9') || c == '#' || c == '*'))
                return 0;
            keycap = 1;
        } else if (c < 0xA0 || c == 0xAD || (c >= 0x2000 && c <= 0x200C) ||
                   (c >= 0x200E && c <= 0x206F) || c == 0x3000 || c == 0xFEFF ||
                   (c >= 0xFFF0 && c <= 0xFFFF) || (c >= 0xE000 && c <= 0xF8FF)) {
            return 0; /* controls, spaces, format characters, private use */
        } else if (c == 0xFE0F && keycap == 1) {
            keycap = 2;
        } else if (c == 0x20E3 && keycap) {
            keycap = 0;
            wide = 1; /* keycap sequence */
        } else if (c != 0x200D && c != 0xFE0E && c != 0xFE0F && c != 0x20E3) {
            wide = 1;
        }
        p += k;
        n -= k;
    }
    return wide && !keycap;
}

int xmpp_reactions_add(xmpp_stanza *msg, const char *id, const char *const *reactions, size_t n) {
    xmpp_stanza *rs = NULL, *r = NULL;
    size_t i, j;
    int rc;
    if (!is_message(msg) || !id_ok(id) || (n && reactions == NULL) ||
        xmpp_stanza_child(msg, "reactions", XMPP_NS_REACTIONS))
        return XMPP_ERR_INVALID;
    if (n > XMPP_REACTIONS_MAX)
        return XMPP_ERR_LIMIT;
    for (i = 0; i < n; i++) {
        if (!xmpp_reaction_valid(reactions[i]))
            return XMPP_ERR_INVALID;
        for (j = 0; j < i; j++)
            if (strcmp(reactions[i], reactions[j]) == 0)
                return XMPP_ERR_INVALID;
    }
    if ((rc = add_ref(msg, "reactions", XMPP_NS_REACTIONS, id)) != XMPP_OK)
        return rc;
    rs = xmpp_stanza_child(msg, "reactions", XMPP_NS_REACTIONS);
    for (i = 0; i < n; i++)
        if ((rc = xmpp_stanza_add_child_new(rs, "reaction", NULL, &r)) != XMPP_OK ||
            (rc = xmpp_stanza_add_text(r, reactions[i], strlen(reactions[i]))) != XMPP_OK) {
            xmpp_stanza_remove_child(msg, rs);
            return rc;
        }
    return add_store_hint(msg);
}

int xmpp_reactions_get(const xmpp_stanza *msg, xmpp_reactions *out) {
    xmpp_stanza *rs, *r;
    size_t n = 0, j;
    int k;
    if (!is_message(msg) || out == NULL)
        return XMPP_ERR_INVALID;
    k = only_child(msg, "reactions", XMPP_NS_REACTIONS, &rs);
    if (k == 0)
        return XMPP_ERR_NOT_FOUND;
    if (k < 0 || !id_ok(xmpp_stanza_attr(rs, "id")))
        return XMPP_ERR_INVALID;
    memset(out, 0, sizeof(*out));
    for (r = xmpp_stanza_child(rs, "reaction", XMPP_NS_REACTIONS); r;
         r = xmpp_stanza_next_match(r, "reaction", XMPP_NS_REACTIONS)) {
        xmpp_stanza *t = xmpp_stanza_first_child(r);
        const char *text;
        if (n == XMPP_REACTIONS_MAX)
            return XMPP_ERR_LIMIT;
        /* exactly one text node */
        if (t == NULL || !xmpp_stanza_is_text(t) || xmpp_stanza_next(t) != NULL)
            return XMPP_ERR_INVALID;
        text = xmpp_stanza_text_ptr(t);
        if (!xmpp_reaction_valid(text))
            return XMPP_ERR_INVALID;
        for (j = 0; j < n; j++)
            if (strcmp(out->reactions[j], text) == 0)
                return XMPP_ERR_INVALID;
        out->reactions[n++] = text;
    }
    out->count = n;
    out->id = xmpp_stanza_attr(rs, "id");
    return XMPP_OK;
}

/* ---- XEP-0461 and XEP-0428 */

/* The number of code points of valid UTF-8 text. */
static size_t cp_count(const char *s, size_t n) {
    size_t i, c = 0;
    for (i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            c++;
    return c;
}

/* The byte offset of code point @p cp in s[0..n). */
static size_t cp_offset(const char *s, size_t n, size_t cp) {
    size_t i, c = 0;
    for (i = 0; i < n; i++) {
        if (((unsigned char)s[i] & 0xC0) != 0x80) {
            if (c == cp)
                return i;
            c++;
        }
    }
    return n;
}

int xmpp_reply_add(xmpp_stanza *msg, const char *to, const char *id, const char *quote) {
    xmpp_ctx *ctx;
    xmpp_stanza *rp = NULL, *body, *fb = NULL, *fbb = NULL;
    xmpp_jid *j = NULL;
    char *old = NULL, *text = NULL, num[24];
    size_t qn, olen = 0, lines = 1, i, o, pre;
    int rc;
    if (!is_message(msg) || !id_ok(id) || xmpp_stanza_child(msg, "reply", XMPP_NS_REPLY))
        return XMPP_ERR_INVALID;
    ctx = xmpp_stanza_ctx(msg);
    if (to) {
        if (xmpp_jid_parse(&j, ctx, to) != XMPP_OK)
            return XMPP_ERR_INVALID;
        xmpp_jid_free(j);
    }
    body = xmpp_stanza_child(msg, "body", NULL);
    if (quote) {
        qn = strlen(quote);
        if (qn > 4096)
            return XMPP_ERR_LIMIT;
        if (qn == 0 || body == NULL || !xmpp__xml_text_ok(quote, qn))
            return XMPP_ERR_INVALID;
        if ((rc = xmpp_stanza_text(body, &old, &olen)) != XMPP_OK)
            return rc;
        for (i = 0; i < qn; i++)
            lines += quote[i] == '\n';
        /* "> " before each line, "\n" after the last: XEP-0461 §4 */
        text = xmpp__malloc(ctx, qn + 2 * lines + 1 + olen + 1);
        if (text == NULL) {
            xmpp_free(ctx, old);
            return XMPP_ERR_NOMEM;
        }
        o = 0;
        text[o++] = '>';
        text[o++] = ' ';
        for (i = 0; i < qn; i++) {
            text[o++] = quote[i];
            if (quote[i] == '\n') {
                text[o++] = '>';
                text[o++] = ' ';
            }
        }
        text[o++] = '\n';
        pre = o;
        memcpy(text + o, old, olen);
        o += olen;
        text[o] = '\0';
        xmpp_free(ctx, old);
        rc = xmpp_stanza_set_text(body, text, o);
        if (rc == XMPP_OK)
            rc = xmpp_stanza_add_child_new(msg, "fallback", XMPP_NS_FALLBACK, &fb);
        if (rc == XMPP_OK)
            rc = xmpp_stanza_set_attr(fb, "for", XMPP_NS_REPLY);
        if (rc == XMPP_OK)
            rc = xmpp_stanza_add_child_new(fb, "body", NULL, &fbb);
        if (rc == XMPP_OK)
            rc = xmpp_stanza_set_attr(fbb, "start", "0");
        snprintf(num, sizeof(num), "%lu", (unsigned long)cp_count(text, pre));
        if (rc == XMPP_OK)
            rc = xmpp_stanza_set_attr(fbb, "end", num);
        xmpp_free(ctx, text);
        if (rc != XMPP_OK)
            return rc;
    }
    if ((rc = xmpp_stanza_add_child_new(msg, "reply", XMPP_NS_REPLY, &rp)) != XMPP_OK ||
        (to && (rc = xmpp_stanza_set_attr(rp, "to", to)) != XMPP_OK) ||
        (rc = xmpp_stanza_set_attr(rp, "id", id)) != XMPP_OK)
        return rc;
    return XMPP_OK;
}

int xmpp_reply_get(const xmpp_stanza *msg, xmpp_reply *out) {
    xmpp_stanza *rp;
    xmpp_jid *j = NULL;
    const char *to;
    int n;
    if (!is_message(msg) || out == NULL)
        return XMPP_ERR_INVALID;
    n = only_child(msg, "reply", XMPP_NS_REPLY, &rp);
    if (n == 0)
        return XMPP_ERR_NOT_FOUND;
    if (n < 0 || !id_ok(xmpp_stanza_attr(rp, "id")))
        return XMPP_ERR_INVALID;
    to = xmpp_stanza_attr(rp, "to");
    if (to) {
        if (xmpp_jid_parse(&j, xmpp_stanza_ctx(msg), to) != XMPP_OK)
            return XMPP_ERR_INVALID;
        xmpp_jid_free(j);
    }
    out->to = to;
    out->id = xmpp_stanza_attr(rp, "id");
    return XMPP_OK;
}

/* A decimal attribute 0..2^31-1. */
static int attr_num(const xmpp_stanza *st, const char *name, size_t *out) {
    const char *v = xmpp_stanza_attr(st, name);
    size_t n = 0, i, len = v ? strlen(v) : 0;
    if (len == 0 || len > 10)
        return 0;
    for (i = 0; i < len; i++) {
        if (v[i] < '0' || v[i] > '9')
            return 0;
        n = n * 10 + (size_t)(v[i] - '0');
    }
    if (n > 2147483647u)
        return 0;
    *out = n;
    return 1;
}

#define MAX_RANGES 16

int xmpp_fallback_strip(const xmpp_stanza *msg, const char *for_ns, char **out) {
    xmpp_ctx *ctx;
    xmpp_stanza *body, *fb, *b;
    size_t starts[MAX_RANGES], ends[MAX_RANGES], nr = 0, blen, cps, i, o, last;
    char *text = NULL, *res;
    int rc;
    if (!is_message(msg) || for_ns == NULL || out == NULL)
        return XMPP_ERR_INVALID;
    ctx = xmpp_stanza_ctx(msg);
    if ((body = xmpp_stanza_child(msg, "body", NULL)) == NULL)
        return XMPP_ERR_NOT_FOUND;
    if ((rc = xmpp_stanza_text(body, &text, &blen)) != XMPP_OK)
        return rc;
    cps = cp_count(text, blen);
    for (fb = xmpp_stanza_child(msg, "fallback", XMPP_NS_FALLBACK); fb;
         fb = xmpp_stanza_next_match(fb, "fallback", XMPP_NS_FALLBACK)) {
        const char *f = xmpp_stanza_attr(fb, "for");
        if (f == NULL || strcmp(f, for_ns) != 0)
            continue;
        b = xmpp_stanza_child(fb, "body", XMPP_NS_FALLBACK);
        if (b == NULL) { /* XEP-0428 §4: the whole body */
            if (nr == MAX_RANGES)
                goto invalid;
            starts[nr] = 0;
            ends[nr++] = cps;
            continue;
        }
        for (; b; b = xmpp_stanza_next_match(b, "body", XMPP_NS_FALLBACK)) {
            if (nr == MAX_RANGES || !attr_num(b, "start", &starts[nr]) ||
                !attr_num(b, "end", &ends[nr]) || starts[nr] > ends[nr] || ends[nr] > cps)
                goto invalid;
            nr++;
        }
    }
    /* ranges must be in order and must not overlap */
    for (i = 1; i < nr; i++)
        if (starts[i] < ends[i - 1])
            goto invalid;
    res = xmpp__malloc(ctx, blen + 1);
    if (res == NULL) {
        xmpp_free(ctx, text);
        return XMPP_ERR_NOMEM;
    }
    o = 0;
    last = 0;
    for (i = 0; i <= nr; i++) {
        size_t from = last, to = i < nr ? cp_offset(text, blen, starts[i]) : blen;
        memcpy(res + o, text + from, to - from);
        o += to - from;
        if (i < nr)
            last = cp_offset(text, blen, ends[i]);
    }
    res[o] = '\0';
    xmpp_free(ctx, text);
    *out = res;
    return XMPP_OK;
invalid:
    xmpp_free(ctx, text);
    return XMPP_ERR_INVALID;
}

/* ---- advertise-only plugins */
static const char *const f_chatstates[] = {XMPP_NS_CHATSTATES, NULL};
static const char *const f_correction[] = {XMPP_NS_CORRECTION, NULL};
static const char *const f_markers[] = {XMPP_NS_MARKERS, NULL};
static const char *const f_retract[] = {XMPP_NS_RETRACT, NULL};
static const char *const f_reactions[] = {XMPP_NS_REACTIONS, NULL};
static const char *const f_replies[] = {XMPP_NS_REPLY, NULL};
static const char *const im_deps[] = {"chatstates", "correction", "markers", "retraction",
                                      "reactions",  "replies",    NULL};

const xmpp_plugin_desc xmpp__plugin_chatstates = {
    XMPP_PLUGIN_ABI_VERSION, "chatstates", NULL, f_chatstates, NULL, 0, NULL, NULL, NULL};
const xmpp_plugin_desc xmpp__plugin_correction = {
    XMPP_PLUGIN_ABI_VERSION, "correction", NULL, f_correction, NULL, 0, NULL, NULL, NULL};
const xmpp_plugin_desc xmpp__plugin_markers = {
    XMPP_PLUGIN_ABI_VERSION, "markers", NULL, f_markers, NULL, 0, NULL, NULL, NULL};
const xmpp_plugin_desc xmpp__plugin_retraction = {
    XMPP_PLUGIN_ABI_VERSION, "retraction", NULL, f_retract, NULL, 0, NULL, NULL, NULL};
const xmpp_plugin_desc xmpp__plugin_reactions = {
    XMPP_PLUGIN_ABI_VERSION, "reactions", NULL, f_reactions, NULL, 0, NULL, NULL, NULL};
const xmpp_plugin_desc xmpp__plugin_replies = {
    XMPP_PLUGIN_ABI_VERSION, "replies", NULL, f_replies, NULL, 0, NULL, NULL, NULL};
const xmpp_plugin_desc xmpp__plugin_im = {
    XMPP_PLUGIN_ABI_VERSION, "im", im_deps, NULL, NULL, 0, NULL, NULL, NULL};
