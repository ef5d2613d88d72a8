"""orca2-kit: the Orca 2 recipe (Mitra et al. 2023, arXiv 2311.11045) as six notebooks over a small module.

Stages: 01 strategy selection, 02 teacher prompting, 03 prompt erasure, 04 SFT training,
05 evaluation, 06 hallucination analysis. See README.md.
"""
import warnings

__version__ = "0.1.0"

# Under papermill the kernel is a notebook kernel without ipywidgets, so tqdm.auto falls back to
# text progress bars (what an executed notebook can keep anyway) and warns each time; the warning
# tells a reader nothing.
warnings.filterwarnings("ignore", message="IProgress not found", module="tqdm")
