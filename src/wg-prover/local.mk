# wg-prover, the bundled prover: speaks only the HTTP API (libcurl) and the reference scheme.
bin_PROGRAMS += wg-prover
wg_prover_SOURCES = \
	src/wg-prover/main.c \
	src/wg-prover/options.h src/wg-prover/options.c \
	src/wg-prover/state.h src/wg-prover/state.c \
	src/wg-prover/client.h src/wg-prover/client.c \
	src/wg-prover/worker.h src/wg-prover/worker.c
wg_prover_CFLAGS = $(AM_CFLAGS) $(CURL_CFLAGS)
wg_prover_LDADD = $(CORE_LIBS) $(CURL_LIBS) -lm
