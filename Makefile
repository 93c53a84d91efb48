# The two commands a new machine needs: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint format clean venv bench browser postgres sshd bench-deps

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m fraudmatch.synth.demo

# Debian's chromium for the review app's browser tests (Playwright drives it; no
# `playwright install`). A no-op when present; CI runs as root on Debian.
browser:
	@command -v chromium >/dev/null 2>&1 || (apt-get update && apt-get install -y chromium) \
		|| echo "chromium could not be installed: the browser tests will be skipped"

# Debian's PostgreSQL server binaries for the review database tests (they start a throwaway
# cluster of their own; nothing is configured or left running). A no-op when present.
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 \
		|| (apt-get update && apt-get install -y postgresql) \
		|| echo "postgresql could not be installed: the PostgreSQL tests will be skipped"

# Debian's OpenSSH server and client for the SFTP drop tests (they start a throwaway sshd
# on 127.0.0.1 of their own; the system's ssh service is not started). A no-op when present.
sshd:
	@test -x /usr/sbin/sshd && command -v ssh-keygen >/dev/null 2>&1 \
		|| (apt-get update && apt-get install -y openssh-server openssh-client) \
		|| echo "openssh-server could not be installed: the SFTP drop tests will be skipped"

test: $(STAMP) browser postgres sshd
	$(BIN)/python -m pytest -q -n 2

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python benchmarks/ingest.py

# The peers for benchmarks/peers.py (Splink, recordlinkage): the optional `bench` extra.
bench-deps: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'

clean:
	rm -rf $(VENV) demo-output workspace
