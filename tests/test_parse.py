"""hl.parse: the course's expression syntax, its precedence, its functions, and a clear ParseError for the rest."""

import ast
import importlib
import inspect
import math

import numpy as np
import pytest

import hessian_lab as hl
parse_module = importlib.import_module("hessian_lab.parse")  # hl.parse, the function, shadows the module

POINT = {"x": 1.3, "y": 0.7, "z": 2.1}


def value(text, **point):
    """The value of text at a point given by name (POINT by default)."""
    point = point or POINT
    f, names = hl.parse(text)
    return f([point[name] for name in names])


@pytest.mark.parametrize(
    "text, expected",
    [
        ("-x^2", -(1.3**2)),
        ("x^y^z", 1.3 ** (0.7**2.1)),
        ("x**y**z", 1.3 ** (0.7**2.1)),
        ("2^-x^2*y", 2 ** -(1.3**2) * 0.7),
        ("x - y - z", (1.3 - 0.7) - 2.1),
        ("x / y / z", (1.3 / 0.7) / 2.1),
        ("x - y*z + x/y", 1.3 - 0.7 * 2.1 + 1.3 / 0.7),
        ("-x*y", -1.3 * 0.7),
        ("--x", 1.3),
        ("x--y", 1.3 + 0.7),
        ("x*-y", -1.3 * 0.7),
        ("(x + y)^2", (1.3 + 0.7) ** 2),
        ("x^(2)", 1.3**2),
        ("(-x)^2", 1.3**2),
        ("1e-3*x + .5 + 2. + 1E+2", 1e-3 * 1.3 + 0.5 + 2.0 + 100.0),
        (" \t x \n+ y ", 2.0),
        ("z + sin(x^(2) + (y * exp(z)))", 2.1 + math.sin(1.3**2 + 0.7 * math.exp(2.1))),
    ],
)
def test_precedence_and_associativity_follow_python(text, expected):
    """^ binds tighter than unary minus, which binds tighter than * and /; ^ groups right, the others left."""
    assert value(text) == pytest.approx(expected, rel=1e-14)


@pytest.mark.parametrize(
    "name, reference",
    [("exp", math.exp), ("log", math.log), ("sin", math.sin), ("cos", math.cos), ("tan", math.tan),
     ("sqrt", math.sqrt), ("tanh", math.tanh), ("sigmoid", lambda a: 1 / (1 + math.exp(-a)))],
)
def test_every_function_of_the_grammar(name, reference):
    """Each of the eight functions computes what its name says."""
    assert value(f"{name}(x / 2)") == pytest.approx(reference(1.3 / 2), rel=1e-14)


@pytest.mark.parametrize(
    "text, expected",
    [("arctan(x)", math.atan(1.3)), ("sinh(x)", math.sinh(1.3)), ("cosh(x)", math.cosh(1.3)),
     ("log10(x)", math.log10(1.3)), ("log2(x)", math.log2(1.3)), ("expm1(x)", math.expm1(1.3)),
     ("floor(z)", 2.0), ("ceil(z)", 3.0), ("round(z)", 2.0), ("sign(-x)", -1.0),
     ("arctan2(y, x)", math.atan2(0.7, 1.3)), ("hypot(x, y * z)", math.hypot(1.3, 0.7 * 2.1)),
     ("arctan2(-y, -(x))", math.atan2(-0.7, -1.3))],
)
def test_the_new_rows_are_functions_of_the_grammar_two_of_them_with_two_arguments(text, expected):
    """The table's new public rows are parsed by their names; arctan2 and hypot take two arguments, in numpy's order."""
    assert value(text) == pytest.approx(expected, rel=1e-14)


def test_a_parsed_floor_is_a_branch_like_hl_floor():
    """floor in the course syntax records its piece as hl.floor does: the reused trace refuses a point past a jump."""
    f, _ = hl.parse("floor(x) * y^2")
    g = hl.trace(f, 2, at=[1.5, 2.0])
    assert g.hessian([1.9, 3.0], method="rows").tolist() == [[0.0, 0.0], [0.0, 2.0]]
    with pytest.raises(hl.BranchError, match=r"floor\(x\[0\]\) == 1"):
        g.hessian([2.1, 3.0])


