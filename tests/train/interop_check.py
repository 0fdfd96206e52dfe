#!/usr/bin/python3
"""The Python side of the interop test, using the project's PyTorch peer (python/s2s_peer.py).

  interop_check.py make DIR VOCAB.json             random 2-layer, 16-unit reference models:
                                                   DIR/gru.pt, DIR/lstm.pt, DIR/rnn.pt
  interop_check.py make-attention DIR VOCAB.json   the same with the peer's Luong attention:
                                                   DIR/gru_dot.pt, DIR/lstm_general_bi.pt,
                                                   DIR/gru_concat_feed.pt, DIR/lstm_general_bicat.pt
  interop_check.py greedy VOCAB.json INPUTS SD.pt...   one decoded response per input line
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))
import s2s_peer as ref  # noqa: E402


LuongAttention, AttnSeq2Seq = ref.LuongAttention, ref.AttnSeq2Seq


ATTENTION_MODELS = {  # file name: (cell, score, input feeding, bidirectional, merge)
    "gru_dot": ("gru", "dot", False, False, "sum"),
    "lstm_general_bi": ("lstm", "general", False, True, "sum"),
    "gru_concat_feed": ("gru", "concat", True, False, "sum"),
    "lstm_general_bicat": ("lstm", "general", False, True, "concat"),
}


def load(sd_path, vocab_path):
    tokens = json.load(open(vocab_path))["tokens"]
    sd = torch.load(sd_path)
    hidden = sd["enc_emb.weight"].shape[1]
    bi = "enc.weight_hh_l0_reverse" in sd
    merge = "concat" if bi and 2 * sd["enc.weight_hh_l0"].shape[1] == hidden else "sum"
    gates = sd["enc.weight_hh_l0"].shape[0] // sd["enc.weight_hh_l0"].shape[1]
    cell = {1: "rnn", 3: "gru", 4: "lstm"}[gates]
    layers = sum(1 for k in sd if k.startswith("enc.weight_hh_l") and not k.endswith("_reverse"))
    if "attn.linear_out.weight" in sd:
        score = "general" if "attn.linear_in.weight" in sd else "concat" if "attn.v.weight" in sd else "dot"
        feed = sd["dec.weight_ih_l0"].shape[1] == 2 * hidden
        m = AttnSeq2Seq(len(tokens), hidden, layers, cell, score, feed, bi, merge=merge)
    else:
        m = ref.Seq2Seq(len(tokens), hidden, layers, 0.0, cell)
    m.load_state_dict(sd)  # strict: names and shapes must match exactly
    m.eval()
    return m, tokens


def save(m, path):
    with torch.no_grad():  # larger weights: varied, decisive outputs to compare
        for p in m.parameters():
            p.mul_(4)
    # A plain dict: a state_dict's OrderedDict carries _metadata C++ cannot unpickle.
    torch.save(dict(m.state_dict()), path)


def main():
    if sys.argv[1] in ("make", "make-attention"):
        _, what, out_dir, vocab_path = sys.argv
        tokens = ["<pad>", "<sos>", "<eos>", "<unk>"] + [str(d) for d in range(10)]
        json.dump({"format": "s2s-vocab", "version": 1, "tokens": tokens}, open(vocab_path, "w"))
        if what == "make":
            for cell in ("gru", "lstm", "rnn"):
                torch.manual_seed(5)
                save(ref.Seq2Seq(len(tokens), 16, 2, 0.0, cell), os.path.join(out_dir, cell + ".pt"))
        else:
            for name, (cell, score, feed, bi, merge) in ATTENTION_MODELS.items():
                torch.manual_seed(5)
                m = AttnSeq2Seq(len(tokens), 16, 2, cell, score, feed, bi, merge=merge)
                save(m, os.path.join(out_dir, name + ".pt"))
        return
    vocab_path, inputs = sys.argv[2], open(sys.argv[3]).read().splitlines()
    for sd_path in sys.argv[4:]:
        m, tokens = load(sd_path, vocab_path)
        ids = {t: i for i, t in enumerate(tokens)}
        for line in inputs:
            src = [ids.get(t, 3) for t in line.split()] + [2]
            steps = 2 * (len(src) - 1) + 2  # s2s infer's default
            out = m.greedy(torch.tensor(src).unsqueeze(1), steps)[:, 0].tolist()
            words = []
            for i in out:
                if i == 2:
                    break
                if i > 1:  # like s2s's Vocab::decode: <pad> and <sos> are not printed
                    words.append(tokens[i])
            print(" ".join(words))

if __name__ == "__main__":
    main()
