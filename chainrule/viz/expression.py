"""A small arithmetic language for ``chainrule explain``: parsed by hand, never evaluated as Python.

The grammar, from loosest to tightest binding (as in Python, so ``-x**2`` is ``-(x**2)``
and ``2**-1`` is 0.5)::

    expression := term (("+" | "-") term)*
    term       := unary (("*" | "/") unary)*
    unary      := ("-" | "+") unary | power
    power      := primary ("**" unary)?          # right-associative: 2**3**2 = 2**9
    primary    := NUMBER | NAME | FUNCTION "(" arguments ")" | "(" expression ")"

Numbers are ints, decimals or e-notation (``1e-3``); names are identifiers; the
functions are a fixed list (``FUNCTIONS``). Every error names the column where the
text went wrong and shows it with a caret. Nesting deeper than ``MAX_DEPTH`` is
refused, so no input can exhaust Python's stack.

``build`` turns the tree into a chainrule graph with the gates the reference text
uses: ``1/x`` is a Reciprocal gate, ``1+x`` an AddConstant, ``-x`` a Scale by -1
(the text's "negative gain" node), ``exp`` an Exp gate. Parts without variables
are computed once, as plain numbers.
"""

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import cast

from .. import gates
from ..backend import xp
from ..tensor import Tensor, tensor

MAX_DEPTH = 100

#: The functions an expression may call, with their number of arguments.
FUNCTIONS = {
    "exp": 1,
    "log": 1,
    "sqrt": 1,
    "tanh": 1,
    "sigmoid": 1,
    "relu": 1,
    "abs": 1,
    "sin": 1,
    "cos": 1,
    "max": 2,
    "min": 2,
}

_APPLY: dict[str, Callable[..., Tensor]] = {
    "exp": gates.exp,
    "log": gates.log,
    "sqrt": gates.sqrt,
    "tanh": gates.tanh,
    "sigmoid": gates.sigmoid,
    "relu": gates.relu,
    "abs": gates.abs,
    "sin": gates.sin,
    "cos": gates.cos,
    "max": gates.maximum,
    "min": gates.minimum,
}

_NUMBER = re.compile(r"(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_NAME = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")
_OPERATORS = ("**", "+", "-", "*", "/", "(", ")", ",")


class ExpressionError(ValueError):
    """A malformed expression: the message, then the expression with a caret under the bad column."""

    def __init__(self, message: str, text: str, column: int) -> None:
        self.message, self.text, self.column = message, text, column
        super().__init__(f"{message} (column {column + 1})\n  {text}\n  {' ' * column}^")


@dataclass(frozen=True)
class Token:
    kind: str  # "number", "name", "op" or "end"
    text: str
    column: int


@dataclass(frozen=True)
class Number:
    value: float
    column: int


@dataclass(frozen=True)
class Variable:
    name: str
    column: int


@dataclass(frozen=True)
class Unary:
    op: str
    operand: "Node"
    column: int


@dataclass(frozen=True)
class Binary:
    op: str
    left: "Node"
    right: "Node"
    column: int


@dataclass(frozen=True)
class Call:
    function: str
    arguments: tuple["Node", ...]
    column: int


#: A node of the parsed tree.
Node = Number | Variable | Unary | Binary | Call


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char in " \t":
            i += 1
            continue
        number = _NUMBER.match(text, i)
        if number:
            end = number.end()
            if end < len(text) and (text[end].isalnum() or text[end] in "_."):
                raise ExpressionError(f"unexpected {text[end]!r} right after the number {number.group(0)}", text, end)
            tokens.append(Token("number", number.group(0), i))
            i = end
            continue
        name = _NAME.match(text, i)
        if name:
            if name.group(0).startswith("__"):
                raise ExpressionError(f"names starting with '__' are not allowed ({name.group(0)!r})", text, i)
            tokens.append(Token("name", name.group(0), i))
            i = name.end()
            continue
        operator = next((op for op in _OPERATORS if text.startswith(op, i)), None)
        if operator is None:
            hint = "; write powers with **" if char == "^" else ""
            raise ExpressionError(f"unexpected character {char!r}{hint}", text, i)
        tokens.append(Token("op", operator, i))
        i += len(operator)
    tokens.append(Token("end", "", len(text)))
    return tokens


