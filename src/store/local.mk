libwgserver_a_SOURCES += \
	src/store/store.h src/store/store_backend.h src/store/store.c \
	src/store/store_file.c src/store/store_postgres.c src/store/store_s3.c \
	src/store/pack_cache.h src/store/pack_cache.c \
	src/store/prober.h src/store/prober.c \
	src/store/sweep.h src/store/sweep.c \
	src/db/blobs.h src/db/blobs.c
