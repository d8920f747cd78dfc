"""The course's expression syntax, like `z + sin(x^(2) + (y * exp(z)))`, parsed into a function of x.

No eval, exec or compile: a tokenizer and a small precedence-climbing parser turn the text into a
postfix program (numbers, variables, operators, functions in evaluation order), and the function
replays that program on a stack, building the graph with hessian-lab's own operations.

Grammar, loosest binding first:
    expression := term (("+" | "-") term)*
    term       := factor (("*" | "/") factor)*
    factor     := "-" factor | power                  -x^2 is -(x^2)
    power      := atom (("^" | "**") factor)?         right-associative: x^y^z is x^(y^z)
    atom       := number | variable | function "(" expression ("," expression)* ")" | "(" expression ")"
A number is 2, 0.5, .5 or 1e-3; a variable is a letter followed by letters, digits and underscores;
the functions are the public rows of the primitive table (exp, log, sin, cos, tan, sqrt, tanh, sigmoid,
abs, relu, log1p, softplus, floor, ..., and arctan2(y, x) and hypot(a, b), which take two arguments),
read from hessian_lab.ops at parse time, each called with as many arguments as its row takes.
"""

import math
import re
from typing import Callable, NamedTuple

from . import ops
from .errors import ParseError, ShapeError

MAX_LENGTH = 10_000
MAX_DEPTH = 200



def functions():
    """The names the course syntax calls as name(...): every public row of the primitive table."""
    return [name for name, row in ops.PRIMITIVES.items() if row.public]


def primitive(name):
    """The function name(...) of the course syntax: its primitive applied to nodes or numbers, as hl.<name> does."""
    return lambda *args: ops.apply_row(name, *args)


def arity(name):
    """How many arguments a function of the course syntax takes, as its row says (read as data: the parser
    introspects nothing)."""
    return ops.PRIMITIVES[name].arity


class Binary(NamedTuple):
    """An infix operator: how tightly it binds, whether it groups to the right, and what it computes."""

    power: int
    right: bool
    compute: Callable


BINARY = {
    "+": Binary(1, False, ops.add),
    "-": Binary(1, False, ops.sub),
    "*": Binary(2, False, ops.mul),
    "/": Binary(2, False, ops.div),
    "^": Binary(4, True, ops.power),
    "**": Binary(4, True, ops.power),
}
NEGATION_POWER = 3  # between * and ^: -x*y is (-x)*y, and -x^2 is -(x^2)

_TOKEN = re.compile(
    r"(?P<space>\s+)"
    r"|(?P<number>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)"
    r"|(?P<name>[A-Za-z][A-Za-z0-9_]*)"
    r"|(?P<operator>\*\*|[-+*/^(),])",
    re.ASCII,
)

_HINTS = {
    "'": "strings are not part of the grammar",
    '"': "strings are not part of the grammar",
    ".": "'.' belongs only inside a number like 0.5; there is no attribute access",
    "_": "a variable must start with a letter",
    "[": "there is no indexing: name each variable, like x, y or x1",
    "=": "write an expression, not an assignment or a comparison",
    "<": "write an expression, not a comparison",
    ">": "write an expression, not a comparison",
    "\u00b2": "write powers with '^', like x^2",
    "\u2212": "that is a typographic minus sign; type '-'",
}

OPERAND = "a number, a variable, a function like sin(...), '-' or '('"
OPERATOR = "an operator (+ - * / ^ **)"


def grammar():
    """The grammar in one sentence, for messages."""
    return f"the grammar has numbers, variables, + - * / ^ **, parentheses and the functions {', '.join(functions())}"


class Token(NamedTuple):
    """One piece of the text: its kind (number, name, operator, end), its text and where it starts."""

    kind: str
    text: str
    position: int


def parse_error(text, position, message):
    """A ParseError whose message names the column and points at it under the text with a caret."""
    start = max(0, position - 30)
    window = "".join(c if c.isprintable() else " " for c in text[start : position + 30])
    left = "..." if start > 0 else ""
    right = "..." if position + 30 < len(text) else ""
    caret = " " * (len(left) + position - start) + "^"
    error = ParseError(f"column {position + 1}: {message}\n    {left}{window}{right}\n    {caret}")
    error.position = position
    return error


def tokenize(text):
    """The tokens of text, ending with an "end" token; a ParseError at the first character outside the grammar."""
    tokens = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            character = text[position]
            hint = _HINTS.get(character) or grammar()
            raise parse_error(text, position, f"unexpected character {character!r}: {hint}")
        if match.lastgroup != "space":
            tokens.append(Token(match.lastgroup, match.group(), position))
        position = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


