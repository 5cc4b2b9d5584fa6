#!/usr/bin/env bash
# Set up emorec in ./.venv on a fresh machine (CPU only, no network but PyPI).
# Idempotent: a second run only checks that everything is installed.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
PIP=".venv/bin/pip --disable-pip-version-check -q"
# The CPU wheel of torch 2.13.0 first, so no other package can pull a CUDA build.
$PIP install torch==2.13.0
$PIP install -e '.[test]'
# Their declared dependencies would pull jax, TensorFlow and opencv-contrib;
# what they need at run time is in pyproject.toml.
$PIP install --no-deps mediapipe==0.10.21 fer==25.10.3
.venv/bin/python -c "import emorec, mediapipe, torch; print('emorec', emorec.__version__, '| torch', torch.__version__, '| mediapipe', mediapipe.__version__)"
