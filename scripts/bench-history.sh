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
# and prints the medians, the history's time over drift diff's (the target
# is 1.00 or less), its peak RSS (the target is under 300 MiB) and plain
# check's time over find's (the target is 0.80 or less).
set -euo pipefail

cd "$(dirname "$0")/.."

DIR=${DRIFT_BENCH_DIR:-/var/tmp/drift-bench}
IMG=$DIR/history.img
RUNS=${RUNS:-5}
ENTRIES=${ENTRIES:-1000000}
OLD=2026-11-10_09:00:00

say() { printf 'bench-history: %s\n' "$*" >&2; }

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
mount -o loop,ro "$IMG" "$MNT"
ROOT=$MNT/root
OLDS=$MNT/old_roots

[ -x ./drift ] || go build -o drift ./cmd/drift

say "warming the cache: both trees, contents included"
for t in "$ROOT" "$OLDS/$OLD"; do
	find "$t" -xdev >/dev/null
	tar -C "$t" -cf - . | cat >/dev/null
done

# timed NAME CMD...: run CMD (stdout discarded; exit 1 is fine), append
# "seconds KiB" to $TMP/NAME.
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"; cleanup' EXIT
timed() {
	local name=$1
	shift
	/usr/bin/time -f '%e %M' -o "$TMP/t" "$@" >/dev/null 2>"$TMP/err" || [ $? -le 1 ] || {
		say "$name failed:"
		cat "$TMP/err" >&2
	}
	tail -1 "$TMP/t" >>"$TMP/$name"
	tail -1 "$TMP/t"
}

for ((i = 1; i <= RUNS; i++)); do
	f=$(timed find find "$ROOT" -xdev)
	d=$(timed diff ./drift diff "$OLDS/$OLD" "$ROOT" --format paths)
	h=$(timed history ./drift check --root "$ROOT" --ephemeral / --old-roots "$OLDS" --format json)
	p=$(timed plain ./drift check --root "$ROOT" --ephemeral / --old-roots none --format json)
	say "run $i/$RUNS (s KiB): find $f, drift diff $d, check with history $h, plain check $p"
done

med() { awk '{print $'"$2"'}' "$TMP/$1" | sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
mx() { awk '{print $2}' "$TMP/$1" | sort -n | tail -1; }
for n in find diff history plain; do
	printf '%-22s median %6.2f s, peak RSS %4d MiB (%d runs)\n' "$n" "$(med $n 1)" $(($(mx $n) / 1024)) "$RUNS"
done
awk -v h="$(med history 1)" -v d="$(med diff 1)" 'BEGIN {printf "check with history / drift diff: %.2f (the target is 1.00 or less)\n", h/d}'
awk -v p="$(med plain 1)" -v f="$(med find 1)" 'BEGIN {printf "plain check / find -xdev:        %.2f (the target is 0.80 or less)\n", p/f}'
echo "check with history peak RSS: $(($(mx history) / 1024)) MiB (the target is under 300)"
