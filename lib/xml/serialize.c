/* Serialisation of a stanza tree into a growing buffer.
 *
 * Output form (stable, so that serialise → parse → serialise is
 * byte-identical): attributes in stored order inside double quotes; an
 * xmlns attribute written first where the element's namespace differs from
 * the one in scope; "{uri}local" attributes written with generated prefixes
 * declared on the same element; empty elements as <x/>; escaping of
 * & < > in text and & < " and the white-space characters TAB, LF, CR in
 * attribute values (XML 1.0 §3.3.3 would otherwise normalise them). */
#include "stanza/stanza_int.h"

#include <stdio.h>
#include <string.h>

#include "core/buf.h"

static void put_escaped(xmpp_buf *b, const char *s, size_t n, int attr) {
    size_t i, start = 0;
    for (i = 0; i < n; i++) {
        const char *rep;
        switch (s[i]) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = attr ? "&quot;" : NULL; break;
        case '\r': rep = "&#13;"; break;
        case '\t': rep = attr ? "&#9;" : NULL; break;
        case '\n': rep = attr ? "&#10;" : NULL; break;
        default: rep = NULL;
        }
        if (rep == NULL)
            continue;
        xmpp__buf_append(b, s + start, i - start);
        xmpp__buf_append_str(b, rep);
        start = i + 1;
    }
    xmpp__buf_append(b, s + start, n - start);
}

static void put_attr(xmpp_buf *b, const char *name, size_t nlen, const char *value) {
    xmpp__buf_append_char(b, ' ');
    xmpp__buf_append(b, name, nlen);
    xmpp__buf_append(b, "=\"", 2);
    put_escaped(b, value, strlen(value), 1);
    xmpp__buf_append_char(b, '"');
}

static void open_tag(xmpp_buf *b, const xmpp_stanza *st, const char *scope_ns) {
    size_t i;
    unsigned prefix_no = 0;
    xmpp__buf_append_char(b, '<');
    xmpp__buf_append_str(b, st->name);
    if (st->ns != NULL && (scope_ns == NULL || strcmp(st->ns, scope_ns) != 0))
        put_attr(b, "xmlns", 5, st->ns);
    for (i = 0; i < st->nattrs; i++) {
        const char *name = st->attrs[i].name;
        if (name[0] == '{') {
            const char *close = strrchr(name, '}'); /* the local name has none */
            char pfx[24], decl[32];
            int pl = snprintf(pfx, sizeof(pfx), "ns%u", prefix_no++);
            snprintf(decl, sizeof(decl), "xmlns:%s", pfx);
            /* xmlns:nsN="uri" nsN:local="value" */
            xmpp__buf_append_char(b, ' ');
            xmpp__buf_append_str(b, decl);
            xmpp__buf_append(b, "=\"", 2);
            put_escaped(b, name + 1, (size_t)(close - name - 1), 1);
            xmpp__buf_append_char(b, '"');
            xmpp__buf_append_char(b, ' ');
            xmpp__buf_append(b, pfx, (size_t)pl);
            xmpp__buf_append_char(b, ':');
            xmpp__buf_append_str(b, close + 1);
            xmpp__buf_append(b, "=\"", 2);
            put_escaped(b, st->attrs[i].value, strlen(st->attrs[i].value), 1);
            xmpp__buf_append_char(b, '"');
        } else {
            put_attr(b, name, strlen(name), st->attrs[i].value);
        }
    }
}

/* Empty text children serialise to nothing; such an element is written as
 * <x/> so that parsing it back gives the same bytes again. */
static int has_content(const xmpp_stanza *st) {
    const xmpp_stanza *c;
    for (c = st->first; c != NULL; c = c->next)
        if (!(c->flags & XMPP__F_TEXT) || c->text_len > 0)
            return 1;
    return 0;
}

/* Iterative walk, so deep trees do not exhaust the C stack. The namespace
 * in scope is kept on a stack of the open elements that set one, so the
 * walk stays linear however deep the tree is. */
static void serialize_tree(xmpp_buf *b, const xmpp_stanza *root, const char *context_ns) {
    const xmpp_stanza *st = root;
    xmpp_buf stack; /* const char * entries: scopes of open ns-setting elements */
    const char *scope = context_ns;
    if (root->flags & XMPP__F_TEXT) {
        put_escaped(b, root->text, root->text_len, 0);
        return;
    }
    xmpp__buf_init(&stack, b->ctx);
    for (;;) {
        if (st->flags & XMPP__F_TEXT) {
            put_escaped(b, st->text, st->text_len, 0);
        } else {
            open_tag(b, st, scope);
            if (has_content(st)) {
                xmpp__buf_append_char(b, '>');
                if (st->ns != NULL) {
                    /* remember the outer scope; children inherit ours */
                    if (xmpp__buf_append(&stack, (const char *)&scope, sizeof(scope)) != XMPP_OK) {
                        b->oom = 1;
                        break;
                    }
                    scope = st->ns;
                }
                st = st->first;
                continue;
            }
            xmpp__buf_append(b, "/>", 2);
        }
        /* climb while there is no next sibling, closing tags */
        while (st != root && st->next == NULL) {
            st = st->parent;
            xmpp__buf_append(b, "</", 2);
            xmpp__buf_append_str(b, st->name);
            xmpp__buf_append_char(b, '>');
            if (st->ns != NULL) {
                stack.len -= sizeof(scope);
                memcpy(&scope, stack.data + stack.len, sizeof(scope));
            }
        }
        if (st == root)
            break;
        st = st->next;
    }
    xmpp__buf_free(&stack);
}

int xmpp__stanza_serialize_buf(const xmpp_stanza *st, const char *context_ns, xmpp_buf *b);
int xmpp__stanza_serialize_buf(const xmpp_stanza *st, const char *context_ns, xmpp_buf *b) {
    serialize_tree(b, st, context_ns);
    return b->oom ? XMPP_ERR_NOMEM : XMPP_OK;
}

int xmpp_stanza_serialize(const xmpp_stanza *st, const char *context_ns, char **out,
                          size_t *len) {
    xmpp_buf b;
    if (out == NULL)
        return XMPP_ERR_INVALID;
    *out = NULL;
    if (st == NULL)
        return XMPP_ERR_INVALID;
    xmpp__buf_init(&b, st->ctx);
    serialize_tree(&b, st, context_ns);
    *out = xmpp__buf_steal(&b, len);
    return *out ? XMPP_OK : XMPP_ERR_NOMEM;
}
