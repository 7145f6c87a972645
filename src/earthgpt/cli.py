"""The `earthgpt` command: each subcommand maps to one plain function of the library."""

from __future__ import annotations

import argparse
import errno
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from earthgpt.flags import MODEL_HELP

if TYPE_CHECKING:
    from earthgpt.evaluation.cli import EvalRun, ScoreRun
    from earthgpt.pipeline import TrainRun

Handler = Callable[[Any], int]
"""A subcommand: takes the typed run its parser's ``make`` builds from the flags (else the argparse Namespace)."""


def _data_default() -> str | None:
    return os.environ.get("EARTHGPT_DATA")


# ---------------------------------------------------------------- list / data
def cmd_list_sources(args: argparse.Namespace) -> int:
    from earthgpt.data.corpus import format_sources

    print(format_sources())
    return 0


def cmd_data_build(args: argparse.Namespace) -> int:
    from earthgpt.data.corpus import build, load_config, parse_roots

    config = load_config(
        args.config,
        data_root=args.data,
        out_dir=args.out,
        workers=args.workers,
        roots=parse_roots(args.root),
        skip_missing=args.skip_missing,
    )
    result = build(config, overwrite=args.overwrite, progress=not args.quiet)
    print(
        f"built {result.out_dir}: {result.records} records, {result.conversations} conversations, "
        f"{result.skips} skips in {result.shards} shards (sha256 {result.sha256[:16]}); see `earthgpt data stats`"
    )
    return 0


def cmd_data_check(args: argparse.Namespace) -> int:
    from earthgpt.data.corpus import check, check_exit_code, format_check, load_config, parse_roots
    from earthgpt.data.corpus.config import resolve_data_root

    config = load_config(args.config, data_root=args.data, roots=parse_roots(args.root))
    data_root = resolve_data_root(config)
    results = check(config, data_root)
    print(format_check(results, data_root))
    return check_exit_code(results)


def cmd_data_stats(args: argparse.Namespace) -> int:
    from earthgpt.data.corpus import stats

    print(stats(args.build))
    return 0


def cmd_data_show(args: argparse.Namespace) -> int:
    from earthgpt.data.corpus import show

    which: str | int = int(args.which) if args.which.isdigit() else args.which
    path = show(args.build, which, args.png, data_root=args.data)
    print(path)
    return 0


def cmd_data_export(args: argparse.Namespace) -> int:
    from earthgpt.data.corpus import export_llava

    print(export_llava(args.build, args.export_dir))
    return 0


# ---------------------------------------------------------------- train / model
def cmd_train(run: TrainRun) -> int:
    from earthgpt.pipeline import train_from_build

    result = train_from_build(run)
    if not result.losses:
        print(f"nothing to train: the run in {run.out} already reached step {result.final_step}; model in {run.out}")
        return 0
    print(
        f"trained {len(result.losses)} steps: loss {result.losses[0]:.4f} -> {result.losses[-1]:.4f}; model in {run.out}"
    )
    return 0


def _train_run(args: argparse.Namespace) -> TrainRun:
    from earthgpt.flags import given
    from earthgpt.pipeline import TrainRun, load_train_run
    from earthgpt.training.config import TrainConfig

    deprecated = {"data": args.data} if hasattr(args, "data") else {}
    return load_train_run(args.config, **given(args, TrainRun), **given(args, TrainConfig), **deprecated)


def cmd_model_info(args: argparse.Namespace) -> int:
    from earthgpt.models import EarthGPTConfig
    from earthgpt.pipeline import describe_model

    if args.model:
        print(json.dumps(describe_model(EarthGPTConfig.load(Path(args.model) / "config.json")), indent=1))
        return 0
    vocab = args.vocab_size or (1024 if args.size == "tiny" else 32001)
    print(json.dumps(describe_model(args.size, vocab), indent=1))
    return 0


