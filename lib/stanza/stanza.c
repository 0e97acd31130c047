/* The element/text tree: creation, reference counting, attributes,
 * children, lookups and deep copy. */
#include "stanza/stanza_int.h"

#include <string.h>

#include "core/buf.h"

/* Element and attribute names are NCNames: prefixes are a serialisation
 * matter (XML 1.0 §2.3, Namespaces in XML §3). */
static int name_ok(const char *name) {
    return name != NULL && xmpp__xml_ncname_ok(name, strlen(name));
}

/* Namespace URIs: non-empty, valid text, and neither of the two reserved
 * names (Namespaces in XML §3: they must not be bound as a default). */
static int ns_ok(const char *ns) {
    return *ns != '\0' && xmpp__xml_text_ok(ns, strlen(ns)) &&
           strcmp(ns, XMPP_NS_XML) != 0 && strcmp(ns, "http://www.w3.org/2000/xmlns/") != 0;
}

/* Attribute names may carry the "xml:" prefix or a "{uri}" prefix; the
 * name "xmlns" is reserved for namespace declarations. */
static int attr_name_ok(const char *name) {
    if (name == NULL)
        return 0;
    if (name[0] == '{') {
        /* the URI may hold '}', the local name may not */
        const char *close = strrchr(name, '}');
        if (close == NULL || close == name + 1)
            return 0;
        size_t ul = (size_t)(close - name - 1);
        if (!xmpp__xml_text_ok(name + 1, ul) ||
            (ul == strlen(XMPP_NS_XML) && strncmp(name + 1, XMPP_NS_XML, ul) == 0) ||
            (ul == 29 && strncmp(name + 1, "http://www.w3.org/2000/xmlns/", ul) == 0))
            return 0;
        return name_ok(close + 1);
    }
    if (strncmp(name, "xml:", 4) == 0)
        return name_ok(name + 4);
    return strcmp(name, "xmlns") != 0 && name_ok(name);
}

static int str_ok(const char *s) {
    return s != NULL && xmpp__xml_text_ok(s, strlen(s));
}

int xmpp__stanza_new_element_n(xmpp_stanza **out, xmpp_ctx *ctx, const char *name,
                               size_t name_len, const char *ns, size_t ns_len,
                               const xmpp__attr_in *attrs, size_t nattrs) {
    size_t size, i;
    xmpp_stanza *st;
    char *p;

    /* One block: struct, attribute table, then all strings. Sizes are small
     * (bounded by the parser's limits), but check overflow anyway. */
    size = sizeof(*st);
    if (!xmpp__mul_ok(nattrs, sizeof(xmpp__attr)))
        return XMPP_ERR_NOMEM;
    size += nattrs * sizeof(xmpp__attr);
    size += name_len + 1;
    if (ns != NULL)
        size += ns_len + 1;
    for (i = 0; i < nattrs; i++) {
        size_t a = attrs[i].pre_len + attrs[i].name_len + attrs[i].value_len + 2;
        if (a > SIZE_MAX - size)
            return XMPP_ERR_NOMEM;
        size += a;
    }
    st = xmpp__malloc(ctx, size);
    if (st == NULL)
        return XMPP_ERR_NOMEM;
    memset(st, 0, sizeof(*st));
    st->ctx = ctx;
    st->refs = 1;
    st->attrs = (xmpp__attr *)(st + 1);
    st->nattrs = st->attrs_cap = nattrs;
    p = (char *)(st->attrs + nattrs);
    st->name = p;
    memcpy(p, name, name_len);
    p[name_len] = '\0';
    p += name_len + 1;
    if (ns != NULL) {
        st->ns = p;
        memcpy(p, ns, ns_len);
        p[ns_len] = '\0';
        p += ns_len + 1;
    }
    for (i = 0; i < nattrs; i++) {
        st->attrs[i].name = p;
        memcpy(p, attrs[i].pre, attrs[i].pre_len);
        memcpy(p + attrs[i].pre_len, attrs[i].name, attrs[i].name_len);
        p += attrs[i].pre_len + attrs[i].name_len;
        *p++ = '\0';
        st->attrs[i].value = p;
        memcpy(p, attrs[i].value, attrs[i].value_len);
        p += attrs[i].value_len;
        *p++ = '\0';
    }
    if (nattrs == 0)
        st->attrs = NULL;
    *out = st;
    return XMPP_OK;
}

