/* bench_rawsax: the floor. A libxml2 SAX2 push parse of the stream with empty
 * callbacks (only a depth counter, to count depth-1 elements), created with
 * the same options as lib/xml/parser.c and fed in the same chunks as
 * bench_libxmpp. Whatever libxmpp costs above this is the price of its own
 * checks and of building the stanza trees.
 *
 *   bench_rawsax FILE [ITERATIONS] [CHUNK]       (see bench_common.h) */
#include <libxml/parser.h>
#include <libxml/xmlerror.h>

#include "bench_common.h"

typedef struct sax_state {
    unsigned long depth;
    unsigned long long stanzas;
} sax_state;

static void on_start(void *ctx, const xmlChar *localname, const xmlChar *prefix,
                     const xmlChar *uri, int nb_namespaces, const xmlChar **namespaces,
                     int nb_attributes, int nb_defaulted, const xmlChar **attributes) {
    sax_state *st = ctx;
    (void)localname, (void)prefix, (void)uri, (void)nb_namespaces, (void)namespaces;
    (void)nb_attributes, (void)nb_defaulted, (void)attributes;
    st->depth++;
}

static void on_end(void *ctx, const xmlChar *localname, const xmlChar *prefix,
                   const xmlChar *uri) {
    sax_state *st = ctx;
    (void)localname, (void)prefix, (void)uri;
    if (st->depth == 2)
        st->stanzas++;
    st->depth--;
}

static void on_characters(void *ctx, const xmlChar *ch, int len) {
    (void)ctx, (void)ch, (void)len;
}

/* Swallows libxml2's generic error output (XML_PARSE_NOERROR covers the
 * structured path; this covers the rest). */
static void quiet_error(void *ctx, const char *msg, ...) {
    (void)ctx, (void)msg;
}

static unsigned long long parse_once(const bench_args *a) {
    xmlSAXHandler sax;
    xmlParserCtxtPtr ctxt;
    sax_state st = {0, 0};
    size_t off = 0;
    int rc = 0;

    memset(&sax, 0, sizeof sax);
    sax.initialized = XML_SAX2_MAGIC;
    sax.startElementNs = on_start;
    sax.endElementNs = on_end;
    sax.characters = on_characters;
    sax.error = quiet_error;
    sax.warning = quiet_error;

    ctxt = xmlCreatePushParserCtxt(&sax, &st, NULL, 0, NULL);
    if (ctxt == NULL) {
        fprintf(stderr, "bench_rawsax: xmlCreatePushParserCtxt failed\n");
        exit(1);
    }
    xmlCtxtUseOptions(ctxt, XML_PARSE_NONET | XML_PARSE_IGNORE_ENC | XML_PARSE_NOERROR |
                                XML_PARSE_NOWARNING);

    while (off < a->len && rc == 0) {
        size_t n = a->len - off < a->chunk ? a->len - off : a->chunk;
        rc = xmlParseChunk(ctxt, a->data + off, (int)n, 0);
        off += n;
    }
    if (rc == 0)
        rc = xmlParseChunk(ctxt, NULL, 0, 1);
    if (rc != 0 || !ctxt->wellFormed) {
        const xmlError *e = xmlCtxtGetLastError(ctxt);
        fprintf(stderr, "bench_rawsax: parse error at byte ~%zu: %s", off,
                e && e->message ? e->message : "(unknown)\n");
        exit(1);
    }
    xmlFreeParserCtxt(ctxt);
    return st.stanzas;
}

int main(int argc, char **argv) {
    bench_args a;
    unsigned long i;
    unsigned long long stanzas = 0;
    double t0, t1;

    bench_parse_args(&a, argc, argv);
    xmlInitParser();

    t0 = bench_now();
    for (i = 0; i < a.iterations; i++)
        bench_check_count("bench_rawsax", i, &stanzas, parse_once(&a));
    t1 = bench_now();

    bench_report("rawsax", &a, stanzas, t1 - t0);
    free(a.data);
    xmlCleanupParser();
    return 0;
}
