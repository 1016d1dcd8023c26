#!/bin/bash
# t_store_modes.sh: the file store keeps its blobs to the daemon's user. After a batch is proven
# (an input, witness packs of every round, proofs), every file under the store is mode 0600 and
# every directory, the store's own included, 0700. The daemon runs under umask 000, so that the
# modes are the ones it sets itself, not ones a umask happened to take away; and a second daemon
# under umask 0277 still gets directories it can write into.
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"
# shellcheck source=tests/integration/pipeline_lib.sh
. "$WG_SRCDIR/tests/integration/pipeline_lib.sh"
wg_setup

# modes_ok STORE: nothing under STORE with another mode.
modes_ok() {
	local store=$1 files dirs
	[[ -d $store ]] || fail "no store directory $store"
	files=$(find "$store" -type f ! -perm 600 -printf '%m %p\n')
	dirs=$(find "$store" -type d ! -perm 700 -printf '%m %p\n')
	assert_eq "" "$files" "files under $store not 0600"
	assert_eq "" "$dirs" "directories under $store not 0700"
	(($(find "$store" -type f | wc -l) >= 3)) || fail "only $(find "$store" -type f | wc -l) files in $store"
	wg__pass
}

umask 000
wg_start_daemon a --leaf-arity 2 --node-arity 2
pl_use a
pl_gen_input 1 --logs 10 --workload main_vm=$((5390 * 3)) >"$WG_TMP/in1.json"
pl_upload 1 "$WG_TMP/in1.json"
assert_status 201
prove_all_until 1 proven 90
modes_ok "$WG_TMP/store-a"

wg_stop_daemon a
: >"$WG_TMP/b.log"
umask 0277
wg_start_daemon b --leaf-arity 2 --node-arity 2
umask 022
pl_use b
pl_gen_input 2 --logs 10 --workload main_vm=5390 --seed 2 >"$WG_TMP/in2.json"
pl_upload 2 "$WG_TMP/in2.json"
assert_status 201
prove_all_until 2 proven 90
modes_ok "$WG_TMP/store-b"
