/* Job leases (docs/state-machine.md, fencing): a random string made at each claim and returned
 * only to the claimant, which sends it back in X-WG-Lease. The database keeps its SHA-256 only,
 * like a token's, so that reading the table (or a backup of it) does not let anyone act on a job. */
#ifndef WG_AUTH_LEASE_H
#define WG_AUTH_LEASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* 128 random bits in lowercase hex. */
#define WG_LEASE_LEN 32

/* A new lease and its hash. False if the random source fails. */
bool wg_lease_new(char out[WG_LEASE_LEN + 1], uint8_t hash[32]);
/* The hash of what a client sent as its lease (any bytes, len of them). */
void wg_lease_hash(const char *lease, size_t len, uint8_t hash[32]);

#endif
