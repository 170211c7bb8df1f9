"""What a new model, version or user name may contain: the one grammar every route relies on.

A name is used whole in places that each give some characters a meaning of their own: one
URL path segment (`/v1/models/{model}/versions/{version}/card.pdf`), the file name of a
download, an argument on the `govledger` command line, a query parameter, a signed
statement. The grammar keeps every name meaningful in all of them at once:

- **Letters, digits and a few separators only.** Letters and combining marks are Unicode
  letters (categories L and M, so `modèle-crédit` or `信用评分` are names), digits are
  decimal digits (Nd). Model names may also hold `-`, `_`, `.` and single spaces between
  words; versions `-`, `_`, `.` and `+` (SemVer 2.0.0 build metadata, `1.0.0+build.7`); user
  names `-`, `_`, `.` and `@` (an e-mail-like login). Everything else is refused, among it
  `/` and `\\` (path separators: `a/b` would be two segments, or another model's version),
  `%` (a name must read the same before and after percent-decoding), `?` and `#` (they end a
  URL's path, RFC 3986 section 3.3), `;` `:` `"` `'` `<` `>` `|` `*` (reserved in URLs,
  shells or Windows file names), control, format and private-use characters, and any
  whitespace but the single interior space of a model name.
- **It starts with a letter or digit and ends with a letter, mark or digit.** So no name is
  `.` or `..` (RFC 3986 section 5.2.4 dot-segments, which clients remove before sending) or
  begins with `-` (read as an option by the CLI), and none starts or ends with a dot,
  separator or space (Windows drops a trailing dot or space from a file name).
- **It is its own NFKC form** (Unicode Standard Annex #15). Names are stored in NFC
  (`ledger.records.normalize_name`), so the composed and decomposed spellings of `é` are one
  name; a name must also not change under compatibility normalisation, which refuses the
  fullwidth `ｍｏｄｅｌ`, ligatures such as `ﬁ` and superscript digits that would otherwise
  be a second name looking like the first.

Lengths are `normalize_name`'s: models and users 1-200 characters, versions 1-64.

Only statements that bring a name into the ledger are held to the grammar (admission: a
registration, a run of a model not yet in the ledger, the version of a run; the identity store:
a new user). A ledger written before the grammar may hold other names, such as `a/b`: its
entries keep verifying, statements may still refer to those names, and the API reaches them
by percent-encoding every character that is not unreserved (`a%2Fb`, see `api.path_names`).
"""

from __future__ import annotations

import re
import unicodedata

from ledger.errors import InvalidName

MODEL_SEPARATORS = "-_. "
VERSION_SEPARATORS = "-_.+"
USER_SEPARATORS = "-_.@"
_SAID = {
    MODEL_SEPARATORS: "'-', '_', '.' and single spaces between words",
    VERSION_SEPARATORS: "'-', '_', '.' and '+'",
    USER_SEPARATORS: "'-', '_', '.' and '@'",
}

_FIRST = frozenset({"Lu", "Ll", "Lt", "Lm", "Lo", "Nd"})
"""Unicode categories a name may start with: letters and decimal digits."""
_WORD = _FIRST | {"Mn", "Mc"}
"""Categories a name is made of (besides its separators): letters, digits and the combining
marks that belong to a letter (an accent, a vowel sign); a name may end with any of them."""


_PLAIN = {
    separators: re.compile(
        r"[A-Za-z0-9](?:[A-Za-z0-9" + re.escape(separators) + r"]*[A-Za-z0-9])?\Z"
    )
    for separators in _SAID
}
"""The grammar for plain ASCII names, which nearly every name is: one regular expression
instead of a Unicode category per character (admission asks this of every statement)."""


def _problem(name: str, field: str, separators: str) -> str | None:
    """Why `name` (already NFC) breaks the grammar with these separators, or None."""
    if _PLAIN[separators].match(name) and "  " not in name:
        return None  # ASCII letters, digits and separators: NFKC leaves it as it is
    rule = (
        f"{field} names are made of letters, digits, {_SAID[separators]}, and start and end "
        "with a letter or digit"
    )
    if not name:
        return f"{field} name must not be empty"
    for ch in name:
        if unicodedata.category(ch) not in _WORD and ch not in separators:
            return f"{field} name {name!r} contains {ch!r} (U+{ord(ch):04X}): {rule}"
    if unicodedata.category(name[0]) not in _FIRST:
        return f"{field} name {name!r} starts with {name[0]!r}: {rule}"
    if unicodedata.category(name[-1]) not in _WORD:
        return f"{field} name {name!r} ends with {name[-1]!r}: {rule}"
    if "  " in name:
        return f"{field} name {name!r} has two spaces in a row: separate words by one space"
    if unicodedata.normalize("NFKC", name) != name:
        return (
            f"{field} name {name!r} holds compatibility characters (fullwidth forms, "
            f"ligatures, superscripts): write it as {unicodedata.normalize('NFKC', name)!r}"
        )
    return None


def model_name_problem(name: str) -> str | None:
    """Why a model name may not enter the ledger, or None when it may."""
    return _problem(name, "model", MODEL_SEPARATORS)


def version_name_problem(name: str) -> str | None:
    """Why a version name may not enter the ledger, or None when it may."""
    return _problem(name, "version", VERSION_SEPARATORS)


def user_name_problem(name: str) -> str | None:
    """Why a new user may not have this name, or None when it may."""
    return _problem(name, "user", USER_SEPARATORS)


def check_model_name(name: str) -> None:
    """Raise InvalidName unless a new model may have this name."""
    problem = model_name_problem(name)
    if problem is not None:
        raise InvalidName(problem)


def check_version_name(name: str) -> None:
    """Raise InvalidName unless a new version may have this name."""
    problem = version_name_problem(name)
    if problem is not None:
        raise InvalidName(problem)


def check_user_name(name: str) -> None:
    """Raise InvalidName unless a new user may have this name."""
    problem = user_name_problem(name)
    if problem is not None:
        raise InvalidName(problem)
