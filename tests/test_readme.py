"""The README's settings table is the one the code prints (they can't drift apart)."""

from pathlib import Path

from pwpush_app.settings import settings_table_markdown

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_lists_every_setting_as_the_code_defines_it():
    assert settings_table_markdown() in README.read_text(), (
        "README's settings table is stale: paste the output of `python -m pwpush_app settings-table`"
    )


def test_readme_has_the_two_commands():
    text = README.read_text()
    assert "make run" in text and "make test" in text
