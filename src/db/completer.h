/* Group commit of prover job completions. Every completion must be durable before its prover
 * hears 200, and each one also counts a proof on the witness job that waits for its layer: one
 * row shared by a whole circuit type. Committed one at a time, completions would queue on that
 * row's lock, each held through its own commit's flush. The completer instead takes every
 * completion that arrives while a commit is running into the next one: one statement, one flush
 * and one update of each shared row per group. There is no timer: a lone completion is committed
 * at once, and groups grow only as fast as completions pile up behind a running commit
 * (db/combiner.h). */
#ifndef WG_DB_COMPLETER_H
#define WG_DB_COMPLETER_H

#include "db/prover_jobs.h"

struct wg_completer;

/* Starts the committing thread with its own connection to conninfo (made lazily, and again
 * after a failure, so this succeeds while the database is down). NULL when out of resources. */
struct wg_completer *wg_completer_start(const char *conninfo);
/* Answers every completion still waiting with WG_E_UNAVAILABLE and joins the thread. */
void wg_completer_stop(struct wg_completer *k);

/* Commits x in the next group and waits for it; x->status and x->repeat tell the outcome
 * (see wg_prover_jobs_complete). x->proof must stay valid until this returns. */
void wg_completer_submit(struct wg_completer *k, struct wg_completion *x);

/* Groups committed and completions in them since start, for metrics. */
void wg_completer_counts(struct wg_completer *k, int64_t *groups, int64_t *completions);

#endif
