/* XEP-0004 Data Forms: a strict, bounded parser, a small object model and
 * a serialiser. Uses only the public interface (plus the allocator). */
#include "core/internal.h"

#include <string.h>

#include <xmpp/jid.h>
#include <xmpp/stanza.h>
#include <xmpp/xep/forms.h>

struct form_opt {
    char *label;
    char *value;
};

struct form_field {
    char *var;
    char *label;
    char *desc;
    xmpp_form_field_type type;
    int required;
    char **values;
    size_t n_values;
    struct form_opt *opts;
    size_t n_opts;
};

struct xmpp_form {
    xmpp_ctx *ctx;
    xmpp_form_type type;
    char *title;
    char *instructions;
    struct form_field *fields;
    size_t n_fields;
};

static const char *const form_type_names[] = {"form", "submit", "cancel", "result"};
static const char *const field_type_names[] = {
    "text-single", "boolean",    "fixed",       "hidden",     "jid-multi",
    "jid-single",  "list-multi", "list-single", "text-multi", "text-private"};

const char *xmpp_form_field_type_name(xmpp_form_field_type t) {
    if ((unsigned)t >= sizeof(field_type_names) / sizeof(field_type_names[0]))
        return NULL;
    return field_type_names[t];
}

static int multi_valued(xmpp_form_field_type t) {
    return t == XMPP_FIELD_JID_MULTI || t == XMPP_FIELD_LIST_MULTI || t == XMPP_FIELD_TEXT_MULTI ||
           t == XMPP_FIELD_NONE;
}

/* A string we store: valid XML text, bounded. */
static int text_ok(const char *s) {
    size_t n;
    if (s == NULL)
        return XMPP_ERR_INVALID;
    n = strlen(s);
    if (n > XMPP_FORM_MAX_TEXT)
        return XMPP_ERR_LIMIT;
    if (!xmpp__xml_text_ok(s, n))
        return XMPP_ERR_UTF8;
    return XMPP_OK;
}

static int bool_value(const char *v, int *out) {
    if (strcmp(v, "1") == 0 || strcmp(v, "true") == 0)
        *out = 1;
    else if (strcmp(v, "0") == 0 || strcmp(v, "false") == 0)
        *out = 0;
    else
        return XMPP_ERR_INVALID;
    return XMPP_OK;
}

/* A value acceptable for a field type (XEP-0004 §3.3). */
static int value_ok(xmpp_ctx *ctx, xmpp_form_field_type t, const char *v) {
    int rc = text_ok(v), b;
    if (rc != XMPP_OK)
        return rc;
    if (t == XMPP_FIELD_BOOLEAN)
        return bool_value(v, &b);
    if (t == XMPP_FIELD_JID_SINGLE || t == XMPP_FIELD_JID_MULTI) {
        xmpp_jid *j = NULL;
        if (*v == '\0' && t == XMPP_FIELD_JID_SINGLE)
            return XMPP_OK; /* an empty default, as servers send */
        rc = xmpp_jid_parse(&j, ctx, v);
        xmpp_jid_free(j);
        if (rc == XMPP_ERR_NOMEM)
            return rc;
        return rc == XMPP_OK ? XMPP_OK : XMPP_ERR_INVALID;
    }
    return XMPP_OK;
}

static void field_clear(xmpp_ctx *ctx, struct form_field *fl) {
    size_t j;
    xmpp__free(ctx, fl->var);
    xmpp__free(ctx, fl->label);
    xmpp__free(ctx, fl->desc);
    for (j = 0; j < fl->n_values; j++)
        xmpp__free(ctx, fl->values[j]);
    xmpp__free(ctx, fl->values);
    for (j = 0; j < fl->n_opts; j++) {
        xmpp__free(ctx, fl->opts[j].label);
        xmpp__free(ctx, fl->opts[j].value);
    }
    xmpp__free(ctx, fl->opts);
    memset(fl, 0, sizeof(*fl));
}

