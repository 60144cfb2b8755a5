#!/usr/bin/env bash
# bench-history.sh: drift check with the previous boot's root, on real
# btrfs, against drift diff of the same two trees and find -xdev.
#
# Run by scripts/bench.sh (as root, with mkfs.btrfs and loop devices;
# HISTORY=0 skips it) inside a private mount namespace:
#
#   unshare -m --propagation private scripts/bench-history.sh
#
# The image $DRIFT_BENCH_DIR/history.img (12 GiB sparse, default
# /var/tmp/drift-bench) is made once and kept: a btrfs filesystem whose
# subvolume root holds the tools/gen-tree.go tree ($ENTRIES entries,
# -big=false) and whose old_roots/2026-11-10_09:00:00 is a snapshot of it
# with 1% of its files changed (gen-tree -mutate: rewritten, appended,
# touched, deleted, added). Each run mounts it on a temporary directory
# (unmounted and removed on exit), reads both trees into the page cache,
# then times, $RUNS times interleaved, with /usr/bin/time (wall time and
# peak RSS):
#
#   find ROOT -xdev
#   drift diff OLD ROOT                                 the same comparison
#   drift check --root ROOT --ephemeral / --old-roots   the history
#   drift check --root ROOT --ephemeral / --old-roots none
#
#   drift suggest --root ROOT --ephemeral / --old-roots OLDS --boots N
#                                                      for N = 1, 2 and 4
#
# and prints the medians and the bests, and checks the bars on the best of
# the runs (the least disturbed by other load): the history's time within
# drift diff's (1.00 or less), its peak RSS under 300 MiB, plain check's
# time within 0.80x find's, and drift suggest linear in the old roots: the
# CPU time (user+sys, less shifted by other load than wall time) each old
# root past the second adds, (t4 - t2) / 2, at most 1.5x what the second
# adds (t2 - t1), plus 0.2 s of noise. It prints "bar ok" or "bar MISSED"
# for each and exits 1 when one is missed. The older old roots
# (2026-11-09_09:00:00 and before) are snapshots of the first, made once.
set -euo pipefail

cd "$(dirname "$0")/.."

DIR=${DRIFT_BENCH_DIR:-/var/tmp/drift-bench}
IMG=$DIR/history.img
RUNS=${RUNS:-5}
ENTRIES=${ENTRIES:-1000000}
OLD=2026-11-10_09:00:00

say() { printf 'bench-history: %s\n' "$*" >&2; }
. scripts/lib.sh

MNT=$(mktemp -d)
cleanup() {
	umount "$MNT" 2>/dev/null || true
	rmdir "$MNT"
}
trap cleanup EXIT

if [ ! -f "$IMG" ]; then
	say "making $IMG: $ENTRIES entries and a 1%-changed old root (minutes)"
	mkdir -p "$DIR"
	truncate -s 12G "$IMG.tmp"
	mkfs.btrfs -q -f "$IMG.tmp"
	mount -o loop "$IMG.tmp" "$MNT"
	btrfs -q subvolume create "$MNT/root"
	go run tools/gen-tree.go -root "$MNT/root" -entries "$ENTRIES" -big=false
	mkdir "$MNT/old_roots"
	btrfs -q subvolume snapshot "$MNT/root" "$MNT/old_roots/$OLD"
	go run tools/gen-tree.go -mutate -root "$MNT/old_roots/$OLD" -pct 1 -list "$DIR/history.changes"
	umount "$MNT"
	mv "$IMG.tmp" "$IMG"
fi
OLDER=(2026-11-09_09:00:00 2026-11-08_09:00:00 2026-11-07_09:00:00)
mount -o loop "$IMG" "$MNT"
for o in "${OLDER[@]}"; do
	if [ ! -d "$MNT/old_roots/$o" ]; then
		say "snapshotting the old root as old_roots/$o"
		btrfs -q subvolume snapshot -r "$MNT/old_roots/$OLD" "$MNT/old_roots/$o"
	fi
