/* The XML stream parser: libxml2's SAX2 push parser turned into stream
 * header, stanza and stream end events.
 *
 * Layers, in the order bytes meet them:
 *   1. a prolog prescan (encoding policy, RFC 6120 §11.6), see prescan();
 *   2. libxml2, fed in sub-chunks of at most SUBCHUNK bytes that end at
 *      absolute stream offsets that are multiples of SUBCHUNK, so that the
 *      limit checks made between sub-chunks happen at the same stream
 *      positions however the caller splits its input;
 *   3. the SAX callbacks below, which enforce restricted XML (RFC 6120
 *      §11.1) and our limits, and build one tree per depth-1 element.
 *
 * After any error nothing more is delivered: callbacks record the condition
 * and disable libxml2's SAX, and the parser is stopped once xmlParseChunk()
 * has returned (xmlStopParser() frees the input buffer, which libxml2 may
 * still be reading inside an error report). The one exception is the
 * DOCTYPE callback, after which libxml2 checks for a stopped parser, so
 * that not even a declaration is parsed.
 *
 * Reset and feed are refused inside callbacks (XMPP_ERR_RECURSIVE); free
 * inside a callback is deferred to the end of the running feed().
 *
 * Memory: ours is bounded by max_stanza_bytes (the tree; tiny elements
 * cost ~100 bytes of node each) plus max_text (one text run); libxml2's by
 * the unparsed input (MAX_PENDING + SUBCHUNK) plus its name dictionary. */
#include "xml/parser.h"

#include <string.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlerror.h>

#include "core/buf.h"
#include "stanza/stanza_int.h"

/* libxml2 is fed at most this many bytes per xmlParseChunk() call. */
#define SUBCHUNK 4096
/* Bytes libxml2 may hold unparsed (an incomplete tag). libxml2 2.9 rescans
 * a pending tag on every push and checks duplicate attributes pairwise, so
 * a tag must stay small for byte-at-a-time input and attribute floods to
 * cost linear time (SECURITY.md RES-02, d.1 #10, #12). Checked at
 * SUBCHUNK-aligned offsets, so the pending amount never exceeds
 * MAX_PENDING + SUBCHUNK. */
#define MAX_PENDING (64 * 1024)
/* The XML declaration is read by the prescan; a longer one is refused. */
#define PROLOG_MAX 256
/* A text scratch buffer larger than this is released after each run. */
#define SCRATCH_KEEP (64 * 1024)

enum phase { PH_PROLOG, PH_HEADER, PH_STREAM, PH_ENDED };

struct xmpp_xml_parser {
    xmpp_ctx *ctx;
    xmpp_xml_callbacks cb;
    void *ud;
    xmpp_xml_limits lim;
    xmlParserCtxtPtr xc;

    enum phase phase;
    xmpp_stream_condition cond;
    const char *errtext;
    int err_rc; /* what feed() returns once cond is set */
    int in_cb;  /* > 0 while an application callback runs */
    int doomed; /* free() was called from a callback */

    /* prescan: the bytes of the prolog held until a decision */
    unsigned char pro[PROLOG_MAX];
    size_t pro_len;
    size_t bom; /* 3 when a UTF-8 BOM was skipped */

    /* tree building */
    size_t depth;     /* open elements, the root included */
    xmpp_stanza *cur; /* innermost open element below the root */
    xmpp_buf text;    /* the current text run */
    int text_cdata;   /* the run holds CDATA, which needs checking */
    xmpp_buf scratch; /* attribute prefixes and decoded values */
    xmpp__attr_in *ain;
    size_t ain_cap;

    /* Offsets in the bytes handed to libxml2. `bound` is where the last
     * depth-1 element (or the stream header) ended; `start` is the first
     * non-white-space byte after it, found by scanning the raw input
     * lazily (`scan` is how far we looked): a stanza's size is measured
     * from its '<' and does not count keepalive white space before it. */
    uint64_t fed;
    const char *sc; /* the sub-chunk being parsed */
    uint64_t sc_off;
    size_t sc_len;
    uint64_t bound, scan, start;
    int have_start;
    int skip_gt; /* the header's closing '>' comes before the stanza */
    const char *root_name, *root_ns; /* static: the root element required */
    uint64_t end_at; /* input offset just after the root's end tag */
};

/* ---- errors ------------------------------------------------------------ */

/* Records the first error and makes libxml2 deliver nothing more. */
static void halt(xmpp_xml_parser *p, xmpp_stream_condition cond, const char *text, int rc) {
    if (p->cond == XMPP_SC_NONE) {
        p->cond = cond;
        p->errtext = text;
        p->err_rc = rc;
    }
    if (p->xc != NULL)
        p->xc->disableSAX = 1;
}

static void nomem(xmpp_xml_parser *p) {
    halt(p, XMPP_SC_RESOURCE_CONSTRAINT, "out of memory", XMPP_ERR_NOMEM);
}

