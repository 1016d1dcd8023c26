/* Connection pool, statement execution and the transaction helper.
 *
 * Connections are created lazily and replaced when they break, so the daemon starts and stays up
 * while PostgreSQL is down; callers see WG_E_UNAVAILABLE meanwhile. */
#include "config.h"
#include "db/db.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "common/log.h"

extern const struct wg_stmt *const wg_all_statements[];

struct wg_db {
  char *conninfo;
  int size;
  struct wg_dbconn *conns;
  bool *busy;
  pthread_mutex_t lock;
  pthread_cond_t freed;
  /* For /metrics, under lock: connections handed out, callers waiting for one, and how many
   * acquires ever had to wait (a pool too small shows here before it shows as 503s). */
  int in_use, waiting;
  long long waits;
  /* When a connection attempt last failed (monotonic ms; 0: the last one worked). */
  atomic_llong connect_failed_ms;
};

static void on_notice(void *arg, const char *message)
{
  (void)arg;
  wg_debug("postgres: %s", message);
}

/* How long a statement may wait for its answer (wg_db_set_deadline_ms). */
static atomic_int default_deadline_ms = WG_DB_DEFAULT_DEADLINE_MS;

void wg_db_set_deadline_ms(int ms) { atomic_store(&default_deadline_ms, ms > 0 ? ms : WG_DB_DEFAULT_DEADLINE_MS); }

/* Set once at start, before any thread connects (wg_db_set_password). */
static const char *db_password;

void wg_db_set_password(const char *password) { db_password = password; }

PGconn *wg_db_open_raw(const char *conninfo, char *err, size_t err_len)
{
  /* The defaults come first so that a value in the caller's conninfo overrides them.
   * A peer that silently drops packets (a partition, a dead host) would otherwise hold a
   * connection for the kernel's retransmission timeout, about 15 minutes: keepalive probes
   * from 4 s of silence, every 2 s, and a 10 s limit on unacknowledged data
   * (tcp_user_timeout, which also ends the probing) make the kernel give up within about 10 s,
   * idle or busy. They do nothing on a Unix socket. The password comes after the conninfo, so that
   * the one from --db-password-file wins; libpq skips it when it is NULL. */
  const char *keys[] = {"connect_timeout",  "keepalives",       "keepalives_idle", "keepalives_interval",
                        "keepalives_count", "tcp_user_timeout", "application_name", "dbname",
                        "password",         NULL};
  const char *vals[] = {"3", "1", "4", "2", "3", "10000", "witness-generator", conninfo, db_password, NULL};
  PGconn *pg = PQconnectdbParams(keys, vals, 1);
  if (pg == NULL || PQstatus(pg) != CONNECTION_OK) {
    if (err != NULL)
      snprintf(err, err_len, "%s", pg ? PQerrorMessage(pg) : "out of memory");
    if (err != NULL && err_len > 0 && strlen(err) > 0 && err[strlen(err) - 1] == '\n')
      err[strlen(err) - 1] = '\0';
    PQfinish(pg);
    return NULL;
  }
  PQsetNoticeProcessor(pg, on_notice, NULL);
  /* Sends never block either (await_result flushes under the deadline); PQexec, which the
   * migrations and the listener use, still waits for its answer. */
  PQsetnonblocking(pg, 1);
  return pg;
}

/* The instant a statement sent now must have been answered by, in monotonic ms. */
static int64_t deadline_of(const struct wg_dbconn *c)
{
  int ms = c != NULL && c->deadline_ms > 0 ? c->deadline_ms : atomic_load(&default_deadline_ms);
  return wg_monotonic_ms() + ms;
}

/* Waits until the connection's socket is ready for events or the deadline passes. Returns the
 * ready events, 0 at the deadline, -1 when the socket is gone. */
