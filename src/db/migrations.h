/* The migrations embedded from the sql directory at build time (see sql/embed.awk). */
#ifndef WG_MIGRATIONS_H
#define WG_MIGRATIONS_H

struct wg_migration {
  int version;
  const char *name;
  const char *sql;
};

extern const struct wg_migration wg_migrations[];
extern const int wg_migrations_count;

#endif
