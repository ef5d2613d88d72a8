# orca2-kit — common tasks. `make setup` once, then `make reproduce` and `make test`.
PY ?= .venv/bin/python
PROFILE ?= offline

.PHONY: setup reproduce test lock data notebooks lab clean-outputs
setup:
	bash scripts/setup.sh

reproduce: setup
	$(PY) -m orca2_kit run --profile $(PROFILE)

test: setup
	$(PY) -m pytest

# Renew requirements.lock from pyproject.toml's ranges (then `make setup test`; commit the lock if it passes).
lock:
	$(PY) scripts/lock.py upgrade

# The paper's benchmarks and grounded sets into data/, where runs find them (README: "Real benchmark data").
data: setup
	$(PY) -m orca2_kit data fetch

# Regenerate the .ipynb notebooks from their jupytext .py sources (outputs stripped).
notebooks:
	$(PY) -m jupytext --sync notebooks/*.py

lab:
	.venv/bin/jupyter lab notebooks/

clean-outputs:
	rm -rf outputs/*/