static void policy(xmpp_xml_parser *p, const char *text) {
    halt(p, XMPP_SC_POLICY_VIOLATION, text, XMPP_ERR_STREAM);
}

/* RFC 6120 §11.1: no comments, PIs, DTDs or entity references beyond the
 * five predefined ones and character references. */
static void restricted(xmpp_xml_parser *p, const char *text) {
    halt(p, XMPP_SC_RESTRICTED_XML, text, XMPP_ERR_STREAM);
}

static int blocked(const xmpp_xml_parser *p) {
    return p->cond != XMPP_SC_NONE || p->phase == PH_ENDED || p->doomed;
}

static int entity_error(int code) {
    switch (code) {
    case XML_ERR_UNDECLARED_ENTITY:
    case XML_WAR_UNDECLARED_ENTITY:
    case XML_ERR_UNPARSED_ENTITY:
    case XML_ERR_ENTITY_IS_EXTERNAL:
    case XML_ERR_ENTITY_IS_PARAMETER:
    case XML_ERR_ENTITY_LOOP:
    case XML_ERR_ENTITY_BOUNDARY:
    case XML_ERR_ENTITY_PE_INTERNAL:
    case XML_ERR_ENTITY_NOT_STARTED:
    case XML_ERR_ENTITY_NOT_FINISHED:
    case XML_ERR_PEREF_AT_EOF:
    case XML_ERR_PEREF_IN_PROLOG:
    case XML_ERR_PEREF_IN_EPILOG:
    case XML_ERR_PEREF_IN_INT_SUBSET:
    case XML_ERR_DOCTYPE_NOT_FINISHED:
    case XML_ERR_EXT_SUBSET_NOT_FINISHED:
    case XML_ERR_ENTITY_CHAR_ERROR:
    case XML_ERR_ENTITY_PROCESSING:
        return 1;
    default:
        return 0;
    }
}

/* A markup declaration ("<!DOCTYPE", "<!ENTITY", ...) inside the root is
 * reported by libxml2 as a generic content error; it is a DTD construct,
 * so report it as restricted XML. libxml2 keeps its input NUL-terminated,
 * so cur[1] is readable while cur < end. */
static int at_markup_decl(const xmpp_xml_parser *p) {
    const xmlParserInput *in = p->xc != NULL ? p->xc->input : NULL;
    if (in == NULL || in->cur == NULL || in->base == NULL || in->cur >= in->end)
        return 0;
    return (in->cur[0] == '<' && in->cur[1] == '!') ||
           (in->cur > in->base && in->cur[-1] == '<' && in->cur[0] == '!');
}

static void on_serror(void *ud, xmlErrorPtr e) {
    xmpp_xml_parser *p = ud;
    if (e == NULL || p->phase == PH_ENDED || p->cond != XMPP_SC_NONE)
        return; /* "Extra content" after </stream:stream> is not an error */
    if (e->code == XML_ERR_NO_MEMORY)
        nomem(p);
    else if (e->code == XML_NS_ERR_UNDEFINED_NAMESPACE)
        halt(p, XMPP_SC_BAD_NAMESPACE_PREFIX, "undeclared namespace prefix", XMPP_ERR_STREAM);
    else if (entity_error(e->code))
        restricted(p, "entity reference or declaration");
    else if (e->code == XML_ERR_UNSUPPORTED_ENCODING)
        halt(p, XMPP_SC_UNSUPPORTED_ENCODING, "encoding other than UTF-8", XMPP_ERR_STREAM);
    else if (e->level == XML_ERR_WARNING || e->code == XML_WAR_NS_URI ||
             e->code == XML_WAR_NS_URI_RELATIVE)
        return; /* a namespace name that is not a valid URI is still just a
                 * string to compare (Namespaces in XML §2.3); libxml2 files
                 * the invalid-URI case as an error, we do not */
    else if ((e->code == XML_ERR_NAME_REQUIRED || e->code == XML_ERR_INTERNAL_ERROR) &&
             at_markup_decl(p))
        restricted(p, "markup declaration");
    else
        halt(p, XMPP_SC_NOT_WELL_FORMED, "not well-formed", XMPP_ERR_STREAM);
}

/* libxml2's printf-style channels stay silent: everything goes to serror. */
static void on_silent(void *ud, const char *msg, ...) {
    (void)ud;
    (void)msg;
}

/* ---- restricted XML ---------------------------------------------------- */

static void on_comment(void *ud, const xmlChar *value) {
    (void)value;
    restricted(ud, "comment");
}

static void on_pi(void *ud, const xmlChar *target, const xmlChar *data) {
    (void)target;
    (void)data;
    restricted(ud, "processing instruction");
}

/* Stopped at once, so that libxml2 parses no declaration at all (XML-03):
 * it checks for a stopped parser right after this callback. */
static void on_subset(void *ud, const xmlChar *name, const xmlChar *eid, const xmlChar *sid) {
    xmpp_xml_parser *p = ud;
    (void)name;
    (void)eid;
    (void)sid;
    restricted(p, "DOCTYPE");
    xmlStopParser(p->xc);
}

