from pathlib import Path

import docutils.core

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.rst").read_text()


def test_readme_renders_without_warnings():
    docutils.core.publish_string(README, writer_name="null", settings_overrides={"halt_level": 2, "report_level": 2})


def test_ci_runs_the_test_command_the_readme_gives():
    ci_commands = [line.strip() for line in (REPO / ".ci" / "run").read_text().splitlines()]
    assert "./scripts/test" in ci_commands
    assert "\n    ./scripts/test\n" in README and "\n    ./scripts/demo\n" in README
