# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
WAREHOUSE ?= warehouse
SOURCES   ?= data/sample
# The sample's CloudTrail ends on this day; point AS_OF elsewhere for other inputs.
AS_OF     ?= 2026-11-27
ARGS      ?=

.PHONY: run test ui sample bench clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/overreach run $(SOURCES) --warehouse $(WAREHOUSE) --as-of $(AS_OF) $(ARGS)

# Hypothesis keeps a cache of its own; tests leave nothing behind in the repository.
test: $(STAMP)
	HYPOTHESIS_STORAGE_DIRECTORY=$${TMPDIR:-/tmp}/overreach-hypothesis $(BIN)/python -m pytest $(ARGS)

ui: $(STAMP)
	mkdir -p $(WAREHOUSE)/dagster_home
	DAGSTER_HOME=$(abspath $(WAREHOUSE))/dagster_home OVERREACH_SOURCES=$(SOURCES) OVERREACH_WAREHOUSE=$(WAREHOUSE) \
		$(BIN)/dagster dev

sample: $(STAMP)
	$(BIN)/python -m pipelines.synth.sample data/sample

# Sizes S / M / L (ARGS="--sizes S,M"); results are appended to docs/benchmarks.md.
bench: $(STAMP)
	$(BIN)/python bench/run_bench.py $(ARGS)

clean:
	rm -rf $(WAREHOUSE) .pytest_cache
