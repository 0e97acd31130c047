/**
 * @file xmpp/xep/forms.h
 * @brief XEP-0004 Data Forms: parse, query, fill in and serialise
 *        &lt;x xmlns='jabber:x:data'/&gt; forms.
 *
 * A form is an object owned by the caller (xmpp_form_free()). Parsing is
 * strict and bounded: an unknown form or field type, a field without a
 * var (other than "fixed"), a duplicate var, several values in a
 * single-valued field, a boolean that is not 0/1/true/false, a JID that
 * does not parse, or more than ::XMPP_FORM_MAX_FIELDS fields,
 * ::XMPP_FORM_MAX_VALUES values or options per field, or a text longer
 * than ::XMPP_FORM_MAX_TEXT bytes is refused with an error; nothing is
 * half-parsed. Fields are kept in document order and addressed by index
 * (0 .. xmpp_form_field_count() - 1) or by var.
 *
 * No function here calls the session: all are callable from callbacks.
 * Strings returned are borrowed from the form and stay valid until the
 * form is changed or freed.
 */
#ifndef XMPP_XEP_FORMS_H
#define XMPP_XEP_FORMS_H

#include <stddef.h>

#include <xmpp/common.h>
#include <xmpp/stanza.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The data forms namespace (XEP-0004). */
#define XMPP_NS_DATA_FORMS "jabber:x:data"
/** The most fields a form may have. */
#define XMPP_FORM_MAX_FIELDS 256
/** The most values, and the most options, a field may have. */
#define XMPP_FORM_MAX_VALUES 256
/** The longest title, instruction, label, var or value, in bytes. */
#define XMPP_FORM_MAX_TEXT 16384

/** A data form. */
typedef struct xmpp_form xmpp_form;

/** The form type (XEP-0004 §3.1). */
typedef enum xmpp_form_type {
    XMPP_FORM_FORM = 0,   /**< "form": asks for data. */
    XMPP_FORM_SUBMIT = 1, /**< "submit": the data. */
    XMPP_FORM_CANCEL = 2, /**< "cancel": the requester declines. */
    XMPP_FORM_RESULT = 3  /**< "result": data returned. */
} xmpp_form_type;

/** The field type (XEP-0004 §3.3). */
typedef enum xmpp_form_field_type {
    XMPP_FIELD_TEXT_SINGLE = 0,  /**< "text-single" (also when absent). */
    XMPP_FIELD_BOOLEAN = 1,      /**< "boolean". */
    XMPP_FIELD_FIXED = 2,        /**< "fixed": display only. */
    XMPP_FIELD_HIDDEN = 3,       /**< "hidden". */
    XMPP_FIELD_JID_MULTI = 4,    /**< "jid-multi". */
    XMPP_FIELD_JID_SINGLE = 5,   /**< "jid-single". */
    XMPP_FIELD_LIST_MULTI = 6,   /**< "list-multi". */
    XMPP_FIELD_LIST_SINGLE = 7,  /**< "list-single". */
    XMPP_FIELD_TEXT_MULTI = 8,   /**< "text-multi". */
    XMPP_FIELD_TEXT_PRIVATE = 9, /**< "text-private". */
    XMPP_FIELD_NONE = 10         /**< No type given (only in submit/result
                                      forms, where it may be omitted). */
} xmpp_form_field_type;

/**
 * Creates an empty form.
 * @param out receives the form; free with xmpp_form_free().
 * @param ctx the context whose allocator is used.
 * @param type the form type.
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID or ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_form_new(xmpp_form **out, xmpp_ctx *ctx, xmpp_form_type type);

/**
 * Parses an &lt;x xmlns='jabber:x:data'/&gt; element (reported/item
 * tables are skipped).
 * @param out receives the form; free with xmpp_form_free().
 * @param ctx the context whose allocator is used.
 * @param x the element (borrowed).
 * @return ::XMPP_OK; ::XMPP_ERR_INVALID (not a data form, or malformed as
 *         listed in the file description); ::XMPP_ERR_LIMIT (a bound is
 *         exceeded); ::XMPP_ERR_NOMEM. On error *out is NULL.
 */
XMPP_EXTERN int xmpp_form_parse(xmpp_form **out, xmpp_ctx *ctx, const xmpp_stanza *x);

/**
 * Finds the first data form child of an element and parses it.
 * @param out receives the form, or NULL when there is none.
 * @param ctx the context.
 * @param parent the element holding the form (e.g. a &lt;query/&gt;).
 * @return as xmpp_form_parse(); ::XMPP_ERR_NOT_FOUND when there is no
 *         form child.
 */
