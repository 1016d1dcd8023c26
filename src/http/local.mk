libwgserver_a_SOURCES += \
	src/http/server.h src/http/server.c \
	src/http/router.h src/http/router.c \
	src/http/reply.c src/http/gzip.c \
	src/http/endpoints.h src/http/routes.c \
	src/http/endpoints/healthz_get.c \
	src/http/endpoints/readyz_get.c

bin_PROGRAMS += witness-generator
witness_generator_SOURCES = src/http/daemon.c
witness_generator_LDADD = $(SERVER_LIBS)
