"""The import structure: every module sits in a layer and imports only its own layer or
those below, and no modules import each other in a circle. A new module must be given its
layer here, so that where it belongs is a decision, not an accident.

    0 foundations   version, defaults, paths, errors, jsonl, procs, the LLM message types, the
                    sandbox's guest program and value codec, run statistics
    1 data          tasks, the official files, protocols, run directories and episode records,
                    model clients and model specs
    2 execution     rendering pages, the sandbox (host side), CLIP, the reference cache
    3 scoring       the Scorer protocol and factory, backend, frontend, scoring answer files
    4 players       agents, simulated humans
    5 dialogue      episodes and the runner
    6 consumers     report, leaderboard, regress, interop (export, import), download, the trainer
    7 interface     the public API (the package itself, loaded lazily) and the command line
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "colbench"

LAYERS = {
    0: ["colbench.version", "colbench.defaults", "colbench.paths", "colbench.errors", "colbench.jsonl", "colbench.procs", "colbench.llm.base",
        "colbench.sandbox.guest", "colbench.sandbox.values", "colbench.stats"],
    1: ["colbench.tasks", "colbench.official", "colbench.protocol", "colbench.runs", "colbench.runs.*",
        "colbench.llm", "colbench.llm.*"],
    2: ["colbench.render", "colbench.sandbox", "colbench.sandbox.*", "colbench.scoring.clip",
        "colbench.scoring.refcache"],
    3: ["colbench.scoring", "colbench.scoring.*"],
    4: ["colbench.agents", "colbench.humans", "colbench.humans.*"],
    5: ["colbench.episode", "colbench.runner"],
    6: ["colbench.report", "colbench.leaderboard", "colbench.leaderboard.*", "colbench.regress", "colbench.interop",
        "colbench.download", "colbench.train", "colbench.train.*"],
    7: ["colbench", "colbench.api", "colbench.cli"],
}


def layer_of(module: str) -> int | None:
    """The layer of a module: an exact entry first, then the nearest `package.*` entry."""
    for layer, names in LAYERS.items():
        if module in names:
            return layer
    parts = module.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        pattern = ".".join(parts[:cut]) + ".*"
        for layer, names in LAYERS.items():
            if pattern in names:
                return layer
    return None


def modules() -> dict[str, set[str]]:
    """Every module of the package and the colbench modules it imports (anywhere in it,
    function-level imports included)."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        name = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        name = name.removesuffix(".__init__")
        deps = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                deps |= {a.name for a in node.names if a.name.split(".")[0] == "colbench"}
            elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "colbench":
                deps.add(node.module)
                # `from colbench.train import policy` imports the module colbench.train.policy
                deps |= {f"{node.module}.{a.name}" for a in node.names
                         if (PACKAGE.parent / f"{node.module}.{a.name}".replace(".", "/")).with_suffix(".py").exists()}
        found[name] = deps - {name}
    return found


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    return sorted(f"{m} (layer {layer_of(m)}) imports {d} (layer {layer_of(d)})"
                  for m, deps in graph.items() for d in deps if layer_of(d) > layer_of(m))


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(m: str, path: list[str]) -> list[str] | None:
        state[m] = 1
        for d in sorted(graph.get(m, ())):
            if state.get(d) == 1:
                return path + [m, d]
            if d not in state:
                found = visit(d, path + [m])
                if found:
                    return found
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state:
            cycle = visit(m, [])
            if cycle:
                return cycle
    return None


def test_every_module_has_a_layer_and_imports_nothing_above_it():
    graph = modules()
    assert "colbench.cli" in graph and "colbench.sandbox.guest" in graph
    unplaced = sorted(m for m in graph if layer_of(m) is None)
    assert not unplaced, f"give these modules a layer in tests/test_layers.py: {unplaced}"
    assert not upward_imports(graph), "imports against the flow:\n" + "\n".join(upward_imports(graph))


def test_no_modules_import_each_other_in_a_circle():
    cycle = find_cycle(modules())
    assert cycle is None, " -> ".join(cycle)


def test_the_checks_catch_an_upward_import_and_a_circle():
    graph = modules()
    graph["colbench.scoring.backend"] = graph["colbench.scoring.backend"] | {"colbench.runner"}
    assert upward_imports(graph) == ["colbench.scoring.backend (layer 3) imports colbench.runner (layer 5)"]
    graph = modules()
    graph["colbench.tasks"] = graph["colbench.tasks"] | {"colbench.runs"}  # runs imports tasks
    assert {"colbench.runs", "colbench.tasks"} <= set(find_cycle(graph) or [])
