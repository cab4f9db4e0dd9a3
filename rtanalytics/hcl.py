"""HCL expressions evaluated as Terraform evaluates them, statically — without a plan, a state or a provider.

python-hcl2 reads a ``.tf`` file's structure (blocks and attributes) and keeps each attribute's expression as
text (``"${var.prefix}-cpu"``, ``${lookup(var.t, "cpu", 80)}``); this module parses that text with the HCL native
syntax's grammar (HashiCorp's "HCL Native Syntax Specification": template strings and heredocs, the operators and
their precedence, conditionals, ``for`` expressions, splats, indexes and attribute access, function calls with
``...`` expansion) and evaluates it in a :class:`Scope`: ``var``, ``local``, ``each``, ``count``, ``path``,
``terraform``, iterators of ``for`` and ``dynamic``, and the functions teams use in alarm definitions (``format``,
``join``, ``lookup``, ``merge``, ``concat``, ``coalesce``, ``replace``, ``lower``/``upper``,
``tostring``/``tonumber``, ``try``/``can`` and some forty more).

What cannot be known before ``terraform apply`` — another resource's attribute, a data source, a module's
output, a variable with neither a default nor a value — evaluates to :class:`Unknown`, which carries the reference
and what would resolve it; any expression that uses an unknown value is unknown in turn, so nothing is ever
guessed. An expression that Terraform itself would reject (an unknown function, a missing attribute, a wrong
argument) raises :class:`HclError`; ``try`` and ``can`` catch it as Terraform's do.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any, Callable, Mapping

#: the deepest nesting an expression may have (a hostile file cannot exhaust the stack)
MAX_DEPTH = 200


class HclError(Exception):
    """An expression Terraform would reject (or this evaluator cannot read), with what and why."""


class Unknown:
    """A value known only after apply (or when a variable is given): ``expr`` is the reference that made it
    unknown, ``why`` says what it is and what would resolve it."""

    __slots__ = ("expr", "why")

    def __init__(self, expr: str, why: str):
        self.expr, self.why = expr, why

    def __repr__(self) -> str:
        return f"Unknown({self.expr!r})"


def first_unknown(*vals) -> Unknown | None:
    for v in vals:
        if isinstance(v, Unknown):
            return v
        if isinstance(v, (list, tuple)):
            u = first_unknown(*v)
            if u:
                return u
        elif isinstance(v, dict):
            u = first_unknown(*v.values())
            if u:
                return u
    return None


# ------------------------------------------------------------------------------------------------- parsing
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_NUMBER = re.compile(r"\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
_BINARY = [("||",), ("&&",), ("==", "!="), (">=", "<=", ">", "<"), ("+", "-"), ("*", "/", "%")]
_PREC = {op: i + 1 for i, ops in enumerate(_BINARY) for op in ops}
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


class _Parser:
    def __init__(self, text: str):
        self.s, self.i, self.depth = text, 0, 0

    # ---- low level
    def fail(self, msg: str):
        raise HclError(f"{msg} at character {self.i + 1} of {self.s[:120]!r}")

    def ws(self):
        s = self.s
        while self.i < len(s):
            c = s[self.i]
            if c in " \t\r\n":
                self.i += 1
            elif c == "#" or s.startswith("//", self.i):
                while self.i < len(s) and s[self.i] != "\n":
                    self.i += 1
            elif s.startswith("/*", self.i):
                end = s.find("*/", self.i + 2)
                self.i = len(s) if end < 0 else end + 2
            else:
                break

    def peek(self, tok: str) -> bool:
        self.ws()
        return self.s.startswith(tok, self.i)

    def eat(self, tok: str) -> bool:
        if self.peek(tok):
            self.i += len(tok)
            return True
        return False

    def expect(self, tok: str):
        if not self.eat(tok):
            self.fail(f"expected {tok!r}")

    def ident(self) -> str | None:
        self.ws()
        m = _IDENT.match(self.s, self.i)
        if not m:
            return None
        self.i = m.end()
        return m.group(0)

    def keyword_ahead(self, word: str) -> bool:
        self.ws()
        m = _IDENT.match(self.s, self.i)
        return bool(m and m.group(0) == word)

    # ---- grammar
    def parse(self):
        e = self.expr()
        self.ws()
        if self.i != len(self.s):
            self.fail("unexpected text")
        return e

    def expr(self):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            self.fail("expression nested too deeply")
        cond = self.binary(0)
        if self.eat("?"):
            a = self.expr()
            self.expect(":")
            b = self.expr()
            cond = ("cond", cond, a, b)
        self.depth -= 1
        return cond

    def binary(self, floor: int):
        left = self.unary()
        while True:
            self.ws()
            op = next((o for o in ("||", "&&", "==", "!=", ">=", "<=", ">", "<", "+", "-", "*", "/", "%")
                       if self.s.startswith(o, self.i)), None)
            if op is None or _PREC[op] <= floor:
                return left
            self.i += len(op)
            right = self.binary(_PREC[op])
            left = ("binary", op, left, right)

    def unary(self):
        self.ws()
        if self.s.startswith("-", self.i) and not self.s.startswith("->", self.i):
            self.i += 1
            return ("unary", "-", self.unary())
        if self.s.startswith("!", self.i) and not self.s.startswith("!=", self.i):
            self.i += 1
            return ("unary", "!", self.unary())
        return self.postfix(self.primary())

    def postfix(self, node):
        while True:
            self.ws()
            s, i = self.s, self.i
            if s.startswith(".*", i):
                self.i += 2
                return ("splat", node, self.splat_ops())
            if s.startswith("[*]", i) or (s.startswith("[", i) and re.match(r"\[\s*\*\s*\]", s[i:])):
                self.i = i + re.match(r"\[\s*\*\s*\]", s[i:]).end()
                return ("splat", node, self.splat_ops())
            if s.startswith(".", i) and not s.startswith("..", i):
                self.i += 1
                m = re.compile(r"\d+").match(s, self.i)
                if m:  # legacy index: list.0
                    self.i = m.end()
                    node = ("index", node, ("lit", int(m.group(0))))
                    continue
                name = self.ident()
                if name is None:
                    self.fail("expected an attribute name after '.'")
                node = ("attr", node, name)
                continue
            if s.startswith("[", i):
                self.i += 1
                key = self.expr()
                self.expect("]")
                node = ("index", node, key)
                continue
            return node

    def splat_ops(self) -> list:
        ops = []
        while True:
            self.ws()
            s, i = self.s, self.i
            if s.startswith(".", i) and not s.startswith("..", i):
                self.i += 1
                name = self.ident()
                if name is None:
                    m = re.compile(r"\d+").match(s, self.i)
                    if not m:
                        self.fail("expected an attribute after a splat")
                    self.i = m.end()
                    ops.append(("index", ("lit", int(m.group(0)))))
                    continue
                ops.append(("attr", name))
            elif s.startswith("[", i) and not re.match(r"\[\s*\*", s[i:]):
                self.i += 1
                k = self.expr()
                self.expect("]")
                ops.append(("index", k))
            else:
                return ops

    def primary(self):
        self.ws()
        s, i = self.s, self.i
        if i >= len(s):
            self.fail("expected an expression")
        c = s[i]
        if c.isdigit():
            m = _NUMBER.match(s, i)
            self.i = m.end()
            txt = m.group(0)
            try:
                return ("lit", int(txt) if re.fullmatch(r"\d+", txt) else float(txt))
            except ValueError:  # more digits than Python converts
                self.fail(f"a number of {len(txt)} digits")
        if c == '"':
            self.i += 1
            return self.template('"')
        if s.startswith("<<", i):
            return self.heredoc()
        if c == "(":
            self.i += 1
            e = self.expr()
            self.expect(")")
            return ("paren", e)
        if c == "[":
            self.i += 1
            if self.keyword_ahead("for"):
                return self.for_expr("]")
            items = []
            while not self.eat("]"):
                items.append(self.expr())
                if not self.eat(","):
                    self.expect("]")
                    break
            return ("tuple", items)
        if c == "{":
            self.i += 1
            if self.keyword_ahead("for"):
                return self.for_expr("}")
            items = []
            while not self.eat("}"):
                self.ws()
                if self.s.startswith("(", self.i):
                    key = self.expr()
                else:
                    start = self.i
                    name = self.ident()
                    if name is not None and (self.peek("=") and not self.peek("==") or self.peek(":")):
                        key = ("lit", name)
                    else:
                        self.i = start
                        key = self.expr()
                if not (self.eat("=") or self.eat(":")):
                    self.fail("expected '=' or ':' in an object")
                items.append((key, self.expr()))
                self.eat(",")
            return ("object", items)
        name = self.ident()
        if name is None:
            self.fail("expected an expression")
        if name in ("true", "false"):
            return ("lit", name == "true")
        if name == "null":
            return ("lit", None)
        if self.s.startswith("::", self.i):  # provider-defined functions: provider::aws::arn_parse(...)
            while self.s.startswith("::", self.i):
                self.i += 2
                name += "::" + (self.ident() or "")
        self.ws()
        if self.s.startswith("(", self.i):
            self.i += 1
            args, expand = [], False
            while not self.eat(")"):
                args.append(self.expr())
                if self.eat("..."):
                    expand = True
                if not self.eat(","):
                    self.expect(")")
                    break
            return ("call", name, args, expand)
        return ("var", name)

    def for_expr(self, close: str):
        self.ident()  # for
        a = self.ident()
        b = self.ident() if self.eat(",") else None
        if not self.keyword_ahead("in"):
            self.fail("expected 'in'")
        self.ident()
        coll = self.expr()
        self.expect(":")
        k, v = (a, b) if b else (None, a)
        first = self.expr()
        val, group = None, False
        if close == "}":
            self.expect("=>")
            val = self.expr()
            group = self.eat("...")
        cond = None
        if self.keyword_ahead("if"):
            self.ident()
            cond = self.expr()
        self.expect(close)
        if close == "]":
            return ("for", "list", k, v, coll, None, first, cond, False)
        return ("for", "object", k, v, coll, first, val, cond, group)

    def template(self, close: str | None, strip_indent: bool = False):
        """A quoted template (``close`` = ``"``) or a heredoc body (``close`` None: up to the end)."""
        parts: list = []
        buf = []
        s = self.s
        while True:
            if self.i >= len(s):
                if close is None:
                    break
                self.fail("unterminated string")
            c = s[self.i]
            if close and c == close:
                self.i += 1
                break
            if c == "\\" and close:
                nxt = s[self.i + 1:self.i + 2]
                if nxt in _ESCAPES:
                    buf.append(_ESCAPES[nxt])
                    self.i += 2
                    continue
                if nxt == "u" or nxt == "U":
                    n = 4 if nxt == "u" else 8
                    buf.append(chr(int(s[self.i + 2:self.i + 2 + n], 16)))
                    self.i += 2 + n
                    continue
                self.fail(f"unknown escape \\{nxt}")
            if s.startswith("$${", self.i) or s.startswith("%%{", self.i):
                buf.append(s[self.i + 1:self.i + 3])
                self.i += 3
                continue
            if s.startswith("${", self.i):
                if buf:
                    parts.append("".join(buf))
                    buf = []
                self.i += 2
                self.eat("~")
                parts.append(self.expr())
                self.eat("~")
                self.expect("}")
                continue
            if s.startswith("%{", self.i):
                end = s.find("}", self.i)
                parts.append(("directive", s[self.i:end + 1]))
                self.i = end + 1 if end >= 0 else len(s)
                continue
            buf.append(c)
            self.i += 1
        if buf:
            parts.append("".join(buf))
        if all(isinstance(p, str) for p in parts):
            return ("lit", "".join(parts))
        if len(parts) == 1 and parts[0][0] != "directive":
            # "a template consisting only of a single interpolation ... the result is the value of that expression,
            # without any conversion" (HCL native syntax specification, Template Interpolations)
            return parts[0]
        return ("template", parts)

    def heredoc(self):
        m = re.compile(r"<<(-?)([A-Za-z_][A-Za-z0-9_]*)[ \t]*\r?\n").match(self.s, self.i)
        if not m:
            self.fail("expected a heredoc marker")
        indent, marker = m.group(1) == "-", m.group(2)
        end = re.compile(rf"^[ \t]*{re.escape(marker)}[ \t]*$", re.M).search(self.s, m.end())
        if not end:
            self.fail(f"heredoc {marker} is not closed")
        body = self.s[m.end():end.start()]
        self.i = end.end()
        if indent:  # <<- strips the smallest indentation of its lines
            lines = body.split("\n")
            pad = min((len(x) - len(x.lstrip(" \t")) for x in lines if x.strip()), default=0)
            body = "\n".join(x[pad:] for x in lines)
        sub = _Parser(body)
        return sub.template(None)


def parse(text: str):
    """The syntax tree of one HCL expression (raises :class:`HclError`)."""
    return _Parser(text).parse()


def from_hcl2(v):
    """A python-hcl2 value as a syntax tree: ``"${...}"`` is an expression, ``'"..."'`` a template or heredoc,
    dicts and lists are objects and tuples, numbers and booleans literals."""
    if isinstance(v, str):
        if v.startswith('"<<') and v.endswith('"'):
            return _Parser(v[1:-1]).heredoc()
        if len(v) >= 2 and v[0] == v[-1] == '"':
            p = _Parser(v)
            p.i = 1
            return p.template('"')
        if v.startswith("${") and v.endswith("}"):
            return parse(v[2:-1])
        return ("lit", v)
    if isinstance(v, bool) or v is None or isinstance(v, (int, float)):
        return ("lit", v)
    if isinstance(v, dict):
        return ("object", [(("lit", unquote(k)), from_hcl2(x)) for k, x in v.items() if not str(k).startswith("__")])
    if isinstance(v, list):
        return ("tuple", [from_hcl2(x) for x in v])
    return ("lit", v)


def unquote(k) -> str:
    k = str(k)
    return k[1:-1] if len(k) >= 2 and k[0] == k[-1] == '"' else k


def ref_text(node) -> str | None:
    """``var.x``, ``aws_sns_topic.t.arn``, ``local.m["k"]`` for a pure traversal; None otherwise."""
    if node[0] == "var":
        return node[1]
    if node[0] == "attr":
        base = ref_text(node[1])
        return None if base is None else f"{base}.{node[2]}"
    if node[0] == "index" and node[2][0] == "lit":
        base = ref_text(node[1])
        return None if base is None else f"{base}[{json.dumps(node[2][1])}]"
    if node[0] == "splat":
        base = ref_text(node[1])
        return None if base is None else base + "[*]" + "".join(
            f".{op[1]}" if op[0] == "attr" else "[...]" for op in node[2])
    return None


# ---------------------------------------------------------------------------------------------- evaluation
class Scope:
    """What names mean where an expression is evaluated.

    ``variables``: the module's variables (a declared variable without a value is absent from it but named in
    ``declared``); ``locals``: the module's ``locals`` as syntax trees (evaluated lazily, once); ``bound``: names
    bound by ``each``, ``count``, ``for`` and ``dynamic`` iterators; ``overrides``: values given for references
    (``aws_sns_topic.alerts.arn``, ``data.aws_caller_identity.current.account_id``); ``resources``: a callback
    that gives a resource reference's value (or None); ``module_path``: ``path.module``."""

    def __init__(self, variables: Mapping[str, Any] | None = None, declared: set | None = None,
                 locals_: Mapping[str, Any] | None = None, overrides: Mapping[str, Any] | None = None,
                 resources: Callable[[str, str], Any] | None = None, module_path: str = ".",
                 bound: Mapping[str, Any] | None = None, local_values: dict | None = None):
        self.variables = dict(variables or {})
        self.declared = set(declared or ()) | set(self.variables)
        self.locals = dict(locals_ or {})
        self.overrides = dict(overrides or {})
        self.resources = resources
        self.module_path = module_path
        self.bound = dict(bound or {})
        self._local_values = {} if local_values is None else local_values
        self._evaluating: set = set()
        #: file(): the folder being imported (nothing outside it is read) and the root module's folder
        self.files_base: str | None = None
        self.root_dir: str | None = None

    def child(self, **bound) -> "Scope":
        s = Scope(self.variables, self.declared, self.locals, self.overrides, self.resources, self.module_path,
                  {**self.bound, **bound}, self._local_values)
        s._evaluating = self._evaluating
        s.files_base, s.root_dir = self.files_base, self.root_dir
        return s

    def local(self, name: str):
        if name in self._local_values:
            return self._local_values[name]
        if name not in self.locals:
            raise HclError(f"local.{name} is not declared in this module")
        if name in self._evaluating:
            raise HclError(f"local.{name} refers to itself")
        self._evaluating.add(name)
        try:
            inner = Scope(self.variables, self.declared, self.locals, self.overrides, self.resources,
                          self.module_path, {}, self._local_values)
            inner.files_base, inner.root_dir, inner._evaluating = self.files_base, self.root_dir, self._evaluating
            v = evaluate(self.locals[name], inner)
        finally:
            self._evaluating.discard(name)
        self._local_values[name] = v
        return v


def evaluate(node, scope: Scope, depth: int = 0):
    """The value of a syntax tree in ``scope``: str, int, float, bool, None, list, dict, or :class:`Unknown`."""
    if depth > MAX_DEPTH:
        raise HclError("expression nested too deeply")
    kind = node[0]
    d = depth + 1
    if kind == "lit":
        return node[1]
    if kind == "paren":
        return evaluate(node[1], scope, d)
    if kind == "template":
        out = []
        for p in node[1]:
            if isinstance(p, str):
                out.append(p)
                continue
            if p[0] == "directive":
                return Unknown(p[1], "template directives (%{if}/%{for}) are not evaluated")
            v = settle(evaluate(p, scope, d))
            if isinstance(v, Unknown):
                return v
            out.append(to_string(v, "a template interpolation"))
        return "".join(out)
    if kind in ("var", "attr", "index", "splat"):
        return _traverse(node, scope, d)
    if kind == "tuple":
        return [evaluate(x, scope, d) for x in node[1]]
    if kind == "object":
        out = {}
        for k, v in node[1]:
            key = settle(evaluate(k, scope, d))
            if isinstance(key, Unknown):
                return key
            out[to_string(key, "an object key")] = evaluate(v, scope, d)
        return out
    if kind == "unary":
        v = settle(evaluate(node[2], scope, d))
        if isinstance(v, Unknown):
            return v
        if node[1] == "-":
            return -to_number(v)
        return not to_bool(v)
    if kind == "binary":
        return _binary(node[1], node[2], node[3], scope, d)
    if kind == "cond":
        c = settle(evaluate(node[1], scope, d))
        if isinstance(c, Unknown):
            return c
        return evaluate(node[2] if to_bool(c) else node[3], scope, d)
    if kind == "call":
        return call(node[1], node[2], node[3], scope, d)
    if kind == "for":
        return _for(node, scope, d)
    raise HclError(f"cannot evaluate {kind}")


def _binary(op, a_node, b_node, scope, d):
    a = settle(evaluate(a_node, scope, d))
    if op in ("&&", "||") and not isinstance(a, Unknown):  # short-circuit, as HCL does
        if op == "&&" and not to_bool(a):
            return False
        if op == "||" and to_bool(a):
            return True
        b = settle(evaluate(b_node, scope, d))
        return b if isinstance(b, Unknown) else to_bool(b)
    b = settle(evaluate(b_node, scope, d))
    u = a if isinstance(a, Unknown) else (b if isinstance(b, Unknown) else None)
    if u:
        return u
    if op == "==":
        return _equal(a, b)
    if op == "!=":
        return not _equal(a, b)
    x, y = to_number(a), to_number(b)
    if op == "+":
        return _num(x + y)
    if op == "-":
        return _num(x - y)
    if op == "*":
        return _num(x * y)
    if op == "/":
        if y == 0:
            raise HclError("division by zero")
        return _num(x / y)
    if op == "%":
        if y == 0:
            raise HclError("modulo by zero")
        return _num(math.fmod(x, y))
    return {">": x > y, ">=": x >= y, "<": x < y, "<=": x <= y}[op]


def _equal(a, b) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    na, nb = isinstance(a, (int, float)), isinstance(b, (int, float))
    if na or nb:
        return na and nb and a == b
    return type(a) is type(b) and a == b


def _num(x):
    if isinstance(x, float) and x.is_integer() and abs(x) < 2**53:
        return int(x)
    return x


_ROOT_UNKNOWN = {
    "data": "a data source, read at plan time: give its value in iac_values as {ref}",
    "module": "another module's output: give it in iac_values as {ref}, or import the folder that calls that module",
    "self": "self refers to the resource being created",
}


def _traverse(node, scope: Scope, d):
    text = ref_text(node)
    if text is not None:
        hit = _override(text, scope.overrides)
        if hit is not None:
            return hit
    kind = node[0]
    if kind == "var":
        return _root(node[1], scope, text or node[1])
    if kind == "attr":
        base = _base(node, scope, d)
        return get_attr(base, node[2], text)
    if kind == "index":
        base = _base(node, scope, d)
        key = settle(evaluate(node[2], scope, d))
        return get_index(base, key, text)
    # splat
    base = _base(node, scope, d)
    if isinstance(base, Unknown):
        return base
    items = [] if base is None else (base if isinstance(base, list) else [base])
    out = []
    for item in items:
        v = item
        for op in node[2]:
            v = get_attr(v, op[1], text) if op[0] == "attr" else get_index(v, evaluate(op[1], scope, d), text)
        out.append(v)
    return out


def _base(node, scope: Scope, d):
    """What a traversal step reads from: its base, itself a traversal (kept half-read) or any expression."""
    inner = node[1]
    return _traverse(inner, scope, d) if inner[0] in ("var", "attr", "index", "splat") else evaluate(inner, scope, d)


def _override(text: str, overrides: Mapping[str, Any]):
    """A value given for a reference: exactly (``aws_sns_topic.alerts.arn``), or for any name of a data source
    type (``data.aws_caller_identity.*.account_id``)."""
    if not overrides:
        return None
    if text in overrides:
        return overrides[text]
    parts = text.split(".")
    if len(parts) == 4 and parts[0] == "data":
        return overrides.get(f"data.{parts[1]}.*.{parts[3]}")
    return None


def _root(name: str, scope: Scope, text: str):
    if name in scope.bound:
        return scope.bound[name]
    if name == "var":
        return _VarNamespace(scope)
    if name == "local":
        return _LocalNamespace(scope)
    if name == "path":
        return {"module": scope.module_path, "root": ".", "cwd": "."}
    if name == "terraform":
        return {"workspace": "default"}
    if name in ("each", "count"):
        raise HclError(f"{name} is only defined in a resource or module with {name}"
                       f"{'_each' if name == 'each' else ''}")
    if name in _ROOT_UNKNOWN:
        return _Pending(name, _ROOT_UNKNOWN[name])
    if scope.resources is not None:
        return _ResourceType(name, scope)
    return _Pending(name, "another resource's attribute, known after apply: give it in iac_values as {ref}")


class Configured:
    """Another resource of the module: an argument its block sets is known at plan time (its value as written,
    e.g. ``aws_sns_topic.alerts.name`` when the topic sets ``name``); anything else (``arn``, ``id``, a computed
    attribute) is known only after apply."""

    def __init__(self, ref: str, body: dict, scope):
        self.ref, self.body, self.scope = ref, body, scope

    def get(self, name: str, text: str):
        if name in self.body and not isinstance(self.body[name], list) and name not in ("id", "arn"):
            return value_of(self.body[name], self.scope)
        return Unknown(f"{self.ref}.{name}", f"another resource's attribute, known after apply: give it in "
                                            f"iac_values as {self.ref}.{name}")


class _Pending:
    """A reference whose value is unknown whatever follows (``data.x.y.z``): becomes :class:`Unknown` with the
    whole reference once its last part is read."""

    def __init__(self, text: str, why: str):
        self.text, self.why = text, why

    def unknown(self, text: str | None = None) -> Unknown:
        ref = text or self.text
        return Unknown(ref, self.why.format(ref=ref))


class _VarNamespace:
    def __init__(self, scope: Scope):
        self.scope = scope

    def get(self, name: str, text: str):
        if name in self.scope.variables:
            return self.scope.variables[name]
        if name in self.scope.declared:
            return Unknown(f"var.{name}", f"variable {name!r} has no default and no value: give it with "
                                          f"--var {name}=VALUE, a -var-file, or the environment's iac_values")
        raise HclError(f"var.{name}: no variable {name!r} is declared in this module")


class _LocalNamespace:
    def __init__(self, scope: Scope):
        self.scope = scope

    def get(self, name: str, text: str):
        return self.scope.local(name)


class _ResourceType:
    """``TYPE`` of a resource reference ``TYPE.NAME.ATTR``: the scope's callback answers ``(TYPE, NAME)``."""

    def __init__(self, rtype: str, scope: Scope):
        self.rtype, self.scope = rtype, scope

    def get(self, name: str, text: str):
        v = self.scope.resources(self.rtype, name) if self.scope.resources else None
        if v is None:
            return _Pending(f"{self.rtype}.{name}", "another resource's attribute, known after apply: give it in "
                                                    "iac_values as {ref}")
        return v


def get_attr(base, name: str, text: str | None):
    if isinstance(base, Unknown):
        return base
    if isinstance(base, _Pending):
        return _Pending(f"{base.text}.{name}", base.why)
    if isinstance(base, (_VarNamespace, _LocalNamespace, _ResourceType, Configured)):
        return base.get(name, text or name)
    if isinstance(base, dict):
        if name in base:
            return base[name]
        raise HclError(f"{text or name}: this object has no attribute {name!r}")
    if base is None:
        raise HclError(f"{text or name}: attempt to get attribute {name!r} from a null value")
    raise HclError(f"{text or name}: a {type_name(base)} has no attribute {name!r}")


def get_index(base, key, text: str | None):
    if isinstance(base, Unknown):
        return base
    if isinstance(base, _Pending):
        return _Pending(f"{base.text}[{json.dumps(key) if not isinstance(key, Unknown) else '...'}]", base.why)
    if isinstance(key, Unknown):
        return key
    if isinstance(base, dict):
        k = to_string(key, "a map key")
        if k in base:
            return base[k]
        raise HclError(f"{text or k}: the map has no element {k!r}")
    if isinstance(base, list):
        i = int(to_number(key))
        if 0 <= i < len(base):
            return base[i]
        raise HclError(f"{text or i}: index {i} out of range for a list of {len(base)}")
    raise HclError(f"{text or key}: cannot index a {type_name(base)}")


def settle(v):
    """Turn what is left of a reference (``data.x.y``) into :class:`Unknown`; namespaces are errors."""
    if isinstance(v, _Pending):
        return v.unknown()
    if isinstance(v, Configured):
        return Unknown(v.ref, f"a whole resource ({v.ref}) is known only after apply")
    if isinstance(v, (_VarNamespace, _LocalNamespace, _ResourceType)):
        raise HclError("a namespace (var, local, a resource type) is not a value")
    if isinstance(v, list):
        return [settle(x) for x in v]
    if isinstance(v, dict):
        return {k: settle(x) for k, x in v.items()}
    return v


def _for(node, scope: Scope, d):
    _, kind, kname, vname, coll_node, key_node, val_node, cond_node, group = node
    coll = settle(evaluate(coll_node, scope, d))
    if isinstance(coll, Unknown):
        return coll
    if isinstance(coll, dict):
        pairs = [(k, coll[k]) for k in sorted(coll)]
    elif isinstance(coll, list):
        pairs = list(enumerate(coll))
    else:
        raise HclError(f"a for expression needs a list, set or map, not a {type_name(coll)}")
    out_list, out_obj = [], {}
    for k, v in pairs:
        inner = scope.child(**({kname: k} if kname else {}), **{vname: v})
        if cond_node is not None:
            c = settle(evaluate(cond_node, inner, d))
            if isinstance(c, Unknown):
                return c
            if not to_bool(c):
                continue
        if kind == "list":
            out_list.append(settle(evaluate(val_node, inner, d)))
        else:
            key = settle(evaluate(key_node, inner, d))
            if isinstance(key, Unknown):
                return key
            key = to_string(key, "a for expression's key")
            val = settle(evaluate(val_node, inner, d))
            if group:
                out_obj.setdefault(key, []).append(val)
            elif key in out_obj:
                raise HclError(f"a for expression gives the key {key!r} twice (add ... to group them)")
            else:
                out_obj[key] = val
    return out_list if kind == "list" else out_obj


# -------------------------------------------------------------------------------------------- conversions
def type_name(v) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "list"
    if isinstance(v, dict):
        return "map"
    if v is None:
        return "null"
    return type(v).__name__


def to_string(v, what: str = "a value") -> str:
    v = settle(v)
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return str(_num(v)) if v.is_integer() else repr(v)
    if v is None:
        raise HclError(f"{what}: null cannot be used as a string")
    raise HclError(f"{what}: a {type_name(v)} cannot be used as a string")


def to_number(v):
    v = settle(v)
    if isinstance(v, bool):
        raise HclError("a bool cannot be used as a number")
    if isinstance(v, (int, float)):
        return v
    if isinstance(v, str):
        try:
            return _num(float(v)) if re.fullmatch(r"\s*-?\d+(\.\d+)?([eE][-+]?\d+)?\s*", v) else _bad_number(v)
        except ValueError:
            _bad_number(v)
    raise HclError(f"a {type_name(v)} cannot be used as a number")


def _bad_number(v):
    raise HclError(f"{v!r} is not a number")


def to_bool(v) -> bool:
    v = settle(v)
    if isinstance(v, bool):
        return v
    if v in ("true", "false"):
        return v == "true"
    raise HclError(f"a {type_name(v)} cannot be used as a bool")


# ----------------------------------------------------------------------------------------------- functions
def _fmt(spec: str, args: list) -> str:
    """Terraform's ``format``: %s %d %f %v %q %t %% with width and precision."""
    out, i, ai = [], 0, 0
    for m in re.finditer(r"%(%|[-+ #0]*\d*(?:\.\d+)?[sdfvqtxXobeEgG])", spec):
        out.append(spec[i:m.start()])
        i = m.end()
        tok = m.group(1)
        if tok == "%":
            out.append("%")
            continue
        if ai >= len(args):
            raise HclError(f"format {spec!r}: not enough arguments")
        a, ai = args[ai], ai + 1
        verb, flags = tok[-1], tok[:-1]
        if verb in "sv":
            out.append(("%" + flags + "s") % (to_string(a) if not isinstance(a, (list, dict)) else json.dumps(a)))
        elif verb == "q":
            out.append(json.dumps(to_string(a)))
        elif verb == "t":
            out.append("true" if to_bool(a) else "false")
        elif verb in "dxXob":
            n = int(to_number(a))
            out.append(("%" + flags + ("d" if verb == "b" else verb)) % n if verb != "b" else format(n, "b"))
        else:
            out.append(("%" + flags + verb) % float(to_number(a)))
    out.append(spec[i:])
    return "".join(out)


def _replace(s, sub, rep):
    s, sub, rep = to_string(s), to_string(sub), to_string(rep)
    if len(sub) > 1 and sub.startswith("/") and sub.endswith("/"):
        return re.sub(sub[1:-1], re.sub(r"\$\{?(\d+)\}?", r"\\\1", rep), s)
    return s.replace(sub, rep)


def _lookup(m, k, *default):
    m = settle(m)
    if not isinstance(m, dict):
        raise HclError("lookup takes a map")
    k = to_string(k)
    if k in m:
        return m[k]
    if default:
        return default[0]
    raise HclError(f"lookup: the map has no key {k!r} and no default was given")


def _coalesce(*xs):
    for x in xs:
        if x is not None and x != "":
            return x
    raise HclError("coalesce: no non-null, non-empty argument")


def _element(lst, i):
    lst = list(lst)
    if not lst:
        raise HclError("element of an empty list")
    return lst[int(to_number(i)) % len(lst)]


def _merge(*ms):
    out = {}
    for m in ms:
        if m is None:
            continue
        if not isinstance(m, dict):
            raise HclError("merge takes maps or objects")
        out.update(m)
    return out


def _flatten(x):
    out = []
    for v in x:
        out.extend(_flatten(v) if isinstance(v, list) else [v])
    return out


def _tolist(x):
    if isinstance(x, list):
        return list(x)
    raise HclError(f"a {type_name(x)} cannot be converted to a list")


def _toset(x):
    if not isinstance(x, list):
        raise HclError(f"a {type_name(x)} cannot be converted to a set")
    if all(isinstance(v, str) for v in x):
        return sorted(set(x))
    out = []
    for v in x:
        if v not in out:
            out.append(v)
    return out


def _tomap(x):
    if isinstance(x, dict):
        return dict(x)
    raise HclError(f"a {type_name(x)} cannot be converted to a map")


def _substr(s, off, n):
    s, off, n = to_string(s), int(to_number(off)), int(to_number(n))
    if off < 0:
        off += len(s)
    return s[off:] if n < 0 else s[off:off + n]


def _range(*a):
    nums = [to_number(x) for x in a]
    if len(nums) == 1:
        start, stop, step = 0, nums[0], 1
    elif len(nums) == 2:
        start, stop, step = nums[0], nums[1], 1 if nums[1] >= nums[0] else -1
    else:
        start, stop, step = nums
    out, v = [], start
    while (step > 0 and v < stop) or (step < 0 and v > stop):
        out.append(_num(v))
        v += step
        if len(out) > 1024:
            raise HclError("range: more than 1024 elements")
    return out


def _one(x):
    if x is None or len(x) == 0:
        return None
    if len(x) == 1:
        return x[0]
    raise HclError("one: the list has more than one element")


def _index(lst, v):
    for i, x in enumerate(lst):
        if _equal(x, v):
            return i
    raise HclError("index: the value is not in the list")


FUNCTIONS: dict[str, Callable] = {
    "format": lambda spec, *a: _fmt(to_string(spec), list(a)),
    "formatlist": lambda spec, *a: [_fmt(to_string(spec), [x[i] if isinstance(x, list) else x for x in a])
                                    for i in range(max((len(x) for x in a if isinstance(x, list)), default=1))],
    "join": lambda sep, *lists: to_string(sep).join(to_string(x) for lst in lists for x in lst),
    "split": lambda sep, s: to_string(s).split(to_string(sep)),
    "lookup": _lookup,
    "merge": _merge,
    "concat": lambda *ls: [x for lst in ls for x in _tolist(lst)],
    "coalesce": _coalesce,
    "coalescelist": lambda *ls: next((x for x in ls if x), []),
    "replace": _replace,
    "lower": lambda s: to_string(s).lower(),
    "upper": lambda s: to_string(s).upper(),
    "title": lambda s: re.sub(r"\b\w", lambda m: m.group(0).upper(), to_string(s)),
    "trimspace": lambda s: to_string(s).strip(),
    "trim": lambda s, cs: to_string(s).strip(to_string(cs)),
    "trimprefix": lambda s, p: to_string(s).removeprefix(to_string(p)),
    "trimsuffix": lambda s, p: to_string(s).removesuffix(to_string(p)),
    "startswith": lambda s, p: to_string(s).startswith(to_string(p)),
    "endswith": lambda s, p: to_string(s).endswith(to_string(p)),
    "substr": _substr,
    "tostring": lambda x: None if x is None else to_string(x),
    "tonumber": lambda x: None if x is None else to_number(x),
    "tobool": lambda x: None if x is None else to_bool(x),
    "tolist": _tolist,
    "toset": _toset,
    "tomap": _tomap,
    "length": lambda x: len(x) if isinstance(x, (list, dict, str)) else _bad_len(x),
    "element": _element,
    "index": _index,
    "keys": lambda m: sorted(_tomap(m)),
    "values": lambda m: [m[k] for k in sorted(_tomap(m))],
    "contains": lambda lst, v: any(_equal(x, v) for x in _tolist(lst)),
    "flatten": _flatten,
    "distinct": lambda lst: [x for i, x in enumerate(lst) if not any(_equal(x, y) for y in lst[:i])],
    "compact": lambda lst: [x for x in lst if x not in (None, "")],
    "reverse": lambda lst: list(reversed(lst)),
    "sort": lambda lst: sorted(to_string(x) for x in lst),
    "slice": lambda lst, a, b: list(lst)[int(to_number(a)):int(to_number(b))],
    "zipmap": lambda ks, vs: {to_string(k): v for k, v in zip(ks, vs)},
    "range": _range,
    "one": _one,
    "min": lambda *a: _num(min(to_number(x) for x in a)),
    "max": lambda *a: _num(max(to_number(x) for x in a)),
    "abs": lambda x: _num(abs(to_number(x))),
    "ceil": lambda x: int(math.ceil(to_number(x))),
    "floor": lambda x: int(math.floor(to_number(x))),
    "pow": lambda a, b: _num(to_number(a) ** to_number(b)),
    "signum": lambda x: (to_number(x) > 0) - (to_number(x) < 0),
    "parseint": lambda s, b: int(to_string(s), int(to_number(b))),
    "jsonencode": lambda x: json.dumps(x, separators=(",", ":")),
    "list": lambda *a: list(a),          # Terraform 0.11
    "map": lambda *a: {to_string(a[i]): a[i + 1] for i in range(0, len(a) - 1, 2)},  # Terraform 0.11
    "jsondecode": lambda s: json.loads(to_string(s)),
    "can": None,   # special forms below
    "try": None,
}
_STRUCTURAL = {"merge", "concat", "lookup", "coalesce", "tolist", "toset", "tomap", "flatten", "compact", "length",
               "keys"}
_UNKNOWABLE = {"templatefile": "renders a template file", "timestamp": "is the time of the "
               "apply", "uuid": "is random", "filebase64": "reads a file", "fileexists": "looks at the disk",
               "plantimestamp": "is the time of the plan", "bcrypt": "is random"}


def _bad_len(x):
    raise HclError(f"length of a {type_name(x)}")


def call(name: str, arg_nodes: list, expand: bool, scope: Scope, d):
    if name == "try":
        for n in arg_nodes:
            try:
                v = settle(evaluate(n, scope, d))
            except HclError:
                continue
            return v  # an unknown value is returned as unknown: Terraform cannot know yet whether it fails
        raise HclError("try: no argument could be evaluated")
    if name == "can":
        if len(arg_nodes) != 1:
            raise HclError("can takes one argument")
        try:
            v = settle(evaluate(arg_nodes[0], scope, d))
        except HclError:
            return False
        return v if isinstance(v, Unknown) else True
    if name == "file":
        if len(arg_nodes) != 1:
            raise HclError("file takes one path")
        path = settle(evaluate(arg_nodes[0], scope, d))
        return path if isinstance(path, Unknown) else _read_file(to_string(path), scope)
    if name in _UNKNOWABLE:
        return Unknown(f"{name}(...)", f"{name} {_UNKNOWABLE[name]}: give the value in iac_values")
    fn = FUNCTIONS.get(name)
    if fn is None:
        if "::" in name:
            return Unknown(f"{name}(...)", "a provider-defined function")
        raise HclError(f"there is no function named {name!r} (or this evaluator does not implement it)")
    args = [settle(evaluate(n, scope, d)) for n in arg_nodes]
    if expand:
        last = args.pop()
        if isinstance(last, Unknown):
            return last
        args += list(last)
    whole = next((a for a in args if isinstance(a, Unknown)), None)  # an argument unknown as a whole
    if whole is not None:
        return whole
    # an unknown inside a collection: the functions that only move elements keep it inside their result
    if name not in _STRUCTURAL and first_unknown(*args) is not None:
        return first_unknown(*args)
    try:
        return fn(*args)
    except HclError:
        raise
    except (TypeError, ValueError, KeyError, IndexError, AttributeError, re.error) as e:
        raise HclError(f"{name}: {e}") from None


def parse_type(type_text: str):
    """A variable's type constraint as a syntax tree (``map(object({a = string, b = optional(number, 3)}))``), or
    None for no constraint / ``any`` / Terraform 0.11's quoted ``"string"``."""
    text = str(type_text or "").strip()
    if text.startswith("${") and text.endswith("}"):
        text = text[2:-1]
    text = text.strip().strip('"')
    if not text or text == "any":
        return None
    try:
        return parse(text)
    except HclError:
        return None


def convert(value, tnode):
    """``value`` converted to the type constraint ``tnode`` as Terraform converts a variable's value: primitives
    converted (``"5"`` to 5 for a number), an object's missing ``optional`` attributes filled with their default
    (or null), collections element by element. What cannot be converted is left as it is (the alarm's own
    validation then names it)."""
    if tnode is None or isinstance(value, Unknown) or value is None:
        return value
    kind = tnode[0]
    if kind == "var":
        name = tnode[1]
        try:
            if name == "string" and isinstance(value, (int, float, bool)):
                return to_string(value)
            if name == "number" and isinstance(value, str):
                return to_number(value)
            if name == "bool" and isinstance(value, str):
                return to_bool(value)
        except HclError:
            return value
        return value
    if kind != "call" or not tnode[2]:
        return value
    fn, args = tnode[1], tnode[2]
    if fn in ("list", "set") and isinstance(value, list):
        return [convert(v, args[0]) for v in value]
    if fn == "map" and isinstance(value, dict):
        return {k: convert(v, args[0]) for k, v in value.items()}
    if fn == "tuple" and isinstance(value, list) and args[0][0] == "tuple":
        return [convert(v, tt) for v, tt in zip(value, args[0][1])] + value[len(args[0][1]):]
    if fn == "object" and isinstance(value, dict) and args[0][0] == "object":
        out = dict(value)
        for knode, tt in args[0][1]:
            key = knode[1] if knode[0] == "lit" else None
            if key is None:
                continue
            optional = tt[0] == "call" and tt[1] == "optional"
            inner = tt[2][0] if optional and tt[2] else tt
            if key in out:
                out[key] = convert(out[key], inner)
            elif optional:
                default = evaluate(tt[2][1], Scope()) if len(tt[2]) > 1 else None
                out[key] = convert(default, inner)
        return out
    return value


#: the largest file ``file()`` reads (a hostile path cannot make the import read a disk)
MAX_FILE = 1 << 20


def _read_file(path: str, scope: Scope):
    """``file(path)``: Terraform reads it relative to the root module's folder; here only a file inside the
    folder being imported is read (anything else is unknown, named)."""
    base = getattr(scope, "files_base", None)
    root = getattr(scope, "root_dir", None)
    if base is None or root is None:
        return Unknown(f"file({path!r})", "file() outside an import: give the value in iac_values")
    p = Path(path) if Path(path).is_absolute() else Path(root) / path
    try:
        p = p.resolve()
        inside = p.is_relative_to(Path(base).resolve())
    except (OSError, ValueError):
        inside = False
    if not inside or not p.is_file() or p.stat().st_size > MAX_FILE:
        return Unknown(f"file({path!r})", "file() of a file outside the imported folder (or missing, or over 1 MB): "
                                         "give the value in iac_values")
    return p.read_text(encoding="utf-8", errors="replace")


def value_of(v, scope: Scope):
    """A python-hcl2 attribute value, evaluated (and settled: no half-read reference left)."""
    return settle(evaluate(from_hcl2(v), scope))


def text_of(v) -> str:
    """The source text of a python-hcl2 attribute value, for messages."""
    if isinstance(v, str):
        return v[2:-1] if v.startswith("${") and v.endswith("}") else v
    return json.dumps(v, default=str)
