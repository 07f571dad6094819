"""The top-level CLI dispatcher: every command registers, unknown commands fail clearly."""

import subprocess
import sys

import pytest

from graphsmooth.cli import COMMANDS, build_parser, main


def test_every_command_registers():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert set(COMMANDS) <= set(sub.choices)


def test_no_command_prints_help_and_returns_2(capsys):
    assert main([]) == 2
    assert "COMMAND" in capsys.readouterr().out


def test_unknown_command_is_an_error():
    with pytest.raises(SystemExit) as exc:
        main(["no-such-command"])
    assert exc.value.code == 2


def test_module_entry_point_help():
    out = subprocess.run(
        [sys.executable, "-m", "graphsmooth.cli", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0
    for name in COMMANDS:
        assert name in out.stdout