void xmpp_form_free(xmpp_form *f) {
    size_t i;
    if (f == NULL)
        return;
    for (i = 0; i < f->n_fields; i++)
        field_clear(f->ctx, &f->fields[i]);
    xmpp__free(f->ctx, f->fields);
    xmpp__free(f->ctx, f->title);
    xmpp__free(f->ctx, f->instructions);
    xmpp__free(f->ctx, f);
}

int xmpp_form_new(xmpp_form **out, xmpp_ctx *ctx, xmpp_form_type type) {
    xmpp_form *f;
    if (out == NULL)
        return XMPP_ERR_INVALID;
    *out = NULL;
    if (ctx == NULL || (unsigned)type > XMPP_FORM_RESULT)
        return XMPP_ERR_INVALID;
    if ((f = xmpp__malloc(ctx, sizeof(*f))) == NULL)
        return XMPP_ERR_NOMEM;
    memset(f, 0, sizeof(*f));
    f->ctx = ctx;
    f->type = type;
    *out = f;
    return XMPP_OK;
}

static struct form_field *field_at(const xmpp_form *f, size_t i) {
    if (f == NULL || i >= f->n_fields)
        return NULL;
    return &f->fields[i];
}

int xmpp_form_field_index(const xmpp_form *f, const char *var) {
    size_t i;
    if (f == NULL || var == NULL)
        return XMPP_ERR_INVALID;
    for (i = 0; i < f->n_fields; i++)
        if (f->fields[i].var != NULL && strcmp(f->fields[i].var, var) == 0)
            return (int)i;
    return XMPP_ERR_NOT_FOUND;
}

int xmpp_form_add_field(xmpp_form *f, const char *var, xmpp_form_field_type type,
                        const char *label) {
    struct form_field *nf, *fl;
    int rc;
    if (f == NULL || (unsigned)type > XMPP_FIELD_NONE)
        return XMPP_ERR_INVALID;
    if (var == NULL && type != XMPP_FIELD_FIXED)
        return XMPP_ERR_INVALID; /* XEP-0004 §3.2: var required unless fixed */
    if (var != NULL) {
        if ((rc = text_ok(var)) != XMPP_OK)
            return rc;
        if (xmpp_form_field_index(f, var) >= 0)
            return XMPP_ERR_INVALID; /* §3.2: var unique */
    }
    if (label != NULL && (rc = text_ok(label)) != XMPP_OK)
        return rc;
    if (f->n_fields >= XMPP_FORM_MAX_FIELDS)
        return XMPP_ERR_LIMIT;
    nf = xmpp__realloc(f->ctx, f->fields, (f->n_fields + 1) * sizeof(*nf));
    if (nf == NULL)
        return XMPP_ERR_NOMEM;
    f->fields = nf;
    fl = &nf[f->n_fields];
    memset(fl, 0, sizeof(*fl));
    fl->type = type;
    if ((var != NULL && (fl->var = xmpp__strdup(f->ctx, var)) == NULL) ||
        (label != NULL && (fl->label = xmpp__strdup(f->ctx, label)) == NULL)) {
        field_clear(f->ctx, fl);
        return XMPP_ERR_NOMEM;
    }
    return (int)f->n_fields++;
}

static int field_push_value(xmpp_form *f, struct form_field *fl, const char *v) {
    char **nv;
    int rc;
    if ((rc = value_ok(f->ctx, fl->type, v)) != XMPP_OK)
        return rc;
    if (!multi_valued(fl->type) && fl->n_values >= 1)
        return XMPP_ERR_INVALID;
    if (fl->n_values >= XMPP_FORM_MAX_VALUES)
        return XMPP_ERR_LIMIT;
    nv = xmpp__realloc(f->ctx, fl->values, (fl->n_values + 1) * sizeof(*nv));
    if (nv == NULL)
        return XMPP_ERR_NOMEM;
    fl->values = nv;
    if ((nv[fl->n_values] = xmpp__strdup(f->ctx, v)) == NULL)
        return XMPP_ERR_NOMEM;
    fl->n_values++;
    return XMPP_OK;
}

