#!/usr/bin/python3
"""The Python side of the interop test, using the reference model (reference/run_seq2seq.py).

  interop_check.py make OUT.pt VOCAB.json CELL HIDDEN LAYERS   random reference model -> files
  interop_check.py greedy SD.pt VOCAB.json < inputs            one decoded response per line
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "reference"))
import run_seq2seq as ref  # noqa: E402


def load(sd_path, vocab_path):
    tokens = json.load(open(vocab_path))["tokens"]
    sd = torch.load(sd_path)
    hidden = sd["enc.weight_hh_l0"].shape[1]
    gates = sd["enc.weight_hh_l0"].shape[0] // hidden
    cell = {1: "rnn", 3: "gru", 4: "lstm"}[gates]
    layers = sum(1 for k in sd if k.startswith("enc.weight_hh_l"))
    m = ref.Seq2Seq(len(tokens), hidden, layers, 0.0, cell)
    m.load_state_dict(sd)  # strict: names and shapes must match exactly
    m.eval()
    return m, tokens


def main():
    if sys.argv[1] == "make":
        _, _, out, vocab_path, cell, hidden, layers = sys.argv
        torch.manual_seed(5)
        tokens = ["<pad>", "<sos>", "<eos>", "<unk>"] + [str(d) for d in range(10)]
        m = ref.Seq2Seq(len(tokens), int(hidden), int(layers), 0.0, cell)
        torch.save(m.state_dict(), out)
        json.dump({"format": "s2s-vocab", "version": 1, "tokens": tokens}, open(vocab_path, "w"))
        return
    m, tokens = load(sys.argv[2], sys.argv[3])
    ids = {t: i for i, t in enumerate(tokens)}
    for line in sys.stdin:
        src = [ids.get(t, 3) for t in line.split()] + [2]
        out = m.greedy(torch.tensor(src).unsqueeze(1), 2 * (len(src) - 1) + 2, 1)[:, 0].tolist()
        words = []
        for i in out:
            if i == 2:
                break
            words.append(tokens[i])
        print(" ".join(words))


if __name__ == "__main__":
    main()
