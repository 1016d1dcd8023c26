#!/bin/bash
# bench_stores.sh: one 28,000-circuit batch on each store, side by side in one run: the file store,
# the postgres store and S3 (a local s3rver), each through bench_batch.sh on a fresh cluster with
# stock settings. Targets: postgres within 1.2x of the file store, S3 within 1.3x.
# A run of 25 s moves by a third between two runs on this kind of machine (the S3 store measured
# 0.91x and 1.50x of the file store within the hour), so the three stores run in turn
# WG_BENCH_STORE_ROUNDS times (default 2) and the best run of each counts.
# WG_BENCH_STORE_SIZE (default 28000) picks the batch. Prints name=value lines with the target and
# the verdict. Run by `make bench`.
set -euo pipefail
size=${WG_BENCH_STORE_SIZE:-28000}
rounds=${WG_BENCH_STORE_ROUNDS:-2}
declare -A took
for ((round = 1; round <= rounds; round++)); do
	for store in file postgres s3; do
		out=$(WG_BENCH_STORE=$store WG_BENCH_SIZES=$size WG_BENCH_MORE=0 WG_BENCH_TUNED=0 \
			bash "$WG_SRCDIR/bench/bench_batch.sh" 2>&1) || {
			printf '%s\n' "$out" | tail -n 30 >&2
			echo "bench_stores: bench_batch.sh failed on the $store store" >&2
			exit 1
		}
		line=$(grep -m1 "^batch of $size basic circuits" <<<"$out")
		printf '%s (run %d): %s\n' "$store" "$round" "$line"
		grep -E '\(pack cache' <<<"$out" | sed "s/^/$store: /" || true
		t=$(sed -n 's/.*upload to proven \([0-9.]*\) s.*/\1/p' <<<"$line")
		[[ -n $t ]] || { echo "bench_stores: no time for the $store store" >&2; exit 1; }
		if [[ -z ${took[$store]:-} ]] || awk -v a="$t" -v b="${took[$store]}" 'BEGIN { exit !(a < b) }'; then
			took[$store]=$t
		fi
	done
done
echo "best of $rounds runs (s): file ${took[file]}, postgres ${took[postgres]}, s3 ${took[s3]}"
for store in postgres s3; do
	target=1.2
	[[ $store == s3 ]] && target=1.3
	r=$(awk -v a="${took[$store]}" -v b="${took[file]}" 'BEGIN { printf "%.2f", a / b }')
	echo "batch_${size}_${store}_vs_file=$r target<=$target $(awk -v r="$r" -v t="$target" 'BEGIN { print (r <= t ? "met" : "MISSED") }')"
done
