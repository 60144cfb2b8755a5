#!/usr/bin/env bash
# bench-compare.sh: is the work tree slower than a base revision? Builds
# drift at both and compares them on the same machine, interleaved.
#
#   scripts/bench-compare.sh                  # base: the merge-base of HEAD and main
#   scripts/bench-compare.sh ddc0e9f          # base: a given commit
#   scripts/bench-compare.sh ddc0e9f main     # head: a given commit, not the work tree
#   COUNT=10 RUNS=9 ENTRIES=200000 scripts/bench-compare.sh
#
# The base (and a head given as a commit) is checked out in a temporary
# worktree under /var/tmp (removed on exit); without a second argument
# the head is the work tree as it is, uncommitted changes included.
#
# The tree is made once, as scripts/bench.sh makes it, and kept:
# tools/gen-tree.go with $ENTRIES entries (default 200,000, so a run takes
# minutes; -big=false) into $DRIFT_BENCH_DIR/compare-$ENTRIES/root
# (default DRIFT_BENCH_DIR /var/tmp/drift-bench), and a copy of it, rootB,
# with 1% of its files changed (gen-tree -mutate).
#
# Two comparisons:
#
#  - Go benchmarks: BenchmarkWalk (on root), BenchmarkCompare (root against
#    rootB, by content and --quick), BenchmarkHashFile and
#    BenchmarkXXH3Memory, each side's test binary run $COUNT times (default
#    10), base and head in turn (the first of the two alternating), then
#    compared with benchstat (golang.org/x/perf/cmd/benchstat, installed
#    with go install when missing). Each benchmark is looked for by name in
#    each tree, so one that moved to another package is still compared.
#    A regression: a change in sec/op benchstat calls significant (p < 0.05)
#    and above +$BENCH_PCT% (default 5).
#  - Whole commands, on the tree with its page cache warm: drift check
#    --root root --ephemeral /, drift diff root rootB and drift diff
#    --quick root rootB, $RUNS times each (default 9), base and head in
#    turn. Wall and CPU time (user+sys) of each run; a regression: the
#    head's median CPU time above the base's by more than $CMD_PCT%
#    (default 10). The wall times are printed, not judged: other load
#    moves them by tens of percent where CPU time moves a few (a walk made
#    less parallel at the same CPU shows in BenchmarkWalk's sec/op).
#
# Prints the benchstat tables and the medians, then "no regression", or a
# "REGRESSION: ..." line for each and exits 1. Exit 2: it could not run.
#
# The thresholds are there to pass the noise of a machine doing nothing
# else; other load shifts wall times by tens of percent, so on a busy
# machine read a regression as a reason to measure again, not a verdict.
# Needs git, go, and bash 4; no root.
set -euo pipefail

cd "$(dirname "$0")/.."
HERE=$PWD

DIR=${DRIFT_BENCH_DIR:-/var/tmp/drift-bench}
ENTRIES=${ENTRIES:-200000}
COUNT=${COUNT:-10}
RUNS=${RUNS:-9}
BENCH_PCT=${BENCH_PCT:-5}
CMD_PCT=${CMD_PCT:-10}
BENCHES=(BenchmarkWalk BenchmarkCompare BenchmarkHashFile BenchmarkXXH3Memory)

say() { printf 'bench-compare: %s\n' "$*" >&2; }
. scripts/lib.sh
die() { say "$*"; exit 2; }

