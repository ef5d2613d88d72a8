"""The generation phase of benchmarks/gpu_check.py: batched greedy generation through the kit's
scoring path (generation.generate_detailed, the continuous-batching decoder) against plain
`model.generate` on left-padded batches, same prompts, same limit, on a randomly initialised model of
the plan's shape in the scoring dtype (bf16 on GPUs).

The prompts are the kit's held-out task items under the profile's evaluation system messages,
rendered by the tiny student's chat template (SmolLM2's tokenizer). The model's vocabulary is the
shape's (151,936 for Qwen2.5); the embedding rows past the tokenizer's 49,152 words are zeroed, so
their logits are 0 and greedy (whose top logit is positive) never writes a token the tokenizer
cannot decode: the output layer keeps its full size and cost. A random model rarely writes its
end-of-turn token, so both run to the limit: the same work, and tokens/s compares the decoders. In
bf16 a row's numbers may depend on the batch around it (other kernel shapes), so texts may differ:
the identical fraction is reported, not assumed.
"""
from __future__ import annotations

import time


def prompts(params, n: int) -> list[list[dict]]:
    from orca2_kit import tasks
    from orca2_kit.generation import messages, system_text

    fams = params.tasks.families or list(tasks.FAMILIES)
    modes = params.eval.system_messages
    per = -(-n // (len(fams) * len(modes))) + 1
    items = tasks.build_suite(params.seed, params.tasks.families, n_train=1, n_dev=1, n_test=per)["test"]
    convs = [messages(system_text(mode), it.prompt) for it in items for mode in modes]
    return convs[:n]


def plain_generate(model, tok, convs, limit: int, batch_size: int) -> list[tuple[str, int]]:
    """Left-padded batches in input order through `model.generate`; (text, new tokens) per prompt."""
    import torch

    texts = [tok.apply_chat_template(c, tokenize=False, add_generation_prompt=True) for c in convs]
    eos = {tok.eos_token_id}
    tok.padding_side = "left"
    out = []
    for i in range(0, len(texts), batch_size):
        enc = tok(texts[i:i + batch_size], return_tensors="pt", padding=True, add_special_tokens=False).to(model.device)
        with torch.inference_mode():
            gen = model.generate(**enc, max_new_tokens=limit, do_sample=False, temperature=None, top_p=None,
                                 top_k=None, pad_token_id=tok.pad_token_id)
        for row in gen[:, enc["input_ids"].shape[1]:].tolist():
            k = next((j + 1 for j, t in enumerate(row) if t in eos), len(row))
            out.append((tok.decode(row[:k], skip_special_tokens=True).strip(), k))
    return out


def run(plan: dict) -> dict:
    import torch

    from gpu_train import random_model
    from orca2_kit.config import load_params
    from orca2_kit.generation import generate_detailed
    from orca2_kit.models import ensure_tiny_random, load_tokenizer, resolve_device, scoring_dtype

    g = plan["generate"]
    params = load_params(plan["profile"])
    device = resolve_device(params.device)
    dtype = scoring_dtype(params.generation.dtype, device)
    tok = load_tokenizer(str(ensure_tiny_random()))
    torch.manual_seed(0)
    model = random_model(plan["model"], dtype, device).eval()
    with torch.no_grad():
        model.get_input_embeddings().weight[len(tok):] = 0
        head = model.get_output_embeddings()
        if head.weight is not model.get_input_embeddings().weight:
            head.weight[len(tok):] = 0
    convs = prompts(params, g["prompts"])
    limit, batch = g["max_new_tokens"], g["batch_size"]
    plain_generate(model, tok, convs[:2], 4, 2)  # kernels and caches warm for both
    generate_detailed(model, tok, convs[:2], 4, 2, stop_after_answer=False, engine="continuous")
    t0 = time.perf_counter()
    plain = plain_generate(model, tok, convs, limit, batch)
    plain_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    kit = generate_detailed(model, tok, convs, limit, batch, stop_after_answer=False, engine="continuous")
    kit_s = time.perf_counter() - t0
    plain_tokens, kit_tokens = sum(n for _, n in plain), sum(k.new_tokens for k in kit)
    return {"status": "ok", "device": device, "dtype": str(dtype).removeprefix("torch."), "prompts": len(convs),
            "batch_size": batch, "max_new_tokens": limit,
            "plain": {"seconds": round(plain_s, 2), "new_tokens": plain_tokens, "tokens_per_s": round(plain_tokens / plain_s, 1)},
            "kit": {"seconds": round(kit_s, 2), "new_tokens": kit_tokens, "tokens_per_s": round(kit_tokens / kit_s, 1)},
            "tokens_per_s_ratio_kit_to_plain": round((kit_tokens / kit_s) / (plain_tokens / plain_s), 3),
            "identical_texts": sum(k.text == p for k, (p, _) in zip(kit, plain)),
            "hit_limit": sum(k.hit_limit for k in kit)}
