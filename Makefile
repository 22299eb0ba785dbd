# The two commands of a new user: `make run` and `make test`.
GO        ?= go
# dynamic: link Debian's libopus rather than the copy pion/mediadevices bundles.
GOFLAGS   += -tags=dynamic
export GOFLAGS
CACHE     := $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/callbox
# The architecture built for: the host's into bin/, or another one
# (make build GOARCH=arm64 on an amd64 machine) into bin/GOARCH/, with
# Debian's cross compiler and the -dev packages of that architecture
# (multiarch), which scripts/deps.sh GOARCH installs.
HOSTARCH  := $(shell $(GO) env GOHOSTARCH)
GOARCH    ?= $(HOSTARCH)
TRIPLET_amd64 := x86_64-linux-gnu
TRIPLET_arm64 := aarch64-linux-gnu
TRIPLET   := $(TRIPLET_$(GOARCH))
ifeq ($(TRIPLET),)
$(error GOARCH=$(GOARCH): Callbox builds for amd64 and arm64)
endif
ifeq ($(GOARCH),$(HOSTARCH))
BIN       := bin
else
BIN       := bin/$(GOARCH)
export GOARCH
export CGO_ENABLED := 1
export CC := $(TRIPLET)-gcc
# pkg-config reads that architecture's .pc files only, never the host's.
export PKG_CONFIG_LIBDIR := /usr/lib/$(TRIPLET)/pkgconfig:/usr/share/pkgconfig
endif
# FFmpeg with only the decoders callboxd uses, made by scripts/ffmpeg-lean.sh
# (deps) for each architecture: pkg-config finds it before Debian's. Go's
# build cache does not hash what pkg-config answers, so its stamp (version,
# recipe, architecture) goes into CGO_CFLAGS, which it does. Both start
# from the caller's own values, kept aside by the first make, so that a
# make within make for another GOARCH (make test) does not inherit this
# one's FFmpeg.
ifeq ($(origin CALLBOX_CALLER_CGO_CFLAGS),undefined)
export CALLBOX_CALLER_CGO_CFLAGS := $(CGO_CFLAGS)
export CALLBOX_CALLER_PKG_CONFIG_PATH := $(PKG_CONFIG_PATH)
endif
export PKG_CONFIG_PATH := $(CACHE)/ffmpeg-lean-$(GOARCH)/lib/pkgconfig$(if $(CALLBOX_CALLER_PKG_CONFIG_PATH),:$(CALLBOX_CALLER_PKG_CONFIG_PATH))
export CGO_CFLAGS := $(or $(CALLBOX_CALLER_CGO_CFLAGS),-O2 -g) -DCALLBOX_FFMPEG_LEAN=$(shell scripts/ffmpeg-lean.sh --stamp $(GOARCH))

.PHONY: run test lint bench deps build binaries deb abi-test lab-test lab-binaries arm64-test arm64-debs clean image web e2ee-vectors

deps:
	@scripts/deps.sh $(GOARCH)

# bin/callboxd, bin/callboxctl and bin/devserver; with GOARCH=arm64 (on an
# amd64 machine) bin/arm64/callboxd and bin/arm64/callboxctl.
build: deps web
	@$(MAKE) --no-print-directory binaries

# What build builds, once deps and web have run (make test builds them for
# each architecture without running those again).
binaries:
	$(GO) build -o $(BIN)/ ./cmd/callboxd ./cmd/callboxctl $(if $(filter bin,$(BIN)),./internal/devserver)

# dist/callbox_<version>_<arch>.deb for GOARCH (default the host's), from
# the binaries of make build: debian/, scripts/deb.sh. Prints its path.
deb: build
	@scripts/deb.sh $(GOARCH) $(BIN)

run: build
	scripts/run.sh

# make test builds and packages for the host and for arm64, the boards'
# architecture (scripts/deps.sh arm64 installs its cross compiler).
TEST_ARCHS := $(sort $(HOSTARCH) arm64)

