"""Aligning the tasks (and the targets) of two versions of a document.

Offices renumber, reorder, regroup and retitle items between versions, so position says
little about which old task a new one is. Tasks are paired by content instead: identical
titles first, then an optimal assignment (Hungarian algorithm) over a similarity matrix of
title and body bigrams, with a threshold below which two tasks are simply different (one
removed, one added). A task split in two, or two merged into one, is recognised by one body
being contained in the other.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from parsers.diff_measures import same_family, to_base
from parsers.diff_text import bigrams, body_key, dice, gram_codes, key

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from parsers.schema import Target, Task

#: Pair acceptance. A pair is the same task when the bodies are mostly the same (a retitle),
#: or the titles are nearly the same and the bodies still related (a reworded task), or both
#: are fairly similar. "共创“元消费”场景" vs "共创“元交通”场景" (title 0.5, body ~0.15) is not.
BODY_MATCH = 0.6
TITLE_MATCH = 0.75
TITLE_MATCH_MIN_BODY = 0.3
COMBINED_MATCH = 0.6
#: Share of a task's body bigrams found in another task for it to count as split from it
#: (or merged into it), and the minimum body length for that test to mean anything.
CONTAINMENT = 0.8
CONTAINMENT_MIN_CHARS = 20
#: Target pairs scoring below this are a removed target and an added one, not a change.
TARGET_MATCH = 0.45


@dataclass
class TaskInfo:
    """A task with its comparison keys computed once."""

    index: int
    task: Task
    title_key: str
    body_key: str
    section: tuple[str, ...]

    # Grams are only needed for the few tasks whose titles did not pair up exactly, so
    # they are computed on first use.
    @cached_property
    def title_grams(self) -> npt.NDArray[np.int64]:
        return gram_codes(self.title_key)

    @cached_property
    def body_grams(self) -> npt.NDArray[np.int64]:
        return gram_codes(self.body_key)

    @cached_property
    def body_set(self) -> frozenset[str]:
        return bigrams(self.body_key)

    @classmethod
    def of(cls, index: int, task: Task) -> TaskInfo:
        tkey = key(task.title)
        bkey = body_key(task.text)
        # Bodies usually repeat the title as their first sentence; it is compared on its
        # own, so a retitled task still has an identical body.
        if len(bkey) > len(tkey) and tkey and bkey.startswith(tkey):
            bkey = bkey[len(tkey) :]
        bkey = bkey or tkey
        return cls(
            index=index,
            task=task,
            title_key=tkey,
            body_key=bkey,
            section=tuple(k for k in (key(p) for p in task.path) if k),
        )


@dataclass
class Group:
    """Old and new tasks that are the same work: 1:1, or 1:n (split) / n:1 (merged)."""

    old: list[int] = field(default_factory=list)
    new: list[int] = field(default_factory=list)
    #: the 1:1 pair the group was built around (None for a lone added/removed task)
    primary: tuple[int, int] | None = None


def _is_match(title_sim: float, body_sim: float) -> bool:
    return (
        body_sim >= BODY_MATCH
        or (title_sim >= TITLE_MATCH and body_sim >= TITLE_MATCH_MIN_BODY)
        or 0.5 * title_sim + 0.5 * body_sim >= COMBINED_MATCH
    )


def _dice_matrix(
    a: list[npt.NDArray[np.int64]], b: list[npt.NDArray[np.int64]]
) -> npt.NDArray[np.float64]:
    """Dice similarity of every a×b pair of gram sets.

    A sparse product counts shared grams for all pairs at once: a 300×300 comparison in a
    few milliseconds instead of 90,000 Python set intersections.
    """
    import numpy as np
    from scipy.sparse import csr_matrix

    n_a, n_b = len(a), len(b)
    lengths = np.array([len(g) for g in (*a, *b)], dtype=np.int64)
    codes = np.concatenate([*a, *b]) if lengths.sum() else np.zeros(0, dtype=np.int64)
    rows = np.repeat(np.arange(n_a + n_b, dtype=np.int64), lengths)
    # Column per distinct gram, and one (row, gram) cell per distinct gram of a row, sorted
    # by row then gram. Sort-based: numpy's hash-based unique is ~20x slower here.
    cols = np.empty(len(codes), dtype=np.int64)
    order = np.argsort(codes)
    ordered = codes[order]
    new_gram = np.empty(len(codes), dtype=bool)
    new_gram[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=new_gram[1:])
    cols[order] = np.cumsum(new_gram) - 1
    width = max(int(new_gram.sum()), 1)
    cells = np.sort(rows * width + cols)
    keep = np.empty(len(cells), dtype=bool)
    keep[:1] = True
    np.not_equal(cells[1:], cells[:-1], out=keep[1:])
    cells = cells[keep]
    rows, cols = cells // width, cells % width
    sizes = np.bincount(rows, minlength=n_a + n_b).astype(np.float64)
    size_a, size_b = sizes[:n_a], sizes[n_a:]
    split = int(size_a.sum())

    def matrix(c: npt.NDArray[np.int64], s: npt.NDArray[np.float64]) -> csr_matrix:
        indptr = np.concatenate(([0], np.cumsum(s).astype(np.int64)))
        return csr_matrix((np.ones(len(c)), c, indptr), shape=(len(s), width))

    inter = (matrix(cols[:split], size_a) @ matrix(cols[split:], size_b).T).toarray()
    total = size_a[:, None] + size_b[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        sim = np.where(total > 0, 2.0 * inter / total, 1.0)
    return sim


class _BodyIndex:
    """All bodies of one version joined in one string, to find which contain a chunk.

    Candidates for "this piece was split from / merged into that task" are found by
    substring search (C speed) of a few chunks of the piece; only they get the exact
    bigram test, so hundreds of other tasks cost no gram sets.
    """

    def __init__(self, tasks: list[TaskInfo]) -> None:
        self.tasks = tasks
        self.starts: list[int] = []
        pos = 0
        for t in tasks:
            self.starts.append(pos)
            pos += len(t.body_key) + 1
        self.text = "\x00".join(t.body_key for t in tasks)

    def tasks_containing(self, chunk: str) -> set[int]:
        found: set[int] = set()
        pos = self.text.find(chunk)
        while pos >= 0:
            found.add(bisect_right(self.starts, pos) - 1)
            pos = self.text.find(chunk, pos + 1)
        return found

    def best_container(self, piece: TaskInfo) -> TaskInfo | None:
        """The task whose body contains most of ``piece``'s (at least CONTAINMENT)."""
        text = piece.body_key
        if len(text) < CONTAINMENT_MIN_CHARS:
            return None
        step = max((len(text) - 4) // 7, 1)
        chunks = {text[i : i + 4] for i in range(0, len(text) - 3, step)}
        hits: Counter[int] = Counter()
        for chunk in chunks:
            hits.update(self.tasks_containing(chunk))
        best, best_score = None, CONTAINMENT
        grams = piece.body_set
        for i, count in hits.items():
            if count * 2 < len(chunks):
                continue
            other = self.tasks[i]
            score = len(grams & other.body_set) / len(grams)
            if score > best_score or (score == best_score and best is None):
                best, best_score = other, score
        return best


def align_tasks(old: list[TaskInfo], new: list[TaskInfo]) -> list[Group]:
    """Groups of matched tasks, plus one group per unmatched (added or removed) task."""
    pairs: dict[int, int] = {}
    # 1. Identical titles that are unique on both sides: certain, and most tasks.
    old_by_title: dict[str, list[int]] = defaultdict(list)
    new_by_title: dict[str, list[int]] = defaultdict(list)
    for t in old:
        if len(t.title_key) >= 2:
            old_by_title[t.title_key].append(t.index)
    for t in new:
        if len(t.title_key) >= 2:
            new_by_title[t.title_key].append(t.index)
    for title, olds in old_by_title.items():
        news = new_by_title.get(title)
        if news and len(olds) == 1 and len(news) == 1:
            pairs[olds[0]] = news[0]

    # 1b. Identical bodies (unique on both sides): a retitled task, just as certain.
    old_by_body: dict[str, list[int]] = defaultdict(list)
    new_by_body: dict[str, list[int]] = defaultdict(list)
    taken_new = set(pairs.values())
    for t in old:
        if t.index not in pairs and len(t.body_key) >= CONTAINMENT_MIN_CHARS:
            old_by_body[t.body_key].append(t.index)
    for t in new:
        if t.index not in taken_new and len(t.body_key) >= CONTAINMENT_MIN_CHARS:
            new_by_body[t.body_key].append(t.index)
    for body, olds in old_by_body.items():
        news = new_by_body.get(body)
        if news and len(olds) == 1 and len(news) == 1:
            pairs[olds[0]] = news[0]

    # 2. Optimal assignment over the rest.
    rest_old = [t for t in old if t.index not in pairs]
    matched_new = set(pairs.values())
    rest_new = [t for t in new if t.index not in matched_new]
    if rest_old and rest_new:
        from scipy.optimize import linear_sum_assignment

        title_sim = _dice_matrix(
            [t.title_grams for t in rest_old], [t.title_grams for t in rest_new]
        )
        body_sim = _dice_matrix([t.body_grams for t in rest_old], [t.body_grams for t in rest_new])
        score = 0.5 * title_sim + 0.5 * body_sim
        rows, cols = linear_sum_assignment(score, maximize=True)
        for r, c in zip(rows, cols, strict=True):
            if _is_match(float(title_sim[r, c]), float(body_sim[r, c])):
                pairs[rest_old[r].index] = rest_new[c].index

    groups: dict[int, Group] = {}  # keyed by old index of the primary pair
    new_group: dict[int, Group] = {}
    for o, n in sorted(pairs.items()):
        g = Group(old=[o], new=[n], primary=(o, n))
        groups[o] = g
        new_group[n] = g

    # 3. Splits and merges: an unmatched body contained in a task of the other version.
    lone_new = [t for t in new if t.index not in new_group]
    old_index = _BodyIndex(old) if lone_new else None
    for t in lone_new:
        container = old_index.best_container(t) if old_index else None
        if container is not None:
            split = groups.get(container.index)
            if split is None:
                split = Group(old=[container.index], new=[], primary=None)
                groups[container.index] = split
            split.new.append(t.index)
            new_group[t.index] = split
    lone_old = [t for t in old if t.index not in groups]
    new_index = _BodyIndex(new) if lone_old else None
    for t in lone_old:
        container = new_index.best_container(t) if new_index else None
        if container is not None:
            merged = new_group.get(container.index)
            if merged is None:
                merged = Group(old=[], new=[container.index], primary=None)
                new_group[container.index] = merged
            merged.old.append(t.index)
            groups[t.index] = merged

    # 4. Whatever is left was added or removed.
    result: list[Group] = []
    seen: set[int] = set()
    for g in [*groups.values(), *new_group.values()]:
        if id(g) not in seen:
            seen.add(id(g))
            g.old.sort()
            g.new.sort()
            result.append(g)
    for t in old:
        if t.index not in groups:
            result.append(Group(old=[t.index]))
    for t in new:
        if t.index not in new_group:
            result.append(Group(new=[t.index]))
    return result


# --- targets -----------------------------------------------------------------------------


def _target_score(a: Target, b: Target, pos_a: float, pos_b: float) -> float | None:
    """Similarity of two targets, or None when their units measure different things."""
    if not same_family(a.unit, b.unit):
        return None
    text_sim = dice(bigrams(key(a.text)), bigrams(key(b.text)))
    if a.metric and b.metric:
        metric_sim = dice(bigrams(key(a.metric)), bigrams(key(b.metric)))
    else:
        metric_sim = text_sim
    value_eq = to_base(a.value, a.unit) == to_base(b.value, b.unit) and to_base(
        a.value_max, a.unit
    ) == to_base(b.value_max, b.unit)
    return (
        0.4 * metric_sim
        + 0.25 * text_sim
        + 0.2 * float(value_eq)
        + 0.05 * float(a.year == b.year)
        + 0.1 * (1.0 - abs(pos_a - pos_b))
    )


def align_targets(old: list[Target], new: list[Target]) -> list[tuple[int | None, int | None]]:
    """Pairs (old index, new index); None on one side for a removed or added target."""
    if not old or not new:
        return [(i, None) for i in range(len(old))] + [(None, j) for j in range(len(new))]
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    n, m = len(old), len(new)
    score = np.full((n, m), -1.0)
    for i, a in enumerate(old):
        for j, b in enumerate(new):
            s = _target_score(a, b, i / max(n - 1, 1), j / max(m - 1, 1))
            if s is not None:
                score[i, j] = s
    rows, cols = linear_sum_assignment(score, maximize=True)
    pairs: list[tuple[int | None, int | None]] = []
    used_old: set[int] = set()
    used_new: set[int] = set()
    for r, c in zip(rows, cols, strict=True):
        if score[r, c] >= TARGET_MATCH:
            pairs.append((int(r), int(c)))
            used_old.add(int(r))
            used_new.add(int(c))
    pairs += [(i, None) for i in range(n) if i not in used_old]
    pairs += [(None, j) for j in range(m) if j not in used_new]
    return pairs
