"""The shared sentences ``voxlab quality --systems`` speaks with every engine.

Written for voxlab (no third-party text; public domain, like the rest of voxlab's text
under its MIT licence): everyday American English (spelled as Whisper writes it), 6-16
words each, mixing statements, questions, numbers, names and clusters that are hard for
TTS (``sixth``, ``strengths``), so that WER and DNSMOS compare engines on the same
material. Order is fixed; ``--sentences N`` takes the first N.
"""

from __future__ import annotations

from voxlab.errors import ConfigError

SENTENCES: tuple[str, ...] = (
    "The morning train to the coast leaves at half past seven.",
    "Please put the blue folder back on the top shelf.",
    "My neighbor grows tomatoes, beans and tall yellow sunflowers every summer.",
    "Could you tell me where the nearest post office is?",
    "The museum opens at nine and closes early on Sundays.",
    "We counted 42 ships in the harbor before the storm arrived.",
    "She wrote the letter by hand and sealed it with red wax.",
    "A warm breeze carried the smell of fresh bread down the street.",
    "The children laughed when the puppy chased its own tail.",
    "Turn left at the bridge and follow the river for two miles.",
    "His sixth attempt at the puzzle finally showed his strengths.",
    "The library will be closed for repairs until the end of March.",
    "Bring a coat, because the weather on the hills changes quickly.",
    "The old clock in the hall stopped at exactly midnight.",
    "Our team finished the project three days ahead of schedule.",
    "Rain tapped gently on the window while the kettle boiled.",
    "Do you prefer tea with milk or a cup of black coffee?",
    "The farmer sold twelve baskets of apples at the Saturday market.",
    "Every evening the lighthouse sends a bright beam across the bay.",
    "The doctor asked him to rest and drink plenty of water.",
    "A small grey cat slept in a patch of sunlight on the floor.",
    "They planted 300 trees along the new road last autumn.",
    "Music drifted from the open door of the little cafe.",
    "Remember to switch off the lights before you leave the office.",
)


def shared_sentences(n: int | None = None) -> list[str]:
    """The first ``n`` shared sentences (all of them when None).

    Raises:
        ConfigError: ``n`` is not between 1 and the number of sentences.
    """
    if n is None:
        return list(SENTENCES)
    if not 1 <= int(n) <= len(SENTENCES):
        raise ConfigError(f"--sentences must be between 1 and {len(SENTENCES)}, got {n}")
    return list(SENTENCES[: int(n)])
