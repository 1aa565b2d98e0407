"""The shape of the code: the folder tree reads as PRODUCT.md's data flow, and imports keep it.

grimp (import-linter's graph library) reads every import of the project, those inside functions
too. These tests fail when an import cycle appears, when a stage imports a later stage (or the
web), or when an import hides inside a function without saying why.
"""
from __future__ import annotations

import ast
from pathlib import Path

import grimp
import pytest

REPO = Path(__file__).resolve().parent.parent
# Highest first. A module may import the layers below its own, never those above; modules in one
# layer (a tuple) do not import each other. The stages are in the order the data flows through
# them, so "a stage never imports a later stage"; the drivers that call them in order sit on top,
# and what every stage shares (records, settings, names, the audit log, notifications) below.
LAYERS = (
    ("opinion.web", "opinion.cli"),
    "opinion.demo",
    ("opinion.jobs", "opinion.analyze", "opinion.server"),
    "opinion.tasks",   # the task queue and the scheduler lock: what the jobs and workers run
    "opinion.pipeline",
    # the stages, the latest first
    "opinion.reports",
    # the district's own voice: its units' accounts (政务微博矩阵), collected beside the posts and
    # read by the reports, and its leaders' online interviews (在线访谈), whose questions become cases
    ("opinion.matrix", "opinion.interviews"),
    "opinion.alerts",
    "opinion.sla",
    "opinion.cases",
    "opinion.routing",
    "opinion.topics",
    "opinion.nlp",
    "opinion.ingest",
    "collectors",
    # shared by every stage
    ("opinion.notify", "opinion.accounts", "opinion.backup"),
    "opinion.settings",
    "opinion.audit",
    "opinion.models",
    ("opinion.labelled", "opinion.errors", "opinion.labels", "opinion.spreadsheet"),
)


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph("opinion", "collectors", cache_dir=None)


def _cycles(graph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), over direct imports."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def test_no_import_cycles(graph):
    assert _cycles(graph) == []


def test_every_module_has_a_layer(graph):
    """A new package must be placed in LAYERS, or the layering would not see it."""
    placed = {m for layer in LAYERS for m in ((layer,) if isinstance(layer, str) else layer)}
    loose = sorted(m for m in graph.modules if m not in ("opinion", "opinion.__main__")
                   and not any(m == p or m.startswith(p + ".") for p in placed))
    assert loose == []


def test_a_stage_never_imports_a_later_stage(graph):
    layers = [grimp.Layer(*layer, independent=True) if isinstance(layer, tuple) else layer for layer in LAYERS]
    illegal = graph.find_illegal_dependencies_for_layers(layers=layers)
    described = sorted(f"{d.importer} → {d.imported}: "
                       + "; ".join(f"{' '.join(sorted(r.heads))} … {' '.join(sorted(r.tails))}" for r in d.routes)
                       for d in illegal)
    assert described == []


def test_only_the_app_factory_builds_the_web_in(graph):
    """Nothing outside opinion.web imports it, but create_app, which registers the blueprints."""
    importers = {m for web in graph.find_children("opinion.web") | {"opinion.web"}
                 for m in graph.find_modules_that_directly_import(web)}
    assert sorted(m for m in importers if not m.startswith("opinion.web")) == ["opinion"]


def _function_imports(path: Path):
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for inner in ast.walk(node):
                if isinstance(inner, (ast.Import, ast.ImportFrom)):
                    yield inner.lineno, lines


def _says_why(lines: list[str], lineno: int) -> bool:
    """A '# lazy:' comment on the import's line or above the run of imports it belongs to."""
    i = lineno - 1
    while i >= 0:
        text = lines[i].strip()
        if "# lazy:" in text:
            return True
        if i != lineno - 1 and not (text == "" or text.startswith(("from ", "import ", "#"))
                                    or text.endswith((",", ")"))):
            return False
        i -= 1
    return False


def test_imports_inside_functions_say_why():
    """An import inside a function only where it saves start-up time, with a comment saying so."""
    unexplained = [f"{path.relative_to(REPO)}:{lineno}"
                   for path in sorted((REPO / "opinion").rglob("*.py")) + sorted((REPO / "collectors").rglob("*.py"))
                   for lineno, lines in _function_imports(path) if not _says_why(lines, lineno)]
    assert unexplained == []


def test_the_package_top_level_stays_small():
    """The stages live in their packages; opinion/ itself holds the app factory and a few drivers."""
    top = sorted(p.name for p in (REPO / "opinion").glob("*.py"))
    assert len(top) <= 12, top
