"""The no-AWS stack: sandbox exchange, gateway, scheduler, invoke, demo and OpenAPI tools.

Lambda puts the layer's code on the import path (/opt/python); the local tools run it from source,
so every `python -m local.*` entry point gets layers/exchange on sys.path here, once, before any
thread starts (a lazy, per-request path change raced in the threaded sandbox).
"""

from __future__ import annotations

import sys
from pathlib import Path

LAYER_DIR = str(Path(__file__).resolve().parent.parent / "layers" / "exchange")
if LAYER_DIR not in sys.path:
    sys.path.append(LAYER_DIR)
