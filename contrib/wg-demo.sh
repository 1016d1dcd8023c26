#!/bin/bash
# wg-demo.sh: the project's main job on one machine, from a fresh Debian as root.
# Installs the build dependencies, builds, creates (or reuses) a local PostgreSQL
# cluster of its own, migrates, creates tokens, starts the daemon on 127.0.0.1,
# uploads a generated batch and drives it to `proven` with the bundled prover,
# printing progress per round and the final proof's hash. Safe to run again: it
# reuses the cluster, the tokens and a running daemon, and proves a new batch.
#
# Environment: WG_DEMO_DIR (state, default /var/lib/witness-generator-demo),
# WG_DEMO_PORT (HTTP, default 8080), WG_DEMO_PG_PORT (default 54329),
# WG_DEMO_WORKLOAD (default main_vm=1293600,keccak256=9000,code_decommitter=4100),
# WG_DEMO_LOGS (storage logs, default 200).
set -euo pipefail

cd "$(dirname "$0")/.."
src=$PWD
state=${WG_DEMO_DIR:-/var/lib/witness-generator-demo}
port=${WG_DEMO_PORT:-8080}
pg_port=${WG_DEMO_PG_PORT:-54329}
workload=${WG_DEMO_WORKLOAD:-main_vm=1293600,keccak256=9000,code_decommitter=4100}
logs=${WG_DEMO_LOGS:-200}
url=http://127.0.0.1:$port

say() { printf '\n== %s\n' "$*"; }

say "installing build dependencies"
bash contrib/install-deps.sh

say "building"
[[ -x configure ]] || autoreconf -fi
[[ -f Makefile ]] || ./configure -q
make -j"$(nproc)" >/dev/null

say "PostgreSQL cluster in $state/pg (127.0.0.1:$pg_port)"
mkdir -p "$state"
chmod 755 "$state"
bash contrib/pg-cluster.sh create "$state/pg" "$pg_port" >/dev/null
bash contrib/pg-cluster.sh start "$state/pg" >/dev/null
db=$(bash contrib/pg-cluster.sh conninfo "$state/pg")
./wgctl --db "$db" migrate

# Tokens are shown once by wgctl; the demo keeps them (mode 600) to reuse them.
tokens=$state/tokens.env
if [[ ! -s $tokens ]]; then
	umask 077
	{
		echo "WG_ADMIN_TOKEN=$(./wgctl --db "$db" token add --role admin --name "demo-admin-$$" 2>/dev/null)"
		echo "WG_TREE_TOKEN=$(./wgctl --db "$db" token add --role tree --name "demo-tree-$$" 2>/dev/null)"
		echo "WG_PROVER_TOKEN=$(./wgctl --db "$db" token add --role prover --name "demo-prover-$$" 2>/dev/null)"
	} >"$tokens"
	umask 022
fi
# shellcheck disable=SC1090
. "$tokens"

if curl -fsS "$url/healthz" >/dev/null 2>&1; then
	say "the daemon already runs on $url"
else
	say "starting witness-generator on $url"
	nohup ./witness-generator --db "$db" --listen "127.0.0.1:$port" --store "file:$state/store" \
		--instance-id demo >"$state/daemon.log" 2>&1 &
	echo $! >"$state/daemon.pid"
	for _ in $(seq 100); do
		curl -fsS "$url/healthz" >/dev/null 2>&1 && break
		sleep 0.1
	done
	curl -fsS "$url/healthz" >/dev/null || { tail -n 20 "$state/daemon.log"; exit 1; }
fi

auth=(-H "Authorization: Bearer $WG_ADMIN_TOKEN")
last=$(curl -fsS "${auth[@]}" "$url/batches?limit=10000" | jq '[.batches[].l1_batch_number] | max // 0')
batch=$((last + 1))
say "uploading batch $batch ($workload, $logs storage logs)"
./wgctl gen-input --batch "$batch" --logs "$logs" --workload "$workload" --seed "$batch" >"$state/input-$batch.json"
curl -fsS -H "Authorization: Bearer $WG_TREE_TOKEN" -H 'Content-Type: application/json' \
	--data-binary "@$state/input-$batch.json" "$url/batches/$batch/witness-inputs"
echo

say "proving with wg-prover"
# Each proof takes WG_DEMO_PROVE_MS (default 250 ms), so that the batch can be watched moving on
# the dashboard; 0 proves as fast as the machine allows.
cat <<WATCH
Watch it on the dashboard: open $url/ui in a browser and paste the admin token
(WG_ADMIN_TOKEN in $tokens).
WATCH
./wg-prover --url "$url" --token "$WG_PROVER_TOKEN" --concurrency 4 --prove-ms "${WG_DEMO_PROVE_MS:-250}" \
	>"$state/prover.log" 2>&1 &
prover=$!
trap 'kill $prover 2>/dev/null || true' EXIT
names=(basic leaf node scheduler)
printed=""
status=queued
for _ in $(seq 1200); do
	info=$(curl -fsS "${auth[@]}" "$url/batches/$batch")
	status=$(jq -r .status <<<"$info")
	line=$(jq -r '.rounds[] | "\(.aggregation_round) \(.prover_jobs.successful // 0)/\([.prover_jobs[]] | add // 0)"' <<<"$info" |
		while read -r r counts; do printf '%s %s  ' "${names[$r]}" "$counts"; done)
	if [[ $line != "$printed" ]]; then
		echo "batch $batch: $status  proofs per round: $line"
		printed=$line
	fi
	[[ $status == proven || $status == failed ]] && break
	sleep 0.5
done
kill $prover 2>/dev/null || true
wait $prover 2>/dev/null || true
trap - EXIT
if [[ $status != proven ]]; then
	echo "batch $batch ended as $status; see $state/daemon.log" >&2
	exit 1
fi
curl -fsS "${auth[@]}" "$url/batches/$batch/proof" -o "$state/proof-$batch.bin"
say "batch $batch is proven; final proof sha256 $(sha256sum <"$state/proof-$batch.bin" | cut -d' ' -f1)"
cat <<INFO

The daemon keeps running on $url (log: $state/daemon.log, pid file: $state/daemon.pid).
Dashboard: $url/ui (paste WG_ADMIN_TOKEN). Tokens are in $tokens. For example:
  . $tokens && curl -H "Authorization: Bearer \$WG_ADMIN_TOKEN" $url/batches
  $src/wgctl --db '$db' token list
Stop it with: kill \$(cat $state/daemon.pid)
INFO
