/* libFuzzer target: the witness input parser must never crash, leak or read out of bounds,
 * whatever the body, and must accept what it produces itself. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "input/input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct wg_input in;
  struct wg_input_error err;
  const uint64_t batch = 7; /* the seed corpus uses batch 7 */
  if (wg_input_parse((const char *)data, size, batch, &in, &err)) {
    /* A valid input re-encodes to a valid input with the same counts. */
    char *json = wg_input_to_json(&in);
    struct wg_input again;
    if (json == NULL || !wg_input_parse(json, strlen(json), batch, &again, &err))
      abort();
    uint64_t a[WG_MAX_CIRCUIT_ID + 1], b[WG_MAX_CIRCUIT_ID + 1];
    if (wg_input_circuit_counts(&in, a) != wg_input_circuit_counts(&again, b) || again.n_logs != in.n_logs)
      abort();
    wg_input_free(&again);
    free(json);
    wg_input_free(&in);
  }
  return 0;
}