static int wait_socket(PGconn *pg, short events, int64_t deadline)
{
  int fd = PQsocket(pg);
  if (fd < 0)
    return -1;
  for (;;) {
    int64_t left = deadline - wg_monotonic_ms();
    if (left <= 0)
      return 0;
    struct pollfd pfd = {fd, events, 0};
    int n = poll(&pfd, 1, left > 1000 ? 1000 : (int)left);
    if (n < 0 && errno != EINTR)
      return -1;
    if (n > 0)
      return pfd.revents != 0 ? pfd.revents : events;
  }
}

/* Waits for the answer to what was just sent on pg, at most until deadline, without ever
 * blocking in libpq: a peer that went silent must not hold the caller for as long as the kernel
 * takes to notice. Returns the statement's result (its error, if any), or NULL when the
 * connection failed or the deadline passed: the connection is then unusable, since an answer
 * may still be on its way. */
static PGresult *await_result(PGconn *pg, int64_t deadline, const char *what)
{
  int f;
  while ((f = PQflush(pg)) > 0) {
    int ev = wait_socket(pg, POLLIN | POLLOUT, deadline);
    if (ev <= 0)
      goto timeout_or_gone;
    if ((ev & POLLIN) && !PQconsumeInput(pg))
      return NULL;
  }
  if (f < 0)
    return NULL;
  PGresult *result = NULL;
  for (;;) {
    while (PQisBusy(pg)) {
      int ev = wait_socket(pg, POLLIN, deadline);
      if (ev <= 0) {
        PQclear(result);
        goto timeout_or_gone;
      }
      if (!PQconsumeInput(pg)) {
        PQclear(result);
        return NULL;
      }
    }
    PGresult *r = PQgetResult(pg);
    if (r == NULL)
      return result;
    /* Like PQexec: the last result, unless an earlier one was an error. */
    if (result != NULL && PQresultStatus(result) == PGRES_FATAL_ERROR) {
      PQclear(r);
    } else {
      PQclear(result);
      result = r;
    }
  }
timeout_or_gone:
  if (wg_monotonic_ms() >= deadline)
    wg_warn("the database did not answer %s in time; giving the connection up", what);
  return NULL;
}

/* Runs transaction control (no parameters) under the statement deadline. */
static PGresult *run_plain(struct wg_dbconn *c, const char *sql)
{
  PGresult *r = PQsendQuery(c->pg, sql) ? await_result(c->pg, deadline_of(c), sql) : NULL;
  if (r == NULL)
    c->broken = true;
  return r;
}

/* Prepares every statement of the project on a fresh connection. A statement that fails to
 * prepare because its table does not exist yet (before migrations) is skipped: it is prepared
 * again on the next connection. */
static bool prepare_all(PGconn *pg)
{
  for (int a = 0; wg_all_statements[a] != NULL; a++) {
    for (const struct wg_stmt *s = wg_all_statements[a]; s->name != NULL; s++) {
      PGresult *r = PQsendPrepare(pg, s->name, s->sql, 0, NULL) ? await_result(pg, deadline_of(NULL), s->name) : NULL;
      if (r == NULL)
        return false;
      ExecStatusType st = PQresultStatus(r);
      if (st != PGRES_COMMAND_OK) {
        const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        bool missing_table = state != NULL && strcmp(state, "42P01") == 0;
        if (!missing_table)
          wg_error("preparing %s: %s", s->name, PQresultErrorMessage(r));
        PQclear(r);
        if (PQstatus(pg) != CONNECTION_OK || !missing_table)
          return false;
        continue;
      }
      PQclear(r);
    }
  }
  return true;
}

bool wg_db_check(struct wg_dbconn *c)
{
  if (c->pg == NULL || c->broken || PQstatus(c->pg) != CONNECTION_OK) {
    c->broken = true;
    return false;
  }
  /* An idle connection has nothing to read: a readable socket, or one in error, means that the
   * server closed it (a restart) or that the kernel gave it up (keepalives, after a partition);
   * anything else that came (a notice) is consumed. A server that shut down sent a message
   * before it closed: one read takes the message, the next finds the end, so read until the
   * socket has nothing more. */
  struct pollfd pfd = {PQsocket(c->pg), POLLIN, 0};
  if (pfd.fd < 0)
    c->broken = true;
  for (int reads = 0; !c->broken && reads < 8 && poll(&pfd, 1, 0) > 0; reads++)
    if (!PQconsumeInput(c->pg) || PQstatus(c->pg) != CONNECTION_OK)
      c->broken = true;
  return !c->broken;
}

