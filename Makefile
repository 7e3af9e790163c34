# cutover-harness: see README.md. The two commands: `make demo` and `make test`.
SHELL := /bin/bash
GO    ?= go
PKGS  := ./...
# Fuzz targets run briefly in `make test`, longer in `make fuzz`. Budgets
# are counts of executions, not durations: Go 1.26's fuzz coordinator can
# fail a duration-limited run with a bare "context deadline exceeded" as
# the time runs out on a busy machine (golang/go#75804, fixed in Go 1.27).
# 60,000 executions take 1-4 s per target here; 4 million about 2 minutes.
FUZZTIME ?= 60000x
FUZZ_LONG ?= 4000000x
FUZZ_TARGETS := \
	./harness/scenario:FuzzScenario \
	./harness/session:FuzzReader \
	./harness/capture:FuzzCaptureReader \
	./harness/diff:FuzzFrame \
	./harness/signoff:FuzzLedgerLine

TIMING_TESTS := TestCleanStack|TestFaultMatrix|TestContainersTwoReplicasPassShadow|TestRunAndDiffCommands|TestMigrationWalkthrough

.PHONY: demo test unit fuzz-smoke fuzz bench build fixtures vet clean images

# Container images of the containers stack, built here (nothing is pulled):
# the reference stack as a static binary on scratch, Redis from Debian's
# redis-server binary and its libraries. Tests run them with Ryuk off: the
# harness removes every container and network it starts.
IMAGE_TAG       ?= dev
THORSTACK_IMAGE := cutover-harness/thorstack:$(IMAGE_TAG)
REDIS_IMAGE     := cutover-harness/redis:$(IMAGE_TAG)
IMAGE_CTX       := bin/images
export TESTCONTAINERS_RYUK_DISABLED ?= true

## demo: replay the short session into the embedded reference stack and write a report
demo:
	$(GO) run ./cmd/harness run scenarios/shadow.yaml

## test: everything CI runs: vet, the race-detected suite, a short fuzz of every decoder
test: deps vet unit fuzz-smoke

## deps: install what the tests need, and only what is missing (Debian's
## chromium, which opens report.html in the report tests; redis-server, for
## the Redis channel layers' tests and the Redis image; Django, Channels,
## Daphne and channels_redis, for the Django fixture stack's tests). Quiet
## when present.
DEPS_PY := python3-django python3-django-channels python3-daphne python3-channels-redis
.PHONY: deps
deps:
	@pkgs="$$(command -v chromium >/dev/null || echo chromium) $$(command -v redis-server >/dev/null || echo redis-server)"; \
	  for p in $(DEPS_PY); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || pkgs="$$pkgs $$p"; \
	  done; \
	  if [ -n "$${pkgs// /}" ]; then \
	    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$pkgs; \
	  fi

## images: build the containers stack's images (cutover-harness/thorstack,
## cutover-harness/redis). Incremental: Docker's cache keeps an unchanged
## image as it is, and the image a rebuild replaced is removed.
images: deps
	@command -v docker >/dev/null || { echo "make images: docker is not installed"; exit 1; }
	@set -e; rm -rf $(IMAGE_CTX); mkdir -p $(IMAGE_CTX)/thorstack $(IMAGE_CTX)/redis/rootfs/usr/bin; \
	  CGO_ENABLED=0 $(GO) build -trimpath -ldflags='-s -w' -o $(IMAGE_CTX)/thorstack/thorstack ./cmd/thorstack; \
	  cp images/thorstack/Dockerfile $(IMAGE_CTX)/thorstack/; \
	  srv=$$(command -v redis-server); \
	  cp -L "$$srv" $(IMAGE_CTX)/redis/rootfs/usr/bin/redis-server; \
	  for lib in $$(ldd "$$srv" | awk '$$2 == "=>" && $$3 ~ /^\// {print $$3} $$1 ~ /^\// {print $$1}'); do \
	    cp -L --parents "$$lib" $(IMAGE_CTX)/redis/rootfs/; \
	  done; \
	  cp images/redis/Dockerfile $(IMAGE_CTX)/redis/; \
	  for img in thorstack:$(THORSTACK_IMAGE) redis:$(REDIS_IMAGE); do \
	    name=$${img%%:*}; tag=$${img#*:}; \
	    old=$$(docker image inspect -f '{{.Id}}' "$$tag" 2>/dev/null || true); \
	    out=$$(docker build -q --label cutover-harness=1 -t "$$tag" $(IMAGE_CTX)/$$name 2>&1) || { echo "$$out"; exit 1; }; \
	    new=$$(docker image inspect -f '{{.Id}}' "$$tag"); \
	    if [ -n "$$old" ] && [ "$$old" != "$$new" ]; then docker image rm "$$old" >/dev/null 2>&1 || true; fi; \
	    echo "image $$tag $${new:7:12}"; \
	  done

vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet $(PKGS)

unit: deps images
	$(GO) test -race -short -p 1 -timeout 25m $(PKGS)
	@# Verdicts that rest on freshness timing, in full and without the race
	@# detector, which slows the harness's own subscribers several times over.
	$(GO) test -p 1 -timeout 20m -run '$(TIMING_TESTS)' ./harness/run ./harness/cli

fuzz-smoke:
	@set -e; for t in $(FUZZ_TARGETS); do \
	  pkg=$${t%%:*}; fn=$${t##*:}; \
	  echo "fuzz $$pkg $$fn ($(FUZZTIME))"; \
	  $(GO) test -run '^$$' -fuzz "^$$fn$$" -fuzztime $(FUZZTIME) $$pkg; \
	done

## fuzz: fuzz every decoder for $(FUZZ_LONG) executions each
fuzz:
	$(MAKE) fuzz-smoke FUZZTIME=$(FUZZ_LONG)

## bench: print the performance figures (see README "Performance"), the
## full-day run once
bench: bench-fullday
	$(GO) test -run '^$$' -bench . -skip '^BenchmarkFullDay$$' -benchmem -benchtime 3x ./harness/...

## bench-k6: the same 1,000-subscriber broadcast run measured with k6 (an
## off-the-shelf load tool, installed into bin/ from the Go module proxy)
## and with the harness: CPU per delivered message of each
.PHONY: bench-k6
bench-k6:
	GOBIN=$(CURDIR)/bin $(GO) install go.k6.io/k6@v1.8.1
	$(GO) build -o bin/thorstack ./cmd/thorstack
	$(GO) build -o bin/driver ./harness/load/testdata/k6/driver.go
	BIN=$(CURDIR)/bin bash harness/load/testdata/k6/compare.sh
	$(GO) test -run '^$$' -bench '^BenchmarkBroadcast1000Process$$' -benchtime 3x ./harness/load

## bench-fullday: harness run on scenarios/fullday.yaml (the whole regular
## session at max speed, ten subscribers, over a million WS frames); prints
## the harness's peak resident memory (getrusage, must stay under 300 MB)
.PHONY: bench-fullday
bench-fullday:
	$(GO) test -run '^$$' -bench '^BenchmarkFullDay$$' -benchtime 1x -timeout 20m -v ./harness/run

build:
	$(GO) build -o bin/ ./cmd/...

## fixtures: check the committed session fixtures against their seeds
fixtures:
	$(GO) test -run 'TestFixtures' -v ./harness/session

clean:
	rm -rf bin reports/*/