int xmpp_form_add_option(xmpp_form *f, size_t i, const char *label, const char *value) {
    struct form_field *fl = field_at(f, i);
    struct form_opt *no;
    int rc;
    if (fl == NULL || value == NULL)
        return XMPP_ERR_INVALID;
    if ((rc = text_ok(value)) != XMPP_OK || (label && (rc = text_ok(label)) != XMPP_OK))
        return rc;
    if (fl->n_opts >= XMPP_FORM_MAX_VALUES)
        return XMPP_ERR_LIMIT;
    no = xmpp__realloc(f->ctx, fl->opts, (fl->n_opts + 1) * sizeof(*no));
    if (no == NULL)
        return XMPP_ERR_NOMEM;
    fl->opts = no;
    no = &no[fl->n_opts];
    no->label = label ? xmpp__strdup(f->ctx, label) : NULL;
    no->value = xmpp__strdup(f->ctx, value);
    if (no->value == NULL || (label && no->label == NULL)) {
        xmpp__free(f->ctx, no->label);
        xmpp__free(f->ctx, no->value);
        return XMPP_ERR_NOMEM;
    }
    fl->n_opts++;
    return XMPP_OK;
}

static int field_for_set(xmpp_form *f, const char *var, struct form_field **out) {
    int i;
    if (f == NULL || var == NULL)
        return XMPP_ERR_INVALID;
    i = xmpp_form_field_index(f, var);
    if (i == XMPP_ERR_NOT_FOUND)
        i = xmpp_form_add_field(
            f, var, f->type == XMPP_FORM_FORM ? XMPP_FIELD_TEXT_SINGLE : XMPP_FIELD_NONE, NULL);
    if (i < 0)
        return i;
    *out = &f->fields[i];
    if ((*out)->type == XMPP_FIELD_FIXED)
        return XMPP_ERR_INVALID;
    return XMPP_OK;
}

int xmpp_form_set(xmpp_form *f, const char *var, const char *value) {
    struct form_field *fl = NULL;
    size_t j;
    int rc;
    if (f == NULL || var == NULL)
        return XMPP_ERR_INVALID;
    if (value != NULL) {
        int i = xmpp_form_field_index(f, var);
        xmpp_form_field_type t = i >= 0 ? f->fields[i].type : XMPP_FIELD_TEXT_SINGLE;
        if ((rc = value_ok(f->ctx, t, value)) != XMPP_OK)
            return rc; /* checked before anything changes */
    }
    if ((rc = field_for_set(f, var, &fl)) != XMPP_OK)
        return rc;
    for (j = 0; j < fl->n_values; j++)
        xmpp__free(f->ctx, fl->values[j]);
    fl->n_values = 0;
    if (value == NULL)
        return XMPP_OK;
    return field_push_value(f, fl, value);
}

int xmpp_form_set_bool(xmpp_form *f, const char *var, int value) {
    return xmpp_form_set(f, var, value ? "1" : "0");
}

int xmpp_form_add_value(xmpp_form *f, const char *var, const char *value) {
    struct form_field *fl = NULL;
    int rc;
    if (value == NULL)
        return XMPP_ERR_INVALID;
    if ((rc = field_for_set(f, var, &fl)) != XMPP_OK)
        return rc;
    return field_push_value(f, fl, value);
}

/* ---- accessors ---------------------------------------------------------- */

