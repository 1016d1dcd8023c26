/* The store prober: a thread that, while the object store cannot be written (a write failed),
 * writes a probe object (1 MiB) every interval until one succeeds, so that the cached state that /readyz
 * reads turns back to writable once room is made or the store returns, also when no round writes
 * meanwhile. It does nothing while writes succeed. */
#ifndef WG_STORE_PROBER_H
#define WG_STORE_PROBER_H

struct wg_store;
struct wg_store_prober;

/* name (this daemon's instance id) names the probe object; NULL when the thread cannot start. */
struct wg_store_prober *wg_store_prober_start(struct wg_store *s, const char *name, long interval_ms);
void wg_store_prober_stop(struct wg_store_prober *p);

#endif