static void on_entity_decl(void *ud, const xmlChar *name, int type, const xmlChar *pid,
                           const xmlChar *sid, xmlChar *content) {
    (void)name;
    (void)type;
    (void)pid;
    (void)sid;
    (void)content;
    restricted(ud, "entity declaration");
}

/* libxml2 asks only for entities other than the five predefined ones. */
static xmlEntityPtr on_get_entity(void *ud, const xmlChar *name) {
    (void)name;
    restricted(ud, "entity reference");
    return NULL;
}

static xmlParserInputPtr on_resolve(void *ud, const xmlChar *pid, const xmlChar *sid) {
    (void)pid;
    (void)sid;
    restricted(ud, "external entity");
    return NULL;
}

static void on_reference(void *ud, const xmlChar *name) {
    (void)name;
    restricted(ud, "entity reference");
}

static void on_notation(void *ud, const xmlChar *name, const xmlChar *pid, const xmlChar *sid) {
    (void)name;
    (void)pid;
    (void)sid;
    restricted(ud, "notation declaration");
}

static void on_unparsed(void *ud, const xmlChar *name, const xmlChar *pid, const xmlChar *sid,
                        const xmlChar *notation) {
    (void)name;
    (void)pid;
    (void)sid;
    (void)notation;
    restricted(ud, "entity declaration");
}

/* ---- offsets and size limits ------------------------------------------ */

static uint64_t consumed(const xmpp_xml_parser *p) {
    long n = xmlByteConsumed(p->xc);
    return n < 0 ? p->fed : (uint64_t)n;
}

