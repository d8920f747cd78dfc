"""The command line, `hessian-lab` or `python -m hessian_lab`: derivatives of an expression typed in the shell.

    hessian-lab grad    "x^2*y + sin(y)" --at x=1,y=2
    hessian-lab hessian "x^2*y + sin(y)" --at x=1,y=2 --method naive --stats
    hessian-lab tensor  "x^2*y + sin(y)" --order 3 --at x=1,y=2 --json
    hessian-lab draw    "x^2*y + sin(y)" -o graph.png
    hessian-lab course  my-course

Exit codes: 0 on success, 2 for a mistake in the input (the message says which), 130 when interrupted.
"""

import argparse
import itertools
import json
import math
import pathlib
import sys

import numpy as np

from . import api
from .errors import HessianLabError, ParseError
from .higher import GROWTH
from .memory import check_order
from .parse import parse

USER_ERROR = 2
INTERRUPTED = 130
EPILOG = "examples:\n" + __doc__.split("\n\n")[1] + """

An expression that starts with '-' needs a space first, " -x^2", or goes after --:
    hessian-lab grad --at x=1 -- -x^2
"""
MAX_COMMAND_ORDER = 8  # each order multiplies the derivative graphs by 2 to 3: the cap keeps a typo from running for hours
MAX_VISITS = 5 * 10**7  # about a minute of the per-node engine: a larger tensor is refused before it starts
MAX_ENTRIES = 10**6  # more entries than a terminal can usefully show


def whole_number(low, high):
    """An argparse type: a whole number in [low, high], else a usage error that says the range."""

    def convert(text):
        """text as a whole number in range."""
        try:
            number = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, not {text!r}") from None
        if not low <= number <= high:
            raise argparse.ArgumentTypeError(f"expected a whole number from {low} to {high}, not {number}")
        return number

    return convert


