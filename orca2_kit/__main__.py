"""`python -m orca2_kit ...`: the command line (orca2_kit/run/cli.py)."""
from orca2_kit.run.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