int xmpp__stanza_new_text_n(xmpp_stanza **out, xmpp_ctx *ctx, const char *text,
                            size_t len) {
    xmpp_stanza *st;
    if (len > SIZE_MAX - sizeof(*st) - 1)
        return XMPP_ERR_NOMEM;
    st = xmpp__malloc(ctx, sizeof(*st) + len + 1);
    if (st == NULL)
        return XMPP_ERR_NOMEM;
    memset(st, 0, sizeof(*st));
    st->ctx = ctx;
    st->refs = 1;
    st->flags = XMPP__F_TEXT;
    st->text = (char *)(st + 1);
    memcpy(st->text, text, len);
    st->text[len] = '\0';
    st->text_len = len;
    *out = st;
    return XMPP_OK;
}

void xmpp__stanza_append(xmpp_stanza *parent, xmpp_stanza *child) {
    child->parent = parent;
    child->next = NULL;
    if (parent->last != NULL)
        parent->last->next = child;
    else
        parent->first = child;
    parent->last = child;
}

int xmpp_stanza_new(xmpp_stanza **out, xmpp_ctx *ctx, const char *name, const char *ns) {
    if (out == NULL)
        return XMPP_ERR_INVALID;
    *out = NULL;
    if (ctx == NULL || !name_ok(name))
        return XMPP_ERR_INVALID;
    if (ns != NULL && !ns_ok(ns))
        return XMPP_ERR_INVALID;
    return xmpp__stanza_new_element_n(out, ctx, name, strlen(name), ns,
                                      ns ? strlen(ns) : 0, NULL, 0);
}

int xmpp_stanza_new_text(xmpp_stanza **out, xmpp_ctx *ctx, const char *text, size_t len) {
    if (out == NULL)
        return XMPP_ERR_INVALID;
    *out = NULL;
    if (ctx == NULL || (text == NULL && len != 0))
        return XMPP_ERR_INVALID;
    if (len != 0 && !xmpp__xml_text_ok(text, len))
        return XMPP_ERR_UTF8;
    return xmpp__stanza_new_text_n(out, ctx, len ? text : "", len);
}

xmpp_stanza *xmpp_stanza_ref(xmpp_stanza *st) {
    if (st != NULL)
        st->refs++;
    return st;
}

static void free_attrs(xmpp_stanza *st) {
    size_t i;
    if (!(st->flags & XMPP__F_ATTRS_HEAP))
        return;
    for (i = 0; i < st->nattrs; i++) {
        xmpp__free(st->ctx, st->attrs[i].name);
        xmpp__free(st->ctx, st->attrs[i].value);
    }
    xmpp__free(st->ctx, st->attrs);
}

static void free_node(xmpp_stanza *st) {
    const xmpp_ctx *ctx = st->ctx;
    free_attrs(st);
    if (st->flags & XMPP__F_NAME_HEAP)
        xmpp__free(ctx, st->name);
    if (st->flags & XMPP__F_NS_HEAP)
        xmpp__free(ctx, st->ns);
    xmpp__free(ctx, st);
}

/* Iterative teardown: a deep tree must not exhaust the C stack. Children
 * whose count drops to zero are threaded onto a work list through their
 * `next` field (they are detached, so nothing else reads it). */
void xmpp_stanza_unref(xmpp_stanza *st) {
    xmpp_stanza *work;
    if (st == NULL)
        return;
    if (--st->refs > 0)
        return;
    st->next = NULL;
    work = st;
    while (work != NULL) {
        xmpp_stanza *node = work, *c, *cn;
        work = work->next;
        for (c = node->first; c != NULL; c = cn) {
            cn = c->next;
            c->parent = NULL;
            if (--c->refs == 0) {
                c->next = work;
                work = c;
            } else {
                c->next = NULL;
            }
        }
        free_node(node);
    }
}

xmpp_ctx *xmpp_stanza_ctx(const xmpp_stanza *st) {
    return st ? st->ctx : NULL;
}

int xmpp_stanza_is_text(const xmpp_stanza *st) {
    return st != NULL && (st->flags & XMPP__F_TEXT) != 0;
}

const char *xmpp_stanza_name(const xmpp_stanza *st) {
    return st ? st->name : NULL;
}

const char *xmpp_stanza_ns(const xmpp_stanza *st) {
    return st ? st->ns : NULL;
}