xmpp_form_type xmpp_form_get_type(const xmpp_form *f) {
    return f ? f->type : XMPP_FORM_FORM;
}
const char *xmpp_form_title(const xmpp_form *f) {
    return f ? f->title : NULL;
}
const char *xmpp_form_instructions(const xmpp_form *f) {
    return f ? f->instructions : NULL;
}
int xmpp_form_set_title(xmpp_form *f, const char *title) {
    char *t = NULL;
    int rc;
    if (f == NULL)
        return XMPP_ERR_INVALID;
    if (title != NULL) {
        if ((rc = text_ok(title)) != XMPP_OK)
            return rc;
        if ((t = xmpp__strdup(f->ctx, title)) == NULL)
            return XMPP_ERR_NOMEM;
    }
    xmpp__free(f->ctx, f->title);
    f->title = t;
    return XMPP_OK;
}
const char *xmpp_form_form_type(const xmpp_form *f) {
    int i = xmpp_form_field_index(f, "FORM_TYPE");
    return i >= 0 ? xmpp_form_field_value(f, (size_t)i, 0) : NULL;
}
size_t xmpp_form_field_count(const xmpp_form *f) {
    return f ? f->n_fields : 0;
}
const char *xmpp_form_field_var(const xmpp_form *f, size_t i) {
    struct form_field *fl = field_at(f, i);
    return fl ? fl->var : NULL;
}
xmpp_form_field_type xmpp_form_field_type_at(const xmpp_form *f, size_t i) {
    struct form_field *fl = field_at(f, i);
    return fl ? fl->type : XMPP_FIELD_NONE;
}
const char *xmpp_form_field_label(const xmpp_form *f, size_t i) {
    struct form_field *fl = field_at(f, i);
    return fl ? fl->label : NULL;
}
const char *xmpp_form_field_desc(const xmpp_form *f, size_t i) {
    struct form_field *fl = field_at(f, i);
    return fl ? fl->desc : NULL;
}
int xmpp_form_field_required(const xmpp_form *f, size_t i) {
    struct form_field *fl = field_at(f, i);
    return fl ? fl->required : 0;
}
size_t xmpp_form_field_value_count(const xmpp_form *f, size_t i) {
    struct form_field *fl = field_at(f, i);
    return fl ? fl->n_values : 0;
}
const char *xmpp_form_field_value(const xmpp_form *f, size_t i, size_t j) {
    struct form_field *fl = field_at(f, i);
    return fl && j < fl->n_values ? fl->values[j] : NULL;
}
size_t xmpp_form_field_option_count(const xmpp_form *f, size_t i) {
    struct form_field *fl = field_at(f, i);
    return fl ? fl->n_opts : 0;
}
const char *xmpp_form_field_option(const xmpp_form *f, size_t i, size_t j, const char **label) {
    struct form_field *fl = field_at(f, i);
    if (label)
        *label = NULL;
    if (fl == NULL || j >= fl->n_opts)
        return NULL;
    if (label)
        *label = fl->opts[j].label;
    return fl->opts[j].value;
}
const char *xmpp_form_get(const xmpp_form *f, const char *var) {
    int i = xmpp_form_field_index(f, var);
    return i >= 0 ? xmpp_form_field_value(f, (size_t)i, 0) : NULL;
}
int xmpp_form_get_bool(const xmpp_form *f, const char *var, int *out) {
    const char *v = xmpp_form_get(f, var);
    if (out == NULL)
        return XMPP_ERR_INVALID;
    if (v == NULL)
        return XMPP_ERR_NOT_FOUND;
    return bool_value(v, out);
}

/* ---- parsing ------------------------------------------------------------ */

/* The text of an element, bounded and checked; *out owned by the caller. */
/* (allocated by the element's context: free with text_free) */
static int elem_text(xmpp_ctx *ctx, const xmpp_stanza *el, char **out) {
    size_t len = 0;
    int rc = xmpp_stanza_text(el, out, &len);
    (void)ctx;
    if (rc != XMPP_OK)
        return rc;
    if (len > XMPP_FORM_MAX_TEXT) {
        xmpp_free(xmpp_stanza_ctx(el), *out);
        *out = NULL;
        return XMPP_ERR_LIMIT;
    }
    return XMPP_OK;
}

