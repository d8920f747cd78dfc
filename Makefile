# hessian-lab: two commands do everything.
#   make lab    create .venv if needed, install, open JupyterLab on notebooks/
#   make test   same bootstrap, then the unit tests and the notebooks (nbval) in one pytest run
#   make test-colab   the same tests in .venv-colab, on Colab's older versions (requirements-colab.txt)
# Written for GNU Make 3.81 too (the one macOS ships), so no .ONESHELL and no $(file ...).

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
VENV_COLAB := .venv-colab
PY_COLAB := $(VENV_COLAB)/bin/python
SANITIZE := notebooks/nbval_sanitize.cfg

# Extra arguments, e.g.  make test PYTEST_ARGS="-x -k rosenbrock"   or   make lab LAB_ARGS="--port 9999"
PYTEST_ARGS ?=
LAB_ARGS ?=
PIP_ARGS ?=
ifneq ($(CI),)
LAB_ARGS += --no-browser
PIP_ARGS += --progress-bar off
endif

PYTEST_CMD := env -u MPLBACKEND $(PY) -m pytest tests notebooks \
	--nbval --nbval-current-env --nbval-sanitize-with $(SANITIZE) \
	--ignore=notebooks/exercises -p no:cacheprovider

# The lower-bound run uses --nbval-lax: every cell runs and must not raise (the notebooks' own
# assert/allclose checks are what fail), but stored outputs are compared only in cells marked
# `# NBVAL_CHECK_OUTPUT`. The stored outputs come from requirements.txt's versions, and some differ
# honestly on the older set. Measured: matplotlib 3.8 sizes a fitted figure a few pixels differently
# (<Figure size 472x411.572> against 473.142x427.9), and scipy 1.13's eigsh needs 21 products where
# 1.17's needs 20. `make test` already compares every output against its own pins.
# PYDEVD_DISABLE_FILE_VALIDATION quiets the debugger warning that ipykernel 6.17's debugpy prints per kernel.
PYTEST_COLAB_CMD := env -u MPLBACKEND PYDEVD_DISABLE_FILE_VALIDATION=1 $(PY_COLAB) -m pytest tests notebooks \
	--nbval-lax --nbval-current-env --nbval-sanitize-with $(SANITIZE) \
	--ignore=notebooks/exercises -p no:cacheprovider

.PHONY: help venv venv-colab lab test test-colab notebooks clean

help:
	@echo "make lab        install into $(VENV) if needed, then open JupyterLab on notebooks/"
	@echo "make test       install if needed, then run tests/ and the notebooks (nbval)"
	@echo "make test-colab the same in $(VENV_COLAB), on Colab's older versions (requirements-colab.txt)"
	@echo "make notebooks  re-execute notebooks/*.ipynb and notebooks/solutions/*.ipynb in place"
	@echo "make clean      remove $(VENV), $(VENV_COLAB) and caches"