XMPP_EXTERN int xmpp_form_parse_child(xmpp_form **out, xmpp_ctx *ctx, const xmpp_stanza *parent);

/** Frees a form. Accepts NULL. @param f the form. */
XMPP_EXTERN void xmpp_form_free(xmpp_form *f);

/**
 * The form type.
 * @param f the form.
 * @return the type (::XMPP_FORM_FORM for NULL).
 */
XMPP_EXTERN xmpp_form_type xmpp_form_get_type(const xmpp_form *f);

/**
 * The title.
 * @param f the form.
 * @return the title, or NULL when there is none.
 */
XMPP_EXTERN const char *xmpp_form_title(const xmpp_form *f);

/**
 * The instructions, several &lt;instructions/&gt; joined with newlines.
 * @param f the form.
 * @return the text, or NULL when there is none.
 */
XMPP_EXTERN const char *xmpp_form_instructions(const xmpp_form *f);

/**
 * Sets the title.
 * @param f the form.
 * @param title the title (copied), or NULL to remove it.
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID, ::XMPP_ERR_UTF8, ::XMPP_ERR_LIMIT
 *         or ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_form_set_title(xmpp_form *f, const char *title);

/**
 * The value of the hidden FORM_TYPE field (XEP-0068).
 * @param f the form.
 * @return the value, or NULL when there is none.
 */
XMPP_EXTERN const char *xmpp_form_form_type(const xmpp_form *f);

/**
 * The number of fields.
 * @param f the form.
 * @return the count (0 for NULL).
 */
XMPP_EXTERN size_t xmpp_form_field_count(const xmpp_form *f);

/**
 * The index of the field with a var.
 * @param f the form.
 * @param var the field's var.
 * @return the index (>= 0), ::XMPP_ERR_NOT_FOUND or ::XMPP_ERR_INVALID.
 */
XMPP_EXTERN int xmpp_form_field_index(const xmpp_form *f, const char *var);

/**
 * A field's var.
 * @param f the form.
 * @param i the field's index.
 * @return the var, or NULL (a fixed field without var, or @p i out of range).
 */
XMPP_EXTERN const char *xmpp_form_field_var(const xmpp_form *f, size_t i);

/**
 * A field's type.
 * @param f the form.
 * @param i the field's index.
 * @return the type (::XMPP_FIELD_NONE when @p i is out of range).
 */
XMPP_EXTERN xmpp_form_field_type xmpp_form_field_type_at(const xmpp_form *f, size_t i);

/**
 * The name of a field type ("text-single", ...).
 * @param t the type.
 * @return a static string, or NULL for ::XMPP_FIELD_NONE and unknown values.
 */
XMPP_EXTERN const char *xmpp_form_field_type_name(xmpp_form_field_type t);

/**
 * A field's label.
 * @param f the form.
 * @param i the field's index.
 * @return the label, or NULL.
 */
XMPP_EXTERN const char *xmpp_form_field_label(const xmpp_form *f, size_t i);

/**
 * A field's description (&lt;desc/&gt;).
 * @param f the form.
 * @param i the field's index.
 * @return the description, or NULL.
 */
XMPP_EXTERN const char *xmpp_form_field_desc(const xmpp_form *f, size_t i);

/**
 * Whether a field is marked &lt;required/&gt;.
 * @param f the form.
 * @param i the field's index.
 * @return 1 or 0.
 */
XMPP_EXTERN int xmpp_form_field_required(const xmpp_form *f, size_t i);

/**
 * The number of values of a field.
 * @param f the form.
 * @param i the field's index.
 * @return the count.
 */
XMPP_EXTERN size_t xmpp_form_field_value_count(const xmpp_form *f, size_t i);

/**
 * A value of a field.
 * @param f the form.
 * @param i the field's index.
 * @param j the value's index.
 * @return the value, or NULL when out of range.
 */
XMPP_EXTERN const char *xmpp_form_field_value(const xmpp_form *f, size_t i, size_t j);

/**
 * The number of options of a list field.
 * @param f the form.
 * @param i the field's index.
 * @return the count.
 */
XMPP_EXTERN size_t xmpp_form_field_option_count(const xmpp_form *f, size_t i);

/**
 * An option of a list field.
 * @param f the form.
 * @param i the field's index.
 * @param j the option's index.
 * @param label receives the option's label (or NULL); may be NULL.
 * @return the option's value, or NULL when out of range.
 */