static int parse_field(xmpp_form *f, const xmpp_stanza *el) {
    const char *tn = xmpp_stanza_attr(el, "type");
    const char *label = xmpp_stanza_attr(el, "label");
    xmpp_form_field_type t = XMPP_FIELD_NONE;
    struct form_field *fl;
    xmpp_stanza *c;
    char *txt = NULL;
    int i, rc;
    size_t k;
    if (tn != NULL) {
        for (k = 0; k < sizeof(field_type_names) / sizeof(field_type_names[0]); k++)
            if (strcmp(tn, field_type_names[k]) == 0)
                break;
        if (k == sizeof(field_type_names) / sizeof(field_type_names[0]))
            return XMPP_ERR_INVALID;
        t = (xmpp_form_field_type)k;
    } else if (f->type == XMPP_FORM_FORM) {
        t = XMPP_FIELD_TEXT_SINGLE; /* §3.3: the default type */
    }
    if ((i = xmpp_form_add_field(f, xmpp_stanza_attr(el, "var"), t, label)) < 0)
        return i;
    for (c = xmpp_stanza_child(el, NULL, XMPP_NS_DATA_FORMS); c != NULL;
         c = xmpp_stanza_next_match(c, NULL, XMPP_NS_DATA_FORMS)) {
        const char *n = xmpp_stanza_name(c);
        fl = &f->fields[i];
        if (strcmp(n, "value") == 0) {
            if ((rc = elem_text(f->ctx, c, &txt)) != XMPP_OK)
                return rc;
            rc = field_push_value(f, fl, txt);
            xmpp_free(xmpp_stanza_ctx(c), txt);
            if (rc != XMPP_OK)
                return rc;
        } else if (strcmp(n, "required") == 0) {
            fl->required = 1;
        } else if (strcmp(n, "desc") == 0) {
            if (fl->desc != NULL)
                return XMPP_ERR_INVALID;
            if ((rc = elem_text(f->ctx, c, &txt)) != XMPP_OK)
                return rc;
            fl->desc = xmpp__strdup(f->ctx, txt);
            xmpp_free(xmpp_stanza_ctx(c), txt);
            if (fl->desc == NULL)
                return XMPP_ERR_NOMEM;
        } else if (strcmp(n, "option") == 0) {
            xmpp_stanza *v = xmpp_stanza_child(c, "value", XMPP_NS_DATA_FORMS);
            if (t != XMPP_FIELD_LIST_SINGLE && t != XMPP_FIELD_LIST_MULTI)
                return XMPP_ERR_INVALID; /* §3.3: options only in lists */
            if (v == NULL || xmpp_stanza_next_match(v, "value", XMPP_NS_DATA_FORMS))
                return XMPP_ERR_INVALID; /* exactly one value per option */
            if ((rc = elem_text(f->ctx, v, &txt)) != XMPP_OK)
                return rc;
            rc = xmpp_form_add_option(f, (size_t)i, xmpp_stanza_attr(c, "label"), txt);
            xmpp_free(xmpp_stanza_ctx(v), txt);
            if (rc != XMPP_OK)
                return rc;
        } /* other children (media, validate) are ignored */
    }
    return XMPP_OK;
}

int xmpp_form_parse(xmpp_form **out, xmpp_ctx *ctx, const xmpp_stanza *x) {
    const char *tn, *ns;
    xmpp_form *f = NULL;
    xmpp_stanza *c;
    int rc;
    size_t k;
    if (out == NULL)
        return XMPP_ERR_INVALID;
    *out = NULL;
    if (ctx == NULL || x == NULL || xmpp_stanza_is_text(x))
        return XMPP_ERR_INVALID;
    ns = xmpp_stanza_ns(x);
    if (strcmp(xmpp_stanza_name(x), "x") != 0 || ns == NULL || strcmp(ns, XMPP_NS_DATA_FORMS) != 0)
        return XMPP_ERR_INVALID;
    if ((tn = xmpp_stanza_attr(x, "type")) == NULL)
        return XMPP_ERR_INVALID; /* §3.1: type is required */
    for (k = 0; k < 4; k++)
        if (strcmp(tn, form_type_names[k]) == 0)
            break;
    if (k == 4)
        return XMPP_ERR_INVALID;
    if ((rc = xmpp_form_new(&f, ctx, (xmpp_form_type)k)) != XMPP_OK)
        return rc;
    for (c = xmpp_stanza_child(x, NULL, XMPP_NS_DATA_FORMS); c != NULL;
         c = xmpp_stanza_next_match(c, NULL, XMPP_NS_DATA_FORMS)) {
        const char *n = xmpp_stanza_name(c);
        char *txt = NULL;
        rc = XMPP_OK;
        if (strcmp(n, "field") == 0) {
            rc = parse_field(f, c);
        } else if (strcmp(n, "title") == 0) {
            if (f->title != NULL)
                rc = XMPP_ERR_INVALID;
            else if ((rc = elem_text(ctx, c, &txt)) == XMPP_OK) {
                rc = xmpp_form_set_title(f, txt);
                xmpp_free(xmpp_stanza_ctx(c), txt);
            }
        } else if (strcmp(n, "instructions") == 0) {
            if ((rc = elem_text(ctx, c, &txt)) == XMPP_OK) {
                size_t ol = f->instructions ? strlen(f->instructions) : 0, nl = strlen(txt);
                char *ni;
                if (ol + 1 + nl > XMPP_FORM_MAX_TEXT)
                    rc = XMPP_ERR_LIMIT;
                else if ((ni = xmpp__realloc(ctx, f->instructions, ol + nl + 2)) == NULL)
                    rc = XMPP_ERR_NOMEM;
                else {
                    if (ol)
                        ni[ol++] = '\n';
                    memcpy(ni + ol, txt, nl + 1);
                    f->instructions = ni;
                }
                xmpp_free(xmpp_stanza_ctx(c), txt);
            }
        } /* reported/item tables and unknown children are skipped */
        if (rc != XMPP_OK) {
            xmpp_form_free(f);
            return rc;
        }
    }
    *out = f;
    return XMPP_OK;
}

