#!/usr/bin/python3
"""s2s's PyTorch peer: the course's seq2seq model written the plain, eager way in Python.

bench/run times it beside s2s on the same shapes, and the interop tests load s2s's exported
state_dicts into it. It is the project's own file; keep its model, data and timing those of the
course (embedding -> stacked RNN encoder -> its final state starts a stacked RNN decoder ->
linear -> log_softmax -> NLLLoss, Adam), so the ratios bench/run prints stay comparable.
Parameter names (enc_emb, enc, dec_emb, dec, out) are the ones s2s uses.

Needs Debian's interpreter and packages: /usr/bin/python3 with python3-torch (and python3-pandas
for --train).

  /usr/bin/python3 python/s2s_peer.py --bench --layers 4 --hidden 256 --batch 64 --len 10
      times a training step and greedy decoding at batch 1 and --batch on random tokens;
      prints one JSON line (train_step_ms, greedy_b1_ms, greedy_b<batch>_ms, threads, ...)
  /usr/bin/python3 python/s2s_peer.py --train train.csv --valid valid.csv --epochs 10
      trains on s2s's CSV format and prints per-epoch loss and validation exact match
"""
import argparse
import json
import statistics
import sys
import time

import torch
from torch import nn

# s2s's fixed ids (include/s2s/vocab.h).
PAD_ID, SOS_ID, EOS_ID = 0, 1, 2
RNN_CLASSES = {"gru": nn.GRU, "lstm": nn.LSTM, "rnn": nn.RNN}


class Seq2Seq(nn.Module):
    """Encoder-decoder with one width for embeddings and every recurrent layer, time-major."""

    def __init__(self, vocab_size, hidden, layers, dropout, cell):
        super().__init__()
        rnn = RNN_CLASSES[cell]
        between_layers = dropout if layers > 1 else 0.0  # nn.GRU warns otherwise
        self.enc_emb = nn.Embedding(vocab_size, hidden)
        self.enc = rnn(hidden, hidden, layers, dropout=between_layers)
        self.dec_emb = nn.Embedding(vocab_size, hidden)
        self.dec = rnn(hidden, hidden, layers, dropout=between_layers)
        self.out = nn.Linear(hidden, vocab_size)

    def encode(self, src):
        return self.enc(self.enc_emb(src))[1]

    def forward(self, src, tgt_in):
        """Teacher forcing: log-probabilities [T, B, V] for decoder inputs tgt_in [T, B]."""
        outputs, _ = self.dec(self.dec_emb(tgt_in), self.encode(src))
        return torch.log_softmax(self.out(outputs), dim=-1)

    @torch.no_grad()
    def greedy(self, src, max_len):
        """[max_len, B] ids, each step feeding back the previous argmax (no early stop)."""
        state = self.encode(src)
        token = torch.full((1, src.size(1)), SOS_ID, dtype=torch.long)
        steps = []
        for _ in range(max_len):
            output, state = self.dec(self.dec_emb(token), state)
            token = self.out(output).argmax(dim=-1)
            steps.append(token)
        return torch.cat(steps)


def teacher_input(tgt):
    """<sos> followed by the target shifted right by one."""
    sos = torch.full((1, tgt.size(1)), SOS_ID, dtype=torch.long)
    return torch.cat([sos, tgt[:-1]])


def median_ms(fn, warmup, repeats):
    times = []
    for _ in range(warmup):
        fn()
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(1e3 * (time.perf_counter() - start))
    return statistics.median(times)


def run_bench(args):
    torch.manual_seed(0)
    vocab = 13  # the zero-shift task: 3 specials and the digits 0-9
    model = Seq2Seq(vocab, args.hidden, args.layers, args.dropout, args.cell)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.NLLLoss()
    src = torch.randint(3, vocab, (args.len, args.batch))
    tgt = torch.randint(3, vocab, (args.len, args.batch))
    tgt_in = teacher_input(tgt)

    def train_step():
        optimizer.zero_grad()
        loss = loss_fn(model(src, tgt_in).flatten(0, 1), tgt.flatten())
        loss.backward()
        optimizer.step()
        loss.item()  # wait for the result, as a training loop that logs the loss does

    model.train()
    result = {"peer": "s2s_peer.py (PyTorch eager)", "torch": torch.__version__,
              "threads": torch.get_num_threads(), "cell": args.cell, "layers": args.layers,
              "hidden": args.hidden, "batch": args.batch, "len": args.len,
              "train_step_ms": median_ms(train_step, 5, args.steps)}
    model.eval()
    for rows in (1, args.batch):
        part = src[:, :rows].contiguous()
        result[f"greedy_b{rows}_ms"] = median_ms(lambda: model.greedy(part, args.len), 5, args.steps)
    print(json.dumps(result))


def read_pairs(path, vocab):
    import pandas as pd
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    pairs = []
    for source, target in zip(frame["source"], frame["target"]):
        ids = []
        for text in (source, target):
            tokens = text.split(" ")
            ids.append([vocab.setdefault(t, len(vocab)) for t in tokens] + [EOS_ID])
        pairs.append((torch.tensor(ids[0]), torch.tensor(ids[1])))
    return pairs


def pad_batch(pairs):
    pad = nn.utils.rnn.pad_sequence  # pads with 0 = PAD_ID, time-major
    return pad([s for s, _ in pairs]), pad([t for _, t in pairs])


def run_train(args):
    torch.manual_seed(args.seed)
    vocab = {"<pad>": PAD_ID, "<sos>": SOS_ID, "<eos>": EOS_ID}
    train_pairs, valid_pairs = read_pairs(args.train, vocab), read_pairs(args.valid, vocab)
    loader = torch.utils.data.DataLoader(train_pairs, args.batch, shuffle=True, collate_fn=pad_batch)
    valid_loader = torch.utils.data.DataLoader(valid_pairs, 512, collate_fn=pad_batch)
    model = Seq2Seq(len(vocab), args.hidden, args.layers, args.dropout, args.cell)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = nn.NLLLoss(ignore_index=PAD_ID)
    for epoch in range(1, args.epochs + 1):
        start, total, batches = time.perf_counter(), 0.0, 0
        model.train()
        for src, tgt in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(src, teacher_input(tgt)).flatten(0, 1), tgt.flatten())
            loss.backward()
            optimizer.step()
            total, batches = total + loss.item(), batches + 1
        model.eval()
        right = rows = 0
        for src, tgt in valid_loader:
            guess = model.greedy(src, tgt.size(0))
            # Exact match over the real target tokens (incl. <eos>); padding is ignored.
            right += ((guess == tgt) | (tgt == PAD_ID)).all(dim=0).sum().item()
            rows += tgt.size(1)
        print(f"epoch {epoch} train_loss {total / batches:.4f} valid_seq_acc {right / rows:.4f} "
              f"epoch_s {time.perf_counter() - start:.1f}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--bench", action="store_true", help="time the model on random tokens")
    mode.add_argument("--train", help="training CSV (header source,target)")
    parser.add_argument("--valid", help="validation CSV, with --train")
    parser.add_argument("--cell", default="gru", choices=sorted(RNN_CLASSES))
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--dropout", type=float, default=0.0)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--len", type=int, default=10, help="--bench: sequence length")
    parser.add_argument("--steps", type=int, default=30, help="--bench: timed repetitions")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=0, help="0: torch's default")
    args = parser.parse_args()
    if args.train and not args.valid:
        parser.error("--train needs --valid")
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.bench:
        run_bench(args)
    else:
        run_train(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