struct wg_dbconn *wg_db_connect(const char *conninfo, char *err, size_t err_len)
{
  PGconn *pg = wg_db_open_raw(conninfo, err, err_len);
  if (pg == NULL)
    return NULL;
  if (!prepare_all(pg)) {
    if (err != NULL)
      snprintf(err, err_len, "could not prepare statements");
    PQfinish(pg);
    return NULL;
  }
  struct wg_dbconn *c = calloc(1, sizeof *c);
  c->pg = pg;
  c->slot = -1;
  return c;
}

void wg_db_disconnect(struct wg_dbconn *c)
{
  if (c == NULL)
    return;
  PQfinish(c->pg);
  free(c);
}

bool wg_db_reconnect(struct wg_dbconn *c, const char *conninfo)
{
  PQfinish(c->pg);
  c->pg = wg_db_open_raw(conninfo, NULL, 0);
  if (c->pg != NULL && !prepare_all(c->pg)) {
    PQfinish(c->pg);
    c->pg = NULL;
  }
  c->broken = c->pg == NULL;
  return !c->broken;
}

struct wg_db *wg_db_open(const char *conninfo, int size)
{
  struct wg_db *db = calloc(1, sizeof *db);
  db->conninfo = strdup(conninfo);
  db->size = size;
  atomic_init(&db->connect_failed_ms, 0);
  db->conns = calloc((size_t)size, sizeof *db->conns);
  db->busy = calloc((size_t)size, sizeof *db->busy);
  for (int i = 0; i < size; i++) {
    db->conns[i].db = db;
    db->conns[i].slot = i;
  }
  pthread_mutex_init(&db->lock, NULL);
  pthread_cond_init(&db->freed, NULL);
  return db;
}

void wg_db_close(struct wg_db *db)
{
  if (db == NULL)
    return;
  for (int i = 0; i < db->size; i++)
    PQfinish(db->conns[i].pg);
  pthread_mutex_destroy(&db->lock);
  pthread_cond_destroy(&db->freed);
  free(db->conns);
  free(db->busy);
  free(db->conninfo);
  free(db);
}

void wg_db_pool_counts(struct wg_db *db, struct wg_db_pool_counts *out)
{
  pthread_mutex_lock(&db->lock);
  out->size = db->size;
  out->in_use = db->in_use;
  out->waiting = db->waiting;
  out->waits = db->waits;
  pthread_mutex_unlock(&db->lock);
}

struct wg_dbconn *wg_db_acquire(struct wg_db *db, int wait_ms)
{
  struct timespec deadline = wg_deadline_after_ms(wait_ms);
  pthread_mutex_lock(&db->lock);
  int slot = -1;
  bool waited = false;
  for (;;) {
    /* Prefer a live connection over one that must be (re)made. */
    for (int i = 0; i < db->size && slot < 0; i++)
      if (!db->busy[i] && db->conns[i].pg != NULL && !db->conns[i].broken)
        slot = i;
    for (int i = 0; i < db->size && slot < 0; i++)
      if (!db->busy[i])
        slot = i;
    if (slot >= 0)
      break;
    if (!waited)
      db->waits++;
    waited = true;
    db->waiting++;
    int rc = pthread_cond_timedwait(&db->freed, &db->lock, &deadline);
    db->waiting--;
    if (rc == ETIMEDOUT) {
      pthread_mutex_unlock(&db->lock);
      return NULL;
    }
  }
  db->busy[slot] = true;
  db->in_use++;
  pthread_mutex_unlock(&db->lock);

