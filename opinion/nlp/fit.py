"""Fitting the sentiment and emotion models, with honest stratified cross-validation.

Both are linear SVMs (scikit-learn's LinearSVC, class-balanced) over the features of
opinion.nlp.textmodel; SVM scores are turned into probabilities by calibrations fitted on the
out-of-fold scores of a 5-fold stratified cross-validation, which also gives the reported figures.
The sentiment score combines two views: a positive/negative head, and the emotion head's
probability mass on optimism+gratitude against fear+disgust+sadness+anger; a logistic regression on
their out-of-fold log-odds sets the mix and calibrates it. The sentiment model's emotion
probabilities come from the SVM and a complement naive-Bayes head together (a product of experts);
the emotion model adds character vectors learned from unlabelled posts and a naive-Bayes head over
words (fit_emotion). Chosen by cross-validation over char
n-gram ranges, word n-grams, naive-Bayes weighting, C and logistic regression (see models/README.md).
"""
from __future__ import annotations

import sys
from collections import Counter
from typing import Sequence

import numpy as np
import scipy.sparse as sp
from scipy.optimize import minimize
from scipy.sparse.linalg import svds
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.naive_bayes import ComplementNB
from sklearn.svm import LinearSVC
from tqdm import tqdm

from opinion.nlp.doc import Doc
from opinion.nlp.features import char_text, doc_tokens, lexicon_features, lexicon_prior
from opinion.nlp.sentiment import emotion_to_positive
from opinion.nlp.textmodel import NGRAMS, Head, TextModel, UnitTable, WordView

C = 0.5            # chosen by 5-fold CV on weibo-emotion among 0.1, 0.2, 0.3, 0.5, 1.0
LEX_WEIGHT = 1.0
MIN_DF = 2
EMB_DIM = 200      # character/bigram vectors from unlabelled posts (emotion only)
EMB_WEIGHT = 1.0   # their column scale beside the TF-IDF rows; 0.5 and 1 measured alike
WORD_MIN_DF = 1   # 2 measured 0.688 against 0.694
FOLDS = 5
VEC_C = 10.0       # the sentence-vector heads' logistic regression
ACC_TOLERANCE, AUC_TOLERANCE = 0.002, 0.0006   # what the lexicon may cost in-domain (see below)


def _featurizer(docs: Sequence[Doc]) -> TextModel:
    vec = TfidfVectorizer(analyzer="char", ngram_range=NGRAMS, sublinear_tf=True, min_df=MIN_DF,
                          lowercase=True, dtype=np.float64)
    vec.fit([char_text(d) for d in docs])
    vocab = [""] * len(vec.vocabulary_)
    for word, i in vec.vocabulary_.items():
        vocab[i] = word
    return TextModel(vocab, vec.idf_, LEX_WEIGHT, {})


def _check_counts(labels: Sequence[str]) -> None:
    few = {k: n for k, n in Counter(labels).items() if n < FOLDS}
    if few or len(set(labels)) < 2:
        raise ValueError(f"每类至少需要 {FOLDS} 条样本、至少两类 (each class needs {FOLDS} examples): {few}")


def _svm(x, y: np.ndarray, c: float) -> Head:
    clf = LinearSVC(C=c, class_weight="balanced", max_iter=5000).fit(x, y)
    return Head([str(k) for k in clf.classes_], clf.coef_.astype(np.float32), clf.intercept_.astype(np.float64))


def _nb(x, y: np.ndarray, n_text: int, classes: list[str]) -> Head:
    """Complement naive Bayes on the n-gram columns: a different view of the same words."""
    nb = ComplementNB(alpha=0.3).fit(x[:, :n_text], y)
    assert [str(k) for k in nb.classes_] == classes
    coef = np.zeros((len(classes), x.shape[1]), dtype=np.float32)
    coef[:, :n_text] = nb.feature_log_prob_
    return Head(classes, coef, np.zeros(len(classes)))


