# shellcheck shell=bash
# lib.sh: tree preparation shared by the bench scripts (sourced; each
# script defines say).

# mutated_copy ROOT B LIST: B is a cp -a copy of ROOT with 1% of its files
# changed by tools/gen-tree.go -mutate (the changes listed in LIST), made
# once and kept: an existing non-empty B is used as it is.
mutated_copy() {
	local root=$1 b=$2 list=$3
	if [ -d "$b" ] && [ -n "$(ls -A "$b" 2>/dev/null)" ]; then
		say "using existing mutated copy $b"
		return
	fi
	say "copying $root to $b (cp -a) and changing 1% of its files"
	rm -rf "$b"
	cp -a "$root" "$b"
	go run tools/gen-tree.go -mutate -root "$b" -pct 1 -list "$list"
}

# warm TREE...: reads each tree's entries and contents into the page cache.
warm() {
	say "warming the cache: both trees, contents included"
	local t
	for t in "$@"; do
		find "$t" -xdev >/dev/null
		tar -C "$t" -cf - . | cat >/dev/null
	done
}
