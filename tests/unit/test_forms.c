/* XEP-0004 data forms: parsing (good and hostile), querying, filling in,
 * submit forms and serialisation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <xmpp/stanza.h>
#include <xmpp/xep/forms.h>

#include "testhelp.h"
#include "xml/parser.h"

static xmpp_stanza *got;
static void on_st(xmpp_stanza *st, void *ud) {
    (void)ud;
    if (got == NULL)
        got = xmpp_stanza_ref(st);
}

/* Parses one element (wrapped in a stream) into a tree. */
static xmpp_stanza *parse_xml(xmpp_ctx *ctx, const char *xml) {
    static const char hdr[] = "<stream:stream xmlns='jabber:client' "
                              "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>";
    xmpp_xml_callbacks cb = {NULL, on_st, NULL};
    xmpp_xml_parser *p = NULL;
    got = NULL;
    assert_int_equal(xmpp_xml_parser_new(&p, ctx, &cb, NULL), XMPP_OK);
    assert_int_equal(xmpp_xml_parser_feed(p, hdr, strlen(hdr)), XMPP_OK);
    assert_int_equal(xmpp_xml_parser_feed(p, xml, strlen(xml)), XMPP_OK);
    xmpp_xml_parser_free(p);
    assert_non_null(got);
    return got;
}

static char *ser(const xmpp_stanza *st) {
    char *out = NULL;
    size_t len = 0;
    size_t i;
    assert_int_equal(xmpp_stanza_serialize(st, "jabber:client", &out, &len), XMPP_OK);
    for (i = 0; i < len; i++) /* compare with single-quoted expectations */
        if (out[i] == '"')
            out[i] = '\'';
    return out;
}

static const char ROOMCFG[] =
    "<x xmlns='jabber:x:data' type='form'>"
    "<title>Configuration for room</title>"
    "<instructions>Fill in</instructions><instructions>and submit</instructions>"
    "<field type='hidden' "
    "var='FORM_TYPE'><value>http://jabber.org/protocol/muc#roomconfig</value></field>"
    "<field type='fixed'><value>Room basics</value></field>"
    "<field type='text-single' label='Natural-Language Room Name' var='muc#roomconfig_roomname'/>"
    "<field type='boolean' var='muc#roomconfig_persistentroom' "
    "label='Persistent'><value>0</value></field>"
    "<field type='list-single' var='muc#roomconfig_whois'><value>moderators</value>"
    "<option label='Moderators'><value>moderators</value></option>"
    "<option label='Anyone'><value>anyone</value></option></field>"
    "<field type='jid-multi' var='muc#roomconfig_roomadmins'><desc>Admins</desc>"
    "<value>a@example.com</value><value>b@example.com</value></field>"
    "<field var='untyped'><required/><value>x</value></field>"
    "<field type='text-private' var='muc#roomconfig_roomsecret'/>"
    "</x>";

static void t_parse_roomconfig(void **state) {
    xmpp_ctx *ctx = NULL;
    xmpp_stanza *x;
    xmpp_form *f = NULL;
    const char *label = NULL;
    int i, b = -1;
    (void)state;
    assert_int_equal(xmpp_ctx_new(&ctx, NULL), XMPP_OK);
    x = parse_xml(ctx, ROOMCFG);
    assert_int_equal(xmpp_form_parse(&f, ctx, x), XMPP_OK);
    assert_int_equal(xmpp_form_get_type(f), XMPP_FORM_FORM);
    assert_string_equal(xmpp_form_title(f), "Configuration for room");
    assert_string_equal(xmpp_form_instructions(f), "Fill in\nand submit");
    assert_string_equal(xmpp_form_form_type(f), "http://jabber.org/protocol/muc#roomconfig");
    assert_int_equal(xmpp_form_field_count(f), 8);
    assert_null(xmpp_form_field_var(f, 1));
    assert_int_equal(xmpp_form_field_type_at(f, 1), XMPP_FIELD_FIXED);
    assert_string_equal(xmpp_form_field_label(f, 2), "Natural-Language Room Name");
    assert_int_equal(xmpp_form_get_bool(f, "muc#roomconfig_persistentroom", &b), XMPP_OK);
    assert_int_equal(b, 0);
    i = xmpp_form_field_index(f, "muc#roomconfig_whois");
    assert_int_equal(i, 4);
    assert_int_equal(xmpp_form_field_type_at(f, 4), XMPP_FIELD_LIST_SINGLE);
    assert_int_equal(xmpp_form_field_option_count(f, 4), 2);
    assert_string_equal(xmpp_form_field_option(f, 4, 1, &label), "anyone");
    assert_string_equal(label, "Anyone");
    assert_null(xmpp_form_field_option(f, 4, 2, &label));
    assert_int_equal(xmpp_form_field_value_count(f, 5), 2);
    assert_string_equal(xmpp_form_field_value(f, 5, 1), "b@example.com");
    assert_string_equal(xmpp_form_field_desc(f, 5), "Admins");
    /* a field without type in a form is text-single (§3.3) */
    assert_int_equal(xmpp_form_field_type_at(f, 6), XMPP_FIELD_TEXT_SINGLE);
    assert_int_equal(xmpp_form_field_required(f, 6), 1);
    assert_int_equal(xmpp_form_field_index(f, "nope"), XMPP_ERR_NOT_FOUND);
    assert_null(xmpp_form_get(f, "nope"));
    xmpp_form_free(f);
    xmpp_stanza_unref(x);
    xmpp_ctx_free(ctx);
}