static int replace_string(xmpp_stanza *st, char **field, unsigned heap_flag,
                          const char *value) {
    char *copy = NULL;
    if (value != NULL) {
        copy = xmpp__strdup(st->ctx, value);
        if (copy == NULL)
            return XMPP_ERR_NOMEM;
    }
    if (st->flags & heap_flag)
        xmpp__free(st->ctx, *field);
    *field = copy;
    st->flags |= heap_flag;
    return XMPP_OK;
}

int xmpp_stanza_set_name(xmpp_stanza *st, const char *name) {
    if (st == NULL)
        return XMPP_ERR_INVALID;
    if (st->flags & XMPP__F_TEXT)
        return XMPP_ERR_NOT_TEXT;
    if (!name_ok(name))
        return XMPP_ERR_INVALID;
    return replace_string(st, &st->name, XMPP__F_NAME_HEAP, name);
}

int xmpp_stanza_set_ns(xmpp_stanza *st, const char *ns) {
    if (st == NULL)
        return XMPP_ERR_INVALID;
    if (st->flags & XMPP__F_TEXT)
        return XMPP_ERR_NOT_TEXT;
    if (ns != NULL && !ns_ok(ns))
        return XMPP_ERR_INVALID;
    return replace_string(st, &st->ns, XMPP__F_NS_HEAP, ns);
}

static xmpp__attr *find_attr(const xmpp_stanza *st, const char *name) {
    size_t i;
    for (i = 0; i < st->nattrs; i++)
        if (strcmp(st->attrs[i].name, name) == 0)
            return &st->attrs[i];
    return NULL;
}

const char *xmpp_stanza_attr(const xmpp_stanza *st, const char *name) {
    xmpp__attr *a;
    if (st == NULL || name == NULL)
        return NULL;
    a = find_attr(st, name);
    return a ? a->value : NULL;
}

/* Moves the attribute table out of the node block so it can change. */
static int attrs_to_heap(xmpp_stanza *st, size_t want) {
    xmpp__attr *tab;
    size_t i, cap = want < 4 ? 4 : want;
    if (!xmpp__mul_ok(cap, sizeof(*tab)))
        return XMPP_ERR_NOMEM;
    tab = xmpp__malloc(st->ctx, cap * sizeof(*tab));
    if (tab == NULL)
        return XMPP_ERR_NOMEM;
    for (i = 0; i < st->nattrs; i++) {
        tab[i].name = xmpp__strdup(st->ctx, st->attrs[i].name);
        tab[i].value = xmpp__strdup(st->ctx, st->attrs[i].value);
        if (tab[i].name == NULL || tab[i].value == NULL) {
            size_t j;
            for (j = 0; j <= i; j++) {
                xmpp__free(st->ctx, tab[j].name);
                xmpp__free(st->ctx, tab[j].value);
            }
            xmpp__free(st->ctx, tab);
            return XMPP_ERR_NOMEM;
        }
    }
    st->attrs = tab;
    st->attrs_cap = cap;
    st->flags |= XMPP__F_ATTRS_HEAP;
    return XMPP_OK;
}

int xmpp_stanza_set_attr(xmpp_stanza *st, const char *name, const char *value) {
    xmpp__attr *a;
    char *v, *n;
    int rc;
    if (st == NULL || name == NULL || value == NULL)
        return XMPP_ERR_INVALID;
    if (st->flags & XMPP__F_TEXT)
        return XMPP_ERR_NOT_TEXT;
    if (!attr_name_ok(name))
        return XMPP_ERR_INVALID;
    if (!str_ok(value))
        return XMPP_ERR_UTF8;
    if (!(st->flags & XMPP__F_ATTRS_HEAP) &&
        (rc = attrs_to_heap(st, st->nattrs + 1)) != XMPP_OK)
        return rc;
    v = xmpp__strdup(st->ctx, value);
    if (v == NULL)
        return XMPP_ERR_NOMEM;
    a = find_attr(st, name);
    if (a != NULL) {
        xmpp__free(st->ctx, a->value);
        a->value = v;
        return XMPP_OK;
    }
    if (st->nattrs == st->attrs_cap) {
        xmpp__attr *tab;
        size_t cap = st->attrs_cap * 2;
        if (!xmpp__mul_ok(cap, sizeof(*tab)) ||
            (tab = xmpp__realloc(st->ctx, st->attrs, cap * sizeof(*tab))) == NULL) {
            xmpp__free(st->ctx, v);
            return XMPP_ERR_NOMEM;
        }
        st->attrs = tab;
        st->attrs_cap = cap;
    }
    n = xmpp__strdup(st->ctx, name);
    if (n == NULL) {
        xmpp__free(st->ctx, v);
        return XMPP_ERR_NOMEM;
    }
    st->attrs[st->nattrs].name = n;
    st->attrs[st->nattrs].value = v;
    st->nattrs++;
    return XMPP_OK;
}

