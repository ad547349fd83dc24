"""Building the syntax tree while the LALR parser reduces: one method per grammar rule.

Lark calls these methods as it reduces (its inline-transformer mode), so no parse tree is
built and no second, recursive pass walks one: a deeply nested spec costs no Python stack
here. Every method receives all the tokens of its rule (`keep_all_tokens`), so a node's span
runs from its first token to its last, keywords and brackets included, as the source reads.

The same methods measure what `parse` bounds (`gandsl.limits`), bottom-up: each node's
height (levels of nesting below it) and, for expressions, how many operands it holds. A
node past a limit is reported once, and its ancestors stay quiet. A number literal out of
range is reported too. Reports go to the `Diagnostics` of the parse in progress.

The rules are mixins of `Builder`, one module each: `declarations`, `statements`,
`expressions`; `places` holds the parse in progress and the spans, `measure` the limits.
"""

from __future__ import annotations

from lark import Transformer

from .declarations import Declarations
from .expressions import Expressions
from .measure import MAX_DEPTH, MAX_OPERANDS
from .places import MAX_NUMBER_DIGITS, STATE, Seq, number_value, span_of, tspan
from .statements import Statements


class Builder(Declarations, Statements, Expressions, Transformer):
    """One method per grammar rule (and alias); each returns the `syntax` object of its
    text, with its span."""


__all__ = ["Builder", "STATE", "Seq", "number_value", "span_of", "tspan", "MAX_DEPTH",
           "MAX_OPERANDS", "MAX_NUMBER_DIGITS"]