def cmd_model_init(args: argparse.Namespace) -> int:
    from earthgpt.models import PretrainedSources
    from earthgpt.pipeline import init_pretrained

    sources = PretrainedSources(
        dinov2_dir=args.dinov2, convnext_weights=args.convnext, llama_dir=args.llama, sam_dir=args.sam
    )
    size = args.size or ("auto" if args.dinov2 or args.convnext or args.llama else "paper")
    out = init_pretrained(
        sources, args.out, tokenizer_dir=args.tokenizer, size=size, image_size=args.image_size, x=args.x
    )
    print(out)
    return 0


def cmd_model_export(args: argparse.Namespace) -> int:
    from earthgpt.models import load_pretrained
    from earthgpt.training.stages import export_merged

    model = load_pretrained(args.model)
    out = export_merged(model, args.out)
    src = Path(args.model)
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        if (src / name).is_file():
            (Path(out) / name).write_bytes((src / name).read_bytes())
    print(out)
    return 0


def cmd_model_ship(args: argparse.Namespace) -> int:
    from earthgpt.models.shipped import ship_model

    out = ship_model(args.model, args.out, dtype=args.dtype)
    size = (out / "model.safetensors").stat().st_size
    print(f"shipped {args.model} -> {out} ({args.dtype}, model.safetensors {size / 1e6:.1f} MB)")
    return 0


# ---------------------------------------------------------------- chat / eval / demo
class _PromptFlag(argparse.Action):
    """--point/--box/--scribble append (flag, value) to one list, so the prompts keep their command-line order."""

    def __call__(self, parser: argparse.ArgumentParser, ns: argparse.Namespace, value: Any, option: Any = None) -> None:
        flags = list(getattr(ns, self.dest, None) or [])
        setattr(ns, self.dest, [*flags, (str(option), str(value))])


def cmd_chat(args: argparse.Namespace) -> int:
    from earthgpt.inference.chat import chat, parse_box, parse_point, read_scribble
    from earthgpt.models.shipped import resolve_model

    readers = {"--point": parse_point, "--box": parse_box, "--scribble": read_scribble}
    prompts = [readers[flag](value) for flag, value in args.prompt_flags or []]
    pairs = chat(
        resolve_model(args.model),
        args.image,
        args.question,
        draw=args.draw,
        max_new_tokens=args.max_new_tokens,
        prompts=prompts,
        zoom=args.zoom,
        masks=args.masks,
    )
    for question, answer in pairs:
        print(f"USER: {question}\nEARTHGPT: {answer}")
    if args.draw:
        print(f"boxes drawn on {args.draw}")
    if args.masks:
        print(f"masks written to {args.masks}")
    return 0


def cmd_eval(run: EvalRun | ScoreRun) -> int:
    from earthgpt.evaluation.cli import ScoreRun, run_eval, run_score

    return run_score(run) if isinstance(run, ScoreRun) else run_eval(run)


def _eval_run(args: argparse.Namespace) -> EvalRun | ScoreRun:
    from earthgpt.evaluation.cli import EvalRun, ScoreRun
    from earthgpt.flags import build, given

    if getattr(args, "eval_command", None) == "score":
        return build(ScoreRun, given(args, ScoreRun), "earthgpt eval score")  # type: ignore[no-any-return]
    return build(EvalRun, given(args, EvalRun), "earthgpt eval")  # type: ignore[no-any-return]


def cmd_demo(args: argparse.Namespace) -> int:
    from earthgpt.demo import run_demo

    for line in run_demo(args.data, args.out, model=args.model, train=args.train, steps=args.steps):
        print(line)
    return 0


# ---------------------------------------------------------------- parser
def _add(sub: argparse._SubParsersAction, name: str, handler: Handler, help: str) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(name, help=help, description=help)
    p.set_defaults(handler=handler)
    return p


def _root_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--root",
        action="append",
        default=[],
        metavar="NAME=DIR",
        help="a source's folder (repeatable), e.g. rsicd=/data/RSICD",
    )