int xmpp_stanza_del_attr(xmpp_stanza *st, const char *name) {
    xmpp__attr *a;
    size_t idx;
    int rc;
    if (st == NULL || name == NULL)
        return XMPP_ERR_INVALID;
    a = find_attr(st, name);
    if (a == NULL)
        return XMPP_ERR_NOT_FOUND;
    idx = (size_t)(a - st->attrs);
    if (!(st->flags & XMPP__F_ATTRS_HEAP)) {
        if ((rc = attrs_to_heap(st, st->nattrs)) != XMPP_OK)
            return rc;
    }
    xmpp__free(st->ctx, st->attrs[idx].name);
    xmpp__free(st->ctx, st->attrs[idx].value);
    memmove(&st->attrs[idx], &st->attrs[idx + 1],
            (st->nattrs - idx - 1) * sizeof(st->attrs[0]));
    st->nattrs--;
    return XMPP_OK;
}

size_t xmpp_stanza_attr_count(const xmpp_stanza *st) {
    return st ? st->nattrs : 0;
}

int xmpp_stanza_attr_at(const xmpp_stanza *st, size_t i, const char **name,
                        const char **value) {
    if (st == NULL || i >= st->nattrs)
        return XMPP_ERR_NOT_FOUND;
    if (name)
        *name = st->attrs[i].name;
    if (value)
        *value = st->attrs[i].value;
    return XMPP_OK;
}

const char *xmpp_stanza_id(const xmpp_stanza *st) { return xmpp_stanza_attr(st, "id"); }
const char *xmpp_stanza_type(const xmpp_stanza *st) { return xmpp_stanza_attr(st, "type"); }
const char *xmpp_stanza_to(const xmpp_stanza *st) { return xmpp_stanza_attr(st, "to"); }
const char *xmpp_stanza_from(const xmpp_stanza *st) { return xmpp_stanza_attr(st, "from"); }

int xmpp_stanza_add_child(xmpp_stanza *parent, xmpp_stanza *child) {
    const xmpp_stanza *a;
    if (parent == NULL || child == NULL || (parent->flags & XMPP__F_TEXT) ||
        child->parent != NULL || child->ctx != parent->ctx)
        return XMPP_ERR_INVALID;
    for (a = parent; a != NULL; a = a->parent)
        if (a == child)
            return XMPP_ERR_INVALID; /* would make a cycle */
    xmpp_stanza_ref(child);
    xmpp__stanza_append(parent, child);
    return XMPP_OK;
}

int xmpp_stanza_add_text(xmpp_stanza *parent, const char *text, size_t len) {
    xmpp_stanza *t;
    int rc;
    if (parent == NULL || (parent->flags & XMPP__F_TEXT))
        return XMPP_ERR_INVALID;
    if ((rc = xmpp_stanza_new_text(&t, parent->ctx, text, len)) != XMPP_OK)
        return rc;
    xmpp__stanza_append(parent, t);
    return XMPP_OK;
}

int xmpp_stanza_add_child_new(xmpp_stanza *parent, const char *name, const char *ns,
                              xmpp_stanza **child) {
    xmpp_stanza *c;
    int rc;
    if (child)
        *child = NULL;
    if (parent == NULL || (parent->flags & XMPP__F_TEXT))
        return XMPP_ERR_INVALID;
    if ((rc = xmpp_stanza_new(&c, parent->ctx, name, ns)) != XMPP_OK)
        return rc;
    xmpp__stanza_append(parent, c);
    if (child)
        *child = c;
    return XMPP_OK;
}

int xmpp_stanza_remove_child(xmpp_stanza *parent, xmpp_stanza *child) {
    xmpp_stanza *c, *prev = NULL;
    if (parent == NULL || child == NULL || child->parent != parent)
        return XMPP_ERR_INVALID;
    for (c = parent->first; c != NULL && c != child; c = c->next)
        prev = c;
    if (c == NULL)
        return XMPP_ERR_INVALID;
    if (prev)
        prev->next = child->next;
    else
        parent->first = child->next;
    if (parent->last == child)
        parent->last = prev;
    child->parent = NULL;
    child->next = NULL;
    xmpp_stanza_unref(child);
    return XMPP_OK;
}