static void t_submit(void **state) {
    xmpp_ctx *ctx = NULL;
    xmpp_stanza *x, *out = NULL;
    xmpp_form *f = NULL, *s = NULL, *back = NULL;
    const char *bad = NULL;
    char *xml;
    (void)state;
    assert_int_equal(xmpp_ctx_new(&ctx, NULL), XMPP_OK);
    x = parse_xml(ctx, ROOMCFG);
    assert_int_equal(xmpp_form_parse(&f, ctx, x), XMPP_OK);
    assert_int_equal(xmpp_form_submit_new(&s, f), XMPP_OK);
    assert_int_equal(xmpp_form_get_type(s), XMPP_FORM_SUBMIT);
    /* fixed fields are not submitted; defaults are */
    assert_int_equal(xmpp_form_field_count(s), 7);
    assert_string_equal(xmpp_form_get(s, "muc#roomconfig_whois"), "moderators");
    assert_int_equal(xmpp_form_set(s, "muc#roomconfig_roomname", "Coven"), XMPP_OK);
    assert_int_equal(xmpp_form_set_bool(s, "muc#roomconfig_persistentroom", 1), XMPP_OK);
    /* typed checks: a boolean, a JID, a single-valued field */
    assert_int_equal(xmpp_form_set(s, "muc#roomconfig_persistentroom", "yes"), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_form_add_value(s, "muc#roomconfig_roomadmins", "not@@jid"),
                     XMPP_ERR_INVALID);
    assert_int_equal(xmpp_form_add_value(s, "muc#roomconfig_roomname", "second"), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_form_check(s, f, &bad), XMPP_OK);
    assert_int_equal(xmpp_form_set(s, "muc#roomconfig_whois", "nobody"), XMPP_OK);
    assert_int_equal(xmpp_form_check(s, f, &bad), XMPP_ERR_INVALID);
    assert_string_equal(bad, "muc#roomconfig_whois");
    assert_int_equal(xmpp_form_set(s, "muc#roomconfig_whois", "anyone"), XMPP_OK);
    assert_int_equal(xmpp_form_set(s, "untyped", NULL), XMPP_OK);
    assert_int_equal(xmpp_form_check(s, f, &bad), XMPP_ERR_NOT_FOUND);
    assert_string_equal(bad, "untyped");
    assert_int_equal(xmpp_form_set(s, "untyped", "y"), XMPP_OK);
    /* a new field in a submit form */
    assert_int_equal(xmpp_form_set(s, "extra", "1"), XMPP_OK);
    assert_int_equal(xmpp_form_to_stanza(s, ctx, &out), XMPP_OK);
    xml = ser(out);
    assert_string_equal(
        xml, "<x xmlns='jabber:x:data' type='submit'>"
             "<field var='FORM_TYPE' "
             "type='hidden'><value>http://jabber.org/protocol/muc#roomconfig</value></field>"
             "<field var='muc#roomconfig_roomname' type='text-single'><value>Coven</value></field>"
             "<field var='muc#roomconfig_persistentroom' type='boolean'><value>1</value></field>"
             "<field var='muc#roomconfig_whois' type='list-single'><value>anyone</value></field>"
             "<field var='muc#roomconfig_roomadmins' "
             "type='jid-multi'><value>a@example.com</value><value>b@example.com</value></field>"
             "<field var='untyped' type='text-single'><value>y</value></field>"
             "<field var='muc#roomconfig_roomsecret' type='text-private'/>"
             "<field var='extra'><value>1</value></field>"
             "</x>");
    /* round trip */
    assert_int_equal(xmpp_form_parse(&back, ctx, out), XMPP_OK);
    assert_int_equal(xmpp_form_field_count(back), 8);
    assert_string_equal(xmpp_form_get(back, "extra"), "1");
    assert_int_equal(xmpp_form_field_type_at(back, 7), XMPP_FIELD_NONE);
    xmpp_free(ctx, xml);
    xmpp_form_free(back);
    xmpp_stanza_unref(out);
    xmpp_form_free(s);
    xmpp_form_free(f);
    xmpp_stanza_unref(x);
    xmpp_ctx_free(ctx);
}