test: deps web lint
	@scripts/deps.sh $(TEST_ARCHS)
	cd provisioning/browsertest && npm ci --no-audit --no-fund --silent
	$(GO) vet ./...
	# The binaries and package of each architecture, for debian/'s tests:
	# lintian, binaries of the package's architecture that link only its
	# libraries, Depends, an install, upgrade and purge in a throwaway root.
	$(foreach a,$(TEST_ARCHS),$(MAKE) --no-print-directory GOARCH=$(a) binaries &&) true
	debs=; for a in $(TEST_ARCHS); do \
		dir=bin; [ $$a = $(HOSTARCH) ] || dir=bin/$$a; \
		deb=$$(scripts/deb.sh $$a $$dir) || exit 1; debs="$$debs $(CURDIR)/$$deb"; \
	done; \
	CALLBOX_DEBS="$$debs" $(GO) test -count=1 -timeout 20m ./...
	# Our copies of kernel structs against the C headers on arm64 too.
	$(foreach a,$(filter-out $(HOSTARCH),$(TEST_ARCHS)),$(MAKE) --no-print-directory GOARCH=$(a) abi-test &&) true
	# A count, not a time: a time limit that ends while a worker runs a slow
	# input fails the run with "context deadline exceeded".
	$(GO) test -run='^$$' -fuzz=FuzzParseConfig -fuzztime=20000x ./provisioning/
	$(GO) test -run='^$$' -fuzz=FuzzDecodeSetup -fuzztime=20000x ./provisioning/
	$(GO) test -run='^$$' -fuzz=FuzzCheckName -fuzztime=20000x ./config/
	$(GO) test -run='^$$' -fuzz=FuzzParse -fuzztime=20000x ./call/keys/
	$(GO) test -run='^$$' -fuzz=FuzzReceive -fuzztime=20000x ./call/keys/
	$(GO) test -run='^$$' -fuzz=FuzzMJPEG -fuzztime=20000x ./pipeline/

# golangci-lint with .golangci.yml (its linters, and the reason for each
# exclusion), a version pinned here that knows Go 1.26. go install builds
# it from the module proxy the first time (a few minutes) into the cache's
# bin/, named for its version and the Go that built it: a golangci-lint
# built by an older Go refuses a module of a newer one. Built for the host
# whatever GOARCH is, outside the module, and renamed into place so that a
# half-written binary never has the final name. Its analysis cache is
# $(CACHE)/golangci-lint.
GOLANGCI_LINT_VERSION := v2.15.0
GOLANGCI_LINT := $(CACHE)/bin/golangci-lint-$(GOLANGCI_LINT_VERSION)-$(shell $(GO) env GOVERSION)

lint: deps $(GOLANGCI_LINT)
	GOLANGCI_LINT_CACHE=$(CACHE)/golangci-lint $(GOLANGCI_LINT) run

$(GOLANGCI_LINT):
	mkdir -p $(@D)
	tmp=$$(mktemp -d $(@D)/build-XXXXXX) && trap 'rm -rf "$$tmp"' EXIT && \
	cd $$tmp && env -u GOFLAGS GOARCH=$(HOSTARCH) CGO_ENABLED=0 GOWORK=off GOBIN=$$tmp \
		$(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION) && \
	mv $$tmp/golangci-lint $@

# The tests that check our copies of kernel structs and ioctl numbers
# against the C headers (those that use internal/cabi), built for GOARCH;
# run under qemu-user when it is not the host's.
ABI_PKGS = $(sort $(dir $(shell grep -rl --include='*_test.go' 'callbox/internal/cabi"' .)))
abi-test:
	$(GO) test -count=1 $(if $(filter-out $(HOSTARCH),$(GOARCH)),-exec qemu-$(firstword $(subst -, ,$(TRIPLET)))-static) -run ABIMatchesHeader -v $(ABI_PKGS)

# The guest page (web/guest): livekit-client from npm, bundled by esbuild
# into web/guest/static, which callboxd embeds. No CDN.
web: deps
	cd web/guest && npm ci --no-audit --no-fund --silent && node build.mjs