xmpp_stanza *xmpp_stanza_parent(const xmpp_stanza *st) { return st ? st->parent : NULL; }
xmpp_stanza *xmpp_stanza_first_child(const xmpp_stanza *st) { return st ? st->first : NULL; }
xmpp_stanza *xmpp_stanza_next(const xmpp_stanza *st) { return st ? st->next : NULL; }

size_t xmpp_stanza_child_count(const xmpp_stanza *st) {
    size_t n = 0;
    const xmpp_stanza *c;
    for (c = st ? st->first : NULL; c != NULL; c = c->next)
        n++;
    return n;
}

/* The namespace an element is in: its own, or the nearest ancestor's. */
static const char *effective_ns(const xmpp_stanza *st) {
    for (; st != NULL; st = st->parent)
        if (st->ns != NULL)
            return st->ns;
    return NULL;
}

static int matches(const xmpp_stanza *c, const char *name, size_t name_len,
                   const char *ns, size_t ns_len) {
    const char *cns;
    if (c->flags & XMPP__F_TEXT)
        return 0;
    if (name != NULL && (strncmp(c->name, name, name_len) != 0 || c->name[name_len] != '\0'))
        return 0;
    if (ns == NULL)
        return 1;
    cns = effective_ns(c);
    return cns != NULL && strncmp(cns, ns, ns_len) == 0 && cns[ns_len] == '\0';
}

xmpp_stanza *xmpp_stanza_child(const xmpp_stanza *st, const char *name, const char *ns) {
    xmpp_stanza *c;
    size_t nl = name ? strlen(name) : 0, sl = ns ? strlen(ns) : 0;
    for (c = st ? st->first : NULL; c != NULL; c = c->next)
        if (matches(c, name, nl, ns, sl))
            return c;
    return NULL;
}

xmpp_stanza *xmpp_stanza_next_match(const xmpp_stanza *st, const char *name,
                                    const char *ns) {
    xmpp_stanza *c;
    size_t nl = name ? strlen(name) : 0, sl = ns ? strlen(ns) : 0;
    for (c = st ? st->next : NULL; c != NULL; c = c->next)
        if (matches(c, name, nl, ns, sl))
            return c;
    return NULL;
}

xmpp_stanza *xmpp_stanza_path(const xmpp_stanza *st, const char *path) {
    const xmpp_stanza *cur = st;
    const char *p = path;
    if (st == NULL || path == NULL)
        return NULL;
    while (*p != '\0' && cur != NULL) {
        const char *name, *ns = NULL, *end;
        size_t name_len, ns_len = 0;
        xmpp_stanza *c;
        if (*p == '{') { /* {ns}name */
            const char *close = strchr(p, '}');
            if (close == NULL)
                return NULL;
            ns = p + 1;
            ns_len = (size_t)(close - ns);
            name = close + 1;
            end = name + strcspn(name, "/");
            name_len = (size_t)(end - name);
        } else { /* name or name@ns (a namespace URI may contain '/') */
            const char *at;
            name = p;
            name_len = strcspn(p, "@/");
            at = p + name_len;
            if (*at == '@') {
                ns = at + 1;
                /* the namespace runs to the next '/' that starts a step:
                 * URIs contain '/', so take the longest prefix of the rest
                 * that is the effective namespace of some child. */
                end = NULL;
                for (c = cur->first; c != NULL; c = c->next) {
                    const char *cns = (c->flags & XMPP__F_TEXT) ? NULL : effective_ns(c);
                    size_t l = cns ? strlen(cns) : 0;
                    if (cns && strncmp(c->name, name, name_len) == 0 &&
                        c->name[name_len] == '\0' && strncmp(ns, cns, l) == 0 &&
                        (ns[l] == '\0' || ns[l] == '/')) {
                        end = ns + l;
                        break;
                    }
                }
                if (end == NULL)
                    return NULL;
                ns_len = (size_t)(end - ns);
            } else {
                end = at;
            }
        }
        if (name_len == 0)
            return NULL;
        for (c = cur->first; c != NULL; c = c->next)
            if (matches(c, name, name_len, ns, ns_len))
                break;
        cur = c;
        p = end;
        if (*p == '/')
            p++;
    }
    return (xmpp_stanza *)cur;
}

