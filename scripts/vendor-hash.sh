#!/usr/bin/env bash
# Recompute nix/package.nix's vendorHash after go.mod, go.sum or the imports
# change: the NAR hash (SRI) of the directory `go mod vendor` makes, as
# buildGoModule computes it. TestVendorHash (test/nix) fails while it is
# stale; with -update it rewrites the line.
set -euo pipefail
cd "$(dirname "$0")/.."
go test -count=1 -run '^TestVendorHash$' ./test/nix -update -v | grep -E 'vendorHash|^(ok|FAIL|---)'
grep -n 'vendorHash =' nix/package.nix
