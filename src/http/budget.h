/* The memory budget of request bodies (--max-buffered-bytes): the bytes that all requests in
 * flight may hold at once, on the wire and decoded. A request reserves before it allocates and
 * gives everything back when it ends, so that many clients together cannot make the daemon hold
 * more than the budget however many connections they open. */
#ifndef WG_BUDGET_H
#define WG_BUDGET_H

#include <stdbool.h>
#include <stddef.h>

struct wg_budget;

/* NULL when out of memory. */
struct wg_budget *wg_budget_new(size_t limit);
void wg_budget_free(struct wg_budget *b);
/* Takes n bytes; false (and nothing taken, one refusal counted) when they would pass the limit. */
bool wg_budget_reserve(struct wg_budget *b, size_t n);
/* Gives back n bytes taken by wg_budget_reserve. */
void wg_budget_release(struct wg_budget *b, size_t n);

/* Figures for /metrics and for messages. */
size_t wg_budget_limit(const struct wg_budget *b);
size_t wg_budget_used(const struct wg_budget *b);
unsigned long long wg_budget_refusals(const struct wg_budget *b);

#endif
