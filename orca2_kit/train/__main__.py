"""`python -m orca2_kit.train` (and `accelerate launch -m orca2_kit.train`): one training run, stage 04."""
import sys

from orca2_kit.train.trainer import main

if __name__ == "__main__":
    sys.exit(main())
