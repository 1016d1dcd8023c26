#!/bin/bash
# t_unit_db.sh: the database cases of the combiner and claimer unit tests (tests/unit/test_combiner.c,
# test_claimer.c), which `make check` runs without a database: a group run again gets a fresh
# connection, and the jobs of one claim statement are shared out in claim order with each slot's
# lease. Each binary's "db" case is run alone against a migrated throwaway cluster, and must have
# run checks: a case that needs the database never passes by running nothing.
. "$WG_SRCDIR/tests/integration/lib.sh"
wg_setup
wg_wgctl migrate >"$WG_TMP/migrate.out" 2>&1 || fail "wgctl migrate: $(cat "$WG_TMP/migrate.out")"

for unit in test_combiner test_claimer; do
	bin="$WG_BUILDDIR/tests/unit/$unit"
	[[ -x $bin ]] || fail "$bin not built (make check builds it)"
	rc=0
	CK_RUN_CASE=db CK_FORK=yes "$bin" >"$WG_TMP/$unit.out" 2>&1 || rc=$?
	cat "$WG_TMP/$unit.out"
	assert_eq 0 "$rc" "$unit db case"
	summary=$(grep -E '^[0-9]+%: Checks: ' "$WG_TMP/$unit.out" || true)
	assert_contains "$summary" "100%: Checks: " "$unit summary"
	checks=$(sed -E 's/.*Checks: ([0-9]+),.*/\1/' <<<"$summary")
	((checks >= 1)) || fail "$unit ran no database check"
done
echo "# t_unit_db: ok"
