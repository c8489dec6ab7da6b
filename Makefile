# Two commands do everything on a fresh machine with Python 3.11+: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP_RUN := $(VENV)/.installed-run
STAMP_DEV := $(VENV)/.installed-dev

.PHONY: demo test lint types unit bench bench-codecs bench-crypto bench-security bench-forward docs clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP_RUN): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	touch $@

$(STAMP_DEV): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@ $(STAMP_RUN)

demo: $(STAMP_RUN)
	$(PY) examples/demo.py

lint: $(STAMP_DEV)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

types: $(STAMP_DEV)
	$(VENV)/bin/mypy

unit: $(STAMP_DEV)
	$(VENV)/bin/pytest

test: lint types unit

bench: $(STAMP_RUN)
	$(PY) bench/run.py

bench-codecs: $(STAMP_DEV)
	$(PY) bench/codecs_bench.py

bench-crypto: $(STAMP_RUN)
	$(PY) bench/crypto_bench.py

# The scanner: quality and speed of both detectors on the corpus, then large scans off the loop.
bench-security: $(STAMP_RUN)
	$(PY) bench/security_bench.py
	$(PY) bench/security_bench.py --detector combined
	$(PY) bench/scan_offload_bench.py

# How the combined detector's settings are chosen: the retired blind sets replayed with the
# package of the time (needs the git history; a few minutes on two cores).
bench-forward: $(STAMP_RUN)
	$(PY) bench/forward_bench.py --add-training tune31.jsonl tune32.jsonl

docs: $(STAMP_RUN)
	$(PY) docs/update_state_machine.py

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache .pytest_cache .ruff_cache .hypothesis
