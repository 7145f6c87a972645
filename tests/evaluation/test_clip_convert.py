"""open_clip (RemoteCLIP) -> HF CLIPModel conversion: a tiny checkpoint in open_clip's layout, written here."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from earthgpt.evaluation.box_confidence import ClipScorer
from earthgpt.evaluation.clip_convert import convert_open_clip, open_clip_to_hf_state_dict

W, HEADS, LAYERS, PATCH, GRID, EMBED, CTX = 16, 2, 2, 8, 2, 8, 6
WORDS = ["[PAD]", "[UNK]", "a", "remote", "sensing", "image", "of", "airplane", "[EOS]"]


def _block_tensors(prefix: str, g: torch.Generator) -> dict[str, torch.Tensor]:
    def r(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=g) * 0.2

    out: dict[str, torch.Tensor] = {}
    for i in range(LAYERS):
        p = f"{prefix}transformer.resblocks.{i}."
        out |= {
            p + "ln_1.weight": 1 + r(W), p + "ln_1.bias": r(W), p + "ln_2.weight": 1 + r(W), p + "ln_2.bias": r(W),
            p + "attn.in_proj_weight": r(3 * W, W), p + "attn.in_proj_bias": r(3 * W),
            p + "attn.out_proj.weight": r(W, W), p + "attn.out_proj.bias": r(W),
            p + "mlp.c_fc.weight": r(4 * W, W), p + "mlp.c_fc.bias": r(4 * W),
            p + "mlp.c_proj.weight": r(W, 4 * W), p + "mlp.c_proj.bias": r(W),
        }  # fmt: skip
    return out


def _open_clip_state() -> dict[str, torch.Tensor]:
    """A random tiny ViT CLIP with exactly open_clip's tensor names and shapes."""
    g = torch.Generator().manual_seed(0)

    def r(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=g) * 0.2

    state = {
        "positional_embedding": r(CTX, W), "text_projection": r(W, EMBED), "logit_scale": torch.tensor(2.6593),
        "token_embedding.weight": r(len(WORDS), W), "ln_final.weight": 1 + r(W), "ln_final.bias": r(W),
        "visual.class_embedding": r(W), "visual.positional_embedding": r(GRID * GRID + 1, W),
        "visual.proj": r(W, EMBED), "visual.conv1.weight": r(W, 3, PATCH, PATCH),
        "visual.ln_pre.weight": 1 + r(W), "visual.ln_pre.bias": r(W),
        "visual.ln_post.weight": 1 + r(W), "visual.ln_post.bias": r(W),
    }  # fmt: skip
    return state | _block_tensors("", g) | _block_tensors("visual.", g)


def _blocks(x: torch.Tensor, s: dict[str, torch.Tensor], prefix: str, causal: bool) -> torch.Tensor:
    """open_clip's residual attention blocks written out  # x: [B, T, W]"""
    b, t, _ = x.shape
    mask = torch.full((t, t), float("-inf")).triu(1) if causal else torch.zeros(t, t)
    for i in range(LAYERS):
        p = f"{prefix}transformer.resblocks.{i}."
        h = F.layer_norm(x, (W,), s[p + "ln_1.weight"], s[p + "ln_1.bias"])
        q, k, v = (h @ s[p + "attn.in_proj_weight"].T + s[p + "attn.in_proj_bias"]).chunk(3, dim=-1)
        q, k, v = (z.view(b, t, HEADS, W // HEADS).transpose(1, 2) for z in (q, k, v))  # [B, H, T, D]
        att = torch.softmax(q @ k.transpose(-1, -2) / (W // HEADS) ** 0.5 + mask, dim=-1) @ v
        x = x + att.transpose(1, 2).reshape(b, t, W) @ s[p + "attn.out_proj.weight"].T + s[p + "attn.out_proj.bias"]
        h = F.layer_norm(x, (W,), s[p + "ln_2.weight"], s[p + "ln_2.bias"])
        h = F.gelu(h @ s[p + "mlp.c_fc.weight"].T + s[p + "mlp.c_fc.bias"])
        x = x + h @ s[p + "mlp.c_proj.weight"].T + s[p + "mlp.c_proj.bias"]
    return x


def _reference_image(s: dict[str, torch.Tensor], pixels: torch.Tensor) -> torch.Tensor:
    x = F.conv2d(pixels, s["visual.conv1.weight"], stride=PATCH).flatten(2).transpose(1, 2)  # [B, G*G, W]
    x = torch.cat([s["visual.class_embedding"].expand(x.shape[0], 1, W), x], dim=1) + s["visual.positional_embedding"]
    x = _blocks(F.layer_norm(x, (W,), s["visual.ln_pre.weight"], s["visual.ln_pre.bias"]), s, "visual.", False)
    return F.layer_norm(x[:, 0], (W,), s["visual.ln_post.weight"], s["visual.ln_post.bias"]) @ s["visual.proj"]


def _reference_text(s: dict[str, torch.Tensor], ids: torch.Tensor) -> torch.Tensor:
    x = _blocks(s["token_embedding.weight"][ids] + s["positional_embedding"][: ids.shape[1]], s, "", True)
    x = F.layer_norm(x, (W,), s["ln_final.weight"], s["ln_final.bias"])
    return x[torch.arange(ids.shape[0]), ids.argmax(dim=-1)] @ s["text_projection"]  # at the end-of-text token


@pytest.fixture
def tokenizer_dir(tmp_path: Path) -> Path:
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(WORDS)}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", eos_token="[EOS]")
    fast.save_pretrained(tmp_path / "tok")
    return tmp_path / "tok"


def test_converted_towers_equal_the_open_clip_forward(tmp_path: Path, tokenizer_dir: Path) -> None:
    from transformers import CLIPModel

    state = _open_clip_state()
    torch.save(state, tmp_path / "RemoteCLIP-tiny.pt")
    out = convert_open_clip(tmp_path / "RemoteCLIP-tiny.pt", tmp_path / "hf", tokenizer_dir, HEADS, HEADS)
    model = CLIPModel.from_pretrained(out, local_files_only=True).eval()
    pixels = torch.randn(2, 3, PATCH * GRID, PATCH * GRID, generator=torch.Generator().manual_seed(1))
    ids = torch.tensor([[2, 3, 4, 5, 7, 8], [2, 7, 8, 0, 0, 0]])
    with torch.no_grad():
        image = model.get_image_features(pixel_values=pixels)
        text = model.get_text_features(input_ids=ids[:1])
        image = image if isinstance(image, torch.Tensor) else image.pooler_output
        text = text if isinstance(text, torch.Tensor) else text.pooler_output
    torch.testing.assert_close(image, _reference_image(state, pixels), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(text, _reference_text(state, ids[:1]), atol=1e-5, rtol=1e-5)
    assert float(model.logit_scale.detach()) == pytest.approx(2.6593)
    scorer = ClipScorer(out, template="a remote sensing image of {label}")  # the directory --scorer clip:DIR takes
    assert scorer.size == PATCH * GRID and scorer.text_embedding("airplane").shape == (EMBED,)


def test_not_an_open_clip_vit_names_the_tensor(tmp_path: Path, tokenizer_dir: Path) -> None:
    with pytest.raises(KeyError, match=r"visual\.layer1\.0\.conv1\.weight"):
        open_clip_to_hf_state_dict({"visual.layer1.0.conv1.weight": torch.zeros(1)})
    with pytest.raises(FileNotFoundError, match="holds no tokenizer"):
        convert_open_clip(_open_clip_state(), tmp_path / "hf", tmp_path)
