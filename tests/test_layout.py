"""The layout the README shows is the tree, and the library's modules import one another without a circle."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RAG = ROOT / "rag"


def _modules() -> dict[str, Path]:
    """Dotted name -> file, for every module of the rag package."""
    out = {}
    for f in sorted(RAG.rglob("*.py")):
        if "__pycache__" in f.parts:
            continue
        parts = list(f.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = f
    return out


def _layout_block() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("\n## Layout\n"):]
    return section[section.index("```\n") + 4:section.index("\n```", section.index("```\n") + 4)]


def test_the_readme_layout_names_every_module_and_nothing_else():
    block = _layout_block()
    named, package = set(), None
    for line in block.splitlines():
        m = re.match(r"^(rag/[\w/]*?)(\w+\.py)?\s", line + " ")
        if m and m.group(1).endswith("/") and not m.group(2):  # a package heading: rag/ingest/
            package = m.group(1)
            named |= {package + f for f in re.findall(r"\b(\w+\.py)\b", line)}  # rag/answer/ names its files inline
        elif m:
            package = None
            named.add(m.group(1) + m.group(2))
        elif package and line.startswith(" "):
            named |= {package + f for f in re.findall(r"\b(\w+\.py)\b", line)}
        elif not line.startswith(" "):
            package = None
    files = {f.relative_to(ROOT).as_posix() for f in _modules().values() if f.name not in ("__init__.py", "__main__.py")}
    assert files - named == set(), "modules the README's layout does not name"
    assert named - files == set(), "the README's layout names files that are not there"


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """The rag modules `path` imports, at module level or inside functions."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            # `from rag.web import render` imports the module rag.web.render
            names = [f"{node.module}.{a.name}" for a in node.names] + [node.module]
        else:
            continue
        for n in names:
            while n and n not in modules:
                n = n.rpartition(".")[0]
            if n and n != "rag":
                found.add(n)
    return found


def test_no_circle_of_imports_within_a_package():
    """A module never reaches itself through the imports of its own package (the
    answer stage's entities and extract once imported each other)."""
    modules = _modules()
    graph = {m: _imports(f, modules) - {m} for m, f in modules.items()}
    circles = []
    for start in sorted(graph):
        package = start.rpartition(".")[0]
        seen, todo = set(), [start]
        while todo:
            for n in sorted(graph[todo.pop()]):
                if n.rpartition(".")[0] != package or n in seen:
                    continue
                if n == start:
                    circles.append(start)
                seen.add(n)
                todo.append(n)
    assert circles == []
