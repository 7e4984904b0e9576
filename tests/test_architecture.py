"""The direction of imports holds: no module imports one that imports it back (function-level imports
included), and ARCHITECTURE.md's table of parts says exactly which part imports which."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The installed package and the folders mapped into it (pyproject.toml's package-dir).
SOURCES = {
    "fpjs_conformance": ROOT / "fpjs_conformance",
    "fpjs_conformance.contracts": ROOT / "contracts",
    "fpjs_conformance.strategies": ROOT / "strategies",
}


def modules() -> dict[str, Path]:
    found = {}
    for package, folder in SOURCES.items():
        for path in folder.rglob("*.py"):
            rel = path.relative_to(folder).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            name = ".".join([package, *parts])
            if package == "fpjs_conformance" and parts and parts[0] in ("contracts", "strategies"):
                continue
            found[name] = path
    return found


def imports(path: Path, name: str, known: set[str]) -> set[str]:
    """The modules of the package that `path` imports anywhere in it (module or function level)."""
    out = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != "fpjs_conformance" and target != name:
                out.add(target)
    return out


def graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    return {name: imports(path, name, known) for name, path in found.items()}


def test_no_import_runs_back():
    edges = graph()
    loops = sorted((a, b) for a, targets in edges.items() for b in targets if a in edges.get(b, set()))
    assert loops == []
    # Longer circles too: a depth-first walk finds any back edge.
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                raise AssertionError(f"import circle: {' -> '.join([*path[path.index(nxt) :], nxt])}")
            if nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])


def parts_table() -> dict[str, set[str]]:
    """ARCHITECTURE.md: part -> the parts it may import (the table under "Parts")."""
    text = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    table = text.split("## Parts, and which may import which", 1)[1].split("\n## ", 1)[0]
    out = {}
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`"):
            continue
        part = re.findall(r"`([^`]+)`", cells[0])[0]
        out[part] = set(re.findall(r"`([^`]+)`", cells[2]))
    return out


def part_of(module: str, parts: set[str]) -> str | None:
    """The part a module belongs to: its own name, or the package folder it is in."""
    short = module.removeprefix("fpjs_conformance.")
    while short:
        if short in parts:
            return short
        short = short.rpartition(".")[0]
    return None


def test_architecture_table_matches_the_code():
    table = parts_table()
    parts = set(table)
    actual: dict[str, set[str]] = {p: set() for p in parts}
    unplaced = []
    for module, targets in graph().items():
        if module == "fpjs_conformance":  # the package's face: it defines nothing
            continue
        part = part_of(module, parts)
        if part is None:
            unplaced.append(module)
            continue
        actual[part] |= {t for t in (part_of(m, parts) for m in targets) if t and t != part}
    assert unplaced == [], "modules that no part of ARCHITECTURE.md holds"
    wrong = {
        p: {"undeclared": sorted(actual[p] - table[p]), "not imported": sorted(table[p] - actual[p])}
        for p in parts
        if actual[p] != table[p]
    }
    assert wrong == {}


def test_every_package_and_data_file_is_installed():
    """A non-editable install ships only what pyproject.toml lists: a new subpackage or data file left
    out of it passes every test in the checkout and breaks `pip install` (scripts/check_installed.sh)."""
    import fnmatch
    import tomllib

    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    packages, data = set(setuptools["packages"]), setuptools.get("package-data", {})
    for package, folder in SOURCES.items():
        for init in folder.rglob("__init__.py"):
            parts = init.parent.relative_to(folder).parts
            if package == "fpjs_conformance" and parts and parts[0] in ("contracts", "strategies"):
                continue
            name = ".".join([package, *parts])
            assert name in packages, f"{name} is missing from [tool.setuptools] packages in pyproject.toml"
        for path in folder.iterdir():
            if path.is_file() and path.suffix != ".py":
                globs = data.get(package, [])
                assert any(fnmatch.fnmatch(path.name, g) for g in globs), (
                    f"{path.relative_to(ROOT)} is missing from [tool.setuptools.package-data] {package!r}"
                )


def test_the_public_names_resolve_and_are_the_documented_ones():
    """`fpjs_conformance.__all__` is what ARCHITECTURE.md's "Extending" table lists, and each name resolves."""
    import fpjs_conformance

    text = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8").split("## Extending", 1)[1].split("\n## ", 1)[0]
    documented = {
        name
        for line in text.splitlines()
        if line.startswith("| `")
        for name in re.findall(r"`([^`]+)`", line.split("|")[1])
    }
    assert documented == set(fpjs_conformance.__all__)
    for name in fpjs_conformance.__all__:
        assert getattr(fpjs_conformance, name) is not None, name
