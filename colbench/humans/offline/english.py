"""Reading Python out in English: `Speaker` says an expression of the reference in words ("at least",
"divided by", "to the power of"), never as code, and gives up (None) on what it cannot say simply."""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence

MAX_PHRASE = 170


COMPARE_WORDS = {
    ast.Lt: "is less than", ast.LtE: "is at most", ast.Gt: "is more than", ast.GtE: "is at least",
    ast.Eq: "is", ast.NotEq: "is not", ast.Is: "is", ast.IsNot: "is not",
}
FLIPPED = {ast.Lt: ast.Gt, ast.Gt: ast.Lt, ast.LtE: ast.GtE, ast.GtE: ast.LtE}
BINOP_WORDS = {
    ast.Add: "plus", ast.Sub: "minus", ast.Mult: "times", ast.Div: "divided by",
    ast.Pow: "to the power of", ast.RShift: "shifted right by", ast.LShift: "shifted left by",
    ast.BitAnd: "bitwise and", ast.BitOr: "bitwise or", ast.BitXor: "bitwise xor",
}
PRECEDENCE = {ast.Add: 1, ast.Sub: 1, ast.Mult: 2, ast.Div: 2, ast.FloorDiv: 2, ast.Mod: 2, ast.Pow: 3}
TEXT_RESULT_CALLS = {"str", "join", "format", "upper", "lower", "strip", "title", "zfill", "replace", "capitalize",
                     "lstrip", "rstrip", "casefold", "ljust", "rjust", "center", "strftime"}
PASS_THROUGH_CALLS = {"float", "Decimal", "list", "tuple", "iter"}
STR_METHOD_WORDS = {
    "lower": "in lower case", "upper": "in upper case", "casefold": "in lower case",
    "strip": "without surrounding spaces", "title": "in title case", "capitalize": "capitalized",
    "lstrip": "without leading spaces", "rstrip": "without trailing spaces",
}
PREDICATE_WORDS = {
    "isdigit": "is all digits", "isalpha": "is a letter", "isupper": "is upper case",
    "islower": "is lower case", "isalnum": "is a letter or digit", "isspace": "is a space",
    "isnumeric": "is numeric", "isdecimal": "is all digits",
}
ORDINALS = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth"]


def words_of(identifier: str) -> str:
    return " ".join(p for p in identifier.split("_") if p) or identifier


def say_constant(value: object) -> str:
    if isinstance(value, bool):
        return str(value)
    if value is None:
        return "None"
    if isinstance(value, float):
        if value == float("inf"):
            return "infinity"
        if value == float("-inf"):
            return "minus infinity"
        return repr(value)
    if isinstance(value, str):
        special = {" ": "a space", "": "an empty text", "\n": "a newline", "\t": "a tab", ",": "a comma"}
        return special.get(value, repr(value))
    return repr(value) if isinstance(value, (int, bytes)) else str(value)


def is_text_literal(node: ast.AST) -> bool:
    return isinstance(node, ast.JoinedStr) or isinstance(node, ast.Constant) and isinstance(node.value, str)


def is_blank(node: ast.AST) -> bool:
    """0, '', None, False, [], {} or (): a starting value rather than a setting."""
    if isinstance(node, ast.Constant):
        return not node.value
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return not node.elts
    return isinstance(node, ast.Dict) and not node.keys


def decapitalize(text: str) -> str:
    """'If x...' -> 'if x...', but 'I want...' stays."""
    if text.startswith(("I ", "I'")):
        return text
    return text[:1].lower() + text[1:]


def join_words(items: Sequence[str], last: str = "and") -> str:
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + f" {last} " + items[-1]


def const_number(node: ast.AST) -> float | int | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = const_number(node.operand)
        return -inner if inner is not None else None
    return None


def call_name(node: ast.AST) -> str | None:
    """'round', 'ceil' (math.ceil), 'sorted'... for a call, else None."""
    if not isinstance(node, ast.Call):
        return None
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def is_method_call(node: ast.AST, *names: str) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in names