def _data_parsers(sub: argparse._SubParsersAction) -> None:
    data = sub.add_parser("data", help="build and inspect the instruction corpus (MMRS)")
    dsub = data.add_subparsers(dest="data_command", required=True)
    p = _add(dsub, "build", cmd_data_build, "build (or resume) an instruction corpus from a YAML config")
    p.add_argument("--config", required=True, help="build config YAML, e.g. configs/data/demo.yaml")
    p.add_argument("--data", default=None, help="data root (default: $EARTHGPT_DATA, else the config's data_root)")
    p.add_argument("--out", default=None, help="output directory (default: the config's out_dir)")
    p.add_argument("--workers", type=int, default=None, help="parallel worker processes")
    p.add_argument("--overwrite", action="store_true", help="discard an existing build with another config")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--skip-missing", action="store_true", help="build the sources present, list the absent ones")
    _root_option(p)
    p = _add(dsub, "check", cmd_data_check, "per configured source: found / absent / layout problem, and the fix")
    p.add_argument("--config", required=True, help="build config YAML, e.g. configs/data/mmrs.yaml")
    p.add_argument("--data", default=None, help="data root (default: $EARTHGPT_DATA, else the config's data_root)")
    _root_option(p)
    p = _add(dsub, "stats", cmd_data_stats, "Table I of a finished build: counts per task, source, modality; skips")
    p.add_argument("build", help="build directory")
    p = _add(dsub, "show", cmd_data_show, "render one conversation with its boxes and dialogue to a PNG")
    p.add_argument("build", help="build directory")
    p.add_argument("which", help="conversation id or index")
    p.add_argument("--png", required=True, help="output PNG path")
    p.add_argument("--data", default=_data_default(), help="data root (default: the build's)")
    p = _add(dsub, "export", cmd_data_export, "export a build to the LLaVA/ShareGPT JSON layout")
    p.add_argument("build", help="build directory")
    p.add_argument("export_dir", help="folder to write llava.json (and tile crops) into")


TRAIN_HELP = "train a model on a built corpus (from scratch, or the paper's stage 1 / 2)"
EVAL_HELP = "evaluate a model on benchmark tasks (see `earthgpt list tasks`)"


def _train_parser(sub: argparse._SubParsersAction, flags: bool) -> None:
    """``train``; its flags come from TrainRun and TrainConfig (which import torch: only built when needed)."""
    if not flags:
        _add(sub, "train", cmd_train, TRAIN_HELP)
        return
    from earthgpt.flags import add_dataclass_flags
    from earthgpt.pipeline import ALIASES, RUN_SET_FIELDS, TrainRun
    from earthgpt.training.config import TrainConfig
    from earthgpt.training.stages import STAGES

    rows = "; ".join(
        f"{k}: "
        + ", ".join(f"{f}={v}" for f, v in spec.defaults.items() if f != "save_full_model")
        + (f", warmup {spec.warmup_fraction:.0%} of max_steps" if spec.warmup_fraction is not None else "")
        for k, spec in STAGES.items()
    )
    p = _add(sub, "train", cmd_train, TRAIN_HELP)
    p.epilog = f"Stage defaults (training/stages.py) -- {rows}. A flag or a --config YAML key overrides any of them."
    p.set_defaults(make=_train_run)
    p.add_argument("--config", default=None, help="YAML with any of the options below (the flags override it)")
    run = p.add_argument_group("run")
    add_dataclass_flags(run, TrainRun, choices={"stage": tuple(STAGES)})
    run.add_argument("--data", dest="data", default=argparse.SUPPRESS, help="deprecated: use --build")
    loop = p.add_argument_group("training loop (TrainConfig; default: the stage's)")
    aliases = {field: [f"--{alias}"] for alias, field in ALIASES.items()}
    add_dataclass_flags(loop, TrainConfig, exclude=RUN_SET_FIELDS, aliases=aliases, default_help="the stage's")


