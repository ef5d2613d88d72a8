"""Executed notebooks hold a progress bar's final line, not every redraw (orca2_kit/run/tidy.py)."""
import nbformat
from tqdm import tqdm

from orca2_kit.run import tidy


class _Chunks:
    """A file that keeps each write as its own chunk, as papermill stores a kernel's stream messages."""

    def __init__(self):
        self.chunks = []

    def write(self, s):
        self.chunks.append(s)

    def flush(self):
        pass


def _bar(desc, n, leave):
    f = _Chunks()
    for _ in tqdm(range(n), desc=desc, file=f, leave=leave, mininterval=0, miniters=1, ascii=True):
        pass
    return f.chunks


def test_a_bar_is_stored_as_its_final_line(tmp_path):
    kept, cleared = _bar("grid", 50, leave=True), _bar("loading", 20, leave=False)
    assert len(kept) > 40 and len(cleared) > 15  # one chunk per redraw, as in a stored notebook
    stream = [nbformat.v4.new_output("stream", name="stderr", text=t) for t in kept + cleared]
    cell = nbformat.v4.new_code_cell("x", outputs=[nbformat.v4.new_output("stream", name="stdout", text="before\n"),
                                                   *stream, nbformat.v4.new_output("stream", name="stdout", text="\n"),
                                                   nbformat.v4.new_output("stream", name="stdout", text="after\n")])
    path = tmp_path / "nb.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), str(path))
    tidy.progress_bars(path)
    outs = nbformat.read(str(path), as_version=4).cells[0].outputs
    assert [o.name for o in outs] == ["stdout", "stderr", "stdout"]
    # the kept bar is its final line; the one its code cleared is gone, as it was on screen
    assert outs[1].text.startswith("grid: 100%") and "50/50" in outs[1].text and "\n" not in outs[1].text.strip()
    assert "\r" not in outs[1].text and "loading" not in outs[1].text
    assert outs[0].text == "before\n" and outs[2].text == "\nafter\n"  # printed text is kept as printed


def test_printed_text_without_bars_is_unchanged():
    text = "a\n\nb  c\n"
    assert tidy.collapse(text) == text
    assert tidy.collapse("\r 10%\r 50%\r100%\n") == "100%\n"


def test_the_training_log_shows_each_finished_bar_once_and_no_blank_lines():
    """Notebook 04 prints the training process's output through LogLines: no blank lines, no 0%
    lines, a bar's finished line once (the trainer redraws it after every log line), no log dicts
    (issue 27: the notebook shows them as a rounded table), and a bar's progress in place, so the
    stored notebook keeps only its last state (issue 27: mid-way bars were stored)."""
    from orca2_kit.train.launch import LogLines

    raw = ("\nLoading weights:   0%|          | 0/20 [00:00<?, ?it/s]\n"
           "Loading weights:  78%|#######8  | 211/272 [00:00<00:00, 2100.48it/s]\n"
           "Loading weights: 100%|##########| 20/20 [00:00<00:00, 2005.07it/s]\n\n"
           "Tokenizing train dataset:   0%|          | 0/16 [00:00<?, ? examples/s]\n"
           "Tokenizing train dataset: 100%|##########| 16/16 [00:00<00:00, 997.90 examples/s]\n\n"
           "{'loss': '10.81', 'num_tokens': '694', 'epoch': '0.5'}\n\n"
           " 33%|###3      | 1/3 [00:02<00:04,  2.26s/it]\n\n"
           "a warning the trainer printed\n"
           " 67%|######6   | 2/3 [00:04<00:02,  2.26s/it]\n"
           "100%|##########| 3/3 [00:09<00:00,  3.31s/it]\n\n"
           "{'train_runtime': '10.19', 'train_samples_per_second': '2.991', 'train_loss': '10.76', 'epoch': '1'}\n\n"
           "100%|##########| 3/3 [00:10<00:00,  3.31s/it]\n100%|##########| 3/3 [00:10<00:00,  3.40s/it]\n")
    show = LogLines(every_s=0)
    show.last -= 60  # the process took a while to start: still no 0% line, and a bar's progress every time here
    written = "".join(t for line in raw.splitlines(keepends=True) if (t := show(line)) is not None) + show.close()
    assert "{'" not in written and "\n\n" not in written
    assert " 33%|###3" in written  # a live reader sees the progress ...
    stored = tidy.collapse(written)  # ... the stored notebook only each bar's last state
    assert stored.splitlines() == ["Loading weights: 100%|##########| 20/20 [00:00<00:00, 2005.07it/s]",
                                   "Tokenizing train dataset: 100%|##########| 16/16 [00:00<00:00, 997.90 examples/s]",
                                   "a warning the trainer printed",
                                   "100%|##########| 3/3 [00:09<00:00,  3.31s/it]"]
    # a bar without a total (a resumed run): the same line is never shown twice, and it ends with a line break
    show = LogLines(every_s=0)
    show.last -= 60
    assert [show(x) for x in ("4it [00:10,  2.57s/it]\n", "4it [00:10,  2.57s/it]\n")] == ["\r4it [00:10,  2.57s/it]", None]
    assert show.close() == "\n"