def parse(text: str) -> Node:
    """The expression as a tree of Number, Variable, Unary, Binary and Call nodes."""
    if not isinstance(text, str):
        raise TypeError(f"parse: expects the expression as a string, got {type(text).__name__}")
    if not text.strip():
        raise ExpressionError("the expression is empty", text, 0)
    return _Parser(text).parse()


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.position = 0

    @property
    def token(self) -> Token:
        return self.tokens[self.position]

    def error(self, message: str, token: Token | None = None) -> ExpressionError:
        return ExpressionError(message, self.text, (token or self.token).column)

    def take(self, *ops: str) -> Token | None:
        if self.token.kind == "op" and self.token.text in ops:
            self.position += 1
            return self.tokens[self.position - 1]
        return None

    def expect(self, op: str, opened: Token | None = None) -> None:
        if self.take(op) is None:
            where = f" to close the '(' at column {opened.column + 1}" if opened else ""
            raise self.error(f"expected {op!r}{where}, found {_describe(self.token)}")

    def parse(self) -> Node:
        tree = self.expression(0)
        if self.token.kind != "end":
            raise self.error(f"unexpected {_describe(self.token)} after a complete expression")
        return tree

    def expression(self, depth: int) -> Node:
        left: Node = self.term(depth)
        while (op := self.take("+", "-")) is not None:
            left = Binary(op.text, left, self.term(depth), op.column)
        return left

    def term(self, depth: int) -> Node:
        left: Node = self.unary(depth)
        while (op := self.take("*", "/")) is not None:
            left = Binary(op.text, left, self.unary(depth), op.column)
        return left

    def unary(self, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise self.error(f"the expression nests too deeply (more than {MAX_DEPTH} levels)")
        op = self.take("-", "+")
        if op is not None:
            return Unary(op.text, self.unary(depth + 1), op.column)
        return self.power(depth)

    def power(self, depth: int) -> Node:
        base = self.primary(depth)
        op = self.take("**")
        if op is not None:
            return Binary("**", base, self.unary(depth + 1), op.column)
        return base

    def primary(self, depth: int) -> Node:
        token = self.token
        if token.kind == "number":
            self.position += 1
            return Number(float(token.text), token.column)
        if token.kind == "name":
            self.position += 1
            if token.text in FUNCTIONS:
                return self.call(token, depth)
            if self.token.kind == "op" and self.token.text == "(":
                known = ", ".join(FUNCTIONS)
                raise self.error(f"unknown function {token.text!r} (known: {known})", token)
            return Variable(token.text, token.column)
        opened = self.take("(")
        if opened is not None:
            inside = self.expression(depth + 1)
            self.expect(")", opened)
            return inside
        if token.kind == "end":
            raise self.error("the expression ends too early: expected a number, a variable, a function or '('")
        raise self.error(f"expected a number, a variable, a function or '(', found {_describe(token)}")

    def call(self, name: Token, depth: int) -> Call:
        opened = self.token
        if self.take("(") is None:
            raise self.error(f"{name.text!r} is a function: write {name.text}(...)", name)
        arguments = [self.expression(depth + 1)]
        while self.take(",") is not None:
            arguments.append(self.expression(depth + 1))
        self.expect(")", opened)
        wanted = FUNCTIONS[name.text]
        if len(arguments) != wanted:
            raise self.error(
                f"{name.text}() takes {wanted} argument{'s' if wanted > 1 else ''}, got {len(arguments)}", name
            )
        return Call(name.text, tuple(arguments), name.column)


def _describe(token: Token) -> str:
    return "the end of the expression" if token.kind == "end" else repr(token.text)


def _children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, Call):
        return node.arguments
    return ()


def _post_order(tree: Node) -> list[Node]:
    """Every node, children before parents, left to right; no recursion (long sums make deep trees)."""
    order: list[Node] = []
    stack = [(tree, False)]
    while stack:
        node, children_done = stack.pop()
        if children_done:
            order.append(node)
            continue
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(_children(node)))
    return order


