"""What EarthGPT-X content costs a training sample: a plain conversation vs the same one with prompts, masks or views.

The scene is sen2ships' Busan GeoTIFF (1042 x 699, 54 ships with real RLE masks) from ``$EARTHGPT_DATA``. Every side
builds one dataset sample (image read and resized, template, and the X parts) at the paper's input size, the image
cache off (a large corpus reads each image once per epoch):

- plain: "What is in this image?" -> text;
- prompts+masks: 3 ships as a point, a box and a scribble, "segment <region1..3>" -> 3 ``<seg>`` with their masks;
- grid:2: the plain conversation with 1 + 4 views; region:1: a box prompt and a zoomed crop around it.

The sides run in turn (``bench/_timing.py``); prints medians, spreads and the ratio to plain, never asserts timings.
Run from the repository root: ``python bench/x_samples.py [--size 224] [--repeats 7]``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # this checkout's code, not an install

from _timing import Spread, interleaved, ratio

from earthgpt.data.chat_template import ChatTemplate
from earthgpt.data.conversation import Conversation, Message
from earthgpt.data.dataset import ConversationDataset
from earthgpt.data.records import ImageRef
from earthgpt.data.tokenizer import train_tokenizer
from earthgpt.geometry.boxes import HBB
from earthgpt.geometry.prompts import RleMask, VisualPrompt

SCENE = "sen2ships/sen2ships/busan/busan_rgb.tiff"


def conversations(root: Path) -> dict[str, Conversation]:
    coco = json.loads((root / "sen2ships/sen2ships/coco_annotations.json").read_text())
    (image,) = [i for i in coco["images"] if i["file_name"] == "busan_rgb.tiff"]
    ships = [a for a in coco["annotations"] if a["image_id"] == image["id"]][:3]
    ref = ImageRef(path=SCENE, width=image["width"], height=image["height"])
    boxes = [(x, y, x + w, y + h) for x, y, w, h in (a["bbox"] for a in ships)]
    (x1, y1, x2, y2), box, (sx1, sy1, sx2, sy2) = boxes
    prompts = (
        VisualPrompt.point((x1 + x2) / 2, (y1 + y2) / 2),
        VisualPrompt.box(HBB(*box)),
        VisualPrompt.scribble([[(sx1 + 1, (sy1 + sy2) / 2), (sx2 - 1, (sy1 + sy2) / 2)]]),
    )
    plain = (Message.user("What is in this image?", ref), Message.assistant("a port with ships"))
    segment = (Message.user("Segment <region1>, <region2> and <region3>", ref), Message.assistant("<seg> <seg> <seg>"))
    zoom = (Message.user("What is <region1>?", ref), Message.assistant("a ship"))
    masks = tuple(RleMask.from_dict(a["segmentation"]) for a in ships)
    return {
        "plain": Conversation("plain", plain),
        "prompts+masks": Conversation("x", segment, prompts=prompts, masks=masks),
        "grid:2": Conversation("grid", plain, views="grid:2"),
        "region:1": Conversation("region", zoom, prompts=prompts[1:2], views="region:1"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=224, help="encoder input side (paper: 224)")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    root = Path(os.environ.get("EARTHGPT_DATA", "../shared/data"))
    tok = train_tokenizer(["USER: Segment <region1> ASSISTANT: a ship <seg>"] * 20, vocab_size=300)
    convs = conversations(root)
    data = ConversationDataset(list(convs.values()), ChatTemplate(tok, 256), args.size, root)
    data.images.max_items = 0  # no cache: each sample reads its image
    sides = {name: (lambda i=i: data[i]) for i, name in enumerate(convs)}
    seconds = interleaved(sides, repeats=args.repeats)
    assert not data.invalid and not data.unreadable
    for name, values in seconds.items():
        line = f"{name:>14}: {Spread.of(values).format('.4f', ' s')}"
        if name != "plain":
            line += f"  x{ratio(values, seconds['plain']).format('.2f')} of plain"
        print(line)


if __name__ == "__main__":
    main()
