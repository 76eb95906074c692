"""Deriving facts from one function of the reference (the main one, or a helper it calls): `Analyzer`
walks its syntax tree for the kind of value returned, conditions and their outcomes, constant tables,
formulas, rounding, clamps, sorting, formatting, defaults and how each parameter is used."""

from __future__ import annotations

import ast
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from colbench.humans.offline.english import (ORDINALS, PREDICATE_WORDS, STR_METHOD_WORDS, Speaker, call_name,
                                             const_number, decapitalize, format_spec_words, is_method_call,
                                             is_text_literal, join_words, say_constant, step_rounding,
                                             step_words, words_of)
from colbench.humans.offline.facts import MAX_FACT, Fact, FactCollector


def names_in(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


CONTAINER_KINDS = ("dict", "list", "text", "seq")
TEXT_METHODS = {"lower", "upper", "strip", "split", "startswith", "endswith", "replace", "title", "casefold",
                "lstrip", "rstrip", "isdigit", "isalpha", "isupper", "islower", "isalnum", "capitalize", "find",
                "rsplit", "zfill"}


@dataclass
class Usage:
    """What the code does with one name (a parameter or a loop variable)."""

    evidence: set[str] = field(default_factory=set)  # dict, list, text, number, flag, seq
    keys: list[str] = field(default_factory=list)  # string keys it is indexed with
    compared: list[tuple[str, str, str]] = field(default_factory=list)  # (wrapper phrase, constant, category)
    options: list[str] = field(default_factory=list)  # keys of a table it is looked up in
    methods: set[str] = field(default_factory=set)
    targets: list[ast.expr] = field(default_factory=list)  # loop targets over it

    @property
    def kind(self) -> str | None:
        for kind in ("dict", "text", "list", "seq", "number", "flag"):
            if kind in self.evidence:
                return kind
        return None


class Analyzer:
    """Derives facts from one function (the main one, or a helper it calls)."""

    def __init__(self, func: ast.FunctionDef, out: FactCollector, module_consts: dict[str, ast.expr], helper: bool):
        self.func = func
        self.out = out
        self.helper = helper
        self.prefix = f"For the {words_of(func.name)} part, " if helper else ""
        self.params = [a.arg for a in func.args.posonlyargs + func.args.args + func.args.kwonlyargs]
        self.parents = {child: node for node in ast.walk(func) for child in ast.iter_child_nodes(node)}
        self.tables = self.literal_tables(module_consts)
        self.usage = {p: self.collect_usage(p) for p in self.params}
        kinds = {p: u.kind for p, u in self.usage.items() if u.kind}
        self.speaker = Speaker(set(self.params), dict(kinds))  # provisional, to infer the locals' kinds
        kinds.update(self.local_kinds())
        self.speaker = Speaker(set(self.params), kinds, decimals=self.decimal_constants())
        self.deps = self.dependencies()
        self.priority_shift = -6 if helper else 0

    # -- helpers

    def add(self, text: str | None, priority: int, node: ast.AST | None = None, topics: Iterable[str] = (),
            names: Iterable[str] = (), context: Iterable[str] = ()) -> None:
        """Adds a fact about `names` (and the names in `node`); `context` names are only related to it."""
        if not text:
            return
        if self.prefix:
            text = self.prefix + decapitalize(text)
        mentioned = set(names) | (names_in(node) if node is not None else set())
        mentioned = {n for n in mentioned if n in self.deps}
        direct = {n for n in mentioned if n in self.params} | ({self.func.name} if self.helper else set())
        related = (mentioned - direct) | {p for n in mentioned for p in self.deps.get(n, ())} | \
            {n for n in context if n in self.deps}
        self.out.add(text, priority + self.priority_shift, names=direct, related=related, topics=topics)

    def nodes(self) -> list[ast.AST]:
        found = [n for n in ast.walk(self.func) if hasattr(n, "lineno") and n is not self.func]
        return sorted(found, key=lambda n: (n.lineno, n.col_offset))

    def literal_tables(self, module_consts: dict[str, ast.expr]) -> dict[str, ast.expr]:
        tables = {k: v for k, v in module_consts.items() if isinstance(v, (ast.Dict, ast.List, ast.Tuple, ast.Set))}
        for node in ast.walk(self.func):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) \
                    and isinstance(node.value, (ast.Dict, ast.List, ast.Tuple, ast.Set)):
                tables.setdefault(node.targets[0].id, node.value)
        return tables

    def decimal_constants(self) -> dict[str, str]:
        found = {}
        for node in ast.walk(self.func):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                places = Speaker(set(), {}).decimal_places(node.value)
                if places is not None:
                    found[node.targets[0].id] = places
        return found

    def dependencies(self) -> dict[str, set[str]]:
        """For each local variable, the parameters its value comes from."""
        deps: dict[str, set[str]] = {p: {p} for p in self.params}
        for _ in range(3):
            for node in ast.walk(self.func):
                targets: list[ast.AST] = []
                value: ast.AST | None = None
                if isinstance(node, ast.Assign):
                    targets, value = node.targets, node.value
                elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
                    targets, value = [node.target], node.value
                elif isinstance(node, (ast.For, ast.comprehension)):
                    targets, value = [node.target], node.iter
                if value is None:
                    continue
                sources = {p for n in names_in(value) for p in deps.get(n, ())}
                for target in targets:
                    for name in names_in(target):
                        deps.setdefault(name, set()).update(sources)
        return deps

    def local_kinds(self) -> dict[str, str]:
        kinds: dict[str, str] = {}
        for node in ast.walk(self.func):
            if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Tuple) and call_name(node.value) == "divmod":
                kinds.update({n: "number" for n in names_in(node.targets[0])})
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                kind = self.kind_of(node.value, {})
                if kind and node.targets[0].id not in kinds:
                    kinds[node.targets[0].id] = {"True or False": "flag", "a number": "number", "a text": "text",
                                                 "a whole number": "number", "a list": "list",
                                                 "a dictionary": "dict"}.get(kind, "other")
                    self.speaker.kinds.setdefault(node.targets[0].id, kinds[node.targets[0].id])
        return kinds

    # -- parameter usage

    def collect_usage(self, name: str) -> Usage:
        usage = Usage()
        for node in ast.walk(self.func):
            if isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Load):
                self.note_use(node, usage)
        default = self.default_of(name)
        if isinstance(default, ast.Constant) and default.value is not None:
            value = default.value
            usage.evidence.add("flag" if isinstance(value, bool) else "text" if isinstance(value, str) else "number")
        elif isinstance(default, ast.Dict):
            usage.evidence.add("dict")
        elif isinstance(default, (ast.List, ast.Tuple)):
            usage.evidence.add("list")
        return usage

    def note_use(self, node: ast.Name, usage: Usage) -> None:
        """Records what one occurrence of a name says about it."""
        subject, phrase = self.climb(node)
        holder = self.parents.get(subject)
        if isinstance(holder, ast.Compare):
            self.note_compare(subject, holder, phrase, usage)
        parent = self.parents.get(node)
        if isinstance(parent, ast.Attribute) and isinstance(self.parents.get(parent), ast.Call):
            self.note_method(parent.attr, self.parents[parent], usage)
        elif isinstance(parent, ast.Subscript) and parent.value is node:
            self.note_index(parent.slice, usage)
        elif isinstance(parent, ast.Subscript) and parent.slice is node:
            self.note_lookup(parent.value, usage)
        elif isinstance(parent, ast.Call) and node in parent.args:
            self.note_call_arg(node, parent, usage)
        elif isinstance(parent, (ast.For, ast.comprehension)) and parent.iter is node:
            usage.evidence.add("list")
            usage.targets.append(parent.target)
        elif isinstance(parent, ast.BinOp):
            self.note_arithmetic(parent, parent.right if parent.left is node else parent.left, usage)
        elif isinstance(parent, ast.UnaryOp) and isinstance(parent.op, ast.USub):
            usage.evidence.add("number")
        elif isinstance(parent, (ast.If, ast.While, ast.IfExp)) and parent.test is node or \
                isinstance(parent, ast.BoolOp) or isinstance(parent, ast.UnaryOp) and isinstance(parent.op, ast.Not):
            if not usage.evidence & set(CONTAINER_KINDS):
                usage.evidence.add("flag")
        elif isinstance(parent, ast.Compare) and node in parent.comparators:
            index = parent.comparators.index(node)
            if isinstance(parent.ops[index], (ast.In, ast.NotIn)):
                usage.evidence.add("seq")

    def note_method(self, method: str, call: ast.Call, usage: Usage) -> None:
        usage.methods.add(method)
        if method in TEXT_METHODS:
            usage.evidence.add("text")
        elif method in ("items", "keys", "values", "get"):
            usage.evidence.add("dict")
            if method == "get" and call.args and isinstance(call.args[0], ast.Constant) \
                    and isinstance(call.args[0].value, str):
                self.add_key(usage, call.args[0].value)
        elif method in ("append", "extend", "pop", "insert", "index", "sort"):
            usage.evidence.add("list")

    def note_index(self, index: ast.expr, usage: Usage) -> None:
        """x['key'] is a dictionary; x[0], x[1:], x[i] over a range are lists; x[name] is usually a dictionary."""
        if isinstance(index, ast.Constant) and isinstance(index.value, str):
            usage.evidence.add("dict")
            self.add_key(usage, index.value)
        elif isinstance(const_number(index), int) or isinstance(index, (ast.Slice, ast.BinOp)) \
                or isinstance(index, ast.Name) and index.id in self.positions:
            usage.evidence.add("seq")
        elif isinstance(index, (ast.Call, ast.Attribute, ast.Subscript)) or \
                isinstance(index, ast.Name) and index.id in self.key_names:
            usage.evidence.add("dict")

    @staticmethod
    def note_arithmetic(op: ast.BinOp, other: ast.expr, usage: Usage) -> None:
        if is_text_literal(other):
            usage.evidence.add("text")
        elif isinstance(op.op, ast.Add) and (isinstance(other, (ast.List, ast.ListComp)) or
                                             isinstance(other, ast.Subscript) and isinstance(other.slice, ast.Slice)):
            usage.evidence.add("seq")
        else:
            usage.evidence.add("number")

    def climb(self, node: ast.AST) -> tuple[ast.AST, str]:
        """The expression a name is wrapped in before it is compared: len(x), x.lower(), x['k']..."""
        subject: ast.AST = node
        phrase = ""
        for _ in range(3):
            parent = self.parents.get(subject)
            if isinstance(parent, ast.Call) and call_name(parent) in ("len", "int", "float", "abs", "round", "str") \
                    and subject in parent.args:
                subject = parent
                phrase = "its length" if call_name(parent) == "len" else phrase
            elif isinstance(parent, ast.Attribute) and isinstance(self.parents.get(parent), ast.Call) \
                    and parent.attr in STR_METHOD_WORDS:
                subject = self.parents[parent]
            elif isinstance(parent, ast.Subscript) and parent.value is subject and \
                    isinstance(parent.slice, ast.Constant) and isinstance(parent.slice.value, str):
                phrase = f"its {parent.slice.value!r} entry"
                subject = parent
            else:
                break
        return subject, phrase

    @cached_property
    def positions(self) -> set[str]:
        """Names that hold positions: loop variables over range(...) and enumerate(...) counters."""
        found: set[str] = set()
        for node in ast.walk(self.func):
            if isinstance(node, (ast.For, ast.comprehension)):
                if call_name(node.iter) == "range" and isinstance(node.target, ast.Name):
                    found.add(node.target.id)
                elif call_name(node.iter) == "enumerate" and isinstance(node.target, ast.Tuple) \
                        and isinstance(node.target.elts[0], ast.Name):
                    found.add(node.target.elts[0].id)
        return found

    @cached_property
    def key_names(self) -> set[str]:
        """Names that hold dictionary keys: loop variables over .items() and .keys()."""
        found: set[str] = set()
        for node in ast.walk(self.func):
            if isinstance(node, (ast.For, ast.comprehension)) and is_method_call(node.iter, "items", "keys"):
                target = node.target.elts[0] if isinstance(node.target, ast.Tuple) else node.target
                if isinstance(target, ast.Name):
                    found.add(target.id)
        return found

    def note_compare(self, subject: ast.AST, compare: ast.Compare, phrase: str, usage: Usage) -> None:
        sides = [compare.left, *compare.comparators]
        if subject not in sides:
            return
        pos = sides.index(subject)
        for other_pos in (pos - 1, pos + 1):
            if not 0 <= other_pos < len(sides):
                continue
            other, op = sides[other_pos], compare.ops[min(pos, other_pos)]
            contains = isinstance(op, (ast.In, ast.NotIn)) and other_pos < pos
            values: list[ast.AST] = list(other.elts) if isinstance(other, (ast.Tuple, ast.List, ast.Set)) else [other]
            for value in values:
                if isinstance(value, ast.Constant) and value.value is not None or const_number(value) is not None:
                    number = const_number(value)
                    constant = value.value if number is None else number  # type: ignore
                    category = "contains" if contains else "number" if number is not None else "text"
                    if not phrase:
                        usage.evidence.add("seq" if category == "contains" else category)
                    item = (phrase, say_constant(constant), category)
                    if item not in usage.compared:
                        usage.compared.append(item)
            if isinstance(other, ast.Name) and other.id in self.tables:
                self.note_lookup(other, usage)

    def note_lookup(self, table: ast.AST, usage: Usage) -> None:
        """The name is used as a key into a literal table: its keys are the values that matter."""
        if isinstance(table, ast.Name) and isinstance(self.tables.get(table.id), ast.Dict):
            for key in self.tables[table.id].keys:  # type: ignore
                if isinstance(key, ast.Constant) and say_constant(key.value) not in usage.options:
                    usage.options.append(say_constant(key.value))
            if all(isinstance(k, ast.Constant) and isinstance(k.value, str)
                   for k in self.tables[table.id].keys):  # type: ignore
                usage.evidence.add("text")

    def note_call_arg(self, node: ast.Name, call: ast.Call, usage: Usage) -> None:
        name = call_name(call)
        if isinstance(call.func, ast.Attribute) and name == "get" and call.args and call.args[0] is node:
            self.note_lookup(call.func.value, usage)
        elif name in ("sum", "sorted", "enumerate", "zip", "min", "max", "any", "all", "reversed") and len(call.args) == 1:
            usage.evidence.add("list")
        elif name == "len":
            usage.evidence.add("seq")
        elif name in ("range", "round", "abs", "ceil", "floor", "sqrt", "divmod", "timedelta", "date", "float"):
            usage.evidence.add("number")
        elif name == "join":
            usage.evidence.add("list")

    def add_key(self, usage: Usage, key: str) -> None:
        if repr(key) not in usage.keys:
            usage.keys.append(repr(key))

    def default_of(self, name: str) -> ast.expr | None:
        args = self.func.args
        positional = args.posonlyargs + args.args
        offset = len(positional) - len(args.defaults)
        for i, arg in enumerate(positional):
            if arg.arg == name and i >= offset:
                return args.defaults[i - offset]
        for arg, default in zip(args.kwonlyargs, args.kw_defaults):
            if arg.arg == name:
                return default
        return None

    # -- running

    def run(self) -> None:
        if not self.helper:
            self.shape_fact()
            self.default_facts()
        self.block_facts(self.func.body, [], depth=0)
        self.call_facts()
        self.format_facts()
        if not self.helper:
            self.parameter_facts()

    # -- what comes back

    def returns(self) -> list[ast.Return]:
        found = []
        stack: list[ast.AST] = list(self.func.body)
        while stack:
            node = stack.pop(0)
            if isinstance(node, ast.Return):
                found.append(node)
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
                stack.extend(ast.iter_child_nodes(node))
        return sorted(found, key=lambda n: n.lineno)

    def shape_fact(self) -> None:
        """'I want it to give back ...': the kinds of value the return statements give."""
        values = [r.value for r in self.returns() if r.value is not None]
        descriptions: list[str] = []
        texts: list[str] = []  # string constants that come back as they are
        unknown = False
        for value in values:
            if isinstance(value, ast.Tuple):
                continue
            text = self.kind_of(value, {}, detail=True)
            if text and text.startswith(("'", '"')):
                texts.append(text)
            elif text:
                descriptions.append(text)
            unknown = unknown or text is None
        descriptions += self.tuple_shapes([v for v in values if isinstance(v, ast.Tuple)])
        texts = list(dict.fromkeys(texts))
        if unknown and texts and not descriptions:
            descriptions.append("a text")
        descriptions = merge_kinds(descriptions)
        if texts and not descriptions:
            text = f"I want it to give back a text, one of {join_words(texts[:8], 'or')}" if len(texts) > 1 \
                else f"I want it to give back the text {texts[0]}"
            if len(texts) > 8:
                text += ", or a few others"
        elif texts:
            descriptions = ["a text (such as " + join_words(texts[:3], "or") + ")" if d == "a text" else d
                            for d in descriptions]
            if not any(d.startswith("a text") for d in descriptions):
                descriptions.append("a text such as " + join_words(texts[:3], "or"))
            text = f"I want it to give back {join_words(descriptions[:4], 'or')}"
        elif descriptions:
            text = f"I want it to give back {join_words(descriptions[:4], 'or')}"
        else:
            return
        self.add(text, 90, topics={"return", "format"})

    def tuple_shapes(self, tuples: list[ast.Tuple]) -> list[str]:
        """One description per tuple size, merging what each position can hold."""
        shapes: list[str] = []
        for size in dict.fromkeys(len(t.elts) for t in tuples):
            same = [t for t in tuples if len(t.elts) == size]
            positions = [list(dict.fromkeys(self.short_label(t.elts[i]) for t in same)) for i in range(size)]
            if any(None in labels for labels in positions) or size > len(ORDINALS):
                shapes.append(f"a tuple of {size} values")
            elif all(len(labels) == 1 for labels in positions):
                shapes.append(f"a tuple of {size} values: {join_words([p[0] for p in positions])}")  # type: ignore[misc]
            else:
                said = [f"{ORDINALS[i]} {' or '.join(p)}" for i, p in enumerate(positions)]  # type: ignore[arg-type]
                shapes.append(f"a tuple of {size} values ({', '.join(said)})")
        return shapes

    def kind_of(self, node: ast.AST, seen: dict[str, bool], detail: bool = False) -> str | None:
        """A phrase for the kind of value an expression gives: 'a number', 'a list of ...', 'True or False'."""
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool):
                return "True or False"
            if isinstance(node.value, (int, float)):
                return "a number"
            if isinstance(node.value, str):
                return say_constant(node.value) if detail and node.value and len(node.value) <= 60 else "a text"
            if node.value is None:
                return "None"
        if isinstance(node, (ast.Compare, ast.BoolOp)) or isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            if isinstance(node, ast.BoolOp):
                kinds = {self.kind_of(v, seen) for v in node.values}
                if kinds <= {"True or False"}:
                    return "True or False"
                return None
            return "True or False"
        if isinstance(node, (ast.JoinedStr,)) or is_text_literal(node):
            text = self.speaker.say(node) if detail else None
            return f"a text like {text[10:]}" if text and text.startswith("text like") else "a text"
        if isinstance(node, ast.BinOp):
            if isinstance(node.op, ast.Add) and self.speaker.is_text(node):
                return "a text"
            left = self.kind_of(node.left, seen)
            if left in ("a date", "a Decimal amount", "a fraction") or \
                    left in ("a set", "a list") and isinstance(node.op, (ast.Add, ast.Sub, ast.BitOr, ast.BitAnd)):
                return left
            if isinstance(node.op, ast.Add) and (isinstance(node.left, ast.List) or isinstance(node.right, ast.List)):
                return "a list"
            return "a number"
        if isinstance(node, ast.UnaryOp):
            return "a number"
        if isinstance(node, ast.Tuple):
            return self.tuple_kind(node, detail)
        if isinstance(node, (ast.List, ast.ListComp)):
            return self.list_kind(node, detail)
        if isinstance(node, (ast.Set, ast.SetComp)):
            return "a set"
        if isinstance(node, (ast.Dict, ast.DictComp)):
            return self.dict_kind(node, detail)
        if isinstance(node, ast.IfExp):
            branches = [self.kind_of(node.body, seen, detail), self.kind_of(node.orelse, seen, detail)]
            options = [k for k in dict.fromkeys(branches) if k]
            return join_words(options, "or") if options else None
        if isinstance(node, ast.Call):
            return self.call_kind(node, seen, detail)
        if isinstance(node, ast.Name):
            return self.name_kind(node.id, seen, detail)
        if isinstance(node, ast.Subscript):
            if isinstance(node.slice, ast.Slice):
                return self.kind_of(node.value, seen, detail)
        return None

    def tuple_kind(self, node: ast.Tuple, detail: bool) -> str:
        return self.tuple_shapes([node])[0] if detail else f"a tuple of {len(node.elts)} values"

    def short_label(self, node: ast.AST) -> str | None:
        if isinstance(node, ast.Name):
            return self.speaker.say(node)
        kind = self.kind_of(node, {})
        return kind

    def list_kind(self, node: ast.List | ast.ListComp, detail: bool) -> str:
        if isinstance(node, ast.List) and not node.elts:
            return "an empty list" if detail else "a list"
        if isinstance(node, ast.ListComp) and detail:
            elt = node.elt
            if isinstance(elt, ast.Name):
                return f"a list of {words_of(elt.id)} values"
            kind = self.kind_of(elt, {})
            if isinstance(elt, ast.JoinedStr):
                text = self.speaker.say(elt)
                if text:
                    return f"a list of texts like {text[10:]}"
            if kind and kind.startswith("a "):
                return f"a list of {kind[2:]}s" if kind in ("a number", "a text", "a list") else "a list"
        return "a list"

    def dict_kind(self, node: ast.Dict | ast.DictComp, detail: bool) -> str:
        keys = self.dict_keys(node)
        if detail and keys:
            return f"a dictionary with the keys {join_words(keys[:10])}"
        if isinstance(node, ast.Dict) and not node.keys:
            return "a dictionary"
        return "a dictionary"

    def dict_keys(self, node: ast.AST, seen: frozenset[str] = frozenset()) -> list[str]:
        """The constant keys of a dict literal, or of a comprehension over a table's keys."""
        if isinstance(node, ast.Dict):
            if node.keys and all(isinstance(k, ast.Constant) for k in node.keys):
                return [say_constant(k.value) for k in node.keys]  # type: ignore[union-attr]
            return []
        if isinstance(node, ast.DictComp) and len(node.generators) == 1:
            source = node.generators[0].iter
            if is_method_call(source, "items", "keys"):
                source = source.func.value  # type: ignore
            target = node.generators[0].target
            key_is_target = isinstance(target, ast.Name) and isinstance(node.key, ast.Name) and node.key.id == target.id \
                or isinstance(target, ast.Tuple) and target.elts and isinstance(target.elts[0], ast.Name) and \
                isinstance(node.key, ast.Name) and node.key.id == target.elts[0].id
            if isinstance(source, ast.Name) and key_is_target:
                return self.table_keys(source.id, seen)
        return []

    def table_keys(self, name: str, seen: frozenset[str] = frozenset()) -> list[str]:
        keys: list[str] = []
        if name in seen:
            return keys
        for node in ast.walk(self.func):
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
                for key in self.dict_keys(node.value, seen | {name}):
                    if key not in keys:
                        keys.append(key)
        return keys

    def call_kind(self, node: ast.Call, seen: dict[str, bool], detail: bool) -> str | None:
        name = call_name(node)
        numeric = {"round", "len", "sum", "int", "float", "abs", "ceil", "floor", "sqrt", "count", "pow", "mean",
                   "median", "log", "exp", "index", "find"}
        if name in numeric:
            if name == "round" and len(node.args) == 2 and detail:
                digits = const_number(node.args[1])
                if isinstance(digits, int) and digits > 0:
                    return f"a number rounded to {digits} decimal place{'s' if digits != 1 else ''}"
            if name in ("round", "int", "ceil", "floor", "len", "count") and (len(node.args) < 2 or name != "round"):
                return "a whole number"
            return "a number"
        if name in ("min", "max"):
            kinds = {self.kind_of(a, seen) for a in node.args}
            return "a number" if kinds & {"a number", "a whole number"} or len(node.args) > 1 else None
        if name in ("str", "join", "format", "upper", "lower", "strip", "title", "capitalize", "replace", "zfill"):
            return "a text"
        if name in ("bool", "isinstance", "any", "all", "startswith", "endswith", "isdigit", "isalpha"):
            return "True or False"
        if name in ("sorted", "list", "split"):
            return "a list"
        if name in ("set",):
            return "a set"
        if name in ("dict", "Counter", "defaultdict"):
            return "a dictionary of counts" if name == "Counter" else "a dictionary"
        if name == "tuple":
            return "a tuple"
        if name == "Fraction":
            return "a fraction"
        if name == "quantize" or name == "Decimal":
            return "a Decimal amount"
        if name in ("date", "datetime", "strptime"):
            return "a date"
        if name == self.func.name:
            return None
        return None

    def name_kind(self, name: str, seen: dict[str, bool], detail: bool) -> str | None:
        if name in seen:
            return None
        seen = {**seen, name: True}
        if name in ("True", "False"):
            return "True or False"
        assigned: list[ast.AST] = []
        mutated = False
        for node in ast.walk(self.func):
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
                assigned.append(node.value)
            elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name) and node.target.id == name:
                assigned.append(node.value if not isinstance(node.op, ast.Add) else node.value)
            elif is_method_call(node, "append") and isinstance(node.func.value, ast.Name) and node.func.value.id == name:  # type: ignore
                mutated = True
        if name in self.params and not assigned:
            kind = self.usage[name].kind
            return {"list": "a list", "dict": "a dictionary", "text": "a text", "number": "a number",
                    "seq": "a list", "flag": "True or False"}.get(kind or "", None)
        if not assigned:
            return self.loop_item_kind(name, seen)
        for value in assigned:
            kind = self.kind_of(value, seen, detail)
            if kind and kind.startswith(("'", '"')):
                kind = "a text"
            if kind == "an empty list" or (kind == "a list" and mutated):
                return self.appended_kind(name, detail) or "a list"
            if kind in ("a dictionary",) and detail:
                keys = self.assigned_keys(name)
                return f"a dictionary with the keys {join_words(keys[:10])}" if keys else kind
            if kind:
                return kind
        return None

    def loop_item_kind(self, name: str, seen: dict[str, bool]) -> str | None:
        """The kind of a loop variable over a literal table: 'for cutoff, letter in cutoffs'."""
        for node in ast.walk(self.func):
            if not isinstance(node, ast.For) or not isinstance(node.iter, ast.Name):
                continue
            table = self.tables.get(node.iter.id)
            if not isinstance(table, (ast.List, ast.Tuple)) or not table.elts:
                continue
            first = table.elts[0]
            if isinstance(node.target, ast.Name) and node.target.id == name:
                return self.kind_of(first, seen)
            if isinstance(node.target, ast.Tuple) and isinstance(first, ast.Tuple):
                for target, item in zip(node.target.elts, first.elts):
                    if isinstance(target, ast.Name) and target.id == name:
                        return self.kind_of(item, seen)
        return None

    def appended_kind(self, name: str, detail: bool) -> str | None:
        for node in ast.walk(self.func):
            if is_method_call(node, "append") and isinstance(node.func.value, ast.Name) and \
                    node.func.value.id == name and node.args:  # type: ignore
                item = node.args[0]  # type: ignore
                if isinstance(item, ast.JoinedStr) and detail:
                    text = self.speaker.say(item)
                    return f"a list of texts like {text[10:]}" if text else "a list of texts"
                kind = self.kind_of(item, {name: True}, False)
                if kind in ("a number", "a text", "a whole number"):
                    return f"a list of {kind[2:]}s"
                return "a list"
        return None

    def assigned_keys(self, name: str) -> list[str]:
        keys = self.table_keys(name)
        for node in ast.walk(self.func):
            if isinstance(node, (ast.Assign, ast.AugAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for t in targets:
                    if isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name) and t.value.id == name \
                            and isinstance(t.slice, ast.Constant) and say_constant(t.slice.value) not in keys:
                        keys.append(say_constant(t.slice.value))
        return keys

    def default_facts(self) -> None:
        for name in self.params:
            default = self.default_of(name)
            if default is None:
                continue
            text = self.speaker.say(default)
            if text:
                self.add(f"If {name} isn't given, it should be {text}", 62, names={name}, topics={"default", "input"})

    # -- statements: conditions, formulas, loops

    def block_facts(self, body: Sequence[ast.stmt], conds: list[str], depth: int) -> None:
        chain_names: set[str] = set()
        for i, stmt in enumerate(body):
            if isinstance(stmt, ast.If):
                chain_names |= self.if_facts(stmt, conds, depth)
            elif isinstance(stmt, (ast.For, ast.AsyncFor)):
                self.block_facts(stmt.body, conds, depth + 1)
            elif isinstance(stmt, ast.While):
                test = self.speaker.truth(stmt.test)
                if test:
                    self.add(f"It keeps going as long as {test}", 64, stmt.test, topics={"threshold"})
                self.block_facts(stmt.body, conds, depth + 1)
            elif isinstance(stmt, (ast.With, ast.AsyncWith)):
                self.block_facts(stmt.body, conds, depth)
            elif isinstance(stmt, ast.Try):
                self.block_facts(stmt.body, conds, depth)
            elif isinstance(stmt, ast.Return) and stmt.value is not None and not conds:
                self.final_fact(stmt, chain_names)
            elif isinstance(stmt, (ast.Assign, ast.AugAssign)) and not conds:
                self.formula_fact(stmt)
            elif isinstance(stmt, ast.Raise) and not conds:
                self.add(self.outcome([stmt]), 70, stmt, topics={"error"})

    def if_facts(self, node: ast.If, conds: list[str], depth: int) -> set[str]:
        """Facts for an if/elif/else chain; returns the names its tests use."""
        branches: list[tuple[ast.expr, list[ast.stmt]]] = []
        current: ast.If = node
        while True:
            branches.append((current.test, current.body))
            if len(current.orelse) == 1 and isinstance(current.orelse[0], ast.If):
                current = current.orelse[0]
                continue
            break
        else_body = current.orelse
        tested: set[str] = set()
        for index, (test, body) in enumerate(branches):
            tested |= names_in(test)
            cond = self.speaker.truth(test)
            if cond is None:
                continue
            full = " and ".join(conds + [cond])
            lead = "Otherwise, if" if index else "If"
            outcome = self.outcome(body)
            topics = self.condition_topics(test, body)
            priority = 82 if self.has_constant(test) else 74
            names = names_in(test) | self.assigned_names(body)
            if outcome:
                self.add(f"{lead} {full}, {outcome}", priority, names=names, topics=topics)
            elif self.has_constant(test):
                self.add(f"Something different happens when {full}", priority - 6, names=names, topics=topics)
            if depth < 2:
                self.block_facts(body, conds + [cond], depth + 1)
        if else_body:
            outcome = self.outcome(else_body)
            if outcome:
                lead = self.otherwise(branches, conds)
                self.add(f"{lead}, {outcome}", 76, names=self.assigned_names(else_body), context=tested,
                         topics=self.condition_topics(None, else_body))
            if depth < 2:
                self.block_facts(else_body, conds + ["none of that applies"], depth + 1)
        return tested if any(self.ends_with_exit(b) for _, b in branches) else set()

    def otherwise(self, branches: list[tuple[ast.expr, list[ast.stmt]]], conds: list[str]) -> str:
        context = f"When {' and '.join(conds)}, but" if conds else "When"
        if len(branches) == 1:
            negated = self.speaker.negation(branches[0][0])
            if negated and len(negated) < 100:
                return f"{'If' if not conds else context} {negated}".replace("When, but", "If")
        subjects = {self.speaker.say(b[0].left) for b in branches if isinstance(b[0], ast.Compare)}
        if len(subjects) == 1 and all(isinstance(b[0], ast.Compare) for b in branches) and None not in subjects:
            return f"For any other value of {subjects.pop()}"
        return "In any other case"

    @staticmethod
    def ends_with_exit(body: list[ast.stmt]) -> bool:
        return bool(body) and isinstance(body[-1], (ast.Return, ast.Raise))

    def assigned_names(self, body: Sequence[ast.stmt]) -> set[str]:
        found: set[str] = set()
        for stmt in body:
            if isinstance(stmt, ast.Assign):
                found |= {n for t in stmt.targets for n in names_in(t)}
            elif isinstance(stmt, ast.AugAssign):
                found |= names_in(stmt.target)
        return found

    def has_constant(self, node: ast.AST) -> bool:
        return any(isinstance(n, ast.Constant) and n.value is not None for n in ast.walk(node))

    def condition_topics(self, test: ast.AST | None, body: Sequence[ast.stmt]) -> set[str]:
        topics: set[str] = set()
        if test is not None:
            for n in ast.walk(test):
                number = const_number(n) if isinstance(n, (ast.Constant, ast.UnaryOp)) else None
                if number is not None:
                    topics.add("threshold")
                    if number <= 0:
                        topics.add("negative")
                if isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.Not) or \
                        isinstance(n, ast.Compare) and any(isinstance(c, ast.Constant) and c.value in ("", 0, None)
                                                           for c in n.comparators):
                    topics.add("empty")
                if isinstance(n, ast.Constant) and isinstance(n.value, str):
                    topics.add("format")
            if isinstance(test, ast.Name) or isinstance(test, ast.UnaryOp) and isinstance(test.operand, ast.Name):
                topics.add("empty")
        for stmt in body:
            if isinstance(stmt, ast.Return):
                topics.add("return")
            if isinstance(stmt, ast.Raise):
                topics.add("error")
        return topics

    def outcome(self, body: Sequence[ast.stmt]) -> str | None:
        """What a branch does, in words: 'the result should be 'A'', 'liters goes up by 0.5'."""
        phrases: list[str] = []
        for stmt in body:
            if isinstance(stmt, (ast.Pass, ast.Expr)) and not (isinstance(stmt, ast.Expr) and
                                                                is_method_call(stmt.value, "append", "add")):
                continue
            phrase = self.statement(stmt)
            if phrase is None:
                break
            phrases.append(phrase)
            if len(phrases) == 3 or isinstance(stmt, (ast.Return, ast.Raise, ast.Continue, ast.Break)):
                break
        if not phrases:
            return None
        return ", then ".join(phrases) if len(phrases) > 1 else phrases[0]

    def statement(self, stmt: ast.stmt) -> str | None:
        say = self.speaker.say
        if isinstance(stmt, ast.Return):
            if stmt.value is None:
                return "nothing should come back"
            if self.is_condition(stmt.value):
                cond = self.speaker.truth(stmt.value)
                return f"the result should be True only if {cond}" if cond else None
            value = say(stmt.value)
            return f"the result should be {value}" if value else None
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target, value = say(stmt.targets[0]), say(stmt.value)
            return f"{target} is {value}" if target and value else None
        if isinstance(stmt, ast.AugAssign):
            target, value = say(stmt.target), say(stmt.value)
            words = {ast.Add: "goes up by", ast.Sub: "goes down by", ast.Mult: "is multiplied by",
                     ast.Div: "is divided by"}.get(type(stmt.op))
            return f"{target} {words} {value}" if target and value and words else None
        if isinstance(stmt, ast.Raise):
            return self.raise_phrase(stmt)
        if isinstance(stmt, ast.Continue):
            return "that one is skipped"
        if isinstance(stmt, ast.Break):
            return "it stops there"
        if isinstance(stmt, ast.Expr) and is_method_call(stmt.value, "append", "add") and stmt.value.args:  # type: ignore[attr-defined]
            call: ast.Call = stmt.value  # type: ignore[assignment]
            item, owner = say(call.args[0]), say(call.func.value)  # type: ignore[attr-defined]
            return f"{item} is added to {owner}" if item and owner else None
        return None

    def is_condition(self, node: ast.AST) -> bool:
        """A comparison or a combination of tests (not a plain True/False constant)."""
        if isinstance(node, ast.Compare) or isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return True
        return isinstance(node, ast.BoolOp) and self.kind_of(node, {}) == "True or False"

    def raise_phrase(self, stmt: ast.Raise) -> str:
        exc = stmt.exc
        kind = call_name(exc) if isinstance(exc, ast.Call) else exc.id if isinstance(exc, ast.Name) else None
        message = ""
        if isinstance(exc, ast.Call) and exc.args and isinstance(exc.args[0], ast.Constant):
            message = f" saying {exc.args[0].value!r}"
        return f"it should raise a {kind or 'error'}{message}"

    def final_fact(self, stmt: ast.Return, chain_names: set[str]) -> None:
        value = stmt.value
        if value is None or isinstance(value, ast.Name) and value.id not in self.params:
            return
        text = self.statement(stmt)
        if text is None:
            return
        lead = "In any other case, " if chain_names else ""
        self.add(lead + text[0].upper() * (not lead) + text[(not lead):], 74, value, topics={"formula", "return"},
                 context=chain_names)

    def formula_fact(self, stmt: ast.Assign | ast.AugAssign) -> None:
        value = stmt.value
        if self.trivial(value):
            return
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name) \
                and isinstance(value, (ast.Dict, ast.List, ast.Tuple, ast.Set)):
            name = stmt.targets[0].id
            related = {p for n in names_in(value) for p in self.deps.get(n, ())}
            before = len(self.out.facts)
            self.out.add_constant_table(name, value, self.speaker, 80 + self.priority_shift, related)
            if self.prefix:  # helper tables: say which part they belong to
                for i in range(before, len(self.out.facts)):
                    fact = self.out.facts[i]
                    self.out.facts[i] = Fact(self.prefix + decapitalize(fact.text), fact.priority,
                                             fact.order, fact.names, fact.related, fact.topics)
            return
        phrase = self.statement(stmt)
        if phrase is None:
            return
        target = stmt.targets[0] if isinstance(stmt, ast.Assign) else stmt.target
        lead = "I work out " + phrase.replace(" is ", " as ", 1) if isinstance(stmt, ast.Assign) and \
            len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name) else "Then " + phrase
        self.add(lead, 70, names=names_in(target) | names_in(value), topics={"formula"})

    @staticmethod
    def trivial(value: ast.AST) -> bool:
        if isinstance(value, ast.Constant) and value.value in (0, "", None, False, 0.0):
            return True
        if isinstance(value, (ast.List, ast.Dict, ast.Set, ast.Tuple)) and not getattr(value, "elts", getattr(value, "keys", None)):
            return True
        if isinstance(value, ast.Call) and call_name(value) in ("Counter", "defaultdict", "set", "list", "dict") and not value.args:
            return True
        return isinstance(value, ast.Name)

    # -- rounding, clamps, sorting

    def call_facts(self) -> None:
        handled: set[int] = set()
        for node in self.nodes():
            if id(node) in handled:
                continue
            step = step_rounding(node)
            if step is not None:
                self.step_fact(node, step, handled)
                continue
            if not isinstance(node, ast.Call):
                continue
            name = call_name(node)
            if name in ("round", "ceil", "floor", "int", "quantize"):
                self.rounding_fact(node, name)
            elif name in ("min", "max") and len(node.args) == 2:
                self.clamp_fact(node, name, handled)
            elif name in ("sorted", "sort"):
                self.sort_fact(node, name)

    def subject(self, node: ast.AST) -> str:
        """What a rounded/clamped value is: 'the result', a variable, each value of a list..."""
        current, each = node, False
        while True:
            parent = self.parents.get(current)
            if isinstance(parent, ast.Return):
                return "each value in the result" if each else "the result"
            if isinstance(parent, ast.Assign) and len(parent.targets) == 1:
                target = self.speaker.say(parent.targets[0]) or "the value"
                return f"each value of {target}" if each else target
            if isinstance(parent, (ast.ListComp, ast.DictComp, ast.SetComp, ast.GeneratorExp)):
                each = True
            elif is_method_call(parent, "append") and current in parent.args:  # type: ignore
                owner = parent.func.value  # type: ignore[union-attr]
                returned = any(isinstance(r.value, ast.Name) and isinstance(owner, ast.Name) and r.value.id == owner.id
                               for r in self.returns())
                return "each value in the result" if returned else f"each value in {self.speaker.say(owner)}"
            elif not (isinstance(parent, (ast.BinOp, ast.UnaryOp)) or isinstance(parent, ast.Call) and call_name(parent)
                      in ("int", "float", "max", "min", "round", "ceil", "floor", "Fraction", "Decimal")):
                return "the value"
            current = parent

    def step_fact(self, node: ast.AST, step: tuple[str, ast.AST, str], handled: set[int]) -> None:
        handled.update(id(n) for n in ast.walk(node) if isinstance(n, ast.Call) and
                       call_name(n) in ("round", "ceil", "floor", "int"))
        what = self.subject(node)
        topics = {"round"} | ({"return"} if what == "the result" else set())
        self.add(f"I want {what} {step_words(step[0], step[2])}", 79, node, topics=topics)

    def rounding_fact(self, node: ast.Call, name: str | None) -> None:
        what = self.subject(node)
        topics = {"round"} | ({"return"} if what.endswith("the result") else set())
        text = self.rounding_phrase(node, name)
        if text:
            self.add(f"I want {what} {text}", 79, node, topics=topics)

    def rounding_phrase(self, node: ast.Call, name: str | None) -> str | None:
        args = node.args
        parent = self.parents.get(node)
        if name == "quantize":
            places = self.speaker.decimal_places(args[0]) if args else None
            return f"rounded to {places} decimal places (halves up)" if places else None
        if not args:
            return None
        if name in ("ceil", "floor"):
            return f"rounded {'up' if name == 'ceil' else 'down'} to a whole number"
        if name == "round":
            digits = const_number(args[1]) if len(args) > 1 else 0
            if not isinstance(digits, int):
                return None
            if digits >= 5 and isinstance(parent, ast.Call) and call_name(parent) in ("ceil", "floor", "int"):
                return None
            if digits <= 0:
                return "rounded to a whole number" if digits == 0 else f"rounded to the nearest {10 ** -digits}"
            return f"rounded to {digits} decimal place{'s' if digits != 1 else ''}"
        if name == "int" and len(args) == 1:
            arg = args[0]
            if isinstance(arg, ast.BinOp) and isinstance(arg.op, ast.Add) and const_number(arg.right) == 0.5:
                return "rounded to a whole number, with halves going up"
            if any(isinstance(n, ast.BinOp) and isinstance(n.op, ast.FloorDiv) or
                   isinstance(n, ast.Call) and call_name(n) in ("round", "ceil", "floor") for n in ast.walk(arg)):
                return None
            if isinstance(arg, (ast.BinOp, ast.Name)):
                return "cut down to a whole number (dropping any decimals)"
        return None

    def clamp_fact(self, node: ast.Call, name: str, handled: set[int]) -> None:
        limit = next((const_number(a) for a in node.args if const_number(a) is not None), None)
        others = [a for a in node.args if const_number(a) is None]
        if limit is None or len(others) != 1:
            return
        other = others[0]
        what = self.subject(node)
        inner_name = call_name(other)
        if inner_name in ("min", "max") and inner_name != name and len(other.args) == 2:  # type: ignore[attr-defined]
            inner_limit = next((const_number(a) for a in other.args if const_number(a) is not None), None)  # type: ignore[attr-defined]
            if inner_limit is not None:
                handled.add(id(other))
                low, high = sorted([limit, inner_limit])
                self.add(f"I want {what} kept between {say_constant(low)} and {say_constant(high)}", 78, node,
                         topics={"clamp", "threshold"})
                return
        if what == "the value":
            what = self.speaker.say(other) or what
        bound = "never more than" if name == "min" else "never less than"
        self.add(f"I want {what} to be {bound} {say_constant(limit)}", 78, node, topics={"clamp", "threshold"})

    def sort_fact(self, node: ast.Call, name: str) -> None:
        if name == "sort":
            if not isinstance(node.func, ast.Attribute):
                return
            target = node.func.value
        else:
            if not node.args:
                return
            target = node.args[0]
        keywords = {k.arg: k.value for k in node.keywords}
        reverse = isinstance(keywords.get("reverse"), ast.Constant) and keywords["reverse"].value is True  # type: ignore
        what = self.speaker.say(target) or "the items"
        key = keywords.get("key")
        topics = {"sort"}
        if key is None:
            order = "from highest to lowest" if reverse else "in ascending order (lowest first)"
            self.add(f"I want {what} sorted {order}", 78, node, topics=topics)
            return
        parts = self.key_parts(key, reverse)
        if parts is None:
            order = "in descending order" if reverse else "in ascending order"
            self.add(f"I want {what} sorted {order}", 78, node, topics=topics)
            return
        if len(parts) > 1:
            topics.add("tie")
        self.add(f"I want {what} sorted by {', then by '.join(parts)}", 78, node, topics=topics)

    def key_parts(self, key: ast.AST, reverse: bool) -> list[str] | None:
        if isinstance(key, ast.Lambda) and len(key.args.args) == 1:
            speaker = self.speaker.with_aliases({key.args.args[0].arg: "each entry"})
            body = key.body
            elements = body.elts if isinstance(body, ast.Tuple) else [body]
            parts = []
            for element in elements:
                descending = reverse
                if isinstance(element, ast.UnaryOp) and isinstance(element.op, ast.USub):
                    element, descending = element.operand, not reverse
                text = speaker.say(element)
                if text is None:
                    return None
                parts.append(f"{text} ({'highest' if descending else 'lowest'} first)")
            return parts
        text = self.speaker.say(key)
        if text is None:
            return None
        return [f"{text} ({'highest' if reverse else 'lowest'} first)"]

    def format_facts(self) -> None:
        for node in self.nodes():
            if isinstance(node, ast.FormattedValue) and isinstance(node.format_spec, ast.JoinedStr):
                spec = "".join(str(p.value) for p in node.format_spec.values if isinstance(p, ast.Constant))
                value = self.speaker.say(node.value)
                phrase = format_spec_words(spec)
                if value and phrase:
                    self.add(f"In the text, {value} should be {phrase}", 77, node.value, topics={"format", "round"})

    # -- parameters

    def parameter_facts(self) -> None:
        for name in self.params:
            text = self.parameter_sentence(name)
            if text:
                self.add(text, 55, names={name}, topics={"input"})

    def parameter_sentence(self, name: str) -> str | None:
        usage = self.usage[name]
        parts: list[str] = []
        kind = self.kind_phrase(usage)
        plain = [(c, cat) for p, c, cat in usage.compared if not p]
        numbers = [c for c, cat in plain if cat == "number"]
        options = list(dict.fromkeys([c for c, cat in plain if cat == "text"] + usage.options))
        contains = [c for c, cat in plain if cat == "contains"]
        if numbers:
            parts.append(f"the cutoffs that matter for it are {join_words(numbers[:8])}")
        if options:
            parts.append(f"the values that matter are {join_words(options[:8])}")
        if contains:
            parts.append(f"it matters whether it contains {join_words(contains[:6], 'or')}")
        wrapped: dict[str, list[str]] = {}
        for phrase, constant, _ in usage.compared:
            if phrase:
                wrapped.setdefault(phrase, []).append(constant)
        for phrase, constants in list(wrapped.items())[:2]:
            parts.append(f"for {phrase}, {join_words(constants[:6])} {'is' if len(constants) == 1 else 'are'} what matter{'s' if len(constants) == 1 else ''}")
        if usage.methods & {"lower", "upper", "casefold"}:
            parts.append("upper or lower case shouldn't matter")
        if usage.methods & {"strip", "lstrip", "rstrip"}:
            parts.append("extra spaces around it shouldn't matter")
        if kind:
            parts.insert(0, f"I'll pass {name} as {kind}")
        elif parts:
            parts[0] = f"About {name}: {parts[0]}"
        else:
            return None
        text = "; ".join(parts)
        while len(text) > MAX_FACT - 5 and len(parts) > 1:
            parts.pop()
            text = "; ".join(parts)
        return text

    def kind_phrase(self, usage: Usage) -> str | None:
        kind = usage.kind
        if kind == "dict":
            return f"a dictionary with keys like {join_words(usage.keys[:6])}" if usage.keys else "a dictionary"
        if kind in ("list", "seq"):
            element = self.element_phrase(usage)
            if element == "characters":
                return "a text"
            return f"a list of {element}" if element else "a list"
        return {"text": "a text", "number": "a number", "flag": "a yes/no flag (True or False)"}.get(kind or "")

    def element_phrase(self, usage: Usage) -> str | None:
        for target in usage.targets:
            if isinstance(target, ast.Tuple):
                names = [self.speaker.say(e) for e in target.elts]
                if all(names) and len(names) == 2 and "_" not in names:
                    return f"pairs ({names[0]}, {names[1]})"
                return f"groups of {len(target.elts)} values"
            if isinstance(target, ast.Name):
                inner = self.collect_usage(target.id)
                if inner.methods & set(PREDICATE_WORDS):
                    return "characters"
                if inner.kind == "dict" and inner.keys:
                    return f"dictionaries with keys like {join_words(inner.keys[:5])}"
                if inner.kind in ("text", "number"):
                    return {"text": "texts", "number": "numbers"}[inner.kind]
                if inner.kind in ("list", "seq"):
                    return "lists"
        return None


def merge_kinds(kinds: list[str]) -> list[str]:
    """Drops plain kinds that a more detailed one already covers ('a number' next to 'a whole number')."""
    merged = list(dict.fromkeys(kinds))
    numbers = [k for k in merged if k.startswith(("a number", "a whole number"))]
    if len(numbers) > 1:
        keep = next((k for k in numbers if "decimal" in k), "a number")
        merged = [k for k in merged if k not in numbers or k == keep]
        if keep not in merged:
            merged.insert(0, keep)
    for plain, detailed in (("a list", "a list "), ("a dictionary", "a dictionary "), ("an empty list", "a list")):
        if plain in merged and any(k.startswith(detailed) and k != plain for k in merged):
            merged.remove(plain)
    return merged