static int is_ws(unsigned char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Finds the first byte of the next depth-1 element: the first
 * non-white-space byte after `bound` (after the header's '>' for the first
 * one). Only the current sub-chunk is still readable; the scan invariant
 * (all earlier bytes after `bound` were scanned) makes that enough. */
static void find_start(xmpp_xml_parser *p) {
    uint64_t end = p->sc_off + p->sc_len;
    uint64_t i = p->scan > p->bound ? p->scan : p->bound;
    if (p->have_start)
        return;
    if (i < p->sc_off) {
        /* libxml2 finished the previous element late; count from there */
        p->start = p->bound;
        p->have_start = 1;
        return;
    }
    for (; i < end; i++) {
        unsigned char c = (unsigned char)p->sc[i - p->sc_off];
        if (p->skip_gt) {
            p->skip_gt = c != '>';
        } else if (!is_ws(c)) {
            p->start = i;
            p->have_start = 1;
            break;
        }
    }
    p->scan = i;
}

/* RFC 6120 §13.12 (4): bounded stanza size. */
static int stanza_too_big(xmpp_xml_parser *p, uint64_t pos) {
    find_start(p);
    if (p->have_start && pos > p->start && pos - p->start > p->lim.max_stanza_bytes) {
        policy(p, "stanza too large");
        return 1;
    }
    return 0;
}

/* ---- text -------------------------------------------------------------- */

/* Appends to the text run. The buffer grows geometrically but never past
 * max_text + 1, so memory stays within the limit. */
static int text_append(xmpp_xml_parser *p, const char *s, size_t n) {
    xmpp_buf *b = &p->text;
    size_t need, cap;
    char *d;
    if (n > p->lim.max_text - b->len) {
        policy(p, "text too large");
        return -1;
    }
    need = b->len + n + 1;
    if (need > b->cap) {
        cap = b->cap < 256 ? 256 : b->cap;
        while (cap < need)
            cap = cap > SIZE_MAX / 2 ? need : cap * 2;
        if (cap > p->lim.max_text + 1)
            cap = p->lim.max_text + 1 > need ? p->lim.max_text + 1 : need;
        d = xmpp__realloc(p->ctx, b->data, cap);
        if (d == NULL) {
            nomem(p);
            return -1;
        }
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    return 0;
}

/* Ends the text run: one text node per run, whatever the callbacks' split
 * (XML-09). */
static int flush_text(xmpp_xml_parser *p) {
    xmpp_stanza *t;
    int cdata = p->text_cdata;
    p->text_cdata = 0;
    if (p->text.len == 0)
        return 0;
    if (cdata && !xmpp__xml_text_ok(p->text.data, p->text.len)) {
        halt(p, XMPP_SC_NOT_WELL_FORMED, "invalid UTF-8 in CDATA", XMPP_ERR_STREAM);
        return -1;
    }
    if (xmpp__stanza_new_text_n(&t, p->ctx, p->text.data, p->text.len) != XMPP_OK) {
        nomem(p);
        return -1;
    }
    xmpp__stanza_append(p->cur, t);
    p->text.len = 0;
    if (p->text.cap > SCRATCH_KEEP) {
        xmpp__free(p->ctx, p->text.data);
        xmpp__buf_init(&p->text, p->ctx);
    }
    return 0;
}

static void on_chars(void *ud, const xmlChar *ch, int len) {
    xmpp_xml_parser *p = ud;
    size_t i, n = len > 0 ? (size_t)len : 0;
    if (blocked(p))
        return;
    if (p->depth <= 1) {
        /* Between stanzas only white space (keepalives, RFC 6120 §4.6.1)
         * may appear; other text there has no place in the stream format,
         * so it is reported as bad-format. */
        for (i = 0; i < n; i++)
            if (!is_ws(ch[i])) {
                halt(p, XMPP_SC_BAD_FORMAT, "text between stanzas", XMPP_ERR_STREAM);
                return;
            }
        return;
    }
    if (stanza_too_big(p, consumed(p)))
        return;
    text_append(p, (const char *)ch, n);
}

/* libxml2 2.9's push parser checks CDATA sections only loosely: overlong
 * UTF-8 forms pass. Runs holding CDATA are validated when they end. */
static void on_cdata(void *ud, const xmlChar *ch, int len) {
    xmpp_xml_parser *p = ud;
    if (!blocked(p) && p->depth > 1)
        p->text_cdata = 1;
    on_chars(ud, ch, len);
}

/* ---- elements ---------------------------------------------------------- */

static int ensure_ain(xmpp_xml_parser *p, size_t n) {
    xmpp__attr_in *a;
    size_t cap;
    if (n <= p->ain_cap)
        return 0;
    cap = p->ain_cap ? p->ain_cap : 8;
    while (cap < n)
        cap *= 2;
    if (!xmpp__mul_ok(cap, sizeof(*a)))
        return -1;
    a = xmpp__realloc(p->ctx, p->ain, cap * sizeof(*a));
    if (a == NULL)
        return -1;
    p->ain = a;
    p->ain_cap = cap;
    return 0;
}

/* With entity substitution off, libxml2 2.9 hands '&' in attribute values
 * (from "&amp;" or "&#38;") back as the five characters "&#38;"; no other
 * '&' can occur. Decodes into the scratch buffer, which has room. */
static void put_value(xmpp_buf *b, const char *v, size_t n) {
    const char *amp;
    while ((amp = memchr(v, '&', n)) != NULL) {
        size_t k = (size_t)(amp - v);
        xmpp__buf_append(b, v, k + 1);
        k += n - k >= 5 && memcmp(amp, "&#38;", 5) == 0 ? 5 : 1;
        v += k;
        n -= k;
    }
    xmpp__buf_append(b, v, n);
}

static int is_xml_prefix(const xmlChar *prefix) {
    return prefix != NULL && strcmp((const char *)prefix, "xml") == 0;
}

/* Fills p->ain from libxml2's attribute 5-tuples (localname, prefix, URI,
 * value, end). Names: "xml:local" for the xml prefix, "{uri}local" for
 * other namespaces, else the local name (Namespaces in XML §6.2: an
 * unprefixed attribute is in no namespace). Prefixes and decoded values
 * go to the scratch buffer, sized first so that it never moves. */
static int build_attrs(xmpp_xml_parser *p, int nb, const xmlChar **atts, const char **ns) {
    size_t i, n = (size_t)nb, need = 0;
    xmpp_buf *b = &p->scratch;
    /* namespace names come through the same attribute-value path, so an
     * '&' in one arrives as "&#38;" too */
    int ns_amp = *ns != NULL && strchr(*ns, '&') != NULL;
    if (ensure_ain(p, n) != 0)
        return -1;
    if (ns_amp)
        need += strlen(*ns) + 1;
    for (i = 0; i < n; i++) {
        const xmlChar **a = atts + 5 * i;
        size_t vlen = (size_t)(a[4] - a[3]);
        if (a[2] != NULL && !is_xml_prefix(a[1]))
            need += strlen((const char *)a[2]) + 2;
        if (memchr(a[3], '&', vlen) != NULL)
            need += vlen;
    }
    xmpp__buf_reset(b);
    if (need > 0 && xmpp__buf_reserve(b, need) != XMPP_OK)
        return -1;
    if (ns_amp) {
        size_t off = b->len;
        put_value(b, *ns, strlen(*ns));
        xmpp__buf_append_char(b, '\0');
        *ns = b->data + off;
    }
    for (i = 0; i < n; i++) {
        const xmlChar **a = atts + 5 * i;
        xmpp__attr_in *in = &p->ain[i];
        size_t off;
        in->name = (const char *)a[0];
        in->name_len = strlen(in->name);
        in->pre = "";
        in->pre_len = 0;
        if (a[2] != NULL && is_xml_prefix(a[1])) {
            in->pre = "xml:";
            in->pre_len = 4;
        } else if (a[2] != NULL) {
            off = b->len;
            xmpp__buf_append_char(b, '{');
            put_value(b, (const char *)a[2], strlen((const char *)a[2]));
            xmpp__buf_append_char(b, '}');
            in->pre = b->data + off;
            in->pre_len = b->len - off;
        }
        in->value = (const char *)a[3];
        in->value_len = (size_t)(a[4] - a[3]);
        if (memchr(in->value, '&', in->value_len) != NULL) {
            off = b->len;
            put_value(b, in->value, in->value_len);
            in->value = b->data + off;
            in->value_len = b->len - off;
        }
    }
    return 0;
}

static int new_element(xmpp_xml_parser *p, xmpp_stanza **out, const xmlChar *local,
                       const xmlChar *uri, int nb_attrs, const xmlChar **atts) {
    const char *ns = (const char *)uri;
    if (build_attrs(p, nb_attrs, atts, &ns) != 0 ||
        xmpp__stanza_new_element_n(out, p->ctx, (const char *)local, strlen((const char *)local),
                                   ns, ns ? strlen(ns) : 0, p->ain, (size_t)nb_attrs) != XMPP_OK) {
        nomem(p);
        return -1;
    }
    return 0;
}

/* The default namespace the root declares (prefix NULL), or NULL. */
static const char *default_ns(int nb, const xmlChar **ns) {
    int i;
    for (i = 0; i < nb; i++)
        if (ns[2 * i] == NULL)
            return (const char *)ns[2 * i + 1];
    return NULL;
}

void xmpp_xml_parser_set_root(xmpp_xml_parser *p, const char *name, const char *ns) {
    p->root_name = name ? name : "stream";
    p->root_ns = name ? ns : XMPP_NS_STREAMS;
}

/* RFC 6120 §4.8.1: the root is <stream> in the streams namespace (or what
 * xmpp_xml_parser_set_root() asked for). */
static void start_root(xmpp_xml_parser *p, const xmlChar *local, const xmlChar *uri, int nb_ns,
                       const xmlChar **nss, int nb_attrs, const xmlChar **atts) {
    xmpp_stanza *hdr;
    if (strcmp((const char *)local, p->root_name) != 0 || uri == NULL ||
        strcmp((const char *)uri, p->root_ns) != 0) {
        halt(p, XMPP_SC_INVALID_NAMESPACE, "unexpected root element", XMPP_ERR_STREAM);
        return;
    }
    if (consumed(p) + 1 + p->bom > p->lim.max_header_bytes) { /* +1: the '>' */
        policy(p, "stream header too large");
        return;
    }
    if ((size_t)nb_attrs > p->lim.max_attrs) {
        policy(p, "too many attributes");
        return;
    }
    if (new_element(p, &hdr, local, uri, nb_attrs, atts) != 0)
        return;
    p->depth = 1;
    p->phase = PH_STREAM;
    p->bound = p->scan = consumed(p);
    p->skip_gt = 1;
    p->have_start = 0;
    if (p->cb.stream_start != NULL) {
        p->in_cb++;
        p->cb.stream_start(hdr, default_ns(nb_ns, nss), p->ud);
        p->in_cb--;
    }
    xmpp_stanza_unref(hdr);
}

static void on_start(void *ud, const xmlChar *local, const xmlChar *prefix, const xmlChar *uri,
                     int nb_ns, const xmlChar **nss, int nb_attrs, int nb_def,
                     const xmlChar **atts) {
    xmpp_xml_parser *p = ud;
    xmpp_stanza *el;
    (void)prefix;
    (void)nb_def;
    if (blocked(p))
        return;
    if (p->depth == 0) {
        start_root(p, local, uri, nb_ns, nss, nb_attrs, atts);
        return;
    }
    /* checks before anything is allocated (RES-02) */
    if (p->depth > p->lim.max_depth) {
        policy(p, "nesting too deep");
        return;
    }
    if ((size_t)nb_attrs > p->lim.max_attrs) {
        policy(p, "too many attributes");
        return;
    }
    if (stanza_too_big(p, consumed(p)) || (p->cur != NULL && flush_text(p) != 0))
        return;
    if (new_element(p, &el, local, uri, nb_attrs, atts) != 0)
        return;
    if (p->cur != NULL)
        xmpp__stanza_append(p->cur, el);
    p->cur = el;
    p->depth++;
}

static void deliver(xmpp_xml_parser *p, xmpp_stanza *st) {
    uint64_t end = consumed(p);
    if (stanza_too_big(p, end)) {
        xmpp_stanza_unref(st);
        return;
    }
    p->bound = p->scan = end;
    p->have_start = 0;
    if (p->cb.stanza != NULL) {
        p->in_cb++;
        p->cb.stanza(st, p->ud);
        p->in_cb--;
    }
    xmpp_stanza_unref(st);
}

static void on_end(void *ud, const xmlChar *local, const xmlChar *prefix, const xmlChar *uri) {
    xmpp_xml_parser *p = ud;
    xmpp_stanza *el;
    (void)local;
    (void)prefix;
    (void)uri;
    if (blocked(p))
        return;
    if (p->depth == 1) {
        /* RFC 6120 §4.4: the stream is closed; nothing after it counts */
        p->depth = 0;
        p->phase = PH_ENDED;
        p->end_at = consumed(p) + p->bom;
        p->xc->disableSAX = 1;
        if (p->cb.stream_end != NULL) {
            p->in_cb++;
            p->cb.stream_end(p->ud);
            p->in_cb--;
        }
        return;
    }
    if (flush_text(p) != 0)
        return;
    el = p->cur;
    p->cur = el->parent;
    p->depth--;
    if (p->depth == 1)
        deliver(p, el);
}

/* ---- libxml2 context ---------------------------------------------------- */

static void init_sax(xmlSAXHandler *h) {
    xmlSAXVersion(h, 2);
    /* no document tree: we build our own */
    h->startDocument = NULL;
    h->endDocument = NULL;
    h->setDocumentLocator = NULL;
    h->startElement = NULL;
    h->endElement = NULL;
    h->startElementNs = on_start;
    h->endElementNs = on_end;
    h->characters = on_chars;
    h->ignorableWhitespace = on_chars;
    h->cdataBlock = on_cdata;
    /* RFC 6120 §11.1 */
    h->comment = on_comment;
    h->processingInstruction = on_pi;
    h->internalSubset = on_subset;
    h->externalSubset = on_subset;
    h->entityDecl = on_entity_decl;
    h->getEntity = on_get_entity;
    h->getParameterEntity = on_get_entity;
    h->resolveEntity = on_resolve;
    h->reference = on_reference;
    h->notationDecl = on_notation;
    h->unparsedEntityDecl = on_unparsed;
    h->attributeDecl = NULL;
    h->elementDecl = NULL;
    h->serror = on_serror;
    h->warning = on_silent;
    h->error = on_silent;
    h->fatalError = on_silent;
}

static int make_xc(xmpp_xml_parser *p) {
    xmlSAXHandler h;
    memset(&h, 0, sizeof(h));
    init_sax(&h);
    /* The encoding is fixed to UTF-8 so that libxml2 never autodetects or
     * switches (RFC 6120 §11.6); IGNORE_ENC makes it ignore encoding=. */
    p->xc = xmlCreatePushParserCtxt(&h, p, NULL, 0, NULL);
    if (p->xc == NULL)
        return XMPP_ERR_NOMEM;
    xmlCtxtUseOptions(p->xc, XML_PARSE_NONET | XML_PARSE_IGNORE_ENC | XML_PARSE_NOWARNING |
                                 XML_PARSE_NOERROR);
    if (xmlSwitchEncoding(p->xc, XML_CHAR_ENCODING_UTF8) != 0) {
        xmlFreeParserCtxt(p->xc);
        p->xc = NULL;
        return XMPP_ERR_NOMEM;
    }
    return XMPP_OK;
}

/* Returns the parser to its initial state, keeping ctx, callbacks, limits. */
static void clear_state(xmpp_xml_parser *p) {
    if (p->xc != NULL) {
        if (p->xc->myDoc != NULL) /* never ours: libxml2 may make one for a DTD */
            xmlFreeDoc(p->xc->myDoc);
        xmlFreeParserCtxt(p->xc);
    }
    p->xc = NULL;
    if (p->cur != NULL) {
        xmpp_stanza *top = p->cur;
        while (top->parent != NULL)
            top = top->parent;
        xmpp_stanza_unref(top);
    }
    p->cur = NULL;
    p->depth = 0;
    p->phase = PH_PROLOG;
    p->cond = XMPP_SC_NONE;
    p->errtext = NULL;
    p->err_rc = XMPP_OK;
    p->pro_len = 0;
    p->bom = 0;
    p->text.len = 0;
    p->text_cdata = 0;
    p->fed = p->sc_off = p->bound = p->scan = p->start = 0;
    p->sc = NULL;
    p->sc_len = 0;
    p->have_start = p->skip_gt = 0;
}

void xmpp_xml_parser_set_limits(xmpp_xml_parser *p, const xmpp_xml_limits *l) {
    xmpp_xml_limits d;
    if (p == NULL)
        return;
    memset(&d, 0, sizeof(d));
    if (l != NULL)
        d = *l;
    if (d.max_stanza_bytes == 0)
        d.max_stanza_bytes = XMPP_XML_DEFAULT_MAX_STANZA;
    if (d.max_depth == 0)
        d.max_depth = XMPP_XML_DEFAULT_MAX_DEPTH;
    if (d.max_attrs == 0)
        d.max_attrs = XMPP_XML_DEFAULT_MAX_ATTRS;
    if (d.max_text == 0)
        d.max_text = d.max_stanza_bytes;
    if (d.max_header_bytes == 0)
        d.max_header_bytes = XMPP_XML_DEFAULT_MAX_HEADER;
    /* libxml2 stops at depth 256 with a generic error: ours trips first */
    if (d.max_depth > 250)
        d.max_depth = 250;
    if (d.max_text > SIZE_MAX - 1)
        d.max_text = SIZE_MAX - 1;
    p->lim = d;
}

int xmpp_xml_parser_new(xmpp_xml_parser **out, xmpp_ctx *ctx, const xmpp_xml_callbacks *cb,
                        void *ud) {
    xmpp_xml_parser *p;
    if (out == NULL)
        return XMPP_ERR_INVALID;
    *out = NULL;
    if (ctx == NULL || cb == NULL)
        return XMPP_ERR_INVALID;
    p = xmpp__malloc(ctx, sizeof(*p));
    if (p == NULL)
        return XMPP_ERR_NOMEM;
    memset(p, 0, sizeof(*p));
    p->ctx = ctx;
    xmpp_xml_parser_set_root(p, NULL, NULL);
    p->cb = *cb;
    p->ud = ud;
    xmpp__buf_init(&p->text, ctx);
    xmpp__buf_init(&p->scratch, ctx);
    xmpp_xml_parser_set_limits(p, NULL);
    xmlInitParser();
    clear_state(p);
    if (make_xc(p) != XMPP_OK) {
        xmpp__free(ctx, p);
        return XMPP_ERR_NOMEM;
    }
    *out = p;
    return XMPP_OK;
}

static void destroy(xmpp_xml_parser *p) {
    clear_state(p);
    xmpp__buf_free(&p->text);
    xmpp__buf_free(&p->scratch);
    xmpp__free(p->ctx, p->ain);
    xmpp__free(p->ctx, p);
}

/* Freeing from inside a callback is deferred to the end of the feed() call
 * that runs the callback, so that no callback ever sees freed state
 * (SECURITY.md d.7 #58). */
void xmpp_xml_parser_free(xmpp_xml_parser *p) {
    if (p == NULL)
        return;
    if (p->in_cb > 0) {
        p->doomed = 1;
        if (p->xc != NULL)
            p->xc->disableSAX = 1;
        return;
    }
    destroy(p);
}

int xmpp_xml_parser_reset(xmpp_xml_parser *p) {
    if (p == NULL)
        return XMPP_ERR_INVALID;
    if (p->in_cb > 0)
        return XMPP_ERR_RECURSIVE;
    clear_state(p);
    if (make_xc(p) != XMPP_OK) {
        nomem(p);
        return XMPP_ERR_NOMEM;
    }
    return XMPP_OK;
}

xmpp_stream_condition xmpp_xml_parser_error(const xmpp_xml_parser *p, const char **text) {
    if (text != NULL)
        *text = p != NULL ? p->errtext : NULL;
    return p != NULL ? p->cond : XMPP_SC_NONE;
}

/* ---- feeding ------------------------------------------------------------ */

/* Checks made between sub-chunks, for input libxml2 holds without calling
 * us back: an incomplete header or tag. */
static void between_chunks(xmpp_xml_parser *p) {
    const xmlParserInput *in = p->xc->input;
    if (p->phase == PH_HEADER || p->phase == PH_PROLOG) {
        if (p->fed + p->bom > p->lim.max_header_bytes)
            policy(p, "stream header too large");
        return;
    }
    if (p->phase != PH_STREAM)
        return;
    if (stanza_too_big(p, p->fed))
        return;
    if (p->fed % SUBCHUNK == 0 && in != NULL && in->end > in->cur &&
        (size_t)(in->end - in->cur) > MAX_PENDING)
        policy(p, "tag too large");
}

static void push(xmpp_xml_parser *p, const char *data, size_t len) {
    while (len > 0 && !blocked(p)) {
        size_t n = SUBCHUNK - (size_t)(p->fed % SUBCHUNK);
        if (n > len)
            n = len;
        p->sc = data;
        p->sc_off = p->fed;
        p->sc_len = n;
        xmlParseChunk(p->xc, data, (int)n, 0);
        p->fed += n;
        if (!blocked(p)) {
            between_chunks(p);
            /* keep the scan invariant before the sub-chunk goes away */
            if (p->phase == PH_STREAM && !blocked(p))
                find_start(p);
        }
        data += n;
        len -= n;
    }
    p->sc = NULL;
    if (blocked(p) && p->xc != NULL)
        xmlStopParser(p->xc);
}

/* ---- prolog prescan ----------------------------------------------------- */

/* Why a hand-written prescan: libxml2 2.9 autodetects UTF-16/UCS-4 from the
 * first bytes and honours encoding= declarations, transcoding silently.
 * RFC 6120 §11.6 allows UTF-8 only, so the first bytes are judged here,
 * before libxml2 sees them:
 *  - a UTF-16 or UTF-32 byte order mark, or a NUL among the first two
 *    bytes (BOM-less UTF-16/32) -> unsupported-encoding;
 *  - a UTF-8 BOM is accepted and skipped (XML 1.0 §4.3.3 allows it and it
 *    names no other encoding);
 *  - "<?xml" plus white space opens the XML declaration: it is collected up
 *    to "?>" (at most PROLOG_MAX bytes) and any encoding pseudo-attribute
 *    must be "UTF-8", compared case-insensitively (XML 1.0 §4.3.3).
 * The prescan keeps bytes until it can decide, so its verdict does not
 * depend on how the input is split. */
enum { PS_MORE, PS_PASS, PS_FAIL };

static int ieq(const unsigned char *a, size_t n, const char *b) {
    size_t i;
    if (strlen(b) != n)
        return 0;
    for (i = 0; i < n; i++) {
        unsigned char c = a[i];
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        if (c != (unsigned char)b[i])
            return 0;
    }
    return 1;
}

/* Reads the pseudo-attributes of a complete declaration s[0..n) (after
 * "<?xml", up to "?"). Malformed syntax is left to libxml2. */
static int decl_encoding_ok(const unsigned char *s, size_t n) {
    size_t i = 0;
    for (;;) {
        size_t ns, ne, vs;
        unsigned char q;
        while (i < n && is_ws(s[i]))
            i++;
        ns = i;
        while (i < n && ((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'z'))
            i++;
        ne = i;
        while (i < n && is_ws(s[i]))
            i++;
        if (ne == ns || i >= n || s[i] != '=')
            return 1;
        i++;
        while (i < n && is_ws(s[i]))
            i++;
        if (i >= n || (s[i] != '\'' && s[i] != '"'))
            return 1;
        q = s[i++];
        vs = i;
        while (i < n && s[i] != q)
            i++;
        if (i >= n)
            return 1;
        if (ieq(s + ns, ne - ns, "encoding") && !ieq(s + vs, i - vs, "utf-8"))
            return 0;
        i++;
    }
}

static int prescan_decide(xmpp_xml_parser *p) {
    static const char decl[] = "<?xml";
    const unsigned char *b = p->pro;
    size_t n = p->pro_len, i;
    if (n >= 1 && (b[0] == 0xFE || b[0] == 0xFF || b[0] == 0x00))
        return PS_FAIL;
    if (n >= 2 && b[1] == 0x00)
        return PS_FAIL;
    if (n >= 1 && b[0] == 0xEF) {
        if (n < 3)
            return PS_MORE;
        if (b[1] == 0xBB && b[2] == 0xBF)
            p->bom = 3;
    }
    b += p->bom;
    n -= p->bom < n ? p->bom : n;
    for (i = 0; i < 5; i++) {
        if (i >= n)
            return PS_MORE;
        if (b[i] != (unsigned char)decl[i])
            return PS_PASS;
    }
    if (n < 6)
        return PS_MORE;
    if (!is_ws(b[5]))
        return PS_PASS; /* a PI such as <?xml-stylesheet: libxml2 reports it */
    for (i = 6; i + 1 < n; i++)
        if (b[i] == '?' && b[i + 1] == '>')
            return decl_encoding_ok(b + 5, i - 5) ? PS_PASS : PS_FAIL;
    return p->pro_len >= PROLOG_MAX ? -1 : PS_MORE;
}

/* Takes prolog bytes from (*data, *len); on PS_PASS hands the held bytes to
 * libxml2 and leaves the rest of the input in (*data, *len). */
static void prescan(xmpp_xml_parser *p, const char **data, size_t *len) {
    size_t take = PROLOG_MAX - p->pro_len;
    int v;
    if (take > *len)
        take = *len;
    memcpy(p->pro + p->pro_len, *data, take);
    p->pro_len += take;
    *data += take;
    *len -= take;
    if (p->pro_len > p->lim.max_header_bytes) {
        policy(p, "stream header too large");
        return;
    }
    v = prescan_decide(p);
    if (v == PS_MORE)
        return;
    if (v == PS_FAIL) {
        halt(p, XMPP_SC_UNSUPPORTED_ENCODING, "encoding other than UTF-8", XMPP_ERR_STREAM);
        return;
    }
    if (v < 0) {
        policy(p, "XML declaration too long");
        return;
    }
    p->phase = PH_HEADER;
    push(p, (const char *)p->pro + p->bom, p->pro_len - p->bom);
}

uint64_t xmpp_xml_parser_end_offset(const xmpp_xml_parser *p) {
    return p != NULL && p->phase == PH_ENDED ? p->end_at : 0;
}

int xmpp_xml_parser_feed(xmpp_xml_parser *p, const char *data, size_t len) {
    if (p == NULL || (data == NULL && len > 0))
        return XMPP_ERR_INVALID;
    if (p->in_cb > 0)
        return XMPP_ERR_RECURSIVE;
    if (p->cond != XMPP_SC_NONE)
        return p->err_rc;
    if (p->phase == PH_ENDED)
        return XMPP_ERR_CLOSED;
    if (p->phase == PH_PROLOG && len > 0)
        prescan(p, &data, &len);
    if (p->phase != PH_PROLOG)
        push(p, data, len);
    if (p->doomed) {
        destroy(p);
        return XMPP_ERR_CLOSED;
    }
    return p->cond != XMPP_SC_NONE ? p->err_rc : XMPP_OK;
}
