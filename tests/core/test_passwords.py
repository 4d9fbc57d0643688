import re

import pytest

from pwpush_app.core.passwords import SEPARATORS, GeneratorOptions, generate_password


@pytest.mark.parametrize("separator", sorted(SEPARATORS))
@pytest.mark.parametrize("numbers", [True, False])
@pytest.mark.parametrize("title_case", [True, False])
def test_password_has_the_chosen_shape(separator, numbers, title_case):
    options = GeneratorOptions(syllables=4, numbers=numbers, title_case=title_case, separator=separator)
    syllable = ("[A-Z]" if title_case else "[a-z]") + "[a-z]{1,2}" + (r"\d" if numbers else "")
    sep = re.escape(SEPARATORS[separator])
    for _ in range(50):
        password = generate_password(options)
        assert re.fullmatch(f"{syllable}(?:{sep}{syllable}){{3}}", password), password


def test_passwords_differ():
    assert len({generate_password() for _ in range(200)}) == 200


def test_options_from_the_browser_are_clamped_and_defaulted():
    assert GeneratorOptions.from_text("99", "0", "1", "space") == GeneratorOptions(10, False, True, "space")
    assert GeneratorOptions.from_text("x", "1", "0", "<script>") == GeneratorOptions(3, True, False, "dash")
    assert GeneratorOptions.from_text("1", "1", "1", "none").syllables == 2
