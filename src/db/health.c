/* The readiness probe's query and the thread that runs it (see health.h). */
#include "config.h"
#include "db/health.h"

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"

/* A ping waits at most PING_DEADLINE_MS; one comes every PING_EVERY_MS; the last answer counts
 * for STALE_MS, so that a thread stuck connecting to a silent database reads as not ready. */
#define PING_DEADLINE_MS 1500
#define PING_EVERY_MS 1000
#define STALE_MS 3000

const struct wg_stmt wg_sql_health[] = {
  {"health_ping", "SELECT 1"},
  {NULL, NULL},
};

enum wg_status wg_db_ping(struct wg_dbconn *c) { return wg_db_exec(c, "health_ping", NULL, false, NULL); }

struct wg_health {
  char *conninfo;
  struct wg_dbconn *conn; /* the thread's own */
  pthread_t thread;
  atomic_bool stopping;
  atomic_llong answered_ms; /* monotonic time of the last answered ping; 0 after a failure */
};

/* Connects if needed and pings once; records the outcome. */
static void check(struct wg_health *h)
{
  if (h->conn != NULL && !wg_db_check(h->conn)) {
    atomic_store(&h->answered_ms, 0); /* before reconnecting, which may take connect_timeout */
    wg_db_reconnect(h->conn, h->conninfo);
  } else if (h->conn == NULL) {
    h->conn = wg_db_connect(h->conninfo, NULL, 0);
  }
  bool ok = false;
  if (h->conn != NULL && !h->conn->broken) {
    h->conn->deadline_ms = PING_DEADLINE_MS;
    ok = wg_db_ping(h->conn) == WG_OK;
  }
  atomic_store(&h->answered_ms, ok ? wg_monotonic_ms() : 0);
}

/* Waits for the next ping, or less: a connection that the server closes (a stop, a restart)
 * wakes it at once, so that readiness falls with the database and not a second later. */
static void pause_between_pings(struct wg_health *h)
{
  int64_t until = wg_monotonic_ms() + PING_EVERY_MS;
  while (!atomic_load(&h->stopping) && wg_monotonic_ms() < until) {
    struct pollfd pfd = {h->conn != NULL && !h->conn->broken ? PQsocket(h->conn->pg) : -1, POLLIN, 0};
    if (poll(&pfd, 1, 100) > 0)
      return;
  }
}

static void *health_main(void *arg)
{
  struct wg_health *h = arg;
  for (;;) {
    pause_between_pings(h);
    if (atomic_load(&h->stopping))
      break;
    check(h);
  }
  return NULL;
}

struct wg_health *wg_health_start(const char *conninfo)
{
  struct wg_health *h = calloc(1, sizeof *h);
  if (h == NULL || (h->conninfo = strdup(conninfo)) == NULL)
    goto fail;
  atomic_init(&h->stopping, false);
  atomic_init(&h->answered_ms, 0);
  check(h);
  if (pthread_create(&h->thread, NULL, health_main, h) != 0)
    goto fail;
  return h;
fail:
  if (h != NULL) {
    wg_db_disconnect(h->conn);
    free(h->conninfo);
  }
  free(h);
  return NULL;
}

void wg_health_stop(struct wg_health *h)
{
  if (h == NULL)
    return;
  atomic_store(&h->stopping, true);
  pthread_join(h->thread, NULL);
  wg_db_disconnect(h->conn);
  free(h->conninfo);
  free(h);
}

bool wg_health_db_ready(struct wg_health *h)
{
  if (h == NULL)
    return false;
  long long at = atomic_load(&h->answered_ms);
  return at != 0 && wg_monotonic_ms() - at <= STALE_MS;
}
