# mmlite: run `make` for the list of targets.
GO        ?= go
REDIS_URL ?= redis://127.0.0.1:6379/15
FUZZTIME  ?= 30s

.DEFAULT_GOAL := help
.PHONY: help build test test-redis lint demo bench fuzz validate ci

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: ## build the mmlite binary into ./bin
	$(GO) build -trimpath -o bin/mmlite ./cmd/mmlite

test: ## run the tests on the embedded Redis (nothing else needed)
	$(GO) test ./...

test-redis: ## run the tests with -race against a real Redis (REDIS_URL, default redis://127.0.0.1:6379/15)
	MMLITE_TEST_REDIS_URL=$(REDIS_URL) $(GO) test -race -count=1 ./...

lint: ## go vet and gofmt
	$(GO) vet ./...
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

demo: ## send a sample campaign end to end on an embedded Redis and the fake API
	$(GO) run ./cmd/mmlite demo

bench: ## benchmarks against a real Redis (REDIS_URL, as test-redis); prints figures and ratios (a few minutes)
	MMLITE_TEST_REDIS_URL=$(REDIS_URL) $(GO) test -run '^$$' -bench . -benchtime 1x -timeout 30m ./producer/ ./internal/store/ ./e2e/

fuzz: ## run every fuzz target for FUZZTIME each (default 30s); a failure saves its input under testdata/fuzz
	@list=$$($(GO) test -list '^Fuzz' ./...) || { echo "$$list"; exit 1; }; \
	targets=$$(echo "$$list" | awk '/^Fuzz/ {f[n++] = $$1; next} /^ok/ {for (i = 0; i < n; i++) print $$2 "," f[i]; n = 0}'); \
	test -n "$$targets" || { echo "no fuzz targets found"; exit 1; }; \
	for t in $$targets; do \
		pkg=$${t%%,*}; fn=$${t#*,}; \
		echo "== $$fn ($$pkg) for $(FUZZTIME)"; \
		log=$$(mktemp); \
		{ $(GO) test "$$pkg" -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME); echo $$? > $$log.rc; } 2>&1 | tee $$log; \
		rc=$$(cat $$log.rc); \
		if [ "$$rc" != 0 ] && grep -q 'context deadline exceeded' $$log && ! grep -q 'Failing input written' $$log; then \
			echo "(not a failure: Go's fuzz coordinator at the end of -fuzztime, go.dev/issue/75804; no input failed)"; rc=0; \
		fi; \
		rm -f $$log $$log.rc; \
		[ "$$rc" = 0 ] || exit 1; \
	done

validate: ## validate deploy/ (promtool, docker-compose, manifests)
	./.ci/validate

ci: ## what CI runs
	./.ci/run
