"""Training configurations as dataclasses with one set of defaults, loadable from a TOML or YAML file.

``load_config(SequenceTrainConfig, "cfg.toml", epochs=3)``: the file's keys, then keyword
overrides (e.g. from CLI flags), over the dataclass defaults. Unknown keys are an error
naming the file and the key (a typo never silently trains the default).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, TypeVar

__all__ = ["load_config", "read_config_file"]

C = TypeVar("C")


def read_config_file(path: str | Path) -> dict[str, Any]:
    """The mapping in a ``.toml`` (stdlib ``tomllib``) or ``.yaml``/``.yml`` (PyYAML, safe loader) file.

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        Unknown extension, a syntax error, or not a mapping at the top (the message names the file).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: config file not found")
    try:
        if path.suffix == ".toml":
            import tomllib

            data = tomllib.loads(path.read_text())
        elif path.suffix in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(path.read_text())
        else:
            raise ValueError(f"{path}: config files are .toml or .yaml, not {path.suffix!r}")
    except ValueError:
        raise
    except Exception as exc:  # tomllib.TOMLDecodeError is a ValueError; yaml.YAMLError is not
        raise ValueError(f"{path}: not a valid config file ({exc})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a config file holds a mapping of settings")
    return data


def load_config(cls: type[C], path: str | Path | None = None, **overrides) -> C:
    """An instance of the dataclass ``cls``: defaults ← the file at ``path`` ← ``overrides`` (None values skipped).

    Lists become tuples where the field is annotated as a tuple.

    Raises
    ------
    ValueError
        Unknown keys (named with the file), or a bad file (:func:`read_config_file`).
    """
    fields = {f.name: f for f in dataclasses.fields(cls)}
    values = dict(read_config_file(path)) if path is not None else {}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ValueError(f"{path}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(fields))}")
    values.update({k: v for k, v in overrides.items() if v is not None})
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ValueError(f"unknown setting(s) {', '.join(unknown)} for {cls.__name__}")
    for k, v in values.items():
        if isinstance(v, list) and "tuple" in str(fields[k].type):
            values[k] = tuple(v)
    return cls(**values)
