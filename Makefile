# drift — see README.md. `make demo` runs drift check on the bundled sample
# system; `make test` runs every test (the real-btrfs ones need root and loop
# devices; with DRIFT_REQUIRE_BTRFS=1 a skip of those is a failure).

GO      ?= go
DEMO    := fixtures/demo
FUZZTIME ?= 100000x

.PHONY: all build demo test fuzz bench bench-compare vet fmt clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -o drift ./cmd/drift

# drift check exits 1 when something would be lost, as it does on the demo.
demo: build
	./drift check --root $(DEMO)/root --mountinfo $(DEMO)/mountinfo \
		--persist $(DEMO)/impermanence.nix --ignore-file $(DEMO)/ignore; \
	status=$$?; [ $$status -le 1 ] || exit $$status

test: vet
	$(GO) test -count=1 -timeout 20m ./...
	$(MAKE) fuzz

# Each fuzz target runs briefly: its seed corpus plus FUZZTIME new inputs (a
# count, not a duration: a duration can end in a spurious "context deadline
# exceeded" while a worker is busy on a loaded machine).
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./internal/mounts
	$(GO) test -run '^$$' -fuzz '^FuzzParseNix$$' -fuzztime $(FUZZTIME) ./internal/persist
	$(GO) test -run '^$$' -fuzz '^FuzzParseJSON$$' -fuzztime $(FUZZTIME) ./internal/persist
	$(GO) test -run '^$$' -fuzz '^FuzzLint$$' -fuzztime $(FUZZTIME) ./internal/lint

bench: build
	./scripts/bench.sh

# The work tree against BASE (default: the merge-base with main), interleaved;
# exits 1 on a regression. make bench-compare BASE=v0.3.0
bench-compare:
	./scripts/bench-compare.sh $(BASE)

vet:
	@out=$$(gofmt -l cmd internal test 2>/dev/null); if [ -n "$$out" ]; then echo "gofmt needed: $$out"; exit 1; fi
	$(GO) vet ./...
	GOARCH=arm $(GO) vet ./... # a 32-bit NixOS platform (armv7l): Stat_t's field types differ

fmt:
	gofmt -w cmd internal test

clean:
	rm -f drift
