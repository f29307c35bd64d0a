"""Group short texts by similarity (pure; deterministic; nothing downloaded).

Each text becomes a TF-IDF vector over its words (and word pairs) and over character 3-5-grams within
words (so spelling slips and word forms still match), the two halves weighted equally; two texts' similarity
is the cosine of their vectors. Groups come from average-linkage clustering: two groups merge while the
average similarity between their members is at least `similarity`. The same texts in the same order always
give the same groups.
"""

from __future__ import annotations

from typing import Any, List, Sequence

SIMILARITY = 0.4  # the average cosine similarity within a group
MAX_TEXTS = 3000  # texts one call groups (the similarity matrix is this squared)


def normalise(text: str) -> str:
    """Text as compared: lower case, runs of white space as one space."""
    return " ".join(text.lower().split())


def _vectors(texts: Sequence[str]) -> Any:
    """One row per text (a SciPy sparse matrix): word and character TF-IDF halves, each of unit length, scaled so
    a row has length <= 1 (scikit-learn and SciPy are imported here, on first use)."""
    import numpy
    from scipy.sparse import csr_matrix, hstack  # type: ignore[import-untyped]
    from sklearn.feature_extraction.text import TfidfVectorizer  # type: ignore[import-untyped]

    halves = []
    for analyzer, ngrams in (("word", (1, 2)), ("char_wb", (3, 5))):
        vectorizer = TfidfVectorizer(
            analyzer=analyzer, ngram_range=ngrams, sublinear_tf=True, token_pattern=r"(?u)\b\w+\b", dtype=numpy.float64
        )
        try:
            halves.append(vectorizer.fit_transform(texts))
        except ValueError:  # no word (or no character n-gram) in any text: this half says nothing
            halves.append(csr_matrix((len(texts), 1)))
    return csr_matrix(hstack(halves) * (0.5**0.5))


def group_texts(texts: Sequence[str], similarity: float = SIMILARITY) -> List[List[int]]:
    """Indices of texts in groups of similar ones (at most MAX_TEXTS texts; compare them normalised and distinct).

    Each group lists its indices in ascending order; groups come in the order of their first index, so a caller
    that puts the most frequent text first gets each group's most frequent text first.
    """
    if len(texts) > MAX_TEXTS:
        raise ValueError(f"group at most {MAX_TEXTS} texts at a time, not {len(texts)}")
    if len(texts) < 2:
        return [[0]] if texts else []
    import numpy
    from scipy.cluster.hierarchy import fcluster, linkage  # type: ignore[import-untyped]
    from scipy.spatial.distance import squareform  # type: ignore[import-untyped]

    vectors = _vectors(texts)
    distance = 1.0 - (vectors @ vectors.T).toarray()
    distance = numpy.clip((distance + distance.T) / 2, 0.0, 2.0)
    numpy.fill_diagonal(distance, 0.0)
    labels = fcluster(linkage(squareform(distance, checks=False), method="average"), t=1.0 - similarity, criterion="distance")
    groups: dict[int, List[int]] = {}
    for index, label in enumerate(labels):
        groups.setdefault(int(label), []).append(index)
    return sorted(groups.values(), key=lambda members: members[0])
