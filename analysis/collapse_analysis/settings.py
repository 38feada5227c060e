"""Parse the configuration text stored in checkpoints (libconfig syntax) into flat settings,
and find the settings that distinguish groups of ensemble members.

Only what comparing configurations needs is parsed: groups become dotted keys
("vae.epochs"), and arrays and lists are kept as one normalized value ("[1, 2, 3]").
Numbers are normalized, so 1e-3 and 0.0010 compare equal.
"""

import re

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<comment>\#[^\n]*|//[^\n]*|/\*.*?\*/)
  | (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<number>[-+]?(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)L{0,2})
  | (?P<name>[A-Za-z*][-A-Za-z0-9_*]*)
  | (?P<punct>[=:;,{}()\[\]])
    """,
    re.VERBOSE | re.DOTALL,
)

# Settings that differ between members of one experiment without defining a condition.
# These are the seeds, the data set name (already part of every group key), file locations
# and the parallel layout. The generation count is one too, because a longer run repeats a
# shorter one's generations exactly.
DEFAULT_IGNORED_SETTINGS = (
    "*seed*",
    "*generations",
    "dataset",
    "datasets",
    "dataset.name",
    "*dir",
    "*directory",
    "*path",
    "*file",
    "*_images",
    "*_labels",
    "mapping",
    "*output*",
    "sample_grid",
    "log*",
    "*threads",
    "*ranks*",
    "resume",
)


class SettingsError(ValueError):
    """Configuration text that is not valid libconfig syntax."""


def _tokenize(text):
    tokens = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            line = text.count("\n", 0, position) + 1
            raise SettingsError(f"unexpected character {text[position]!r} on line {line}")
        kind = match.lastgroup
        if kind not in ("space", "comment"):
            tokens.append((kind, match.group()))
        position = match.end()
    return tokens


class _Parser:
    """Recursive-descent parser building nested values: dict for a group, list for an
    array or list, normalized text for a scalar."""

    def __init__(self, text):
        self.tokens = _tokenize(text)
        self.index = 0

    def peek(self):
        return self.tokens[self.index] if self.index < len(self.tokens) else (None, None)

    def take(self, expected=None):
        token = self.peek()
        if token[0] is None:
            raise SettingsError("unexpected end of configuration text")
        if expected is not None and token[1] not in expected:
            raise SettingsError(f"expected one of {' '.join(expected)}, found {token[1]!r}")
        self.index += 1
        return token

    def parse_group(self, closing):
        group = {}
        while True:
            kind, text = self.peek()
            if text == closing or (closing is None and kind is None):
                return group
            kind, name = self.take()
            if kind != "name":
                raise SettingsError(f"expected a setting name, found {name!r}")
            self.take(("=", ":"))
            group[name] = self.parse_value()
            if self.peek()[1] in (";", ","):
                self.take()

    def parse_value(self):
        text = self.peek()[1]
        if text == "{":
            self.take()
            group = self.parse_group("}")
            self.take(("}",))
            return group
        if text in ("[", "("):
            closing = "]" if self.take()[1] == "[" else ")"
            items = []
            while self.peek()[1] != closing:
                items.append(self.parse_value())
                if self.peek()[1] == ",":
                    self.take()
            self.take((closing,))
            return items
        return self.parse_scalar()

    def parse_scalar(self):
        kind, text = self.take()
        if kind == "string":
            parts = [_unquote(text)]
            while self.peek()[0] == "string":
                parts.append(_unquote(self.take()[1]))
            return '"' + "".join(parts) + '"'
        if kind == "number":
            return _normalize_number(text)
        if kind == "name" and text.lower() in ("true", "false"):
            return text.lower()
        raise SettingsError(f"expected a value, found {text!r}")


def _unquote(token):
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), token[1:-1])


def _normalize_number(text):
    text = text.rstrip("L")
    try:
        if text.lower().startswith(("0x", "+0x", "-0x")):
            return str(int(text, 16))
        if re.fullmatch(r"[-+]?\d+", text):
            return str(int(text))
        return repr(float(text))
    except ValueError as error:
        raise SettingsError(f"invalid number {text!r}") from error


def parse_tree(text):
    """Parse libconfig text into nested dicts and lists with normalized scalar text.

    Raises SettingsError on text this parser does not understand (including @include).
    """
    return _Parser(text).parse_group(None)


def _render(value):
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key} = {_render(item)}" for key, item in sorted(value.items())) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_render(item) for item in value) + "]"
    return value


def flatten(tree, prefix=""):
    """Return {dotted key: value text}: groups are descended, arrays and lists kept whole."""
    flat = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[prefix + key] = _render(value)
    return flat


def parse_settings(text):
    """Parse libconfig text into {dotted key: normalized value text}."""
    return flatten(parse_tree(text))


# Keys of a `datasets` entry that override the root setting of the same name, as
# read_member_settings in src/io/config.c applies them. The entry's other keys describe the data set.
DATASET_OVERRIDES = ("generations", "samples", "batch_size", "vae", "classifier")


def member_settings(text, dataset):
    """Return the flat settings one member ran with: the root settings, overlaid with the
    entry of the `datasets` list whose name is `dataset`. The entry's own data set keys
    become "dataset.<key>"; the list itself is left out."""
    tree = parse_tree(text)
    entries = tree.pop("datasets", [])
    settings = flatten(tree)
    if not isinstance(entries, list):
        return settings
    for entry in entries:
        if isinstance(entry, dict) and entry.get("name") == f'"{dataset}"':
            overrides = {key: value for key, value in entry.items() if key in DATASET_OVERRIDES}
            described = {key: value for key, value in entry.items() if key not in DATASET_OVERRIDES}
            settings.update(flatten(overrides))
            settings.update(flatten(described, "dataset."))
            break
    return settings


def parse_member_settings(text):
    """Parse the "key = value" lines of a checkpoint's member_settings attribute."""
    settings = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        key, separator, value = line.partition("=")
        if not separator or not key.strip():
            raise SettingsError(f"line {number} of member_settings is not 'key = value': {line!r}")
        settings[key.strip()] = value.strip()
    return settings


def _is_ignored(key, patterns):
    last = key.rsplit(".", 1)[-1]
    for pattern in patterns:
        regex = "^" + re.escape(pattern).replace(r"\*", ".*") + "$"
        if re.match(regex, last, re.IGNORECASE) or re.match(regex, key, re.IGNORECASE):
            return True
    return False


def distinguishing_settings(settings_by_member, ignored=DEFAULT_IGNORED_SETTINGS):
    """Return the sorted keys whose values differ between members, minus ignored keys.

    `settings_by_member` maps member names to parsed settings; a key that a member lacks
    counts as the value "(unset)". Patterns in `ignored` match a key's last component or
    the whole dotted key, with * as wildcard, case-insensitively.
    """
    keys = set()
    for settings in settings_by_member.values():
        keys.update(settings)
    differing = []
    for key in sorted(keys):
        if _is_ignored(key, ignored):
            continue
        values = {settings.get(key, "(unset)") for settings in settings_by_member.values()}
        if len(values) > 1:
            differing.append(key)
    return differing
