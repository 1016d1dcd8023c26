#!/bin/bash
# bench_batch.sh: one batch of about 2,400 basic circuits from upload to `proven`, on a throwaway
# PostgreSQL cluster, the real daemon (file store) and wg-prover. Prints the time per phase and the
# daemon's peak resident memory. Targets: upload to proven <= 10 s, daemon RSS <= 200 MiB.
# Run by `make bench` (WG_BUILDDIR, WG_SRCDIR and PG_BINDIR come from the Makefile).
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"
wg_setup
circuits=${WG_BENCH_CIRCUITS:-2400}
concurrency=${WG_BENCH_PROVERS:-8}
wg_start_daemon bench --http-threads 16
url=$(wg_url bench)
tree=$(wg_token tree)
prover=$(wg_token prover)
viewer=$(wg_token viewer)
logs=330 # 10 storage_application circuits
"$WG_BUILDDIR/wgctl" gen-input --batch 1 --logs $logs --workload "main_vm=$((5390 * (circuits - 10)))" >"$WG_TMP/in.json"

t0=$(date +%s.%N)
curl -fsS -H "Authorization: Bearer $tree" -H 'Content-Type: application/json' --data-binary "@$WG_TMP/in.json" \
	"$url/batches/1/witness-inputs" >/dev/null
"$WG_BUILDDIR/wg-prover" --url "$url" --token "$prover" --concurrency "$concurrency" >"$WG_TMP/prover.out" 2>&1 &
prover_pid=$!
status=
while [[ $status != proven ]]; do
	status=$(curl -fsS -H "Authorization: Bearer $viewer" "$url/batches/1" | jq -r .status)
	[[ $status == failed ]] && { echo "the batch failed" >&2; exit 1; }
	sleep 0.05
done
t1=$(date +%s.%N)
kill -INT $prover_pid
wait $prover_pid || true
rss=$(awk '/VmHWM/ {print $2}' "/proc/$(wg_daemon_pid bench)/status")
jobs=$(wg_psql "select count(*) from prover_jobs where l1_batch_number = 1")
basic=$(grep -o 'basic round: batch 1: .*' "$WG_TMP/bench.log" | head -n 1)
printf 'machine: %s, %s cores\n' "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)" "$(nproc)"
printf '%s\n' "$basic"
printf 'batch of %d prover jobs (%d basic circuits) uploaded to proven in %.2f s with %d prover threads\n' \
	"$jobs" "$circuits" "$(echo "$t1 - $t0" | bc)" "$concurrency"
printf 'daemon peak RSS: %d MiB\n' $((rss / 1024))
