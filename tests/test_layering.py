"""Dependencies flow one way (DESIGN.md): reco may import detsim and generator, detsim may import
generator, never the reverse; stages otherwise talk through files."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {"generator": {"detsim", "reco"}, "detsim": {"reco"}}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    out = set()
    for node in ast.walk(tree):  # function-level (lazy) imports count too
        if isinstance(node, ast.Import):
            out |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.add(node.module.split(".")[0])
    return out


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_upstream_imports(package):
    offenders = []
    for path in sorted((ROOT / package).rglob("*.py")):
        bad = imported_packages(path) & FORBIDDEN[package]
        if bad:
            offenders.append(f"{path.relative_to(ROOT)} imports {', '.join(sorted(bad))}")
    assert not offenders, "; ".join(offenders)


def module_graph() -> dict[str, set[str]]:
    """Intra-project imports between modules (function-level ones too), relative imports resolved."""
    graph: dict[str, set[str]] = {}
    for package in ("generator", "detsim", "reco"):
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).with_suffix("")
            parts = list(rel.parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            name = ".".join(parts)
            pkg = parts if path.name == "__init__.py" else parts[:-1]
            deps = set()
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                if isinstance(node, ast.ImportFrom):
                    if node.level:
                        base = pkg[: len(pkg) - (node.level - 1)]
                        target = ".".join(base + ([node.module] if node.module else []))
                    else:
                        target = node.module or ""
                    targets = [target] + [f"{target}.{a.name}" for a in node.names]
                elif isinstance(node, ast.Import):
                    targets = [a.name for a in node.names]
                else:
                    continue
                deps |= {t for t in targets if t.split(".")[0] in FORBIDDEN or t.split(".")[0] == "reco"}
            graph[name] = deps
    modules = set(graph)
    return {m: {d for d in deps if d in modules and d != m} for m, deps in graph.items()}


def test_no_import_cycle():
    graph = module_graph()
    # a package's __init__ importing its own modules is not a cycle of concepts; leave packages out
    packages = {m for m in graph if (ROOT / m.replace(".", "/") / "__init__.py").is_file()}
    graph = {m: {d for d in deps if d not in packages} for m, deps in graph.items() if m not in packages}
    state: dict[str, int] = {}
    cycles = []

    def visit(m, stack):
        state[m] = 1
        for d in sorted(graph.get(m, ())):
            if state.get(d) == 1:
                cycles.append(" -> ".join(stack[stack.index(d):] + [d]) if d in stack else f"{m} -> {d}")
            elif not state.get(d):
                visit(d, stack + [d])
        state[m] = 2

    for m in sorted(graph):
        if not state.get(m):
            visit(m, [m])
    assert not cycles, "import cycles: " + "; ".join(cycles)
