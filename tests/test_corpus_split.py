from data.corpus import split_of
from data.records import SentenceRecord


def rec(i: int, article: str | None = None) -> SentenceRecord:
    return SentenceRecord(id=f"x-{i:05d}", text=f"sentence {i}", lang="en", stances={"west": "none", "russia": "none"},
                          frames=(), article=article, index=0 if article else None)


def test_split_is_deterministic_and_stable_as_corpus_grows():
    small = [rec(i) for i in range(500)]
    grown = small + [rec(i) for i in range(500, 3000)]
    before = {r.id: split_of(r, 0.15, 0.15) for r in small}
    after = {r.id: split_of(r, 0.15, 0.15) for r in grown}
    assert all(after[k] == v for k, v in before.items())
    shares = {s: sum(v == s for v in after.values()) / len(after) for s in ("train", "dev", "test")}
    assert 0.1 < shares["dev"] < 0.2 and 0.1 < shares["test"] < 0.2


def test_article_sentences_share_a_split():
    members = [SentenceRecord(id=f"a-{i}", text="t", lang="fr", stances={}, frames=(), article="art-7", index=i)
               for i in range(12)]
    assert len({split_of(m, 0.15, 0.15) for m in members}) == 1
