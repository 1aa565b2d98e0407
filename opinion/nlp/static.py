"""Fast sentence vectors: a static word table distilled from the sentence encoder (issue 20).

The encoder reads ~10 posts a second on this machine; the analysis reads thousands. This table is
the model2vec recipe: every word of a vocabulary is embedded once by the encoder (opinion/nlp/encoder.py),
the table is reduced by PCA and weighted by SIF (a / (a + p(word)), so frequent words count little),
and a post's vector is the mean of its words' rows, less its projection on the corpus's first
principal component, L2-normalised. It costs a dictionary look-up per token: bag-of-words speed.

`python -m opinion.nlp.static build` makes opinion/nlp/models/static.npz; how, and what it measured,
is in opinion/nlp/models/README.md.
"""
from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from opinion.nlp.doc import Doc

MODELS = Path(__file__).resolve().parent / "models"
TABLE = MODELS / "static.npz"
SIF_A = 1e-3


class StaticTable:
    """Word -> row (SIF weight and PCA folded in); a post = mean of its tokens' rows, less the
    first principal component, unit length. Tokens outside the vocabulary are skipped."""

    def __init__(self, words: Sequence[str], table: np.ndarray, pc: np.ndarray, tag: str = "static"):
        self.index = {w: i for i, w in enumerate(words)}
        self.table = np.asarray(table, dtype=np.float32)
        self.pc = np.asarray(pc, dtype=np.float32)
        self.dim = self.table.shape[1]
        self.tag = tag

    @classmethod
    def load(cls, path: str | Path = TABLE) -> StaticTable:
        with np.load(path, allow_pickle=False) as z:
            words = bytes(z["words"]).decode("utf-8").split("\n")
            return cls(words, z["table"], z["pc"], tag=f"static-{Path(path).stem}-{z['table'].shape[1]}")

    def vector(self, tokens: Sequence[str]) -> np.ndarray:
        rows = [self.index[t] for t in tokens if t in self.index]
        if not rows:
            return np.zeros(self.dim, dtype=np.float32)
        v = self.table[rows].mean(axis=0)
        v -= (v @ self.pc) * self.pc
        n = float(np.linalg.norm(v))
        return v / n if n > 0 else v

    def encode_docs(self, docs: Sequence[Doc]) -> np.ndarray:
        return np.stack([self.vector(d.tokens) for d in docs]) if docs else np.zeros((0, self.dim), np.float32)


@lru_cache(maxsize=1)
def shipped_table() -> StaticTable | None:
    """The table shipped under models/, or None where it was not built."""
    return StaticTable.load() if TABLE.exists() else None


# -- building ------------------------------------------------------------------------------------

def _corpus_texts(data: Path) -> list[str]:
    texts = []
    for path in sorted((data / "weibo-stream").glob("*.jsonl")) + sorted((data / "weibo-topics").glob("*.jsonl")):
        with path.open(encoding="utf-8") as fh:
            texts += [json.loads(line)["text"] for line in fh if line.strip()]
    emo = data / "weibo-emotion" / "train.csv"
    if emo.exists():
        # lazy: the labelled-file reader is only needed for building
        from opinion import labelled
        texts += labelled.read_labelled(emo, "text", "emotion")[0]
    return texts


def build(data: Path, out: Path, vocab: int = 30_000, dims: int = 128, min_count: int = 3,
          district_file: Path | None = None, every: int = 1) -> dict:
    """`every`: count words in every n-th post only (the frequencies settle long before 100,000)."""
    # lazy: building needs the encoder (the C model), the cleaner and the district's dictionary
    from opinion.nlp.clean import clean
    from opinion.nlp.encoder import Encoder, default_disk_cache, get_encoder
    from opinion.nlp.segment import Segmenter
    from opinion.settings.district import load_district

    user_words = load_district(district_file).user_words() if district_file else []
    seg = Segmenter(user_words)
    t0 = time.perf_counter()
    texts = _corpus_texts(data)
    docs = [seg(clean(Doc(raw=t))) for t in texts[::max(1, every)]]
    counts = Counter(t for d in docs for t in d.tokens)
    total = sum(counts.values())
    words = [w for w, c in counts.most_common(vocab) if c >= min_count]
    have = set(words)
    words += [w for w in seg.dictionary_words if w not in have]
    seg_s = time.perf_counter() - t0
    encoder = get_encoder() or Encoder(disk_cache=default_disk_cache())
    t0 = time.perf_counter()
    # In chunks: each chunk reaches the disk cache, so a stopped build resumes where it was.
    emb = np.concatenate([encoder.encode(words[i:i + 1000]) for i in range(0, len(words), 1000)])
    enc_s = time.perf_counter() - t0
    # PCA of the word table (centred), keeping `dims` components; then SIF weights per row.
    mean = emb.mean(axis=0)
    _, _, vt = np.linalg.svd(emb - mean, full_matrices=False)
    proj = (emb - mean) @ vt[:dims].T
    p = np.array([counts.get(w, 1) / total for w in words])
    table = proj * (SIF_A / (SIF_A + p))[:, None]
    st = StaticTable(words, table, np.zeros(dims, np.float32))
    # The first principal component of post vectors: what every post shares, removed (SIF).
    sample = np.stack([st.vector(d.tokens) for d in docs[:: max(1, len(docs) // 20_000)]])
    sample = sample[np.linalg.norm(sample, axis=1) > 0]
    pc = np.linalg.svd(sample, full_matrices=False)[2][0]
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, words=np.frombuffer("\n".join(words).encode("utf-8"), dtype=np.uint8),
                        table=table.astype(np.float16), pc=pc.astype(np.float16))
    return {"posts": len(docs), "vocab_words": min(vocab, len(counts)), "words": len(words), "dims": dims,
            "segment_s": seg_s,
            "encode_s": enc_s, "bytes": out.stat().st_size}


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="build the static word table from the sentence encoder")
    ap.add_argument("command", choices=["build"])
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[3] / "shared" / "data")
    ap.add_argument("--out", type=Path, default=TABLE)
    ap.add_argument("--vocab", type=int, default=30_000)
    ap.add_argument("--dims", type=int, default=128)
    ap.add_argument("--district", type=Path, default=None, help="district file whose words join the vocabulary")
    ap.add_argument("--every", type=int, default=1, help="read every n-th post of the corpora")
    args = ap.parse_args(argv)
    print(build(args.data, args.out, args.vocab, args.dims, district_file=args.district, every=args.every))


if __name__ == "__main__":
    main()
