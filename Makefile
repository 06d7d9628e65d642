# The two commands of the README:  `make demo`  and  `make test`.
# Both create ./.venv from scratch when needed; nothing is installed outside it except Debian's
# chromium for the browser test (only when running as root and it is missing).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-min setup lint unit browser notebooks bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

# Set up, then run the demo on the embedded sandbox. Opens JupyterLab on the quick start when a
# display is available; on a headless machine (or with HEADLESS=1) executes it and writes an HTML report.
demo: $(STAMP)
	$(BIN)/python -m kounta_nb.demo

chromium:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || { echo "chromium missing: install Debian's chromium (apt-get install -y chromium) for the browser test"; exit 1; }

# ruff, then mypy (strict outside the sandbox; its files and settings: [tool.mypy] in pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check kounta_nb tests benchmarks
	$(BIN)/mypy

# Set up, then run every test: lint, unit, contract (real sockets), magics, widgets, notebooks, browser.
test: $(STAMP) chromium lint
	$(BIN)/python -m pytest -n 2 -q

# The same tests at the lowest supported versions (requirements/minimum.txt), in .venv-min; the
# tests that need a Jupyter server or a browser run in `make test` only.
MIN := .venv-min
test-min:
	$(PY) -m venv $(MIN)
	$(MIN)/bin/pip install -q --upgrade pip
	$(MIN)/bin/pip install -q -r requirements/minimum.txt 'pytest>=8' 'pytest-xdist>=3.5'
	$(MIN)/bin/pip install -q --no-deps -e .
	$(MIN)/bin/python -m pytest -n 2 -q -p no:cacheprovider --ignore=tests/test_browser.py \
		--ignore=tests/test_binder.py --ignore=tests/test_notebooks.py --ignore=tests/test_demo.py \
		--ignore=tests/test_widgets_server_route.py

bench: $(STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) $(MIN) .pytest_cache artifacts