# Frames encrypted by livekit-client's own code, for call's E2EE tests.
e2ee-vectors: web
	cd web/guest && node e2ee-vectors.mjs make ../../call/testdata/e2ee/vectors.json

bench: deps
	$(GO) run ./internal/bench

# The lab VM's scenarios on the real callboxd (lab/README.md); needs root.
lab-test: lab-binaries
	$(GO) build -o bin/lab-hostview ./lab/hostview
	bin/lab-hostview prepare >/dev/null
	lab/test.sh $(LAB_BINARIES:%=-b $(BIN)/%)

# What the lab VM runs, built for GOARCH into $(BIN): callboxd, the lab's
# helpers (static) and the test binaries of the packages it tests on real
# drivers.
LAB_BINARIES := callboxd lab-tone lab-uinputkeys lab-notifyd lab-cectv audio.test v4l2m2m.test gpio.test v4l2.test
lab-binaries: build
	CGO_ENABLED=0 $(GO) build -o $(BIN)/lab-tone ./lab/tone
	CGO_ENABLED=0 $(GO) build -o $(BIN)/lab-uinputkeys ./lab/uinputkeys
	CGO_ENABLED=0 $(GO) build -o $(BIN)/lab-notifyd ./lab/notifyd
	CGO_ENABLED=0 $(GO) build -o $(BIN)/lab-cectv ./lab/cectv
	$(GO) test -c -o $(BIN)/audio.test ./device/audio
	$(GO) test -c -o $(BIN)/v4l2m2m.test ./pipeline/v4l2m2m
	$(GO) test -c -o $(BIN)/gpio.test ./device/gpio
	$(GO) test -c -o $(BIN)/v4l2.test ./device/camera/v4l2

# The box's own architecture, booted (README, "make arm64-test"; needs
# root): the lab's camera, audio, m2m and buttons scenarios with arm64 binaries on
# the lab kernel built for arm64, and the Debian package installed with apt
# on Debian 12 arm64 under qemu-system-aarch64, set up over HTTPS from the
# host, in the call, upgraded, removed and purged (lab/scenarios/deb.sh).
# Every scenario runs; the target fails if one did.
arm64-test: arm64-debs
	$(ARM64_MAKE) lab-binaries
	$(GO) build -o bin/lab-hostview ./lab/hostview
	bin/lab-hostview prepare >/dev/null
	status=0; \
	ARCH=arm64 lab/test.sh -t 600 $(ARM64_LAB_BINARIES:%=-b bin/arm64/%) camera audio m2m buttons || status=1; \
	ARCH=arm64 lab/test.sh -t 1800 $(patsubst %,--deb %,$(wildcard dist/arm64-test/*.deb)) deb || status=1; \
	exit $$status

# What the lab's arm64 scenarios need in the guest.
ARM64_LAB_BINARIES := callboxd lab-tone v4l2m2m.test

# The package as make deb builds it for arm64, and the same at a lower
# version (VERSION~previous) for the deb scenario to upgrade from, in
# dist/arm64-test/. The arm64 builds run in a make of their own, whose
# settings are arm64's from the start.
ARM64_MAKE := $(MAKE) --no-print-directory GOARCH=arm64
arm64-debs: deps
	rm -rf dist/arm64-test
	mkdir -p dist/arm64-test
	cp "$$($(ARM64_MAKE) -s deb | tail -n 1)" dist/arm64-test/
	mv "$$(CALLBOX_VERSION=$$(scripts/version.sh)~previous $(ARM64_MAKE) -s deb | tail -n 1)" dist/arm64-test/

# A flashable image and update bundle (buildroot/README.md): BOARD=rpi4,
# rpi3 (also Zero 2 W), rpi5 or qemu. Needs the internet, ~15 GB, 1-3 hours.
image:
	BOARD=$(BOARD) buildroot/scripts/image.sh

clean:
	rm -rf bin dist
