/* Test helpers: a counting allocator that can fail the Nth allocation, and
 * small utilities shared by the unit tests. */
#ifndef XMPP_TESTHELP_H
#define XMPP_TESTHELP_H

#include <stddef.h>

#include <xmpp/common.h>

typedef struct th_alloc {
    long fail_at;      /* index of the allocation to fail (0-based); -1: never */
    long count;        /* allocations attempted so far */
    long live;         /* allocations not yet freed */
    int failed;        /* set once an allocation was refused */
} th_alloc;

/* Creates a context whose allocator is backed by `state` (which must
 * outlive the context). The context's own allocation is not counted. */
xmpp_ctx *th_ctx_new(th_alloc *state);
/* Resets the counters and sets the failure index. */
void th_alloc_reset(th_alloc *state, long fail_at);

/* Torture loop: runs `scenario` with allocation n failing, for n = 0, 1, ...
 * until a run completes without any refused allocation. After each run it
 * asserts (cmocka) that no allocation leaked. The scenario returns 0 when it
 * succeeded, or a negative error code; it must return an error whenever an
 * allocation was refused, and must free everything it made. Returns the
 * number of allocations of the successful run. */
long th_torture(int (*scenario)(xmpp_ctx *ctx, void *arg), void *arg);

/* Reads a whole file; returns malloc'd data or NULL. */
char *th_read_file(const char *path, size_t *len);

#endif
