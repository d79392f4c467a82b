"""Run by test_determinism in a fresh interpreter: prints one JSON record of a seeded run.

usage: determinism_script.py full SEED | resume CHECKPOINT EPOCHS
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "helpers"))  # a fresh interpreter: no conftest
from reliability_helpers import build, fingerprint, full_run, sample_ids  # noqa: E402

if sys.argv[1] == "full":
    print(json.dumps(full_run(int(sys.argv[2]))))
else:  # resume: fresh objects under a different seed, then everything from the checkpoint
    tok, model, loader, trainer = build(seed=12345)
    trainer.load_checkpoint(sys.argv[2])
    trainer.fit(loader, epochs=int(sys.argv[3]))
    record = fingerprint(trainer.history["train_loss"], model)
    record["sample"] = sample_ids(model, tok)
    print(json.dumps(record))
