"""Where a version's data is found: the bundled `contracts/` folder and the folders of $FPJS_PROFILE_PATH,
the versions their profile files name, and the documents, read once.
"""

from __future__ import annotations

import functools
import os
import re
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from fpjs_conformance.profile_types import ProfileError

DATA_PACKAGE = "fpjs_conformance.contracts"
PROFILE_PATH = "FPJS_PROFILE_PATH"  # more folders of profile files and documents (a version of your own)


def data_dir():
    """The folder with the documents, the profile files and the clause catalogue (`contracts/`)."""
    return resources.files(DATA_PACKAGE)


def data_dirs() -> list:
    """The bundled folder, then the folders in $FPJS_PROFILE_PATH: where profiles and documents are found."""
    extra = [Path(p) for p in os.environ.get(PROFILE_PATH, "").split(os.pathsep) if p.strip()]
    return [data_dir(), *extra]


def find(name: str):
    for folder in reversed(data_dirs()):  # a folder of your own may stand in for a bundled file
        path = folder / name
        if path.is_file():
            return path
    raise ProfileError(f"no file {name!r} in {', '.join(str(d) for d in data_dirs())}")


@functools.cache
def versions() -> tuple[str, ...]:
    """Every version with a profile file in a profile folder (`<name>.toml` naming its `version` and
    `document`: `v4.toml`, or a version of your own under any name), oldest first: `v<N>` by number, then
    the others by name."""
    names = {name for folder in data_dirs() for name in profile_names(folder)}
    numbered = sorted((n for n in names if re.fullmatch(r"v\d+", n)), key=lambda n: int(n[1:]))
    return (*numbered, *sorted(names - set(numbered)))


def profile_names(folder) -> list[str]:
    """The versions whose profile files are in `folder` (a TOML file whose `version` is its own name)."""
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        if not path.name.endswith(".toml"):
            continue
        try:
            with path.open("rb") as fh:
                head = tomllib.load(fh)
        except (OSError, tomllib.TOMLDecodeError):
            continue
        stem = path.name.removesuffix(".toml")
        if head.get("version") == stem and isinstance(head.get("document"), str):
            found.append(stem)
    return found


@functools.cache
def document(name: str) -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: ~10x faster on these large files
    with find(name).open(encoding="utf-8") as fh:
        return yaml.load(fh, Loader=loader)