static void t_build_form(void **state) {
    xmpp_ctx *ctx = NULL;
    xmpp_form *f = NULL;
    xmpp_stanza *out = NULL;
    char *xml;
    int i;
    (void)state;
    assert_int_equal(xmpp_ctx_new(&ctx, NULL), XMPP_OK);
    assert_int_equal(xmpp_form_new(&f, ctx, XMPP_FORM_FORM), XMPP_OK);
    assert_int_equal(xmpp_form_set_title(f, "T"), XMPP_OK);
    assert_int_equal(xmpp_form_add_field(f, "a", XMPP_FIELD_LIST_MULTI, "A & B"), 0);
    assert_int_equal(xmpp_form_add_field(f, "a", XMPP_FIELD_TEXT_SINGLE, NULL), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_form_add_field(f, NULL, XMPP_FIELD_TEXT_SINGLE, NULL), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_form_add_option(f, 0, "One", "1"), XMPP_OK);
    assert_int_equal(xmpp_form_add_option(f, 5, "One", "1"), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_form_add_value(f, "a", "1"), XMPP_OK);
    assert_int_equal(xmpp_form_add_value(f, "a", "2"), XMPP_OK);
    assert_int_equal(xmpp_form_set(f, "FORM_TYPE", "urn:x"), XMPP_OK);
    assert_int_equal(xmpp_form_set(f, "bad", "\x01"), XMPP_ERR_UTF8);
    assert_int_equal(xmpp_form_field_index(f, "bad"), XMPP_ERR_NOT_FOUND);
    i = xmpp_form_add_field(f, NULL, XMPP_FIELD_FIXED, NULL);
    assert_int_equal(i, 2);
    assert_int_equal(xmpp_form_to_stanza(f, ctx, &out), XMPP_OK);
    xml = ser(out);
    assert_string_equal(xml,
                        "<x xmlns='jabber:x:data' type='form'><title>T</title>"
                        "<field var='FORM_TYPE' type='text-single'><value>urn:x</value></field>"
                        "<field var='a' type='list-multi' label='A &amp; B'><value>1</value>"
                        "<value>2</value><option label='One'><value>1</value></option></field>"
                        "<field type='fixed'/></x>");
    xmpp_free(ctx, xml);
    xmpp_stanza_unref(out);
    xmpp_form_free(f);
    xmpp_ctx_free(ctx);
}

/* Hostile and malformed forms: each is refused as a whole. */
static void t_hostile(void **state) {
    static const struct {
        const char *xml;
        int rc;
    } cases[] = {
        {"<x xmlns='jabber:x:data'/>", XMPP_ERR_INVALID},             /* no type */
        {"<x xmlns='jabber:x:data' type='evil'/>", XMPP_ERR_INVALID}, /* bad type */
        {"<x xmlns='urn:other' type='form'/>", XMPP_ERR_INVALID},     /* wrong ns */
        {"<x xmlns='jabber:x:data' type='form'><field type='nope' var='a'/></x>", XMPP_ERR_INVALID},
        {"<x xmlns='jabber:x:data' type='form'><field type='text-single'/></x>", XMPP_ERR_INVALID},
        {"<x xmlns='jabber:x:data' type='form'><field var='a'/><field var='a'/></x>",
         XMPP_ERR_INVALID},
        {"<x xmlns='jabber:x:data' type='form'><field var='a' type='text-single'>"
         "<value>1</value><value>2</value></field></x>",
         XMPP_ERR_INVALID},
        {"<x xmlns='jabber:x:data' type='form'><field var='a' type='boolean'><value>maybe</value>"
         "</field></x>",
         XMPP_ERR_INVALID},
        {"<x xmlns='jabber:x:data' type='form'><field var='a' type='jid-single'><value>@x</value>"
         "</field></x>",
         XMPP_ERR_INVALID},
        {"<x xmlns='jabber:x:data' type='form'><field var='a' type='text-single'>"
         "<option><value>1</value></option></field></x>",
         XMPP_ERR_INVALID},
        {"<x xmlns='jabber:x:data' type='form'><field var='a' type='list-single'>"
         "<option/></field></x>",
         XMPP_ERR_INVALID},
        {"<x xmlns='jabber:x:data' type='form'><title>a</title><title>b</title></x>",
         XMPP_ERR_INVALID},
    };
    xmpp_ctx *ctx = NULL;
    size_t k;
    (void)state;
    assert_int_equal(xmpp_ctx_new(&ctx, NULL), XMPP_OK);
    for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        xmpp_stanza *x = parse_xml(ctx, cases[k].xml);
        xmpp_form *f = (xmpp_form *)1;
        int rc = xmpp_form_parse(&f, ctx, x);
        if (rc != cases[k].rc)
            fail_msg("case %zu: rc %d", k, rc);
        assert_null(f);
        xmpp_stanza_unref(x);
    }
    xmpp_ctx_free(ctx);
}

