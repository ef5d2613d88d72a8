"""How often the offline checker agrees with a person, on hand-labelled summaries of real models.

Each set in `data/hallucination_labels/` holds summaries by the base SmolLM2 and a trained student
of built-in grounded items (scripts/make_hallucination_labels.py), each labelled by reading it
against its document before the checker was run on it:

* `hallucinated`: the summary states at least one fact the document does not support, or a right
  value in the wrong slot;
* `in_scope`: such a wrong fact is of a kind the checker reads (a number, name, place,
  organisation, date, drug, symptom, job, facility, a sex, who reported or prescribed a figure);
  a summary whose only errors are claims in open words ("diagnosed as a kidney stone") is
  hallucinated but not in scope;
* `reason`: one line naming each unsupported claim.

Sets:

* `dev`: items 0-7 of an offline run at 80 new tokens, labelled in the session that built the
  checker. The checker's later changes were made after reading its disagreements there, so its
  agreement on `dev` is not an unbiased estimate.
* `heldout`: items 12-19 of run 20261202-080514 at 256 new tokens, labelled by a separate session
  that never ran or read the checker. Its agreement is the one to quote.

Notebook 06 scores neither set: its items start at `items.SCORED_FROM` (20).
"""
from __future__ import annotations

import json
from orca2_kit.paths import PACKAGE_DATA

LABELS_DIR = PACKAGE_DATA / "hallucination_labels"
SETS = ("dev", "heldout")


def load_labels(name: str) -> list[dict]:
    """The rows of one labelled set (`SETS`), checked for the fields the agreement needs."""
    if name not in SETS:
        raise ValueError(f"labelled set {name!r}: choose one of {', '.join(SETS)}")
    rows = [json.loads(line) for line in (LABELS_DIR / f"{name}.jsonl").read_text().splitlines() if line.strip()]
    for r in rows:
        if not r.get("reason") or r.get("hallucinated") is None or (r.get("in_scope") and not r["hallucinated"]):
            raise ValueError(f"{name}: row {r.get('key')} lacks a reason or has in_scope without hallucinated")
    return rows


def agreement(rows: list[dict]) -> dict:
    """The checker (`check.check_summary` on the summary's complete words) against the
    labels: `in_scope` is the share of summaries where its flag equals the person's in-scope label,
    `overall` where it equals the any-kind label; `false_alarms` are summaries it flags that the
    person found clean; each disagreement is listed as (key, the person's reason, the checker's)."""
    from orca2_kit.hallucination.summarise import complete_words
    from orca2_kit.hallucination.check import check_summary
    from orca2_kit.hallucination.items import GroundedItem

    verdicts = {r["key"]: check_summary(GroundedItem.from_row(r["item"]), complete_words(r["summary"])) for r in rows}

    def misses(label: str) -> list[tuple]:
        return [(r["key"], r["reason"], verdicts[r["key"]].reasons()) for r in rows
                if verdicts[r["key"]].hallucinated != bool(r[label])]

    n = len(rows)
    missed_in_scope, missed = misses("in_scope"), misses("hallucinated")
    flagged = {k for k, v in verdicts.items() if v.hallucinated}
    bad = [r["key"] for r in rows if r["hallucinated"]]
    scoped = [r["key"] for r in rows if r["in_scope"]]
    clean = n - len(bad)
    return {"n": n, "n_hallucinated": len(bad), "n_in_scope": len(scoped), "n_clean": clean,
            "in_scope": 1 - len(missed_in_scope) / n if n else None, "overall": 1 - len(missed) / n if n else None,
            # a checker that never flags anything agrees this often: the floor to read the two above against
            "floor_in_scope": 1 - len(scoped) / n if n else None, "floor_overall": clean / n if n else None,
            "caught": sum(k in flagged for k in bad), "caught_in_scope": sum(k in flagged for k in scoped),
            "false_alarms": [m for m in missed if verdicts[m[0]].hallucinated],
            "missed_in_scope": missed_in_scope, "missed": missed}


def summary_line(name: str, a: dict) -> str:
    from orca2_kit.stats import wilson

    fa = len(a["false_alarms"])
    return (f"{name}: {a['n']} summaries. Of the {a['n_in_scope']} with a wrong fact of a kind the checker reads it "
            f"flags {a['caught_in_scope']}; of the {a['n_hallucinated']} with any unsupported claim, {a['caught']}; of "
            f"the {a['n_clean']} clean ones it flags {fa} (false-alarm rate 95% CI up to {wilson(fa, a['n_clean'])[1]:.2f}). "
            f"Agreement per summary: {a['in_scope']:.2f} on facts it reads, {a['overall']:.2f} on any hallucination "
            f"(a checker that never flags: {a['floor_in_scope']:.2f} and {a['floor_overall']:.2f}).")
