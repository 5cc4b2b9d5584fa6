"""Render a report in headless Chromium (Debian's ``chromium`` package): screenshot and DOM."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

__all__ = ["find_chromium", "render"]

FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def find_chromium() -> str | None:
    """Path of a Chromium binary, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def render(html_path: str | Path, screenshot: str | Path, width: int = 1250, height: int = 1800, timeout: float = 120) -> str:
    """Screenshot ``html_path`` to a PNG and return the rendered DOM (after scripts, offline).

    Raises
    ------
    FileNotFoundError
        No Chromium on this machine (``apt-get install chromium``).
    """
    exe = find_chromium()
    if exe is None:
        raise FileNotFoundError("chromium not found (apt-get install chromium)")
    url = Path(html_path).resolve().as_uri()
    with tempfile.TemporaryDirectory() as profile:
        base = [exe, *FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"]
        subprocess.run([*base, f"--screenshot={Path(screenshot).resolve()}", url], capture_output=True, timeout=timeout, check=True)
        dom = subprocess.run([*base, "--dump-dom", url], capture_output=True, text=True, timeout=timeout, check=True).stdout
    return dom
