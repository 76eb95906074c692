"""Deriving all facts about a reference: parse the source (never run it), pick the main function (the
one the problem description names, else the last top-level def), and read it, the helper functions it
calls and the module-level constants it uses."""

from __future__ import annotations

import ast
import re
from functools import lru_cache

from colbench.humans.offline.analyzer import Analyzer, names_in
from colbench.humans.offline.english import Speaker
from colbench.humans.offline.facts import Fact, FactCollector


def main_function_name(problem_description: str) -> str | None:
    m = re.search(r"signature of the function is:?\s*def\s+([A-Za-z_]\w*)\s*\(", problem_description)
    if m:
        return m.group(1)
    m = re.search(r"\bdef\s+([A-Za-z_]\w*)\s*\(", problem_description)
    return m.group(1) if m else None


def find_main(tree: ast.Module, problem_description: str) -> ast.FunctionDef | None:
    defs = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    wanted = main_function_name(problem_description)
    for node in defs:
        if node.name == wanted:
            return node  # type: ignore[return-value]
    if wanted:  # a method of a class, perhaps
        for inner in ast.walk(tree):
            if isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef)) and inner.name == wanted:
                return inner  # type: ignore[return-value]
    return defs[-1] if defs else None  # type: ignore[return-value]


@lru_cache(maxsize=512)
def derive_facts(source: str, problem_description: str) -> tuple[Fact, ...]:
    """All facts about the reference in `source` (cached; the result is immutable)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return ()
    main = find_main(tree, problem_description)
    if main is None:
        return ()
    lines = {ln.strip() for ln in source.splitlines() if len(ln.strip()) >= 12}
    collector = FactCollector(lines)
    module_consts = module_constants(tree)
    helpers = called_helpers(tree, main)
    for function in [main, *helpers]:
        try:
            Analyzer(function, collector, module_consts, helper=function is not main).run()
        except Exception:  # noqa: BLE001 - code too odd to read (or too deep) must not end an episode;
            pass  # the facts derived before the failure are kept

    used = names_in(main).union(*(names_in(h) for h in helpers))
    for name, value in module_consts.items():
        if name in used:
            collector.add_constant_table(name, value, Speaker(set(), {}), priority=79, related=set())
    return tuple(collector.facts)


def module_constants(tree: ast.Module) -> dict[str, ast.expr]:
    found: dict[str, ast.expr] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            found[node.targets[0].id] = node.value
    return found


def called_helpers(tree: ast.Module, main: ast.FunctionDef) -> list[ast.FunctionDef]:
    defs = {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n is not main}
    result: list[ast.FunctionDef] = []
    queue = [main]
    while queue:
        fn = queue.pop(0)
        for node in ast.walk(fn):
            if isinstance(node, ast.Name) and node.id in defs and defs[node.id] not in result:
                result.append(defs[node.id])  # type: ignore[arg-type]
                queue.append(defs[node.id])  # type: ignore[arg-type]
    return result
