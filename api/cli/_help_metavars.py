"""Help that names what an option takes the way click does (TEXT, INTEGER, PATH), not
Typer 0.29's Python type placeholders (`<str>`, `<bool>`, `<list[str]>`).

Typer 0.29 renders each parameter's type column from its annotation (`TyperOption.
display_type` returns `<str>`) unless the parameter has a `metavar`, and shows `<bool>`
beside every flag. `plain_metavars` walks the built click command tree once, before the
command runs, and gives each option click's name of its type (or none for a flag) and
each argument its name in capitals (FILE), so usage lines and help read as click's do.
Typer 0.29 carries its own copy of click (`typer._click`) and no click types on its
parameters, so the words are read from Typer's own placeholder.
"""

from __future__ import annotations

from typing import Any

from typer.core import TyperArgument, TyperGroup, TyperOption


class _PlainArgument(TyperArgument):
    """An argument whose help shows click's type name (TEXT, PATH), not a Python type."""

    def display_type_rich(self, ctx: Any) -> str | None:
        return type_label(self.display_type(ctx))


_WORDS = {"str": "TEXT", "int": "INTEGER", "float": "FLOAT", "bool": "BOOLEAN", "path": "PATH"}


def type_label(placeholder: str) -> str:
    """click's word for what Typer writes as a Python type: `<str>` TEXT, `<int range>`
    INTEGER, `<list[str]>` TEXT (repeatable), `<path>` PATH, `<a|b>` [a|b]."""
    inner = placeholder.strip().removeprefix("<").removesuffix(">")
    if inner.startswith("list[") and inner.endswith("]"):
        inner = inner[5:-1]
    inner = inner.removesuffix(" range")
    if "|" in inner:
        return f"[{inner}]"
    return _WORDS.get(inner, inner.upper())


def plain_metavars(command: Any) -> None:
    """Give every parameter of `command` and its subcommands a click-style metavar."""
    for param in command.params:
        if isinstance(param, TyperOption):
            if param.metavar is None and param.is_flag:
                param.metavar = ""
            elif param.metavar is None:
                # No context yet: display_type reads one only to normalise a choice's case.
                no_context: Any = None
                param.metavar = type_label(param.display_type(no_context))
        elif isinstance(param, TyperArgument):
            if param.metavar is None and param.name:
                param.metavar = param.name.upper()
            param.__class__ = _PlainArgument
    _plain_help_option(command)
    for sub in getattr(command, "commands", {}).values():
        plain_metavars(sub)


def _plain_help_option(command: Any) -> None:
    """`--help` is made per context (`get_help_option`), outside `params`: no `<bool>` on it."""
    made = command.get_help_option

    def get_help_option(ctx: Any) -> Any:
        option = made(ctx)
        if option is not None:
            option.metavar = ""
        return option

    command.get_help_option = get_help_option


class PlainHelpGroup(TyperGroup):
    """The root group: its tree gets click-style metavars before any command runs."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        plain_metavars(self)
        return super().main(*args, **kwargs)