[ $# -le 2 ] || die "takes at most 2 arguments (BASE, HEAD), got $#"
if [ $# -ge 1 ]; then
	base_rev=$1
else
	base_rev=$(git merge-base HEAD main) || die "no merge-base of HEAD and main: name the base revision"
fi
base=$(git rev-parse --verify --quiet "$base_rev^{commit}") || die "$base_rev: not a commit"
head_rev=${2:-}

BENCHSTAT=$(command -v benchstat || true)
if [ -z "$BENCHSTAT" ]; then
	gobin=$(go env GOBIN)
	BENCHSTAT=${gobin:-$(go env GOPATH)/bin}/benchstat
	if [ ! -x "$BENCHSTAT" ]; then
		say "installing benchstat (go install golang.org/x/perf/cmd/benchstat@latest)"
		go install golang.org/x/perf/cmd/benchstat@latest || die "could not install benchstat"
	fi
fi

TMP=$(mktemp -d /var/tmp/drift-compare.XXXXXX)
cleanup() {
	for w in "$TMP/base" "$TMP/head"; do
		if [ -d "$w" ]; then
			git worktree remove --force "$w" 2>/dev/null || true
		fi
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 2' INT TERM

# side NAME SRC: build drift and the test binaries of the benchmarks into
# $TMP/NAME.bin from the tree at SRC; writes $TMP/NAME.bin/pkgs, a line
# "DIR TESTBINARY REGEXP" per package holding some of $BENCHES.
side() {
	local name=$1 src=$2 out=$TMP/$1.bin b dir
	mkdir -p "$out"
	(cd "$src" && CGO_ENABLED=0 go build -o "$out/drift" ./cmd/drift) || die "$name: could not build ./cmd/drift"
	declare -A re=()
	for b in "${BENCHES[@]}"; do
		dir=$(cd "$src" && grep -rl --include='*_test.go' "^func $b(b \*testing.B)" cmd internal 2>/dev/null | head -1 | xargs -r dirname)
		if [ -z "$dir" ]; then
			say "$name: no $b"
			continue
		fi
		re[$dir]+="${re[$dir]:+|}${b#Benchmark}"
	done
	: >"$out/pkgs"
	for dir in "${!re[@]}"; do
		(cd "$src" && go test -c -o "$out/${dir//\//_}.test" "./$dir") || die "$name: could not build the tests of $dir"
		echo "$src/$dir $out/${dir//\//_}.test ^Benchmark(${re[$dir]})\$" >>"$out/pkgs"
	done
}

say "base: $(git log -1 --format='%h %s' "$base" | cut -c1-100)"
git worktree add --quiet --detach "$TMP/base" "$base" || die "could not check out $base"
side base "$TMP/base"
if [ -n "$head_rev" ]; then
	head=$(git rev-parse --verify --quiet "$head_rev^{commit}") || die "$head_rev: not a commit"
	say "head: $(git log -1 --format='%h %s' "$head" | cut -c1-100)"
	git worktree add --quiet --detach "$TMP/head" "$head" || die "could not check out $head"
	side head "$TMP/head"
else
	say "head: the work tree ($(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo ', with uncommitted changes'))"
	side head "$HERE"
fi

T=$DIR/compare-$ENTRIES
ROOT=$T/root
B=$T/rootB
if [ -d "$ROOT" ] && [ -n "$(ls -A "$ROOT" 2>/dev/null)" ]; then
	say "using existing tree $ROOT"
else
	say "generating $ENTRIES entries into $ROOT"
	mkdir -p "$T"
	go run tools/gen-tree.go -root "$ROOT" -entries "$ENTRIES" -big=false
	rm -rf "$B"
fi
mutated_copy "$ROOT" "$B" "$T/rootB.changes"
warm "$ROOT" "$B"

# order I: "base head" on odd rounds, "head base" on even ones, so neither
# side always runs on the cache and CPU state the other left.
order() { if (($1 % 2)); then echo base head; else echo head base; fi; }

# Go benchmarks, one round at a time.
export DRIFT_BENCH_ROOT=$ROOT DRIFT_BENCH_A=$ROOT DRIFT_BENCH_B=$B
: >"$TMP/base.txt"
: >"$TMP/head.txt"
for ((i = 1; i <= COUNT; i++)); do
	say "go benchmarks, round $i/$COUNT"
	for s in $(order "$i"); do
		while read -r dir bin re; do
			(cd "$dir" && "$bin" -test.run '^$' -test.bench "$re" -test.count 1) >>"$TMP/$s.txt" ||
				die "$s: $bin failed (output in $TMP/$s.txt)"
		done <"$TMP/$s.bin/pkgs"
	done
done
# The package may differ between the sides (a benchmark moved): compare by name.
"$BENCHSTAT" -ignore pkg base="$TMP/base.txt" head="$TMP/head.txt"
"$BENCHSTAT" -ignore pkg -format csv base="$TMP/base.txt" head="$TMP/head.txt" 2>/dev/null >"$TMP/stat.csv"

regressions=()
# benchstat's CSV: a table per unit, its second line ",sec/op,CI,sec/op,CI,vs base,P",
# then "name,base,CI,head,CI,+4.2%,p=0.002 n=10" per benchmark ("~" when not significant).
while IFS= read -r line; do
	regressions+=("$line")
done < <(awk -F, -v pct="$BENCH_PCT" '
	$1 == "" && $2 != "" && $3 == "CI" { unit = $2; next }
	unit == "sec/op" && $1 != "" && $1 != "geomean" && $6 ~ /^\+/ {
		d = $6; sub(/^\+/, "", d); sub(/%$/, "", d)
		if (d + 0 > pct) printf "%s sec/op %s (%s, above +%s%%)\n", $1, $6, $7, pct
	}' "$TMP/stat.csv")

# run SIDE CMD...: time SIDE's drift with CMD's arguments; sets wall and
# cpu (user+sys), in ms. drift exits 1 when it finds something (check:
# data would be lost; diff: the trees differ), so 1 is a result; anything
# higher stops the comparison.
run() {
	local s=$1 rc=0 t
	shift
	t=$({ TIMEFORMAT='%3R %3U %3S'; time "$TMP/$s.bin/drift" "$@" >/dev/null 2>"$TMP/err"; } 2>&1) || rc=$?
	if [ "$rc" -gt 1 ]; then
		cat "$TMP/err" >&2
		die "$s: drift $* exited with status $rc"
	fi
	read -r wall cpu < <(awk '{printf "%d %d\n", $1 * 1000, ($2 + $3) * 1000}' <<<"$t")
}

median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print int((a[NR/2]+a[NR/2+1])/2)}'; }

names=("drift check" "drift diff" "drift diff --quick")
cmds=("check --root $ROOT --ephemeral / --format json" "diff $ROOT $B --format paths" "diff --quick $ROOT $B --format paths")
for ((i = 1; i <= RUNS; i++)); do
	line="run $i/$RUNS:"
	for c in "${!cmds[@]}"; do
		for s in $(order "$i"); do
			# The paths hold no spaces (the tree is under $DIR/compare-N).
			# shellcheck disable=SC2086
			run "$s" ${cmds[$c]}
			echo "$wall" >>"$TMP/wall.$c.$s"
			echo "$cpu" >>"$TMP/cpu.$c.$s"
			line+=" ${names[$c]} $s ${wall}/${cpu} ms,"
		done
	done
	say "${line%,} (wall/cpu)"
done

echo
printf '%-20s %12s %12s %8s   %12s %12s %8s\n' "median of $RUNS" "base wall" "head wall" "" "base cpu" "head cpu" ""
for c in "${!cmds[@]}"; do
	row=("${names[$c]}")
	for k in wall cpu; do
		b=$(median <"$TMP/$k.$c.base")
		h=$(median <"$TMP/$k.$c.head")
		d=$(awk -v b="$b" -v h="$h" 'BEGIN {printf "%+.1f%%", b ? (h - b) * 100 / b : 0}')
		row+=("$b ms" "$h ms" "$d")
		if [ $k = cpu ] && awk -v b="$b" -v h="$h" -v p="$CMD_PCT" 'BEGIN {exit !(h > b * (1 + p / 100))}'; then
			regressions+=("${names[$c]} median $k time $b ms -> $h ms ($d, above +$CMD_PCT%)")
		fi
	done
	printf '%-20s %12s %12s %8s   %12s %12s %8s\n' "${row[@]}"
done
echo

if [ ${#regressions[@]} -eq 0 ]; then
	echo "no regression"
	exit 0
fi
for r in "${regressions[@]}"; do
	echo "REGRESSION: $r"
done
exit 1
