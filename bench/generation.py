"""Tokens/s of EarthGPT's batched, KV-cached generation vs HF ``generate`` one prompt at a time, same weights.

Builds a tiny EarthGPT (random weights), makes ``--batch`` prompts of different lengths (image placeholders +
text), generates greedily with ``EarthGPT.generate`` as one left-padded batch and with HF
``LlamaForCausalLM.generate(inputs_embeds=...)`` sample by sample, asserts the token ids are identical and prints
both throughputs and their ratio. Then a two-turn chat about one image: the second turn's cost relative to the
first, through a ChatSession (its KV cache: only the new turn is fed) and re-encoded from scratch (the whole history
and the image again). The sides run in turn ``--repeats`` times; medians with min-max are printed.
Run from the repository root: ``python bench/generation.py [--batch 8] [--new-tokens 32] [--repeats 5]``.
"""

from __future__ import annotations

import argparse

import torch
from _timing import Spread, interleaved, ratio

from earthgpt.models import ChatSession, EarthGPT, build_model, tiny_config

PAD, BOS, EOS, IMAGE = 0, 1, 2, 3


def make_prompts(model: EarthGPT, batch: int, vocab: int, seed: int) -> list[list[int]]:
    g = torch.Generator().manual_seed(seed)
    n = model.num_image_tokens
    return [[BOS] + [IMAGE] * n + torch.randint(4, vocab, (4 + 3 * i,), generator=g).tolist() for i in range(batch)]


def left_pad(prompts: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(p) for p in prompts)
    ids = torch.full((len(prompts), width), PAD, dtype=torch.long)
    mask = torch.zeros_like(ids)
    for i, p in enumerate(prompts):
        ids[i, width - len(p) :] = torch.tensor(p)
        mask[i, width - len(p) :] = 1
    return ids, mask


@torch.no_grad()
def run_ours(model: EarthGPT, pixels: torch.Tensor, prompts: list[list[int]], new: int) -> list[list[int]]:
    ids, mask = left_pad(prompts)
    return model.generate(pixels, ids, mask, max_new_tokens=new, eos_token_id=-1)


@torch.no_grad()
def run_hf(model: EarthGPT, pixels: torch.Tensor, prompts: list[list[int]], new: int) -> list[list[int]]:
    outs = []
    for i, p in enumerate(prompts):
        embeds = model.embed_inputs(torch.tensor([p]), pixels[i : i + 1])
        out = model.llm.generate(
            inputs_embeds=embeds,
            attention_mask=torch.ones(1, len(p), dtype=torch.long),
            max_new_tokens=new,
            min_new_tokens=new,
            do_sample=False,
            eos_token_id=None,
            pad_token_id=PAD,
        )
        outs.append(out[0].tolist())
    return outs


class TwoTurns:
    """One chat about one image: ``first`` opens a session and answers turn 1, ``second`` answers turn 2 from the
    session's cache, ``scratch`` answers turn 2 by re-encoding the whole history (image included)."""

    def __init__(self, model: EarthGPT, pixels: torch.Tensor, turn1: list[int], turn2: list[int], new: int) -> None:
        self.model, self.pixels, self.turn1, self.turn2, self.new = model, pixels, turn1, turn2, new
        self.session = ChatSession(model, pixels)
        self.answers: list[list[int]] = []

    def first(self) -> None:
        self.session = ChatSession(self.model, self.pixels)
        self.session.send(self.turn1, max_new_tokens=self.new, eos_token_id=-1)

    def second(self) -> None:
        self.answers.append(self.session.send(self.turn2, max_new_tokens=self.new, eos_token_id=-1).tokens)

    def scratch(self) -> None:
        history = self.session.transcript[: -len(self.turn2) - len(self.answers[-1])]
        ids = torch.tensor([history + self.turn2])
        out = self.model.generate(self.pixels, ids, max_new_tokens=self.new, eos_token_id=-1)[0]
        assert out == self.answers[-1], "the cached second turn differs from re-encoding the history"


def bench_turns(model: EarthGPT, pixels: torch.Tensor, prompts: list[list[int]], args: argparse.Namespace) -> None:
    follow_up = torch.randint(4, args.vocab, (12,), generator=torch.Generator().manual_seed(2)).tolist()
    chat = TwoTurns(model, pixels[:1], prompts[-1], follow_up, args.new_tokens)
    seconds = interleaved(
        {"turn 1": chat.first, "turn 2 cached": chat.second, "turn 2 re-encoded": chat.scratch},
        repeats=args.repeats,
        warmup=1,
    )
    print(f"two-turn chat, {len(prompts[-1])} + {len(follow_up)} prompt tokens, {args.new_tokens} new per turn:")
    print(f"turn 1: {Spread.of(seconds['turn 1']).format('.3f', ' s')}")
    print(f"turn 2 / turn 1, KV cache kept: {ratio(seconds['turn 2 cached'], seconds['turn 1']).format('.2f', 'x')}")
    print(
        f"turn 2 / turn 1, re-encoded:    {ratio(seconds['turn 2 re-encoded'], seconds['turn 1']).format('.2f', 'x')}"
    )
    print("cached and re-encoded second answers identical: True")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--new-tokens", type=int, default=32)
    parser.add_argument("--vocab", type=int, default=4096)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    cfg = tiny_config(vocab_size=args.vocab, image_token_id=IMAGE, pad_token_id=PAD, bos_token_id=BOS, eos_token_id=EOS)
    model = build_model(cfg, seed=args.seed).eval()
    prompts = make_prompts(model, args.batch, args.vocab, args.seed)
    pixels = torch.rand(args.batch, 3, model.image_size, model.image_size, generator=torch.Generator().manual_seed(1))
    run_ours(model, pixels[:1], prompts[:1], 2)  # warm-up

    ours = run_ours(model, pixels, prompts, args.new_tokens)
    hf = run_hf(model, pixels, prompts, args.new_tokens)
    assert ours == hf, "batched greedy output differs from HF generate one by one"
    seconds = interleaved(
        {
            "ours": lambda: run_ours(model, pixels, prompts, args.new_tokens),
            "hf": lambda: run_hf(model, pixels, prompts, args.new_tokens),
        },
        repeats=args.repeats,
        warmup=0,
    )
    total = args.batch * args.new_tokens
    print(
        f"prompts: {args.batch} x {min(map(len, prompts))}-{max(map(len, prompts))} tokens, {args.new_tokens} new each;"
        f" {args.repeats} interleaved rounds, median (min, max)"
    )
    print(
        f"EarthGPT.generate, batch {args.batch}: {Spread.of([total / t for t in seconds['ours']]).format('.1f')} tok/s"
    )
    print(f"HF generate, one by one:   {Spread.of([total / t for t in seconds['hf']]).format('.1f')} tok/s")
    print(f"speed-up: {ratio(seconds['hf'], seconds['ours']).format('.2f', 'x')}; greedy outputs identical: True")
    bench_turns(model, pixels, prompts, args)


if __name__ == "__main__":
    main()
