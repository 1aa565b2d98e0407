# One entry point. `make demo` and `make test` are README's Quick start.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python

.PHONY: demo test install install-test browser report-libs db seed run bench clean

demo: install report-libs db seed run  ## install, migrate, load the demo, start web + scheduler

test: install-test browser         ## install what the tests need and run the whole suite
	$(PY) -m pytest

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-test: requirements-dev.txt requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

browser:                           ## Debian's Chromium and CJK fonts for the browser tests
	@scripts/install-browser

report-libs: install               ## Pango and CJK fonts for PDF reports; says so if PDFs cannot be made
	@scripts/install-browser --reports
	@$(PY) -c "import sys; from opinion.reports.pdf import pdf_available; r = pdf_available(); r and print('make demo: ' + r + ' 日报、周报仍可生成网页与 Word 版本。', file=sys.stderr)"

db: install
	$(PY) -m opinion db upgrade

seed: db
	$(PY) -m opinion seed-demo

run:
	$(PY) -m opinion run

bench: install-test
	$(PY) bench/bench_analyze.py
	$(PY) bench/bench_topics.py
	$(PY) bench/bench_pages.py

clean:
	rm -rf $(VENV) instance .pytest_cache
