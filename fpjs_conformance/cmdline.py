"""pytest's first look at the command line, repaired for the suite's options.

pytest chooses its root folder and its configuration file (and with them `testpaths` and `addopts`)
from the paths on the command line before it loads any plugin, so before it knows the suite's
options. In `--restore-from /elsewhere/restore.json` (or `--report-dir /tmp/x`) it takes the value
for a test path: its root becomes that folder, the project's configuration is not read, and in a
clone it collects the project's own tests instead of the suite's (and never restores). `--opt=PATH`
is one word and was always safe.

Once the plugin is loaded (`pytest_load_initial_conftests`), `repair` asks the same question again
with every option known; when the answer differs it takes the right root and configuration, with
that configuration's `addopts` and `pythonpath`. This reaches into pytest's internals: when they are
not as expected it refuses with a usage error that names the `--opt=VALUE` form, never runs on.
"""

from __future__ import annotations

import copy
from typing import Any


class CannotRepair(Exception):
    """pytest's early choice of root and configuration cannot be redone: one line for the user."""


HINT = "give the suite's options with '=' (--restore-from=PATH, --report-dir=DIR, ...)"


def repair(config: Any, parser: Any, args: list[str]) -> None:
    """Choose the root folder and configuration again now that every option is known; take them (and
    their addopts) when pytest's early choice took an option's value for a test path."""
    try:
        from _pytest.config.findpaths import determine_setup

        known = parser.parse_known_args(args, namespace=copy.copy(config.option))
        rootpath, inipath, inicfg, ignored = determine_setup(
            inifile=known.inifilename,
            override_ini=known.override_ini,
            args=known.file_or_dir,
            rootdir_cmd_arg=known.rootdir or None,
            invocation_dir=config.invocation_params.dir,
        )
    except (ImportError, AttributeError, TypeError, ValueError) as exc:
        raise CannotRepair(f"pytest could not be asked where its root is ({exc}): {HINT}") from None
    if (rootpath, inipath) == (config.rootpath, config.inipath):
        return
    if config.inipath is not None:  # its addopts are in `args` already, beside the user's own
        raise CannotRepair(
            f"pytest took an option's value for a test path and read {config.inipath} instead of "
            f"{inipath or 'no configuration file'}: {HINT}"
        )
    try:
        config._rootpath, config._inipath, config._inicfg = rootpath, inipath, inicfg
        config._ignored_config_files = ignored
        config._inicache.clear()
        parser.extra_info["rootdir"], parser.extra_info["inifile"] = str(rootpath), str(inipath)
        added = config._validate_args(config.getini("addopts"), "via addopts config")
        args[:] = [*added, *args]
        config.known_args_namespace = parser.parse_known_args(args, namespace=copy.copy(config.option))
        if known.confcutdir is None:
            config.known_args_namespace.confcutdir = str(inipath.parent if inipath else rootpath)
        config.pluginmanager.consider_preparse(added, exclude_only=False)
        config._configure_python_path()
    except (AttributeError, TypeError) as exc:
        raise CannotRepair(f"pytest's configuration could not be read again ({exc}): {HINT}") from None
