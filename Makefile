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

# Renew requirements.lock (`uv pip compile`) from pyproject.toml's ranges, every package to its newest
# allowed version (then `make setup test`; commit the lock if it passes). After adding a dependency
# without upgrading the rest: `$(PY) scripts/lock.py resolve`.
lock: setup
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