def build_parser():
    """The argparse parser: one subcommand per result (grad, hessian, tensor) plus draw."""
    parser = argparse.ArgumentParser(
        prog="hessian-lab",
        description="Gradients, Hessians and higher derivatives of an expression, by backprop over its graph.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    grad = commands.add_parser("grad", help="the gradient at a point")
    hessian = commands.add_parser("hessian", help="the Hessian at a point, by any method of the assignment")
    tensor = commands.add_parser("tensor", help="all k-th order partial derivatives at a point")
    draw = commands.add_parser("draw", help="draw the gradient graph G: f's graph above its mirrored adjoint graph")
    for command in (grad, hessian, tensor, draw):
        command.add_argument("expression", help='course syntax, like "z + sin(x^2 + y*exp(z))"')
    for command in (grad, hessian, tensor):
        command.add_argument("--at", required=True, action="append", metavar="x=1,y=2",
                             help="a value for every variable (may be repeated; values may be like 1/3 or -2e-3)")
        command.add_argument("--stats", action="store_true", help="also report the exact work done (passes, visits)")
        command.add_argument("--json", action="store_true", help="print one JSON object, for programs")
        command.add_argument("--digits", type=whole_number(1, 17), default=6,
                             help="significant digits shown (default 6)")
    hessian.add_argument("--method", choices=["auto", *api.HESSIAN_METHODS], default="auto",
                         help="default: auto, the fastest exact method for this function")
    tensor.add_argument("--order", type=whole_number(1, MAX_COMMAND_ORDER), required=True, metavar="K",
                        help="the order k of the derivatives")
    draw.add_argument("-o", "--output", required=True, metavar="FILE", help="image file, like graph.png or graph.svg")
    add_course_command(commands)
    return parser


def add_course_command(commands):
    """The course subcommand: an nbgrader course directory of the exercises (hessian_lab/course.py)."""
    course = commands.add_parser("course", help="write an nbgrader course directory of the exercises, autograded")
    course.add_argument("directory", metavar="DIR", help="the course directory to write (created if missing)")


def run_course(args):
    """The course command: DIR/nbgrader_config.py and DIR/source/hessians/, then what to run next."""
    from .course import ASSIGNMENT, write_course

    try:
        written = write_course(args.directory)
    except (OSError, ValueError) as error:
        raise HessianLabError(f"cannot write the course: {error}") from None
    for path in written:
        print(f"wrote {path}")
    print(f"next, in {args.directory}: nbgrader generate_assignment {ASSIGNMENT}, then after collecting: "
          f"nbgrader autograde {ASSIGNMENT}")
    return 0


def read_point(assignments, names):
    """The point from --at texts like "x=1,y=2", in the order of names; a HessianLabError lists what is wrong."""
    values = {}
    for item in ",".join(assignments).split(","):
        name, equals, value = item.partition("=")
        name = name.strip()
        if not equals or not name:
            raise HessianLabError(f"--at expects name=value pairs separated by commas, like x=1,y=2; got {item!r}")
        if name in values:
            raise HessianLabError(f"--at gives {name} twice")
        values[name] = constant_value(name, value)
    missing = [name for name in names if name not in values]
    unknown = [name for name in values if name not in names]
    problems = []
    if missing:
        problems.append(f"--at has no value for {', '.join(missing)}")
    if unknown:
        problems.append(f"--at gives {', '.join(unknown)}, which the expression does not use")
    if problems:
        raise HessianLabError(f"{'; '.join(problems)} (the expression's variables are {', '.join(names)})")
    return np.array([values[name] for name in names])


def constant_value(name, text):
    """The number a --at value stands for: a number or a constant expression (1/3, 2^-0.5), never a variable."""
    try:
        f, names = parse(text.strip())
    except ParseError as error:
        raise ParseError(f"--at {name}={text.strip()}: {error}") from None
    if names:
        raise HessianLabError(
            f"--at {name}={text.strip()}: a value must be a finite number or a constant expression like 1/3, "
            f"not an expression in {', '.join(names)}"
        )
    try:
        return float(f([]))
    except HessianLabError as error:
        raise HessianLabError(f"--at {name}={text.strip()}: {error}") from None


def parse_with_variables(text):
    """(f, names) of the expression; a HessianLabError if it has no variable to differentiate by."""
    f, names = parse(text)
    if not names:
        raise HessianLabError(f"{text!r:.60} has no variables, so there is nothing to differentiate")
    return f, names


def check_tensor_size(n, k, m):
    """Refuse, before any work, a tensor whose nested construction or printout is out of all proportion.

    Nesting makes C(n+j-2, j-1) passes at level j over graphs that grow by up to GROWTH per order, and the
    printout has n^k entries: both are sized from n, k and m before anything runs.
    """
    visits = sum(math.comb(n + j - 2, j - 1) * m * GROWTH ** (j - 1) for j in range(1, k + 1))
    if visits > MAX_VISITS or n**k > MAX_ENTRIES:
        raise HessianLabError(
            f"--order {k} with {n} variables means {n**k:,} entries and about {visits:.2g} node visits "
            f"(the limit is {MAX_VISITS:.0e} visits and {MAX_ENTRIES:,} entries); use a lower --order or fewer variables"
        )


def compute(args):
    """Run grad, hessian or tensor: the result as a JSON-ready dict, with the work done if --stats."""
    f, names = parse_with_variables(args.expression)
    point = read_point(args.at, names)
    if args.command == "tensor":
        check_order(len(names), args.order)  # before tracing: a result too large for memory is refused at once
    g = api.trace(f, len(names), at=point)  # traced once; its methods take the point it was traced at as checked
    result = {"expression": args.expression, "variables": names, "point": dict(zip(names, point.tolist()))}
    if args.command == "grad":
        value, stats = g.gradient(g.traced_at, return_stats=True)
        result["gradient"] = value.tolist()
    elif args.command == "hessian":
        value, stats = g.hessian(g.traced_at, method=args.method, return_stats=True)
        result.update(method=stats["method"], hessian=value.tolist())
    else:
        check_tensor_size(len(names), args.order, g.m)
        value, stats = g.derivative_tensor(g.traced_at, args.order, return_stats=True)
        result.update(order=args.order, tensor=value.tolist())
    if args.stats:
        result["stats"] = jsonable(stats)
    return result


def jsonable(value):
    """value with numpy numbers and arrays made plain, and NaN or infinities made None (strict JSON has neither)."""
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [jsonable(item) for item in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def format_matrix(row_labels, column_labels, rows, digits):
    """A matrix as aligned text, labelled with variable names along both sides."""
    cells = [[f"{v:.{digits}g}" for v in row] for row in rows]
    widths = [max([len(label)] + [len(row[j]) for row in cells]) for j, label in enumerate(column_labels)]
    margin = max(len(label) for label in row_labels)
    lines = [" " * margin + "".join(f"  {label:>{w}}" for label, w in zip(column_labels, widths))]
    for label, row in zip(row_labels, cells):
        lines.append(f"{label:<{margin}}" + "".join(f"  {cell:>{w}}" for cell, w in zip(row, widths)))
    return "\n".join(lines)


def format_vector(names, values, digits):
    """A vector as aligned `name  value` lines."""
    margin = max(len(name) for name in names)
    return "\n".join(f"{name:<{margin}}  {value:.{digits}g}" for name, value in zip(names, values))


def format_tensor(names, tensor, digits):
    """A tensor of order k >= 2 as labelled matrices T[a, b, ..., :, :], one per index prefix."""
    if tensor.ndim == 2:
        return format_matrix(names, names, tensor, digits)
    blocks = []
    for prefix in itertools.product(range(len(names)), repeat=tensor.ndim - 2):
        label = ", ".join(names[i] for i in prefix)
        blocks.append(f"T[{label}, :, :] =\n{format_matrix(names, names, tensor[prefix], digits)}")
    return "\n\n".join(blocks)


def describe(result, digits):
    """The result as text for people: the function, the point, then the labelled vector, matrix or tensor."""
    names = result["variables"]
    point = ", ".join(f"{name} = {value:.{digits}g}" for name, value in result["point"].items())
    lines = [f"f({', '.join(names)}) = {result['expression'].strip()}", f"at {point}", ""]
    if "gradient" in result:
        lines += ["gradient:", format_vector(names, result["gradient"], digits)]
    elif "hessian" in result:
        lines += [f"Hessian (method {result['method']}):", format_matrix(names, names, result["hessian"], digits)]
    elif result["order"] == 1:
        lines += ["derivatives of order 1:", format_vector(names, result["tensor"], digits)]
    else:
        lines += [f"derivatives of order {result['order']}:", format_tensor(names, np.array(result["tensor"]), digits)]
    if "stats" in result:
        lines += ["", "work done:"] + [f"  {key}: {value}" for key, value in result["stats"].items()]
    return "\n".join(lines)


def run_derivative(args):
    """The grad, hessian and tensor commands: compute, then print for people or as JSON."""
    result = compute(args)
    print(json.dumps(result, allow_nan=False) if args.json else describe(result, args.digits))
    return 0


def run_draw(args):
    """The draw command: the gradient graph G (f's graph above its mirror), saved to an image file."""
    f, names = parse_with_variables(args.expression)
    graph = api.trace(f, len(names))
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from . import plots

    output = args.output if pathlib.Path(args.output).suffix else f"{args.output}.png"  # what savefig would write
    figure = plots.draw_gradient_graph(graph)
    try:
        figure.savefig(output)
    except (OSError, ValueError) as error:
        raise HessianLabError(f"cannot save the drawing to {output}: {error}") from None
    finally:
        plt.close(figure)
    print(f"drew f ({graph.num_nodes} node{'s' if graph.num_nodes != 1 else ''}) and its gradient graph G into {output}")
    return 0


COMMANDS = {"grad": run_derivative, "hessian": run_derivative, "tensor": run_derivative, "draw": run_draw,
            "course": run_course}


def main(argv=None):
    """Run the command line and return its exit code: 0, 2 for a user error, 130 when interrupted."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        return COMMANDS[args.command](args)
    except SystemExit as stop:  # argparse has printed the usage error (code 2) or the help (code 0)
        return stop.code
    except HessianLabError as error:
        print(f"hessian-lab: error: {error}", file=sys.stderr)
        return USER_ERROR
    except KeyboardInterrupt:
        print("hessian-lab: interrupted", file=sys.stderr)
        return INTERRUPTED
