"""The builder's rules of declarations: the module and its header, imports, externs, params,
lets, data, top-level `if`, types, blocks and networks (their signatures and bodies)."""

from __future__ import annotations

from lark import Token

from .. import syntax as S
from .measure import expr_rule, stmt_rule
from .places import STATE, Else, Seq, parts, span_of, split_args, tspan, unquote


class Declarations:
    """Top-level items, types, blocks and networks."""

    # -- top level
    def start(self, c):
        c = parts(c)
        header = c[0] if c and isinstance(c[0], S.Header) else None
        return S.Module(header, [x for x in c if not isinstance(x, S.Header)])

    @stmt_rule
    def header(self, c):
        name, *title = parts(c)
        return S.Header(str(name), unquote(title[0]) if title else None, span_of(c))

    def empty(self, c):
        return None

    @stmt_rule
    def import_decl(self, c):
        path, *arguments = parts(c)
        args, kwargs = split_args(arguments)
        if args:  # `import "x.gan" (64)`: a param is set by its name
            STATE.diags.error("E105", "an import sets the file's params by name: "
                              "`import \"x.gan\" (ch=64)`", args[0].span)
        return S.ImportDecl(span_of(c), unquote(str(path)), tspan(path), kwargs)

    @stmt_rule
    def extern_decl(self, c):
        kind, name, *rest = parts(c)
        params = list(rest[0]) if len(rest) == 3 else []
        result, target = rest[-2], rest[-1]
        return S.ExternDecl(span_of(c), str(kind), str(name), tspan(name), params, str(result),
                            tspan(result), unquote(str(target)), tspan(target))

    @stmt_rule
    def extern_params(self, c):
        return Seq(parts(c), span_of(c))

    @stmt_rule
    def extern_param(self, c):
        name, kind, *default = parts(c)
        return S.ExternParam(str(name), str(kind), default[0] if default else None, tspan(name),
                             tspan(kind))

    @stmt_rule
    def param_decl(self, c):
        name, *choices, value = parts(c)
        return S.ParamDecl(span_of(c), str(name), tspan(name), value,
                           choices[0] if choices else None)

    @stmt_rule
    def let_decl(self, c):
        name, value = parts(c)
        return S.Let(span_of(c), str(name), tspan(name), value)

    @stmt_rule
    def data_source(self, c):
        p = parts(c)
        return S.DataDecl(span_of(c), str(p[0]), tspan(p[0]), list(p[1:-1]), p[-1])

    @stmt_rule
    def data_alias(self, c):
        name, source = parts(c)
        return S.DataDecl(span_of(c), str(name), tspan(name), [], source)

    @stmt_rule
    def top_if(self, c):
        cond, *rest = parts(c)
        orelse = None
        if rest and isinstance(rest[-1], Else):
            orelse = rest.pop().items
        return S.If(span_of(c), cond, rest, orelse)

    @stmt_rule
    def top_else(self, c):
        return Else(parts(c), span_of(c))  # items, or the one `if` of `else if`

    # -- types
    @stmt_rule
    def type(self, c):
        p = parts(c)
        return S.TypeExpr(str(p[0]), p[1:], span_of(c))

    # -- blocks and networks
    @stmt_rule
    def block_decl(self, c):
        name, *params, body = parts(c)
        return S.BlockDecl(span_of(c), str(name), tspan(name), list(params[0]) if params else [],
                           list(body))

    @stmt_rule
    def block_params(self, c):
        return Seq(parts(c), span_of(c))

    @stmt_rule
    def block_param(self, c):
        name, *default = parts(c)
        return S.BlockParam(str(name), default[0] if default else None, tspan(name))

    @stmt_rule
    def network(self, c):
        p = parts(c)
        frozen = isinstance(p[0], Token) and p[0].type == "FROZEN"
        if frozen:
            p = p[1:]
        name, *inputs, outputs, body = p
        return S.NetworkDecl(span_of(c), str(name), tspan(name),
                             list(inputs[0]) if inputs else [], list(outputs), list(body), frozen)

    @stmt_rule
    def network_copy(self, c):
        name, source = parts(c)
        return S.NetworkCopy(span_of(c), str(name), tspan(name), str(source), tspan(source))

    @expr_rule
    def labeled(self, c):
        label, expr = parts(c)
        return S.Labeled(span_of(c), str(label), tspan(label), expr)

    @stmt_rule
    def typed_args(self, c):
        return Seq(parts(c), span_of(c))

    @stmt_rule
    def typed_arg(self, c):
        name, type_ = parts(c)
        return S.TypedName(str(name), type_, tspan(name))

    @stmt_rule
    def single_output(self, c):
        (type_,) = parts(c)
        return Seq([S.TypedName("", type_, type_.span)], span_of(c))

    @stmt_rule
    def named_outputs(self, c):
        (args,) = parts(c)
        return Seq(args, span_of(c))

    @stmt_rule
    def body(self, c):
        return Seq(parts(c), span_of(c))
