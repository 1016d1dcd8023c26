/* Result codes shared by every layer. The HTTP layer maps them onto statuses and error codes;
 * nothing below it knows about HTTP. */
#ifndef WG_STATUS_H
#define WG_STATUS_H

enum wg_status {
  WG_OK = 0,
  WG_E_NOT_FOUND,   /* the named thing does not exist */
  WG_E_CONFLICT,    /* the request contradicts stored state */
  WG_E_LEASE_LOST,  /* the caller no longer holds the job's lease */
  WG_E_INVALID,     /* well-formed but breaks the contract */
  WG_E_UNAVAILABLE, /* the database (or store) cannot be reached now; retrying may help */
  WG_E_INTERNAL,    /* a bug or an unexpected failure */
  WG_E_DENIED       /* the object store refused access (403): retrying cannot help until an operator acts */
};

/* The name of a result, which is also its error code on the wire ("lease_lost", ...). */
const char *wg_status_name(enum wg_status s);

#endif
