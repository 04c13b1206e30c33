# One entry point for everything a reviewer runs. Each target makes its own virtualenv.
#   make demo    — replay the seed incident through the whole pipeline and print the report
#   make test    — format check, lint, types, and every test (what CI runs)
#   make bench   — benchmarks; figures go into the README by hand
#   make eval    — the diagnosis measured on the failure corpus (development and held-out parts)
#   make train   — retrain the learned fallback on the development part (.venv-train)
#   make calibrate — refit the confidence table (calibration.json)
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: venv demo test check fmt lint types pytest bench golden clean eval train calibrate

$(STAMP): requirements.txt requirements-dev.txt constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(PY) -m jobtriage demo $(ARGS)

test: check

check: $(STAMP)
	$(PY) -m ruff format --check .
	$(PY) -m ruff check .
	$(PY) -m mypy
	$(PY) -m pytest

fmt: $(STAMP)
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

bench: $(STAMP)
	$(PY) bench/run.py

eval: $(STAMP)
	@$(PY) -m tests.corpus.evaluate $(ARGS)

TRAIN_STAMP := .venv-train/.installed
$(TRAIN_STAMP): requirements-train.txt
	$(PYTHON) -m venv .venv-train
	.venv-train/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-train.txt
	touch $(TRAIN_STAMP)

train: $(TRAIN_STAMP)
	.venv-train/bin/python tests/corpus/train.py

calibrate: $(STAMP)
	$(PY) -m tests.corpus.evaluate --calibrate

golden: $(STAMP)
	UPDATE_GOLDEN=1 $(PY) -m pytest tests/notify -q
	git diff --stat tests/golden

clean:
	rm -rf $(VENV) .venv-tools .venv-train build .pytest_cache .mypy_cache .ruff_cache .hypothesis
