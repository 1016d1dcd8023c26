# libFuzzer targets (./configure --enable-fuzzing CC=clang). Run each with its seed corpus:
#   ./fuzz/fuzz_input -max_total_time=60 fuzz/corpus/input
EXTRA_DIST += fuzz/corpus fuzz/fuzz_input.c fuzz/fuzz_router.c fuzz/fuzz_gzip.c fuzz/run.sh
if FUZZING
noinst_PROGRAMS += fuzz/fuzz_input fuzz/fuzz_router fuzz/fuzz_gzip
fuzz_fuzz_input_SOURCES = fuzz/fuzz_input.c
fuzz_fuzz_input_LDFLAGS = -fsanitize=fuzzer
fuzz_fuzz_input_LDADD = $(CORE_LIBS)
fuzz_fuzz_router_SOURCES = fuzz/fuzz_router.c
fuzz_fuzz_router_LDFLAGS = -fsanitize=fuzzer
fuzz_fuzz_router_LDADD = $(SERVER_LIBS)
fuzz_fuzz_gzip_SOURCES = fuzz/fuzz_gzip.c
fuzz_fuzz_gzip_LDFLAGS = -fsanitize=fuzzer
fuzz_fuzz_gzip_LDADD = $(SERVER_LIBS)
endif
