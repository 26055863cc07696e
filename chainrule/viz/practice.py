"""Practice: the learner works the forward and backward pass out by hand, and each answer is checked.

The reference text teaches by having the reader compute every number of its graphs,
gate by gate. ``practice(formula, at=...)`` asks for the same numbers:

* forward, in the order the gates run: each gate's value (``mul: x = w0 = 2.00,
  y = x0 = -1.00; x*y = ?``);
* backward, in the order ``explain`` tells it: for each input of each gate, the local
  derivative, then the gradient the gate sends to it (local derivative times upstream).

An answer counts when it is within one unit of the last decimal shown (``digits``),
so a learner who multiplies rounded numbers is not marked wrong. Answers may be
arithmetic on numbers ("2*0.2", "exp(-1)"), read by the same safe parser as
formulas. A wrong answer gets, in turn, the gate's rule (``d/dx e^x = e^x``), the
rule with the numbers filled in, and the answer. The questions, hints and answers all
come from ``explain``'s steps, so practice and explanation cannot disagree.

``practice`` returns a :class:`Practice`: ``.questions`` to check one by one
(``question.check("0.39")``), ``.run()`` to ask them with ``input()`` (or from a stream
of answers, one per line), ``.score`` and ``.explanation`` for the end.
"""

import math
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, overload

from ..autograd import Gate
from ..tensor import Tensor
from ..types import TensorLike
from .explanation import Explanation, explain, input_text, right_side, substitute
from .expression import ExpressionError, build, compile_expression, parse
from .graph import Trace, trace
from .letters import gate_letters, graph_names
from .page import inline
from .text import number, product, shown_equation

HINT_LEADS = ("The rule: ", "With the numbers: ", "")  # before each hint, in turn
CHAIN_RULE = "the chain rule: the gradient sent to an input = local derivative * upstream gradient"


@dataclass
class Verdict:
    """What checking one answer said: right or not, what to tell the learner, and whether the question is over."""

    correct: bool
    message: str
    done: bool


@dataclass
class Question:
    """One number to work out: a gate's value, a local derivative or a gradient sent to an input."""

    number: int
    kind: str  # "value", "local" or "sent"
    gate: str  # the gate's label: "mul", "exp", "1/x"
    node_id: str  # the gate's node in pictures and in the page ("gate3")
    prompt: str
    answer: float
    hints: tuple[str, ...]  # the rule, the rule with the numbers filled in, then the answer
    digits: int
    attempts: int = 0
    solved: bool | None = None  # True: answered right; False: the answer was shown; None: still open
    position: int | None = None  # for "local" and "sent": which input of the gate the question is about

    @property
    def done(self) -> bool:
        """Whether the question is over: answered right, or its answer shown."""
        return self.solved is not None

    @property
    def answer_text(self) -> str:
        """The answer as shown, at the question's digits."""
        return number(self.answer, self.digits)

    def is_right(self, answer: float | str) -> bool:
        """Whether ``answer`` (a number, or text such as "0.39" or "2*0.2") is within one unit of the last decimal."""
        value = read_answer(answer)
        if not math.isfinite(self.answer):
            return value == self.answer or (math.isnan(value) and math.isnan(self.answer))
        tolerance: float = 10**-self.digits * (1 + 1e-9)
        return abs(value - self.answer) <= tolerance

    def check(self, answer: float | str) -> Verdict:
        """Check one attempt; returns a :class:`Verdict` whose message is the next hint when it is wrong.

        Text that is not a number raises ValueError and does not count as an attempt.
        """
        if self.done:
            raise ValueError(f"question {self.number} is already over (the answer is {self.answer_text})")
        right = self.is_right(answer)
        self.attempts += 1
        if right:
            self.solved = True
            return Verdict(True, f"right: {self.answer_text}", True)
        hint = self.hints[min(self.attempts, len(self.hints)) - 1]
        self.solved = False if self.attempts >= len(self.hints) else None
        return Verdict(False, f"not right. {HINT_LEADS[self.attempts - 1]}{hint}", self.done)


def read_answer(answer: float | str) -> float:
    """An answer as a float: a number, "nan"/"inf", or arithmetic on numbers ("2*0.2", "exp(-1)")."""
    if isinstance(answer, (int, float)) and not isinstance(answer, bool):
        return float(answer)
    text = str(answer).strip()
    if text.lower().lstrip("+-") in ("nan", "inf", "infinity"):
        return float(text)
    value: Tensor | float | None
    try:
        value = build(parse(text), text, {})
    except ExpressionError as error:
        raise ValueError(f"cannot read {text!r} as a number: {error.message}") from None
    except KeyError:  # a name: build looks variables up
        value = None
    if not isinstance(value, float):
        raise ValueError(
            f"cannot read {text!r} as a number: write a number, or arithmetic on numbers such as 2*0.2 or exp(-1)"
        )
    return value


