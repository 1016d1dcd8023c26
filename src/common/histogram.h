/* Latency histograms for /metrics: lock-free counts per bucket, observed by whatever subject times
 * something (HTTP requests, rounds, store operations) and rendered in the Prometheus text format.
 * Below every subject, so that none of them depends on the HTTP layer to be counted. */
#ifndef WG_HISTOGRAM_H
#define WG_HISTOGRAM_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct wg_strbuf;

#define WG_HISTOGRAM_MAX_BUCKETS 16

/* Bucket bounds in microseconds: requests and store operations take milliseconds (fast), round
 * runs up to minutes (slow). */
extern const int64_t wg_histogram_fast[];
#define WG_HISTOGRAM_N_FAST 14
extern const int64_t wg_histogram_slow[];
#define WG_HISTOGRAM_N_SLOW 13

/* Counts per bucket (not cumulative: the last slot is over the largest bound) and the sum. Zero
 * is empty. */
struct wg_histogram {
  atomic_ullong counts[WG_HISTOGRAM_MAX_BUCKETS + 1];
  atomic_ullong micros;
};

void wg_histogram_observe(struct wg_histogram *h, const int64_t *bounds, size_t n, int64_t micros);
/* _count is the sum of the buckets read here, so that +Inf and _count agree even while other
 * threads observe. labels is "" or "k=\"v\"," (with the trailing comma). */
void wg_histogram_render(struct wg_strbuf *b, const char *name, const char *labels, struct wg_histogram *h,
                         const int64_t *bounds, size_t n);

#endif
