/* explain_claims: prints the plans of every claim statement of the project, and of the queue
 * report, as prepared on a connection of the daemon's own (wg_db_connect), so that a test can
 * check that each one reads its partial index of queued rows (the report: of unfinished and of
 * recently successful rows). EXPLAIN without ANALYZE: nothing is claimed.
 *
 * Each statement is explained twice: with the custom plan that PostgreSQL makes for these
 * arguments ("== custom" headers), and with its generic plan ("== generic" headers), made under
 * plan_cache_mode = force_generic_plan. A prepared statement switches to its generic plan after
 * five executions when that plan looks no dearer, so the daemon's claims run on it for most of
 * their life, and it must read the index as well.
 *
 *   explain_claims CONNINFO */
#include "config.h"

#include <stdio.h>

#include "db/db.h"

/* EXPLAIN EXECUTE takes the statement's arguments as literals: these are fixed, not input. */
static const char *const claims[] = {
  "EXPLAIN EXECUTE prover_claim('{explain}', 600, 24, NULL, NULL, 8, '{}', '{}')",
  "EXPLAIN EXECUTE prover_claim('{explain}', 600, 24, '{0}', NULL, 1, '{}', '{}')",
  "EXPLAIN EXECUTE witness_claim_basic('explain', 60, 0)",
  /* With --max-circuits-in-flight: the count walks the partial indexes of queued and leased rows. */
  "EXPLAIN EXECUTE witness_claim_basic('explain', 60, 1000)",
  "EXPLAIN EXECUTE witness_claim_leaf('explain', 60)",
  "EXPLAIN EXECUTE witness_claim_node('explain', 60)",
  "EXPLAIN EXECUTE witness_claim_sched('explain', 60)",
  "EXPLAIN EXECUTE queue_report",
};

int main(int argc, char **argv)
{
  if (argc != 2) {
    fprintf(stderr, "usage: explain_claims CONNINFO\n");
    return 2;
  }
  char err[512];
  struct wg_dbconn *c = wg_db_connect(argv[1], err, sizeof err);
  if (c == NULL) {
    fprintf(stderr, "explain_claims: %s\n", err);
    return 1;
  }
  int rc = 0;
  static const char *const modes[] = {"custom", "generic"};
  static const char *const settings[] = {"SET plan_cache_mode = force_custom_plan",
                                         "SET plan_cache_mode = force_generic_plan"};
  for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
    PGresult *r = PQexec(c->pg, settings[m]);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
      fprintf(stderr, "explain_claims: %s: %s", settings[m], PQresultErrorMessage(r));
      PQclear(r);
      wg_db_disconnect(c);
      return 1;
    }
    PQclear(r);
    for (size_t i = 0; i < sizeof claims / sizeof claims[0]; i++) {
      r = PQexec(c->pg, claims[i]);
      if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        fprintf(stderr, "explain_claims: %s (%s plan): %s", claims[i], modes[m], PQresultErrorMessage(r));
        rc = 1;
      } else {
        printf("== %s %s\n", modes[m], claims[i]);
        for (int row = 0; row < PQntuples(r); row++)
          printf("%s\n", PQgetvalue(r, row, 0));
      }
      PQclear(r);
    }
  }
  wg_db_disconnect(c);
  return rc;
}