def _mix_weights(svm: np.ndarray, nb: np.ndarray, y: np.ndarray, classes: list[str]) -> tuple[float, float]:
    """Scales of the SVM and naive-Bayes scores that minimise out-of-fold log loss."""
    idx = np.array([classes.index(v) for v in y])
    nb = nb - nb.mean(axis=1, keepdims=True)
    best = (np.inf, 1.0, 0.0)
    for t in np.linspace(0.5, 10, 39):
        for u in np.linspace(0.0, 1.5, 16):
            z = t * svm + u * nb
            z = z - z.max(axis=1, keepdims=True)
            loss = -(z[np.arange(len(y)), idx] - np.log(np.exp(z).sum(axis=1))).mean()
            best = min(best, (loss, float(t), float(u)))
    return best[1], best[2]


def _platt(scores: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    lr = LogisticRegression(C=100.0).fit(scores.reshape(-1, 1), y)
    return float(lr.coef_[0, 0]), float(lr.intercept_[0])


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def _folds(y: np.ndarray, progress: bool, desc: str):
    splits = list(StratifiedKFold(FOLDS, shuffle=True, random_state=0).split(np.zeros(len(y)), y))
    return tqdm(splits, desc=desc, file=sys.stderr, disable=not progress, leave=False)


def _emotion_heads(model: TextModel, x, y: np.ndarray, classes: list[str], oof: np.ndarray,
                   oof_nb: np.ndarray, c: float) -> None:
    head, nb = _svm(x, y, c), _nb(x, y, len(model.vocab), classes)
    head.scale, nb.scale = _mix_weights(oof, oof_nb, y, classes)
    head.offset = np.zeros(len(classes))
    # Naive-Bayes scores are centred per post at prediction time by the softmax; a constant
    # intercept per class is all the centring that survives, so none is needed.
    model.heads["emotion"], model.heads["emotion_nb"] = head, nb


def char_vectors(texts: Sequence[str], dim: int | None = None, window: int = 3,
                 min_count: int = 5) -> UnitTable:
    """Vectors for characters and character bigrams from unlabelled posts: positive PMI of each
    unit with the characters within `window` of it, reduced by a truncated SVD. Returns the units
    (keyed like the n-grams), their smoothed-inverse-frequency weights and their unit vectors."""
    dim = dim or EMB_DIM
    gap = np.zeros(window, dtype=np.int64)   # posts are kept `window` apart, so no pair crosses two
    parts = []
    for t in texts:
        parts += [np.frombuffer(t.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.int64) + 1, gap]
    codes = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
    space = ord(" ") + 1
    ok1 = (codes > 0) & (codes != space)
    ok2 = ok1[:-1] & ok1[1:]
    uni, bi = codes, codes[:-1] + (codes[1:] << 21)
    keys, counts = np.unique(np.concatenate([uni[ok1], bi[ok2]]), return_counts=True)
    keep = counts >= min_count
    keys, counts = keys[keep], counts[keep]
    ctx_keys, ctx_counts = np.unique(uni[ok1], return_counts=True)
    ctx_keys = ctx_keys[ctx_counts >= min_count]
    if len(keys) <= dim or len(ctx_keys) <= dim:
        raise ValueError(f"too little unlabelled text for {dim}-dimensional vectors")
    ctx = np.full(len(codes), -1, dtype=np.int64)
    pos = np.minimum(np.searchsorted(ctx_keys, codes), len(ctx_keys) - 1)
    ctx[ctx_keys[pos] == codes] = pos[ctx_keys[pos] == codes]
    m = sp.csr_matrix((len(keys), len(ctx_keys)), dtype=np.float64)
    for length, unit_keys, ok in ((1, uni, ok1), (2, bi, ok2)):
        at = np.nonzero(ok)[0]
        p = np.minimum(np.searchsorted(keys, unit_keys[at]), len(keys) - 1)
        found = keys[p] == unit_keys[at]
        at, p = at[found], p[found]
        for off in list(range(-window, 0)) + list(range(length, length + window)):
            j = at + off
            inside = (j >= 0) & (j < len(codes))
            c = np.where(inside, ctx[np.clip(j, 0, len(codes) - 1)], -1)
            hit = c >= 0
            m = m + sp.csr_matrix((np.ones(int(hit.sum())), (p[hit], c[hit])), shape=m.shape)
    total = m.sum()
    rows = np.asarray(m.sum(axis=1)).ravel()
    cols = np.asarray(m.sum(axis=0)).ravel() ** 0.75   # context smoothing, as in word2vec
    cols /= cols.sum()
    coo = m.tocoo()
    pmi = np.log(coo.data / total) - np.log(rows[coo.row] / total) - np.log(cols[coo.col])
    pos_ = pmi > 0
    ppmi = sp.csr_matrix((pmi[pos_], (coo.row[pos_], coo.col[pos_])), shape=m.shape)
    u, sv, _ = svds(ppmi, k=dim, random_state=0)
    vec = u * np.sqrt(sv)
    vec /= np.linalg.norm(vec, axis=1, keepdims=True) + 1e-9
    freq = counts / counts.sum()
    weights = 1e-3 / (1e-3 + freq)   # frequent units say little about a post, as in SIF
    # values are weight x vector, so the table's scores are each post's weighted mean vector
    return UnitTable(keys, weights.astype(np.float32), (weights[:, None] * vec).astype(np.float32))


def _word_grams(tokens: Sequence[str]) -> list[str]:
    toks = [t.lower() for t in tokens]
    return toks + [a + " " + b for a, b in zip(toks, toks[1:])]


def _word_view(token_lists: Sequence[Sequence[str]]) -> WordView:
    vec = TfidfVectorizer(analyzer=_word_grams, sublinear_tf=True, min_df=WORD_MIN_DF, dtype=np.float64)
    vec.fit(token_lists)
    vocab = [""] * len(vec.vocabulary_)
    for word, i in vec.vocabulary_.items():
        vocab[i] = word
    return WordView(vocab, vec.idf_)


def _mix_scales(views: list[np.ndarray], y: np.ndarray, classes: list[str], rows=None) -> np.ndarray:
    """Scales of the heads' scores whose sum minimises the log loss of the given out-of-fold rows."""
    rows = np.arange(len(y)) if rows is None else rows
    idx = np.array([classes.index(v) for v in y[rows]])
    vs = [v[rows] - v[rows].mean(axis=1, keepdims=True) for v in views]

    def loss(w):
        z = sum(wi * v for wi, v in zip(w, vs))
        z = z - z.max(axis=1, keepdims=True)
        return -(z[np.arange(len(rows)), idx] - np.log(np.exp(z).sum(axis=1))).mean()
    return minimize(loss, np.ones(len(vs)), method="L-BFGS-B", bounds=[(0.0, 50.0)] * len(vs)).x


def _mixed(views: list[np.ndarray], w: np.ndarray) -> np.ndarray:
    return sum(wi * v for wi, v in zip(w, views))


def _svm_on(x, emb: np.ndarray | None):
    return x if emb is None else sp.hstack([x, sp.csr_matrix(emb * EMB_WEIGHT)], format="csr")


def _vector_head(vectors: np.ndarray, y: np.ndarray, classes: list[str]) -> Head:
    """A logistic regression on the posts' sentence vectors (opinion.nlp.encoder): a view that
    reads the post as a whole, where the n-grams read it piece by piece."""
    lr = LogisticRegression(C=VEC_C, class_weight="balanced", max_iter=3000).fit(vectors, y)
    assert [str(k) for k in lr.classes_] == classes
    coef, icpt = lr.coef_, lr.intercept_
    if len(classes) == 2:   # one row, scoring the second class, as the SVM heads do
        coef, icpt = coef[:1], icpt[:1]
    return Head(classes, coef.astype(np.float32), icpt.astype(np.float64))


def _nested_f1(views: list[np.ndarray], y: np.ndarray, classes: list[str], folds) -> tuple[np.ndarray, float]:
    nested = np.zeros((len(y), len(classes)))
    for tr, te in folds:   # each fold's figures use scales fitted on the other folds only
        nested[te] = _mixed([v[te] for v in views], _mix_scales(views, y, classes, tr))
    predicted = np.array(classes)[nested.argmax(axis=1)]
    return predicted, float(f1_score(y, predicted, average="macro"))


def fit_emotion(docs: Sequence[Doc], labels: Sequence[str], c: float = C, progress: bool = True,
                unlabelled: Sequence[str] = (), vectors: np.ndarray | None = None) -> tuple[TextModel, dict]:
    """Three heads mixed as a product of experts: an SVM over the n-grams, the lexicon features and
    (given unlabelled posts) the post's mean character/bigram vector; complement naive Bayes over
    the n-grams; complement naive Bayes over the segmenter's words. Their scales minimise
    out-of-fold log loss; the reported figures use, for each fold, scales fitted on the others.

    Given the posts' sentence vectors, a fourth head reads them, and a second set of scales mixes
    the four; the model then holds both mixes and uses the three-head one for a post without a
    vector (encoder off). The report gives both figures."""
    _check_counts(labels)
    y = np.array(labels)
    classes = sorted(set(labels))
    texts = [char_text(d).lower() for d in docs]
    table = char_vectors(list(unlabelled) + texts) if len(unlabelled) else None
    emb = table.scores(texts) if table is not None else None   # values = vectors: the weighted mean
    tokens = [doc_tokens(d) for d in docs]
    folds = list(_folds(y, progress, "交叉验证"))
    views = [np.zeros((len(y), len(classes))) for _ in range(3 if vectors is None else 4)]
    for tr, te in folds:
        fm = _featurizer([docs[i] for i in tr])
        xtr, xte = fm.features([docs[i] for i in tr]), fm.features([docs[i] for i in te])
        views[0][te] = _svm(_svm_on(xtr, None if emb is None else emb[tr]), y[tr], c).scores(
            _svm_on(xte, None if emb is None else emb[te]))
        views[1][te] = _nb(xtr, y[tr], len(fm.vocab), classes).scores(xte)
        wv = _word_view([tokens[i] for i in tr])
        views[2][te] = _nb(wv.features([tokens[i] for i in tr]), y[tr], len(wv.vocab), classes).scores(
            wv.features([tokens[i] for i in te]))
        if vectors is not None:
            views[3][te] = _vector_head(vectors[tr], y[tr], classes).scores(vectors[te])
    predicted, words_f1 = _nested_f1(views[:3], y, classes, folds)
    if vectors is not None:
        predicted, _ = _nested_f1(views, y, classes, folds)
    model = _featurizer(docs)
    x = model.features(docs)
    svm = _svm(_svm_on(x, emb), y, c)
    width = x.shape[1]
    if table is not None:
        # The SVM is linear in the mean vector, so each unit's vector folds into its class scores.
        values = EMB_WEIGHT * table.values @ svm.coef[:, width:].T
        model.units = UnitTable(table.keys, table.weights, values.astype(np.float32))
        svm.coef = np.ascontiguousarray(svm.coef[:, :width])
    model.words = _word_view(tokens)
    words = _nb(model.words.features(tokens), y, len(model.words.vocab), classes)
    scales = _mix_scales(views[:3], y, classes)
    if vectors is not None:
        # The three heads keep their word-only scales; the mix with the vector head is kept beside.
        both = _mix_scales(views, y, classes)
        model.meta.update({f"vec.{name}": float(w) for name, w in
                           zip(("emotion", "emotion_nb", "emotion_words"), both[:3])})
        model.heads["emotion_vec"] = _vector_head(vectors, y, classes)
        model.heads["emotion_vec"].scale = float(both[3])
    svm.scale, svm.offset = float(scales[0]), np.zeros(len(classes))
    model.heads["emotion"] = svm
    model.heads["emotion_nb"] = _nb(x, y, len(model.vocab), classes)
    model.heads["emotion_nb"].scale = float(scales[1])
    model.heads["emotion_words"] = words
    words.scale = float(scales[2])
    report = {"n": len(y), "folds": FOLDS, "c": c, "unlabelled": len(unlabelled),
              "cv_head_macro_f1": [round(float(f1_score(y, np.array(classes)[v.argmax(axis=1)], average="macro")), 4)
                                   for v in views], "scales": [round(float(v), 3) for v in scales],
              "cv_accuracy": float(accuracy_score(y, predicted)),
              "cv_macro_f1": float(f1_score(y, predicted, average="macro")),
              "cv_f1_per_class": dict(zip(classes, np.round(f1_score(y, predicted, average=None,
                                                                     labels=classes), 4).tolist()))}
    if vectors is not None:
        report.update(cv_macro_f1_words_only=words_f1, vector_scales=[round(float(v), 3) for v in both])
    return model, report


def _add_lexicon_prior(model: TextModel, docs: Sequence[Doc], z: np.ndarray, yb: np.ndarray,
                       binary: np.ndarray, report: dict, prefix: str = "") -> np.ndarray:
    """Lean on the hand-written lexicon as far as in-domain cross-validation allows.

    Trained on general Weibo posts, the model reads serious civic posts ("谢谢交警…", "积水问题解决了")
    as negative: their topic words come mostly from complaints. The lexicon knows better but the
    SVM gives it little weight in-domain. So the largest weight alpha of the lexicon's signed
    evidence is added that costs at most 0.2 points of CV accuracy and 0.0006 of CV AUC, then the
    result is recalibrated (Platt) on the same out-of-fold scores, to balanced class priors.
    """
    prior = lexicon_prior(np.array([lexicon_features(d) for d in docs]))
    zb, yy, pb = z[binary], yb[binary], prior[binary]
    base_acc, base_auc = accuracy_score(yy, zb > 0), roc_auc_score(yy, zb)
    alpha = 0.0
    for a in np.arange(0.1, 3.01, 0.1):
        if accuracy_score(yy, zb + a * pb > 0) >= base_acc - ACC_TOLERANCE and \
                roc_auc_score(yy, zb + a * pb) >= base_auc - AUC_TOLERANCE:
            alpha = float(a)
    scale, offset = _platt(zb + alpha * pb, yy)
    # Calibrated to equal class priors, not the training file's 64% negative: the threshold 0.5
    # then means "as likely positive as negative" on any kind of post, whatever its mix.
    shift = float(np.log((~yy).sum() / max(yy.sum(), 1)))
    offset += shift
    model.meta.update({f"{prefix}alpha": alpha, f"{prefix}final_scale": scale, f"{prefix}final_offset": offset})
    report["prior_shift"] = shift
    report.update({f"{prefix}lexicon_alpha": alpha, f"{prefix}cv_accuracy_before_lexicon": float(base_acc),
                   f"{prefix}cv_roc_auc_before_lexicon": float(base_auc)})
    return 1 / (1 + np.exp(-(scale * (z + alpha * prior) + offset)))


def fit_sentiment(docs: Sequence[Doc], polarity: Sequence[str], emotions: Sequence[str] | None = None,
                  c: float = C, progress: bool = True, vectors: np.ndarray | None = None) -> tuple[TextModel, dict]:
    """Given the posts' sentence vectors, a logistic head on them joins the mix as a third input;
    the word-only mix is kept beside it (meta keys without "vec.") for posts without a vector."""
    pol = np.array(polarity)
    binary = np.isin(pol, ("positive", "negative"))
    if binary.sum() < 2 * FOLDS or len(set(pol[binary])) < 2:
        raise ValueError("需要正面和负面样本各若干条 (need positive and negative examples)")
    if emotions is not None:
        _check_counts(emotions)
    emo = np.array(emotions) if emotions is not None else None
    strat = emo if emo is not None else pol
    yb = pol == "positive"
    named = np.where(yb, "positive", "negative")
    classes = sorted(set(emo)) if emo is not None else []
    oof_bin = np.zeros(len(pol))
    oof_emo = np.zeros((len(pol), len(classes)))
    oof_nb = np.zeros((len(pol), len(classes)))
    oof_vec = np.zeros(len(pol))
    two = ["negative", "positive"]
    for tr, te in _folds(strat, progress, "交叉验证"):
        fm = _featurizer([docs[i] for i in tr])
        xtr, xte = fm.features([docs[i] for i in tr]), fm.features([docs[i] for i in te])
        trb = binary[tr]
        oof_bin[te] = _svm(xtr[trb], named[tr][trb], c).scores(xte)[:, 0]
        if vectors is not None:
            oof_vec[te] = _vector_head(vectors[tr][trb], named[tr][trb], two).scores(vectors[te])[:, 0]
        if emo is not None:
            oof_emo[te] = _svm(xtr, emo[tr], c).scores(xte)
            oof_nb[te] = _nb(xtr, emo[tr], len(fm.vocab), classes).scores(xte)
    model = _featurizer(docs)
    x = model.features(docs)
    head = _svm(x[binary], named[binary], c)
    head.scale, off = _platt(oof_bin[binary], yb[binary])
    head.offset = np.array([off])
    model.heads["polarity"] = head
    p_bin = 1 / (1 + np.exp(-(head.scale * oof_bin + off)))
    report: dict = {"n": int(binary.sum()), "folds": FOLDS, "c": c,
                    "cv_polarity_head_accuracy": float(accuracy_score(yb[binary], p_bin[binary] > 0.5)),
                    "cv_polarity_head_roc_auc": float(roc_auc_score(yb[binary], p_bin[binary]))}
    final = p_bin
    if emo is not None:
        _emotion_heads(model, x, emo, classes, oof_emo, oof_nb, c)
        p_all = model.class_proba_from_scores(oof_emo, oof_nb)
        p_emo = emotion_to_positive(p_all, classes)
        z = np.column_stack([_logit(p_bin), _logit(p_emo)])
        mix = LogisticRegression(C=100.0).fit(z[binary], yb[binary])
        model.meta = {"w_polarity": float(mix.coef_[0, 0]), "w_emotion": float(mix.coef_[0, 1]),
                      "bias": float(mix.intercept_[0])}
        final = mix.predict_proba(z)[:, 1]
        pred_emo = np.array(classes)[p_all.argmax(axis=1)]
        report.update(cv_emotion_head_accuracy_on_binary=float(accuracy_score(yb[binary], p_emo[binary] > 0.5)),
                      cv_emotion_head_roc_auc=float(roc_auc_score(yb[binary], p_emo[binary])),
                      cv_emotion_macro_f1=float(f1_score(emo, pred_emo, average="macro")))
    final = _add_lexicon_prior(model, docs, _logit(final), yb, binary, report)
    if vectors is not None:
        words_only = final
        z = np.column_stack([_logit(p_bin)] + ([_logit(p_emo)] if emo is not None else []) + [oof_vec])
        mix = LogisticRegression(C=100.0).fit(z[binary], yb[binary])
        names = ["w_polarity"] + (["w_emotion"] if emo is not None else []) + ["w_vector"]
        model.meta.update({f"vec.{k}": float(w) for k, w in zip(names, mix.coef_[0])})
        model.meta["vec.bias"] = float(mix.intercept_[0])
        model.heads["polarity_vec"] = _vector_head(vectors[binary], named[binary], two)
        final = _add_lexicon_prior(model, docs, _logit(mix.predict_proba(z)[:, 1]), yb, binary, report, "vec.")
        report.update(cv_accuracy_words_only=float(accuracy_score(yb[binary], words_only[binary] > 0.5)),
                      cv_roc_auc_words_only=float(roc_auc_score(yb[binary], words_only[binary])),
                      cv_vector_head_roc_auc=float(roc_auc_score(yb[binary], oof_vec[binary])))
    report.update(cv_accuracy=float(accuracy_score(yb[binary], final[binary] > 0.5)),
                  cv_macro_f1=float(f1_score(yb[binary], final[binary] > 0.5, average="macro")),
                  cv_roc_auc=float(roc_auc_score(yb[binary], final[binary])),
                  cv_brier=float(np.mean((final[binary] - yb[binary]) ** 2)))
    return model, report
