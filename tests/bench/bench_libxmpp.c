/* bench_libxmpp: the stream through libxmpp's XML stream parser
 * (lib/xml/parser.h): libxml2 SAX2 push parsing, the RFC 6120 restricted-XML
 * and size checks, and the building of each depth-1 stanza tree, which the
 * parser frees after the stanza callback returns. The callback only counts.
 *
 *   bench_libxmpp FILE [ITERATIONS] [CHUNK]      (see bench_common.h)
 *
 * CHUNK 1 feeds one byte per call (run.sh uses it on two stream sizes to
 * show that the cost per byte does not grow with the size of a stanza).
 *
 * Limits are raised for the ~5 MiB stanza of the generated stream:
 * max_stanza_bytes and max_text 8 MiB, the others at their defaults. */
#include "xml/parser.h"

#include "bench_common.h"

typedef struct count_state {
    unsigned long long stanzas;
    int started;
    int ended;
} count_state;

static void on_stream_start(xmpp_stanza *header, const char *default_ns, void *ud) {
    count_state *st = ud;
    (void)header, (void)default_ns;
    st->started = 1;
}

static void on_stanza(xmpp_stanza *stanza, void *ud) {
    count_state *st = ud;
    (void)stanza;
    st->stanzas++;
}

static void on_stream_end(void *ud) {
    count_state *st = ud;
    st->ended = 1;
}

static void fail(xmpp_xml_parser *p, const char *what, int rc, size_t off) {
    const char *text = NULL;
    xmpp_stream_condition cond = xmpp_xml_parser_error(p, &text);
    fprintf(stderr, "bench_libxmpp: %s near byte %zu: %s (%s%s%s)\n", what, off,
            xmpp_strerror(rc), xmpp_stream_condition_name(cond), text ? ": " : "",
            text ? text : "");
    exit(1);
}

static unsigned long long parse_once(xmpp_ctx *ctx, const bench_args *a) {
    static const xmpp_xml_callbacks cb = {on_stream_start, on_stanza, on_stream_end};
    xmpp_xml_limits limits;
    count_state st = {0, 0, 0};
    xmpp_xml_parser *p = NULL;
    size_t off = 0;
    int rc;

    rc = xmpp_xml_parser_new(&p, ctx, &cb, &st);
    if (rc != XMPP_OK) {
        fprintf(stderr, "bench_libxmpp: xmpp_xml_parser_new: %s\n", xmpp_strerror(rc));
        exit(1);
    }
    memset(&limits, 0, sizeof limits);
    limits.max_stanza_bytes = 8u * 1024 * 1024;
    limits.max_text = 8u * 1024 * 1024;
    xmpp_xml_parser_set_limits(p, &limits);

    while (off < a->len) {
        size_t n = a->len - off < a->chunk ? a->len - off : a->chunk;
        rc = xmpp_xml_parser_feed(p, a->data + off, n);
        if (rc != XMPP_OK && !(rc == XMPP_ERR_CLOSED && st.ended))
            fail(p, "xmpp_xml_parser_feed", rc, off);
        off += n;
    }
    if (!st.started || !st.ended)
        fail(p, "the stream did not start and end", XMPP_ERR_STREAM, off);
    xmpp_xml_parser_free(p);
    return st.stanzas;
}

int main(int argc, char **argv) {
    bench_args a;
    xmpp_ctx *ctx = NULL;
    unsigned long i;
    unsigned long long stanzas = 0;
    double t0, t1;
    int rc;

    bench_parse_args(&a, argc, argv);
    rc = xmpp_ctx_new(&ctx, NULL);
    if (rc != XMPP_OK) {
        fprintf(stderr, "bench_libxmpp: xmpp_ctx_new: %s\n", xmpp_strerror(rc));
        return 1;
    }

    t0 = bench_now();
    for (i = 0; i < a.iterations; i++)
        bench_check_count("bench_libxmpp", i, &stanzas, parse_once(ctx, &a));
    t1 = bench_now();

    bench_report("libxmpp", &a, stanzas, t1 - t0);
    xmpp_ctx_free(ctx);
    free(a.data);
    return 0;
}
