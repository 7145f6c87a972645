"""`earthgpt scene`: its options and handler (imports only the standard library until it runs)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from earthgpt.flags import MODEL_HELP

log = logging.getLogger(__name__)

EXIT_INCOMPLETE = 3
"""Exit status of a run stopped by --max-tiles before the last tile: run the same command again to continue."""


def _bands(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in text.split(","))
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"--bands {text!r}: give 1-based band numbers, e.g. 4,3,2") from e


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``scene`` on the top-level subcommands."""
    help = "run a model over a whole GeoTIFF scene in overlapping tiles; merged boxes or masks to GeoJSON, COCO"
    p: argparse.ArgumentParser = sub.add_parser("scene", help=help, description=help)
    p.set_defaults(handler=cmd_scene)
    p.add_argument("scene", help="the scene: a (Geo)TIFF of any size, 8/16-bit or float, 1..N bands")
    p.add_argument("--model", default=None, help=MODEL_HELP)
    p.add_argument("--task", choices=("detect", "ask", "segment"), default="detect")
    p.add_argument("--out", required=True, help="GeoJSON to write; .coco.json, .dota.txt, .summary.json beside it")
    p.add_argument("--question", default=None, help="ask: the question for every tile; detect: another instruction")
    p.add_argument("--class", dest="classes", action="append", default=[], metavar="NAME",
                   help='segment: a class to segment ("segment every NAME"); repeat for more classes')  # fmt: skip
    p.add_argument("--query", default=None, help='segment: a description of what to segment, e.g. "ships"')
    p.add_argument("--boxes", choices=("hbb", "obb"), default="hbb", help="detect: horizontal or oriented boxes")
    p.add_argument("--tile", type=int, default=None, help="tile side in scene pixels (default: the model's input)")
    p.add_argument("--overlap", type=float, default=0.2, help="fraction of a tile shared with its neighbour")
    p.add_argument("--profile", default="auto", help="auto, rgb8, sentinel2, uint16, sar, sar-db, thermal")
    p.add_argument("--bands", type=_bands, default=(), help="1-based bands as R,G,B (or one band), e.g. 4,3,2")
    p.add_argument("--nodata", type=float, default=None, help="nodata value (default: the scene's own)")
    p.add_argument("--crs", default=None, help="output CRS, e.g. EPSG:4326 (default: the scene's)")
    p.add_argument("--nms-iou", type=float, default=0.3, help="IoU above which a box of the same class is merged")
    p.add_argument("--batch-size", type=int, default=8, help="tiles per model call")
    p.add_argument("--max-new-tokens", type=int, default=256)
    p.add_argument("--max-tiles", type=int, default=None, help="stop after N tiles (the next run resumes)")
    p.add_argument("--fresh", action="store_true", help="discard a resume journal and start over")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def cmd_scene(args: argparse.Namespace) -> int:
    """Run the scene; bad input (unreadable, truncated, not a TIFF) is one line on stderr and exit status 2."""
    from earthgpt.data.imagery import ImageReadError
    from earthgpt.inference.scene.predict import PredictorTiles
    from earthgpt.inference.scene.profiles import check_bands
    from earthgpt.inference.scene.run import SceneJob, check_job, run_scene
    from earthgpt.inference.scene.slicing import open_scene
    from earthgpt.models.shipped import resolve_model

    model_dir = resolve_model(args.model)

    job = SceneJob(
        scene=Path(args.scene), out=Path(args.out), task=args.task, question=args.question,
        classes=tuple(args.classes), query=args.query, boxes=args.boxes,
        tile=args.tile, overlap=args.overlap, profile=args.profile, bands=args.bands, nodata=args.nodata,
        crs=args.crs, nms_iou=args.nms_iou, batch_size=args.batch_size, max_tiles=args.max_tiles,
        model_id=str(model_dir.resolve()), fresh=args.fresh,
    )  # fmt: skip
    try:
        check_job(job)  # refuse bad options, scene or band list before the model is loaded
        scene = open_scene(job.scene)
        if job.bands:
            check_bands(job.bands, scene.info.bands, scene.path)
        model = PredictorTiles(
            model_dir, batch_size=args.batch_size, max_new_tokens=args.max_new_tokens, masks=job.task == "segment"
        )
        result = run_scene(job, model, progress=not args.quiet)
    except (ImageReadError, NotImplementedError) as e:
        print(f"earthgpt: error: {e}", file=sys.stderr)
        return 2
    if not result.complete:
        print(f"{result.done} of {result.tiles} tiles done; run the same command again to continue")
        return EXIT_INCOMPLETE
    print(
        f"{len(result.boxes) + len(result.regions)} objects from {result.answered} tiles ({result.nodata} nodata) -> {result.files['geojson']}"
    )
    return 0
