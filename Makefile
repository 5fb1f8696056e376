# The two commands of the README: `make demo` and `make test`. Each installs what it needs.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
PYTEST_VERSION := 9.2.0
# Random-weight checkpoints of the real architectures, in the real cache layouts (tests only).
TEST_MODEL_CACHE ?= $(CURDIR)/.cache/test-models
export TEST_MODEL_CACHE

# g++ (and Python's headers, which inductor's build includes) compile SNAC's networks once per
# machine (MODEL_BACKEND=compiled, what auto picks first); without them auto uses ONNX Runtime.
RUNTIME_PACKAGES := ffmpeg codec2 g++ python3-dev
DEMO_PACKAGES := espeak-ng
# espeak-ng speaks the quality tests' clip; chromium (about 100 MB with its libraries) loads the
# quality report's page in the browser test.
TEST_PACKAGES := bats bats-assert bats-support bats-file shellcheck espeak-ng chromium
SHELL_SOURCES := compress_audio.sh decompress_audio.sh compare_audio.sh $(wildcard lib/*.bash) \
  benchmarks/demo.sh benchmarks/quality_report.sh \
  benchmarks/settings.sh benchmarks/output_hashes.sh benchmarks/batch_startup.sh \
  benchmarks/mutate_shell.sh \
  $(wildcard tests/test_helper/*.bash)

# apt_install PACKAGES: install the Debian packages that are missing (root or sudo), or say which.
define apt_install
missing=$$(for p in $(1); do dpkg-query -W -f='$${Status}' "$$p" 2>/dev/null | grep -q 'ok installed' || echo "$$p"; done); \
if [ -n "$$missing" ]; then \
  if [ "$$(id -u)" = 0 ]; then sudo=; elif command -v sudo >/dev/null; then sudo=sudo; \
  else echo "make: please install these Debian packages: $$missing" >&2; exit 3; fi; \
  echo "make: installing $$missing"; \
  $$sudo apt-get update -qq; \
  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
fi
endef

.PHONY: help setup prepare dac quality system-deps test-deps demo test lint bats pytest test-models fuzz mutate bench \
  bench-settings bench-quality clean

help:
	@echo "make demo    set up, then compress and restore a speech clip with every codec"
	@echo "make test    set up, then run shellcheck, the bats suites and pytest"
	@echo "make setup   install FFmpeg/Codec2 (apt) and the Python packages (.venv)"
	@echo "make prepare compile SNAC's and Mimi's networks for this machine now (SNAC_MODELS=, default: all)"
	@echo "make dac     also install the optional DAC codec (.dac), requirements-dac.txt"
	@echo "make quality also install the quality scores and pictures (compare_audio.sh)"
	@echo "make fuzz    mutate containers and check every decode fails cleanly or succeeds"
	@echo "make mutate  mutation testing: mutmut on the containers, one-line Bash mutants on the commands"
	@echo "make bench   time the toolkit against the plain packages (writes benchmarks/speed.md)"
	@echo "make bench-settings  size and time of every codec setting on a 10 s speech clip"
	@echo "make bench-quality   scores, plot and listening page of every setting (CLIPS=, OUT=)"

setup: system-deps $(VENV)/.installed

system-deps:
	@$(call apt_install,$(RUNTIME_PACKAGES))

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install -q --disable-pip-version-check -r requirements.txt
	touch $@

# What the first SNAC or Mimi run would otherwise do (about a minute per network): compile
# SNAC's networks and export them to ONNX, and compile Mimi's encoder and decoder, for each known
# model in the Hugging Face cache (SNAC_MODELS: these models only, SNAC's or Mimi's).
SNAC_MODELS ?=
prepare: setup
	@if [ -n "$(SNAC_MODELS)" ]; then \
	  for m in $(SNAC_MODELS); do $(VPY) encode_ecdc.py --prepare --model "$$m"; done; \
	else $(VPY) encode_ecdc.py --prepare; fi

# DAC's two packages come without their declared dependencies (requirements-dac.txt says why);
# pip then lists the ones left out as conflicts, which is expected and filtered here.
DAC_PACKAGES := descript-audio-codec==1.0.0 descript-audiotools==0.7.2

dac: setup $(VENV)/.installed-dac

$(VENV)/.installed-dac: $(VENV)/.installed requirements-dac.txt
	$(VPY) -m pip install -q --disable-pip-version-check -r requirements-dac.txt
	$(VPY) -m pip install -q --disable-pip-version-check --no-deps $(DAC_PACKAGES) 2>&1 | \
	  { grep -v -e "descript-audiotools 0.7.2 requires" -e "dependency resolver does not" || true; }
	$(VPY) -c "import dac" 2>/dev/null || { echo "make: dac does not import" >&2; exit 1; }
	touch $@

# The scores and pictures of compare_audio.sh and bench-quality (requirements-quality.txt).
quality: setup $(VENV)/.installed-quality

$(VENV)/.installed-quality: $(VENV)/.installed requirements-quality.txt
	$(VPY) -m pip install -q --disable-pip-version-check -r requirements-quality.txt 2>&1 | \
	  { grep -v -e "descript-audiotools 0.7.2 requires" -e "dependency resolver does not" || true; }
	$(VPY) -c "import pesq, pystoi, matplotlib, visqol" 2>/dev/null || \
	  { echo "make: the quality packages do not import" >&2; exit 1; }
	touch $@

test-deps: setup dac quality
	@$(call apt_install,$(TEST_PACKAGES))
	@$(VPY) -m pip show -q pytest 2>/dev/null || \
	  $(VPY) -m pip install -q --disable-pip-version-check pytest==$(PYTEST_VERSION)

demo: setup
	@$(call apt_install,$(DEMO_PACKAGES))
	@benchmarks/demo.sh demo-output

# A network that cannot be prepared on this machine is named, and the tests that need it fail;
# the others run (auto falls back to ONNX Runtime or torch, as for a user).
test-models: setup
	$(VPY) tests/fixtures/make_model_cache.py $(TEST_MODEL_CACHE)
	$(MODEL_ENV) $(VPY) encode_ecdc.py --prepare || { \
	  echo "make: not every network was prepared; free space:" >&2; \
	  df -h $(TEST_MODEL_CACHE) $${TMPDIR:-/tmp} >&2; }

lint: test-deps
	shellcheck -x $(SHELL_SOURCES)

bats: test-deps test-models
	bats --print-output-on-failure tests/

pytest: test-deps test-models
	$(VPY) -m pytest -q tests/

test: lint bats pytest

# Run with the test models (random weights, real architectures): speed and memory do not
# depend on the weights' values, and the published weights may not be at hand.
MODEL_ENV := HF_HOME=$(TEST_MODEL_CACHE)/hf TORCH_HOME=$(TEST_MODEL_CACHE)/torch \
  XDG_CACHE_HOME=$(TEST_MODEL_CACHE)/xdg HF_HUB_OFFLINE=1 HOME=$(TEST_MODEL_CACHE)/home

# The decoders against many more mutants than CI's few hundred (tests/test_fuzz.py).
FUZZ_COUNT ?= 5000
fuzz: test-models
	$(MODEL_ENV) $(VPY) tests/fuzz_containers.py --count $(FUZZ_COUNT) --seed 7

# Mutation testing, not in CI (about ten minutes on two cores): mutmut changes the container
# modules one mutation at a time against their pytest files (setup.cfg's [mutmut]; survivors are
# listed by `mutmut results`, shown by `mutmut show NAME`), then benchmarks/mutate_shell.sh applies
# its one-line Bash mutants to the commands and runs the bats tests named for each
# (MUTATE_SHELL=REGEX for a subset). The last results: benchmarks/mutation-results.md.
MUTATE_JOBS ?= 2
MUTATE_SHELL ?=
mutate: test-deps test-models
	$(VPY) -m pip install -q --disable-pip-version-check -r requirements-mutate.txt
	$(VPY) -m mutmut run --max-children $(MUTATE_JOBS) || true
	$(VPY) -m mutmut results
	benchmarks/mutate_shell.sh $(MUTATE_SHELL)

# Writes benchmarks/speed.md, generated (benchmarks/results.md is written by hand): whole process
# and model calls of every codec on 60 s at 2 threads, about half an hour on two cores.
# BENCH_ARGS="--long 3600" adds the toolkit's one-hour model calls; bench.py --help lists the rest.
BENCH_ARGS ?=
bench: test-models
	$(MODEL_ENV) $(VPY) benchmarks/bench.py $(BENCH_ARGS)

# Size and wall time of every codec setting on a 10 s speech clip (Markdown table); DAC's rows
# when `make dac` was run, with test weights for its four models (300 MB each).
DAC_BENCH_MODELS := 16khz-8kbps,24khz-8kbps,44khz-8kbps,44khz-16kbps
bench-settings: test-models
	@$(call apt_install,$(DEMO_PACKAGES))
	$(VPY) tests/fixtures/make_model_cache.py $(TEST_MODEL_CACHE) --dac $(DAC_BENCH_MODELS)
	$(MODEL_ENV) benchmarks/settings.sh

# Scores, rate-quality plot and listening page of every codec setting that runs here, on the
# clips in CLIPS (default: an espeak-ng sentence), into OUT. The neural codecs run on the test
# models, so their rows are marked as noise; benchmarks/quality_report.sh on its own uses the
# weights in the user's caches.
CLIPS ?=
OUT ?= quality-report
bench-quality: quality test-models
	@$(call apt_install,$(DEMO_PACKAGES))
	$(VPY) tests/fixtures/make_model_cache.py $(TEST_MODEL_CACHE) --dac 16khz-8kbps
	$(MODEL_ENV) QUALITY_WEIGHTS=test benchmarks/quality_report.sh "$(OUT)" $(CLIPS)

clean:
	rm -rf .cache demo-output quality-report .pytest_cache mutants