class _Parser:
    """Precedence climbing over the tokens, emitting a postfix program: the expression in evaluation order."""

    def __init__(self, text):
        self.text = text
        self.tokens = tokenize(text)
        self.index = 0
        self.depth = -1  # the whole expression is level 0; each parenthesis, function, '-' or '^' nests one deeper
        self.program = []

    def peek(self):
        """The next token, not consumed."""
        return self.tokens[self.index]

    def take(self):
        """The next token, consumed."""
        token = self.tokens[self.index]
        self.index += 1
        return token

    def fail(self, token, message):
        """A ParseError at token."""
        found = "the end of the expression" if token.kind == "end" else repr(token.text)
        return parse_error(self.text, token.position, f"{message}, but found {found}")

    def expression(self, min_power=0):
        """Parse operands joined by operators that bind at least as tightly as min_power."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise parse_error(
                self.text, self.peek().position,
                f"the expression nests deeper than {MAX_DEPTH} levels (parentheses, functions, '-' and '^'); "
                "split it up, or build such a deep function in Python",
            )
        self.operand()
        while self.peek().kind == "operator" and self.peek().text in BINARY:
            operator = BINARY[self.peek().text]
            if operator.power < min_power:
                break
            self.take()
            self.expression(operator.power if operator.right else operator.power + 1)
            self.program.append(("call", (operator.compute, 2)))
        token = self.peek()
        if token.kind in ("number", "name"):
            message = f"expected {OPERATOR} before {token.text!r}; write products with '*', like 2*x"
            raise parse_error(self.text, token.position, message)
        self.depth -= 1

    def operand(self):
        """Parse a number, a variable, a function call, a negation or a parenthesized expression."""
        token = self.take()
        if token.kind == "number":
            self.program.append(("number", self.number(token)))
        elif token.kind == "name" and self.peek().text != "(":
            if token.text in functions():
                raise parse_error(self.text, token.position, f"{token.text} is a function: write {token.text}(...)")
            self.program.append(("variable", token.text))
        elif token.kind == "name":
            function = self.function(token)
            opening = self.take()
            self.arguments(token, arity(token.text))
            self.close(opening)
            self.program.append(("call", (function, arity(token.text))))
        elif token.text == "-":
            self.expression(NEGATION_POWER)
            self.program.append(("call", (ops.neg, 1)))
        elif token.text == "(":
            self.expression()
            self.close(token)
        else:
            raise self.fail(token, f"expected {OPERAND}")

    def number(self, token):
        """The value of a number token; a ParseError if it is too large for a float, or so small it would become 0."""
        value = float(token.text)
        if not math.isfinite(value):
            raise parse_error(self.text, token.position, f"the number {token.text} is too large for a float")
        if value == 0 and re.search(r"[1-9]", token.text.lower().split("e")[0]):
            raise parse_error(self.text, token.position,
                              f"the number {token.text} is too small for a float: it would silently become 0")
        return value

    def function(self, name):
        """The operation a function name calls; an unknown name is a ParseError that names it."""
        if name.text not in functions():
            raise parse_error(
                self.text, name.position,
                f"unknown function {name.text!r}; the functions are {', '.join(functions())} "
                f"(for a product, write {name.text}*(...))",
            )
        return primitive(name.text)

    def arguments(self, name, count):
        """Parse a function's `count` arguments, separated by commas; a ParseError where there are too few or many."""
        wanted = f"{name.text} takes exactly {['one argument', 'two arguments'][count - 1]}"
        for k in range(count):
            if k:
                token = self.take()
                if token.text != ",":
                    raise self.fail(token, f"expected ',': {wanted}")
            self.expression()
        if self.peek().text == ",":
            raise parse_error(self.text, self.peek().position, wanted)

    def close(self, opening):
        """Consume the ')' that closes the '(' at `opening`."""
        token = self.take()
        if token.text != ")":
            raise self.fail(token, f"expected ')' to close the '(' at column {opening.position + 1}")


class Expression:
    """A parsed expression as a function of x: f(x) with x[k] the value of names[k]; x holds nodes or numbers."""

    def __init__(self, text, names, program):
        self.text = text
        self.names = names
        self.program = program

    def __call__(self, x):
        """Replay the postfix program on a stack: hessian-lab's operations build the graph (or compute numbers)."""
        if len(x) != len(self.names):
            raise ShapeError(
                f"{self.text!r:.60} has {len(self.names)} variables ({', '.join(self.names)}), "
                f"but x has {len(x)} entries"
            )
        stack = []
        for kind, item in self.program:
            if kind == "number":
                stack.append(item)
            elif kind == "variable":
                stack.append(x[item])
            else:
                function, count = item
                arguments = stack[-count:]
                del stack[-count:]
                stack.append(function(*arguments))
        return stack.pop()

    def __repr__(self):
        return f"<Expression f({', '.join(self.names)}) = {self.text:.80}>"


def parse(text):
    """Parse course syntax into (f, names): f(x) works with every hessian-lab function, x[k] is names[k].

    names are the variables in alphabetical order. Anything outside the grammar, or longer than
    MAX_LENGTH characters, or nested deeper than MAX_DEPTH levels, is a ParseError saying where and why.
    """
    if not isinstance(text, str):
        raise ParseError(f"parse expects the expression as a string, not {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ParseError(f"the expression is {len(text)} characters long; the limit is {MAX_LENGTH}")
    parser = _Parser(text)
    parser.expression()
    end = parser.peek()
    if end.text == ")":
        raise parse_error(text, end.position, "this ')' has no matching '('")
    if end.kind != "end":
        raise parser.fail(end, f"expected {OPERATOR} or the end of the expression")
    names = sorted({item for kind, item in parser.program if kind == "variable"})
    index = {name: k for k, name in enumerate(names)}
    program = [("variable", index[item]) if kind == "variable" else (kind, item) for kind, item in parser.program]
    return Expression(text, names, program), names
