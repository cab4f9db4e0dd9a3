"""The layers of docs/architecture.md, read from the package's own imports (``ast``, every import, at the top of a
module or inside a function): no import from a lower layer to a higher one and no circle (the list of debts is
empty and stays so); and imports at the top of their module, except the command's and the front door's lazy
loading and heavy third-party imports that say why."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "rtanalytics"

#: bottom (0) to top (6); a module belongs to the first entry naming it or its package
LAYERS = [
    ("foundation", {"_version", "errors", "settings", "timewindow", "queries", "frames", "retention", "normaldist",
                    "store", "quota", "parallel", "names", "metricmath", "hcl"}),
    ("catalog", {"catalog", "alarms"}),
    ("sources", {"sources", "logs", "accesslogs", "localaws"}),
    ("analytics", {"kpis", "slo", "backtest", "forensics", "capacity", "health", "anomaly", "business",
                   "dashboards", "templates", "iac", "alarmdiff"}),
    ("figures and formatting", {"figures", "present"}),
    ("reports", {"reports", "plotlyjs"}),
    ("commands", {"cli", "export", "check", "scaffold", "__main__", ""}),
]

#: known debts: (importer, imported) edges that run upward or close a circle, to be removed — never added to
DEBTS: dict[tuple[str, str], str] = {}


def modules() -> dict[str, Path]:
    out = {}
    for p in ROOT.rglob("*.py"):
        parts = p.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = p
    return out


def imports(mods: dict[str, Path]) -> set[tuple[str, str]]:
    edges = set()
    for name, path in mods.items():
        pkg = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        pkg = [x for x in pkg if x]
        for node in ast.walk(ast.parse(path.read_text())):
            targets = []
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = pkg[:len(pkg) - (node.level - 1)] if node.level > 1 else pkg
                    mod = ".".join(base + ([node.module] if node.module else []))
                elif (node.module or "").startswith("rtanalytics"):
                    mod = node.module[len("rtanalytics"):].lstrip(".")
                else:
                    continue
                for a in node.names:
                    sub = f"{mod}.{a.name}".lstrip(".")
                    targets.append(sub if sub in mods else mod)
            elif isinstance(node, ast.Import):
                targets = [a.name[len("rtanalytics"):].lstrip(".") for a in node.names
                           if a.name.startswith("rtanalytics")]
            for t in targets:
                if t in mods and t != name:
                    edges.add((name, t))
    return edges


def layer(name: str) -> int:
    for i, (_, members) in enumerate(LAYERS):
        if name in members or name.split(".")[0] in members and name.split(".")[0] != "":
            return i
    raise AssertionError(f"rtanalytics/{name.replace('.', '/')}.py is in no layer of docs/architecture.md: "
                         "add it to LAYERS here and to the drawing there")


def cycles(edges: set[tuple[str, str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    graph: dict[str, set[str]] = {}
    for a, b in edges:
        graph.setdefault(a, set()).add(b)
    index, low, stack, on, out, n = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
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

    for v in list(graph):
        if v not in index:
            visit(v)
    return out


def test_every_module_has_a_layer():
    for name in modules():
        layer(name)


def test_no_new_upward_import_and_no_new_circle():
    mods = modules()
    edges = imports(mods)
    assert ("catalog", "reports.registry") not in edges  # the first debt paid: the names are handed down
    upward = {(a, b) for a, b in edges if layer(b) > layer(a) and a != ""}
    new_up = upward - set(DEBTS)
    assert not new_up, ("imports from a lower layer to a higher one (pass the value down instead, see "
                        f"docs/architecture.md): {sorted(new_up)}")
    rest = {e for e in edges if e not in DEBTS and e[0] != ""}  # the front door (rtanalytics/__init__) sits on top
    circles = cycles(rest)
    assert not circles, f"import circles: {circles}"
    gone = set(DEBTS) - edges
    assert not gone, f"debts paid: take them off DEBTS in tests/test_architecture.py: {sorted(gone)}"


def test_the_checker_sees_an_upward_import(tmp_path):
    """The check can fail: a catalog module importing a report is an upward edge, and a pair importing each
    other is a circle."""
    assert layer("catalog.loader") < layer("reports.registry")
    assert cycles({("a", "b"), ("b", "a"), ("b", "c")}) == [["a", "b"]]


#: the two places where imports sit inside functions on purpose: the command's own lazy loading (start-up time
#: of --help, check, list) and the front door (``import rtanalytics`` stays cheap)
LAZY_MODULES = {"cli", ""}


def late_imports(mods: dict[str, Path]) -> tuple[list[str], list[str]]:
    """Imports inside functions: (package or standard-library ones outside LAZY_MODULES, third-party ones
    without a ``# lazy: reason`` comment on their line or heading their group of imports)."""
    import sys

    inner, unexplained = [], []
    for name, path in mods.items():
        lines = path.read_text().splitlines()
        for fn in ast.walk(ast.parse("\n".join(lines))):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(fn):
                if not isinstance(node, (ast.Import, ast.ImportFrom)):
                    continue
                top = "." if getattr(node, "level", 0) else (
                    node.module if isinstance(node, ast.ImportFrom) else node.names[0].name).split(".")[0]
                where = f"rtanalytics/{path.relative_to(ROOT)}:{node.lineno}: {lines[node.lineno - 1].strip()}"
                if top in (".", "rtanalytics") or top in sys.stdlib_module_names:
                    if name not in LAZY_MODULES:
                        inner.append(where)
                elif name not in LAZY_MODULES:
                    i = node.lineno - 1  # the comment may head the group of imports this one belongs to
                    while i > 0 and lines[i - 1].strip().startswith(("import ", "from ", "# lazy")):
                        i -= 1
                    if "# lazy" not in " ".join(lines[i:node.lineno]):
                        unexplained.append(where)
    return inner, unexplained


def test_imports_sit_at_the_top_of_their_module():
    """Package and standard-library imports at the top of the module (outside the command's and the front
    door's lazy loading); a heavy optional dependency imported inside a function says why (``# lazy: …``)."""
    inner, unexplained = late_imports(modules())
    assert not inner, "imports inside functions (move them to the top of the module):\n" + "\n".join(inner)
    assert not unexplained, ("third-party imports inside functions without the reason (`# lazy: …`):\n"
                             + "\n".join(unexplained))
