# levtoken: the two commands a newcomer needs are `make demo` and `make test`.
# Every target runs the idempotent set-up first; nothing is installed outside this folder
# (except redis-server, chromium and chromium-driver from Debian's packages for `make test`, see toolchain/setup.sh).
SHELL := /bin/bash
export PATH := $(CURDIR)/.venv/bin:$(PATH)
export SOLCX_BINARY_PATH := $(CURDIR)/.solcx
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: setup demo test test-long bench compile lock clean

setup:
	@./toolchain/setup.sh

demo: setup
	@./toolchain/build.sh
	levtoken demo $(ARGS)

test: setup
	@./toolchain/setup.sh --test
	@./toolchain/build.sh
	ape test $(ARGS)

test-long: setup
	@./toolchain/setup.sh --test
	@./toolchain/build.sh
	HYPOTHESIS_PROFILE=long ape test -m slow $(ARGS)

bench: setup
	@./toolchain/build.sh
	ape run bench

compile: setup
	ape compile --force

lock:
	.venv/bin/pip freeze --exclude-editable | grep -vi '^levtoken' > requirements.lock.new
	(echo "# Pinned Python dependency tree for levtoken (pip freeze of requirements.in on Python 3.11)."; cat requirements.lock.new) > requirements.lock
	rm requirements.lock.new

clean:
	rm -rf .build contracts/.cache .venv node_modules .solcx