def step_rounding(node: ast.AST) -> tuple[str, ast.AST, str] | None:
    """Rounding to a step: round(x * 4) / 4 -> ('round', x, '0.25'); ceil(x / 5) * 5 -> ('ceil', x, '5');
    (x // 5) * 5 -> ('floor', x, '5'); -(-x // 6) * 6 -> ('ceil', x, '6')."""
    if not isinstance(node, ast.BinOp) or not isinstance(node.op, (ast.Mult, ast.Div)):
        return None
    outer, left = const_number(node.right), node.left
    if outer is None or outer == 0:
        return None
    if isinstance(node.op, ast.Mult) and isinstance(left, ast.BinOp) and isinstance(left.op, ast.FloorDiv) \
            and const_number(left.right) == outer:
        return "floor", left.left, say_constant(outer)
    if isinstance(node.op, ast.Mult) and isinstance(left, ast.UnaryOp) and isinstance(left.op, ast.USub):
        inner = left.operand
        if isinstance(inner, ast.BinOp) and isinstance(inner.op, ast.FloorDiv) and const_number(inner.right) == outer \
                and isinstance(inner.left, ast.UnaryOp) and isinstance(inner.left.op, ast.USub):
            return "ceil", inner.left.operand, say_constant(outer)
    name = call_name(left)
    if name not in ("round", "ceil", "floor") or len(left.args) != 1:  # type: ignore[union-attr]
        return None
    inner = Speaker.unwrap_round(left.args[0])  # type: ignore[union-attr]
    if not isinstance(inner, ast.BinOp) or const_number(inner.right) != outer:
        return None
    if isinstance(inner.op, ast.Mult) and isinstance(node.op, ast.Div):
        return name, inner.left, say_constant(round(1 / outer, 10))
    if isinstance(inner.op, ast.Div) and isinstance(node.op, ast.Mult):
        return name, inner.left, say_constant(outer)
    return None


def step_words(name: str, step: str) -> str:
    return {"ceil": f"rounded up to the next multiple of {step}", "floor": f"rounded down to a multiple of {step}",
            "round": f"rounded to the nearest multiple of {step}"}[name]


