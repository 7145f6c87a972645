"""The `earthgpt` command: each subcommand maps to one plain function of the library."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

Handler = Callable[[argparse.Namespace], int]


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
def cmd_train(args: argparse.Namespace) -> int:
    from earthgpt.pipeline import load_train_run, train_from_build

    fields = (
        "data out stage init size steps batch_size grad_accum lr seed vocab_size max_length images resume save_every"
    )
    overrides = {f: getattr(args, f) for f in fields.split() if getattr(args, f) not in (None, False)}
    run = load_train_run(args.config, **overrides)
    result = train_from_build(run)
    print(
        f"trained {len(result.losses)} steps: loss {result.losses[0]:.4f} -> {result.losses[-1]:.4f}; model in {run.out}"
    )
    return 0


def cmd_model_info(args: argparse.Namespace) -> int:
    from earthgpt.models import EarthGPTConfig
    from earthgpt.models.info import model_info

    if args.model:
        print(json.dumps(model_info(EarthGPTConfig.load(Path(args.model) / "config.json")), indent=1))
        return 0
    vocab = args.vocab_size or (1024 if args.size == "tiny" else 32001)
    print(json.dumps(model_info(args.size, vocab_size=vocab), indent=1))
    return 0


def cmd_model_init(args: argparse.Namespace) -> int:
    from earthgpt.models import PretrainedSources
    from earthgpt.pipeline import init_pretrained

    sources = PretrainedSources(dinov2_dir=args.dinov2, convnext_weights=args.convnext, llama_dir=args.llama)
    size = args.size or ("auto" if args.dinov2 or args.convnext or args.llama else "paper")
    print(init_pretrained(sources, args.out, tokenizer_dir=args.tokenizer, size=size, image_size=args.image_size))
    return 0


def cmd_model_export(args: argparse.Namespace) -> int:
    from earthgpt.models import EarthGPT
    from earthgpt.training.stages import export_merged

    model = EarthGPT.from_pretrained(args.model)
    out = export_merged(model, args.out)
    src = Path(args.model)
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        if (src / name).is_file():
            (Path(out) / name).write_bytes((src / name).read_bytes())
    print(out)
    return 0


# ---------------------------------------------------------------- chat / eval / demo
def cmd_chat(args: argparse.Namespace) -> int:
    from earthgpt.inference.chat import chat

    for question, answer in chat(
        args.model, args.image, args.question, draw=args.draw, max_new_tokens=args.max_new_tokens
    ):
        print(f"USER: {question}\nEARTHGPT: {answer}")
    if args.draw:
        print(f"boxes drawn on {args.draw}")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from earthgpt.evaluation.cli import run_eval

    return run_eval(args)


def cmd_eval_score(args: argparse.Namespace) -> int:
    from earthgpt.evaluation.cli import run_score

    return run_score(args)


def cmd_demo(args: argparse.Namespace) -> int:
    from earthgpt.demo import run_demo

    for line in run_demo(args.data, args.out, steps=args.steps):
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


def _model_parsers(sub: argparse._SubParsersAction) -> None:
    p = _add(sub, "train", cmd_train, "train a model on a built corpus (from scratch, or the paper's stage 1 / 2)")
    p.add_argument("--config", default=None, help="YAML with any of the options below (the flags override it)")
    p.add_argument("--data", help="build directory (earthgpt data build)")
    p.add_argument("--out", help="model directory to write")
    p.add_argument("--stage", choices=("scratch", "1", "2"), help="default scratch")
    p.add_argument("--init", help="model directory to continue from (stages 1 and 2; see `earthgpt model init`)")
    p.add_argument("--size", help="model size for scratch runs: tiny (default) or paper")
    p.add_argument("--steps", type=int, help="optimizer steps (default 200)")
    p.add_argument("--batch-size", type=int, help="samples per step per process (default 8)")
    p.add_argument("--grad-accum", type=int, help="micro-batches per optimizer step (default 1)")
    p.add_argument("--lr", type=float, help="peak LR (default 1e-3 scratch, 2e-5 stages 1/2)")
    p.add_argument("--seed", type=int, help="default 0")
    p.add_argument("--vocab-size", type=int, help="BPE vocabulary for scratch runs (default 1024)")
    p.add_argument("--max-length", type=int, help="token budget per conversation (default 1024)")
    p.add_argument("--images", help="image root (default: the build's data root)")
    p.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in OUT/run")
    p.add_argument("--save-every", type=int, help="checkpoint every N steps (default 0: at the end)")

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
    p.add_argument("--out", required=True, help="model directory to write")
    p = _add(msub, "export", cmd_model_export, "fold the stage-2 scale/bias factors into plain weights")
    p.add_argument("--model", required=True, help="model directory")
    p.add_argument("--out", required=True, help="directory for the merged model")


def _use_parsers(sub: argparse._SubParsersAction) -> None:
    p = _add(sub, "chat", cmd_chat, "ask questions about an image (several questions: a multi-turn chat)")
    p.add_argument("--model", required=True, help="model directory")
    p.add_argument("--image", required=True, help="image file: JPEG/PNG/TIFF/GeoTIFF, 8/16-bit, 1..N bands")
    p.add_argument("--draw", default=None, help="save the image with the answer's boxes drawn to this PNG")
    p.add_argument("--max-new-tokens", type=int, default=256)
    p.add_argument("question", nargs="+", help="question(s); each further one continues the dialogue")

    p = _add(sub, "eval", cmd_eval, "evaluate a model on benchmark tasks (see `earthgpt list tasks`)")
    p.add_argument("--model", help="model directory")
    p.add_argument("--tasks", help="comma-separated task names")
    p.add_argument("--data", default=_data_default(), help="data root holding the tasks' datasets")
    p.add_argument("--out", default="runs/eval", help="output directory (predictions cache, metrics, report)")
    p.add_argument("--limit", type=int, default=None, help="at most N items per task")
    p.add_argument("--scorer", default="logprob", help="box confidence: logprob, or clip:LOCAL_DIR")
    p.add_argument("--batch-size", type=int, default=8)
    esub = p.add_subparsers(dest="eval_command", required=False)
    s = _add(esub, "score", cmd_eval_score, "score anyone's predictions file with our metrics")
    s.add_argument("--task", required=True)
    s.add_argument("--predictions", required=True, help="JSONL with id and text per line")
    s.add_argument("--box-format", default="earthgpt", choices=("earthgpt", "geochat", "falcon", "coco", "dota"))
    s.add_argument("--data", default=_data_default(), help="data root")
    s.add_argument("--out", default="runs/score", help="output directory")
    s.add_argument("--text-key", default="text", help="field of each JSONL line that holds the model's answer")
    s.add_argument("--scorer", default="logprob", help="box confidence: logprob, or clip:LOCAL_DIR")
    s.add_argument("--limit", type=int, default=None, help="at most N items")

    p = _add(sub, "demo", cmd_demo, "build a small corpus, train a tiny model, and chat about real images")
    p.add_argument("--data", default=_data_default() or "../shared/data", help="data root (../shared/data layout)")
    p.add_argument("--out", default="runs/demo", help="output directory")
    p.add_argument("--steps", type=int, default=None, help="training steps (default: the demo's)")

    from earthgpt.inference.scene.cli import add_parser as add_scene_parser  # `earthgpt scene`: options and handler

    add_scene_parser(sub)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="earthgpt", description="EarthGPT: remote-sensing multimodal LLM toolkit")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)
    lst = sub.add_parser("list", help="list sources or tasks")
    lsub = lst.add_subparsers(dest="list_command", required=True)
    _add(lsub, "sources", cmd_list_sources, "every dataset source with its modality, tasks and splits")
    _add(lsub, "tasks", cmd_list_tasks, "every evaluation task with its source and metrics")
    _data_parsers(sub)
    _model_parsers(sub)
    _use_parsers(sub)
    return parser


def cmd_list_tasks(args: argparse.Namespace) -> int:
    from earthgpt.evaluation.cli import list_tasks

    print(list_tasks())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        code: int = args.handler(args)
    except (FileNotFoundError, ValueError, KeyError) as e:
        print(f"earthgpt: error: {e}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
