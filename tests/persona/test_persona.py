from __future__ import annotations

from pathlib import Path

import pytest

from halfcascade import ConfigError, ElevenLabsVoice, OpenAIVoice
from halfcascade.memory import Memory, render_instructions
from halfcascade.persona import Persona, load_persona, render_persona

pytestmark = pytest.mark.unit

EXAMPLE = Path(__file__).parents[2] / "examples" / "personas" / "biscuit.toml"

MINIMAL = 'name = "Mochi"\ncharacter = "cat"\n'


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "persona.toml"
    path.write_text(text)
    return path


def test_example_persona_loads_and_builds_its_voice() -> None:
    persona = Persona.from_toml(EXAMPLE)
    assert persona.name == "Biscuit" and "puppy" in persona.character
    assert persona.reply_length.min_words == 3 and persona.reply_length.max_words == 8
    assert persona.greeting and persona.avatar is not None
    voice = persona.voice.build_voice(api_key="k") if persona.voice else None
    assert isinstance(voice, ElevenLabsVoice)
    assert voice.stability == 0.35 and voice.api_key == "k"


def test_render_is_byte_identical_across_loads_and_holds_no_memory() -> None:
    first = render_persona(load_persona(EXAMPLE))
    second = render_persona(load_persona(EXAMPLE))
    assert first.encode() == second.encode()
    assert "You are Biscuit" in first and "3 to 8 words" in first and "no markdown" in first
    assert "remember" not in first.lower()


def test_memory_block_comes_after_the_prefix() -> None:
    prefix = render_persona(load_persona(EXAMPLE))
    text = render_instructions(prefix, [Memory(text="The user's dog is called Max.")])
    assert text.startswith(prefix)
    assert text.index("dog is called Max") > len(prefix)


def test_defaults_and_openai_voice(tmp_path: Path) -> None:
    path = _write(tmp_path, MINIMAL + '[voice]\nprovider = "openai"\nvoice_id = "coral"\n')
    persona = load_persona(path)
    assert persona.reply_length.max_words == 8 and persona.language == "en"
    voice = persona.voice.build_voice() if persona.voice else None
    assert isinstance(voice, OpenAIVoice) and voice.voice == "coral"
    assert "You are Mochi, a cat." in render_persona(persona)


def test_typo_names_file_field_and_closest_name(tmp_path: Path) -> None:
    path = _write(tmp_path, MINIMAL + 'backstroy = "x"\n')
    with pytest.raises(ConfigError) as err:
        load_persona(path)
    msg = str(err.value)
    assert str(path) in msg and "'backstroy'" in msg and "did you mean 'backstory'" in msg


def test_nested_typo_suggests_within_its_table(tmp_path: Path) -> None:
    path = _write(
        tmp_path, MINIMAL + '[voice]\nprovider = "elevenlabs"\n[voice.settings]\nstabilty = 0.5\n'
    )
    with pytest.raises(ConfigError, match=r"voice\.settings\.stabilty.*did you mean 'stability'"):
        load_persona(path)


def test_wrong_type_names_field_and_expected_type(tmp_path: Path) -> None:
    path = _write(tmp_path, MINIMAL + 'traits = "playful"\n')
    with pytest.raises(ConfigError) as err:
        load_persona(path)
    msg = str(err.value)
    assert str(path) in msg and "'traits'" in msg and "expected a list of strings" in msg


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ("{ min_words = 9, max_words = 3 }", r"'reply_length'.*expected min_words <= max_words"),
        ("{ min_words = 0 }", r"'reply_length\.min_words'.*expected a value greater than"),
        ('{ max_words = "8" }', r"'reply_length\.max_words'.*expected an integer"),
    ],
)
def test_bad_reply_length(tmp_path: Path, table: str, expected: str) -> None:
    path = _write(tmp_path, MINIMAL + f"reply_length = {table}\n")
    with pytest.raises(ConfigError, match=expected) as err:
        load_persona(path)
    assert str(path) in str(err.value)


