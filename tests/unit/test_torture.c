/* Allocation-failure torture: every allocation made while parsing a stream
 * (whole, and one byte at a time) and while serialising and copying the
 * results fails in turn. Each failure must surface as an error, nothing may
 * leak, nothing may crash, and the run with no failure must succeed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <xmpp/xmpp.h>

#include "xml/parser.h"
#include "testhelp.h"

struct scen {
    const char *data;
    size_t len;
    size_t chunk;       /* bytes per feed call */
    int expect_error;   /* the input itself is hostile */
    int stanzas;        /* stanzas a clean run delivers */
};

struct run {
    xmpp_ctx *ctx;
    int stanzas;
    int failed;
};

static void on_stanza(xmpp_stanza *st, void *ud) {
    struct run *r = ud;
    xmpp_stanza *cp = NULL;
    char *s = NULL;
    r->stanzas++;
    /* exercise allocation in the consumer too */
    if (xmpp_stanza_copy(&cp, st) != XMPP_OK ||
        xmpp_stanza_serialize(cp, XMPP_NS_CLIENT, &s, NULL) != XMPP_OK)
        r->failed = 1;
    xmpp_free(r->ctx, s);
    xmpp_stanza_unref(cp);
}

static int parse_scenario(xmpp_ctx *ctx, void *arg) {
    const struct scen *sc = arg;
    xmpp_xml_parser *p = NULL;
    xmpp_xml_callbacks cb = {NULL, on_stanza, NULL};
    struct run r;
    size_t off;
    int rc = XMPP_OK;
    memset(&r, 0, sizeof(r));
    r.ctx = ctx;
    if ((rc = xmpp_xml_parser_new(&p, ctx, &cb, &r)) != XMPP_OK)
        return rc;
    for (off = 0; off < sc->len && rc == XMPP_OK; off += sc->chunk) {
        size_t n = sc->len - off < sc->chunk ? sc->len - off : sc->chunk;
        rc = xmpp_xml_parser_feed(p, sc->data + off, n);
    }
    xmpp_xml_parser_free(p);
    if (rc == XMPP_ERR_NOMEM || r.failed)
        return XMPP_ERR_NOMEM;
    if (sc->expect_error) {
        /* hostile input: the error must be the stream error, not success */
        return rc == XMPP_ERR_STREAM ? 0 : -100;
    }
    if (rc != XMPP_OK)
        return rc;
    return r.stanzas == sc->stanzas ? 0 : -101;
}

static const char GOOD[] =
    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
    "xmlns:stream='http://etherx.jabber.org/streams' from='example.com' id='s1' "
    "version='1.0' xml:lang='en'>"
    "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>"
    "</stream:features>"
    "<message from='a@example.com/r' to='b@example.com' type='chat' id='m1'>"
    "<body>caf\xc3\xa9 &amp; &lt;b&gt; <![CDATA[x<y]]></body><active "
    "xmlns='http://jabber.org/protocol/chatstates'/></message>  "
    "<presence from='c@example.com/x'><c xmlns='http://jabber.org/protocol/caps' "
    "hash='sha-1' node='n' ver='v='/><show>away</show></presence>"
    "<iq type='result' id='r1'><query xmlns='jabber:iq:roster' ver='3'>"
    "<item jid='d@example.com' name='D' subscription='both'><group>G</group></item>"
    "<item jid='e@example.com' subscription='to'/></query></iq>"
    "</stream:stream>";

static const char HOSTILE[] =
    "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
    "version='1.0'><message><body>ok</body></message><message><!-- no --></message>";

static void run_scen(const char *data, size_t len, size_t chunk, int hostile, int n) {
    struct scen sc;
    long allocs;
    sc.data = data;
    sc.len = len;
    sc.chunk = chunk;
    sc.expect_error = hostile;
    sc.stanzas = n;
    allocs = th_torture(parse_scenario, &sc);
    assert_true(allocs > 0);
}

static void test_whole(void **state) {
    (void)state;
    run_scen(GOOD, sizeof(GOOD) - 1, sizeof(GOOD), 0, 4);
}

static void test_bytewise(void **state) {
    (void)state;
    run_scen(GOOD, sizeof(GOOD) - 1, 1, 0, 4);
}

static void test_chunks(void **state) {
    (void)state;
    run_scen(GOOD, sizeof(GOOD) - 1, 7, 0, 4);
}

static void test_hostile(void **state) {
    (void)state;
    run_scen(HOSTILE, sizeof(HOSTILE) - 1, sizeof(HOSTILE), 1, 1);
    run_scen(HOSTILE, sizeof(HOSTILE) - 1, 3, 1, 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_whole),
        cmocka_unit_test(test_bytewise),
        cmocka_unit_test(test_chunks),
        cmocka_unit_test(test_hostile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