int xmpp_form_parse_child(xmpp_form **out, xmpp_ctx *ctx, const xmpp_stanza *parent) {
    xmpp_stanza *x;
    if (out == NULL)
        return XMPP_ERR_INVALID;
    *out = NULL;
    if (parent == NULL)
        return XMPP_ERR_INVALID;
    if ((x = xmpp_stanza_child(parent, "x", XMPP_NS_DATA_FORMS)) == NULL)
        return XMPP_ERR_NOT_FOUND;
    return xmpp_form_parse(out, ctx, x);
}

/* ---- answering and serialising ------------------------------------------ */

int xmpp_form_submit_new(xmpp_form **out, const xmpp_form *form) {
    xmpp_form *s = NULL;
    size_t i, j;
    int rc;
    if (out == NULL)
        return XMPP_ERR_INVALID;
    *out = NULL;
    if (form == NULL)
        return XMPP_ERR_INVALID;
    if ((rc = xmpp_form_new(&s, form->ctx, XMPP_FORM_SUBMIT)) != XMPP_OK)
        return rc;
    for (i = 0; i < form->n_fields && rc >= 0; i++) {
        const struct form_field *fl = &form->fields[i];
        if (fl->var == NULL || fl->type == XMPP_FIELD_FIXED)
            continue;
        rc = xmpp_form_add_field(s, fl->var, fl->type, NULL);
        for (j = 0; rc >= 0 && j < fl->n_values; j++)
            rc = field_push_value(s, &s->fields[s->n_fields - 1], fl->values[j]);
    }
    if (rc < 0) {
        xmpp_form_free(s);
        return rc;
    }
    *out = s;
    return XMPP_OK;
}

int xmpp_form_check(const xmpp_form *submit, const xmpp_form *form, const char **bad_var) {
    size_t i, j, k;
    if (bad_var)
        *bad_var = NULL;
    if (submit == NULL || form == NULL)
        return XMPP_ERR_INVALID;
    for (i = 0; i < form->n_fields; i++) {
        const struct form_field *fl = &form->fields[i];
        int si;
        const struct form_field *sf;
        if (fl->var == NULL)
            continue;
        si = xmpp_form_field_index(submit, fl->var);
        sf = si >= 0 ? &submit->fields[si] : NULL;
        if (fl->required && (sf == NULL || sf->n_values == 0)) {
            if (bad_var)
                *bad_var = fl->var;
            return XMPP_ERR_NOT_FOUND;
        }
        if (sf == NULL || fl->n_opts == 0 ||
            (fl->type != XMPP_FIELD_LIST_SINGLE && fl->type != XMPP_FIELD_LIST_MULTI))
            continue;
        for (j = 0; j < sf->n_values; j++) {
            for (k = 0; k < fl->n_opts; k++)
                if (strcmp(sf->values[j], fl->opts[k].value) == 0)
                    break;
            if (k == fl->n_opts) {
                if (bad_var)
                    *bad_var = fl->var;
                return XMPP_ERR_INVALID;
            }
        }
    }
    return XMPP_OK;
}

