/* The database layer: a pool of libpq connections, each with every statement of the project
 * prepared once by name, parameter building, and the one transaction helper.
 * It knows nothing of HTTP. */
#ifndef WG_DB_H
#define WG_DB_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/status.h"

/* A named statement. Each file under db/ that owns a table lists its statements in an array ending
 * with {NULL, NULL}; db/statements.c gathers the arrays. */
struct wg_stmt {
  const char *name;
  const char *sql;
};

struct wg_db;
struct wg_dbconn {
  PGconn *pg;
  struct wg_db *db;
  bool broken; /* the connection failed; it is replaced before its next use */
  int slot;
  int deadline_ms; /* how long its statements may wait for an answer; 0: wg_db_set_deadline_ms's */
};

/* Opens a pool of `size` connections to conninfo. Connections are made lazily, so this succeeds
 * while the database is down. */
struct wg_db *wg_db_open(const char *conninfo, int size);
void wg_db_close(struct wg_db *db);

/* Takes a connection, connecting (and preparing every statement) if needed; waits up to
 * wait_ms for a free one. Returns NULL when the database cannot be reached or none is free. */
struct wg_dbconn *wg_db_acquire(struct wg_db *db, int wait_ms);
void wg_db_release(struct wg_dbconn *c);
/* The pool's use right now, for /metrics. */
struct wg_db_pool_counts {
  int size, in_use, waiting;
  long long waits; /* acquires that found no free connection, since start */
};
void wg_db_pool_counts(struct wg_db *db, struct wg_db_pool_counts *out);

/* A standalone connection outside the pool (round workers, the listener, wgctl), with every
 * statement prepared. NULL on failure; *err (when not NULL) gets the libpq message. */
struct wg_dbconn *wg_db_connect(const char *conninfo, char *err, size_t err_len);
void wg_db_disconnect(struct wg_dbconn *c);
/* A bare libpq connection with nothing prepared (for migrations, before the tables exist). */
PGconn *wg_db_open_raw(const char *conninfo, char *err, size_t err_len);
/* The password of every connection made from now on (--db-password-file), given to libpq as its
 * own keyword rather than written into a conninfo string that could be shown; it wins over a
 * password in the conninfo. Borrowed: it must outlive every connection attempt. Call before any
 * thread connects; NULL forgets it. */
void wg_db_set_password(const char *password);
/* False, and the connection marked broken, when an idle connection is known to be dead: the
 * server closed it or the kernel gave it up. Cheap (no round trip). */
bool wg_db_check(struct wg_dbconn *c);
/* Reconnects a broken standalone connection. */
bool wg_db_reconnect(struct wg_dbconn *c, const char *conninfo);

/* A statement not answered within its deadline (wg_dbconn.deadline_ms, else this, settable with
 * --db-deadline) fails as WG_E_UNAVAILABLE and its connection is given up: a database that went
 * silent must not hold a caller for minutes. Generous, because a healthy statement that overruns
 * it (a very large batch's inserts) fails too; the TCP keepalives and user timeout that every
 * connection gets notice a silent peer within about 10 s anyway. */
#define WG_DB_DEFAULT_DEADLINE_MS 30000
void wg_db_set_deadline_ms(int ms);

/* Statement parameters. Integers and text travel as text, bytes as binary. */
#define WG_MAX_PARAMS 16
struct wg_params {
  int n;
  const char *values[WG_MAX_PARAMS];
  int lengths[WG_MAX_PARAMS];
  int formats[WG_MAX_PARAMS];
  char numbers[WG_MAX_PARAMS][24];
};
void wg_p_reset(struct wg_params *p);
void wg_p_int(struct wg_params *p, int64_t v);
void wg_p_text(struct wg_params *p, const char *s); /* NULL gives SQL NULL */
void wg_p_bytes(struct wg_params *p, const void *data, size_t len);
void wg_p_null(struct wg_params *p);

/* Runs a prepared statement. *res (when not NULL) receives the result, which the caller clears;
 * binary_result asks for binary columns. Returns WG_OK, WG_E_UNAVAILABLE on a connection failure
 * (the connection is marked broken), WG_E_CONFLICT on a unique violation, WG_E_INTERNAL else.
 * Serialization failures and deadlocks are also WG_E_CONFLICT; wg_db_tx retries those. */
enum wg_status wg_db_exec(struct wg_dbconn *c, const char *stmt, const struct wg_params *p, bool binary_result,
                          PGresult **res);

/* wg_db_exec for a statement that must return a row: WG_E_NOT_FOUND (and no result to clear)
 * when it returns none. */
enum wg_status wg_db_exec_row(struct wg_dbconn *c, const char *stmt, const struct wg_params *p, bool binary_result,
                              PGresult **res);

/* Runs a statement whose result is one bytea column and copies the first row's value into a
 * malloc'd, NUL-terminated buffer. WG_E_NOT_FOUND when there is no row. */
enum wg_status wg_db_fetch_bytes(struct wg_dbconn *c, const char *stmt, const struct wg_params *p, uint8_t **data,
                                 size_t *len);

/* Runs fn inside BEGIN ... COMMIT, retrying the whole transaction on serialization failures and
 * deadlocks. fn returns WG_OK to commit; anything else rolls back and is returned. */
typedef enum wg_status (*wg_tx_fn)(struct wg_dbconn *c, void *arg);
enum wg_status wg_db_tx(struct wg_dbconn *c, wg_tx_fn fn, void *arg);

/* SQL for the retry backoff of a job row being sent back to queued: BASE seconds doubled per
 * claim used since the last operator requeue, at most MAX (both statement parameters). The
 * doubling stops at 2^30 (past any MAX of --retry-max), so that power() cannot overflow double
 * precision however many attempts --max-attempts allows. */
#define WG_SQL_BACKOFF(BASE, MAX)                                                                              \
  "make_interval(secs => least(" MAX "::double precision, " BASE "::double precision"                       \
  " * power(2, least(greatest(attempts - attempts_base - 1, 0), 30))))"

/* SQL for a timestamptz column as the one timestamp format of every reply and of wgctl: RFC 3339
 * in UTC with milliseconds, e.g. 2026-12-05T00:10:00.123Z (NULL stays NULL). */
#define WG_SQL_UTC(COLUMN) "to_char(" COLUMN " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

/* SQL for the priority of batch BATCH (a statement parameter), which every job inserted for the
 * batch copies (docs/state-machine.md, priority). Read after the round took the batch lock
 * shared (db/batch_locks.h), so a priority being set under the exclusive lock is either seen here
 * or sees these rows. A batch deleted meanwhile has no row: 0, and the insert finds nothing. */
#define WG_SQL_BATCH_PRIORITY(BATCH)                                                                           \
  "coalesce((SELECT priority FROM basic_circuit_witness_jobs WHERE l1_batch_number = " BATCH "), 0)"

/* Result helpers for text-format results. */
int64_t wg_db_int(const PGresult *r, int row, int col);
const char *wg_db_str(const PGresult *r, int row, int col); /* NULL for SQL NULL */
bool wg_db_isnull(const PGresult *r, int row, int col);

/* Applies pending migrations (db/migrations.c) under an advisory lock. Refuses a database whose
 * schema is newer than this binary knows. Returns WG_OK, or fills err. */
enum wg_status wg_db_migrate(PGconn *pg, char *err, size_t err_len);
/* The newest migration this binary carries. */
int wg_db_schema_version(void);

#endif
