"""Show which tokens of a training example carry the loss (notebook 04).

The dataset is conversational prompt-completion, and TRL's `completion_only_loss` masks the prompt:
the loss covers the tokens the chat template adds after the prompt rendered with its generation
prompt — the teacher's answer and the end-of-turn token — and nothing of the system message or the
task. This renders one example the same way (`train.check_examples` applies the same split before
training), so a reader sees the mask rather than being told about it.
"""
from __future__ import annotations

import html


def split_tokens(tokenizer, example: dict, max_length: int) -> tuple[list[str], list[str]]:
    """(prompt tokens: no loss, completion tokens: trained), as the template renders them."""
    prompt = tokenizer.apply_chat_template(example["prompt"], tokenize=False, add_generation_prompt=True)
    full = tokenizer.apply_chat_template(example["prompt"] + example["completion"], tokenize=False)
    p_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    f_ids = tokenizer(full, add_special_tokens=False)["input_ids"][:max_length]
    show = lambda ids: [tokenizer.decode([i]) for i in ids]  # noqa: E731
    return show(f_ids[:len(p_ids)]), show(f_ids[len(p_ids):])


def as_html(tokenizer, example: dict, max_length: int) -> str:
    """The example as HTML: masked tokens grey, trained tokens highlighted, token boundaries shown."""
    masked, trained = split_tokens(tokenizer, example, max_length)

    def spans(tokens, style):
        return "".join(f'<span style="{style}">{html.escape(t).replace(chr(10), "↵<br>")}</span>' for t in tokens)

    return ('<div style="font-family: monospace; font-size: 12px; line-height: 1.6">'
            + spans(masked, "color:#888; border-right:1px dotted #ccc")
            + spans(trained, "background:#ffe08a; border-right:1px dotted #c90")
            + f'</div><p>{len(masked)} prompt tokens (grey, no loss) · {len(trained)} trained tokens (yellow, '
              'the teacher\'s answer and the end-of-turn token)</p>')


def as_text(tokenizer, example: dict, max_length: int) -> str:
    """The same as plain text: the masked part, then the trained part between [[ ]]."""
    masked, trained = split_tokens(tokenizer, example, max_length)
    return "".join(masked) + "[[" + "".join(trained) + "]]"
