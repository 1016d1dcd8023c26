/* Batch priorities (docs/state-machine.md, priority): set by an admin, copied onto every job. */
#ifndef WG_DB_PRIORITIES_H
#define WG_DB_PRIORITIES_H

#include "db/db.h"

extern const struct wg_stmt wg_sql_priorities[];

/* The bounds of a priority (the check of sql/0010_priority.sql). */
#define WG_PRIORITY_MIN (-100)
#define WG_PRIORITY_MAX 100

/* Sets the priority of a batch and of every job it has, in one transaction under the batch lock,
 * so that a round committing new jobs meanwhile either copies the new priority or has its jobs
 * updated. WG_E_NOT_FOUND when the batch does not exist. */
enum wg_status wg_priority_set(struct wg_dbconn *c, int64_t batch, int priority);

#endif