def _model_parsers(sub: argparse._SubParsersAction, flags: bool) -> None:
    _train_parser(sub, flags)

    model = sub.add_parser("model", help="model sizes, parameter counts, merged export")
    msub = model.add_subparsers(dest="model_command", required=True)
    p = _add(msub, "info", cmd_model_info, "parameter counts per part and trainable per stage")
    p.add_argument("--size", choices=("tiny", "paper"), default="tiny")
    p.add_argument("--vocab-size", type=int, default=None, help="vocabulary (default 1024 tiny, 32001 paper)")
    p.add_argument("--model", default=None, help="a model directory (any assembled or trained one) instead of --size")
    p = _add(
        msub, "init", cmd_model_init, "assemble a model directory from local DINOv2, ConvNeXt, LLaMA-family weights"
    )
    p.add_argument("--size", choices=("auto", "tiny", "paper"), default=None,
                   help="auto (default with checkpoints): each part's shape from its checkpoint; tiny/paper: checked")  # fmt: skip
    p.add_argument("--image-size", type=int, default=224, help="input size for --size auto (default 224)")
    p.add_argument("--dinov2", default=None, help="HF-format DINOv2 directory (any size, with or without registers)")
    p.add_argument("--convnext", default=None, help="ConvNeXt weights: open_clip/timm file, HF file or HF directory")
    p.add_argument("--llama", default=None, help="HF LLaMA/Mistral causal-LM directory (its tokenizer is used)")
    p.add_argument("--tokenizer", default=None, help="tokenizer directory (default: the LLaMA directory)")
    p.add_argument("--sam", default=None, help="HF SamModel directory: EarthGPT-X mask decoder weights (implies --x)")
    p.add_argument("--x", action="store_true", help="add the EarthGPT-X parts (prompts, views, <seg> masks)")
    p.add_argument("--out", required=True, help="model directory to write")
    p = _add(msub, "export", cmd_model_export, "fold the stage-2 scale/bias factors into plain weights")
    p.add_argument("--model", required=True, help="model directory")
    p.add_argument("--out", required=True, help="directory for the merged model")
    p = _add(
        msub, "ship", cmd_model_ship, "write a trained model as a shipped one: inference weights in bf16, <= 30 MB"
    )
    p.add_argument("--model", required=True, help="model directory of a training run (`earthgpt train --out`)")
    p.add_argument("--out", required=True, help="folder to write, e.g. models/earthgpt-tiny")
    p.add_argument("--dtype", choices=("bf16", "fp16", "fp32"), default="bf16", help="stored float dtype")


def _eval_parser(sub: argparse._SubParsersAction, flags: bool) -> None:
    """``eval`` and ``eval score``; flags from EvalRun and ScoreRun (built only when needed)."""
    p = _add(sub, "eval", cmd_eval, EVAL_HELP)
    if not flags:
        return
    from earthgpt.evaluation.cli import EvalRun, ScoreRun
    from earthgpt.flags import add_dataclass_flags

    p.set_defaults(make=_eval_run)
    add_dataclass_flags(p, EvalRun)
    esub = p.add_subparsers(dest="eval_command", required=False)
    s = _add(esub, "score", cmd_eval, "score anyone's predictions file with our metrics")
    s.set_defaults(make=_eval_run)
    add_dataclass_flags(s, ScoreRun)


