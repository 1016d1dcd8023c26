/* Time helpers for timed waits. */
#ifndef WG_CLOCK_H
#define WG_CLOCK_H

#include <stdint.h>
#include <time.h>

/* The CLOCK_REALTIME instant ms milliseconds from now, for pthread_cond_timedwait. */
struct timespec wg_deadline_after_ms(long ms);
/* Monotonic milliseconds and microseconds. */
int64_t wg_monotonic_ms(void);
int64_t wg_monotonic_us(void);

#endif