/* Bounds: too many fields, values, options, an oversized value. */
static void t_limits(void **state) {
    xmpp_ctx *ctx = NULL;
    xmpp_form *f = NULL;
    xmpp_stanza *x;
    size_t cap = 64 * 1024 + 8 * 1024 * 40, n, k;
    char *buf = malloc(cap + XMPP_FORM_MAX_TEXT * 2);
    (void)state;
    assert_int_equal(xmpp_ctx_new(&ctx, NULL), XMPP_OK);
    /* fields */
    n = (size_t)sprintf(buf, "<x xmlns='jabber:x:data' type='form'>");
    for (k = 0; k <= XMPP_FORM_MAX_FIELDS; k++)
        n += (size_t)sprintf(buf + n, "<field var='f%zu'/>", k);
    strcpy(buf + n, "</x>");
    x = parse_xml(ctx, buf);
    assert_int_equal(xmpp_form_parse(&f, ctx, x), XMPP_ERR_LIMIT);
    xmpp_stanza_unref(x);
    /* values of a multi field */
    n = (size_t)sprintf(buf,
                        "<x xmlns='jabber:x:data' type='form'><field var='m' type='text-multi'>");
    for (k = 0; k <= XMPP_FORM_MAX_VALUES; k++)
        n += (size_t)sprintf(buf + n, "<value>v</value>");
    strcpy(buf + n, "</field></x>");
    x = parse_xml(ctx, buf);
    assert_int_equal(xmpp_form_parse(&f, ctx, x), XMPP_ERR_LIMIT);
    xmpp_stanza_unref(x);
    /* options */
    n = (size_t)sprintf(buf,
                        "<x xmlns='jabber:x:data' type='form'><field var='m' type='list-multi'>");
    for (k = 0; k <= XMPP_FORM_MAX_VALUES; k++)
        n += (size_t)sprintf(buf + n, "<option><value>%zu</value></option>", k);
    strcpy(buf + n, "</field></x>");
    x = parse_xml(ctx, buf);
    assert_int_equal(xmpp_form_parse(&f, ctx, x), XMPP_ERR_LIMIT);
    xmpp_stanza_unref(x);
    /* one oversized value */
    n = (size_t)sprintf(buf, "<x xmlns='jabber:x:data' type='form'><field var='m'><value>");
    memset(buf + n, 'A', XMPP_FORM_MAX_TEXT + 1);
    n += XMPP_FORM_MAX_TEXT + 1;
    strcpy(buf + n, "</value></field></x>");
    x = parse_xml(ctx, buf);
    assert_int_equal(xmpp_form_parse(&f, ctx, x), XMPP_ERR_LIMIT);
    xmpp_stanza_unref(x);
    assert_null(f);
    free(buf);
    xmpp_ctx_free(ctx);
}

/* Every allocation failing in turn: parse + submit + serialise. */
static int torture_one(xmpp_ctx *ctx, void *arg) {
    xmpp_stanza *x = arg, *out = NULL;
    xmpp_form *f = NULL, *s = NULL;
    int rc = xmpp_form_parse(&f, ctx, x);
    if (rc == XMPP_OK)
        rc = xmpp_form_submit_new(&s, f);
    if (rc == XMPP_OK)
        rc = xmpp_form_set(s, "muc#roomconfig_roomname", "R");
    if (rc == XMPP_OK)
        rc = xmpp_form_to_stanza(s, ctx, &out);
    xmpp_stanza_unref(out);
    xmpp_form_free(s);
    xmpp_form_free(f);
    return rc;
}

static void t_torture(void **state) {
    th_alloc a;
    xmpp_ctx *pctx = NULL;
    xmpp_stanza *x;
    (void)state;
    (void)a;
    assert_int_equal(xmpp_ctx_new(&pctx, NULL), XMPP_OK);
    x = parse_xml(pctx, ROOMCFG);
    /* the tree belongs to another context: the scenario only reads it and
     * builds into its own context */
    assert_true(th_torture(torture_one, x) > 10);
    xmpp_stanza_unref(x);
    xmpp_ctx_free(pctx);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_parse_roomconfig), cmocka_unit_test(t_submit),
        cmocka_unit_test(t_build_form),       cmocka_unit_test(t_hostile),
        cmocka_unit_test(t_limits),           cmocka_unit_test(t_torture),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
