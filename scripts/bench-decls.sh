#!/usr/bin/env bash
# bench-decls.sh: the memory budget of declarations: 1,000,000 of them
# within 10x the memory of the input's text. Run by scripts/bench.sh
# (BUDGET=0 skips it there); alone, from the repository root:
#
#   scripts/bench-decls.sh           # the Go Budget benchmarks, then every case
#   GO=0 scripts/bench-decls.sh      # the drift commands only
#   CASES="dups-one" scripts/bench-decls.sh
#
# First the Budget benchmarks (GO=0 skips them): they read large inputs
# (a million declarations as .nix and as JSON, a 200,000-line mount table)
# and fail when the reader allocates (and so can hold at its peak) or keeps
# more than 10x the input's text, or lint's rules allocate more than 2x.
# Then drift lint and drift check --persist (on fixtures/demo) run under
# /usr/bin/time on each case of $CASES (default all):
#
#   decls.nix    1,000,000 distinct directories, .nix (about 21 MB)
#   decls.json   the same as JSON (about 20 MB)
#   dups-one     one directory declared 1,000,000 times, .nix (15 MB)
#   dups-pairs   500,000 directories declared twice each, .nix (19 MB)
#
# A peak RSS over 10x the file's size is a missed budget; the script
# prints each figure with its CPU time (user+sys) and exits 1 when one is
# missed (after running every case). How each parser's and rule's work
# grows with its input is checked by the tests (TestReadCostLinear,
# TestReadAllocBound, TestParseCostLinear, TestCheckCostLinear,
# TestCheckAllocBound, TestRepeatsCostLinear).
set -euo pipefail

cd "$(dirname "$0")/.."

say() { printf 'bench-decls: %s\n' "$*" >&2; }

CASES=${CASES:-decls.nix decls.json dups-one dups-pairs}
missed=0

if [ "${GO:-1}" != 0 ]; then
	say "go test -bench Budget (bytes allocated and kept per input byte; the budget is 10)"
	if ! go test -run '^$' -bench 'Budget' -benchtime 2x ./internal/persist ./internal/mounts ./internal/lint; then
		say "a parser is over its memory budget (above)"
		missed=$((missed + 1))
	fi
fi

if [ ! -x /usr/bin/time ]; then
	say "no /usr/bin/time: the drift commands are not measured"
	exit $((missed > 0))
fi
if [ ! -x ./drift ]; then
	say "./drift not found; building it"
	go build -o drift ./cmd/drift
fi

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# gen CASE: writes the input of CASE to $TMP and prints its name there.
gen() {
	case $1 in
	decls.nix)
		seq 0 999999 | awk 'BEGIN {print "{ environment.persistence.\"/p\".directories = ["} {printf "  \"/var/lib/d%d\"\n", $1} END {print "]; }"}' >"$TMP/$1"
		;;
	decls.json)
		seq 0 999999 | awk 'BEGIN {printf "{\"/p\": {\"directories\": ["} {printf "%s\"/var/lib/d%d\"\n", (NR > 1 ? "," : ""), $1} END {print "]}}"}' >"$TMP/$1"
		;;
	dups-one)
		seq 0 999999 | awk 'BEGIN {print "{ environment.persistence.\"/p\".directories = ["} {print "  \"/var/lib/d\""} END {print "]; }"}' >"$TMP/$1.nix"
		;;
	dups-pairs)
		seq 0 999999 | awk 'BEGIN {print "{ environment.persistence.\"/p\".directories = ["} {printf "  \"/var/lib/d%d\"\n", $1 % 500000} END {print "]; }"}' >"$TMP/$1.nix"
		;;
	*)
		say "unknown case $1"
		return 1
		;;
	esac
	case $1 in *.nix | *.json) echo "$TMP/$1" ;; *) echo "$TMP/$1.nix" ;; esac
}

# measure CMD...: "peak-KiB cpu-ms" of CMD (stdout and stderr discarded,
# exit status 1 accepted).
measure() {
	/usr/bin/time -f '%M %U %S' -o "$TMP/time" "$@" >/dev/null 2>"$TMP/err" || [ $? -le 1 ] || {
		say "$* failed:"
		tail -5 "$TMP/err" >&2
	}
	tail -1 "$TMP/time" | awk '{printf "%d %d\n", $1, ($2+$3)*1000}'
}

for c in $CASES; do
	f=$(gen "$c")
	size=$(stat -c %s "$f")
	for cmd in lint check; do
		if [ $cmd = lint ]; then
			read -r kib cpu < <(measure ./drift lint "$f")
		else
			read -r kib cpu < <(measure ./drift check --root fixtures/demo/root --mountinfo fixtures/demo/mountinfo --persist "$f" --format json)
		fi
		ratio=$(awk -v k="$kib" -v s="$size" 'BEGIN {printf "%.1f", k * 1024 / s}')
		verdict="budget ok"
		if awk -v r="$ratio" 'BEGIN {exit !(r > 10)}'; then
			verdict="budget MISSED"
			missed=$((missed + 1))
		fi
		echo "drift $cmd, 1,000,000 declarations ($c, $((size / 1000000)) MB): peak RSS $((kib / 1024)) MiB, ${ratio}x the input, cpu ${cpu} ms: $verdict"
	done
	rm -f "$f"
done

if [ "$missed" -gt 0 ]; then
	say "$missed budget(s) missed (above)"
	exit 1
fi
