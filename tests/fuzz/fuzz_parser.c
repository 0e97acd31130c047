/* libFuzzer target for the XML stream parser (SECURITY.md §2 1(a)).
 *
 * Input layout: 4 bytes of seed, then the stream. The seed picks the chunk
 * sizes the stream is fed in, whether small limits apply, and whether the
 * parser is reset part-way. Every delivered tree is walked through the
 * public accessors, checked (all strings valid XML 1.0 text, names without
 * ':'), and serialised. Built with libFuzzer or with replay_main.c. */
#include "xml/parser.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct fz {
    xmpp_ctx *ctx;
    unsigned long events;
} fz;

static void check_str(const char *s) {
    if (s != NULL && !xmpp__xml_text_ok(s, strlen(s)))
        abort(); /* the parser delivered text XML forbids */
}

/* Walks a tree without recursion, exercising the accessors. */
static void walk(const xmpp_stanza *root) {
    const xmpp_stanza *st = root;
    while (st != NULL) {
        if (xmpp_stanza_is_text(st)) {
            check_str(xmpp_stanza_text_ptr(st));
        } else {
            size_t i, n = xmpp_stanza_attr_count(st);
            const char *name = xmpp_stanza_name(st);
            if (name == NULL || *name == '\0' || strchr(name, ':') != NULL)
                abort();
            check_str(name);
            check_str(xmpp_stanza_ns(st));
            for (i = 0; i < n; i++) {
                const char *an, *av;
                if (xmpp_stanza_attr_at(st, i, &an, &av) != XMPP_OK ||
                    xmpp_stanza_attr(st, an) != av)
                    abort(); /* duplicates would break this */
                check_str(an);
                check_str(av);
            }
            (void)xmpp_stanza_id(st);
            (void)xmpp_stanza_child(st, "body", NULL);
            if (xmpp_stanza_first_child(st) != NULL) {
                st = xmpp_stanza_first_child(st);
                continue;
            }
        }
        while (st != root && xmpp_stanza_next(st) == NULL)
            st = xmpp_stanza_parent(st);
        if (st == root)
            break;
        st = xmpp_stanza_next(st);
    }
}

static void serialise(const xmpp_stanza *st, const char *ns) {
    char *s = NULL, *t = NULL;
    size_t len = 0;
    if (xmpp_stanza_serialize(st, ns, &s, &len) == XMPP_OK && strlen(s) != len)
        abort();
    xmpp_free(xmpp_stanza_ctx(st), s);
    if (xmpp_stanza_text(st, &t, NULL) == XMPP_OK)
        xmpp_free(xmpp_stanza_ctx(st), t);
}

static void on_start(xmpp_stanza *hdr, const char *dns, void *ud) {
    fz *f = ud;
    f->events++;
    check_str(dns);
    walk(hdr);
    serialise(hdr, NULL);
}

static void on_stanza(xmpp_stanza *st, void *ud) {
    fz *f = ud;
    f->events++;
    walk(st);
    serialise(st, XMPP_NS_CLIENT);
}

static void on_end(void *ud) {
    ((fz *)ud)->events++;
}

static uint32_t next(uint32_t *s) {
    *s = *s * 1103515245u + 12345u;
    return *s >> 8;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const size_t maxes[] = {1, 3, 16, 200, 5000, 1 << 20};
    xmpp_xml_callbacks cb = {on_start, on_stanza, on_end};
    xmpp_xml_parser *p = NULL;
    fz f;
    uint32_t seed;
    size_t off, cmax, reset_at;
    if (size < 4)
        return 0;
    seed = (uint32_t)data[0] | (uint32_t)data[1] << 8 | (uint32_t)data[2] << 16 |
           (uint32_t)data[3] << 24;
    data += 4;
    size -= 4;
    memset(&f, 0, sizeof(f));
    if (xmpp_ctx_new(&f.ctx, NULL) != XMPP_OK)
        return 0;
    if (xmpp_xml_parser_new(&p, f.ctx, &cb, &f) != XMPP_OK) {
        xmpp_ctx_free(f.ctx);
        return 0;
    }
    if (seed & 0x100) {
        /* small limits, to reach every limit path */
        xmpp_xml_limits lim;
        memset(&lim, 0, sizeof(lim));
        lim.max_stanza_bytes = 64 + (seed >> 12 & 0x3ff);
        lim.max_depth = 1 + (seed >> 22 & 7);
        lim.max_attrs = 1 + (seed >> 25 & 7);
        lim.max_text = 1 + (seed >> 12 & 0xff);
        lim.max_header_bytes = 100 + (seed >> 14 & 0x1ff);
        xmpp_xml_parser_set_limits(p, &lim);
    }
    cmax = maxes[seed % (sizeof(maxes) / sizeof(maxes[0]))];
    reset_at = seed & 0x200 ? (seed >> 10) % (size + 1) : SIZE_MAX;
    for (off = 0; off < size;) {
        size_t n = 1 + next(&seed) % cmax;
        int rc;
        if (n > size - off)
            n = size - off;
        if (off <= reset_at && reset_at < off + n) {
            /* a stream restart (STARTTLS, SASL) in the middle */
            n = reset_at - off;
            reset_at = SIZE_MAX;
            if (n == 0) {
                if (xmpp_xml_parser_reset(p) != XMPP_OK)
                    break;
                continue;
            }
        }
        rc = xmpp_xml_parser_feed(p, (const char *)data + off, n);
        off += n;
        if (rc == XMPP_OK)
            continue;
        if (rc != XMPP_ERR_STREAM && rc != XMPP_ERR_CLOSED && rc != XMPP_ERR_NOMEM)
            abort();
        if ((rc != XMPP_ERR_CLOSED) != (xmpp_xml_parser_error(p, NULL) != XMPP_SC_NONE))
            abort();
        if (reset_at == SIZE_MAX)
            break;
    }
    xmpp_xml_parser_free(p);
    xmpp_ctx_free(f.ctx);
    return 0;
}
