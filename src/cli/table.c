/* Aligned tables for wgctl's human output (see table.h). */
#include "config.h"
#include "cli/table.h"

#include <langinfo.h>
#include <locale.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/text.h"

struct wg_table {
  size_t columns, rows, cap;
  unsigned right;
  char **cells; /* rows + 1 (the header) times columns, row-major */
};

static unsigned escape_flags = WG_ESCAPE_ASCII;

void wg_cli_text_init(void)
{
  /* Only the character set is taken from the locale, and the C locale restored: a terminal
   * that is not UTF-8 may take the bytes of a UTF-8 character for C1 controls (0x9b is CSI). */
  if (setlocale(LC_CTYPE, "") != NULL) {
    const char *set = nl_langinfo(CODESET);
    escape_flags = set != NULL && (strcmp(set, "UTF-8") == 0 || strcmp(set, "utf8") == 0) ? 0 : WG_ESCAPE_ASCII;
    setlocale(LC_CTYPE, "C");
  }
}

char *wg_cli_text(const char *s)
{
  struct wg_strbuf b = {0};
  wg_text_escape(&b, s != NULL ? s : "-", escape_flags);
  return b.s;
}

struct wg_table *wg_table_new(const char *const *headers, unsigned right)
{
  struct wg_table *t = calloc(1, sizeof *t);
  while (headers[t->columns] != NULL)
    t->columns++;
  t->right = right;
  t->cap = 8;
  t->cells = calloc(t->cap * t->columns, sizeof *t->cells);
  for (size_t c = 0; c < t->columns; c++)
    t->cells[c] = wg_cli_text(headers[c]);
  t->rows = 1;
  return t;
}

void wg_table_row(struct wg_table *t, ...)
{
  if (t->rows == t->cap) {
    t->cap *= 2;
    t->cells = realloc(t->cells, t->cap * t->columns * sizeof *t->cells);
  }
  va_list ap;
  va_start(ap, t);
  for (size_t c = 0; c < t->columns; c++)
    t->cells[t->rows * t->columns + c] = wg_cli_text(va_arg(ap, const char *));
  va_end(ap);
  t->rows++;
}

void wg_table_print(struct wg_table *t, FILE *f)
{
  size_t *width = calloc(t->columns, sizeof *width);
  for (size_t r = 0; r < t->rows; r++)
    for (size_t c = 0; c < t->columns; c++) {
      size_t len = strlen(t->cells[r * t->columns + c]);
      if (len > width[c])
        width[c] = len;
    }
  for (size_t r = 0; r < t->rows; r++) {
    for (size_t c = 0; c < t->columns; c++) {
      const char *cell = t->cells[r * t->columns + c];
      bool last = c + 1 == t->columns;
      /* The last column is not padded, so lines carry no trailing blanks. */
      if (t->right & (1u << c))
        fprintf(f, "%*s", (int)width[c], cell);
      else
        fprintf(f, "%-*s", last ? 0 : (int)width[c], cell);
      fputs(last ? "\n" : "  ", f);
    }
  }
  for (size_t i = 0; i < t->rows * t->columns; i++)
    free(t->cells[i]);
  free(t->cells);
  free(width);
  free(t);
}

void wg_format_duration(double seconds, char *out, size_t n)
{
  if (!(seconds >= 0))
    snprintf(out, n, "-");
  else if (seconds == 0)
    snprintf(out, n, "0 s");
  else if (seconds < 1)
    snprintf(out, n, "%.0f ms", seconds * 1000);
  else if (seconds < 60)
    snprintf(out, n, "%.1f s", seconds);
  else if (seconds < 3600)
    snprintf(out, n, "%d min %02d s", (int)seconds / 60, (int)seconds % 60);
  else
    snprintf(out, n, "%d h %02d min", (int)(seconds / 3600), ((int)seconds % 3600) / 60);
}
