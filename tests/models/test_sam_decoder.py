"""The mask decoder starts from a local SAM checkpoint (HF SamModel layout): `earthgpt model init --sam DIR`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from transformers import SamConfig, SamMaskDecoderConfig, SamModel

from earthgpt.cli import main
from earthgpt.data.tokenizer import train_tokenizer
from earthgpt.models import load_pretrained
from earthgpt.models.builders import paper_x_config, tiny_x_config
from earthgpt.models.pixel.decoder import MaskDecoder, sam_decoder_config

VISION = {"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2, "image_size": 64, "patch_size": 16,
          "window_size": 2, "global_attn_indexes": [0], "output_channels": 32}  # fmt: skip


def _sam(directory: Path, decoder: dict[str, int], width: int) -> Path:
    """A tiny random SamModel saved as a checkpoint directory (vision encoder tiny, decoder as asked)."""
    torch.manual_seed(1)
    config = SamConfig(
        vision_config={**VISION, "num_pos_feats": width // 2, "output_channels": width},
        prompt_encoder_config={"hidden_size": width, "image_size": 64, "patch_size": 16, "image_embedding_size": 4},
        mask_decoder_config=decoder,
    )
    SamModel(config).save_pretrained(directory)
    return directory


TINY_DECODER = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "mlp_dim": 64,
                "iou_head_hidden_dim": 32}  # fmt: skip


def test_paper_decoder_has_sams_dims() -> None:
    """SAM ViT-B/L/H share one mask decoder; HF's default SamMaskDecoderConfig is it."""
    ours, sam = sam_decoder_config(paper_x_config(1, 2, 3)), SamMaskDecoderConfig()
    keys = ("hidden_size", "num_hidden_layers", "num_attention_heads", "mlp_dim", "iou_head_hidden_dim",
            "num_multimask_outputs", "attention_downsample_rate")  # fmt: skip
    assert {k: getattr(ours, k) for k in keys} == {k: getattr(sam, k) for k in keys}
    paper = MaskDecoder(paper_x_config(1, 2, 3), (192, 384, 768, 1536), 224)
    assert paper.positional.positional_embedding.shape == (2, 128)  # num_pos_feats = half of 256


def test_load_sam_copies_the_decoder(tmp_path: Path) -> None:
    sam_dir = _sam(tmp_path / "sam", TINY_DECODER, 32)
    decoder = MaskDecoder(tiny_x_config(4, 5, 6), (32, 64, 128, 256), 160)
    decoder.load_sam(sam_dir)
    sam = SamModel.from_pretrained(sam_dir)
    assert all(torch.equal(v, sam.mask_decoder.state_dict()[k]) for k, v in decoder.decoder.state_dict().items())
    assert torch.equal(decoder.positional.positional_embedding, sam.shared_image_embedding.positional_embedding)
    assert torch.equal(decoder.no_mask_embed.weight, sam.prompt_encoder.no_mask_embed.weight)
    other = _sam(tmp_path / "other", {**TINY_DECODER, "mlp_dim": 128}, 32)
    with pytest.raises(ValueError, match=r"other: SAM mask decoder .*'mlp_dim': 128.* does not match"):
        decoder.load_sam(other)
    with pytest.raises(FileNotFoundError, match="not an HF SamModel directory"):
        decoder.load_sam(tmp_path / "missing")


def test_model_init_with_sam(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sam_dir = _sam(tmp_path / "sam", TINY_DECODER, 32)
    tok = train_tokenizer(["what is <region1>? segment it <seg> please"] * 20, vocab_size=300)
    tok.add_special_tokens({"additional_special_tokens": ["<region>", "<seg>", "<view>"]})  # type: ignore[dict-item]
    tok.save_pretrained(tmp_path / "tok")
    args = ["model", "init", "--size", "tiny", "--tokenizer", str(tmp_path / "tok"), "--sam", str(sam_dir)]
    assert main([*args, "--out", str(tmp_path / "out")]) == 0
    model = load_pretrained(tmp_path / "out")
    assert model.config.x is not None and model.config.x.seg_token_id == tok.convert_tokens_to_ids("<seg>")
    sam = SamModel.from_pretrained(sam_dir)
    assert model.mask_decoder is not None
    got = model.mask_decoder.state_dict()  # type: ignore[union-attr]
    assert all(torch.equal(got[f"decoder.{k}"], v) for k, v in sam.mask_decoder.state_dict().items())
    capsys.readouterr()
    assert main(["model", "info", "--model", str(tmp_path / "out")]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["parameters"]["mask_decoder"] == sum(p.numel() for p in model.mask_decoder.parameters())
    assert info["stages"]["x"]["groups"]["mask_decoder"]["trainable"] is True
