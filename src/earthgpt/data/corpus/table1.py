"""The paper's Table I (training samples of MMRS-1M per dataset), for comparing a build with it source by source."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["TABLE_I", "PaperCount", "paper_count"]

Unit = Literal["conversations", "records", "rounds", ""]


@dataclass(frozen=True)
class PaperCount:
    """One row of Table I: the paper's size and the count of a build it equals ("" where the paper does not say
    what it counted and no count of the release reproduces it)."""

    size: int
    unit: Unit = ""


TABLE_I: dict[tuple[str, str], PaperCount] = {
    # Image captioning: sentences (one round each), more than the train + val sentences of UCM-, Sydney- and
    # NWPU-Captions (NWPU: 141,631 of 157,500, 126,000 in train + val): the paper's include test images, ours not.
    ("caption", "rsicd"): PaperCount(24_333, "rounds"),
    ("caption", "ucm_captions"): PaperCount(9_986, "rounds"),
    ("caption", "rsitmd"): PaperCount(20_096, "rounds"),
    ("caption", "sydney_captions"): PaperCount(2_837, "rounds"),
    ("caption", "nwpu_captions"): PaperCount(141_631, "rounds"),
    # VQA: question-answer pairs; FloodNet train (4,511 questions), RSVQA-LR train + val (57,223 + 10,005), RSIVQA
    # 62% of its 111,134 pairs (no fraction or split we know gives it);
    # CRSVQA 900 images, 90% of the release (Tab. V tests on the other 10%).
    ("vqa", "floodnet_vqa"): PaperCount(4_511, "rounds"),
    ("vqa", "rsvqa_lr"): PaperCount(67_228, "rounds"),
    ("vqa", "rsivqa"): PaperCount(68_625, "rounds"),
    ("vqa", "crsvqa"): PaperCount(900, "conversations"),
    # Classification: one image each; the first five are 20% samples of their sets (NWPU-RESISC45 6,300 of 31,500,
    # EuroSAT 5,400 of 27,000, UCM 420 of 2,100, WHU-RS19 196 of 1,005, RSSCN7 560 of 2,800); DSCR's and
    # FGSCR-42's (3,878 of 9,320) match no split or fraction we know.
    ("scene", "nwpu_resisc45"): PaperCount(6_300, "conversations"),
    ("scene", "eurosat"): PaperCount(5_400, "conversations"),
    ("scene", "ucmerced_landuse"): PaperCount(420, "conversations"),
    ("scene", "whu_rs19"): PaperCount(196, "conversations"),
    ("scene", "rsscn7"): PaperCount(560, "conversations"),
    ("scene", "dscr"): PaperCount(11_951, "conversations"),
    ("scene", "fgscr42"): PaperCount(3_878, "conversations"),
    # Detection: the paper does not say whether it counts images, tiles, objects or conversations (UCAS-AOD's
    # 1,510 is every image of the release, SSDD's 1,856 twice its 928 train images).
    ("detection", "dota"): PaperCount(163_486),
    ("detection", "dior"): PaperCount(58_200),
    ("detection", "fair1m"): PaperCount(40_466),
    ("detection", "nwpu_vhr10"): PaperCount(3_190),
    ("detection", "hrrsd"): PaperCount(23_044),
    ("detection", "rsod"): PaperCount(747),
    ("detection", "ucas_aod"): PaperCount(1_510),
    ("detection", "visdrone"): PaperCount(186_810),
    ("detection", "air_sarship2"): PaperCount(1_433),
    ("detection", "ssdd"): PaperCount(1_856),
    ("detection", "hrsid"): PaperCount(7_265),
    ("detection", "hit_uav"): PaperCount(10_608),
    ("detection", "sea_shipping"): PaperCount(16_023),
    ("detection", "infrared_security"): PaperCount(17_234),
    ("detection", "aerial_mancar"): PaperCount(33_051),
    ("detection", "double_light_vehicle"): PaperCount(7_922),
    ("detection", "oceanic_ship"): PaperCount(2_505),
    # DIOR-RSVG train + val expressions (26,991 + 3,829), one grounding and one region caption each.
    ("grounding", "dior_rsvg"): PaperCount(30_820, "records"),
    ("region_caption", "dior_rsvg"): PaperCount(30_820, "records"),
}


def paper_count(task: str, source: str) -> PaperCount | None:
    """Table I's row of a (conversation task, source), or None for a source the table does not list."""
    return TABLE_I.get((task, source))
