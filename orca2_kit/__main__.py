"""Command line: `python -m orca2_kit {validate,run,prepare}`."""
from __future__ import annotations

import argparse
import sys

from .config import ConfigError, load_params


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m orca2_kit", description="Orca 2 recipe, notebook by notebook.")
    sub = ap.add_subparsers(dest="cmd", required=True)

    v = sub.add_parser("validate", help="check a profile without running anything")
    v.add_argument("profile", help="a name in params/ (offline) or a YAML path")
    v.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")

    r = sub.add_parser("run", help="execute the notebooks in order with papermill")
    r.add_argument("--profile", default="offline")
    r.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override one value, e.g. --set train.epochs=1 (repeatable)")
    r.add_argument("--only", metavar="STAGE", help="run one stage alone (e.g. 04)")
    r.add_argument("--from", dest="start", metavar="STAGE", help="start at this stage")
    r.add_argument("--resume", metavar="RUN_DIR", help="continue an earlier run in place, reusing its artifacts")
    r.add_argument("--run-id", help="name of the run folder (default: a timestamp)")
    r.add_argument("--out", default=None, help="output root (default: outputs/)")

    sub.add_parser("prepare", help="convert the embedded student once (GGUF -> safetensors cache)")

    args = ap.parse_args(argv)
    try:
        if args.cmd == "validate":
            p = load_params(args.profile, args.overrides)
            print(f"ok: profile '{p.profile}' is valid")
            return 0
        if args.cmd == "prepare":
            from .models import ensure_embedded

            print(ensure_embedded())
            return 0
        from .runner import StageFailed, run

        kw = {"out_root": args.out} if args.out else {}
        try:
            run(args.profile, args.overrides, args.only, args.start, args.resume, args.run_id, **kw)
        except StageFailed as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
        return 0
    except (ConfigError, FileNotFoundError, FileExistsError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
