/* GET /ui: the operator's dashboard, one page with its style and script inline (the page is
 * src/http/ui/dashboard.html, built into the binary). It is open: it holds no data, and reads the
 * JSON API with the token the user types in.
 *
 * Its Content-Security-Policy allows exactly its own inline style and script, by their SHA-256
 * hashes, computed here from the page itself so that an edit to the page cannot leave a stale
 * hash behind; nothing else may load (but the page's empty data: icon, which spares a request
 * for /favicon.ico), and the script may only talk to this origin. */
#include "config.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "http/endpoints.h"

extern const char wg_ui_dashboard_html[];

static char csp[512];
static pthread_once_t csp_once = PTHREAD_ONCE_INIT;

/* 'sha256-BASE64' of the text between the first open tag and its close tag, or "'none'". */
static void hash_source(const char *html, const char *open, const char *close, char *out, size_t n)
{
  const char *start = strstr(html, open), *end = NULL;
  if (start != NULL) {
    start += strlen(open);
    end = strstr(start, close);
  }
  if (end == NULL) {
    snprintf(out, n, "'none'");
    return;
  }
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256((const unsigned char *)start, (size_t)(end - start), digest);
  unsigned char b64[64];
  EVP_EncodeBlock(b64, digest, sizeof digest);
  snprintf(out, n, "'sha256-%s'", b64);
}

static void build_csp(void)
{
  char script[80], style[80];
  hash_source(wg_ui_dashboard_html, "<script>", "</script>", script, sizeof script);
  hash_source(wg_ui_dashboard_html, "<style>", "</style>", style, sizeof style);
  snprintf(csp, sizeof csp,
           "default-src 'none'; script-src %s; style-src %s; connect-src 'self'; img-src data:; "
           "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
           script, style);
}

int wg_h_ui_get(struct wg_request *rq)
{
  pthread_once(&csp_once, build_csp);
  return wg_reply_page(rq, wg_ui_dashboard_html, strlen(wg_ui_dashboard_html), csp);
}