class Speaker:
    """Renders expressions as English phrases; returns None for what it cannot say simply."""

    def __init__(self, params: set[str], kinds: dict[str, str], aliases: dict[str, str] | None = None,
                 decimals: dict[str, str] | None = None):
        self.params = params
        self.kinds = kinds  # name -> dict, list, text, number, flag...
        self.aliases = aliases or {}  # name -> how to say it ('each item' for a lambda argument)
        self.decimals = decimals or {}  # name bound to Decimal('0.01') -> '2'

    def with_aliases(self, aliases: dict[str, str]) -> Speaker:
        return Speaker(self.params, self.kinds, {**self.aliases, **aliases}, self.decimals)

    def say(self, node: ast.AST | None) -> str | None:
        if node is None:
            return None
        method = getattr(self, "say_" + type(node).__name__, None)
        text = method(node) if method else None
        if text is None or len(text) > MAX_PHRASE:
            return None
        return text

    def say_all(self, nodes: Sequence[ast.AST]) -> list[str] | None:
        out = [self.say(n) for n in nodes]
        return None if any(t is None for t in out) else out  # type: ignore[return-value]

    # -- leaves

    def say_Constant(self, node: ast.Constant) -> str | None:
        return say_constant(node.value)

    def say_Name(self, node: ast.Name) -> str:
        if node.id in self.aliases:
            return self.aliases[node.id]
        if node.id in self.params:
            return node.id
        if node.id in ("True", "False", "None"):
            return node.id
        return words_of(node.id)

    def say_Attribute(self, node: ast.Attribute) -> str | None:
        if isinstance(node.value, ast.Name) and node.value.id in ("math", "np", "numpy"):
            return {"pi": "pi", "e": "e", "inf": "infinity"}.get(node.attr, words_of(node.attr))
        base = self.say(node.value)
        return f"the {words_of(node.attr)} of {base}" if base else None

    def say_Starred(self, node: ast.Starred) -> str | None:
        return self.say(node.value)

    # -- operators

    def say_BinOp(self, node: ast.BinOp) -> str | None:
        step = step_rounding(node)
        if step is not None:
            value = self.say(step[1])
            return f"{value}, {step_words(step[0], step[2])}" if value else None
        if isinstance(node.op, ast.Add) and (self.is_text(node.left) or self.is_text(node.right)):
            parts = self.say_all([node.left, node.right])
            return f"{parts[0]} followed by {parts[1]}" if parts else None
        if isinstance(node.op, ast.Mod) and self.is_text(node.left):
            parts = self.say_all([node.left, node.right])
            return f"the text {parts[0]} filled in with {parts[1]}" if parts else None
        left, right = self.operand(node.left, node.op, False), self.operand(node.right, node.op, True)
        if left is None or right is None:
            return None
        if isinstance(node.op, ast.FloorDiv):
            return f"{left} divided by {right}, rounded down"
        if isinstance(node.op, ast.Mod):
            return f"the remainder of {left} divided by {right}"
        word = BINOP_WORDS.get(type(node.op))
        return f"{left} {word} {right}" if word else None

    def operand(self, node: ast.AST, op: ast.operator, right: bool) -> str | None:
        text = self.say(node)
        if text is None:
            return None
        if isinstance(node, ast.BinOp):
            mine, theirs = PRECEDENCE.get(type(op), 2), PRECEDENCE.get(type(node.op), 2)
            if theirs < mine or (right and theirs == mine and not isinstance(op, (ast.Add, ast.Mult))) \
                    or isinstance(node.op, (ast.FloorDiv, ast.Mod)):
                return f"({text})"
        return text

    def say_UnaryOp(self, node: ast.UnaryOp) -> str | None:
        if isinstance(node.op, ast.USub):
            inner = node.operand
            if isinstance(inner, ast.BinOp) and isinstance(inner.op, ast.FloorDiv) and \
                    isinstance(inner.left, ast.UnaryOp) and isinstance(inner.left.op, ast.USub):
                parts = self.say_all([inner.left.operand, inner.right])
                return f"{parts[0]} divided by {parts[1]}, rounded up" if parts else None
            number = const_number(node)
            if number is not None:
                return say_constant(number)
            text = self.say(inner)
            return f"minus {text}" if text else None
        if isinstance(node.op, ast.Not):
            return self.negate(node.operand)
        if isinstance(node.op, ast.UAdd):
            return self.say(node.operand)
        return None

    def negate(self, node: ast.AST) -> str | None:
        if isinstance(node, ast.Name) or (isinstance(node, ast.Call) and call_name(node) == "get"):
            text = self.say(node)
            kind = self.kinds.get(node.id) if isinstance(node, ast.Name) else None
            if text is None:
                return None
            if kind in ("list", "dict", "text", "seq"):
                return f"{text} is empty"
            if kind == "number":
                return f"{text} is zero"
            return f"{text} is false"
        if isinstance(node, ast.Call) and call_name(node) in ("isinstance", "any", "all") or \
                is_method_call(node, *PREDICATE_WORDS, "startswith", "endswith"):
            text = self.say(node)
            return f"it's not true that {text}" if text else None
        text = self.say(node)
        return f"not ({text})" if text else None

    def negation(self, node: ast.AST) -> str | None:
        """The opposite of a test, said plainly where it is simple: 'species is not 'cat''."""
        opposite = {ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Lt: ast.GtE, ast.GtE: ast.Lt, ast.Gt: ast.LtE,
                    ast.LtE: ast.Gt, ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is}
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in opposite:
            flipped = ast.Compare(left=node.left, ops=[opposite[type(node.ops[0])]()], comparators=node.comparators)
            return self.say(flipped)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return self.truth(node.operand)
        if isinstance(node, ast.Name):
            return self.negate(node)
        text = self.truth(node)
        return f"it's not true that {text}" if text else None

    def truth(self, node: ast.AST) -> str | None:
        """A test used on its own: 'hot_day is true', 'people is not empty'."""
        if isinstance(node, ast.Name):
            text = self.say(node)
            kind = self.kinds.get(node.id)
            if kind in ("list", "dict", "text", "seq"):
                return f"{text} is not empty"
            if kind == "number":
                return f"{text} is not zero"
            return f"{text} is true"
        if isinstance(node, (ast.Subscript, ast.Attribute)) or isinstance(node, ast.Call) and call_name(node) == "get":
            text = self.say(node)
            return f"{text} is true" if text else None
        if isinstance(node, ast.BoolOp):
            parts = [self.truth(v) for v in node.values]
            if any(p is None for p in parts):
                return None
            word = "and" if isinstance(node.op, ast.And) else "or"
            parts = [f"({p})" if isinstance(v, ast.BoolOp) else p for p, v in zip(parts, node.values)]
            return f" {word} ".join(parts)  # type: ignore[arg-type]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return self.negate(node.operand)
        return self.say(node)

    def say_BoolOp(self, node: ast.BoolOp) -> str | None:
        return self.truth(node)

    def say_Compare(self, node: ast.Compare) -> str | None:
        parts: list[str] = []
        left = node.left
        for op, right in zip(node.ops, node.comparators):
            text = self.compare(left, op, right)
            if text is None:
                return None
            parts.append(text)
            left = right
        return " and ".join(parts)

    def compare(self, left: ast.AST, op: ast.cmpop, right: ast.AST) -> str | None:
        if type(op) in FLIPPED and const_number(left) is not None and const_number(right) is None:
            left, right, op = right, left, FLIPPED[type(op)]()
        if isinstance(op, (ast.In, ast.NotIn)):
            return self.membership(left, isinstance(op, ast.NotIn), right)
        if isinstance(op, (ast.Is, ast.IsNot)) and isinstance(right, ast.Constant) and right.value is None:
            subject = self.say(left)
            return f"{subject} is {'given' if isinstance(op, ast.IsNot) else 'not given (None)'}" if subject else None
        parts = self.say_all([left, right])
        if not parts:
            return None
        return f"{parts[0]} {COMPARE_WORDS[type(op)]} {parts[1]}"

    def membership(self, item: ast.AST, negated: bool, container: ast.AST) -> str | None:
        not_ = " not" if negated else ""
        if isinstance(container, (ast.Tuple, ast.List, ast.Set)):
            subject, options = self.say(item), self.say_all(container.elts)
            if subject and options:
                return f"{subject} is{not_} one of {join_words(options, 'or')}"
            return None
        if isinstance(container, ast.Constant) and isinstance(container.value, str) and len(container.value) > 1 \
                and not isinstance(item, ast.Constant):
            subject = self.say(item)
            return f"{subject} is{not_} one of the characters in {container.value!r}" if subject else None
        if isinstance(item, ast.Constant) and isinstance(item.value, str):
            subject, needle = self.say(container), say_constant(item.value)
            return f"{subject} does{not_} contain {needle}".replace("does contain", "contains") if subject else None
        parts = self.say_all([item, container])
        return f"{parts[0]} is{not_} in {parts[1]}" if parts else None

    def say_IfExp(self, node: ast.IfExp) -> str | None:
        body, test, orelse = self.say(node.body), self.truth(node.test), self.say(node.orelse)
        if body and test and orelse:
            return f"{body} if {test}, otherwise {orelse}"
        return None

    # -- containers

    def say_Tuple(self, node: ast.Tuple) -> str | None:
        items = self.say_all(node.elts)
        return f"({', '.join(items)})" if items is not None else None

    def say_List(self, node: ast.List) -> str | None:
        if not node.elts:
            return "an empty list"
        items = self.say_all(node.elts)
        return f"the list {join_words(items)}" if items else None

    def say_Set(self, node: ast.Set) -> str | None:
        items = self.say_all(node.elts)
        return f"the set {join_words(items)}" if items else None

    def say_Dict(self, node: ast.Dict) -> str | None:
        if not node.keys:
            return "an empty dictionary"
        pairs = self.dict_pairs(node)
        return f"a dictionary with {join_words(pairs)}" if pairs else None

    def dict_pairs(self, node: ast.Dict) -> list[str] | None:
        """'0.1 for 'poor'' for each entry; a nested table is put in parentheses."""
        pairs: list[str] = []
        for key, value in zip(node.keys, node.values):
            k = self.say(key)
            nested = self.dict_pairs(value) if isinstance(value, ast.Dict) and value.keys else None
            v = f"({join_words(nested)})" if nested else self.say(value)
            if k is None or v is None:
                return None
            pairs.append(f"{v} for {k}")
        return pairs

    def say_JoinedStr(self, node: ast.JoinedStr) -> str | None:
        out = []
        for part in node.values:
            if isinstance(part, ast.Constant):
                out.append(str(part.value))
            elif isinstance(part, ast.FormattedValue):
                inner = self.say(part.value)
                out.append("{" + (inner or "...") + "}")
        return "text like '" + "".join(out) + "'"

    def comprehension(self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp) -> tuple[str, str] | None:
        """(element phrase, 'for each X of Y where Z') for a one-generator comprehension."""
        if len(node.generators) != 1:
            return None
        gen = node.generators[0]
        source = self.say(gen.iter)
        if source is None:
            return None
        noun = self.noun_for(gen.iter)
        aliases = {}
        if isinstance(gen.target, ast.Name):
            aliases[gen.target.id] = f"the {noun}"
        inner = self.with_aliases(aliases)
        elt = inner.say(node.elt)
        conds = [inner.truth(c) for c in gen.ifs]
        if elt is None or any(c is None for c in conds):
            return None
        where = f" where {' and '.join(conds)}" if conds else ""  # type: ignore[arg-type]
        return elt, f"for each {noun} of {source}{where}"

    def noun_for(self, iterable: ast.AST) -> str:
        if isinstance(iterable, ast.Name):
            if self.kinds.get(iterable.id) == "text":
                return "character"
            word = words_of(iterable.id).split(" ")[-1]
            if word.endswith("ies") and len(word) > 4:
                return word[:-3] + "y"
            if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
                return word[:-1]
        if is_method_call(iterable, "items"):
            return "entry"
        return "item"

    def say_ListComp(self, node: ast.ListComp) -> str | None:
        gen = node.generators[0]
        if len(node.generators) == 1 and isinstance(node.elt, ast.Name) and isinstance(gen.target, ast.Name) \
                and node.elt.id == gen.target.id:
            noun, source = self.noun_for(gen.iter), self.say(gen.iter)
            conds = [self.with_aliases({gen.target.id: f"the {noun}"}).truth(c) for c in gen.ifs]
            if source is None or None in conds:
                return None
            where = f" where {' and '.join(conds)}" if conds else ""  # type: ignore[arg-type]
            return f"the {noun}s of {source}{where}"
        parts = self.comprehension(node)
        return f"a list of {parts[0]}, {parts[1]}" if parts else None

    def say_SetComp(self, node: ast.SetComp) -> str | None:
        parts = self.comprehension(node)
        return f"the set of {parts[0]}, {parts[1]}" if parts else None

    def say_GeneratorExp(self, node: ast.GeneratorExp) -> str | None:
        parts = self.comprehension(node)
        return f"{parts[0]} {parts[1]}" if parts else None

    def say_DictComp(self, node: ast.DictComp) -> str | None:
        if len(node.generators) != 1:
            return None
        source = self.say(node.generators[0].iter)
        key, value = self.say(node.key), self.say(node.value)
        if source and key and value:
            return f"a dictionary from {key} to {value}, for each entry of {source}"
        return None

    # -- subscripts and calls

    def say_Subscript(self, node: ast.Subscript) -> str | None:
        base = self.say(node.value)
        if base is None:
            return None
        index = node.slice
        if isinstance(index, ast.Slice):
            return self.say_slice(base, index)
        number = const_number(index)
        if isinstance(number, int):
            if number == -1:
                return f"the last item of {base}"
            if 0 <= number < len(ORDINALS):
                return f"the {ORDINALS[number]} item of {base}"
        if isinstance(index, ast.Constant) and isinstance(index.value, str):
            return f"the {index.value!r} entry of {base}"
        key = self.say(index)
        return f"the entry of {base} for {key}" if key else None

    def say_slice(self, base: str, index: ast.Slice) -> str | None:
        lower, upper, step = (const_number(x) if x is not None else None for x in (index.lower, index.upper, index.step))
        if index.lower is None and index.upper is None and step == -1:
            return f"{base} reversed"
        if index.step is not None:
            return None
        if index.lower is None and isinstance(upper, int):
            if upper in (1, -1):
                return f"the first item of {base}" if upper > 0 else f"{base} without its last item"
            return f"the first {upper} items of {base}" if upper > 0 else f"{base} without its last {-upper} items"
        if index.upper is None and isinstance(lower, int):
            return f"{base} from item {lower + 1} on" if lower >= 0 else f"the last {-lower} items of {base}"
        parts = [self.say(index.lower) if index.lower is not None else "the start",
                 self.say(index.upper) if index.upper is not None else "the end"]
        if None in parts:
            return None
        return f"the part of {base} from position {parts[0]} to {parts[1]}"

    def say_Lambda(self, node: ast.Lambda) -> str | None:
        aliases = {a.arg: "each entry" for a in node.args.args}
        return self.with_aliases(aliases).say(node.body)

    def say_Call(self, node: ast.Call) -> str | None:
        name = call_name(node)
        if isinstance(node.func, ast.Attribute) and not (
                isinstance(node.func.value, ast.Name) and node.func.value.id in ("math", "np", "numpy", "statistics")):
            return self.say_method(node, node.func)
        args = node.args
        if name in PASS_THROUGH_CALLS and len(args) == 1:
            arg = args[0]
            if isinstance(arg, ast.Call) and call_name(arg) == "str" and len(arg.args) == 1:
                arg = arg.args[0]  # Decimal(str(x)) is just x
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                try:
                    return say_constant(float(arg.value)) if "." in arg.value or "inf" in arg.value.lower() \
                        else say_constant(int(arg.value))
                except ValueError:
                    return None
            return self.say(arg)
        if name == "divmod" and len(args) == 2:
            parts = self.say_all(args)
            return f"the whole part and the remainder of {parts[0]} divided by {parts[1]}" if parts else None
        if name == "sorted" and args:
            inner = self.say(args[0])
            return f"{inner} sorted" if inner else None
        if name == "str" and len(args) == 1:
            inner = self.say(args[0])
            return f"{inner} as text" if inner else None
        if name == "round" and args:
            return self.say_round(node)
        if name in ("ceil", "floor") and len(args) == 1:
            inner = self.unwrap_round(args[0])
            text = self.wrapped(inner)
            return f"{text} rounded {'up' if name == 'ceil' else 'down'}" if text else None
        if name == "int" and len(args) == 1:
            text = self.wrapped(args[0])
            if text is None:
                return None
            return text if isinstance(args[0], ast.Call) and call_name(args[0]) in ("round", "ceil", "floor") \
                else f"{text} as a whole number"
        one_arg = {"len": "the length of {}", "sum": "the sum of {}", "abs": "the absolute value of {}",
                   "sqrt": "the square root of {}", "sorted": "{} sorted", "set": "the distinct items of {}",
                   "reversed": "{} reversed", "any": "{}", "all": "{}", "log": "the logarithm of {}",
                   "exp": "e to the power of {}", "mean": "the average of {}", "median": "the median of {}",
                   "bool": "{}", "dict": "{} as a dictionary", "enumerate": "{} with positions"}
        if name in ("any", "all") and len(args) == 1 and isinstance(args[0], ast.GeneratorExp):
            return self.say_quantifier(name, args[0])
        if name in one_arg and len(args) == 1 and not node.keywords:
            inner = self.say(args[0])
            return one_arg[name].format(inner) if inner else None
        if name in ("min", "max") and len(args) >= 2:
            items = self.say_all(args)
            word = "smaller" if name == "min" else "larger"
            if items and len(items) == 2:
                return f"the {word} of {items[0]} and {items[1]}"
            return f"the {'smallest' if name == 'min' else 'largest'} of {join_words(items)}" if items else None
        if name in ("min", "max") and len(args) == 1:
            inner = self.say(args[0])
            return f"the {'smallest' if name == 'min' else 'largest'} of {inner}" if inner else None
        if name == "isinstance" and len(args) == 2:
            subject, kind = self.say(args[0]), self.type_word(args[1])
            return f"{subject} is {kind}" if subject and kind else None
        if name == "range" and args:
            items = self.say_all(args)
            if items is None:
                return None
            return f"the numbers up to {items[0]}" if len(items) == 1 else f"the numbers from {items[0]} up to {items[1]}"
        if name in ("Counter", "defaultdict") and not args:
            return "an empty count"
        if name in ("set", "list", "dict") and not args:
            return {"set": "an empty set", "list": "an empty list", "dict": "an empty dictionary"}[name]
        if name == "timedelta":
            parts = [f"{self.say(k.value)} {k.arg}" for k in node.keywords if k.arg and self.say(k.value)]
            return join_words(parts) if parts and len(parts) == len(node.keywords) else None
        if name == "Fraction" and len(args) == 2:
            parts = self.say_all([self.unwrap_round(args[0]), args[1]])
            return f"the fraction {parts[0]} over {parts[1]}" if parts else None
        if name == "Fraction" and len(args) == 1:
            inner = self.say(args[0])
            return f"the fraction {inner}" if inner else None
        return self.say_generic_call(name, node)

    def say_generic_call(self, name: str | None, node: ast.Call) -> str | None:
        if name is None:
            return None
        items = self.say_all(list(node.args) + [k.value for k in node.keywords])
        if items is None:
            return None
        return f"{words_of(name)} of {join_words(items)}" if items else words_of(name)

    def type_word(self, node: ast.AST) -> str | None:
        names = {"int": "a whole number", "float": "a decimal number", "str": "a text", "list": "a list",
                 "dict": "a dictionary", "tuple": "a tuple", "bool": "True or False", "set": "a set"}
        if isinstance(node, ast.Name):
            return names.get(node.id, f"a {words_of(node.id)}")
        if isinstance(node, ast.Tuple):
            words = [self.type_word(e) for e in node.elts]
            return join_words(words, "or") if all(words) else None  # type: ignore[arg-type]
        return None

    def say_quantifier(self, name: str, gen: ast.GeneratorExp) -> str | None:
        if len(gen.generators) != 1 or gen.generators[0].ifs:
            return None
        comp = gen.generators[0]
        source = self.say(comp.iter)
        if source is None or not isinstance(comp.target, ast.Name):
            return None
        noun = self.noun_for(comp.iter)
        subject = f"{'some' if name == 'any' else 'every'} {noun} of {source}"
        return self.with_aliases({comp.target.id: subject}).truth(gen.elt)

    def say_round(self, node: ast.Call) -> str | None:
        value = self.wrapped(node.args[0])
        if value is None:
            return None
        digits = const_number(node.args[1]) if len(node.args) > 1 else None
        if len(node.args) == 1 or digits == 0:
            return f"{value} rounded to a whole number"
        if isinstance(digits, int):
            return f"{value} rounded to {digits} decimal place{'s' if digits != 1 else ''}"
        return None

    @staticmethod
    def unwrap_round(node: ast.AST) -> ast.AST:
        """round(x, 6) inside ceil/floor only fixes float noise: read it as x."""
        if isinstance(node, ast.Call) and call_name(node) == "round" and len(node.args) == 2:
            digits = const_number(node.args[1])
            if isinstance(digits, int) and digits >= 5:
                return node.args[0]
        return node

    def say_method(self, node: ast.Call, func: ast.Attribute) -> str | None:
        method, owner, args = func.attr, func.value, node.args
        if method == "join" and isinstance(owner, ast.Constant) and len(args) == 1:
            inner = self.say(args[0])
            return f"{inner} joined with {say_constant(owner.value)}" if inner else None
        if method == "format" and isinstance(owner, ast.Constant):
            items = self.say_all(args)
            return f"the text {owner.value!r} filled in with {join_words(items)}" if items is not None else None
        if isinstance(owner, ast.Name) and owner.id in ("re", "os", "sys", "json"):
            return None  # regular expressions and the like cannot be said simply
        base = self.say(owner)
        if base is None:
            return None
        if method in STR_METHOD_WORDS and not args:
            return f"{base} {STR_METHOD_WORDS[method]}"
        if method in PREDICATE_WORDS and not args:
            return f"{base} {PREDICATE_WORDS[method]}"
        if method == "get" and args:
            key = self.say(args[0])
            default = self.say(args[1]) if len(args) > 1 else None
            if key is None:
                return None
            what = f"the {args[0].value!r} entry of {base}" if isinstance(args[0], ast.Constant) and \
                isinstance(args[0].value, str) else f"the entry of {base} for {key}"
            return f"{what} (or {default} if there is none)" if default else what
        if method in ("startswith", "endswith") and len(args) == 1:
            needle = self.say(args[0])
            return f"{base} {method.replace('with', ' with')} {needle}" if needle else None
        if method == "split":
            if not args:
                return f"the words of {base}"
            sep = self.say(args[0])
            return f"{base} split at {sep}" if sep else None
        if method == "replace" and len(args) == 2:
            items = self.say_all(args)
            return f"{base} with {items[0]} replaced by {items[1]}" if items else None
        if method in ("items", "keys", "values") and not args:
            return {"items": f"the entries of {base}", "keys": f"the keys of {base}",
                    "values": f"the values of {base}"}[method]
        if method == "count" and len(args) == 1:
            item = self.say(args[0])
            return f"how many times {item} appears in {base}" if item else None
        if method == "zfill" and len(args) == 1:
            width = self.say(args[0])
            return f"{base} padded with zeros to {width} digits" if width else None
        if method == "quantize" and args:
            return f"{base}, rounded to {self.decimal_places(args[0]) or 'a fixed number of'} decimal places"
        if method == "weekday":
            return f"the weekday number of {base}"
        items = self.say_all(args)
        if items is None:
            return None
        tail = f" with {join_words(items)}" if items else ""
        return f"{base} after {words_of(method)}{tail}"

    def decimal_places(self, node: ast.AST) -> str | None:
        if isinstance(node, ast.Call) and call_name(node) == "Decimal" and node.args and \
                isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            text = node.args[0].value
            return str(len(text.split(".")[1])) if "." in text else "0"
        if isinstance(node, ast.Name):
            return self.decimals.get(node.id)
        return None

    def is_text(self, node: ast.AST) -> bool:
        if isinstance(node, ast.Constant):
            return isinstance(node.value, str)
        if isinstance(node, ast.JoinedStr):
            return True
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return self.is_text(node.left) or self.is_text(node.right)
        if isinstance(node, ast.Call):
            return call_name(node) in TEXT_RESULT_CALLS
        if isinstance(node, ast.Name):
            return self.kinds.get(node.id) == "text"
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice):
            return self.is_text(node.value)
        return False

    def wrapped(self, node: ast.AST) -> str | None:
        """An operand that a phrase follows: '(a plus b) rounded to ...' keeps the grouping."""
        text = self.say(node)
        return f"({text})" if text and isinstance(node, (ast.BinOp, ast.IfExp)) and step_rounding(node) is None \
            else text


def format_spec_words(spec: str) -> str | None:
    m = re.fullmatch(r"([<>^]?)(0?)(\d*)(,?)(?:\.(\d+))?([dfse%]?)", spec)
    if not m:
        return None
    _, zero, width, comma, precision, kind = m.groups()
    words: list[str] = []
    if precision is not None:
        unit = "a percentage with " if kind == "%" else ""
        words.append(f"{unit}exactly {precision} decimal place{'s' if precision != '1' else ''}")
    if zero and width:
        words.append(f"padded with zeros to {width} digits")
    elif width:
        words.append(f"padded to {width} characters")
    if comma:
        words.append("written with thousands separators")
    return join_words(words) if words else None
