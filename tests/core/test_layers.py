"""The package's layering: no import circle anywhere (function-level imports included), and the
contract in pyproject.toml ([tool.importlinter]): the runner over the study over the stages over the
shared core, the stages independent of each other."""
import ast
import subprocess
import sys
from pathlib import Path

import grimp

from tests.conftest import ROOT


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan): every import circle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(set(edges) | {w for ws in edges.values() for w in ws}):
        if v not in index:
            visit(v)
    return out


def import_edges(graph, depth: int | None = None) -> dict[str, set[str]]:
    """importer -> imported, for every import statement grimp finds (deferred ones included);
    with `depth`, modules are folded into their package at that depth (orca2_kit.config.x -> orca2_kit.config)."""
    fold = (lambda m: ".".join(m.split(".")[:depth])) if depth else (lambda m: m)
    edges: dict[str, set[str]] = {}
    for m in graph.modules:
        for n in graph.find_modules_directly_imported_by(m):
            if fold(m) != fold(n):
                edges.setdefault(fold(m), set()).add(fold(n))
    return edges


def test_the_circle_finder_finds_a_circle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": {"c"}}) == []
    g = grimp.ImportGraph()
    for m in ("p", "p.core", "p.stage"):
        g.add_module(m)
    g.add_import(importer="p.core", imported="p.stage")  # e.g. a deferred import inside a function
    g.add_import(importer="p.stage", imported="p.core")
    assert cycles(import_edges(g)) == [["p.core", "p.stage"]]


def deferred_imports() -> list[tuple[str, str]]:
    """(importer, imported) for every `from orca2_kit... import` written inside a function."""
    out = []
    for path in sorted((ROOT / "orca2_kit").rglob("*.py")):
        rel = path.relative_to(ROOT).with_suffix("")
        importer = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
        for fn in ast.walk(ast.parse(path.read_text())):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                out += [(importer, n.module) for n in ast.walk(fn)
                        if isinstance(n, ast.ImportFrom) and (n.module or "").startswith("orca2_kit")]
    return out


def test_no_import_circle_between_modules_or_packages():
    graph = grimp.build_graph("orca2_kit")
    deferred = deferred_imports()
    seen = {a: graph.find_modules_directly_imported_by(a) for a, _ in deferred}
    missed = [(a, b) for a, b in deferred if not any(n == b or n.startswith(b + ".") for n in seen[a])]
    assert deferred and not missed, f"grimp must see the imports written inside functions: {missed[:3]}"
    assert cycles(import_edges(graph)) == [], "import circle between modules"
    assert cycles(import_edges(graph, depth=2)) == [], "import circle between the package's folders"


def test_the_layers_contract_holds():
    lint = Path(sys.executable).parent / "lint-imports"
    r = subprocess.run([str(lint), "--config", str(ROOT / "pyproject.toml")], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert "1 kept, 0 broken" in r.stdout


def test_no_module_is_past_400_lines():
    long = {str(p.relative_to(ROOT)): n for p in (ROOT / "orca2_kit").rglob("*.py")
            if (n := len(p.read_text().splitlines())) > 400}
    assert not long, f"split these (one idea per file): {long}"


def test_the_readme_layout_names_every_folder_and_module_of_the_package():
    readme = (ROOT / "README.md").read_text()
    layout = readme[readme.index("## Layout"):readme.index("## Glossary")]
    pkg = ROOT / "orca2_kit"
    folders = [p.name for p in pkg.iterdir() if p.is_dir() and (p / "__init__.py").is_file()]
    modules = [p.name for p in pkg.glob("*.py") if p.name not in ("__init__.py", "__main__.py")]
    missing = [f"{f}/" for f in folders if f"{f}/" not in layout] + [m for m in modules if m not in layout]
    assert not missing, f"README's Layout section does not name: {missing}"
