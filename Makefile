# hessian-lab: two commands do everything.
#   make lab    create .venv if needed, install, open JupyterLab on notebooks/
#   make test   same bootstrap, then the unit tests and the notebooks (nbval) in one pytest run
# Written for GNU Make 3.81 too (the one macOS ships), so no .ONESHELL and no $(file ...).

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
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

.PHONY: help venv lab test notebooks clean

help:
	@echo "make lab        install into $(VENV) if needed, then open JupyterLab on notebooks/"
	@echo "make test       install if needed, then run tests/ and the notebooks (nbval)"
	@echo "make notebooks  re-execute notebooks/*.ipynb and notebooks/solutions/*.ipynb in place"
	@echo "make clean      remove $(VENV) and caches"

# Bootstrap. The stamp file's name holds a hash of requirements.txt and pyproject.toml,
# so the install runs again only when one of them changes (or the venv is broken).
venv:
	@set -e; \
	if ! "$(PY)" -c 'import pip' >/dev/null 2>&1; then \
	  if ! $(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then \
	    echo "hessian-lab needs Python >= 3.10, but '$(PYTHON)' is $$($(PYTHON) --version 2>&1)." >&2; \
	    echo "Point make at a newer one, e.g.  make $(firstword $(MAKECMDGOALS)) PYTHON=python3.12" >&2; \
	    exit 1; \
	  fi; \
	  if [ -e "$(VENV)" ]; then echo "$(VENV) is unusable; recreating it."; rm -rf "$(VENV)"; fi; \
	  echo "Creating $(VENV) with $$($(PYTHON) --version 2>&1)"; \
	  if ! $(PYTHON) -m venv "$(VENV)"; then \
	    rm -rf "$(VENV)"; \
	    echo "Could not create $(VENV). On Debian/Ubuntu: sudo apt-get install python3-venv" >&2; \
	    exit 1; \
	  fi; \
	fi; \
	hash=$$(cat requirements.txt pyproject.toml | "$(PY)" -c 'import hashlib, sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest()[:16])'); \
	stamp="$(VENV)/.installed-$$hash"; \
	if [ -f "$$stamp" ] && { [ ! -d hessian_lab ] || (cd / && "$(CURDIR)/$(PY)" -c 'import importlib.util, sys; sys.exit(importlib.util.find_spec("hessian_lab") is None)'); }; then \
	  echo "$(VENV) is up to date with requirements.txt and pyproject.toml; skipping install."; \
	else \
	  rm -f "$(VENV)"/.installed-*; \
	  "$(PY)" -m pip install $(PIP_ARGS) --quiet "pip>=23.1"; \
	  "$(PY)" -m pip install $(PIP_ARGS) -r requirements.txt -e .; \
	  touch "$$stamp"; \
	  echo "Installed into $(VENV)."; \
	fi

lab: venv
	@allow_root=; if [ "$$(id -u)" = 0 ]; then allow_root=--allow-root; fi; \
	echo "Starting JupyterLab on notebooks/ (stop it with Ctrl-C)"; \
	exec env -u MPLBACKEND "$(VENV)/bin/jupyter-lab" --ServerApp.root_dir=notebooks $$allow_root $(LAB_ARGS)

# pytest exits 5 when it collects nothing; that fails the target like any other non-zero code.
test: venv
	@echo '$(PYTEST_CMD) $(PYTEST_ARGS)'
	@rc=0; $(PYTEST_CMD) $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests, which counts as a failure." >&2; fi; \
	exit $$rc

notebooks: venv
	env -u MPLBACKEND "$(PY)" tools/execute_notebooks.py

clean:
	rm -rf "$(VENV)" .pytest_cache .hypothesis build *.egg-info
	find . -path ./.git -prune -o \( -name __pycache__ -o -name .ipynb_checkpoints \) -type d -prune -exec rm -rf {} +