const char *xmpp_stanza_text_ptr(const xmpp_stanza *st) {
    return (st != NULL && (st->flags & XMPP__F_TEXT)) ? st->text : NULL;
}

int xmpp_stanza_text(const xmpp_stanza *st, char **out, size_t *len) {
    xmpp_buf b;
    const xmpp_stanza *c;
    if (out == NULL)
        return XMPP_ERR_INVALID;
    *out = NULL;
    if (st == NULL)
        return XMPP_ERR_INVALID;
    xmpp__buf_init(&b, st->ctx);
    if (st->flags & XMPP__F_TEXT) {
        xmpp__buf_append(&b, st->text, st->text_len);
    } else {
        for (c = st->first; c != NULL; c = c->next)
            if (c->flags & XMPP__F_TEXT)
                xmpp__buf_append(&b, c->text, c->text_len);
    }
    *out = xmpp__buf_steal(&b, len);
    return *out ? XMPP_OK : XMPP_ERR_NOMEM;
}

int xmpp_stanza_set_text(xmpp_stanza *st, const char *text, size_t len) {
    xmpp_stanza *t, *c, *cn;
    int rc;
    if (st == NULL || (st->flags & XMPP__F_TEXT))
        return XMPP_ERR_INVALID;
    if ((rc = xmpp_stanza_new_text(&t, st->ctx, text, len)) != XMPP_OK)
        return rc;
    for (c = st->first; c != NULL; c = cn) {
        cn = c->next;
        c->parent = NULL;
        c->next = NULL;
        xmpp_stanza_unref(c);
    }
    st->first = st->last = NULL;
    xmpp__stanza_append(st, t);
    return XMPP_OK;
}

/* Deep copy, iterative (pre-order with an explicit parent cursor) so depth
 * is not limited by the C stack. */
static int copy_node(const xmpp_stanza *src, xmpp_stanza **out) {
    if (src->flags & XMPP__F_TEXT)
        return xmpp__stanza_new_text_n(out, src->ctx, src->text, src->text_len);
    {
        xmpp__attr_in small[8], *in = small;
        size_t i;
        int rc;
        if (src->nattrs > 8) {
            if (!xmpp__mul_ok(src->nattrs, sizeof(*in)))
                return XMPP_ERR_NOMEM;
            in = xmpp__malloc(src->ctx, src->nattrs * sizeof(*in));
            if (in == NULL)
                return XMPP_ERR_NOMEM;
        }
        for (i = 0; i < src->nattrs; i++) {
            in[i].pre = "";
            in[i].pre_len = 0;
            in[i].name = src->attrs[i].name;
            in[i].name_len = strlen(src->attrs[i].name);
            in[i].value = src->attrs[i].value;
            in[i].value_len = strlen(src->attrs[i].value);
        }
        rc = xmpp__stanza_new_element_n(out, src->ctx, src->name, strlen(src->name),
                                        src->ns, src->ns ? strlen(src->ns) : 0, in,
                                        src->nattrs);
        if (in != small)
            xmpp__free(src->ctx, in);
        return rc;
    }
}

int xmpp_stanza_copy(xmpp_stanza **out, const xmpp_stanza *st) {
    xmpp_stanza *root, *dst;
    const xmpp_stanza *src;
    int rc;
    if (out == NULL)
        return XMPP_ERR_INVALID;
    *out = NULL;
    if (st == NULL)
        return XMPP_ERR_INVALID;
    if ((rc = copy_node(st, &root)) != XMPP_OK)
        return rc;
    src = st;
    dst = root;
    /* Walk the source; dst mirrors the current source node. */
    while (src != NULL) {
        if (src->first != NULL) {
            xmpp_stanza *c;
            if ((rc = copy_node(src->first, &c)) != XMPP_OK)
                goto fail;
            xmpp__stanza_append(dst, c);
            src = src->first;
            dst = c;
            continue;
        }
        while (src != st && src->next == NULL) {
            src = src->parent;
            dst = dst->parent;
        }
        if (src == st)
            break;
        {
            xmpp_stanza *c;
            if ((rc = copy_node(src->next, &c)) != XMPP_OK)
                goto fail;
            xmpp__stanza_append(dst->parent, c);
            src = src->next;
            dst = c;
        }
    }
    *out = root;
    return XMPP_OK;
fail:
    xmpp_stanza_unref(root);
    return rc;
}