def test_names_are_sorted_and_x_k_is_names_k():
    """names are the variables in alphabetical order, each once, and x[k] is the value of names[k]."""
    f, names = hl.parse("b_2 + 10*a + 100*B1 + a")
    assert names == ["B1", "a", "b_2"]
    assert f([1.0, 2.0, 3.0]) == 3.0 + 10 * 2.0 + 100 * 1.0 + 2.0


def test_a_parsed_expression_builds_the_same_graph_as_python():
    """f from text and the same f written in Python give the same graph and identical derivatives."""
    f, names = hl.parse("z + sin(x^(2) + (y * exp(z)))")

    def by_hand(x):
        """The same expression written with hl functions and Python operators."""
        return x[2] + hl.sin(x[0] ** 2 + x[1] * hl.exp(x[2]))

    x0 = [POINT[name] for name in names]
    assert (hl.trace(f, 3).m, hl.trace(f, 3).num_nodes) == (hl.trace(by_hand, 3).m, hl.trace(by_hand, 3).num_nodes)
    assert np.array_equal(hl.gradient(f, x0), hl.gradient(by_hand, x0))
    for method in hl.HESSIAN_METHODS:
        assert np.array_equal(hl.hessian(f, x0, method=method), hl.hessian(by_hand, x0, method=method)), method
    assert np.array_equal(hl.hvp(f, x0, [1.0, -1.0, 2.0]), hl.hvp(by_hand, x0, [1.0, -1.0, 2.0]))
    assert np.array_equal(hl.derivative_tensor(f, x0, 3), hl.derivative_tensor(by_hand, x0, 3))


def test_a_variable_base_or_exponent_makes_the_right_power():
    """x^2 is a constant power (defined for negative x); 2^x and x^y are general powers."""
    graph = hl.trace(hl.parse("x^2 + 2^x + x^y")[0], 2, at=[1.5, 0.5])
    assert sorted(node.op for node in graph.nodes if node.op in ("pow", "powc")) == ["pow", "pow", "powc"]
    assert hl.gradient(hl.parse("x^2")[0], [-3.0])[0] == -6.0


def test_a_constant_expression_has_no_variables_and_folds():
    """Text without variables gives names == [] and f([]) is the number."""
    f, names = hl.parse("2^10 - 1/4")
    assert names == [] and f([]) == 1023.75


def test_x_of_the_wrong_length_is_a_shape_error():
    """f checks that x has one entry per variable."""
    f, _ = hl.parse("x + y")
    with pytest.raises(hl.ShapeError, match=r"2 variables \(x, y\), but x has 3 entries"):
        hl.gradient(f, [1.0, 2.0, 3.0])


def test_leaving_the_domain_is_a_domain_error_at_evaluation_not_a_parse_error():
    """1/0 or log(-1) parse fine (they are grammatical) and fail when evaluated, naming the op."""
    f, _ = hl.parse("x + 1/0")
    with pytest.raises(hl.DomainError, match="div"):
        f([1.0])
    g, _ = hl.parse("log(x)")
    with pytest.raises(hl.DomainError, match="log"):
        hl.gradient(g, [-1.0])


