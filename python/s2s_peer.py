#!/usr/bin/python3
"""s2s's PyTorch peer: the course's seq2seq model written the plain, eager way in Python.

bench/run times it beside s2s on the same shapes, and the interop tests load s2s's exported
state_dicts into it. It is the project's own file; keep its model, data and timing those of the
course (embedding -> stacked RNN encoder -> its final state starts a stacked RNN decoder ->
linear -> log_softmax -> NLLLoss, Adam), so the ratios bench/run prints stay comparable.
Parameter names (enc_emb, enc, dec_emb, dec, out, and attn.* with attention) are the ones s2s
uses, so s2s export/import round-trips through these classes.

Needs Debian's interpreter and packages: /usr/bin/python3 with python3-torch (and python3-pandas
for --train).

  /usr/bin/python3 python/s2s_peer.py --bench --layers 4 --hidden 256 --batch 64 --len 10
      times a training step, greedy decoding and beam-5 search at batch 1 and --batch on random
      tokens; prints one JSON line (train_step_ms, greedy_b1_ms, greedy_b<batch>_ms,
      beam5_b1_ms, beam5_b<batch>_ms, threads, ...)
  /usr/bin/python3 python/s2s_peer.py --bench --attention general ...
      the same with Luong global attention (AttnSeq2Seq)
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

    def start(self, src):
        return self.encode(src)

    def step(self, token, state):
        """One decoder step for tokens [1, B]: log-probabilities [B, V] and the next state."""
        output, state = self.dec(self.dec_emb(token), state)
        return torch.log_softmax(self.out(output[0]), dim=-1), state

    @staticmethod
    def select(state, rows):
        """The recurrent state (h, or LSTM's (h, c)) of the hypotheses `rows`."""
        if isinstance(state, tuple):
            return tuple(s.index_select(1, rows) for s in state)
        return state.index_select(1, rows)

    @torch.no_grad()
    def greedy(self, src, max_len):
        """[max_len, B] ids, each step feeding back the previous argmax (no early stop)."""
        return greedy_by_steps(self, src, max_len)


class LuongAttention(nn.Module):
    """Luong et al. (2015) global attention, written from the paper's equations:
    h~_t = tanh(W_c [c_t; h_t]), c_t = sum_s a_ts h_s, a_t = softmax over unmasked s of
    dot h_t.h_s | general h_t.W_a h_s | concat v_a.tanh(W_a [h_t; h_s]). No biases."""

    def __init__(self, score, hidden):
        super().__init__()
        self.score = score
        if score == "general":
            self.linear_in = nn.Linear(hidden, hidden, bias=False)
        elif score == "concat":
            self.linear_query = nn.Linear(hidden, hidden, bias=False)
            self.linear_context = nn.Linear(hidden, hidden, bias=False)
            self.v = nn.Linear(hidden, 1, bias=False)
        self.linear_out = nn.Linear(2 * hidden, hidden, bias=False)

    def forward(self, query, memory, mask):  # [T, B, H], [S, B, H], [B, S] bool
        q, m = query.transpose(0, 1), memory.transpose(0, 1)
        if self.score == "dot":
            scores = q @ m.transpose(1, 2)
        elif self.score == "general":
            scores = q @ self.linear_in(m).transpose(1, 2)
        else:
            joint = torch.tanh(self.linear_query(q).unsqueeze(2) + self.linear_context(m).unsqueeze(1))
            scores = self.v(joint).squeeze(-1)
        scores = scores.masked_fill(~mask.unsqueeze(1), float("-inf"))
        context = torch.softmax(scores, -1) @ m
        return torch.tanh(self.linear_out(torch.cat([context, q], -1))).transpose(0, 1)


class AttnSeq2Seq(nn.Module):
    """Seq2Seq plus attention, optional input feeding (the previous attentional state joins the
    next decoder input) and a bidirectional encoder whose directions are summed (merge "sum",
    each direction `hidden` wide) or concatenated (merge "concat", each hidden/2 wide) into the
    decoder's initial state and the attention memory. Without input feeding, training runs the
    decoder over the whole target in one call and attends for all steps in batched products."""

    def __init__(self, vocab, hidden, layers, cell, score, feed=False, bidirectional=False,
                 dropout=0.0, merge="sum"):
        super().__init__()
        rnn = RNN_CLASSES[cell]
        between_layers = dropout if layers > 1 else 0.0
        self.hidden, self.layers, self.feed, self.bidirectional = hidden, layers, feed, bidirectional
        self.concat = bidirectional and merge == "concat"
        self.enc_emb = nn.Embedding(vocab, hidden)
        self.enc = rnn(hidden, hidden // 2 if self.concat else hidden, layers,
                       dropout=between_layers, bidirectional=bidirectional)
        self.dec_emb = nn.Embedding(vocab, hidden)
        self.dec = rnn(2 * hidden if feed else hidden, hidden, layers, dropout=between_layers)
        self.attn = LuongAttention(score, hidden)
        self.out = nn.Linear(hidden, vocab)

    def encode(self, src):
        y, h = self.enc(self.enc_emb(src))
        if self.concat:  # y is [forward; backward] already; states per layer the same way
            H, L = self.hidden, self.layers

            def joined(s):
                return s.view(L, 2, s.size(1), H // 2).transpose(1, 2).reshape(L, s.size(1), H)
            h = tuple(joined(s) for s in h) if isinstance(h, tuple) else joined(h)
        elif self.bidirectional:
            H, L = self.hidden, self.layers
            y = y[..., :H] + y[..., H:]

            def summed(s):
                return s.view(L, 2, s.size(1), H).sum(1)
            h = tuple(summed(s) for s in h) if isinstance(h, tuple) else summed(h)
        return y, h, (src != PAD_ID).t()

    def forward(self, src, tgt_in):
        """Teacher forcing: log-probabilities [T, B, V] for decoder inputs tgt_in [T, B]."""
        memory, h, mask = self.encode(src)
        x = self.dec_emb(tgt_in)
        if not self.feed:
            y, _ = self.dec(x, h)
            return torch.log_softmax(self.out(self.attn(y, memory, mask)), dim=-1)
        prev, outs = x.new_zeros(1, x.size(1), self.hidden), []
        for t in range(x.size(0)):
            y, h = self.dec(torch.cat([x[t:t + 1], prev], -1), h)
            prev = self.attn(y, memory, mask)
            outs.append(prev)
        return torch.log_softmax(self.out(torch.cat(outs)), dim=-1)

    def start(self, src):
        memory, h, mask = self.encode(src)
        return (h, memory, mask, memory.new_zeros(1, src.size(1), self.hidden))

    def step(self, token, state):
        """One decoder step for tokens [1, B]: log-probabilities [B, V] and the next state."""
        h, memory, mask, prev = state
        x = self.dec_emb(token)
        if self.feed:
            x = torch.cat([x, prev], -1)
        y, h = self.dec(x, h)
        prev = self.attn(y, memory, mask)
        return torch.log_softmax(self.out(prev[0]), dim=-1), (h, memory, mask, prev)

    @staticmethod
    def select(state, rows):
        """The state of the hypotheses `rows` (a beam search's reordering)."""
        h, memory, mask, prev = state
        return (Seq2Seq.select(h, rows), memory.index_select(1, rows), mask.index_select(0, rows),
                prev.index_select(1, rows))

    @torch.no_grad()
    def greedy(self, src, steps, sos=SOS_ID):
        return greedy_by_steps(self, src, steps, sos)


def greedy_by_steps(model, src, steps, sos=SOS_ID):
    """[steps, B] ids, each step feeding back the previous argmax (no early stop)."""
    state = model.start(src)
    token = torch.full((1, src.size(1)), sos, dtype=torch.long)
    outs = []
    for _ in range(steps):
        logp, state = model.step(token, state)
        token = logp.argmax(-1).unsqueeze(0)
        outs.append(token)
    return torch.cat(outs, 0)


@torch.no_grad()
def beam_search(model, src, steps, beam):
    """Batched beam search the way a PyTorch user writes it: the batch's B x beam hypotheses
    decode as one batch, each step keeps the beam best continuations per sentence (top-k over
    beam x V summed log-probabilities) and reorders the states. Runs `steps` steps (no early
    stop, like s2s_bench's beam cases); returns the best hypothesis per sentence, [steps, B]."""
    batch = src.size(1)
    state = model.start(src.repeat_interleave(beam, dim=1))
    scores = torch.full((batch, beam), float("-inf"))
    scores[:, 0] = 0.0  # one live hypothesis per sentence at the start
    token = torch.full((1, batch * beam), SOS_ID, dtype=torch.long)
    base = (torch.arange(batch) * beam).unsqueeze(1)
    parents, tokens = [], []
    for _ in range(steps):
        logp, state = model.step(token, state)
        vocab = logp.size(-1)
        total = (scores.view(-1, 1) + logp).view(batch, beam * vocab)
        scores, index = total.topk(beam, dim=1)
        parent, word = index // vocab, index % vocab
        state = model.select(state, (base + parent).view(-1))
        token = word.view(1, -1)
        parents.append(parent)
        tokens.append(word)
    best = torch.zeros(batch, dtype=torch.long)  # topk is sorted: slot 0 is the best
    out = []
    for parent, word in zip(reversed(parents), reversed(tokens)):
        out.append(word.gather(1, best.unsqueeze(1)).squeeze(1))
        best = parent.gather(1, best.unsqueeze(1)).squeeze(1)
    return torch.stack(out[::-1])


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
    model = make_model(args, vocab)
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
    if args.attention != "none":
        result.update(attention=args.attention, input_feeding=args.input_feeding)
    model.eval()
    for rows in (1, args.batch):
        part = src[:, :rows].contiguous()
        result[f"greedy_b{rows}_ms"] = median_ms(lambda: model.greedy(part, args.len), 5, args.steps)
        result[f"beam{BENCH_BEAM}_b{rows}_ms"] = median_ms(
            lambda: beam_search(model, part, args.len, BENCH_BEAM), 5, args.steps)
    print(json.dumps(result))


BENCH_BEAM = 5  # the beam width translation toolkits use; s2s_bench times the same


def make_model(args, vocab):
    if args.attention == "none":
        return Seq2Seq(vocab, args.hidden, args.layers, args.dropout, args.cell)
    return AttnSeq2Seq(vocab, args.hidden, args.layers, args.cell, args.attention,
                       args.input_feeding, args.bidirectional, args.dropout,
                       args.bidirectional_merge)


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
    model = make_model(args, len(vocab))
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
    parser.add_argument("--attention", default="none", choices=["none", "dot", "general", "concat"])
    parser.add_argument("--input-feeding", action="store_true", help="with --attention")
    parser.add_argument("--bidirectional", action="store_true", help="with --attention")
    parser.add_argument("--bidirectional-merge", choices=["sum", "concat"], default="sum",
                        help="with --bidirectional: directions added, or concatenated at half width")
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
    if args.attention == "none" and (args.input_feeding or args.bidirectional):
        parser.error("--input-feeding and --bidirectional need --attention")
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.bench:
        run_bench(args)
    else:
        run_train(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