XMPP_EXTERN const char *xmpp_form_field_option(const xmpp_form *f, size_t i, size_t j,
                                               const char **label);

/**
 * The first value of the field with a var.
 * @param f the form.
 * @param var the field's var.
 * @return the value, or NULL (no such field, or no value).
 */
XMPP_EXTERN const char *xmpp_form_get(const xmpp_form *f, const char *var);

/**
 * The value of a boolean field ("1"/"true" or "0"/"false").
 * @param f the form.
 * @param var the field's var.
 * @param out receives 1 or 0.
 * @return ::XMPP_OK; ::XMPP_ERR_NOT_FOUND (no such field or no value);
 *         ::XMPP_ERR_INVALID (not a boolean value).
 */
XMPP_EXTERN int xmpp_form_get_bool(const xmpp_form *f, const char *var, int *out);

/**
 * Adds a field at the end.
 * @param f the form.
 * @param var the var (copied); NULL only for ::XMPP_FIELD_FIXED.
 * @param type the field type.
 * @param label the label (copied), or NULL.
 * @return the new field's index (>= 0); ::XMPP_ERR_INVALID (duplicate
 *         var, bad type); ::XMPP_ERR_UTF8; ::XMPP_ERR_LIMIT; ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_form_add_field(xmpp_form *f, const char *var, xmpp_form_field_type type,
                                    const char *label);

/**
 * Replaces the values of a field with one value, adding the field (as
 * ::XMPP_FIELD_NONE, or text-single in a form of type "form") when the
 * form has none with that var. A boolean field takes "1"/"0"/"true"/
 * "false"; a JID field a valid JID.
 * @param f the form.
 * @param var the field's var.
 * @param value the value (copied), or NULL to remove every value.
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID, ::XMPP_ERR_UTF8, ::XMPP_ERR_LIMIT
 *         or ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_form_set(xmpp_form *f, const char *var, const char *value);

/**
 * Sets a boolean field ("1" or "0").
 * @param f the form.
 * @param var the field's var.
 * @param value 0 or not.
 * @return as xmpp_form_set().
 */
XMPP_EXTERN int xmpp_form_set_bool(xmpp_form *f, const char *var, int value);

/**
 * Appends a value to a field (adding the field as xmpp_form_set() does).
 * @param f the form.
 * @param var the field's var.
 * @param value the value (copied).
 * @return as xmpp_form_set(); ::XMPP_ERR_INVALID also when the field is
 *         single-valued and has a value already.
 */
XMPP_EXTERN int xmpp_form_add_value(xmpp_form *f, const char *var, const char *value);

/**
 * Appends an option to a list field.
 * @param f the form.
 * @param i the field's index.
 * @param label the label (copied), or NULL.
 * @param value the value (copied).
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID, ::XMPP_ERR_UTF8, ::XMPP_ERR_LIMIT
 *         or ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_form_add_option(xmpp_form *f, size_t i, const char *label, const char *value);

/**
 * Builds the submit form answering a form: the FORM_TYPE field, then every
 * field with a var except fixed ones, with its current (default) values
 * and its type; set values afterwards with xmpp_form_set().
 * @param out receives the submit form; free with xmpp_form_free().
 * @param form the form to answer (any type).
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID or ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_form_submit_new(xmpp_form **out, const xmpp_form *form);

/**
 * Checks a submit form against the form it answers: every required field
 * has a value, list-single/list-multi values are among the options.
 * @param submit the submit form.
 * @param form the form it answers.
 * @param bad_var receives the var of the first offending field (borrowed
 *        from @p form), or NULL; may be NULL.
 * @return ::XMPP_OK, ::XMPP_ERR_NOT_FOUND (a required value is missing) or
 *         ::XMPP_ERR_INVALID (a value not among the options).
 */
XMPP_EXTERN int xmpp_form_check(const xmpp_form *submit, const xmpp_form *form,
                                const char **bad_var);

/**
 * Serialises a form to a new &lt;x xmlns='jabber:x:data'/&gt; element. A
 * submit form carries vars, types and values only; the hidden FORM_TYPE
 * field comes first.
 * @param f the form.
 * @param ctx the context for the new element.
 * @param out receives the element (one reference, owned by the caller).
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID or ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_form_to_stanza(const xmpp_form *f, xmpp_ctx *ctx, xmpp_stanza **out);

#ifdef __cplusplus
}
#endif

#endif /* XMPP_XEP_FORMS_H */
