MIGRATIONS = sql/0001_init.sql sql/0002_archive.sql sql/0003_throughput.sql sql/0004_leases.sql sql/0005_witness_backoff.sql sql/0006_blob_sweeps.sql sql/0007_attempts.sql sql/0008_store_identity.sql sql/0009_pauses.sql sql/0010_priority.sql
EXTRA_DIST += $(MIGRATIONS)
dist_pkgdata_DATA = $(MIGRATIONS)

src/db/migrations_data.c: $(MIGRATIONS:%=$(srcdir)/%) $(srcdir)/sql/embed.awk
	$(AM_V_GEN)$(MKDIR_P) src/db && $(AWK) -f $(srcdir)/sql/embed.awk $(MIGRATIONS:%=$(srcdir)/%) > $@.tmp && mv $@.tmp $@
BUILT_SOURCES += src/db/migrations_data.c
CLEANFILES += src/db/migrations_data.c

nodist_libwgserver_a_SOURCES = src/db/migrations_data.c
libwgserver_a_SOURCES += \
	src/db/db.h src/db/pool.c \
	src/db/migrations.h src/db/migrations.c \
	src/db/statements.c \
	src/db/health.h src/db/health.c \
	src/db/tokens.h src/db/tokens.c \
	src/db/basic_jobs.h src/db/basic_jobs.c \
	src/db/batch_locks.h src/db/batch_locks.c \
	src/db/blob_sweeps.h src/db/blob_sweeps.c \
	src/db/store_config.h src/db/store_config.c \
	src/db/witness_jobs.h src/db/witness_jobs.c \
	src/db/prover_jobs.h src/db/prover_jobs.c \
	src/db/priorities.h src/db/priorities.c \
	src/db/backpressure.h src/db/backpressure.c \
	src/db/combiner.h src/db/combiner.c \
	src/db/completer.h src/db/completer.c \
	src/db/claimer.h src/db/claimer.c \
	src/db/toucher.h src/db/toucher.c \
	src/db/job_cache.h src/db/job_cache.c \
	src/db/batches.h src/db/batches.c \
	src/db/housekeeping.h src/db/housekeeping.c \
	src/db/repairs.h src/db/repairs.c \
	src/db/stats.h src/db/stats.c \
	src/db/job_views.h src/db/job_views.c \
	src/db/queue.h src/db/queue.c \
	src/auth/auth.h src/auth/token.c src/auth/cache.c src/auth/lease.h src/auth/lease.c \
	src/auth/negative_cache.h src/auth/negative_cache.c
