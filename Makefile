# Ziyuan — see README.md. Tools the targets install live in the user's cache folder.
SHELL := /bin/bash
GO    ?= go
DATA  ?= ./data
TOOLS := $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/ziyuan/bin
export PATH := $(TOOLS):$(PATH)

.PHONY: build run test check bench fuzz load clean

build:
	$(GO) build -o bin/ziyuan ./cmd/ziyuan

## run: build, migrate, load the demo data (idempotent) and serve on http://localhost:8080
run: build
	./bin/ziyuan migrate --data $(DATA)
	./bin/ziyuan seed --demo --data $(DATA)
	./bin/ziyuan serve --data $(DATA)

## test: vet, then the whole suite with -race on SQLite and a throwaway PostgreSQL, MinIO and stripe-mock, with the browser tests
test:
	.ci/ensure-tools test
	$(GO) vet ./...
	ZIYUAN_REQUIRE_POSTGRES=1 ZIYUAN_REQUIRE_BROWSER=1 ZIYUAN_REQUIRE_STRIPE=1 ZIYUAN_REQUIRE_MINIO=1 \
		ZIYUAN_REQUIRE_XMLLINT=1 ZIYUAN_REQUIRE_OAI_CLIENT=1 \
		.ci/with-postgres .ci/with-stripe-mock .ci/with-minio .ci/gotest

## check: vet and staticcheck
check:
	.ci/ensure-tools check
	$(GO) vet ./...
	staticcheck ./...

## bench: benchmarks (six runs each, on SQLite and PostgreSQL) summarised by benchstat
bench:
	.ci/ensure-tools bench
	.ci/with-postgres $(GO) test -run '^$$' -bench . -benchmem -count 6 ./... | tee bench.txt
	benchstat bench.txt

## fuzz: every fuzz target for FUZZTIME (default 20s) each
fuzz:
	.ci/fuzz

## load: the load and fault harness — PostgreSQL, MinIO, three instances, 200 users for 5 minutes
## with a leader kill, a PostgreSQL restart and a MinIO outage (not part of test). LOAD_FLAGS
## go to ziyuan-load, e.g. make load LOAD_FLAGS='-duration 30s -users 20'
LOAD_FLAGS ?=
load:
	.ci/load $(LOAD_FLAGS)

clean:
	rm -rf bin bench.txt load-report.md