def test_other_errors_are_named(tmp_path: Path) -> None:
    bad = 'name = "X"\nlanguage = "English"\n[voice]\nprovider = "azure"\n'
    with pytest.raises(ConfigError) as err:
        load_persona(_write(tmp_path, bad))
    msg = str(err.value)
    assert "'character' is required" in msg
    assert "'language': expected a BCP-47 language tag" in msg
    assert "'voice.provider': expected one of 'elevenlabs', 'openai', 'google'" in msg


def test_missing_file_bad_toml_and_avatar_image(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read persona file"):
        load_persona(tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_persona(_write(tmp_path, "name = \n"))
    path = _write(tmp_path, MINIMAL + '[avatar]\nprovider = "local"\nimage = "face.png"\n')
    with pytest.raises(ConfigError, match=r"'avatar\.image': expected an existing image file"):
        load_persona(path)
    (tmp_path / "face.png").write_bytes(b"png")
    persona = load_persona(path)
    assert persona.avatar is not None and persona.avatar.image == tmp_path / "face.png"


def test_openers_from_the_file_are_asked_for_in_the_spoken_style() -> None:
    persona = load_persona(EXAMPLE)
    assert persona.signature_openers[:2] == ("Woof!", "Yay!")
    prefix = render_persona(persona)
    assert 'open with one of your usual openers, written exactly like this: "Woof!", "Yay!"' in (
        prefix
    )


def test_openers_default_to_the_character_and_can_be_turned_off(tmp_path: Path) -> None:
    cat = load_persona(_write(tmp_path, MINIMAL))
    assert cat.openers is None and cat.signature_openers[0] == "Meow!"
    robot = Persona(name="R2", character="small robot")
    assert "Beep boop!" in robot.signature_openers
    french = Persona(name="Mimi", character="chat", language="fr")
    assert french.signature_openers == ()  # no guessing in another language
    quiet = load_persona(_write(tmp_path, MINIMAL + "openers = []\n"))
    assert quiet.signature_openers == ()
    assert "Start with a short phrase" in render_persona(quiet)


@pytest.mark.parametrize(
    ("openers", "expected"),
    [
        ('["Well, well, well, look who is here!"]', "short openers of 1 to 5 words"),
        ('["Woof!", "woof"]', "are the same words"),
        ('["..."]', "short openers"),
    ],
)
def test_bad_openers_are_named(tmp_path: Path, openers: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected) as err:
        load_persona(_write(tmp_path, MINIMAL + f"openers = {openers}\n"))
    assert "'openers'" in str(err.value)


_BIG = "x" * 100_000


@pytest.mark.parametrize(
    ("text", "named"),
    [
        (MINIMAL + f'{_BIG} = "y"\n', "unknown field"),
        (MINIMAL + f'traits = "{_BIG}"\n', "'traits': expected a list of strings"),
        (MINIMAL + f'openers = ["{_BIG}"]\n', "short openers"),
        (MINIMAL + f'openers = ["Woof!", "woof {_BIG[:20]}", "WOOF {_BIG[:20]}"]\n', "openers"),
        (MINIMAL + f'[voice]\nprovider = "{_BIG}"\n', "'voice.provider': expected one of"),
        (MINIMAL + f'[avatar]\nprovider = "local"\nimage = "{_BIG}.png"\n', "avatar.image"),
        (MINIMAL + "".join(f"k{i}_{_BIG[:1000]} = 1\n" for i in range(100)), "... and 80 more"),
        (f'name = "{_BIG}\n', "not valid TOML"),
    ],
)
def test_errors_never_echo_more_than_a_snippet_of_the_file(
    tmp_path: Path, text: str, named: str
) -> None:
    with pytest.raises(ConfigError) as err:
        load_persona(_write(tmp_path, text))
    msg = str(err.value)
    assert named in msg
    assert "x" * 100 not in msg  # every echoed value is cut to ~80 characters
    assert len(msg) < 10_000  # at most 20 problems are listed
