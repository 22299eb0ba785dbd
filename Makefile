# The two commands of a new user: `make run` and `make test`.
GO        ?= go
# dynamic: link Debian's libopus rather than the copy pion/mediadevices bundles.
GOFLAGS   += -tags=dynamic
export GOFLAGS
CACHE     := $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/callbox

.PHONY: run test bench deps build lab-test clean

deps:
	@scripts/deps.sh

build: deps
	$(GO) build -o bin/ ./cmd/callboxd ./cmd/callboxctl ./internal/devserver

run: build
	scripts/run.sh

test: deps
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 20m ./...

bench: deps
	$(GO) run ./internal/bench

lab-test: build
	lab/test.sh

clean:
	rm -rf bin
