"""Where the kit's own files are: the package, its data files, and the repository around it."""
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
PACKAGE_DATA = PACKAGE / "data"  # shipped in the wheel: paper values, data sources, hand labels
REPO = PACKAGE.parent  # a source checkout: params/, notebooks/, data/ (absent in an installed wheel)
PARAMS_DIR = REPO / "params"
NOTEBOOKS_DIR = REPO / "notebooks"
