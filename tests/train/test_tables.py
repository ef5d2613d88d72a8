"""Notebook 04's numbers as rounded tables, not the trainer's printed dicts (issue 27)."""
from orca2_kit import train

LOG = [{"loss": 1.0957404375076294, "grad_norm": 0.5899907946586609, "learning_rate": 0.002, "entropy": 1.35,
        "mean_token_accuracy": 0.7520571947097778, "num_tokens": 2212.0, "epoch": 0.1111111111111111, "step": 2},
       {"loss": 0.4536924958229065, "grad_norm": 0.6475920677185059, "learning_rate": 1.7026900316098216e-05,
        "mean_token_accuracy": 0.8877964019775391, "num_tokens": 20761.0, "epoch": 1.0, "step": 18},
       {"train_runtime": 48.1383, "train_loss": 0.5580290853977203, "epoch": 1.0, "step": 18}]


def test_the_log_table_is_rounded_and_names_what_tokens_count():
    t = train.train_log_table(LOG)
    assert list(t.index) == [2, 18]  # the summary entry is no step of the curve
    assert t.loc[2].to_dict() == {"epoch": 0.11, "loss": 1.096, "grad_norm": 0.59, "learning_rate": "0.002",
                                  "token_accuracy": 0.752, "tokens_read (prompt + answer)": 2212}
    assert t.loc[18, "learning_rate"] == "1.7e-05"  # not 0.000, as a column rounded to 3 places shows it


def test_the_run_summary_is_rounded():
    m = {"method": "lora", "device": "cpu", "base_dtype": "torch.bfloat16", "global_step": 18,
         "train_loss": 0.5580290853977203, "train_runtime_s": 48.44954705238342, "tokens_per_s": 428.5076179877039,
         "padding_fraction": 0.026219512195121975, "packing": False, "trainable_params": 4884480,
         "tokens": {"examples": 144, "prompt_tokens": 12050, "completion_tokens": 8711}}
    v = train.train_summary(m)["value"]
    assert v["training loss (mean over the run)"] == 0.558 and v["time (s)"] == 48.4 and v["tokens per second"] == 429
    assert v["padding share of the batches"] == 0.026 and v["base weights dtype"] == "bfloat16"
    assert v["answer tokens (trained on)"] == 8711
