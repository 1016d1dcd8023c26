/* Applying the embedded migrations: in order, once each, each inside its own transaction, under
 * an advisory lock so that daemons starting together do not race. */
#include "config.h"
#include "db/db.h"
#include "db/migrations.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

/* An arbitrary constant naming this project's migration lock. */
#define MIGRATION_LOCK_KEY "7301620394551"

/* Statements sent before the schema exists cannot be prepared once per connection; they are
 * still parameterised and sent with PQexecParams. The migration scripts themselves are DDL
 * scripts of several statements and are the one thing sent with PQexec. */
static bool run(PGconn *pg, const char *sql, int n, const char *const *values, PGresult **out, char *err,
                size_t err_len)
{
  PGresult *r = PQexecParams(pg, sql, n, NULL, values, NULL, NULL, 0);
  ExecStatusType st = PQresultStatus(r);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    snprintf(err, err_len, "%s", PQresultErrorMessage(r));
    PQclear(r);
    return false;
  }
  if (out != NULL)
    *out = r;
  else
    PQclear(r);
  return true;
}

int wg_db_schema_version(void)
{
  int v = 0;
  for (int i = 0; i < wg_migrations_count; i++)
    if (wg_migrations[i].version > v)
      v = wg_migrations[i].version;
  return v;
}

static enum wg_status migrate_locked(PGconn *pg, char *err, size_t err_len)
{
  PGresult *r;
  if (!run(pg,
           "CREATE TABLE IF NOT EXISTS schema_migrations ("
           " version integer PRIMARY KEY, name text NOT NULL,"
           " applied_at timestamptz NOT NULL DEFAULT now())",
           0, NULL, NULL, err, err_len))
    return WG_E_UNAVAILABLE;
  if (!run(pg, "SELECT coalesce(max(version), 0) FROM schema_migrations", 0, NULL, &r, err, err_len))
    return WG_E_UNAVAILABLE;
  int current = atoi(PQgetvalue(r, 0, 0));
  PQclear(r);
  int known = wg_db_schema_version();
  if (current > known) {
    snprintf(err, err_len, "the database schema is at version %d, newer than this binary knows (%d); upgrade the binary",
             current, known);
    return WG_E_CONFLICT;
  }
  for (int i = 0; i < wg_migrations_count; i++) {
    const struct wg_migration *m = &wg_migrations[i];
    if (m->version <= current)
      continue;
    char version[16];
    snprintf(version, sizeof version, "%d", m->version);
    const char *params[] = {version, m->name};
    if (!run(pg, "BEGIN", 0, NULL, NULL, err, err_len))
      return WG_E_UNAVAILABLE;
    PGresult *mr = PQexec(pg, m->sql);
    bool ok = PQresultStatus(mr) == PGRES_COMMAND_OK || PQresultStatus(mr) == PGRES_TUPLES_OK;
    if (!ok)
      snprintf(err, err_len, "migration %s failed: %s", m->name, PQresultErrorMessage(mr));
    PQclear(mr);
    if (ok) {
      char e2[256];
      ok = run(pg, "INSERT INTO schema_migrations (version, name) VALUES ($1::integer, $2)", 2, params, NULL, e2,
               sizeof e2) &&
           run(pg, "COMMIT", 0, NULL, NULL, e2, sizeof e2);
      if (!ok)
        snprintf(err, err_len, "recording migration %s failed: %s", m->name, e2);
    }
    if (!ok) {
      PQclear(PQexec(pg, "ROLLBACK"));
      return WG_E_INTERNAL;
    }
    wg_info("applied migration %s", m->name);
  }
  return WG_OK;
}

enum wg_status wg_db_migrate(PGconn *pg, char *err, size_t err_len)
{
  const char *key[] = {MIGRATION_LOCK_KEY};
  if (!run(pg, "SELECT pg_advisory_lock($1::bigint)", 1, key, NULL, err, err_len))
    return WG_E_UNAVAILABLE;
  enum wg_status s = migrate_locked(pg, err, err_len);
  char e2[256];
  run(pg, "SELECT pg_advisory_unlock($1::bigint)", 1, key, NULL, e2, sizeof e2);
  return s;
}
