#!/usr/bin/env bash
# bench.sh: time `find ROOT -xdev` against drift on a 1,000,000-entry tree.
#
# Builds the tree once with tools/gen-tree.go into $DRIFT_BENCH_DIR/root
# (default /var/tmp/drift-bench/root; -big=false, so about 2.5 GiB; set
# BIG=true for the extra 1.9 GiB of big files), warms the cache, then runs
# each command $RUNS times (default 5), interleaved, and prints the medians
# and their ratios; scan.Walk alone is timed through BenchmarkWalk. Finally runs BenchmarkWalk (internal/scan) on the tree.
#
#   scripts/bench.sh                 # from the repository root
#   RUNS=9 ENTRIES=200000 scripts/bench.sh
#
# Timings are wall-clock, taken with date +%s%N around each command. The
# machine should be otherwise idle: other load shifts the numbers by tens
# of percent (find is single-threaded; drift's walk wants every core).
set -euo pipefail

cd "$(dirname "$0")/.."

DIR=${DRIFT_BENCH_DIR:-/var/tmp/drift-bench}
ROOT=$DIR/root
RUNS=${RUNS:-5}
ENTRIES=${ENTRIES:-1000000}
BIG=${BIG:-false}

say() { printf 'bench: %s\n' "$*" >&2; }

if [ -d "$ROOT" ] && [ -n "$(ls -A "$ROOT" 2>/dev/null)" ]; then
	say "using existing tree $ROOT"
else
	say "generating $ENTRIES entries into $ROOT (a few minutes)"
	mkdir -p "$DIR"
	go run tools/gen-tree.go -root "$ROOT" -entries "$ENTRIES" -big="$BIG"
fi

say "warming the cache"
find "$ROOT" -xdev >/dev/null
find "$ROOT" -xdev -printf '%s\n' >/dev/null

have_drift=false
if [ ! -x ./drift ]; then
	say "./drift not found; building it"
	if go build -o drift ./cmd/drift; then
		have_drift=true
	else
		say "could not build ./cmd/drift: timing find and the Go benchmark only"
	fi
else
	have_drift=true
fi

# ms CMD...: run CMD with stdout discarded, print its wall time in ms.
# Exit status 1 is accepted (drift check: something would be lost).
ms() {
	local s e rc=0
	s=$(date +%s%N)
	"$@" >/dev/null || rc=$?
	e=$(date +%s%N)
	if [ "$rc" -gt 1 ]; then
		say "$1 exited with status $rc"
	fi
	echo $(((e - s) / 1000000))
}

# walk_ms: one scan.Walk of ROOT through BenchmarkWalk, in ms.
walk_ms() {
	DRIFT_BENCH_ROOT=$ROOT "$TMP/scan.test" -test.run '^$' -test.bench BenchmarkWalk -test.benchtime 1x |
		awk '/^BenchmarkWalk/ {printf "%d\n", $3/1e6}'
}

median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print int((a[NR/2]+a[NR/2+1])/2)}'; }

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
go test -c -o "$TMP/scan.test" ./internal/scan

find_ms=()
walk_ms=()
drift_ms=()
for ((i = 1; i <= RUNS; i++)); do
	t=$(ms find "$ROOT" -xdev)
	find_ms+=("$t")
	line="run $i/$RUNS: find -xdev ${t} ms"
	t=$(walk_ms)
	walk_ms+=("$t")
	line+=", scan.Walk ${t} ms"
	if $have_drift; then
		t=$(ms ./drift check --root "$ROOT" --ephemeral / --format json)
		drift_ms+=("$t")
		line+=", drift check ${t} ms"
	fi
	say "$line"
done

find_med=$(printf '%s\n' "${find_ms[@]}" | median)
walk_med=$(printf '%s\n' "${walk_ms[@]}" | median)
echo "find -xdev median:  ${find_med} ms  (${RUNS} runs)"
echo "scan.Walk median:   ${walk_med} ms  (${RUNS} runs, default workers)"
awk -v d="$walk_med" -v f="$find_med" 'BEGIN {printf "walk/find ratio:    %.2f (below 1.00: the walk is faster)\n", d/f}'
if $have_drift; then
	drift_med=$(printf '%s\n' "${drift_ms[@]}" | median)
	echo "drift check median: ${drift_med} ms  (${RUNS} runs)"
	awk -v d="$drift_med" -v f="$find_med" 'BEGIN {printf "drift/find ratio:   %.2f (below 1.00: drift is faster)\n", d/f}'
fi

say "go test -bench BenchmarkWalk on $ROOT"
DRIFT_BENCH_ROOT=$ROOT go test -run '^$' -bench BenchmarkWalk -benchtime 3x ./internal/scan

say "go test -bench BenchmarkCheck (walk + classify + order, no output) on $ROOT"
DRIFT_BENCH_ROOT=$ROOT go test -run '^$' -bench BenchmarkCheck -benchtime 3x ./internal/diff
