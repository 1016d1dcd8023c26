#!/bin/bash
# t_docs.sh: the guides' examples run, so that they cannot rot (issue 9, item 1).
#
# In docs/getting-started.md and the three guides, a fenced block opened with "```sh doc-test" is
# an example, and the block right after it, opened with "```text doc-output", is what it prints.
# The blocks of all four files run in this order in one bash (variables, functions and files carry
# over, as they would in a reader's terminal), against a fresh daemon, with WG, WG_DB and wgctl on
# PATH as the guides assume. Each example's stdout must equal its output block, where "…" stands
# for any text. "```sh doc-test-pending" marks an example of a feature not built yet; it is
# counted, not run.
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"

DOCS=(getting-started.md guide-tree-service.md guide-prover.md guide-operator.md)

# References point at files that exist: no "SPEC section N" (a document outside the repository),
# every docs/NAME.md named in the sources, and every relative link between the docs.
stale=$(grep -rnIE 'SPEC (section|§)' "$WG_SRCDIR/src" "$WG_SRCDIR/tests" "$WG_SRCDIR/api" "$WG_SRCDIR/sql" \
	"$WG_SRCDIR/README.md" "$WG_SRCDIR/docs" --include='*.[ch]' --include='*.sh' --include='*.md' \
	--include='*.yaml' --include='*.sql' --include='*.mk' | grep -v '/t_docs.sh:' || true)
[[ -z $stale ]] || fail "references to a SPEC outside the repository: $stale"
for ref in $(grep -rhoIE 'docs/[a-z-]+\.md' "$WG_SRCDIR/src" "$WG_SRCDIR/tests" "$WG_SRCDIR/api" "$WG_SRCDIR/sql" \
	"$WG_SRCDIR/README.md" | sort -u); do
	[[ -f $WG_SRCDIR/$ref ]] || fail "$ref is referenced but does not exist"
done
for doc in "$WG_SRCDIR"/docs/*.md; do
	for link in $(grep -oE '\]\([^)#:]+\.(md|yaml)' "$doc" | sed 's/^](//'); do
		[[ -f $(dirname "$doc")/$link ]] || fail "docs/$(basename "$doc") links to $link, which does not exist"
	done
done

wg_setup
wg_start_daemon a
export WG WG_DB
WG=$(wg_url a)
export PATH="$WG_BUILDDIR:$PATH"
BLOCKS="$WG_TMP/doc-blocks"
WORK="$WG_TMP/doc-work"
mkdir -p "$BLOCKS" "$WORK"

# Splits the docs into NNN.sh (the example), NNN.expected (its output) and NNN.where (file:line).
n=0
pending=0
for doc in "${DOCS[@]}"; do
	file="$WG_SRCDIR/docs/$doc"
	[[ -r $file ]] || fail "docs/$doc is missing"
	n=$(awk -v dir="$BLOCKS" -v n="$n" -v doc="docs/$doc" '
		function bad(msg) { print "docs format: " doc ":" NR ": " msg > "/dev/stderr"; exit 1 }
		mode != "" && /^```/ { mode = ""; next }
		mode == "sh" || mode == "out" { print > out; next }
		mode != "" { next }
		/^```sh doc-test$/ {
			if (awaiting) bad("a doc-test block must be followed by its doc-output block")
			n++; mode = "sh"; awaiting = 1; out = sprintf("%s/%03d.sh", dir, n); printf "" > out
			printf "%s:%d\n", doc, NR > sprintf("%s/%03d.where", dir, n)
			next
		}
		/^```text doc-output$/ {
			if (!awaiting) bad("a doc-output block without a doc-test block before it")
			awaiting = 0; mode = "out"; out = sprintf("%s/%03d.expected", dir, n); printf "" > out
			next
		}
		/^```/ {
			if (awaiting) bad("a doc-test block must be followed by its doc-output block")
			if ($0 == "```sh doc-test-pending") print "pending" > (dir "/pending." n "." NR)
			mode = "other"; next
		}
		END { if (awaiting) bad("the last doc-test block has no doc-output block"); print n }
	' "$file") || fail "could not split docs/$doc into examples"
done
pending=$(find "$BLOCKS" -name 'pending.*' | wc -l)
((n >= 20)) || fail "only $n doc-test examples found in ${DOCS[*]}"
echo "# $n examples; $pending marked doc-test-pending and not run"

# One script: each example's stdout goes to its own file; a failing command names its example.
script="$WG_TMP/docs.sh"
{
	echo 'set -eo pipefail'
	echo "cd '$WORK'"
	echo "trap 'echo \"doc example failed: \$__where\" >&2' ERR"
	for ((i = 1; i <= n; i++)); do
		id=$(printf '%03d' "$i")
		echo "__where='$(cat "$BLOCKS/$id.where")'"
		echo '{'
		cat "$BLOCKS/$id.sh"
		echo "} >'$BLOCKS/$id.out'"
	done
} >"$script"
rc=0
timeout 300 bash "$script" 2>"$WG_TMP/docs.stderr" || rc=$?
if ((rc != 0)); then
	cat "$WG_TMP/docs.stderr" >&2
	fail "the doc examples stopped with status $rc"
fi

# "…" in an expected output matches any text; everything else literally.
for ((i = 1; i <= n; i++)); do
	id=$(printf '%03d' "$i")
	where=$(cat "$BLOCKS/$id.where")
	actual=$(cat "$BLOCKS/$id.out")
	expected=$(cat "$BLOCKS/$id.expected")
	pattern=$(sed -e 's/[][\\*?]/\\&/g' -e 's/…/*/g' <<<"$expected")
	# shellcheck disable=SC2053 # the right side is a pattern on purpose
	if [[ $actual != $pattern ]]; then
		diff <(echo "$expected") <(echo "$actual") >&2 || true
		fail "the example at $where printed something else than its doc-output block (diff above: < doc, > actual)"
	fi
	wg__pass
done
