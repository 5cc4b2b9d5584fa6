"""One way to store and read model weights: safetensors, with JSON metadata.

Every emorec model writes its tensors with :func:`save_weights` and reads them
with :func:`read_weights`; nothing is ever unpickled. The metadata values are
JSON (classes, blocks, configuration, a free ``info`` dict with the training
notes), so ``safetensors``' header is all a reader needs to rebuild the model.
Shipped weights live in the package folder :func:`shipped_path` names.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["read_metadata", "read_weights", "save_weights", "shipped_path", "weights_digest"]


def shipped_path(file_name: str) -> Path:
    """Path of a weights file shipped inside the installed package (``emorec/weights/<file_name>``); it may not exist."""
    return Path(str(resources.files("emorec") / "weights" / file_name))


def save_weights(path: str | Path, tensors: dict[str, Any], metadata: dict[str, Any] | None = None, half: bool = False) -> Path:
    """Write ``tensors`` (torch tensors or NumPy arrays, name → array) as safetensors.

    Parameters
    ----------
    path : str or Path
        Output file; its folder is created.
    tensors : dict
        All torch tensors or all NumPy arrays.
    metadata : dict
        JSON-able values, one JSON string per key in the file's header.
    half : bool
        Store floating-point torch tensors as float16 (half the size; :func:`read_weights` returns float32).

    Returns
    -------
    Path
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    header = {k: json.dumps(v) for k, v in (metadata or {}).items()}
    if tensors and all(isinstance(v, np.ndarray) for v in tensors.values()):
        from safetensors.numpy import save_file as save_np

        save_np({k: np.ascontiguousarray(v) for k, v in tensors.items()}, str(path), metadata=header)
        return path
    from safetensors.torch import save_file

    out = {k: ((v.half() if half and v.is_floating_point() else v).contiguous()) for k, v in tensors.items()}
    save_file(out, str(path), metadata=header)
    return path


def _decode(value: str) -> Any:
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value


def read_metadata(path: str | Path) -> dict[str, Any]:
    """The JSON metadata of a weights file, without reading its tensors.

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    ValueError
        Not a safetensors file.
    """
    from safetensors import safe_open

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: weights not found")
    try:
        with safe_open(str(path), framework="np") as fh:
            header = fh.metadata() or {}
    except Exception as exc:  # safetensors raises its own SafetensorError
        raise ValueError(f"{path}: not a safetensors weights file ({exc})") from None
    return {k: _decode(v) for k, v in header.items()}


def read_weights(path: str | Path, framework: str = "pt") -> tuple[dict[str, Any], dict[str, Any]]:
    """Tensors and metadata of a file written by :func:`save_weights`.

    Parameters
    ----------
    path : str or Path
    framework : {"pt", "np"}
        Torch tensors (floating-point ones as float32) or NumPy arrays (as stored).

    Returns
    -------
    tensors : dict of str → tensor or array
    metadata : dict of str → JSON value

    Raises
    ------
    FileNotFoundError, ValueError
        See :func:`read_metadata`.
    """
    metadata = read_metadata(path)
    if framework == "np":
        from safetensors.numpy import load_file as load_np

        return load_np(str(path)), metadata
    from safetensors.torch import load_file

    return {k: (v.float() if v.is_floating_point() else v) for k, v in load_file(str(path)).items()}, metadata


@lru_cache(maxsize=16)
def weights_digest(path: str) -> str:
    """First 16 hex digits of the SHA-256 of a weights file: enters the store key, so new weights are read anew."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()[:16]
