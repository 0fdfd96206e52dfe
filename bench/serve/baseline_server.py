#!/usr/bin/python3
"""The baseline bench/serve compares `s2s serve` with: what a user would write in Python.

Python's standard-library HTTP server (one request at a time) answering the same
POST /v1/models/NAME/translate JSON as `s2s serve`, with the project's PyTorch peer model
(python/s2s_peer.py's Seq2Seq) loaded from `s2s export`'s state_dict and vocabulary, greedy
decoding one sentence after another, stopping at <eos> or after 2n + 2 steps (s2s's default
maximum length). It prints "listening on PORT" once it accepts requests.

  bench/serve/baseline_server.py --state model.pt --vocab model.vocab.json \
      --hidden 256 --layers 4 --cell gru --port 0 --threads 1
"""
import argparse
import http.server
import json
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
from s2s_peer import EOS_ID, SOS_ID, Seq2Seq  # noqa: E402

UNK_ID = 3  # include/s2s/vocab.h


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--state", required=True)
    p.add_argument("--vocab", required=True)
    p.add_argument("--hidden", type=int, required=True)
    p.add_argument("--layers", type=int, required=True)
    p.add_argument("--cell", default="gru")
    p.add_argument("--name", default="course")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    tokens = json.load(open(a.vocab))["tokens"]
    ids = {t: i for i, t in enumerate(tokens)}
    model = Seq2Seq(len(tokens), a.hidden, a.layers, 0.0, a.cell)
    model.load_state_dict(torch.load(a.state))
    model.eval()
    route = f"/v1/models/{a.name}/translate"

    @torch.no_grad()
    def translate(text):
        src = [ids.get(t, UNK_ID) for t in text.split()] + [EOS_ID]
        state = model.encode(torch.tensor(src).unsqueeze(1))
        token = torch.tensor([[SOS_ID]])
        out = []
        for _ in range(2 * (len(src) - 1) + 2):
            output, state = model.dec(model.dec_emb(token), state)
            token = model.out(output).argmax(dim=-1)
            if token.item() == EOS_ID:
                break
            out.append(tokens[token.item()])
        return " ".join(out)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as wrk expects
        # Headers and body leave in two writes; with Nagle's algorithm the body then waits for
        # the client's delayed ACK (~40 ms a request). TCP_NODELAY, as s2s serve sets it, so the
        # comparison is of the servers, not of a socket option.
        disable_nagle_algorithm = True

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.path != route:
                return self.reply(404, {"error": "no such endpoint"})
            try:
                inputs = json.loads(body)["inputs"]
                reply = {"model": a.name, "outputs": [translate(t) for t in inputs]}
            except (ValueError, KeyError, TypeError) as e:
                return self.reply(400, {"error": str(e)})
            self.reply(200, reply)

        def reply(self, status, obj):
            data = json.dumps(obj).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", a.port), Handler)
    print(f"listening on {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
