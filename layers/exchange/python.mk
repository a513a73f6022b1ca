# Which Python the Lambda runtime is, and where to find that interpreter on this machine.
# Included by the repository Makefile and by the layer's own Makefile (which `sam build` runs in a
# scratch copy of layers/exchange), so both agree on one version. Keep it in step with
# template.yaml (Globals Runtime, the layer's CompatibleRuntimes); tests/unit/test_template.py checks.
LAMBDA_PYTHON_VERSION ?= 3.13

# An interpreter of exactly that version: on PATH (python3.13, as in the SAM build image), else a
# pyenv install (pyenv's shim fails unless the version is selected, so its versions/ folder is
# searched directly), else the Lambda image's /var/lang. Empty when none is installed.
find_python = $(shell for c in python$(1) \
	"$$(pyenv root 2>/dev/null)"/versions/$(1).*/bin/python$(1) \
	"$${PYENV_ROOT:-$$HOME/.pyenv}"/versions/$(1).*/bin/python$(1) \
	/var/lang/bin/python$(1) /usr/local/bin/python$(1) /usr/bin/python$(1); do \
	  "$$c" -c 'import sys; sys.exit(sys.version_info[:2] != tuple(map(int, "$(1)".split("."))))' \
	    2>/dev/null && { command -v "$$c"; break; }; done)

missing_python = $(error Python $(1) not found (Lambda runtime python$(1)). Install it, e.g. \
	`pyenv install $(1)` (or your OS package python$(1)), then re-run make; or pass PYTHON=/path/to/python$(1))
