bin_PROGRAMS += witness-generator
witness_generator_SOURCES = src/http/daemon.c
witness_generator_LDADD = $(SERVER_LIBS)
