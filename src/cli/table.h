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
/* Appends a row; takes one argument string per column (NULL prints "-"), shown as wg_cli_text
 * shows it. */
void wg_table_row(struct wg_table *t, ...);
/* Prints the table with columns padded to their widest cell, then frees it. */
void wg_table_print(struct wg_table *t, FILE *f);

/* What wgctl prints of text it did not write itself (names, errors, statuses from the database,
 * where a row written before client text was cleaned may hold anything): s with control
 * characters escaped and, when the terminal's character set (the locale's) is not UTF-8, every
 * non-ASCII character too (common/text.h). A new string the caller frees; "-" for NULL. */
char *wg_cli_text(const char *s);
/* Reads the character set from the locale (LC_ALL, LC_CTYPE, LANG); once, before any output. */
void wg_cli_text_init(void);

/* "0 s", "450 ms", "2.3 s", "4 min 12 s", "3 h 05 min"; "-" for a negative value (unknown). */
void wg_format_duration(double seconds, char *out, size_t n);

#endif