@pytest.mark.parametrize(
    "text, column, message",
    [
        ("", 1, "expected a number, a variable"),
        ("x +", 4, "found the end of the expression"),
        ("x.y", 2, "no attribute access"),
        ("().__class__", 3, "no attribute access"),
        ("()", 2, "expected a number"),
        ("__import__('os').system('x')", 1, "must start with a letter"),
        ("lambda: 0", 7, "unexpected character ':'"),
        ("lambda x", 8, "expected an operator"),
        ("'a'", 1, "strings are not part of the grammar"),
        ('x + "y"', 5, "strings are not part of the grammar"),
        ("sin(x, y)", 6, "sin takes exactly one argument"),
        ("hypot(x)", 8, "hypot takes exactly two arguments"),
        ("hypot(x, y, z)", 11, "hypot takes exactly two arguments"),
        ("x, y", 2, "or the end of the expression"),
        ("foo(x)", 1, "unknown function 'foo'"),
        ("x + Sin(y)", 5, "unknown function 'Sin'"),
        ("2x", 2, "write products with '*'"),
        ("x y", 3, "write products with '*'"),
        ("sin x", 1, "sin is a function"),
        ("(x + y", 7, "expected ')' to close the '(' at column 1"),
        ("sin(x", 6, "expected ')' to close the '(' at column 4"),
        ("x)", 2, "no matching '('"),
        ("x ^^ 2", 4, "expected a number"),
        ("+x", 1, "expected a number"),
        ("x = 1", 3, "not an assignment"),
        ("x[0]", 2, "no indexing"),
        ("x²", 2, "write powers with '^'"),
        ("1e999 * x", 1, "too large"),
        ("x; import os", 2, "unexpected character ';'"),
    ],
)
def test_text_outside_the_grammar_is_a_parse_error_naming_the_column(text, column, message):
    """Every mistake names its column, points at it with a caret, and says what was expected."""
    with pytest.raises(hl.ParseError, match=f"^column {column}: ") as caught:
        hl.parse(text)
    assert message in str(caught.value)
    assert caught.value.position == column - 1
    pointer_line = str(caught.value).splitlines()[-1]
    assert pointer_line == " " * (4 + column - 1) + "^"


def test_the_caret_points_into_a_window_of_long_text():
    """In long text the message shows the neighbourhood of the mistake, and the caret still points at it."""
    text = "x + " * 100 + "$" + " + x" * 100
    with pytest.raises(hl.ParseError) as caught:
        hl.parse(text)
    shown, pointer = str(caught.value).splitlines()[1:]
    assert shown[pointer.index("^")] == "$"
    assert shown.startswith("    ...") and shown.endswith("...")


def test_length_limit():
    """Text longer than MAX_LENGTH is refused before any work; text at the limit parses."""
    at_limit = "x" + "+x" * ((parse_module.MAX_LENGTH - 1) // 2)
    assert len(at_limit) <= parse_module.MAX_LENGTH
    assert hl.parse(at_limit)[1] == ["x"]
    with pytest.raises(hl.ParseError, match=f"characters long; the limit is {parse_module.MAX_LENGTH}"):
        hl.parse("1" * 100_000)


@pytest.mark.parametrize(
    "make",
    [
        lambda k: "(" * k + "x" + ")" * k,
        lambda k: "sin(" * k + "x" + ")" * k,
        lambda k: "-" * k + "x",
        lambda k: "x^" * k + "x",
    ],
    ids=["parentheses", "functions", "minus", "powers"],
)
def test_nesting_limit_is_a_parse_error_not_a_recursion_error(make):
    """MAX_DEPTH (200, as the README says) levels of nesting parse; one more is a clear ParseError, and so are 1000."""
    limit = parse_module.MAX_DEPTH
    assert limit == 200
    f, names = hl.parse(make(limit))
    assert names == ["x"]
    for depth in (limit + 1, 1000):
        with pytest.raises(hl.ParseError, match=f"nests deeper than {limit} levels"):
            hl.parse(make(depth))


def test_a_long_flat_expression_is_no_nesting():
    """Thousands of terms in a row are not nested: x - x - ... - x parses and evaluates left to right."""
    f, _ = hl.parse("x" + " - x" * 2000)
    assert f([1.0]) == -1999.0


@pytest.mark.parametrize("not_text", [None, 3, b"x + y", ["x"]])
def test_parse_wants_a_string(not_text):
    """Anything but a str is a ParseError too (the parser has one error class)."""
    with pytest.raises(hl.ParseError, match="expects the expression as a string"):
        hl.parse(not_text)


def test_the_parser_never_calls_eval_exec_compile_or_import():
    """No call of eval, exec, compile, __import__ or importlib anywhere in the parser's source."""
    tree = ast.parse(inspect.getsource(parse_module))
    called = {node.func.id for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
    assert not called & {"eval", "exec", "compile", "__import__", "getattr", "import_module"}


def test_repr_shows_the_function():
    """An Expression prints as f(names) = text."""
    assert repr(hl.parse("y*x")[0]) == "<Expression f(x, y) = y*x>"