done
# Every booted root holds the mount points nix, proc, sys, dev and run: a
# subvolume in old_roots without them (and with files of its own) does not
# look like a root to drift, which never takes it as the previous boot's
# root. gen-tree's tree has none; add them where missing (an image made by
# an older version of this script included).
for sv in "$MNT/root" "$MNT/old_roots"/*; do
	missing=0
	for d in nix proc sys dev run; do [ -d "$sv/$d" ] || missing=1; done
	[ "$missing" = 1 ] || continue
	ro=$(btrfs property get -ts "$sv" ro | cut -d= -f2)
	[ "$ro" = false ] || btrfs property set -ts "$sv" ro false
	for d in nix proc sys dev run; do mkdir -p "$sv/$d"; done
	[ "$ro" = false ] || btrfs property set -ts "$sv" ro true
done
mount -o remount,ro "$MNT"
ROOT=$MNT/root
OLDS=$MNT/old_roots

[ -x ./drift ] || go build -o drift ./cmd/drift

warm "$ROOT" "$OLDS"/*

# The history is timed only if check takes the old root as the previous
# boot's root: a run that compares nothing would pass every bar.
probe=$(./drift check --root "$ROOT" --ephemeral / --old-roots "$OLDS" --format json 2>/dev/null || true)
if ! grep -q '"previousRoot": *{' <<<"$probe"; then
	say "drift check --old-roots $OLDS took no previous root: nothing to time"
	exit 1
fi

# timed NAME CMD...: run CMD (stdout discarded; exit 1 is fine), append
# "seconds KiB" to $TMP/NAME.
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"; cleanup' EXIT
timed() {
	local name=$1
	shift
	/usr/bin/time -f '%e %M %U %S' -o "$TMP/t" "$@" >/dev/null 2>"$TMP/err" || [ $? -le 1 ] || {
		say "$name failed:"
		cat "$TMP/err" >&2
	}
	tail -1 "$TMP/t" | awk '{print $1, $2, $3 + $4}' >>"$TMP/$name"
	tail -1 "$TMP/$name"
}

for ((i = 1; i <= RUNS; i++)); do
	f=$(timed find find "$ROOT" -xdev)
	d=$(timed diff ./drift diff "$OLDS/$OLD" "$ROOT" --format paths)
	h=$(timed history ./drift check --root "$ROOT" --ephemeral / --old-roots "$OLDS" --format json)
	p=$(timed plain ./drift check --root "$ROOT" --ephemeral / --old-roots none --format json)
	s1=$(timed suggest1 ./drift suggest --root "$ROOT" --ephemeral / --old-roots "$OLDS" --boots 1)
	s2=$(timed suggest2 ./drift suggest --root "$ROOT" --ephemeral / --old-roots "$OLDS" --boots 2)
	s4=$(timed suggest4 ./drift suggest --root "$ROOT" --ephemeral / --old-roots "$OLDS" --boots 4)
	say "run $i/$RUNS (wall-s KiB cpu-s): find $f, drift diff $d, check with history $h, plain check $p, suggest --boots 1: $s1, 2: $s2, 4: $s4"
done

med() { awk '{print $'"$2"'}' "$TMP/$1" | sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
best() { awk '{print $'"$2"'}' "$TMP/$1" | sort -n | head -1; }
mx() { awk '{print $2}' "$TMP/$1" | sort -n | tail -1; }
for n in find diff history plain suggest1 suggest2 suggest4; do
	printf '%-10s median %6.2f s, best %6.2f s, CPU best %6.2f s, peak RSS %4d MiB (%d runs)\n' "$n" "$(med $n 1)" "$(best $n 1)" "$(best $n 3)" $(($(mx $n) / 1024)) "$RUNS"
done
missed=0
# bar WHAT VALUE LIMIT: VALUE must be LIMIT or less.
bar() {
	if awk -v v="$2" -v l="$3" 'BEGIN {exit !(v <= l)}'; then
		echo "bar ok:     $1: $2 (at most $3)"
	else
		echo "bar MISSED: $1: $2 (at most $3)"
		missed=$((missed + 1))
	fi
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a/b}'; }
bar "check with history / drift diff (best of $RUNS)" "$(ratio "$(best history 1)" "$(best diff 1)")" 1.00
bar "check with history peak RSS, MiB" $(($(mx history) / 1024)) 299
bar "plain check / find -xdev (best of $RUNS)" "$(ratio "$(best plain 1)" "$(best find 1)")" 0.80
c1=$(best suggest1 3) c2=$(best suggest2 3) c4=$(best suggest4 3)
echo "drift suggest CPU time per old root: the second adds $(awk -v a="$c1" -v b="$c2" 'BEGIN {printf "%.2f", b-a}') s, each of the third and fourth $(awk -v a="$c2" -v b="$c4" 'BEGIN {printf "%.2f", (b-a)/2}') s"
bar "drift suggest, CPU s each old root past the second adds" "$(awk -v b="$c2" -v c="$c4" 'BEGIN {printf "%.2f", (c-b)/2}')" "$(awk -v a="$c1" -v b="$c2" 'BEGIN {printf "%.2f", 1.5*(b-a)+0.2}')"
for n in suggest1 suggest2 suggest4; do
	bar "$n peak RSS, MiB" $(($(mx $n) / 1024)) 299
done
[ "$missed" -eq 0 ]