# Bootstrap, one recipe for both environments; each target sets which venv, which requirements file
# and which Pythons it accepts. The stamp file's name holds a hash of the requirements file and
# pyproject.toml, so the install runs again only when one of them changes (or the venv is broken).
# A new venv gets a .gitignore of `*`, as Python 3.13's venv module writes, so git never lists it.
venv: BOOT_VENV := $(VENV)
venv: BOOT_REQUIREMENTS := requirements.txt
venv: BOOT_PYTHON_OK := sys.version_info >= (3, 10)
venv: BOOT_PYTHON_NEED := Python >= 3.10
# numpy 1.26 has wheels up to Python 3.12 only; Colab itself runs 3.11 or 3.12.
venv-colab: BOOT_VENV := $(VENV_COLAB)
venv-colab: BOOT_REQUIREMENTS := requirements-colab.txt
venv-colab: BOOT_PYTHON_OK := (3, 10) <= sys.version_info[:2] <= (3, 12)
venv-colab: BOOT_PYTHON_NEED := Python 3.10 to 3.12 for the lower-bound run
venv venv-colab:
	@set -e; \
	py="$(BOOT_VENV)/bin/python"; \
	if ! "$$py" -c 'import pip' >/dev/null 2>&1; then \
	  if ! $(PYTHON) -c 'import sys; sys.exit(not ($(BOOT_PYTHON_OK)))' 2>/dev/null; then \
	    echo "hessian-lab needs $(BOOT_PYTHON_NEED), but '$(PYTHON)' is $$($(PYTHON) --version 2>&1)." >&2; \
	    echo "Point make at another one, e.g.  make $(firstword $(MAKECMDGOALS)) PYTHON=python3.12" >&2; \
	    exit 1; \
	  fi; \
	  if [ -e "$(BOOT_VENV)" ]; then echo "$(BOOT_VENV) is unusable; recreating it."; rm -rf "$(BOOT_VENV)"; fi; \
	  echo "Creating $(BOOT_VENV) with $$($(PYTHON) --version 2>&1)"; \
	  if ! $(PYTHON) -m venv "$(BOOT_VENV)"; then \
	    rm -rf "$(BOOT_VENV)"; \
	    echo "Could not create $(BOOT_VENV). On Debian/Ubuntu: sudo apt-get install python3-venv" >&2; \
	    exit 1; \
	  fi; \
	  echo '*' > "$(BOOT_VENV)/.gitignore"; \
	fi; \
	hash=$$(cat $(BOOT_REQUIREMENTS) pyproject.toml | "$$py" -c 'import hashlib, sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest()[:16])'); \
	stamp="$(BOOT_VENV)/.installed-$$hash"; \
	if [ -f "$$stamp" ] && { [ ! -d hessian_lab ] || (cd / && "$(CURDIR)/$$py" -c 'import importlib.util, sys; sys.exit(importlib.util.find_spec("hessian_lab") is None)'); }; then \
	  echo "$(BOOT_VENV) is up to date with $(BOOT_REQUIREMENTS) and pyproject.toml; skipping install."; \
	else \
	  rm -f "$(BOOT_VENV)"/.installed-*; \
	  "$$py" -m pip install $(PIP_ARGS) --quiet "pip>=23.1"; \
	  "$$py" -m pip install $(PIP_ARGS) -r $(BOOT_REQUIREMENTS) -e .; \
	  touch "$$stamp"; \
	  echo "Installed into $(BOOT_VENV)."; \
	fi

# Widget state is saved with the notebook (ipywidgets' saveState setting, false by default), so that a notebook run,
# saved and reopened shows its pictures, not "Error displaying widget: model not found". The setting becomes a
# default of this venv's JupyterLab: an overrides.d file in its app settings directory (which is where JupyterLab
# reads overrides.json); the Settings editor can still turn it off.
LAB_OVERRIDES := tools/jupyterlab-overrides.json
LAB_OVERRIDES_DIR := $(VENV)/share/jupyter/lab/settings/overrides.d

lab: venv
	@set -e; mkdir -p "$(LAB_OVERRIDES_DIR)"; cp $(LAB_OVERRIDES) "$(LAB_OVERRIDES_DIR)/hessian-lab.json"; \
	allow_root=; if [ "$$(id -u)" = 0 ]; then allow_root=--allow-root; fi; \
	echo "Starting JupyterLab on notebooks/ (stop it with Ctrl-C)"; \
	exec env -u MPLBACKEND "$(VENV)/bin/jupyter-lab" --ServerApp.root_dir=notebooks $$allow_root $(LAB_ARGS)

# pytest exits 5 when it collects nothing; that fails the target like any other non-zero code.
test: venv
	@echo '$(PYTEST_CMD) $(PYTEST_ARGS)'
	@rc=0; $(PYTEST_CMD) $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests, which counts as a failure." >&2; fi; \
	exit $$rc

# The lower-bound (Colab-like) run: numpy 1.26, matplotlib 3.8, scipy 1.13, sympy 1.13, ipywidgets 7.7.1,
# IPython 7.34, so that a cell which needs a newer release than pyproject.toml admits fails here first.
test-colab: venv-colab
	@echo '$(PYTEST_COLAB_CMD) $(PYTEST_ARGS)'
	@rc=0; $(PYTEST_COLAB_CMD) $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test-colab: pytest collected no tests, which counts as a failure." >&2; fi; \
	exit $$rc

notebooks: venv
	env -u MPLBACKEND "$(PY)" tools/execute_notebooks.py

clean:
	rm -rf "$(VENV)" "$(VENV_COLAB)" .pytest_cache .hypothesis build *.egg-info
	find . -path ./.git -prune -o \( -name __pycache__ -o -name .ipynb_checkpoints \) -type d -prune -exec rm -rf {} +