static int add_text_child(xmpp_stanza *parent, const char *name, const char *text) {
    xmpp_stanza *c = NULL;
    int rc = xmpp_stanza_add_child_new(parent, name, NULL, &c);
    if (rc == XMPP_OK && text[0] != '\0')
        rc = xmpp_stanza_add_text(c, text, strlen(text));
    return rc;
}

static int field_to_stanza(const xmpp_form *f, const struct form_field *fl, xmpp_stanza *x) {
    xmpp_stanza *fe = NULL;
    const char *tn = xmpp_form_field_type_name(fl->type);
    size_t j;
    int rc = xmpp_stanza_add_child_new(x, "field", NULL, &fe);
    if (rc == XMPP_OK && fl->var)
        rc = xmpp_stanza_set_attr(fe, "var", fl->var);
    if (rc == XMPP_OK && tn)
        rc = xmpp_stanza_set_attr(fe, "type", tn);
    if (f->type != XMPP_FORM_SUBMIT) {
        if (rc == XMPP_OK && fl->label)
            rc = xmpp_stanza_set_attr(fe, "label", fl->label);
        if (rc == XMPP_OK && fl->desc)
            rc = add_text_child(fe, "desc", fl->desc);
        if (rc == XMPP_OK && fl->required)
            rc = xmpp_stanza_add_child_new(fe, "required", NULL, NULL);
    }
    for (j = 0; rc == XMPP_OK && j < fl->n_values; j++)
        rc = add_text_child(fe, "value", fl->values[j]);
    for (j = 0; rc == XMPP_OK && f->type != XMPP_FORM_SUBMIT && j < fl->n_opts; j++) {
        xmpp_stanza *o = NULL;
        rc = xmpp_stanza_add_child_new(fe, "option", NULL, &o);
        if (rc == XMPP_OK && fl->opts[j].label)
            rc = xmpp_stanza_set_attr(o, "label", fl->opts[j].label);
        if (rc == XMPP_OK)
            rc = add_text_child(o, "value", fl->opts[j].value);
    }
    return rc;
}

int xmpp_form_to_stanza(const xmpp_form *f, xmpp_ctx *ctx, xmpp_stanza **out) {
    xmpp_stanza *x = NULL;
    int ft, rc;
    size_t i;
    if (out == NULL)
        return XMPP_ERR_INVALID;
    *out = NULL;
    if (f == NULL || ctx == NULL)
        return XMPP_ERR_INVALID;
    if ((rc = xmpp_stanza_new(&x, ctx, "x", XMPP_NS_DATA_FORMS)) != XMPP_OK)
        return rc;
    rc = xmpp_stanza_set_attr(x, "type", form_type_names[f->type]);
    if (f->type != XMPP_FORM_SUBMIT && f->type != XMPP_FORM_CANCEL) {
        if (rc == XMPP_OK && f->title)
            rc = add_text_child(x, "title", f->title);
        if (rc == XMPP_OK && f->instructions)
            rc = add_text_child(x, "instructions", f->instructions);
    }
    /* XEP-0068 §3: FORM_TYPE first */
    ft = xmpp_form_field_index(f, "FORM_TYPE");
    if (rc == XMPP_OK && ft >= 0 && f->type != XMPP_FORM_CANCEL)
        rc = field_to_stanza(f, &f->fields[ft], x);
    for (i = 0; rc == XMPP_OK && f->type != XMPP_FORM_CANCEL && i < f->n_fields; i++)
        if ((int)i != ft)
            rc = field_to_stanza(f, &f->fields[i], x);
    if (rc != XMPP_OK) {
        xmpp_stanza_unref(x);
        return rc;
    }
    *out = x;
    return XMPP_OK;
}
