# Kartoteka: `make run` to use it, `make test` to check it. Nothing else is needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HTMX_VERSION := 2.0.11
HTMX := kartoteka/static/vendor/htmx.min.js
PYTEST_WORKERS ?= 2


.PHONY: screenshots run test lint typecheck test-sqlite test-postgres assets messages bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# htmx comes from the npm registry at install time: no CDN at run time, nothing vendored.
$(HTMX):
	@mkdir -p $(dir $@) .cache
	cd .cache && npm pack --silent htmx.org@$(HTMX_VERSION) >/dev/null
	tar -xzf .cache/htmx.org-$(HTMX_VERSION).tgz -C .cache package/dist/htmx.min.js
	mv .cache/package/dist/htmx.min.js $@

assets: $(HTMX)

run: $(VENV)/.installed assets
	$(BIN)/kartoteka run

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy

test-sqlite: $(VENV)/.installed-test assets
	$(BIN)/python manage.py check --fail-level WARNING
	KARTOTEKA_DATA_DIR=$$(mktemp -d) $(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python scripts/browser_check.py
	$(BIN)/pytest -n $(PYTEST_WORKERS) $$($(BIN)/python scripts/browser_check.py --pytest-args)

test-postgres: $(VENV)/.installed-test assets
	@if [ -z "$$KARTOTEKA_TEST_DATABASE_URL" ]; then \
	  echo "KARTOTEKA_TEST_DATABASE_URL is not set: the PostgreSQL run is skipped."; \
	else \
	  echo "== PostgreSQL run: $$KARTOTEKA_TEST_DATABASE_URL"; \
	  $(BIN)/pytest -n $(PYTEST_WORKERS) $$($(BIN)/python scripts/browser_check.py --pytest-args); \
	fi

test: lint typecheck test-sqlite test-postgres

messages: $(VENV)/.installed-test
	cd kartoteka && ../$(BIN)/django-admin makemessages -l ru -l uk -l zh_Hans -l en --no-obsolete
	cd kartoteka && ../$(BIN)/django-admin compilemessages

# Refresh the README's screenshots from the browser tests.
screenshots: $(VENV)/.installed-test assets
	KARTOTEKA_SCREENSHOTS_DIR=$(CURDIR)/docs/screenshots $(BIN)/pytest -m browser -p no:xdist

bench: $(VENV)/.installed
	$(BIN)/kartoteka bench

clean:
	rm -rf $(VENV) .cache $(HTMX)
