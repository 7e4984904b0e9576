"""README.md stays true: its clause table is the catalogue, its options are the real ones."""

import re
from pathlib import Path

from fpjs_conformance import clauses
from fpjs_conformance import profile as profiles
from fpjs_conformance.options import FLAGS, OPTIONS

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def test_clause_table_matches_catalogue():
    listed = re.findall(r"^\| `(UE-[A-Z]+-\d+)` \| (\w+) \| [^|]+ \| ([^|]+) \| (.+) \|$", README, re.M)
    expected = [
        (c.id, c.level, ", ".join(v for v in profiles.versions() if c.applies_to(v)), c.title)
        for c in clauses.catalogue().values()
    ]
    assert expected == listed


def test_every_option_is_documented():
    for flag, env, _ in OPTIONS:
        assert f"`{flag} " in README and f"`{env}`" in README, flag
    for flag, _ in FLAGS:
        assert f"`{flag}`" in README, flag


def test_two_commands_at_the_top():
    first_block = README.split("```sh", 1)[1].split("```", 1)[0]
    commands = [line for line in first_block.splitlines() if line and not line.startswith("#")]
    assert len(commands) == 2 and commands[0].endswith("&& pytest") and commands[1].endswith("pytest tests -n 2")


def test_installed_use_is_shown():
    assert "pytest --pyargs fpjs_conformance" in README
