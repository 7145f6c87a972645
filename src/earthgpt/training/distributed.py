"""Multi-process launch: train the tiny EarthGPT on synthetic image-text batches under accelerate or torchrun.

Examples (2 CPU processes)::

    accelerate launch --config_file configs/accelerate/ddp.yaml -m earthgpt.training.distributed --out-dir runs/ddp
    torchrun --nproc_per_node 2 -m earthgpt.training.distributed --out-dir runs/ddp --max-steps 4

The launcher chooses the engine (DDP, FSDP, DeepSpeed ZeRO) through accelerate; the loop is the same
:func:`earthgpt.training.train`. ``--config`` takes a saved TrainConfig (YAML/JSON); flags override its fields.
``--report`` writes, per rank, the loss and a digest of the trainable parameters after every step and the dataset
indices the rank read, so that agreement between ranks can be checked.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import Dataset

from earthgpt.models import EarthGPT, build_model, tiny_config
from earthgpt.training.config import TrainConfig
from earthgpt.training.loop import Trainer, train
from earthgpt.training.runtime import build_accelerator
from earthgpt.training.stages import apply_stage

log = logging.getLogger(__name__)

# Token ids of the synthetic vocabulary used by the launch check.
VOCAB_SIZE, PAD_ID, BOS_ID, EOS_ID, IMAGE_ID = 96, 0, 1, 2, 95
TEXT_TOKENS = 12


class SyntheticImageText(Dataset[dict[str, torch.Tensor]]):
    """Deterministic random images in [0, 1] with random captions, in the model's input format.

    Sample ``i`` is generated from seed ``i``; ``read`` lists the indices fetched by this process.
    """

    def __init__(self, num_samples: int, image_size: int, num_image_tokens: int) -> None:
        self.num_samples = num_samples
        self.image_size = image_size
        self.num_image_tokens = num_image_tokens
        self.read: list[int] = []

    def __len__(self) -> int:
        return self.num_samples

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        self.read.append(index)
        generator = torch.Generator().manual_seed(index)
        pixels = torch.rand(3, self.image_size, self.image_size, generator=generator)  # [3, S, S]
        caption = torch.randint(3, IMAGE_ID, (TEXT_TOKENS,), generator=generator)
        image = torch.full((self.num_image_tokens,), IMAGE_ID)
        ids = torch.cat([torch.tensor([BOS_ID]), image, caption, torch.tensor([EOS_ID])])  # [T]
        labels = ids.clone()
        labels[: 1 + self.num_image_tokens] = -100  # loss on the caption only
        return {"pixel_values": pixels, "input_ids": ids, "labels": labels}


def collate_image_text(items: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Stack equal-length samples (the synthetic data needs no padding)."""
    ids = torch.stack([item["input_ids"] for item in items])  # [B, T]
    return {
        "pixel_values": torch.stack([item["pixel_values"] for item in items]),  # [B, 3, S, S]
        "input_ids": ids,
        "attention_mask": torch.ones_like(ids),
        "labels": torch.stack([item["labels"] for item in items]),
    }


def build_tiny_model(seed: int, stage: int | None = 1) -> EarthGPT:
    """The tiny EarthGPT, identical on every rank, with ``stage`` applied (None leaves build_model's defaults)."""
    config = tiny_config(
        vocab_size=VOCAB_SIZE, image_token_id=IMAGE_ID, pad_token_id=PAD_ID, bos_token_id=BOS_ID, eos_token_id=EOS_ID
    )
    model = build_model(config, seed=seed)
    if stage is not None:
        apply_stage(model, stage)
    return model


def parameter_digest(model: nn.Module) -> str:
    """SHA-256 of the trainable parameters' bytes, in name order."""
    digest = hashlib.sha256()
    for name, param in sorted(model.named_parameters()):
        if param.requires_grad:
            digest.update(name.encode())
            digest.update(param.detach().float().cpu().numpy().tobytes())
    return digest.hexdigest()


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m earthgpt.training.distributed", description=__doc__)
    parser.add_argument("--config", type=Path, help="a saved TrainConfig (YAML or JSON)")
    parser.add_argument("--out-dir", help="run directory (overrides the config's out_dir)")
    parser.add_argument("--max-steps", type=int, help="optimizer steps (overrides the config)")
    parser.add_argument("--batch-size", type=int, help="micro-batch per process (overrides the config)")
    parser.add_argument("--stop-at-step", type=int, help="end this invocation after this step (resume later)")
    parser.add_argument("--resume", action="store_true", help="continue from the newest checkpoint")
    parser.add_argument("--stage", type=int, default=1, choices=(1, 2), help="training stage to apply")
    parser.add_argument("--num-samples", type=int, default=64, help="size of the synthetic dataset")
    parser.add_argument("--report", type=Path, help="write <report>.rank<r>.json with per-step loss and digests")
    return parser.parse_args(argv)


def _config(args: argparse.Namespace) -> TrainConfig:
    base = TrainConfig.load(args.config) if args.config else None
    values: dict[str, Any] = base.to_dict() if base else {"out_dir": "runs/distributed", "max_steps": 4}
    if not base:
        values |= {"batch_size": 2, "lr": 1e-4, "warmup_steps": 1, "save_every": 0, "progress_bar": False}
    overrides = {
        "out_dir": args.out_dir,
        "max_steps": args.max_steps,
        "batch_size": args.batch_size,
        "stop_at_step": args.stop_at_step,
    }
    values |= {k: v for k, v in overrides.items() if v is not None}
    if args.resume:
        values["resume"] = True
    return TrainConfig.from_dict(values, source=str(args.config or "<flags>"))


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m earthgpt.training.distributed``."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = _parse(argv)
    config = _config(args)
    accelerator = build_accelerator(config)
    model = build_tiny_model(seed=config.seed, stage=args.stage)
    data = SyntheticImageText(args.num_samples, model.config.image_size, model.config.num_image_tokens)
    steps: list[dict[str, Any]] = []

    def record(trainer: Trainer, stats: dict[str, float]) -> None:
        unwrapped = trainer.accelerator.unwrap_model(trainer.model)
        steps.append({"step": trainer.step, "loss": stats["loss"], "digest": parameter_digest(unwrapped)})

    result = train(model, data, collate_image_text, config, accelerator=accelerator, on_step=record)
    if args.report is not None:
        report = {"rank": accelerator.process_index, "world_size": accelerator.num_processes, "steps": steps,
                  "read": data.read, "distributed_type": str(accelerator.distributed_type)}  # fmt: skip
        path = args.report.with_name(f"{args.report.name}.rank{accelerator.process_index}.json")
        path.write_text(json.dumps(report))
    log.info("finished at step %d; last checkpoint %s", result.final_step, result.checkpoint_dir)
    accelerator.end_training()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