def variables(tree: Node) -> list[str]:
    """The variable names in order of first appearance."""
    return list(dict.fromkeys(node.name for node in _post_order(tree) if isinstance(node, Variable)))


def build(tree: Node, text: str, values: Mapping[str, Tensor]) -> Tensor | float:
    """Evaluate the tree with chainrule gates; ``values`` maps each variable name to its Tensor.

    Returns a Tensor, or a float when the expression has no variables.
    """
    results: dict[int, Tensor | float] = {}
    for node in _post_order(tree):
        args = [results[id(child)] for child in _children(node)]
        results[id(node)] = _apply(node, args, text, values)
    return results[id(tree)]


def _apply(node: Node, args: list[Tensor | float], text: str, values: Mapping[str, Tensor]) -> Tensor | float:
    if isinstance(node, Number):
        return node.value
    if isinstance(node, Variable):
        return values[node.name]
    constant = not any(isinstance(a, Tensor) for a in args)
    if constant:  # fold to a plain number, computed by the same gates in float64
        args = [tensor(a, dtype=xp.float64) for a in args]
    with xp.errstate(all="ignore"):  # nan and inf show up in the values, as in NumPy
        result = _operate(node, args)
    return float(cast(Tensor, result).item()) if constant else result  # constant: the args are Tensors


def _operate(node: Unary | Binary | Call, args: Sequence[Tensor | float]) -> Tensor | float:
    if isinstance(node, Unary):
        return args[0] if node.op == "+" else -1 * args[0]  # a Scale gate by -1: the text's "negative gain"
    if isinstance(node, Binary):
        left, right = args
        if node.op == "+":
            return left + right
        if node.op == "-":
            return left - right
        if node.op == "*":
            return left * right
        if node.op == "/":
            return left / right
        return left**right
    return _APPLY[node.function](*args)


def compile_expression(text: str, assignments: Mapping[str, float]) -> tuple[Tensor, dict[str, Tensor]]:
    """Parse ``text`` and build its graph with float64 leaves named after the variables.

    ``assignments`` maps every variable to a number. Returns ``(output, leaves)``
    where ``leaves`` maps names to their Tensors, in order of first appearance.
    """
    tree = parse(text)
    names = variables(tree)
    missing = [n for n in names if n not in assignments]
    if missing:
        raise ValueError(
            f"no value for variable{'s' if len(missing) > 1 else ''} {', '.join(missing)}; "
            f"give {'them' if len(missing) > 1 else 'it'} as NAME=NUMBER, e.g. {missing[0]}=1.5"
        )
    unknown = [n for n in assignments if n not in names]
    if unknown:
        known = ", ".join(names) if names else "none"
        raise ValueError(
            f"{', '.join(unknown)} {'do' if len(unknown) > 1 else 'does'} not appear in the "
            f"expression (its variables: {known})"
        )
    if not names:
        raise ValueError("the expression has no variables, so there is nothing to differentiate")
    leaves = {n: tensor(float(assignments[n]), requires_grad=True, dtype=xp.float64, name=n) for n in names}
    output = build(tree, text, leaves)
    if not isinstance(output, Tensor) or output.gate is None:
        raise ValueError("the expression does not depend on its variables, so there is nothing to differentiate")
    return output, leaves


def parse_assignments(items: Iterable[str]) -> dict[str, float]:
    """``["w0=2", "x0=-1"]`` -> ``{"w0": 2.0, "x0": -1.0}``, with clear errors for anything else."""
    values: dict[str, float] = {}
    for item in items:
        name, equals, number = item.partition("=")
        name = name.strip()
        if not equals or not _NAME.fullmatch(name):
            raise ValueError(f"cannot read {item!r}: write each value as NAME=NUMBER, e.g. x0=-1.5")
        try:
            value = float(number)
        except ValueError:
            raise ValueError(f"the value of {name} is not a number: {number!r}") from None
        if not math.isfinite(value):
            raise ValueError(f"the value of {name} must be a finite number, got {number!r}")
        if name in values:
            raise ValueError(f"{name} is given twice")
        values[name] = value
    return values
