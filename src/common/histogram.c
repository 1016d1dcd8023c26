/* Latency histograms (common/histogram.h). */
#include "config.h"
#include "common/histogram.h"

#include <string.h>

#include "common/strbuf.h"

const int64_t wg_histogram_fast[WG_HISTOGRAM_N_FAST] = {500,    1000,   2500,   5000,    10000,   25000,   50000,
                                                        100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000};
const int64_t wg_histogram_slow[WG_HISTOGRAM_N_SLOW] = {10000,    50000,    100000,   250000,   500000,
                                                        1000000,  2500000,  5000000,  10000000, 30000000,
                                                        60000000, 120000000, 300000000};

void wg_histogram_observe(struct wg_histogram *h, const int64_t *bounds, size_t n, int64_t micros)
{
  size_t i = 0;
  while (i < n && micros > bounds[i])
    i++;
  atomic_fetch_add(&h->counts[i], 1);
  atomic_fetch_add(&h->micros, (unsigned long long)(micros > 0 ? micros : 0));
}

void wg_histogram_render(struct wg_strbuf *b, const char *name, const char *labels, struct wg_histogram *h,
                         const int64_t *bounds, size_t n)
{
  unsigned long long total = 0;
  for (size_t i = 0; i < n; i++) {
    total += atomic_load(&h->counts[i]);
    wg_strbuf_printf(b, "%s_bucket{%sle=\"%g\"} %llu\n", name, labels, (double)bounds[i] / 1e6, total);
  }
  total += atomic_load(&h->counts[n]);
  size_t len = strlen(labels);
  wg_strbuf_printf(b, "%s_bucket{%sle=\"+Inf\"} %llu\n", name, labels, total);
  /* The label set without its trailing comma. */
  wg_strbuf_printf(b, "%s_sum{%.*s} %.6f\n%s_count{%.*s} %llu\n", name, (int)(len ? len - 1 : 0), labels,
                   (double)atomic_load(&h->micros) / 1e6, name, (int)(len ? len - 1 : 0), labels, total);
}
