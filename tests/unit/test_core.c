/* Context, allocator hooks, logging and error strings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <xmpp/xmpp.h>

#include "core/buf.h"
#include "core/internal.h"
#include "testhelp.h"

static void test_ctx_default(void **state) {
    xmpp_ctx *ctx = NULL;
    (void)state;
    assert_int_equal(xmpp_ctx_new(&ctx, NULL), XMPP_OK);
    assert_non_null(ctx);
    xmpp_ctx_free(ctx);
    xmpp_ctx_free(NULL);
    assert_int_equal(xmpp_ctx_new(NULL, NULL), XMPP_ERR_INVALID);
}

static void test_ctx_bad_allocator(void **state) {
    xmpp_allocator a;
    xmpp_ctx *ctx = (xmpp_ctx *)1;
    (void)state;
    memset(&a, 0, sizeof(a));
    assert_int_equal(xmpp_ctx_new(&ctx, &a), XMPP_ERR_INVALID);
    assert_null(ctx);
}

static void test_ctx_oom(void **state) {
    th_alloc st;
    xmpp_ctx *ctx;
    char *p;
    (void)state;
    memset(&st, 0, sizeof(st));
    st.fail_at = -1;
    ctx = th_ctx_new(&st);
    assert_non_null(ctx);
    th_alloc_reset(&st, 0);
    p = xmpp__malloc(ctx, 10);
    assert_null(p);
    assert_true(st.failed);
    xmpp_ctx_free(ctx);
}

struct logrec {
    int calls;
    xmpp_log_level level;
    char msg[128];
};

static void log_cb(xmpp_log_level level, const char *area, const char *msg, void *ud) {
    struct logrec *r = ud;
    r->calls++;
    r->level = level;
    assert_string_equal(area, "test");
    strncpy(r->msg, msg, sizeof(r->msg) - 1);
}

static int format_calls;
static int counted(void) {
    format_calls++;
    return 42;
}

static void test_log_filter(void **state) {
    xmpp_ctx *ctx;
    struct logrec r;
    (void)state;
    memset(&r, 0, sizeof(r));
    assert_int_equal(xmpp_ctx_new(&ctx, NULL), XMPP_OK);
    xmpp__log(ctx, XMPP_LOG_ERROR, "test", "x %d", counted());
    assert_int_equal(format_calls, 0); /* no callback: arguments not evaluated */
    xmpp_ctx_set_log(ctx, log_cb, XMPP_LOG_WARN, &r);
    xmpp__log(ctx, XMPP_LOG_DEBUG, "test", "x %d", counted());
    assert_int_equal(format_calls, 0); /* filtered before formatting */
    assert_int_equal(r.calls, 0);
    xmpp__log(ctx, XMPP_LOG_WARN, "test", "value %d", counted());
    assert_int_equal(format_calls, 1);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.level, XMPP_LOG_WARN);
    assert_string_equal(r.msg, "value 42");
    xmpp_ctx_free(ctx);
}

static void test_strerror(void **state) {
    int e;
    (void)state;
    for (e = 0; e >= XMPP_ERR_JID_ESCAPE; e--) {
        const char *s = xmpp_strerror(e);
        assert_non_null(s);
        assert_string_not_equal(s, "unknown error");
    }
    assert_string_equal(xmpp_strerror(12345), "unknown error");
}

static void test_conditions(void **state) {
    (void)state;
    assert_string_equal(xmpp_stream_condition_name(XMPP_SC_NOT_WELL_FORMED), "not-well-formed");
    assert_string_equal(xmpp_stream_condition_name(XMPP_SC_UNSUPPORTED_VERSION),
                        "unsupported-version");
    assert_string_equal(xmpp_stream_condition_name((xmpp_stream_condition)999), "");
    assert_int_equal(xmpp_stream_condition_from_name("restricted-xml"), XMPP_SC_RESTRICTED_XML);
    assert_int_equal(xmpp_stream_condition_from_name("bogus"), XMPP_SC_UNDEFINED_CONDITION);
    assert_string_equal(xmpp_stanza_condition_name(XMPP_EC_SERVICE_UNAVAILABLE),
                        "service-unavailable");
    assert_string_equal(xmpp_stanza_condition_type(XMPP_EC_NOT_AUTHORIZED), "auth");
    assert_string_equal(xmpp_stanza_condition_type(XMPP_EC_BAD_REQUEST), "modify");
    assert_string_equal(xmpp_stanza_condition_type(XMPP_EC_RESOURCE_CONSTRAINT), "wait");
    assert_string_equal(xmpp_stanza_condition_name(XMPP_EC_UNEXPECTED_REQUEST),
                        "unexpected-request");
}

static void test_utf8(void **state) {
    (void)state;
    assert_true(xmpp__xml_text_ok("abc\t\n\r", 6));
    assert_true(xmpp__xml_text_ok("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9));
    assert_false(xmpp__xml_text_ok("\x01", 1));
    assert_false(xmpp__xml_text_ok("\xc0\xaf", 2));         /* overlong */
    assert_false(xmpp__xml_text_ok("\xe0\x80\xaf", 3));     /* overlong */
    assert_false(xmpp__xml_text_ok("\xed\xa0\x80", 3));     /* surrogate */
    assert_false(xmpp__xml_text_ok("\xef\xbf\xbe", 3));     /* U+FFFE */
    assert_false(xmpp__xml_text_ok("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
    assert_false(xmpp__xml_text_ok("\x80", 1));
    assert_false(xmpp__xml_text_ok("\xf0\x9f\x98", 3)); /* truncated */
    assert_true(xmpp__xml_ncname_ok("body", 4));
    assert_true(xmpp__xml_ncname_ok("caf\xc3\xa9", 5));
    assert_false(xmpp__xml_ncname_ok("a:b", 3));
    assert_false(xmpp__xml_ncname_ok("1a", 2));
    assert_false(xmpp__xml_ncname_ok("a b", 3));
    assert_false(xmpp__xml_ncname_ok("", 0));
}

static void test_buf(void **state) {
    xmpp_ctx *ctx;
    xmpp_buf b;
    char *s;
    size_t n, i;
    (void)state;
    assert_int_equal(xmpp_ctx_new(&ctx, NULL), XMPP_OK);
    xmpp__buf_init(&b, ctx);
    for (i = 0; i < 10000; i++)
        assert_int_equal(xmpp__buf_append(&b, "0123456789", 10), XMPP_OK);
    s = xmpp__buf_steal(&b, &n);
    assert_int_equal(n, 100000);
    assert_int_equal(s[n], '\0');
    assert_memory_equal(s + 99990, "0123456789", 10);
    xmpp_free(ctx, s);
    xmpp__buf_free(&b);
    xmpp_ctx_free(ctx);
}

static void test_version(void **state) {
    (void)state;
    assert_string_equal(xmpp_version_string(), XMPP_VERSION);
    assert_true(XMPP_VERSION_NUM >= 0x000100);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ctx_default), cmocka_unit_test(test_ctx_bad_allocator),
        cmocka_unit_test(test_ctx_oom),     cmocka_unit_test(test_log_filter),
        cmocka_unit_test(test_strerror),    cmocka_unit_test(test_conditions),
        cmocka_unit_test(test_utf8),        cmocka_unit_test(test_buf),
        cmocka_unit_test(test_version),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
