"""Model cards follow the one template (docs/models/TEMPLATE.md) and every registered model has one."""

import re
from pathlib import Path

from emorec.models import list_models

ROOT = Path(__file__).resolve().parents[1]
SECTIONS = ["What", "Input", "Architecture", "Training", "Data", "Evaluation", "In analyze", "Limits", "Licence", "Reproduce"]


def _sections(path: Path) -> list[str]:
    return re.findall(r"^## (.+)$", path.read_text(), flags=re.M)


def test_template_lists_the_sections():
    assert _sections(ROOT / "docs" / "models" / "TEMPLATE.md") == SECTIONS


def test_every_card_follows_the_template_and_copies_no_figures():
    cards = [p for p in (ROOT / "docs" / "models").glob("*.md") if p.name != "TEMPLATE.md"]
    assert len(cards) >= 5
    for card in cards:
        assert _sections(card) == SECTIONS, card.name
        evaluation = card.read_text().split("## Evaluation", 1)[1].split("## In analyze", 1)[0]
        assert "results.md" in evaluation, card.name
        assert not re.search(r"\d+\.\d\s*%", evaluation), f"{card.name}: figures belong in results.md"


def test_every_registered_model_has_a_card():
    for info in list_models():
        assert info.card and (ROOT / info.card).is_file(), info.name
