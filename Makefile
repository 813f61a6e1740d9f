# levtoken: the two commands a newcomer needs are `make demo` and `make test`.
# Every target runs the idempotent set-up first; nothing is installed outside this folder
# (except redis-server, chromium and chromium-driver from Debian's packages for `make test`, see toolchain/setup.sh).
SHELL := /bin/bash
export PATH := $(CURDIR)/.venv/bin:$(PATH)
export SOLCX_BINARY_PATH := $(CURDIR)/.solcx
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: setup demo test test-long bench compile prove lock clean

setup:
	@./toolchain/setup.sh

demo: setup
	@./toolchain/build.sh
	levtoken demo $(ARGS)

# The suite runs on TEST_WORKERS processes (pytest-xdist), each with its own anvil; the tests that share the project's
# folder or port 8545 run in one of them, one after another (xdist_group "project-folder").
TEST_WORKERS ?= 2

test: setup
	@./toolchain/setup.sh --test
	@./toolchain/build.sh
	ape test -n $(TEST_WORKERS) --dist loadgroup $(ARGS)

test-long: setup
	@./toolchain/setup.sh --test
	@./toolchain/build.sh
	HYPOTHESIS_PROFILE=long ape test -m slow $(ARGS)

bench: setup
	@./toolchain/build.sh
	ape run bench

compile: setup
	ape compile --force

# Symbolic proofs of the arithmetic libraries' rounding (proofs/README.md): halmos, with forge building against the
# project's solc; exits non-zero if any check fails or times out. Pass halmos options in ARGS (e.g. ARGS="--function check_split").
prove: setup
	@./toolchain/setup.sh --prove
	@start=$$(date +%s); rm -f proofs/out/halmos.json; \
	(cd proofs && PATH="$(CURDIR)/.venv-prove/bin:$(CURDIR)/node_modules/@foundry-rs/forge-linux-amd64/bin:$$PATH" \
	  halmos --json-output out/halmos.json $(ARGS)); \
	.venv-prove/bin/python toolchain/prove-summary.py proofs/out/halmos.json $$(( $$(date +%s) - start ))

lock:
	.venv/bin/pip freeze --exclude-editable | grep -vi '^levtoken' > requirements.lock.new
	(echo "# Pinned Python dependency tree for levtoken (pip freeze of requirements.in on Python 3.11)."; cat requirements.lock.new) > requirements.lock
	rm requirements.lock.new

clean:
	rm -rf .build contracts/.cache .venv .venv-prove node_modules .solcx proofs/out proofs/cache
