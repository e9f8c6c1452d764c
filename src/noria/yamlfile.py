"""Reading noria's own YAML files (``noria.yaml``, the schema file) safely and with bounds.

PyYAML's safe loader still expands aliases: a self-referencing alias (``a: &a [*a]``) made the
readers recurse until Python gave up (an internal ``RecursionError``), and a "billion laughs"
alias bomb of a few lines made a ``noria.yaml`` take gigabytes and minutes to read. noria's
files are written by people and by ``noria init``; none needs an alias, so
:func:`load_yaml` refuses every alias (``*name``, and so the merge key ``<<: *name``) with a
one-line :class:`~noria.errors.ConfigError` naming the file and the line, and refuses documents
nested deeper than Python can read. A key given twice in one mapping is refused too, naming
both lines: PyYAML keeps the later value silently, so a setting added at the end of a section
was overridden by the same key further down without a word.

This module imports PyYAML only when a file is read.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from noria.errors import ConfigError

__all__ = ["load_yaml"]


@functools.cache
def _loader() -> type:
    import yaml

    class NoAliasLoader(yaml.SafeLoader):
        """The safe loader, refusing aliases where the composer meets them."""

        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                event = self.peek_event()
                raise _AliasFound(event.anchor, event.start_mark.line + 1)
            return super().compose_node(parent, index)

        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                if isinstance(key_node, yaml.ScalarNode):
                    key = key_node.value
                    line = key_node.start_mark.line + 1
                    if key in seen:
                        raise _DuplicateKey(str(key), seen[key], line)
                    seen[key] = line
            return super().construct_mapping(node, deep=deep)

    return NoAliasLoader


class _DuplicateKey(Exception):
    def __init__(self, key: str, first: int, again: int) -> None:
        super().__init__(key, first, again)
        self.key, self.first, self.again = key, first, again


class _AliasFound(Exception):
    def __init__(self, anchor: str, line: int) -> None:
        super().__init__(anchor, line)
        self.anchor = anchor
        self.line = line


def load_yaml(text: str, file: str | Path) -> tuple[Any, Any]:
    """The value of a one-document YAML text and its composed node (for line numbers).

    Args:
        text: the YAML.
        file: the file it came from (for messages).

    Returns:
        ``(value, node)``; both ``None`` for an empty document.

    Raises:
        ConfigError: an alias (``*name``), a key given twice in one mapping, or nesting too
            deep; the message names file and line.
        yaml.YAMLError: the text is not valid YAML (the callers word that message).
    """
    loader = _loader()(text)
    try:
        node = loader.get_single_node()
        value = loader.construct_document(node) if node is not None else None
    except _AliasFound as found:
        raise ConfigError(
            f"{file}:{found.line}: YAML aliases (*{found.anchor}) are not allowed in "
            f"{Path(file).name}; write the value out where it is used"
        ) from None
    except _DuplicateKey as dup:
        raise ConfigError(
            f"{file}:{dup.again}: key '{dup.key}' is given twice in one mapping (also on line "
            f"{dup.first}); keep one of them"
        ) from None
    except RecursionError:
        raise ConfigError(
            f"{file}: nested too deeply to read; flatten the lists and mappings"
        ) from None
    finally:
        loader.dispose()
    return value, node