@dataclass
class Practice:
    """The questions for one graph, in the order they are asked, and the explanation to show at the end."""

    title: str
    givens: str  # the values the learner starts from: "w0 = 2.00, x0 = -1.00, ..."
    digits: int
    questions: list[Question]
    explanation: Explanation  # the Explanation of the same backward pass
    output_value: float = field(default=0.0)
    trace: Trace | None = field(default=None, repr=False)  # the graph walked (a Trace), for the page's picture

    def __len__(self) -> int:
        return len(self.questions)

    def __iter__(self) -> Iterator[Question]:
        return iter(self.questions)

    @overload
    def __getitem__(self, index: int) -> Question: ...
    @overload
    def __getitem__(self, index: slice) -> list[Question]: ...
    def __getitem__(self, index: int | slice) -> Question | list[Question]:
        return self.questions[index]

    def _repr_html_(self) -> str:
        """In Jupyter: the practice page itself, inline (an iframe holding the self-contained page)."""
        from .practice_page import practice_html  # the page module imports this one

        return inline(practice_html(self), 760)

    @property
    def score(self) -> tuple[int, int]:
        """``(right the first time, number of questions)``."""
        return sum(q.solved is True and q.attempts == 1 for q in self.questions), len(self.questions)

    def score_text(self) -> str:
        """The score in words: right the first time, after a hint, answers shown, not answered."""
        first, total = self.score
        later = sum(q.solved is True and q.attempts > 1 for q in self.questions)
        shown = sum(q.solved is False for q in self.questions)
        open_ = sum(q.solved is None for q in self.questions)
        parts = [f"{later} more after a hint", f"{shown} answer{'s' if shown != 1 else ''} shown"]
        if open_:
            parts.append(f"{open_} not answered")
        return f"Score: {first} of {total} right the first time ({', '.join(parts)})"

    def run(self, answers: Iterable[str] | None = None, file: IO[str] | None = None) -> tuple[int, int]:
        """Ask every open question, check the answers, give hints; then print the score and the explanation.

        ``answers`` is an iterable of lines (a file, ``io.StringIO``, a list); without it
        the learner is asked with ``input()``. Answers read from ``answers`` are echoed,
        so the transcript reads like a session. Running out of answers ends the practice
        early. Returns the score, as ``score``.
        """
        file = sys.stdout if file is None else file
        lines = None if answers is None else iter(answers)
        say = _printer(file)
        say(f"Practice: {self.title}")
        say(f"at {self.givens}")
        say(f"Answers within {10**-self.digits:g} count; arithmetic such as 2*0.2 is fine.")
        try:
            for question in self.questions:
                if not question.done:
                    _ask(question, lines, say)
        except EOFError:
            say("(no more answers)")
        say("")
        say(self.score_text())
        say("")
        say(self.explanation.text())
        return self.score


def _printer(file: IO[str]) -> Callable[[str], None]:
    def say(text: str) -> None:
        print(text, file=file, flush=True)

    return say


def _ask(question: Question, lines: Iterator[str] | None, say: Callable[[str], None]) -> None:
    say("")
    say(f"{question.number}. {question.prompt}")
    while not question.done:
        text: str | None
        if lines is None:
            text = input("> ")
        else:
            text = next(lines, None)
            if text is None:
                raise EOFError
            text = text.strip()
            say(f"> {text}")
        try:
            verdict = question.check(text)
        except ValueError as error:
            say(f"  {error}; try again")
            continue
        say(f"  {verdict.message}")


def practice(
    formula: str | Tensor,
    at: dict[str, float] | None = None,
    *,
    digits: int = 2,
    gradient: TensorLike | None = None,
) -> Practice:
    """Questions that walk the learner through the forward and backward pass of ``formula``.

    ``formula`` is a string in the ``chainrule explain`` language with ``at`` mapping
    each variable to its value (``practice("(x+y)*z", at={"x": -2, "y": 5, "z": -4})``),
    or a one-element Tensor with a graph of one-number gates behind it. Answers are
    checked to ``digits`` decimals. Returns a :class:`Practice`; ``.run()`` asks the
    questions interactively.
    """
    if isinstance(digits, bool) or not isinstance(digits, int) or not 0 <= digits <= 15:
        raise ValueError(f"practice: digits must be a whole number from 0 to 15, got {digits!r}")
    if isinstance(formula, str):
        output, _ = compile_expression(formula, _values(at))
        title = f"f = {formula.strip()}"
    elif isinstance(formula, Tensor):
        if at is not None:
            raise ValueError("practice: at= gives the values of a formula's variables; a Tensor has its values")
        output, title = formula, f"{formula.name or 'the output'} of the graph"
    else:
        raise TypeError(f"practice: expects a formula (str) or a Tensor, got {type(formula).__name__}")
    walk = trace(output, gradient, where="practice", gradients="required")
    if any(wire.value.size != 1 for wire in walk.wires):
        raise ValueError(
            "practice: every value in the graph must be a single number (the gates of the reference "
            "text); for tensors, read explain(output)"
        )
    explanation = explain(walk, digits=digits)
    questions = _forward_questions(walk, digits) + _backward_questions(explanation, digits)
    for position, question in enumerate(questions, 1):
        question.number = position
    leaves = [w for w in walk.leaves if w.name] or walk.leaves
    givens = ", ".join(f"{w.name or 'input'} = {number(w.value.reshape(()), digits)}" for w in leaves)
    return Practice(title, givens, digits, questions, explanation, float(output.data.reshape(())), walk)


