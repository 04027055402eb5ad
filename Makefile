# syndicate: `make run` starts the service on its embedded defaults; `make test` runs the suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
SYN    := $(BIN)/syndicate

.PHONY: run test lint format bench venv venv-test clean messages

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# One stamp per install flavour, redone when pyproject.toml changes. The distribution
# is syndicate-feeds; an install under the old name `syndicate` is removed first.
$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/pip uninstall --quiet --yes syndicate 2>/dev/null || true
	$(BIN)/pip install --quiet -e ".[all]"
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip uninstall --quiet --yes syndicate 2>/dev/null || true
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

venv: $(VENV)/.installed-run
venv-test: $(VENV)/.installed-test

# Import the example articles, build the feeds, compose this period's digest for the
# example reader into the Maildir outbox/, then keep running (Ctrl-C stops cleanly).
# Every step may run again: a reader who unsubscribed in the demo stays unsubscribed.
run: venv
	$(SYN) db upgrade
	$(SYN) import examples/articles
	$(SYN) subscribers add reader@example.org --name "Example Reader" --digest weekly --skip-suppressed
	$(SYN) feeds build
	$(SYN) digest send weekly
	$(SYN) deliver --once
	$(SYN) run

test: venv-test
	$(BIN)/pytest

lint: venv-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: venv-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Writes benchmarks/RESULTS.md; `make bench BENCH_ARGS=--quick` runs smaller sizes.
bench: venv-test
	SYNDICATE_TEST_DATABASE_URL=$${SYNDICATE_TEST_DATABASE_URL:-$$(bash .ci/postgres.sh 2>/dev/null)} $(BIN)/python -m benchmarks $(BENCH_ARGS)

clean:
	rm -rf $(VENV) feeds/* outbox syndicate.db syndicate.db-wal syndicate.db-shm test-artifacts

# Reader-facing strings (docs/translations.md): extract them into the template, then
# merge it into every catalog. A new string arrives untranslated (no fuzzy guesses), and
# tests/test_translations.py fails until each catalog translates it.
messages: venv-test
	$(BIN)/pybabel -q extract -F babel.cfg --no-location --sort-output --project=syndicate \
		-o syndicate/locale/messages.pot .
	$(BIN)/pybabel -q update -i syndicate/locale/messages.pot -d syndicate/locale \
		--no-fuzzy-matching --width 100 --ignore-obsolete --ignore-pot-creation-date