  struct wg_dbconn *c = &db->conns[slot];
  if (!wg_db_check(c)) {
    /* While the database cannot be reached, one attempt a second: the requests meanwhile are
     * answered 503 at once instead of each holding its HTTP thread for connect_timeout (a
     * silent database answers no connection attempt), which would stall the other connections
     * that thread serves. */
    long long failed = atomic_load(&db->connect_failed_ms);
    bool skip = failed != 0 && wg_monotonic_ms() - failed < 1000;
    if (skip || !wg_db_reconnect(c, db->conninfo)) {
      if (!skip)
        atomic_store(&db->connect_failed_ms, wg_monotonic_ms());
      wg_db_release(c);
      return NULL;
    }
    atomic_store(&db->connect_failed_ms, 0);
  }
  return c;
}

void wg_db_release(struct wg_dbconn *c)
{
  if (c == NULL)
    return;
  struct wg_db *db = c->db;
  if (c->pg != NULL && !c->broken && PQtransactionStatus(c->pg) != PQTRANS_IDLE) {
    /* A caller left a transaction open (a bug or a failure path): never hand that on. */
    PQclear(run_plain(c, "ROLLBACK"));
    if (PQtransactionStatus(c->pg) != PQTRANS_IDLE)
      c->broken = true;
  }
  pthread_mutex_lock(&db->lock);
  db->busy[c->slot] = false;
  db->in_use--;
  pthread_cond_signal(&db->freed);
  pthread_mutex_unlock(&db->lock);
}

void wg_p_reset(struct wg_params *p) { p->n = 0; }

static void push(struct wg_params *p, const char *v, int len, int fmt)
{
  if (p->n >= WG_MAX_PARAMS) {
    wg_error("too many statement parameters");
    abort();
  }
  p->values[p->n] = v;
  p->lengths[p->n] = len;
  p->formats[p->n] = fmt;
  p->n++;
}

void wg_p_int(struct wg_params *p, int64_t v)
{
  int i = p->n < WG_MAX_PARAMS ? p->n : 0; /* push() aborts on overflow */
  snprintf(p->numbers[i], sizeof p->numbers[i], "%" PRId64, v);
  push(p, p->numbers[i], 0, 0);
}

void wg_p_text(struct wg_params *p, const char *s) { push(p, s, 0, 0); }
void wg_p_null(struct wg_params *p) { push(p, NULL, 0, 0); }
void wg_p_bytes(struct wg_params *p, const void *data, size_t len) { push(p, data, (int)len, 1); }

static bool is_connection_failure(PGconn *pg, const char *state)
{
  if (PQstatus(pg) != CONNECTION_OK)
    return true;
  /* Class 08 (connection exception), 57P01-57P03 (shutdown, cannot connect now). */
  return state != NULL && (strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0);
}

static __thread bool last_retryable;

enum wg_status wg_db_exec(struct wg_dbconn *c, const char *stmt, const struct wg_params *p, bool binary_result,
                          PGresult **res)
{
  static const struct wg_params none = {0};
  if (p == NULL)
    p = &none;
  if (res != NULL)
    *res = NULL;
  last_retryable = false;
  if (c->pg == NULL || c->broken)
    return WG_E_UNAVAILABLE;
  PGresult *r = PQsendQueryPrepared(c->pg, stmt, p->n, p->values, p->lengths, p->formats, binary_result ? 1 : 0)
                  ? await_result(c->pg, deadline_of(c), stmt)
                  : NULL;
  if (r == NULL) {
    c->broken = true;
    if (*PQerrorMessage(c->pg) != '\0') /* else await_result said that the deadline passed */
      wg_warn("database connection lost during %s: %s", stmt, PQerrorMessage(c->pg));
    return WG_E_UNAVAILABLE;
  }
  ExecStatusType st = PQresultStatus(r);
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
    if (res != NULL)
      *res = r;
    else
      PQclear(r);
    return WG_OK;
  }
  const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
  enum wg_status s = WG_E_INTERNAL;
  if (is_connection_failure(c->pg, state)) {
    c->broken = true;
    s = WG_E_UNAVAILABLE;
    wg_warn("database connection lost during %s: %s", stmt, PQerrorMessage(c->pg));
  } else if (state != NULL && strcmp(state, "23505") == 0) {
    s = WG_E_CONFLICT;
  } else if (state != NULL && (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0)) {
    s = WG_E_CONFLICT;
    last_retryable = true;
  } else if (state != NULL && strcmp(state, "26000") == 0) {
    /* The statement is not prepared on this connection (it was made before a migration):
     * replace the connection. */
    c->broken = true;
    s = WG_E_UNAVAILABLE;
  } else {
    wg_error("statement %s failed: %s", stmt, PQresultErrorMessage(r));
  }
  PQclear(r);
  return s;
}

