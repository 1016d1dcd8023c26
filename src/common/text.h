/* Text that crosses a trust boundary: what clients send is cleaned before it is stored or shown,
 * and what is printed to a terminal or a log is escaped, since a row written before the cleaning
 * (or by hand) may still hold anything. A control character (C0, DEL, C1) in an error text
 * could otherwise retitle or clear an operator's terminal, or forge lines of a log. */
#ifndef WG_TEXT_H
#define WG_TEXT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/strbuf.h"

/* A copy of the len bytes at s (which may hold NUL bytes) as valid UTF-8 without any control
 * character: tab, line feed, vertical tab, form feed and carriage return become a space (so that
 * words stay apart), every other C0 control, DEL and C1 control (U+0080..U+009F) is left out,
 * and each byte that does not belong to a valid UTF-8 sequence becomes U+FFFD. The copy is
 * never longer than len bytes when the input is valid UTF-8. Allocation failure aborts. */
char *wg_text_clean(const char *s, size_t len);

/* Flags of wg_text_escape. */
#define WG_ESCAPE_QUOTES 1u /* also " and \ as \" and \\, for a quoted value */
#define WG_ESCAPE_ASCII 2u  /* also every non-ASCII character, as \u{XXXX}, for a terminal that is not UTF-8 */

/* Appends s to b with what a terminal would act on written out instead: line feed, carriage
 * return and tab as \n, \r and \t, other C0 controls and DEL as \xNN, C1 controls as \u{NN},
 * and bytes that are not valid UTF-8 as \xNN. Printable UTF-8 is kept as it is. */
void wg_text_escape(struct wg_strbuf *b, const char *s, unsigned flags);
/* Whether wg_text_escape would change s under these flags. */
bool wg_text_needs_escape(const char *s, unsigned flags);

/* json_dumps whose output holds no control byte and no non-ASCII byte: jansson escapes C0
 * controls itself, JSON_ENSURE_ASCII escapes C1 controls with the rest of non-ASCII, and DEL,
 * which jansson leaves raw, is written \u007F. The same document for any JSON reader. */
char *wg_json_dumps_plain(const json_t *j, size_t flags);

#endif
