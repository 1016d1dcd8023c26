/* Prints the text of one of the daemon's prepared statements, so that a benchmark can drive the
 * daemon's own SQL with pgbench (bench/bench_traffic.sh). Exit status 1 for an unknown name.
 *
 * Usage: bench_sql NAME   (for example prover_claim) */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "db/db.h"

extern const struct wg_stmt *const wg_all_statements[];

int main(int argc, char **argv)
{
  if (argc != 2) {
    fprintf(stderr, "usage: bench_sql NAME\n");
    return 2;
  }
  for (int a = 0; wg_all_statements[a] != NULL; a++)
    for (const struct wg_stmt *s = wg_all_statements[a]; s->name != NULL; s++)
      if (strcmp(s->name, argv[1]) == 0) {
        printf("%s\n", s->sql);
        return 0;
      }
  fprintf(stderr, "bench_sql: no statement named '%s'\n", argv[1]);
  return 1;
}
