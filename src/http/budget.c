/* The memory budget of request bodies: one atomic count of reserved bytes, compared and
 * swapped, so that a reservation never takes the count past the limit even for a moment. */
#include "config.h"
#include "http/budget.h"

#include <stdatomic.h>
#include <stdlib.h>

struct wg_budget {
  size_t limit;
  atomic_size_t used;
  atomic_ullong refusals;
};

struct wg_budget *wg_budget_new(size_t limit)
{
  struct wg_budget *b = calloc(1, sizeof *b);
  if (b != NULL)
    b->limit = limit;
  return b;
}

void wg_budget_free(struct wg_budget *b) { free(b); }

bool wg_budget_reserve(struct wg_budget *b, size_t n)
{
  size_t used = atomic_load(&b->used);
  do {
    if (n > b->limit || used > b->limit - n) {
      atomic_fetch_add(&b->refusals, 1);
      return false;
    }
  } while (!atomic_compare_exchange_weak(&b->used, &used, used + n));
  return true;
}

void wg_budget_release(struct wg_budget *b, size_t n) { atomic_fetch_sub(&b->used, n); }

size_t wg_budget_limit(const struct wg_budget *b) { return b->limit; }

size_t wg_budget_used(const struct wg_budget *b) { return atomic_load(&b->used); }

unsigned long long wg_budget_refusals(const struct wg_budget *b)
{
  return atomic_load(&b->refusals);
}
