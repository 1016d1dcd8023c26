/* Human output of wgctl: aligned text tables and readable durations. Scripts use --json instead,
 * so nothing here is a stable format. */
#ifndef WG_CLI_TABLE_H
#define WG_CLI_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct wg_table;

/* A table with the given column headers (NULL-terminated); columns whose header is in right
 * (by index, a bit mask) are right-aligned, for numbers. */
struct wg_table *wg_table_new(const char *const *headers, unsigned right);
/* Appends a row; takes printf-formatted cells, one argument string per column (NULL prints "-"). */
void wg_table_row(struct wg_table *t, ...);
/* Prints the table with columns padded to their widest cell, then frees it. */
void wg_table_print(struct wg_table *t, FILE *f);

/* "0 s", "450 ms", "2.3 s", "4 min 12 s", "3 h 05 min"; "-" for a negative value (unknown). */
void wg_format_duration(double seconds, char *out, size_t n);

#endif