enum wg_status wg_db_exec_row(struct wg_dbconn *c, const char *stmt, const struct wg_params *p, bool binary_result,
                              PGresult **res)
{
  enum wg_status s = wg_db_exec(c, stmt, p, binary_result, res);
  if (s == WG_OK && PQntuples(*res) == 0) {
    PQclear(*res);
    *res = NULL;
    s = WG_E_NOT_FOUND;
  }
  return s;
}

enum wg_status wg_db_fetch_bytes(struct wg_dbconn *c, const char *stmt, const struct wg_params *p, uint8_t **data,
                                 size_t *len)
{
  PGresult *r;
  enum wg_status s = wg_db_exec_row(c, stmt, p, true, &r);
  if (s != WG_OK)
    return s;
  *len = (size_t)PQgetlength(r, 0, 0);
  *data = malloc(*len + 1);
  if (*data == NULL) {
    PQclear(r);
    return WG_E_INTERNAL;
  }
  memcpy(*data, PQgetvalue(r, 0, 0), *len);
  (*data)[*len] = 0;
  PQclear(r);
  return WG_OK;
}

static enum wg_status exec_plain(struct wg_dbconn *c, const char *sql)
{
  PGresult *r = run_plain(c, sql);
  if (r == NULL)
    return WG_E_UNAVAILABLE;
  enum wg_status s = WG_OK;
  if (PQresultStatus(r) != PGRES_COMMAND_OK) {
    if (PQstatus(c->pg) != CONNECTION_OK) {
      c->broken = true;
      s = WG_E_UNAVAILABLE;
    } else {
      const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
      last_retryable = state != NULL && (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0);
      s = last_retryable ? WG_E_CONFLICT : WG_E_INTERNAL;
      if (!last_retryable)
        wg_error("%s failed: %s", sql, PQresultErrorMessage(r));
    }
  }
  PQclear(r);
  return s;
}

enum wg_status wg_db_tx(struct wg_dbconn *c, wg_tx_fn fn, void *arg)
{
  for (int attempt = 0;; attempt++) {
    if (c->pg == NULL || c->broken)
      return WG_E_UNAVAILABLE;
    /* Transaction control has no parameters; it is the one kind of statement sent unprepared. */
    enum wg_status s = exec_plain(c, "BEGIN");
    if (s != WG_OK)
      return s;
    s = fn(c, arg);
    bool retry = last_retryable;
    if (s == WG_OK) {
      s = exec_plain(c, "COMMIT");
      retry = last_retryable;
      if (s == WG_OK)
        return WG_OK;
    }
    if (!c->broken && PQtransactionStatus(c->pg) != PQTRANS_IDLE)
      exec_plain(c, "ROLLBACK");
    if (!(retry && s == WG_E_CONFLICT) || attempt >= 20)
      return s;
  }
}

int64_t wg_db_int(const PGresult *r, int row, int col)
{
  const char *v = PQgetvalue(r, row, col);
  return v ? strtoll(v, NULL, 10) : 0;
}

const char *wg_db_str(const PGresult *r, int row, int col)
{
  return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}

bool wg_db_isnull(const PGresult *r, int row, int col) { return PQgetisnull(r, row, col) != 0; }