def _use_parsers(sub: argparse._SubParsersAction, flags: bool) -> None:
    p = _add(sub, "chat", cmd_chat, "ask questions about an image (several questions: a multi-turn chat)")
    p.add_argument("--model", default=None, help=MODEL_HELP)
    p.add_argument("--image", required=True, help="image file: JPEG/PNG/TIFF/GeoTIFF, 8/16-bit, 1..N bands")
    p.add_argument("--draw", default=None, help="save the image with the answer's boxes and masks drawn to this PNG")
    p.add_argument("--max-new-tokens", type=int, default=256)
    prompt_help = "(EarthGPT-X) a visual prompt in image pixels; the K-th prompt given is <regionK> in the question"
    for flag, metavar in (("--point", "X,Y"), ("--box", "X1,Y1,X2,Y2"), ("--scribble", "FILE.json")):
        p.add_argument(flag, action=_PromptFlag, dest="prompt_flags", metavar=metavar, help=prompt_help)
    p.add_argument("--zoom", default="", help="(EarthGPT-X) view plan: global, grid:K or region:K")
    p.add_argument("--masks", default=None, help="(EarthGPT-X) write the answers' masks (RLE and polygons) to JSON")
    p.add_argument("question", nargs="+", help="question(s); each further one continues the dialogue")

    _eval_parser(sub, flags)

    p = _add(sub, "demo", cmd_demo, "the shipped model on a held-out scene, VQA question and thermal frame")
    p.add_argument("--data", default=_data_default() or "../shared/data", help="data root (../shared/data layout)")
    p.add_argument("--out", default="runs/demo", help="output directory (detection.png; with --train the run)")
    p.add_argument("--model", default=None, help=MODEL_HELP)
    p.add_argument("--train", action="store_true",
                   help="retrain with configs/data/tiny.yaml and the two phases configs/train/tiny.yaml (from scratch) "
                   "and tiny-more.yaml (continued), each resumable; ship into OUT/model and ask that model")  # fmt: skip
    p.add_argument(
        "--steps", type=int, default=None, help="with --train: training steps of each phase (default: the recipe's)"
    )

    from earthgpt.inference.scene.cli import add_parser as add_scene_parser  # `earthgpt scene`: options and handler

    add_scene_parser(sub)

    from earthgpt.serving.cli import add_parser as add_serve_parser  # `earthgpt serve`: options and handler

    add_serve_parser(sub)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole parser; with ``only`` (a subcommand name, or "" for none), the generated flags of the other
    subcommands are left out (generating them imports torch: seconds that ``earthgpt list sources`` and the
    top-level ``earthgpt --help`` should not pay)."""
    parser = argparse.ArgumentParser(prog="earthgpt", description="EarthGPT: remote-sensing multimodal LLM toolkit")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)
    lst = sub.add_parser("list", help="list sources or tasks")
    lsub = lst.add_subparsers(dest="list_command", required=True)
    _add(lsub, "sources", cmd_list_sources, "every dataset source with its modality, tasks and splits")
    _add(lsub, "tasks", cmd_list_tasks, "every evaluation task with its source and metrics")
    _data_parsers(sub)
    _model_parsers(sub, flags=only in (None, "train"))
    _use_parsers(sub, flags=only in (None, "eval"))
    return parser


def cmd_list_tasks(args: argparse.Namespace) -> int:
    from earthgpt.evaluation.cli import list_tasks

    print(list_tasks())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in argv if not a.startswith("-")), "")  # "": top-level help or usage error
    args = build_parser(only=command).parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        if args.command in DATA_ROOT_COMMANDS and getattr(args, "data", None):
            check_data_root(args.data)
        target = args.make(args) if hasattr(args, "make") else args
        code: int = args.handler(target)
    except _user_errors() as e:
        print(f"earthgpt: error: {' '.join(str(e).split())}", file=sys.stderr)  # one line, whatever the message
        return 2
    return code


DATA_ROOT_COMMANDS = ("data", "eval", "demo")
"""Subcommands whose ``--data`` is a data root (for ``train`` it names a build directory)."""


def check_data_root(path: str) -> None:
    """A data root that exists but is not a folder gets its own message (a file, a symlink loop)."""
    p = Path(path)
    try:
        p.stat()
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise NotADirectoryError(
                f"--data {p}: the path is a symlink loop (it points back to itself); point it at the data folder"
            ) from err
        return  # absent: the command's own message names the option to set
    if not p.is_dir():
        raise NotADirectoryError(f"--data {p} is a file, not a folder: pass the folder that holds the datasets")


def _user_errors() -> tuple[type[Exception], ...]:
    """Errors caused by what the user passed (their messages name the file or option and the fix): one line, code 2."""
    from earthgpt.data.imagery import ImageReadError

    return (FileNotFoundError, NotADirectoryError, ValueError, KeyError, ImageReadError)


if __name__ == "__main__":
    sys.exit(main())
