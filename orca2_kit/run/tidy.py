"""Executed notebooks as a reader should find them: a progress bar is its final line, not every redraw.

papermill stores each chunk a cell writes as its own output, and a tqdm bar writes one chunk per
redraw ("\r 12%|█▎ |", "\r 25%|██▌ |", ...): a stored notebook then holds hundreds of them, which
Jupyter shows as one line but nbconvert's HTML and a plain reader of the .ipynb do not. So, after a
stage runs, consecutive chunks of one stream are joined and each line keeps the last state of its
bar. A bar its code cleared when done (tqdm's leave=False) is dropped, as the reader of the live
notebook saw it: its last *drawn* state is throttled ("11%, 1/9") and would read as unfinished. A
stream left blank is dropped; printed text without a carriage return is kept as it was.
"""
from __future__ import annotations

from pathlib import Path


def collapse(text: str) -> str:
    """Each line's last state per bar: redraws ('\\r') overwrite, a blank redraw clears (the bar is dropped)."""
    out = []
    for line in text.split("\n"):
        if "\r" not in line:
            out.append(line)
            continue
        current = None
        for seg in line.split("\r"):
            if seg.strip():
                current = seg
            else:  # cleared
                current = None
        if current is not None:
            out.append(current)
    return "\n".join(out)


def _join_streams(outputs: list) -> list:
    joined: list = []
    for o in outputs:
        if o.get("output_type") == "stream" and joined and joined[-1].get("output_type") == "stream" \
                and joined[-1].get("name") == o.get("name"):
            joined[-1]["text"] += o["text"]
        else:
            joined.append(o)
    return joined


def progress_bars(path: str | Path) -> int:
    """Rewrite an executed notebook with its progress bars collapsed; returns the outputs removed.
    Never fails a run: a notebook it cannot read is left as it is."""
    import nbformat

    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception:  # noqa: BLE001 — tidying is cosmetic
        return 0
    removed = 0
    for cell in nb.cells:
        if cell.get("cell_type") != "code" or not cell.get("outputs"):
            continue
        before = len(cell.outputs)
        outs = _join_streams(cell.outputs)
        for o in outs:
            if o.get("output_type") == "stream":
                o["text"] = collapse(o["text"])
        cell.outputs = [o for o in outs if o.get("output_type") != "stream" or o["text"].strip()]
        removed += before - len(cell.outputs)
    nbformat.write(nb, str(path))
    return removed
