/* The store_config table (sql/0008_store_identity.sql): the object store the daemons use,
 * recorded by each daemon at start, so that wgctl's blob commands open that store and no other. */
#ifndef WG_DB_STORE_CONFIG_H
#define WG_DB_STORE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "db/db.h"

extern const struct wg_stmt wg_sql_store_config[];

/* Records url (a store identity, store/store.h) as the daemons' store, written by instance.
 * When another store was recorded before, *previous holds it (else ""). */
enum wg_status wg_store_config_set(struct wg_dbconn *c, const char *url, const char *instance, char *previous,
                                   size_t previous_len);
/* The recorded store: its identity, the instance that recorded it and when (RFC 3339, UTC).
 * WG_E_NOT_FOUND when no daemon has recorded one yet. */
enum wg_status wg_store_config_get(struct wg_dbconn *c, char *url, size_t url_len, char *by, size_t by_len,
                                   char *at, size_t at_len);

#endif
