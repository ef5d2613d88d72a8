"""Command line: `python -m orca2_kit {validate,run,study,prepare,data,...}`."""
from __future__ import annotations

import argparse
import sys

from orca2_kit.config import ConfigError, load_params


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

    r.add_argument("--exercise", metavar="ID", help="with --resume: run a 'Try it' exercise (e.g. 04.1) into "
                   "RUN_DIR/exercises/ID, keeping the run's own results (list: python -m orca2_kit exercises)")

    st = sub.add_parser("study", help="the ablation study: strategy selection, then every arm x seed (notebook 07)")
    st.add_argument("--profile", default="offline-study")
    st.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                    help="override one value, e.g. --set study.seeds=[1,2] (repeatable)")
    st.add_argument("--resume", metavar="RUN_DIR", help="continue a study in place: finished arms are reused")
    st.add_argument("--run-id", help="name of the study folder (default: study-<timestamp>)")
    st.add_argument("--out", default=None, help="output root (default: outputs/)")

    st.add_argument("--plan-only", action="store_true",
                    help="print the study's design and its power (minimum detectable differences), train nothing")
    st.add_argument("--pilot", metavar="RUN_DIR", help="with --plan-only: take the planning values from a finished "
                    "offline run's own outcomes (notebook 05) instead of the profile's stated ones")

    lc = sub.add_parser("learning-curve", help="the recipe's dev accuracy at several training sizes, and the size "
                        "the profile's rule picks for the study (study.learning_curve)")
    lc.add_argument("--profile", default="offline-study")
    lc.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    lc.add_argument("--resume", metavar="RUN_DIR", help="continue a learning curve in place")
    lc.add_argument("--run-id", help="name of the folder (default: curve-<timestamp>)")
    lc.add_argument("--out", default=None, help="output root (default: outputs/)")

    sub.add_parser("prepare", help="convert the embedded student once (GGUF -> safetensors cache, then "
                   "for the generation engine auto picks here)")

    # workshop: bundle / unbundle / report / exercises
    b = sub.add_parser("bundle", help="pack a run's student, teacher cache, suite and params for offline replay")
    b.add_argument("run_dir")
    b.add_argument("--out", help="archive path (default: beside the run, workshop-<run-id>.tar.gz)")
    b.add_argument("--name", default="workshop", help="profile name of the replay (default: workshop)")
    u = sub.add_parser("unbundle", help="check and unpack a bundle; write its replay-only profile")
    u.add_argument("archive")
    u.add_argument("dest", help="an empty folder to unpack into")
    u.add_argument("--profile-out", help="where to write the profile (default: DEST/<name>.yaml)")
    u.add_argument("--sha256", metavar="HEX", help="the archive's sha256 as its maker printed it: refuse any other archive")
    rp = sub.add_parser("report", help="(re)write RUN_DIR/report.html")
    rp.add_argument("run_dir")
    sub.add_parser("exercises", help="list the notebooks' 'Try it' exercises")
    from orca2_kit.run.data import add_parser as add_data_parser

    add_data_parser(sub)  # data fetch / status / use

    args = ap.parse_args(argv)
    try:
        if args.cmd == "validate":
            p = load_params(args.profile, args.overrides)
            print(f"ok: profile '{p.profile}' is valid")
            return 0
        if args.cmd == "prepare":
            from orca2_kit.generation.engine import prepare
            from orca2_kit.models import ensure_embedded, load_model, load_tokenizer

            path = ensure_embedded()
            print(path)
            engine = prepare(load_model(str(path), "cpu", "float32"), load_tokenizer(str(path)))  # the scoring dtype on a CPU
            print(f"generation.engine: auto decodes the embedded student with {engine or 'the kit decoder'} here")
            return 0
        if args.cmd in ("bundle", "unbundle", "report", "exercises"):
            return _workshop(args)
        if args.cmd == "data":
            return args.func(args)
        if args.cmd == "study" and args.plan_only:
            from orca2_kit.study.power import print_plan

            return print_plan(load_params(args.profile, args.overrides), args.pilot)
        from orca2_kit.run.runner import Interrupted, StageFailed, run

        kw = {"out_root": args.out} if args.out else {}
        if args.cmd == "study":
            import time

            from orca2_kit.pipeline import STUDY

            kw["pipeline"] = STUDY
            args.only = args.start = None
            args.run_id = args.run_id or time.strftime("study-%Y%m%d-%H%M%S")
        elif args.cmd == "learning-curve":
            from orca2_kit.run.curve import learning_curve_command

            return learning_curve_command(args, kw)
        elif args.exercise:
            kw["exercise"] = args.exercise
        try:
            run(args.profile, args.overrides, args.only, args.start, args.resume, args.run_id, **kw)
        except Interrupted as e:
            print(f"interrupted: {e}", file=sys.stderr)
            return 130
        except StageFailed as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
        return 0
    except (ConfigError, FileNotFoundError, FileExistsError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


def _workshop(args) -> int:
    if args.cmd == "bundle":
        from orca2_kit.run.bundle import bundle

        bundle(args.run_dir, args.out, args.name)
    elif args.cmd == "unbundle":
        from orca2_kit.run.bundle import unbundle

        unbundle(args.archive, args.dest, args.profile_out, sha256=args.sha256)
    elif args.cmd == "report":
        from orca2_kit.run.report import write_report

        print(write_report(args.run_dir))
    else:
        from orca2_kit.run.exercises import load_exercises

        for ex in load_exercises().values():
            print(f"{ex.id:6} {ex.title}\n       runs {', '.join(ex.stages)} with {ex.overrides}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