def _values(at: dict[str, float] | None) -> dict[str, float]:
    if at is None:
        raise ValueError("practice: give the value of every variable, e.g. at={'x': 2.0}")
    if not isinstance(at, dict):
        raise TypeError(f"practice: at= must map variable names to numbers, got {type(at).__name__}")
    return at


def _forward_questions(walk: Trace, digits: int) -> list[Question]:
    questions: list[Question] = []
    taken = graph_names(walk)
    for node in walk.gates:
        letters, statements = gate_letters(node.gate, [wire.name for wire in node.inputs], taken)
        values = {letter: wire.value for letter, wire in zip(letters, node.inputs)}
        given = ", ".join(
            input_text(letter, wire.name, wire.value, digits) for letter, wire in zip(letters, node.inputs)
        )
        formula = gate_formula(statements[0], letters[0], node.gate)
        value = float(node.output.value.reshape(()))
        hints = (
            f"the {node.label} gate computes {formula}",
            f"{formula} = {substitute(formula, node.gate, values, digits)}",
            f"The answer is {number(value, digits)}.",
        )
        questions.append(
            Question(
                0,
                "value",
                node.label,
                node.node_id,
                f"forward, {node.label}: {given}; {formula} = ?",
                value,
                hints,
                digits,
            )
        )
    return questions


def _backward_questions(explanation: Explanation, digits: int) -> list[Question]:
    questions: list[Question] = []
    for step in explanation.steps[1:]:  # the first is the start, dL/dout = 1
        assert step.node_id is not None  # every step after the start is a gate's
        given = ", ".join(input_text(i.letter, i.name, i.value, digits) for i in step.inputs)
        for position, item in enumerate(step.inputs):
            if item.sent is None or item.local is None:
                continue  # an input that needs no gradient (a constant)
            assert step.upstream is not None  # a gate with a local derivative has one output, which got one
            local = float(item.local.reshape(()))
            rule = item.derivative or "not stated by the gate"
            right = right_side(rule)
            filled = (
                f"{right} = {item.substituted}"
                if item.substituted not in (None, right)
                else f"{rule}, whatever the values"
            )
            questions.append(
                Question(
                    0,
                    "local",
                    step.gate,
                    step.node_id,
                    f"backward, {step.gate} with {given}: the local derivative {_left_side(rule)} = ?",
                    local,
                    (rule, filled, f"The answer is {number(local, digits)}."),
                    digits,
                    position=position,
                )
            )
            (shown_local, shown_upstream), shown_sent = shown_equation(
                [local, step.upstream], item.sent, digits, product
            )
            target = item.letter if item.target == item.letter else f"{item.letter} ({item.target})"
            questions.append(
                Question(
                    0,
                    "sent",
                    step.gate,
                    step.node_id,
                    f"backward, {step.gate}: upstream gradient {shown_upstream}; the gradient sent to {target} = ?",
                    float(item.sent.reshape(())),
                    (
                        CHAIN_RULE,
                        f"local * upstream = {shown_local} * {shown_upstream}",
                        f"The answer is {shown_sent}.",
                    ),
                    digits,
                    position=position,
                )
            )
    return questions


def gate_formula(statement: str, letter: str, gate: Gate) -> str:
    """What a gate computes, read off its derivative statement: "x*y" of "d/dx (x*y) = y", "1+x" for c = 1."""
    left = statement.split("=", 1)[0].strip()
    prefix = f"d/d{letter}"
    formula = left[len(prefix) :].strip() if left.startswith(prefix) else left
    if formula.startswith("(") and formula.endswith(")") and _balanced(formula[1:-1]):
        formula = formula[1:-1]
    return substitute(formula, gate, {}, 0) if formula else gate.name  # the gate's constants put in: 1+x


def _left_side(rule: str) -> str:
    return rule.split("=", 1)[0].strip() if "=" in rule else "d(out)/d(in)"


def _balanced(text: str) -> bool:
    depth = 0
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0
