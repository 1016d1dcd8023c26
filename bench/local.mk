# Benchmarks: built with everything else, run only by `make bench` (never by `make check`).
# To add one: a noinst_PROGRAMS entry with its sources, and its name in BENCHMARKS.
BENCHMARKS =

noinst_PROGRAMS += bench/bench_tree
bench_bench_tree_SOURCES = bench/bench_tree.c
bench_bench_tree_LDADD = $(CORE_LIBS)
BENCHMARKS += bench/bench_tree

# The text of a daemon statement, for bench_traffic.sh's pgbench run of the daemon's own SQL.
noinst_PROGRAMS += bench/bench_sql
bench_bench_sql_SOURCES = bench/bench_sql.c
bench_bench_sql_LDADD = $(SERVER_LIBS)

.PHONY: bench
bench: $(BENCHMARKS)
	@for b in $(BENCHMARKS); do echo "== $$b"; ./$$b || exit 1; done

# End to end: a 2,400-circuit batch through the real daemon and wg-prover (needs PostgreSQL).
EXTRA_DIST += bench/bench_batch.sh
bench-batch: witness-generator wgctl wg-prover
	@echo "== bench/bench_batch.sh"; WG_BUILDDIR='$(abs_top_builddir)' WG_SRCDIR='$(abs_top_srcdir)' \
	  PG_BINDIR='$(PG_BINDIR)' $(SHELL) $(srcdir)/bench/bench_batch.sh
bench: bench-batch
.PHONY: bench-batch

# Prover traffic through the daemon next to the same SQL alone (pgbench), on a durable cluster.
EXTRA_DIST += bench/bench_traffic.sh
bench-traffic: witness-generator wgctl wg-prover bench/bench_sql
	@echo "== bench/bench_traffic.sh"; WG_BUILDDIR='$(abs_top_builddir)' WG_SRCDIR='$(abs_top_srcdir)' \
	  PG_BINDIR='$(PG_BINDIR)' $(SHELL) $(srcdir)/bench/bench_traffic.sh
bench: bench-traffic
.PHONY: bench-traffic

# A simulated GPU fleet (1,024 and 2,048 provers at 1 s per proof) on a 17,000-circuit batch:
# fleet efficiency against the ideal, and the round transitions.
EXTRA_DIST += bench/bench_fleet.sh bench/bench_lib.sh
bench-fleet: witness-generator wgctl wg-prover
	@echo "== bench/bench_fleet.sh"; WG_BUILDDIR='$(abs_top_builddir)' WG_SRCDIR='$(abs_top_srcdir)' \
	  PG_BINDIR='$(PG_BINDIR)' $(SHELL) $(srcdir)/bench/bench_fleet.sh
bench: bench-fleet
.PHONY: bench-fleet

# A 28,000-circuit batch on the file, postgres and S3 stores, side by side.
EXTRA_DIST += bench/bench_stores.sh
bench-stores: witness-generator wgctl wg-prover
	@echo "== bench/bench_stores.sh"; WG_BUILDDIR='$(abs_top_builddir)' WG_SRCDIR='$(abs_top_srcdir)' \
	  PG_BINDIR='$(PG_BINDIR)' $(SHELL) $(srcdir)/bench/bench_stores.sh
bench: bench-stores
.PHONY: bench-stores
